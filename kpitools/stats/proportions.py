"""Proportions: Wilson and Newcombe intervals, two-proportion tests, k-group comparison.

Everything here is vectorised over numpy arrays where the signature allows it; scalars in give
Python floats out.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._arrays import as_float_arrays, unwrap, z_value
from .adjust import p_adjust as _p_adjust

#: Seed of the Monte-Carlo chi-square test: fixed so that identical input gives identical p.
MONTE_CARLO_SEED = 20_240_601
MONTE_CARLO_RESAMPLES = 9_999

COMPARISON_COLUMNS = [
    "comparison", "group_a", "group_b", "n_a", "n_b", "estimate_a", "estimate_b", "diff",
    "diff_low", "diff_high", "statistic", "test", "p", "p_adj", "effect_size", "effect_name",
]


class DiffCI(NamedTuple):
    """A difference with its confidence interval."""

    diff: Any
    low: Any
    high: Any


class ZTest(NamedTuple):
    """A z statistic with its two-sided p-value."""

    z: Any
    p: Any


class Independence(NamedTuple):
    """Result of :func:`chi2_independence`."""

    statistic: float
    df: int
    p: float
    test: str
    cramers_v: float
    min_expected: float


def _check_counts(k: np.ndarray, n: np.ndarray) -> None:
    if np.any(k < 0) or np.any(n < 0) or np.any(k > n):
        raise ValueError("counts must satisfy 0 <= k <= n")


def wilson_ci(k: Any, n: Any, conf: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for a proportion ``k / n``.

    Parameters
    ----------
    k, n : int or array_like
        Successes and trials (broadcast against each other).
    conf : float
        Confidence level.

    Returns
    -------
    low, high : float or ndarray
        Limits as proportions in [0, 1]: exactly 0 at ``k = 0``, exactly 1 at ``k = n``,
        NaN where ``n = 0``.

    Examples
    --------
    >>> low, high = wilson_ci(3, 10)
    >>> round(low, 4), round(high, 4)
    (0.1078, 0.6032)
    >>> low, high = wilson_ci(np.array([0, 5]), 5)   # arrays in, arrays out
    >>> low.round(4), high.round(4)
    (array([0.    , 0.5655]), array([0.4345, 1.    ]))
    """
    scalar, (k, n) = as_float_arrays(k, n)
    _check_counts(k, n)
    z = z_value(conf)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = n + z2
        centre = (k + z2 / 2) / denom
        half = z * np.sqrt(k * (n - k) / n + z2 / 4) / denom
        low = np.where(n == 0, np.nan, np.where(k == 0, 0.0, centre - half))
        high = np.where(n == 0, np.nan, np.where(k == n, 1.0, centre + half))
    return unwrap(low, scalar), unwrap(high, scalar)


def newcombe_diff_ci(k1: Any, n1: Any, k2: Any, n2: Any, conf: float = 0.95) -> DiffCI:
    """Newcombe's hybrid score interval for ``p1 - p2`` (method 10 of Newcombe 1998).

    Built from the two Wilson intervals; NaN where either ``n`` is 0. Vectorised.

    Examples
    --------
    >>> d = newcombe_diff_ci(56, 70, 48, 80)   # Newcombe (1998), example (a)
    >>> round(d.diff, 4), round(d.low, 4), round(d.high, 4)
    (0.2, 0.0524, 0.3339)
    """
    scalar, (k1, n1, k2, n2) = as_float_arrays(k1, n1, k2, n2)
    l1, u1 = wilson_ci(k1, n1, conf)
    l2, u2 = wilson_ci(k2, n2, conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return DiffCI(unwrap(diff, scalar), unwrap(low, scalar), unwrap(high, scalar))


def _restricted_mle(p1: np.ndarray, n1: np.ndarray, p2: np.ndarray, n2: np.ndarray,
                    delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood p1, p2 under p1 − p2 = ``delta`` (Farrington and Manning 1990, the
    closed-form root of the likelihood cubic)."""
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta**2 + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (3 * a) ** 3 - b * c / (6 * a**2) + d / (2 * a)
    u = np.sign(v) * np.sqrt(np.maximum(b**2 / (3 * a) ** 2 - c / (3 * a), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_arg = np.where(u == 0, 0.0, np.clip(v / u**3, -1, 1))
    w = (np.pi + np.arccos(cos_arg)) / 3
    r1 = np.clip(2 * u * np.cos(w) - b / (3 * a), 0, 1)
    return r1, np.clip(r1 - delta, 0, 1)


def _score_statistic(p1, n1, p2, n2, delta):
    """Mee's score statistic of p1 − p2 = delta (variance at the restricted estimates)."""
    r1, r2 = _restricted_mle(p1, n1, p2, n2, delta)
    se = np.sqrt(r1 * (1 - r1) / n1 + r2 * (1 - r2) / n2)
    gap = p1 - p2 - delta
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, gap / se, np.where(gap == 0, 0.0, np.sign(gap) * np.inf))


def score_diff_ci(k1: Any, n1: Any, k2: Any, n2: Any, conf: float = 0.95) -> DiffCI:
    """Mee's (1984) score interval for ``p1 - p2``: the differences Δ the score test does not reject.

    The score statistic (p̂1 − p̂2 − Δ) / sqrt(p̃1(1 − p̃1)/n1 + p̃2(1 − p̃2)/n2), with p̃ the
    maximum-likelihood proportions under p1 − p2 = Δ, equals the pooled z of
    :func:`two_proportion_ztest` at Δ = 0. So the interval at confidence ``conf`` excludes 0
    exactly when that test's p is below 1 − ``conf``: beside a verdict of the pooled z-test it
    never disagrees with it (Newcombe's hybrid interval, built from two Wilson intervals, can).
    This is R ``DescTools::BinomDiffCI(method = "mee")``, method 5 of Newcombe (1998). The
    limits are found by a vectorised bisection (50 halvings of [−1, 1]). NaN where either ``n``
    is 0.

    Examples
    --------
    >>> d = score_diff_ci(56, 70, 48, 80)   # Newcombe (1998), Table II, example (a), method 5
    >>> round(d.diff, 4), round(d.low, 4), round(d.high, 4)
    (0.2, 0.0533, 0.3377)
    """
    scalar, (k1, n1, k2, n2) = as_float_arrays(k1, n1, k2, n2)
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    empty = (n1 == 0) | (n2 == 0)
    n1s, n2s = np.where(empty, 1, n1), np.where(empty, 1, n2)
    p1, p2 = k1 / n1s, k2 / n2s
    diff = p1 - p2
    z = z_value(conf)

    def bound(lo: np.ndarray, hi: np.ndarray, target: float) -> np.ndarray:
        # the statistic falls as delta rises; find where it crosses target between lo and hi
        for _ in range(50):
            mid = (lo + hi) / 2
            above = _score_statistic(p1, n1s, p2, n2s, mid) > target
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        return (lo + hi) / 2

    low = bound(np.full_like(diff, -1.0), diff.copy(), z)
    high = bound(diff.copy(), np.ones_like(diff), -z)
    low, high, diff = (np.where(empty, np.nan, x) for x in (low, high, diff))
    return DiffCI(unwrap(diff, scalar), unwrap(low, scalar), unwrap(high, scalar))


def two_proportion_ztest(k1: Any, n1: Any, k2: Any, n2: Any) -> ZTest:
    """Pooled two-proportion z-test of ``p1 = p2`` (two-sided), vectorised.

    When the pooled proportion is 0 or 1 both samples are identical (all failures or all
    successes): ``z = 0``, ``p = 1``. NaN where either ``n`` is 0.

    Examples
    --------
    >>> z, p = two_proportion_ztest(56, 70, 48, 80)
    >>> round(z, 3), round(p, 4)
    (2.65, 0.008)
    """
    scalar, (k1, n1, k2, n2) = as_float_arrays(k1, n1, k2, n2)
    _check_counts(k1, n1)
    _check_counts(k2, n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.where(se == 0, 0.0, (k1 / n1 - k2 / n2) / se)
    z = np.where((n1 == 0) | (n2 == 0), np.nan, z)
    p = 2 * stats.norm.sf(np.abs(z))
    return ZTest(unwrap(z, scalar), unwrap(p, scalar))


def chi2_independence(table: Any, *, seed: int = MONTE_CARLO_SEED,
                      n_resamples: int = MONTE_CARLO_RESAMPLES) -> Independence:
    """Test of independence on an r x c contingency table, choosing the test SPEC §5 asks for.

    * every expected count >= 5: Pearson chi-square (no continuity correction, so a 2 x 2
      table agrees with the pooled two-proportion z-test: X² = z²), ``test = "chi2"``;
    * some expected count < 5 and a 2 x 2 table: Fisher's exact test, ``test = "fisher"``
      (``statistic`` is then the sample odds ratio);
    * some expected count < 5 and a larger table: Monte-Carlo chi-square test on random tables
      with the observed margins, ``test = "monte_carlo_chi2"``, seeded so the p-value is
      reproducible;
    * a table with an empty row or column margin (e.g. no successes anywhere) holds no evidence
      of association: ``statistic = 0``, ``p = 1``, ``test = "none"``.

    ``cramers_v`` is sqrt(X² / (N (min(r, c) - 1))) from the Pearson statistic in every case.

    Examples
    --------
    >>> res = chi2_independence([[10, 10, 20], [20, 20, 20]])   # scipy's chi2_contingency docs
    >>> round(res.statistic, 4), res.df, round(res.p, 5), res.test
    (2.7778, 2, 0.24935, 'chi2')
    """
    table = np.asarray(table, dtype=float)
    if table.ndim != 2 or min(table.shape) < 2:
        raise ValueError("table must be two-dimensional with at least 2 rows and 2 columns")
    if np.any(table < 0):
        raise ValueError("table counts must be non-negative")
    df = (table.shape[0] - 1) * (table.shape[1] - 1)
    if np.any(table.sum(axis=0) == 0) or np.any(table.sum(axis=1) == 0):
        return Independence(0.0, df, 1.0, "none", 0.0, 0.0)
    pearson = stats.chi2_contingency(table, correction=False)
    chi2 = float(pearson.statistic)
    min_expected = float(pearson.expected_freq.min())
    v = float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))
    if min_expected >= 5:
        return Independence(chi2, df, float(pearson.pvalue), "chi2", v, min_expected)
    if table.shape == (2, 2):
        fisher = stats.fisher_exact(table)
        return Independence(float(fisher.statistic), df, float(fisher.pvalue), "fisher", v,
                            min_expected)
    method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
    mc = stats.chi2_contingency(table, correction=False, method=method)
    return Independence(chi2, df, float(mc.pvalue), "monte_carlo_chi2", v, min_expected)


def _pair_test(k1: float, n1: float, k2: float, n2: float) -> tuple[float, str, float]:
    """Pooled z-test, or Fisher's exact test where an expected count of the 2 x 2 table is < 5."""
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    if expected.min() < 5:
        fisher = stats.fisher_exact(table)
        return float(fisher.statistic), "fisher", float(fisher.pvalue)
    z, p = two_proportion_ztest(k1, n1, k2, n2)
    return z, "z", p


def compare_proportions(successes: Sequence[float], totals: Sequence[float], labels: Sequence[Any],
                        p_adjust: str = "holm", conf: float = 0.95) -> pd.DataFrame:
    """Compare k proportions: an omnibus test, then every pair with an adjusted p-value.

    Parameters
    ----------
    successes, totals : sequence of int
        Per-group counts, in the order of ``labels``.
    labels : sequence
        Group names; pairs are ``(a, b)`` with ``a`` before ``b`` in this order.
    p_adjust : {"holm", "bh", "none"}
        Adjustment of the pairwise p-values (see :func:`kpitools.stats.p_adjust`).
    conf : float
        Confidence level of the Newcombe intervals.

    Returns
    -------
    DataFrame
        One ``comparison = "omnibus"`` row, then one ``"pair"`` row per pair. Columns:

        ``group_a``, ``group_b``: the pair (None on the omnibus row); ``n_a``, ``n_b``: their
        totals (omnibus: total of the groups tested and NaN); ``estimate_a``, ``estimate_b``:
        their proportions (0..1); ``diff``, ``diff_low``, ``diff_high``: ``estimate_a -
        estimate_b`` with its Newcombe interval; ``test`` and ``statistic``: "chi2" (X²),
        "fisher" (odds ratio), "monte_carlo_chi2" (X²), "none" (nothing varies, see
        :func:`chi2_independence`) for the omnibus row, "z" (z) or "fisher" (odds ratio,
        used where an expected count of the pair's 2 x 2 table is < 5) for pairs; ``p``: raw
        two-sided p-value; ``p_adj``: adjusted over the pairs (the omnibus row is a single
        test: ``p_adj = p``); ``effect_size`` / ``effect_name``: Cramér's V for the omnibus
        row, Cohen's h (2 asin√p_a − 2 asin√p_b) for pairs. Groups with a zero total are
        left out of the omnibus test and their pairs hold NaN.

    Examples
    --------
    >>> res = compare_proportions([10, 10, 20], [30, 30, 40], ["email", "chat", "phone"])
    >>> res[["comparison", "group_a", "group_b", "test", "p"]].round(4)
      comparison group_a group_b  test       p
    0    omnibus    None    None  chi2  0.2494
    1       pair   email    chat     z  1.0000
    2       pair   email   phone     z  0.1632
    3       pair    chat   phone     z  0.1632
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    labels = list(labels)
    if not (len(k) == len(n) == len(labels)) or len(labels) < 2:
        raise ValueError("successes, totals and labels need the same length, at least 2")
    if len(set(labels)) != len(labels):
        raise ValueError("labels must be unique")
    _check_counts(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = k / n
    tested = n > 0
    if tested.sum() >= 2:
        omni = chi2_independence(np.column_stack([k[tested], n[tested] - k[tested]]))
    else:
        omni = Independence(np.nan, 0, np.nan, "none", np.nan, np.nan)
    rows = [{
        "comparison": "omnibus", "group_a": None, "group_b": None, "n_a": float(n[tested].sum()),
        "n_b": np.nan, "estimate_a": np.nan, "estimate_b": np.nan, "diff": np.nan,
        "diff_low": np.nan, "diff_high": np.nan, "statistic": omni.statistic, "test": omni.test,
        "p": omni.p, "p_adj": omni.p, "effect_size": omni.cramers_v, "effect_name": "cramers_v",
    }]
    pairs = list(combinations(range(len(labels)), 2))
    a_idx = np.array([i for i, _ in pairs])
    b_idx = np.array([j for _, j in pairs])
    diff = newcombe_diff_ci(k[a_idx], n[a_idx], k[b_idx], n[b_idx], conf)
    with np.errstate(invalid="ignore"):
        cohens_h = 2 * np.arcsin(np.sqrt(prop[a_idx])) - 2 * np.arcsin(np.sqrt(prop[b_idx]))
    pair_p = []
    for pos, (i, j) in enumerate(pairs):  # a handful of groups: a loop over pairs is fine
        statistic, test, p = ((np.nan, "none", np.nan) if n[i] == 0 or n[j] == 0
                              else _pair_test(k[i], n[i], k[j], n[j]))
        pair_p.append(p)
        rows.append({
            "comparison": "pair", "group_a": labels[i], "group_b": labels[j], "n_a": n[i],
            "n_b": n[j], "estimate_a": prop[i], "estimate_b": prop[j], "diff": diff.diff[pos],
            "diff_low": diff.low[pos], "diff_high": diff.high[pos], "statistic": statistic,
            "test": test, "p": p, "p_adj": np.nan, "effect_size": cohens_h[pos],
            "effect_name": "cohens_h",
        })
    out = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    out.loc[1:, "p_adj"] = _p_adjust(pair_p, p_adjust)
    return out
