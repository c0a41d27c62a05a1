"""Statistics building blocks: numpy in, plain numbers or DataFrames out.

A leaf package: it knows nothing of tickets or datasets and imports nothing else from
kpitools. Everything is two-sided; confidence levels default to 95 % (z = 1.959963984540054).

* proportions — :func:`wilson_ci`, :func:`newcombe_diff_ci`, :func:`two_proportion_ztest`,
  :func:`chi2_independence`, :func:`compare_proportions`
* NPS — :func:`nps_ci`, :func:`nps_diff`
* means — :func:`t_ci`, :func:`welch_diff`
* survival — :func:`km_curve`, :func:`km_median` (``math.inf`` = not reached),
  :func:`km_quantile`, :func:`logrank`, :func:`logrank_two` (stratified, Peto hazard ratio),
  :func:`km_mixture_quantile` (a median at another channel mix), :func:`pairwise_logrank`
* ranks — :func:`kruskal`, :func:`dunn`, :func:`mann_whitney`, :func:`hodges_lehmann`,
  :func:`rank_shift` (Mann–Whitney with a Hodges–Lehmann interval that agrees with it)
* proportions also — :func:`score_diff_ci` (Mee's interval, inverting the pooled z-test)
* multiple comparisons — :func:`p_adjust`, :func:`level_used` (the level a family's verdicts used)
* control charts — :func:`laney_p_prime` (limits from a baseline of earlier periods)
* power — :func:`min_detectable_difference` (R ``power.prop.test`` solved for p2), :func:`prop_test_power`
"""

from __future__ import annotations

from .adjust import level_used, p_adjust
from .control import laney_p_prime
from .means import t_ci, welch_diff
from .nps import nps_ci, nps_diff
from .power import min_detectable_difference, prop_test_power
from .proportions import (
    chi2_independence,
    compare_proportions,
    newcombe_diff_ci,
    score_diff_ci,
    two_proportion_ztest,
    wilson_ci,
)
from .ranks import dunn, hodges_lehmann, kruskal, mann_whitney, rank_shift
from .survival import (
    km_curve,
    km_median,
    km_mixture_quantile,
    km_quantile,
    logrank,
    logrank_two,
    pairwise_logrank,
)

__all__ = [
    "chi2_independence",
    "compare_proportions",
    "dunn",
    "hodges_lehmann",
    "km_curve",
    "km_median",
    "km_mixture_quantile",
    "km_quantile",
    "kruskal",
    "laney_p_prime",
    "level_used",
    "logrank",
    "logrank_two",
    "mann_whitney",
    "min_detectable_difference",
    "newcombe_diff_ci",
    "nps_ci",
    "nps_diff",
    "p_adjust",
    "pairwise_logrank",
    "prop_test_power",
    "rank_shift",
    "score_diff_ci",
    "t_ci",
    "two_proportion_ztest",
    "welch_diff",
    "wilson_ci",
]
