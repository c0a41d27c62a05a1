"""Statistics building blocks: numpy in, plain numbers or DataFrames out.

A leaf package: it knows nothing of tickets or datasets and imports nothing else from
kpitools. Everything is two-sided; confidence levels default to 95 % (z = 1.959963984540054).

* proportions — :func:`wilson_ci`, :func:`newcombe_diff_ci`, :func:`two_proportion_ztest`,
  :func:`chi2_independence`, :func:`compare_proportions`
* NPS — :func:`nps_ci`, :func:`nps_diff`
* means — :func:`t_ci`, :func:`welch_diff`
* survival — :func:`km_curve`, :func:`km_median` (``math.inf`` = not reached),
  :func:`logrank`, :func:`pairwise_logrank`
* ranks — :func:`kruskal`, :func:`dunn`, :func:`mann_whitney`, :func:`hodges_lehmann`
* multiple comparisons — :func:`p_adjust`
* control charts — :func:`laney_p_prime`
* power — :func:`min_detectable_difference`
"""

from __future__ import annotations

from .adjust import p_adjust
from .control import laney_p_prime
from .means import t_ci, welch_diff
from .nps import nps_ci, nps_diff
from .power import min_detectable_difference
from .proportions import (
    chi2_independence,
    compare_proportions,
    newcombe_diff_ci,
    two_proportion_ztest,
    wilson_ci,
)
from .ranks import dunn, hodges_lehmann, kruskal, mann_whitney
from .survival import km_curve, km_median, logrank, pairwise_logrank

__all__ = [
    "chi2_independence",
    "compare_proportions",
    "dunn",
    "hodges_lehmann",
    "km_curve",
    "km_median",
    "kruskal",
    "laney_p_prime",
    "logrank",
    "mann_whitney",
    "min_detectable_difference",
    "newcombe_diff_ci",
    "nps_ci",
    "nps_diff",
    "p_adjust",
    "pairwise_logrank",
    "t_ci",
    "two_proportion_ztest",
    "welch_diff",
    "wilson_ci",
]
