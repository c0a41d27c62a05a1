"""kpitools.stats.survival: Kaplan–Meier curve and median (R conventions), log-rank tests.

Reference values marked "R" come from R 4.2 / survival 3.5 (``survfit``, ``quantile``,
``survdiff``), run by hand on the data shown.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from kpitools.stats import km_curve, km_median, logrank, pairwise_logrank
from kpitools.stats.survival import KM_COLUMNS

# Gehan (1965) leukaemia remission weeks: 6-MP arm (censored = 0) and placebo arm (all events).
MP_TIME = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def test_gehan_curve():
    curve = km_curve(MP_TIME, MP_EVENT)
    assert list(curve.columns) == KM_COLUMNS
    events = curve[curve["n_event"] > 0].set_index("time")
    # the classic product-limit values, e.g. S(6) = 18/21, S(7) = 18/21 · 16/17
    assert events["survival"].round(4).tolist() == [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
    assert events["n_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    # R: survfit(Surv(t, e) ~ 1) lower / upper 95 % (log), e.g. at 13 and 23
    assert (events.loc[13, "ci_low"], events.loc[13, "ci_high"]) == pytest.approx((0.50961310, 0.93476920), abs=1e-8)
    assert (events.loc[23, "ci_low"], events.loc[23, "ci_high"]) == pytest.approx((0.24878823, 0.80737205), abs=1e-8)
    assert events.loc[6, "ci_high"] == 1.0  # clipped
    # censor-only times are rows too, carrying the curve forward (R prints them as well)
    nine = curve.set_index("time").loc[9]
    assert (nine["n_risk"], nine["n_event"], nine["n_censor"]) == (16, 0, 1)
    assert nine["survival"] == events.loc[7, "survival"]


def test_gehan_medians_published():
    # 6-MP: median 23, 95 % CI [16, not reached]; placebo: 8 [4, 12]
    assert km_median(MP_TIME, MP_EVENT) == (23.0, 16.0, math.inf)
    assert km_median(PLACEBO, [1] * 21) == (8.0, 4.0, 12.0)


def test_median_midpoint_rule():
    # 1, 2, 3, 4 all events: S = 0.75, 0.5, 0.25, 0; S = 0.5 on [2, 3) -> (2 + 3)/2 = 2.5.
    # R: quantile(...) gives 2.5 with CI [1, NA]: the lower band is 0.426 at t = 1 (< 0.5);
    # the upper band is 1, 1, 1 then NA where S = 0, so it never reaches 0.5.
    assert km_median([1, 2, 3, 4], [1, 1, 1, 1]) == (2.5, 1.0, math.inf)


def test_median_flat_to_the_end_uses_last_follow_up():
    # 1, 2 events, 3, 4 censored: S = 0.5 from t = 2 to the end -> (2 + 4)/2 = 3 (R: 3 [1, NA])
    assert km_median([1, 2, 3, 4], [1, 1, 0, 0]) == (3.0, 1.0, math.inf)


def test_median_uses_r_rule_on_a_non_monotone_upper_band():
    # Aggregated rows (time, event, count). The upper band is 0.437 at t = 9, then 0.372,
    # 0.351 and back up to 0.472 at t = 12. R picks by value the smallest F = 1 − band ≥ 0.5:
    # F = 0.528 at t = 12, not the first crossing at t = 9.
    # R: quantile(survfit(Surv(t, e) ~ 1, weights = w)) -> 7 [5, 12]
    rows = [(0, 0, 3), (0, 1, 3), (1, 0, 1), (1, 1, 2), (2, 0, 2), (2, 1, 4), (3, 0, 3), (3, 1, 5),
            (4, 1, 13), (5, 1, 6), (6, 1, 3), (7, 0, 1), (7, 1, 2), (8, 0, 2), (8, 1, 4), (9, 1, 8),
            (10, 0, 7), (10, 1, 4), (11, 0, 6), (11, 1, 1), (12, 0, 1), (12, 1, 1)]
    t, e, w = map(np.array, zip(*rows))
    assert km_median(t, e.astype(bool), w) == (7.0, 5.0, 12.0)


def test_tie_censored_at_event_time_still_at_risk():
    # At t = 2 one event and one censoring: n_risk = 3 (not 2), S(2) = 0.75 · 2/3 = 0.5.
    # R: lower 0.4259322685, 0.1876589287, NA; upper 1, 1, NA.
    curve = km_curve([1, 2, 2, 3], [True, True, False, True])
    assert curve["n_risk"].tolist() == [4, 3, 1]
    assert curve["survival"].tolist() == pytest.approx([0.75, 0.5, 0.0])
    assert curve["ci_low"].iloc[:2].tolist() == pytest.approx([0.4259322685, 0.1876589287], abs=1e-10)
    assert np.isnan(curve["ci_low"].iloc[2]) and np.isnan(curve["ci_high"].iloc[2])


def test_weights_r_example_and_expanded_equivalence():
    t = np.array([5, 5, 8, 8, 12, 15])
    e = np.array([1, 0, 1, 1, 0, 1], dtype=bool)
    w = np.array([3, 2, 4, 1, 6, 2])
    curve = km_curve(t, e, w)
    # R with weights = w: n.risk 18, 13, 8, 2; S 0.8333333333, 0.5128205128, =, 0
    assert curve["n_risk"].tolist() == [18, 13, 8, 2]
    assert curve["survival"].tolist() == pytest.approx([15 / 18, 15 / 18 * 8 / 13, 15 / 18 * 8 / 13, 0.0])
    assert curve["ci_low"].iloc[1] == pytest.approx(0.3183318156, abs=1e-10)
    assert curve["ci_high"].iloc[1] == pytest.approx(0.8261344467, abs=1e-10)
    assert km_median(t, e, w) == (15.0, 8.0, math.inf)  # R: 15 [8, NA]
    expanded = km_curve(np.repeat(t, w), np.repeat(e, w))
    pd.testing.assert_frame_equal(curve, expanded)


def test_zero_weights_are_ignored():
    with_zero = km_curve([1, 2, 3], [1, 1, 0], [2, 0, 1])
    assert with_zero["time"].tolist() == [1.0, 3.0]


def test_rows_in_time_order_and_shuffled_give_the_same_curve():
    # rows already in time order (as the engine passes them) skip the sort; the result may not differ
    rng = np.random.default_rng(7)
    t = np.sort(rng.integers(0, 30, 400)).astype(float)  # many ties
    e = rng.random(400) < 0.6
    w = rng.integers(0, 4, 400)
    order = rng.permutation(400)
    sorted_curve = km_curve(t, e, w)
    pd.testing.assert_frame_equal(km_curve(t[order], e[order], w[order]), sorted_curve)
    assert km_median(t, e, w) == km_median(t[order], e[order], w[order])


def test_matches_statsmodels_survival_function():
    rng = np.random.default_rng(4)
    t = rng.integers(0, 40, 300).astype(float)
    e = rng.random(300) < 0.7
    curve = km_curve(t, e)
    sm = SurvfuncRight(t, e.astype(int))
    events = curve[curve["n_event"] > 0]
    np.testing.assert_allclose(events["survival"], sm.surv_prob)
    np.testing.assert_array_equal(events["n_risk"], sm.n_risk)


def test_no_events_and_no_rows():
    curve = km_curve([3, 5], [False, False])
    assert curve["survival"].tolist() == [1.0, 1.0]
    assert curve["ci_low"].tolist() == [1.0, 1.0]
    assert km_median([3, 5], [False, False]) == (math.inf, math.inf, math.inf)  # not reached
    assert km_curve([], []).empty
    assert all(math.isnan(v) for v in km_median([], []))


def test_bad_input():
    with pytest.raises(ValueError):
        km_curve([1, np.nan], [1, 1])
    with pytest.raises(ValueError):
        km_curve([1, 2], [1, 2])
    with pytest.raises(ValueError):
        km_curve([1, 2], [1, 1], [1, -1])
    with pytest.raises(ValueError):
        km_curve([1, 2], [1])


def test_km_curve_scales_to_1e6_weighted_rows():
    rng = np.random.default_rng(0)
    t = rng.exponential(10, 1_000_000).round(3)
    e = rng.random(1_000_000) < 0.8
    w = rng.integers(1, 5, 1_000_000)
    start = time.perf_counter()
    km_curve(t, e, w)
    assert time.perf_counter() - start < 1.5  # typically ~0.2 s; generous for a busy CI machine


def test_logrank_gehan_published():
    # 6-MP vs placebo: chi2 16.79 on 1 df, p 4.17e-5 (R: 16.79294099, 4.1688091e-05)
    res = logrank(MP_TIME + PLACEBO, MP_EVENT + [1] * 21, ["6-MP"] * 21 + ["placebo"] * 21)
    assert res.chi2 == pytest.approx(16.79294099, abs=1e-7)
    assert res.df == 1
    assert res.p == pytest.approx(4.1688091e-05, rel=1e-6)


def test_logrank_two_groups_by_hand():
    # a = 1, 2, 3; b = 4, 5, 6; all events. At t = 1, 2, 3: E_a = 3/6, 2/5, 1/4 = 1.15 and
    # V = 9/36 + 6/25 + 3/16 = 0.6775; later times add nothing to a. chi2 = (3 − 1.15)²/0.6775
    res = logrank([1, 2, 3, 4, 5, 6], [1] * 6, list("aaabbb"))
    assert res.chi2 == pytest.approx(1.85**2 / 0.6775)


def test_logrank_three_groups_r_and_statsmodels():
    t = [3, 5, 5, 7, 8, 9, 12, 14, 2, 4, 4, 6, 6, 10, 11, 1, 2, 2, 3, 3, 5]
    e = [1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1]
    g = ["email"] * 8 + ["chat"] * 7 + ["phone"] * 6
    res = logrank(t, e, g)
    # R survdiff: Chisq = 9.38566893746 on 2 df, p = 0.0091606837
    assert res.chi2 == pytest.approx(9.38566893746, abs=1e-9)
    assert res.df == 2 and res.p == pytest.approx(0.0091606837, rel=1e-7)
    sm_chi2, sm_p = survdiff(np.array(t), np.array(e), np.array(g))
    assert (res.chi2, res.p) == pytest.approx((sm_chi2, sm_p))


def test_logrank_weights_equal_expanded_rows():
    rng = np.random.default_rng(9)
    t = rng.integers(1, 20, 60)
    e = rng.random(60) < 0.6
    g = rng.choice(["a", "b", "c"], 60)
    w = rng.integers(0, 4, 60)
    weighted = logrank(t, e, g, w)
    expanded = logrank(np.repeat(t, w), np.repeat(e, w), np.repeat(g, w))
    assert weighted.chi2 == pytest.approx(expanded.chi2) and weighted.df == expanded.df


def test_logrank_without_events_and_with_a_group_without_expected_events():
    assert logrank([1, 2, 3, 4], [0, 0, 0, 0], list("aabb")).df == 0
    assert math.isnan(logrank([1, 2, 3, 4], [0, 0, 0, 0], list("aabb")).p)
    # c's only subject is censored before any event: no expected events, left out (R too): df 1
    res = logrank([2, 3, 4, 5, 1], [1, 1, 1, 1, 0], list("aabbc"))
    assert res.df == 1
    assert res.chi2 == pytest.approx(logrank([2, 3, 4, 5], [1, 1, 1, 1], list("aabb")).chi2)
    with pytest.raises(ValueError):
        logrank([1, 2], [1, 1], ["a", "a"])


def test_pairwise_logrank_is_logrank_on_each_pair_with_holm():
    t = np.array(MP_TIME + PLACEBO + [4, 9, 12, 15, 18, 21, 25, 30])
    e = np.array(MP_EVENT + [1] * 21 + [1, 1, 0, 1, 1, 1, 0, 1])
    g = np.array(["mp"] * 21 + ["placebo"] * 21 + ["other"] * 8)
    res = pairwise_logrank(t, e, g)
    assert list(zip(res["group_a"], res["group_b"])) == [("mp", "other"), ("mp", "placebo"), ("other", "placebo")]
    pair = (g == "mp") | (g == "placebo")
    assert res["chi2"].iloc[1] == pytest.approx(logrank(t[pair], e[pair], g[pair]).chi2)
    # Holm with three p-values: the smallest is multiplied by 3
    assert res["p_adj"].min() == pytest.approx(min(1.0, 3 * res["p"].min()))


# ---------------------------------------------------------------- issue #13: stratified log-rank, KM p90, mixtures

def logrank_by_hand(rows):
    """Σ over strata and event times of d_a − d·n_a/n and d(n − d)n_a n_b/(n²(n − 1)), with plain loops:
    what R's survdiff(Surv(t, e) ~ g + strata(s)) sums (Collett, Modelling Survival Data, §2.6)."""
    o_e, var = 0.0, 0.0
    for s in {r[3] for r in rows}:
        part = [r for r in rows if r[3] == s]
        for t in sorted({r[0] for r in part if r[1]}):
            at_risk = [r for r in part if r[0] >= t]
            n, n_a = len(at_risk), sum(r[2] for r in at_risk)
            d = sum(1 for r in at_risk if r[0] == t and r[1])
            d_a = sum(1 for r in at_risk if r[0] == t and r[1] and r[2])
            o_e += d_a - d * n_a / n
            if n > 1:
                var += d * (n - d) * n_a * (n - n_a) / (n * n * (n - 1))
    return o_e, var


STRATIFIED = [  # (time, event, in group a, stratum)
    (1, 1, True, "chat"), (2, 1, True, "chat"), (3, 0, True, "chat"), (4, 1, False, "chat"), (5, 1, False, "chat"),
    (2, 1, False, "chat"), (6, 1, True, "chat"), (7, 0, False, "chat"),
    (10, 1, True, "email"), (12, 1, False, "email"), (12, 1, True, "email"), (15, 0, False, "email"),
    (20, 1, False, "email"), (25, 1, True, "email"), (30, 0, True, "email"), (8, 1, False, "email"),
]


def test_stratified_logrank_is_the_sum_over_strata():
    from kpitools.stats.survival import logrank_two
    t, e, a, s = map(np.array, zip(*STRATIFIED))
    o_e, var = logrank_by_hand(STRATIFIED)
    res = logrank_two(t, e, a, strata=s)
    assert res.observed - res.expected == pytest.approx(o_e)
    assert res.variance == pytest.approx(var)
    assert res.chi2 == pytest.approx(o_e**2 / var) and res.df == 1
    assert res.hr == pytest.approx(math.exp(o_e / var))
    # unstratified, two groups: the same as the k-sample survdiff
    plain = logrank_two(t, e, a)
    assert plain.chi2 == pytest.approx(logrank(t, e, a).chi2)
    # weights: aggregated rows give the expanded answer
    w = np.array([2] * len(t))
    doubled = logrank_two(np.r_[t, t], np.r_[e, e], np.r_[a, a], strata=np.r_[s, s])
    assert logrank_two(t, e, a, w, strata=s).chi2 == pytest.approx(doubled.chi2)


def test_hazard_ratio_interval_agrees_with_the_logrank_p():
    from kpitools.stats.survival import logrank_two
    t, e, a, s = map(np.array, zip(*STRATIFIED))
    res = logrank_two(t, e, a, strata=s)
    at_p = logrank_two(t, e, a, strata=s, conf=1 - res.p)
    assert at_p.hr_low == pytest.approx(1.0) or at_p.hr_high == pytest.approx(1.0)


def test_km_p90_follows_r_quantile():
    from kpitools.stats.survival import km_quantile
    # no censoring: R's quantile(survfit) at 0.9 of 1..10 is the midpoint of 9 and 10 (S = 0.1 on [9, 10))
    assert km_quantile(np.arange(1, 11), np.ones(10, bool), q=0.9).median == 9.5
    # censored beyond: the curve stops above 0.1 -> not reached (R: NA)
    assert km_quantile([1, 2, 3, 4, 5], [1, 1, 1, 0, 0], q=0.9).median == math.inf
    assert km_quantile([1, 2, 3, 4], [1, 1, 1, 1], q=0.5) == km_median([1, 2, 3, 4], [1, 1, 1, 1])


def test_mixture_median_standardises_the_channel_mix():
    from kpitools.stats.survival import km_mixture_quantile
    t = [1, 2, 3, 10, 20, 30]
    groups = list("aaabbb")
    # equal shares: S = 0.5 from t = 3 to 10 -> R's midpoint rule gives 6.5
    assert km_mixture_quantile(t, [1] * 6, groups, {"a": 1, "b": 1}) == 6.5
    # all weight on a: a's own median
    assert km_mixture_quantile(t, [1] * 6, groups, {"a": 1.0}) == km_median([1, 2, 3], [1, 1, 1]).median
