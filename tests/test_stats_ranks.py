"""kpitools.stats.ranks: Kruskal–Wallis, Dunn, Mann–Whitney with rank-biserial r and Hodges–Lehmann."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpitools.stats import dunn, hodges_lehmann, kruskal, mann_whitney


def test_kruskal_by_hand():
    # Ranks 1..9, rank sums 6, 15, 24 for groups of 3, N = 9:
    # H = 12/(9·10)·(6² + 15² + 24²)/3 − 3·10 = 7.2; epsilon² = H/(N − 1) = 0.9
    res = kruskal([1, 2, 3, 4, 5, 6, 7, 8, 9], list("aaabbbccc"))
    assert res.statistic == pytest.approx(7.2)
    assert res.df == 2
    assert res.p == pytest.approx(math.exp(-7.2 / 2))  # chi-square with 2 df: sf(x) = e^(−x/2)
    assert res.epsilon_squared == pytest.approx(0.9)


def test_kruskal_ties_agree_with_scipy_and_constant_values():
    values = [1, 1, 2, 3, 3, 3, 4, 5, 5, 5, 5, 2]
    groups = list("aaaabbbbcccc")
    ref = stats.kruskal([1, 1, 2, 3], [3, 3, 4, 5], [5, 5, 5, 2])
    res = kruskal(values, groups)
    assert (res.statistic, res.p) == pytest.approx((ref.statistic, ref.pvalue))
    assert kruskal([4, 4, 4, 4], list("abab")) == (0.0, 1, 1.0, 0.0)


def test_dunn_without_ties_by_hand():
    # Mean ranks 2, 5, 8; variance N(N+1)/12 = 7.5; se = sqrt(7.5·(1/3 + 1/3)) = sqrt(5).
    # z_ab = −3/√5 = −1.341641, z_ac = −6/√5 = −2.683282, z_bc = −1.341641.
    res = dunn([1, 2, 3, 4, 5, 6, 7, 8, 9], list("aaabbbccc"), p_adjust="none")
    assert list(zip(res["group_a"], res["group_b"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert res["z"].tolist() == pytest.approx([-3 / math.sqrt(5), -6 / math.sqrt(5), -3 / math.sqrt(5)])
    assert res["p"].tolist() == pytest.approx(2 * stats.norm.sf(np.abs(res["z"])))
    assert res["mean_rank_a"].tolist() == [2.0, 2.0, 5.0]


def test_dunn_with_ties_by_hand():
    # a = 1, 2, 2; b = 2, 3, 4; c = 4, 5, 5. Pooled ranks: 1 -> 1; the three 2s -> 3;
    # 3 -> 5; the two 4s -> 6.5; the two 5s -> 8.5. Mean ranks: a 7/3, b 14.5/3, c 23.5/3.
    # Ties: (3³ − 3) + (2³ − 2) + (2³ − 2) = 36; variance = 9·10/12 − 36/(12·8) = 7.125;
    # se = sqrt(7.125 · 2/3) = sqrt(4.75) = 2.179449.
    # z_ab = −2.5/2.179449 = −1.147079, z_ac = −5.5/… = −2.523573, z_bc = −3/… = −1.376494.
    # p = 2·Φ(−|z|) = 0.251349, 0.011617, 0.168669; Holm: sorted ×3, ×2, ×1 with running
    # max -> a–c 0.034851, b–c 0.337337, a–b max(0.251349, 0.337337) = 0.337337.
    res = dunn([1, 2, 2, 2, 3, 4, 4, 5, 5], list("aaabbbccc"))
    assert res["z"].tolist() == pytest.approx([-1.147079, -2.523573, -1.376494], abs=1e-6)
    assert res["p"].tolist() == pytest.approx([0.251349, 0.011617, 0.168669], abs=1e-6)
    assert res["p_adj"].tolist() == pytest.approx([0.337337, 0.034851, 0.337337], abs=1e-6)


def test_dunn_group_order_follows_categories():
    cat = pd.Categorical(list("xxyyzz"), categories=["z", "y", "x", "unused"])
    res = dunn([1, 2, 3, 4, 5, 6], cat, p_adjust="bh")
    assert list(zip(res["group_a"], res["group_b"])) == [("z", "y"), ("z", "x"), ("y", "x")]
    assert (res["z"] > 0).all()  # z ranks highest, then y, then x


def test_dunn_constant_values_and_bad_input():
    res = dunn([3, 3, 3, 3], list("abab"))
    assert res["z"].tolist() == [0.0] and res["p"].tolist() == [1.0]
    with pytest.raises(ValueError):
        dunn([1, 2, 3], ["a", "a", "a"])
    with pytest.raises(ValueError):
        dunn([1, np.nan], ["a", "b"])
    with pytest.raises(ValueError):
        dunn([1, 2], ["a", None])


def test_mann_whitney_by_hand():
    # x = 3, 4, 5, 6 against y = 1, 2, 3: x wins 2 + ½ (tie at 3), 3, 3, 3 -> U = 11.5 of 12;
    # r = 2·11.5/12 − 1 = 0.916667; differences 2,1,0,3,2,1,4,3,2,5,4,3: median (2 + 3)/2.
    res = mann_whitney([3, 4, 5, 6], [1, 2, 3])
    assert res.u == 11.5
    assert res.rank_biserial == pytest.approx(11 / 12)
    assert res.hodges_lehmann == 2.5
    assert res.p == pytest.approx(stats.mannwhitneyu([3, 4, 5, 6], [1, 2, 3]).pvalue)


def test_mann_whitney_sign_convention():
    rng = np.random.default_rng(2)
    x, y = rng.exponential(2, 40), rng.exponential(3, 55)
    xy, yx = mann_whitney(x, y), mann_whitney(y, x)
    assert xy.u + yx.u == 40 * 55
    assert xy.rank_biserial == pytest.approx(-yx.rank_biserial)
    assert xy.hodges_lehmann == pytest.approx(-yx.hodges_lehmann)
    assert xy.p == pytest.approx(yx.p)
    # r = P(X > Y) − P(X < Y), computed pair by pair
    diff = np.subtract.outer(x, y)
    assert xy.rank_biserial == pytest.approx((diff > 0).mean() - (diff < 0).mean())
    assert all(math.isnan(v) for v in mann_whitney([], [1.0, 2.0]))


@pytest.mark.parametrize("seed", range(6))
def test_hodges_lehmann_equals_the_explicit_median(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 60, 2)
    if seed % 2:  # heavy ties, as with hours rounded to integers
        x, y = rng.integers(0, 6, n).astype(float), rng.integers(0, 6, m).astype(float)
    else:
        x, y = rng.lognormal(size=n), rng.lognormal(size=m) * 1e-3
    assert hodges_lehmann(x, y) == np.median(np.subtract.outer(x, y))


def test_hodges_lehmann_large_samples_quickly():
    rng = np.random.default_rng(1)
    x, y = rng.exponential(3, 100_000), rng.exponential(2.5, 100_000)
    start = time.perf_counter()
    shift = hodges_lehmann(x, y)
    assert time.perf_counter() - start < 3  # ~0.2 s: 10¹⁰ differences are never formed
    # half of all 10¹⁰ differences lie on each side of the answer
    ys = np.sort(y)
    n_le = 10**10 - np.searchsorted(ys, x - shift, side="left").sum()
    n_lt = 10**10 - np.searchsorted(ys, x - shift, side="right").sum()
    assert n_lt <= 10**10 // 2 <= n_le


def test_hodges_lehmann_rejects_nan_and_handles_empty():
    with pytest.raises(ValueError):
        hodges_lehmann([1.0, np.nan], [2.0])
    assert math.isnan(hodges_lehmann([], [1.0]))


# ---------------------------------------------------------------- issue #13: the shift interval agrees with the test

def test_rank_shift_matches_scipy_and_the_hodges_lehmann_estimate():
    from scipy import stats as sps

    from kpitools.stats.ranks import covers, rank_shift
    rng = np.random.default_rng(7)
    for _ in range(200):
        x = rng.integers(1, 6, rng.integers(2, 60))
        y = rng.integers(1, 6, rng.integers(2, 60))
        res = rank_shift(x, y)
        ref = sps.mannwhitneyu(x, y, method="asymptotic")  # R: wilcox.test(x, y, exact = FALSE)
        if not np.isnan(ref.pvalue):
            assert res.p == pytest.approx(ref.pvalue, abs=1e-12)
        assert res.u == ref.statistic and res.hodges_lehmann == hodges_lehmann(x, y)
        for level in (0.2, 0.05, 0.01, 0.001):
            assert covers(*res.interval(1 - level)) == (res.p >= level)


def test_rank_shift_without_ties_is_bauers_interval():
    from kpitools.stats.ranks import rank_shift
    # x − y for x = 1..5, y = 4..9: 30 differences from −8 to 1; σ = sqrt(5·6·12/12) = 5.477;
    # k = 15 − 1.96·5.477 − 0.5 = 3.76 -> the 4th smallest and 4th largest difference: −6 and −1
    res = rank_shift([1, 2, 3, 4, 5], [4, 5, 6, 7, 8, 9])
    assert res.interval(0.95) == (-6.0, -1.0, False, False)
    assert res.hodges_lehmann == -3.5


def test_rank_shift_weights_equal_expanded_rows():
    from kpitools.stats.ranks import rank_shift
    a = rank_shift([1, 3, 5], [2, 4], [3, 1, 2], [2, 5])
    b = rank_shift([1, 1, 1, 3, 5, 5], [2, 2, 4, 4, 4, 4, 4])
    assert (a.u, a.p, a.hodges_lehmann, a.interval(0.9)) == (b.u, b.p, b.hodges_lehmann, b.interval(0.9))
