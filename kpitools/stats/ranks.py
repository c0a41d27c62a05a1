"""Rank-based tests: Kruskal–Wallis, Dunn's pairwise test, Mann–Whitney with effect sizes."""

from __future__ import annotations

import math
from itertools import combinations
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._arrays import group_codes
from .adjust import p_adjust as _p_adjust


class KruskalResult(NamedTuple):
    """Result of :func:`kruskal`."""

    statistic: float
    df: int
    p: float
    epsilon_squared: float


class MannWhitney(NamedTuple):
    """Result of :func:`mann_whitney`."""

    u: float
    p: float
    rank_biserial: float
    hodges_lehmann: float


def _values_and_groups(values: Any, groups: Any) -> tuple[np.ndarray, list[Any], np.ndarray]:
    x = np.asarray(values, dtype=float).ravel()
    labels, codes = group_codes(groups)
    if len(codes) != len(x):
        raise ValueError("values and groups need the same length")
    if np.isnan(x).any():
        raise ValueError("values must not contain NaN")
    return x, labels, codes


def kruskal(values: Any, groups: Any) -> KruskalResult:
    """Kruskal–Wallis H test (tie-corrected, scipy) with the epsilon² effect size.

    Parameters
    ----------
    values : array_like
        Observations (e.g. CSAT scores), no NaN.
    groups : array_like
        Group label of each observation; at least 2 groups.

    Returns
    -------
    KruskalResult
        ``statistic`` (H), ``df`` (groups − 1), ``p`` and ``epsilon_squared`` = H / (N − 1),
        the share of rank variance explained by the groups (0..1). When every value is
        equal there is nothing to rank: H = 0, p = 1.

    Examples
    --------
    >>> res = kruskal([1, 2, 3, 4, 5, 6, 7, 8, 9], list("aaabbbccc"))
    >>> round(res.statistic, 2), res.df, round(res.p, 4), round(res.epsilon_squared, 2)
    (7.2, 2, 0.0273, 0.9)
    """
    x, labels, codes = _values_and_groups(values, groups)
    if len(labels) < 2:
        raise ValueError("kruskal needs at least 2 groups")
    df = len(labels) - 1
    if np.all(x == x[0]):
        return KruskalResult(0.0, df, 1.0, 0.0)
    res = stats.kruskal(*(x[codes == i] for i in range(len(labels))))
    h = float(res.statistic)
    return KruskalResult(h, df, float(res.pvalue), h / (len(x) - 1))


def dunn(values: Any, groups: Any, p_adjust: str = "holm") -> pd.DataFrame:
    """Dunn's (1964) pairwise test after Kruskal–Wallis, with the tie correction.

    For groups i, j with mean ranks R̄ (ranks over all N observations, ties averaged):
    z = (R̄i − R̄j) / sqrt((N(N+1)/12 − Σ(t³ − t) / (12(N − 1))) (1/ni + 1/nj)), t running
    over the sizes of the tied runs; two-sided normal p-values.

    Parameters
    ----------
    values, groups : array_like
        As for :func:`kruskal`.
    p_adjust : {"holm", "bh", "none"}
        Adjustment over all pairs.

    Returns
    -------
    DataFrame
        One row per pair ``(a, b)`` in group order (sorted labels, or category order for a
        Categorical): ``group_a``, ``group_b``, ``n_a``, ``n_b``, ``mean_rank_a``,
        ``mean_rank_b``, ``z`` (positive when ``a`` ranks higher), ``p``, ``p_adj``. When every
        value is equal, ``z = 0`` and ``p = 1``.

    Examples
    --------
    >>> res = dunn([1, 2, 3, 4, 5, 6, 7, 8, 9], list("aaabbbccc"), p_adjust="none")
    >>> res[["group_a", "group_b", "z", "p"]].round(4)
      group_a group_b       z       p
    0       a       b -1.3416  0.1797
    1       a       c -2.6833  0.0073
    2       b       c -1.3416  0.1797
    """
    x, labels, codes = _values_and_groups(values, groups)
    k = len(labels)
    if k < 2:
        raise ValueError("dunn needs at least 2 groups")
    n_total = len(x)
    ranks = stats.rankdata(x)
    sizes = np.bincount(codes, minlength=k)
    mean_rank = np.bincount(codes, weights=ranks, minlength=k) / sizes
    _, tie_sizes = np.unique(x, return_counts=True)
    ties = float(np.sum(tie_sizes.astype(float) ** 3 - tie_sizes))
    variance = n_total * (n_total + 1) / 12 - ties / (12 * (n_total - 1))
    a, b = np.array(list(combinations(range(k), 2))).T
    se = np.sqrt(variance * (1 / sizes[a] + 1 / sizes[b]))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se == 0, 0.0, (mean_rank[a] - mean_rank[b]) / se)
    p = 2 * stats.norm.sf(np.abs(z))
    return pd.DataFrame({
        "group_a": [labels[i] for i in a], "group_b": [labels[j] for j in b],
        "n_a": sizes[a], "n_b": sizes[b], "mean_rank_a": mean_rank[a], "mean_rank_b": mean_rank[b],
        "z": z, "p": p, "p_adj": _p_adjust(p, p_adjust),
    })


def _float_key(v: float) -> int:
    """Map a float to an int whose order is the float order (−0.0 and 0.0 both map to 0)."""
    bits = int(np.array(v, dtype=np.float64).view(np.int64))
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _key_float(key: int) -> float:
    bits = key if key >= 0 else (-key) | -0x8000_0000_0000_0000
    return float(np.array(bits, dtype=np.int64).view(np.float64))


def _first_at_most(xs: np.ndarray, ys: np.ndarray, d: float) -> np.ndarray:
    """For each x_i, the first j with fl(x_i − y_j) ≤ d (ys ascending, so the rest follow).

    ``searchsorted`` on x_i − d is right except where rounding differs by an ulp; those rows
    are found by checking both sides of the boundary and settled by an exact bisection.
    """
    m = len(ys)
    idx = np.searchsorted(ys, xs - d, side="left")
    right_ok = (idx == m) | (xs - ys[np.minimum(idx, m - 1)] <= d)
    left_ok = (idx == 0) | (xs - ys[np.maximum(idx - 1, 0)] > d)
    wrong = np.flatnonzero(~(right_ok & left_ok))
    if wrong.size:
        x_w = xs[wrong]
        lo = np.zeros(wrong.size, dtype=np.intp)
        hi = np.full(wrong.size, m, dtype=np.intp)
        while (lo < hi).any():
            mid = (lo + hi) // 2
            at_most = x_w - ys[np.minimum(mid, m - 1)] <= d
            hi = np.where(at_most & (lo < hi), mid, hi)
            lo = np.where(~at_most & (lo < hi), mid + 1, lo)
        idx[wrong] = lo
    return idx


def hodges_lehmann(x: Any, y: Any) -> float:
    """Hodges–Lehmann shift: the median of all pairwise differences ``x_i − y_j``, exactly.

    The n·m differences are never formed: each middle order statistic is found by bisection
    over the ordered bit patterns of floats (at most 64 steps), each step counting the
    differences ≤ a value with one ``searchsorted`` pass, O((n + m) log m). The result equals
    the median of the explicitly computed float differences; with n = m = 10⁵ it takes a
    fraction of a second. NaN if either sample is empty.

    Examples
    --------
    >>> hodges_lehmann([1.0, 2.0, 3.0], [0.0, 0.5])
    1.75
    """
    xs = np.sort(np.asarray(x, dtype=float).ravel())
    ys = np.sort(np.asarray(y, dtype=float).ravel())
    if np.isnan(xs).any() or np.isnan(ys).any():
        raise ValueError("samples must not contain NaN")
    n_pairs = len(xs) * len(ys)
    if n_pairs == 0:
        return math.nan

    def count_at_most(d: float) -> int:
        return n_pairs - int(_first_at_most(xs, ys, d).sum())

    def kth(k: int) -> float:  # k-th smallest difference, 1-based
        lo = _float_key(xs[0] - ys[-1]) - 1  # count_at_most(lo) < k
        hi = _float_key(xs[-1] - ys[0])      # count_at_most(hi) ≥ k
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if count_at_most(_key_float(mid)) >= k:
                hi = mid
            else:
                lo = mid
        return _key_float(hi)

    half = n_pairs // 2
    if n_pairs % 2:
        return kth(half + 1)
    lower = kth(half)
    if count_at_most(lower) > half:  # the two middle differences are tied
        return lower
    # the next difference up: for each x_i, the largest y_j with x_i − y_j > lower
    idx = _first_at_most(xs, ys, lower)
    has = idx > 0
    upper = float(np.min(xs[has] - ys[idx[has] - 1]))
    return (lower + upper) / 2


def mann_whitney(x: Any, y: Any) -> MannWhitney:
    """Mann–Whitney U test (two-sided, scipy) with rank-biserial r and the Hodges–Lehmann shift.

    Parameters
    ----------
    x, y : array_like
        The two samples (e.g. resolution hours of two channels), no NaN.

    Returns
    -------
    MannWhitney
        ``u``: U of ``x`` (pairs with x > y, ties counting ½); ``p``: two-sided p-value
        (scipy's ``method="auto"``: exact for small samples without ties, else normal with
        tie and continuity corrections); ``rank_biserial`` = 2U / (n·m) − 1 =
        P(X > Y) − P(X < Y), in [−1, 1] and positive when ``x`` tends to be larger (the sign of
        ``hodges_lehmann``); ``hodges_lehmann``: median of all differences ``x_i − y_j`` (see
        :func:`hodges_lehmann`). NaN if a sample is empty.

    Examples
    --------
    >>> res = mann_whitney([3, 4, 5, 6], [1, 2, 3])
    >>> res.u, round(res.p, 3), round(res.rank_biserial, 3), res.hodges_lehmann
    (11.5, 0.074, 0.917, 2.5)
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if len(xa) == 0 or len(ya) == 0:
        return MannWhitney(math.nan, math.nan, math.nan, math.nan)
    shift = hodges_lehmann(xa, ya)  # also rejects NaN
    res = stats.mannwhitneyu(xa, ya, alternative="two-sided")
    u = float(res.statistic)
    return MannWhitney(u, float(res.pvalue), 2 * u / (len(xa) * len(ya)) - 1, shift)


#: Largest number of distinct (x, y) value pairs :func:`rank_shift` works on (survey scales
#: have at most 11 × 11).
MAX_VALUE_PAIRS = 200_000


@dataclass(frozen=True)
class RankShift:
    """Result of :func:`rank_shift`; :meth:`interval` gives the shift's interval at any level."""

    u: float
    p: float
    rank_biserial: float
    hodges_lehmann: float
    sigma: float
    differences: np.ndarray
    below: np.ndarray
    at: np.ndarray

    def interval(self, conf: float = 0.95) -> tuple[float, float, bool, bool]:
        """The Hodges–Lehmann interval at ``conf``: ``(low, high, low_open, high_open)``.

        With k = nm/2 − z·σ − ½ (σ the tie-corrected null SD of U, z the two-sided normal
        quantile), the interval holds the shifts δ with G(δ) = #(x − y < δ) + ½#(x − y = δ) ≥ k
        and #(x − y > δ) + ½#(x − y = δ) ≥ k: the order-statistic interval of Bauer (1972)
        (R ``wilcox.test(conf.int = TRUE)``) with tied differences counted half, as U counts
        them. So it excludes 0 exactly when ``p`` < 1 − ``conf``, ties or not. With tied
        differences (survey scores) an end can be open: ``(0, 1]`` is every shift above 0 up
        to 1 (``low_open``). NaN when a sample is empty; ±inf when the samples are too small
        for the level.
        """
        d = self.differences
        if not len(d):
            return math.nan, math.nan, False, False
        from ._arrays import z_value
        total = self.below[-1] + self.at[-1]
        k = total / 2 - z_value(conf) * self.sigma - 0.5
        if k <= 0:
            return -math.inf, math.inf, True, True

        def lower(diffs: np.ndarray, below: np.ndarray, at: np.ndarray) -> tuple[float, bool]:
            j = int(np.searchsorted(below + at, k, side="left"))  # first d_j with #(≤ d_j) ≥ k
            return float(diffs[j]), bool(below[j] + at[j] / 2 < k)  # open when only d_j+ reaches k

        low, low_open = lower(d, self.below, self.at)
        # the upper limit is the lower limit of y − x, negated
        rev_at = self.at[::-1]
        high, high_open = lower(-d[::-1], np.r_[0.0, np.cumsum(rev_at)[:-1]], rev_at)
        return low, -high, low_open, high_open


def covers(low: float, high: float, low_open: bool = False, high_open: bool = False, x: float = 0.0) -> bool:
    """Whether the interval from ``low`` to ``high`` (ends open or closed) contains ``x``.

    Examples
    --------
    >>> covers(0.0, 1.0), covers(0.0, 1.0, low_open=True)
    (True, False)
    """
    return (low < x or (low == x and not low_open)) and (x < high or (x == high and not high_open))


def rank_shift(x: Any, y: Any, wx: Any = None, wy: Any = None) -> RankShift:
    """Mann–Whitney test with the Hodges–Lehmann shift and an interval that agrees with the test.

    The test: U counts the pairs with x > y (ties ½); normal approximation with the tie
    correction and a continuity correction of ½ — scipy's ``mannwhitneyu(x, y,
    method="asymptotic")`` and R's ``wilcox.test(x, y, exact = FALSE, correct = TRUE)``. The
    shift: the median of all differences x_i − y_j (R ``wilcox.test(..., conf.int =
    TRUE)$estimate`` without ties). Its interval (:meth:`RankShift.interval`) counts tied
    differences half, as U does, so at every level it excludes 0 exactly when the test's p is
    below that level — also with the heavy ties of survey scores, where the usual
    order-statistic interval and the test can disagree.

    Parameters
    ----------
    x, y : array_like
        Values (distinct or not) of the two samples, no NaN.
    wx, wy : array_like, optional
        Their counts (default 1 each).

    Returns
    -------
    RankShift
        ``u`` (U of x), ``p``, ``rank_biserial`` (2U/(nm) − 1), ``hodges_lehmann``, ``sigma``
        (the null SD of U) and the weighted distinct differences behind the interval. NaN
        when a sample is empty.

    Examples
    --------
    >>> res = rank_shift([1, 2, 3, 4, 5], [4, 5, 6, 7, 8, 9])
    >>> res.hodges_lehmann, round(res.p, 4), res.interval(0.95)
    (-3.5, 0.0219, (-6.0, -1.0, False, False))
    """
    xv, yv = (np.asarray(v, dtype=float).ravel() for v in (x, y))
    wxa = np.ones_like(xv) if wx is None else np.asarray(wx, dtype=float).ravel()
    wya = np.ones_like(yv) if wy is None else np.asarray(wy, dtype=float).ravel()
    if np.isnan(xv).any() or np.isnan(yv).any():
        raise ValueError("samples must not contain NaN")
    xv, ix = np.unique(xv[wxa > 0], return_inverse=True)
    wxa = np.bincount(ix, weights=wxa[wxa > 0], minlength=len(xv))
    yv, iy = np.unique(yv[wya > 0], return_inverse=True)
    wya = np.bincount(iy, weights=wya[wya > 0], minlength=len(yv))
    n, m = float(wxa.sum()), float(wya.sum())
    if n == 0 or m == 0:
        empty = np.zeros(0)
        return RankShift(math.nan, math.nan, math.nan, math.nan, math.nan, empty, empty, empty)
    if len(xv) * len(yv) > MAX_VALUE_PAIRS:
        raise ValueError(f"rank_shift works on at most {MAX_VALUE_PAIRS} distinct value pairs")
    diffs = np.subtract.outer(xv, yv).ravel()
    pair_w = np.multiply.outer(wxa, wya).ravel()
    distinct, inverse = np.unique(diffs, return_inverse=True)
    at = np.bincount(inverse, weights=pair_w, minlength=len(distinct))
    below = np.r_[0.0, np.cumsum(at)[:-1]]
    zero = np.searchsorted(distinct, 0.0)
    u = float(n * m - (below[zero] if zero < len(distinct) else n * m)
              - (at[zero] / 2 if zero < len(distinct) and distinct[zero] == 0 else 0.0))
    # tie correction of the pooled sample
    values, inv = np.unique(np.r_[xv, yv], return_inverse=True)
    t = np.bincount(inv, weights=np.r_[wxa, wya], minlength=len(values))
    big_n = n + m
    var = n * m / 12 * ((big_n + 1) - float(np.sum(t**3 - t)) / (big_n * (big_n - 1)))
    sigma = math.sqrt(max(var, 0.0))
    if sigma > 0:
        p = min(1.0, float(2 * stats.norm.sf((abs(u - n * m / 2) - 0.5) / sigma)))
    else:
        p = 1.0  # every value tied: nothing to test
    cum = below + at
    total = cum[-1]

    def kth(k: float) -> float:  # k-th smallest difference (1-based)
        return float(distinct[np.searchsorted(cum, k, side="left")])

    hl = (kth(total / 2) + kth(total / 2 + 1)) / 2 if total % 2 == 0 else kth((total + 1) / 2)
    return RankShift(u, p, 2 * u / (n * m) - 1, hl, sigma, distinct, below, at)
