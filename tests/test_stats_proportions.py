"""kpitools.stats.proportions: Wilson, Newcombe, two-proportion tests and the k-group comparison."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from kpitools.stats import (
    chi2_independence,
    compare_proportions,
    newcombe_diff_ci,
    two_proportion_ztest,
    wilson_ci,
)
from kpitools.stats.proportions import COMPARISON_COLUMNS

Z95 = 1.959963984540054


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat Med 17:857,
# Table I, method 3 (Wilson score), to 4 decimals.
@pytest.mark.parametrize("k, n, low, high", [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_published_values(k, n, low, high):
    got = wilson_ci(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_hand_computed():
    # k = 3, n = 10: centre = (3 + z²/2) / (10 + z²) = 4.920729 / 13.841459 = 0.355507;
    # half = z·sqrt(3·7/10 + z²/4) / 13.841459 = 1.959964·1.749390 / 13.841459 = 0.247715.
    low, high = wilson_ci(3, 10)
    assert low == pytest.approx(0.355507 - 0.247715, abs=1e-6)
    assert high == pytest.approx(0.355507 + 0.247715, abs=1e-6)
    assert type(low) is float and type(high) is float


def test_wilson_exact_at_the_ends_and_nan_when_empty():
    low, high = wilson_ci(np.array([0, 7, 7, 0]), np.array([7, 7, 10, 0]))
    assert low[0] == 0.0 and high[1] == 1.0          # exactly, not 1e-17 or 0.9999999
    assert 0 < low[2] < 0.7 < high[2] < 1
    assert np.isnan(low[3]) and np.isnan(high[3])


def test_wilson_vectorised_agrees_with_statsmodels_and_keeps_inputs():
    rng = np.random.default_rng(7)
    n = rng.integers(1, 500, 200)
    k = rng.integers(0, n + 1)
    k_before = k.copy()
    low, high = wilson_ci(k, n)
    sm_low, sm_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, sm_low, atol=1e-12)
    np.testing.assert_allclose(high, sm_high, atol=1e-12)
    np.testing.assert_array_equal(k, k_before)
    assert wilson_ci(int(k[5]), int(n[5])) == pytest.approx((low[5], high[5]))


def test_wilson_other_confidence_level():
    # 99 %: z = 2.575829; for k = 0 the upper limit is z² / (n + z²) = 6.634897 / 26.634897.
    assert wilson_ci(0, 20, conf=0.99)[1] == pytest.approx(6.634897 / 26.634897, abs=1e-6)


@pytest.mark.parametrize("k, n", [(-1, 5), (6, 5), (1, -1)])
def test_wilson_rejects_impossible_counts(k, n):
    with pytest.raises(ValueError):
        wilson_ci(k, n)


def test_wilson_scales_to_1e5_entries():
    n = np.full(100_000, 250)
    k = np.arange(100_000) % 251
    start = time.perf_counter()
    wilson_ci(k, n)
    assert time.perf_counter() - start < 0.25


# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Stat Med 17:873, Table II, method 10 (score interval, no continuity correction), examples a-h.
@pytest.mark.parametrize("k1, n1, k2, n2, low, high", [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
])
def test_newcombe_published_values(k1, n1, k2, n2, low, high):
    res = newcombe_diff_ci(k1, n1, k2, n2)
    assert res.diff == pytest.approx(k1 / n1 - k2 / n2)
    assert (res.low, res.high) == pytest.approx((low, high), abs=5e-5)


def test_newcombe_vectorised_and_nan_when_a_group_is_empty():
    res = newcombe_diff_ci(np.array([56, 9, 0]), np.array([70, 10, 0]), 48, np.array([80, 80, 80]))
    single = newcombe_diff_ci(9, 10, 48, 80)
    assert res.low[1] == pytest.approx(single.low) and res.high[1] == pytest.approx(single.high)
    assert np.isnan(res.diff[2]) and np.isnan(res.low[2]) and np.isnan(res.high[2])


def test_two_proportion_ztest_hand_and_statsmodels():
    # pooled = 104/150 = 0.693333; se = sqrt(0.693333·0.306667·(1/70 + 1/80)) = 0.075467;
    # z = (0.8 − 0.6) / 0.075467 = 2.65016
    z, p = two_proportion_ztest(56, 70, 48, 80)
    assert z == pytest.approx(2.65016, abs=1e-4)
    sm_z, sm_p = proportions_ztest([56, 48], [70, 80])
    assert (z, p) == pytest.approx((sm_z, sm_p), rel=1e-10)


def test_two_proportion_ztest_degenerate_and_empty():
    z, p = two_proportion_ztest(np.array([0, 10, 0]), np.array([10, 10, 0]), np.array([0, 20, 1]),
                                np.array([20, 20, 5]))
    assert (z[0], p[0]) == (0.0, 1.0)  # no successes anywhere: nothing differs
    assert (z[1], p[1]) == (0.0, 1.0)  # all successes in both
    assert np.isnan(z[2]) and np.isnan(p[2])


def test_chi2_independence_scipy_docs_example():
    # scipy.stats.chi2_contingency documentation: [[10, 10, 20], [20, 20, 20]] -> 2.7778, 0.24935
    res = chi2_independence([[10, 10, 20], [20, 20, 20]])
    assert res.statistic == pytest.approx(2.7778, abs=1e-4)
    assert res.p == pytest.approx(0.24935, abs=1e-5)
    assert (res.df, res.test) == (2, "chi2")
    # Cramér's V = sqrt(X² / (N (min(r, c) − 1))) = sqrt(2.7778 / 100)
    assert res.cramers_v == pytest.approx(math.sqrt(2.777778 / 100), abs=1e-6)
    assert res.min_expected == pytest.approx(12.0)  # 30 · 40 / 100


def test_chi2_independence_small_2x2_uses_fisher():
    # [[3, 1], [1, 3]]: hypergeometric probabilities of x = 0..4 successes in row 1 are
    # 1, 16, 36, 16, 1 (/70); tables no more likely than the observed (16/70) sum to 34/70.
    res = chi2_independence([[3, 1], [1, 3]])
    assert res.test == "fisher"
    assert res.p == pytest.approx(34 / 70)
    assert res.statistic == pytest.approx(9.0)  # odds ratio 3·3 / (1·1)


def _exact_conditional_chi2_p(successes, totals):
    """Exact p of the chi-square statistic given both margins (multivariate hypergeometric)."""
    successes, totals = np.asarray(successes), np.asarray(totals)
    k_total, n_total = successes.sum(), totals.sum()

    def chi2(ks):
        table = np.column_stack([ks, totals - ks])
        expected = np.outer(totals, [k_total, n_total - k_total]) / n_total
        return ((table - expected) ** 2 / expected).sum()

    observed = chi2(successes)
    p = 0.0
    for ks in itertools.product(*(range(n + 1) for n in totals)):
        if sum(ks) == k_total:
            prob = np.prod([math.comb(n, k) for n, k in zip(totals, ks)]) / math.comb(n_total, k_total)
            if chi2(np.array(ks)) >= observed - 1e-9:
                p += prob
    return p


def test_chi2_independence_small_kx2_monte_carlo_is_seeded_and_close_to_exact():
    table = np.column_stack([[5, 1, 0], [2, 5, 6]])  # successes 5, 1, 0 of totals 7, 6, 6
    first = chi2_independence(table)
    assert first.test == "monte_carlo_chi2"
    assert chi2_independence(table) == first  # fixed seed: identical p every time
    exact = _exact_conditional_chi2_p([5, 1, 0], [7, 6, 6])
    # 9999 draws: Monte-Carlo standard error ≤ 0.005
    assert first.p == pytest.approx(exact, abs=0.02)


def test_chi2_independence_nothing_varies():
    res = chi2_independence([[0, 10], [0, 12], [0, 7]])
    assert (res.statistic, res.p, res.test, res.cramers_v) == (0.0, 1.0, "none", 0.0)


def test_compare_proportions_known_table():
    # The scipy table as 3 groups: successes 10, 10, 20 of 30, 30, 40.
    res = compare_proportions([10, 10, 20], [30, 30, 40], ["email", "chat", "phone"])
    assert list(res.columns) == COMPARISON_COLUMNS
    assert res["comparison"].tolist() == ["omnibus", "pair", "pair", "pair"]
    omni = res.iloc[0]
    assert omni["statistic"] == pytest.approx(2.7778, abs=1e-4)
    assert omni["p"] == pytest.approx(0.24935, abs=1e-5) and omni["p_adj"] == omni["p"]
    assert omni["effect_name"] == "cramers_v"
    pairs = res.iloc[1:]
    assert list(zip(pairs["group_a"], pairs["group_b"])) == [
        ("email", "chat"), ("email", "phone"), ("chat", "phone")]
    # email vs phone: pooled 30/70, se = sqrt(3/7·4/7·(1/30 + 1/40)) = 0.119523,
    # z = (1/3 − 1/2) / 0.119523 = −1.39443, p = 2·Φ(−1.39443) = 0.16319; email vs chat: z = 0, p = 1.
    assert pairs["statistic"].tolist() == pytest.approx([0.0, -1.39443, -1.39443], abs=1e-5)
    assert pairs["p"].tolist() == pytest.approx([1.0, 0.16319, 0.16319], abs=1e-5)
    # Holm: 0.16319·3 = 0.48956 for both, 1 stays 1
    assert pairs["p_adj"].tolist() == pytest.approx([1.0, 0.48956, 0.48956], abs=1e-5)
    assert pairs["p_adj"].tolist() == pytest.approx(multipletests(pairs["p"], method="holm")[1])
    # Cohen's h, email vs phone: 2·asin(sqrt(1/3)) − 2·asin(sqrt(1/2)) = 1.230959 − 1.570796
    assert pairs["effect_size"].iloc[1] == pytest.approx(-0.339837, abs=1e-6)
    ci = newcombe_diff_ci(10, 30, 20, 40)
    assert (pairs["diff_low"].iloc[1], pairs["diff_high"].iloc[1]) == pytest.approx((ci.low, ci.high))


def test_compare_proportions_bh_and_none():
    counts = ([30, 45, 60], [100, 100, 100], ["a", "b", "c"])
    raw = compare_proportions(*counts, p_adjust="none")
    bh = compare_proportions(*counts, p_adjust="bh")
    assert raw["p_adj"].tolist() == raw["p"].tolist()
    assert bh["p_adj"].iloc[1:].tolist() == pytest.approx(
        multipletests(raw["p"].iloc[1:], method="fdr_bh")[1])


def test_compare_proportions_small_counts_switch_to_exact_tests():
    res = compare_proportions([3, 1, 40], [4, 4, 80], ["x", "y", "z"])
    assert res["test"].tolist() == ["monte_carlo_chi2", "fisher", "fisher", "fisher"]
    fisher_xy = stats.fisher_exact([[3, 1], [1, 3]]).pvalue
    assert res["p"].iloc[1] == pytest.approx(fisher_xy)


def test_compare_proportions_empty_group():
    res = compare_proportions([10, 0, 20], [30, 0, 40], ["a", "b", "c"])
    omni = res.iloc[0]
    assert omni["n_a"] == 70  # b left out of the omnibus table
    assert omni["statistic"] == pytest.approx(two_proportion_ztest(10, 30, 20, 40).z ** 2)
    with_b = res[(res["group_a"] == "b") | (res["group_b"] == "b")]
    assert with_b["p"].isna().all() and with_b["p_adj"].isna().all() and with_b["diff"].isna().all()
    ac = res[(res["group_a"] == "a") & (res["group_b"] == "c")].iloc[0]
    assert ac["p_adj"] == ac["p"]  # a family of one test


def test_compare_proportions_rejects_bad_input():
    with pytest.raises(ValueError):
        compare_proportions([1, 2], [5, 5], ["a", "a"])
    with pytest.raises(ValueError):
        compare_proportions([1, 2], [5, 5, 5], ["a", "b", "c"])
    with pytest.raises(ValueError):
        compare_proportions([1, 2], [5, 5], ["a", "b"], p_adjust="bonferroni")


def test_compare_proportions_leaves_inputs_alone():
    k = pd.Series([10, 10, 20])
    before = k.copy()
    compare_proportions(k, [30, 30, 40], ["a", "b", "c"])
    pd.testing.assert_series_equal(k, before)


# ---------------------------------------------------------------- issue #13: Mee's score interval

def test_mee_interval_newcombe_example():
    from kpitools.stats.proportions import score_diff_ci
    # Newcombe (1998), Table II, example (a) 56/70 − 48/80: method 5 (Mee) 0.0533 to 0.3377
    res = score_diff_ci(56, 70, 48, 80)
    assert (round(res.low, 4), round(res.high, 4)) == (0.0533, 0.3377)


@pytest.mark.parametrize("counts", [(56, 70, 48, 80), (5, 100, 30, 100), (33, 60, 20, 45), (1, 50, 9, 50)])
def test_mee_interval_inverts_the_pooled_z_test(counts):
    from kpitools.stats.proportions import score_diff_ci
    _, p = two_proportion_ztest(*counts)
    just_in = score_diff_ci(*counts, conf=1 - p * 1.001)   # p above the level: 0 excluded
    just_out = score_diff_ci(*counts, conf=1 - p * 0.999)  # p below the level: 0 included
    assert not (just_in.low <= 0 <= just_in.high) and just_out.low <= 0 <= just_out.high
