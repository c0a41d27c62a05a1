"""Invariants of kpitools.stats checked on generated data (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpitools.stats import (
    chi2_independence,
    compare_proportions,
    dunn,
    hodges_lehmann,
    km_curve,
    km_median,
    kruskal,
    laney_p_prime,
    logrank,
    mann_whitney,
    newcombe_diff_ci,
    nps_ci,
    nps_diff,
    p_adjust,
    t_ci,
    two_proportion_ztest,
    wilson_ci,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-12


@st.composite
def proportion(draw, max_n=10**6):
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


@st.composite
def survival_data(draw, max_rows=40):
    rows = draw(st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.integers(0, 4)),
                         min_size=1, max_size=max_rows))
    t, e, w = map(np.array, zip(*rows))
    return t.astype(float), e, w


conf_levels = st.sampled_from([0.8, 0.9, 0.95, 0.99])
small_samples = st.lists(st.integers(0, 10), min_size=1, max_size=25)


@SETTINGS
@given(proportion(), conf_levels)
def test_wilson_contains_the_share_within_0_1(kn, conf):
    k, n = kn
    low, high = wilson_ci(k, n, conf)
    assert 0.0 <= low <= k / n + EPS
    assert k / n - EPS <= high <= 1.0


@SETTINGS
@given(proportion(10**4), proportion(10**4))
def test_newcombe_contains_the_difference(a, b):
    res = newcombe_diff_ci(*a, *b)
    assert -1 - EPS <= res.low <= res.diff + EPS
    assert res.diff - EPS <= res.high <= 1 + EPS


@SETTINGS
@given(st.floats(-1e6, 1e6), st.floats(0, 1e3), st.integers(2, 10**5), conf_levels)
def test_t_ci_contains_the_mean(mean, sd, n, conf):
    low, high = t_ci(mean, sd, n, conf)
    assert low <= mean <= high


@SETTINGS
@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500),
       st.sampled_from(["adjusted_wald", "wald"]))
def test_nps_ci_contains_the_nps_from_two_responses(d, p, r, method):
    # with a single response the adjusted interval may exclude it (documented)
    assume(d + p + r >= 2)
    res = nps_ci(d, p, r, method=method)
    assert -100 <= res.low <= res.nps + 1e-9
    assert res.nps - 1e-9 <= res.high <= 100


@SETTINGS
@given(proportion(5000), proportion(5000))
def test_two_proportion_p_in_0_1(a, b):
    assert 0 <= two_proportion_ztest(*a, *b).p <= 1


@SETTINGS
@given(st.lists(proportion(60), min_size=2, max_size=5))
def test_chi2_and_compare_proportions_p_values(groups):
    k, n = map(list, zip(*groups))
    res = chi2_independence(np.column_stack([k, np.subtract(n, k)]))
    assert 0 <= res.p <= 1 and 0 <= res.cramers_v <= 1 + EPS
    table = compare_proportions(k, n, [f"g{i}" for i in range(len(k))])
    assert table["p"].between(0, 1).all()
    assert (table["p_adj"] >= table["p"] - EPS).all() and (table["p_adj"] <= 1).all()
    assert (table["diff_low"].iloc[1:] <= table["diff"].iloc[1:] + EPS).all()


@SETTINGS
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from(["holm", "bh"]))
def test_adjusted_p_at_least_raw_at_most_one_and_order_kept(p, method):
    raw = np.array(p)
    adj = p_adjust(raw, method)
    assert np.all(adj >= raw - EPS) and np.all(adj <= 1)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adj[order]) >= -EPS)


@SETTINGS
@given(st.tuples(*[st.integers(0, 200)] * 3), st.tuples(*[st.integers(0, 200)] * 3))
def test_nps_diff_p_in_0_1(a, b):
    assume(sum(a) > 0 and sum(b) > 0)
    res = nps_diff(a, b)
    assert 0 <= res.p <= 1
    assert res.low <= res.diff <= res.high


@SETTINGS
@given(small_samples, small_samples, small_samples)
def test_rank_tests_p_values(a, b, c):
    values = a + b + c
    groups = ["a"] * len(a) + ["b"] * len(b) + ["c"] * len(c)
    assert 0 <= kruskal(values, groups).p <= 1
    pairs = dunn(values, groups)
    assert pairs["p"].between(0, 1).all() and (pairs["p_adj"] >= pairs["p"] - EPS).all()
    mw = mann_whitney(a, b)
    assert 0 <= mw.p <= 1 and -1 <= mw.rank_biserial <= 1


@SETTINGS
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=30),
       st.lists(st.floats(-100, 100), min_size=1, max_size=30))
def test_hodges_lehmann_is_the_median_of_differences(x, y):
    assert hodges_lehmann(x, y) == np.median(np.subtract.outer(np.array(x), np.array(y)))


@SETTINGS
@given(survival_data())
def test_km_curve_invariants_and_weights_equal_expanded_rows(data):
    t, e, w = data
    assume(w.sum() > 0)
    curve = km_curve(t, e, w)
    s = curve["survival"].to_numpy()
    assert np.all((s >= 0) & (s <= 1)) and np.all(np.diff(s) <= 0)
    alive = s > 0
    assert np.all(curve["ci_low"][alive] <= s[alive] + EPS)
    assert np.all(curve["ci_high"][alive] >= s[alive] - EPS)
    assert curve["n_risk"].iloc[0] == w.sum()
    expanded = km_median(np.repeat(t, w), np.repeat(e, w))
    assert km_median(t, e, w) == expanded


@SETTINGS
@given(survival_data(max_rows=60))
def test_km_ci_contains_the_median_when_reached(data):
    t, e, w = data
    assume(w.sum() > 0)
    median, low, high = km_median(t, e, w)
    if math.isfinite(median):
        assert math.isnan(low) or low <= median  # NaN: S fell from above 0.5 straight to 0
        assert median <= high
    else:  # the upper band lies above the curve: it cannot reach 0.5 first
        assert high == math.inf


@SETTINGS
@given(survival_data(max_rows=60), st.lists(st.sampled_from("abc"), min_size=60, max_size=60))
def test_logrank_p_in_0_1(data, labels):
    t, e, w = data
    g = np.array(labels[: len(t)])
    assume(len(set(g[w > 0])) >= 2)
    res = logrank(t, e, g, w)
    assert res.chi2 >= -EPS
    assert math.isnan(res.p) or 0 <= res.p <= 1


@SETTINGS
@given(st.lists(proportion(500), min_size=2, max_size=24))
def test_laney_limits_bracket_the_centre(periods):
    k, n = zip(*periods)
    chart = laney_p_prime(k, n)
    finite = chart["lcl"].notna()
    assert (chart.loc[finite, "lcl"] <= chart.loc[finite, "centre"] + EPS).all()
    assert (chart.loc[finite, "ucl"] >= chart.loc[finite, "centre"] - EPS).all()
    assert chart[["lcl", "ucl", "p_lcl", "p_ucl"]].stack().between(0, 1).all()
