"""Kaplan–Meier curve and median (R ``survfit`` conventions) and the k-sample log-rank test.

Inputs are right-censored durations: ``observed`` is True for an event (answered, resolved) and
False for a censored duration. ``weights`` are case counts, so aggregated
``(duration, observed, count)`` rows give exactly the answer of the expanded data.

The curve and quantile rules have one home each, written for many groups at once
(``_km_groups``, ``_km_quantile_groups``): :func:`km_quantiles` gives every group's quantiles in
one vectorised pass, and :func:`km_curve`, :func:`km_median` and :func:`km_quantile` are the same
code for a single group, so a group's numbers agree to the bit whichever way they are asked for.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._arrays import group_codes, z_value
from .adjust import p_adjust as _p_adjust

#: R's ``quantile.survfit`` tolerance: survival within this of 0.5 counts as equal to it.
QUANTILE_TOLERANCE = math.sqrt(np.finfo(float).eps)

KM_COLUMNS = ["time", "n_risk", "n_event", "n_censor", "survival", "ci_low", "ci_high"]


class KmMedian(NamedTuple):
    """A Kaplan–Meier median with its confidence limits; ``math.inf`` = not reached."""

    median: float
    low: float
    high: float


class LogRank(NamedTuple):
    """Result of :func:`logrank`."""

    chi2: float
    df: int
    p: float


class LogRankTwo(NamedTuple):
    """Result of :func:`logrank_two`: the test with its Peto hazard ratio (group a over b)."""

    chi2: float
    df: int
    p: float
    observed: float
    expected: float
    variance: float
    hr: float
    hr_low: float
    hr_high: float


def _prepare(durations: Any, observed: Any, weights: Any,
             groups: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validated float durations, bool events, weights (and groups), rows of weight 0 dropped."""
    t = np.asarray(durations, dtype=float).ravel()
    e = np.asarray(observed).ravel()
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float).ravel()
    g = None if groups is None else pd.Categorical(groups)  # keeps a Categorical's order
    if not (len(t) == len(e) == len(w)) or (g is not None and len(g) != len(t)):
        raise ValueError("durations, observed, weights and groups need the same length")
    if np.isnan(t).any():
        raise ValueError("durations must not contain NaN")
    if e.dtype != bool:
        if not np.isin(e, (0, 1)).all():
            raise ValueError("observed must be boolean (or 0/1)")
        e = e.astype(bool)
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError("weights must be non-negative counts")
    keep = w > 0
    return t[keep], e[keep], w[keep], None if g is None else g[keep]


def _counts_int(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Integer counts when every weight is whole, else the float sums."""
    return counts.astype(np.int64) if np.all(weights == np.round(weights)) else counts


def _first_of_runs(changed: np.ndarray) -> np.ndarray:
    """Flags of the rows that begin a run, from ``changed`` (row i + 1 differs from row i)."""
    return np.concatenate((np.ones(1, dtype=bool), changed))


def _segment_ends(starts: np.ndarray, size: int) -> np.ndarray:
    """One past the last position of each segment (segments begin at ``starts``, end at ``size``)."""
    return np.append(starts[1:], size)


def _accumulate(ufunc: np.ufunc, x: np.ndarray, starts: np.ndarray, reverse: bool = False) -> np.ndarray:
    """``ufunc.accumulate`` of ``x`` restarted at each of ``starts`` (run from each segment's end
    with ``reverse``): bit for bit what one call per segment gives.

    Segments of a power-of-two length class are stacked as the rows of one padded 2-D block and
    accumulated along the rows, so each value is still the previous one combined with the next
    element in the same order (no rounding differs), in one call per length class (at most 64),
    not per segment; the padding costs at most the size of ``x`` again.
    """
    if len(starts) <= 1:
        return np.ascontiguousarray(ufunc.accumulate(x[::-1])[::-1]) if reverse else ufunc.accumulate(x)
    lengths = np.diff(starts, append=len(x))
    length_class = np.frexp(np.maximum(lengths - 1, 0))[1]  # 1 → 0, 2 → 1, 3–4 → 2, 5–8 → 3, …
    out = np.empty_like(x)
    for c in np.unique(length_class[lengths > 0]):
        rows = np.flatnonzero((length_class == c) & (lengths > 0))
        step = np.arange(lengths[rows].max())
        inside = step < lengths[rows, None]
        at = (starts[rows, None] + lengths[rows, None] - 1 - step) if reverse else (starts[rows, None] + step)
        at = at[inside]
        block = np.zeros(inside.shape, dtype=x.dtype)  # padding after each segment's end: never read back
        block[inside] = x[at]
        out[at] = ufunc.accumulate(block, axis=1)[inside]
    return out


def _km_groups(t: np.ndarray, e: np.ndarray, w: np.ndarray, codes: np.ndarray, n_groups: int,
               conf: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The Kaplan–Meier curves of every group at once: the one home of the curve rule.

    ``t, e, w`` come from :func:`_prepare`; ``codes`` is each row's group, 0 … ``n_groups`` − 1.
    Returns the columns of :func:`km_curve` (counts as float sums) stacked group after group, and
    ``bounds``: group ``i`` has the curve rows ``bounds[i]:bounds[i + 1]`` (none: no rows). Rows
    already in (group, time) order, as the engine passes them, are not sorted again.
    """
    z = z_value(conf)
    if len(t) == 0:
        empty = np.zeros(0)
        return ({col: empty for col in KM_COLUMNS}, np.zeros(n_groups + 1, dtype=np.intp))
    same_group = codes[1:] == codes[:-1]
    if np.all(codes[1:] >= codes[:-1]) and np.all((t[1:] >= t[:-1]) | ~same_group):
        starts = np.flatnonzero(_first_of_runs((t[1:] != t[:-1]) | ~same_group))
        n_total = np.add.reduceat(w, starts)
        n_event = np.add.reduceat(w * e, starts)
    else:
        order = np.argsort(t, kind="stable") if n_groups == 1 else np.lexsort((t, codes))
        t, codes = t[order], codes[order]
        new = _first_of_runs((t[1:] != t[:-1]) | (codes[1:] != codes[:-1]))
        starts = np.flatnonzero(new)
        cell = np.empty(len(t), dtype=np.intp)
        cell[order] = np.cumsum(new) - 1  # each input row's (group, time) cell, summed in input order
        n_total = np.bincount(cell, weights=w, minlength=len(starts))
        n_event = np.bincount(cell, weights=w * e, minlength=len(starts))
    cell_group = codes[starts]
    bounds = np.searchsorted(cell_group, np.arange(n_groups + 1))
    first = np.flatnonzero(_first_of_runs(cell_group[1:] != cell_group[:-1]))  # each group's first cell
    n_risk = _accumulate(np.add, n_total, first, reverse=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = _accumulate(np.multiply, 1 - n_event / n_risk, first)
        greenwood = np.sqrt(_accumulate(np.add, n_event / (n_risk * (n_risk - n_event)), first))
        ci_low = survival * np.exp(-z * greenwood)
        ci_high = np.minimum(survival * np.exp(z * greenwood), 1.0)
    dead = survival == 0
    ci_low[dead] = np.nan
    ci_high[dead] = np.nan
    return ({"time": t[starts], "n_risk": n_risk, "n_event": n_event, "n_censor": n_total - n_event,
             "survival": survival, "ci_low": ci_low, "ci_high": ci_high}, bounds)


def _km_arrays(durations: Any, observed: Any, weights: Any, conf: float) -> dict[str, np.ndarray]:
    """The columns of :func:`km_curve` as numpy arrays."""
    t, e, w, _ = _prepare(durations, observed, weights)
    curve, _ = _km_groups(t, e, w, np.zeros(len(t), dtype=np.intp), 1, conf)
    for col in ("n_risk", "n_event", "n_censor"):
        curve[col] = _counts_int(curve[col], w)
    return curve


def km_curve(durations: Any, observed: Any, weights: Any = None, conf: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival curve with Greenwood log-transformed confidence bands.

    Parameters
    ----------
    durations : array_like
        Durations (event or censoring time), no NaN.
    observed : array_like of bool
        True for an event, False for a censored duration.
    weights : array_like, optional
        Case counts per row (default 1); rows of weight 0 are ignored.
    conf : float
        Confidence level of the bands.

    Returns
    -------
    DataFrame
        One row per distinct time, ascending: ``time``, ``n_risk`` (at risk just before
        ``time``; a duration censored at an event time is still at risk), ``n_event``,
        ``n_censor``, ``survival``, ``ci_low``, ``ci_high``. The bands are R ``survfit``'s
        default ``conf.type = "log"``: S·exp(±z·se) with se² = Σ d / (n (n − d)), the upper
        band clipped at 1; both are NaN where the survival is 0 (as R's NA).

    Examples
    --------
    >>> km_curve([1, 2, 2, 3], [True, True, False, True]).round(4)
       time  n_risk  n_event  n_censor  survival  ci_low  ci_high
    0   1.0       4        1         0     0.750  0.4259      1.0
    1   2.0       3        1         1     0.500  0.1877      1.0
    2   3.0       1        1         0     0.000     NaN      NaN
    """
    # copy=False keeps one block per column: consolidating 10⁶-row columns costs more than the fit
    return pd.DataFrame(_km_arrays(durations, observed, weights, conf), columns=KM_COLUMNS, copy=False)


def _segment_ids(starts: np.ndarray, size: int) -> np.ndarray:
    """The segment of each of ``size`` positions, segments beginning at ``starts`` (all non-empty)."""
    if len(starts) == 1:
        return np.zeros(size, dtype=np.intp)
    return np.repeat(np.arange(len(starts)), np.diff(starts, append=size))


def _last_distinct(y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per segment of ``y`` (beginning at ``starts``), the last value R's ``y[!duplicated(y)]``
    keeps, NaN counting as one value."""
    seg = _segment_ids(starts, len(y))
    out = y[_segment_ends(starts, len(y)) - 1]  # a curve that only rises: its final value (NaN tail included)
    finite = np.flatnonzero(~np.isnan(y))
    falls = (seg[finite][1:] == seg[finite][:-1]) & ~(np.diff(y[finite]) >= 0)
    jumbled = np.unique(seg[finite][1:][falls])
    if len(jumbled) == 0:
        return out
    # a non-monotone band: the value whose first occurrence comes last
    at = np.flatnonzero(np.isin(seg, jumbled))
    at = at[np.lexsort((at, y[at], seg[at]))]  # by segment, value (NaN last), position
    ys, ss = y[at], seg[at]
    same = (ss[1:] == ss[:-1]) & ((ys[1:] == ys[:-1]) | (np.isnan(ys[1:]) & np.isnan(ys[:-1])))
    firsts = at[_first_of_runs(~same)]
    latest = np.full(len(starts), -1)
    np.maximum.at(latest, seg[firsts], firsts)
    out[jumbled] = y[latest[jumbled]]
    return out


def _survfit_quantiles(x: np.ndarray, y: np.ndarray, starts: np.ndarray, p: float,
                       last: np.ndarray) -> np.ndarray:
    """R's ``survival:::findq`` on each segment of step curves; ``math.inf`` where R gives NA.

    Each segment (beginning at ``starts``) holds the origin (0, 0) and then the times ``x`` and
    the F = 1 − S values of one curve; ``y`` has a row of F values per kind of curve (the curve,
    its bands), ``last`` the matching rows of :func:`_last_distinct`. R keeps the first
    occurrence of each F value, drops NA, and takes, by value, the point with the smallest
    F ≥ p − tol and the one with the smallest F ≥ p + tol; the quantile is the midpoint of their
    times (so a flat stretch at p gives the midpoint with the next drop). If the last distinct F
    is p (within tol) the stretch runs to the last follow-up time. "By value" matters only for a
    band that is not monotone; the first occurrence of a value is its earliest time. Returns
    one row per row of ``y``, one column per segment.
    """
    tol = QUANTILE_TOLERANCE
    size = y.shape[1]
    seg = _segment_ids(starts, size)
    position = np.arange(size)
    top = np.fmax.reduceat(y, starts, axis=1)  # NaN only for a segment of NaN

    def time_of_smallest_at_least(values: np.ndarray) -> np.ndarray:
        ok = values >= p  # False for NaN
        smallest = np.minimum.reduceat(np.where(ok, values, np.inf), starts, axis=1)
        first = np.minimum.reduceat(np.where(ok & (values == smallest[:, seg]), position, size), starts, axis=1)
        return np.where(first < size, x[np.minimum(first, size - 1)], np.nan)

    start = time_of_smallest_at_least(y + tol)
    quantile = (start + time_of_smallest_at_least(y - tol)) / 2
    flat_to_the_end = ~np.isnan(last) & (np.abs(p - last) < tol)
    quantile = np.where(flat_to_the_end, (start + x[_segment_ends(starts, size) - 1]) / 2, quantile)
    return np.where(np.isnan(top) | (top < p) | np.isnan(quantile), np.inf, quantile)


def _survfit_quantile(times: np.ndarray, curve: np.ndarray, p: float = 0.5) -> float:
    """:func:`_survfit_quantiles` of one curve (``times`` ascending, survival ``curve``)."""
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], 1 - curve])
    starts = np.zeros(1, dtype=np.intp)
    return float(_survfit_quantiles(x, y[None, :], starts, p, _last_distinct(y, starts)[None, :])[0, 0])


def _km_quantile_groups(t: np.ndarray, e: np.ndarray, w: np.ndarray, codes: np.ndarray, n_groups: int,
                        qs: Any, conf: float) -> dict[float, KmMedian]:
    """Per quantile in ``qs``, the :func:`km_quantile` of every group as arrays (NaN: no rows).

    The one home of the quantile rule: :func:`km_quantile` is this for one group. Arguments as
    for :func:`_km_groups`.
    """
    for q in qs:
        if not 0 < q < 1:
            raise ValueError("q must be strictly between 0 and 1")
    curve, bounds = _km_groups(t, e, w, codes, n_groups, conf)
    present = np.flatnonzero(bounds[1:] > bounds[:-1])
    out = {q: KmMedian(*np.full((3, n_groups), np.nan)) for q in qs}
    if len(present) == 0:
        return out
    first = bounds[present]
    starts = first + np.arange(len(first))
    x = np.insert(curve["time"], first, 0.0)  # every curve starts at the origin (0, F = 0)
    y = np.insert(1 - np.stack([curve[col] for col in ("survival", "ci_low", "ci_high")]), first, 0.0, axis=1)
    last = np.stack([_last_distinct(row, starts) for row in y])  # the curve and its two bands
    for q in qs:  # a few quantiles of the same curves
        value, low, high = out[q]
        value[present], low[present], high[present] = _survfit_quantiles(x, y, starts, q, last)
        # S fell from above 1 − q straight to 0, where the band is undefined
        low[np.isfinite(value) & (low == np.inf)] = np.nan
    return out


def km_quantile(durations: Any, observed: Any, weights: Any = None, q: float = 0.5,
                conf: float = 0.95) -> KmMedian:
    """Kaplan–Meier quantile ``q`` (the time by which a share ``q`` had the event) with its
    Brookmeyer–Crowley interval: R ``quantile(survfit(Surv(t, e) ~ 1), probs = q)``.

    The rule of :func:`km_median` at ``q`` instead of 0.5 (``q = 0.9`` is the censoring-aware
    90th percentile); ``math.inf`` where the curve never falls to 1 − ``q`` (R's NA).

    Examples
    --------
    >>> km_quantile(list(range(1, 11)), [True] * 10, q=0.9)   # R: 9.5 (midpoint rule at S = 0.1)
    KmMedian(median=9.5, low=8.0, high=inf)
    """
    t, e, w, _ = _prepare(durations, observed, weights)
    value, low, high = _km_quantile_groups(t, e, w, np.zeros(len(t), dtype=np.intp), 1, (q,), conf)[q]
    # math.nan itself, so that equal results compare equal as tuples (R's NA twice)
    return KmMedian(*(math.nan if math.isnan(x) else float(x) for x in (value[0], low[0], high[0])))


def km_quantiles(durations: Any, observed: Any, groups: Any, weights: Any = None, q: Any = (0.5,),
                 conf: float = 0.95) -> pd.DataFrame:
    """:func:`km_quantile` of every group at once, for one or more quantiles ``q``.

    One vectorised pass over all rows (no loop over groups): thousands of channels cost about
    what one channel with as many rows costs, and each group's numbers are bit for bit those of
    :func:`km_quantile` on its rows alone.

    Parameters
    ----------
    durations, observed, weights, conf
        As for :func:`km_curve`.
    groups : array_like
        Group label of each row, no missing values. A Categorical keeps its category order and
        its categories without rows.
    q : float or sequence of float
        Quantiles, each strictly between 0 and 1 (0.5: the median).

    Returns
    -------
    DataFrame
        One row per group (sorted labels, or the category order), index named ``group``;
        columns ``(q, "median" | "low" | "high")`` as the fields of :class:`KmMedian`
        (``math.inf``: not reached). A group without rows has NaN.

    Examples
    --------
    >>> res = km_quantiles([1, 2, 3, 4, 5, 6, 7], [1] * 7, list("aaaabbb"), q=[0.5, 0.9])
    >>> res[0.5]
           median  low  high
    group
    a         2.5  1.0   inf
    b         6.0  5.0   inf
    >>> tuple(res.loc["a", 0.5]) == km_median([1, 2, 3, 4], [1] * 4)
    True
    """
    qs = [float(x) for x in np.atleast_1d(q)]
    t, e, w, g = _prepare(durations, observed, weights, groups)
    if np.any(g.codes < 0):
        raise ValueError("groups must not contain missing values")
    found = _km_quantile_groups(t, e, w, np.asarray(g.codes, dtype=np.intp), len(g.categories), qs, conf)
    columns = pd.MultiIndex.from_product([qs, list(KmMedian._fields)])
    values = np.column_stack([col for x in qs for col in found[x]]) if qs else np.zeros((len(g.categories), 0))
    return pd.DataFrame(values, index=pd.Index(g.categories, name="group"), columns=columns)


def km_median(durations: Any, observed: Any, weights: Any = None, conf: float = 0.95) -> KmMedian:
    """Kaplan–Meier median with its Brookmeyer–Crowley interval, exactly as R.

    The rule is R ``survival:::quantile.survfit``: the first time S(t) ≤ 0.5, except that
    where S(t) equals 0.5 (within sqrt(machine eps)) on a flat stretch the median is the
    midpoint between the time it reached 0.5 and the next event time (or the last follow-up
    time if the curve ends there); without censoring this is the ordinary median. The lower
    limit applies the same rule to the lower band of :func:`km_curve`, the upper limit to
    the upper band.

    Parameters
    ----------
    durations, observed, weights, conf
        As for :func:`km_curve`.

    Returns
    -------
    KmMedian
        ``(median, low, high)``; ``math.inf`` means *not reached* (R's NA). ``low`` is NaN
        (R: NA) in the one case where it is undetermined rather than unreached: the curve
        drops from above 0.5 straight to 0, where the band is undefined. All NaN when there
        are no rows.

    Examples
    --------
    >>> km_median([1, 2, 3, 4], [True, True, True, True])
    KmMedian(median=2.5, low=1.0, high=inf)
    """
    return km_quantile(durations, observed, weights, 0.5, conf)


def logrank(durations: Any, observed: Any, groups: Any, weights: Any = None) -> LogRank:
    """k-sample log-rank test (R ``survdiff`` with rho = 0), vectorised over times.

    Parameters
    ----------
    durations, observed, weights
        As for :func:`km_curve`.
    groups : array_like
        Group label of each row; at least 2 distinct labels.

    Returns
    -------
    LogRank
        ``chi2``, ``df`` (groups with a positive expected count, minus 1) and ``p``. As in
        R, groups with no expected events are left out; with fewer than 2 left (e.g. no
        events at all) there is nothing to test: ``chi2 = 0``, ``df = 0``, ``p = NaN``.
        Where R stops on a singular variance (every event at a time when everyone at risk
        has it), a generalised inverse is used and ``df`` is its rank.

    Examples
    --------
    >>> res = logrank([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], ["a", "a", "a", "b", "b", "b"])
    >>> round(res.chi2, 3), res.df, round(res.p, 4)
    (5.052, 1, 0.0246)
    """
    t, e, w, g_raw = _prepare(durations, observed, weights, groups)
    labels, g = group_codes(g_raw)
    k = len(labels)
    if k < 2:
        raise ValueError("logrank needs at least 2 groups")
    times, inverse = np.unique(t, return_inverse=True)
    cell = inverse * k + g
    total = np.bincount(cell, weights=w, minlength=len(times) * k).reshape(-1, k)
    events = np.bincount(cell, weights=w * e, minlength=len(times) * k).reshape(-1, k)
    at_risk = np.cumsum(total[::-1], axis=0)[::-1]
    d = events.sum(axis=1)
    n = at_risk.sum(axis=1)
    use = d > 0
    at_risk, events, d, n = at_risk[use], events[use], d[use], n[use]
    share = at_risk / n[:, None]
    expected = (share * d[:, None]).sum(axis=0)
    # hypergeometric variance factor; 0 where a single subject is at risk (n = d = 1)
    factor = np.divide(d * (n - d), n - 1, out=np.zeros_like(d), where=n > 1)
    var = np.diag((factor[:, None] * share).sum(axis=0)) - (factor[:, None] * share).T @ share
    tested = np.flatnonzero(expected > 0)
    diff = (events.sum(axis=0) - expected)[tested][1:]
    v = var[np.ix_(tested, tested)][1:, 1:]
    # v is singular only through times where everyone at risk has the event, which add
    # nothing to observed − expected either; a generalised inverse then tests what is left
    df = int(np.linalg.matrix_rank(v)) if len(tested) >= 2 else 0
    if df == 0:
        return LogRank(0.0, 0, math.nan)
    chi2 = float(diff @ np.linalg.pinv(v) @ diff)
    return LogRank(chi2, df, float(stats.chi2.sf(chi2, df)))


def pairwise_logrank(durations: Any, observed: Any, groups: Any, weights: Any = None,
                     p_adjust: str = "holm") -> pd.DataFrame:
    """Log-rank test for every pair of groups, with adjusted p-values.

    Pairs ``(a, b)`` follow the group order (sorted labels, or category order for a
    Categorical). Columns: ``group_a``, ``group_b``, ``chi2``, ``df``, ``p``, ``p_adj``.

    Examples
    --------
    >>> res = pairwise_logrank([1, 2, 3, 4, 5, 6, 7, 8, 9], [1] * 9, list("aaabbbccc"))
    >>> res[["group_a", "group_b", "p"]].round(4)
      group_a group_b       p
    0       a       b  0.0246
    1       a       c  0.0246
    2       b       c  0.0246
    """
    t, e, w, g_raw = _prepare(durations, observed, weights, groups)
    labels, g = group_codes(g_raw)
    rows = []
    for a, b in combinations(range(len(labels)), 2):  # a handful of groups
        pair = (g == a) | (g == b)
        res = logrank(t[pair], e[pair], g[pair], w[pair])
        rows.append({"group_a": labels[a], "group_b": labels[b], "chi2": res.chi2,
                     "df": res.df, "p": res.p})
    out = pd.DataFrame(rows, columns=["group_a", "group_b", "chi2", "df", "p"])
    out["p_adj"] = _p_adjust(out["p"].to_numpy(), p_adjust)
    return out


def logrank_two(durations: Any, observed: Any, in_a: Any, weights: Any = None, strata: Any = None,
                conf: float = 0.95) -> LogRankTwo:
    """Two-group log-rank test, optionally stratified, with the Peto hazard ratio of group a.

    Reproduces R ``survdiff(Surv(t, e) ~ g)`` for two groups and, with ``strata``,
    ``survdiff(Surv(t, e) ~ g + strata(s))``: in each stratum, at each event time with d events
    among n at risk (n_a in group a), O − E adds d_a − d·n_a/n and V adds
    d (n − d) n_a n_b / (n² (n − 1)); the sums run over the strata, χ² = (O − E)² / V on 1 df.
    The Peto hazard ratio of a over b is exp((O − E)/V) with the interval
    exp((O − E)/V ± z/√V): it excludes 1 exactly when the log-rank p is below 1 − ``conf``
    (the same z), so the interval and the test cannot disagree.

    Parameters
    ----------
    durations, observed, weights
        As for :func:`km_curve`.
    in_a : array_like of bool
        True for a row of group a, False for group b.
    strata : array_like, optional
        Stratum label of each row (e.g. the channel): the groups are compared within strata.
    conf : float
        Confidence level of the hazard-ratio interval.

    Returns
    -------
    LogRankTwo
        ``chi2``, ``df`` (1, or 0 with no information: then ``p`` and the ratio are NaN),
        ``p``, ``observed`` and ``expected`` events of group a, ``variance`` V, ``hr``,
        ``hr_low``, ``hr_high``. A hazard ratio below 1 means group a has the event later
        (longer times).

    Examples
    --------
    >>> res = logrank_two([1, 2, 3, 4, 5, 6], [1] * 6, [True] * 3 + [False] * 3)
    >>> round(res.chi2, 3), round(res.p, 4), round(res.observed - res.expected, 3)
    (5.052, 0.0246, 1.85)
    """
    t, e, w, _ = _prepare(durations, observed, weights)
    keep = (np.ones(len(np.asarray(durations).ravel()), dtype=bool) if weights is None
            else np.asarray(weights, dtype=float).ravel() > 0)
    a = np.asarray(in_a, dtype=bool).ravel()
    if len(a) != len(keep):
        raise ValueError("in_a needs one flag per row")
    a = a[keep]
    if strata is None:
        s_codes = np.zeros(len(t), dtype=np.intp)
    else:
        labels = np.asarray(strata, dtype=object).ravel()
        if len(labels) != len(keep):
            raise ValueError("strata need one label per row")
        _, s_codes = group_codes(pd.Series(labels[keep]).astype(str).to_numpy())
    # cells: (stratum, time), sorted; at-risk counts are reverse cumulative sums within a stratum
    key_order = np.lexsort((t, s_codes))
    t, e, w, a, s_codes = t[key_order], e[key_order], w[key_order], a[key_order], s_codes[key_order]
    new = np.r_[True, (t[1:] != t[:-1]) | (s_codes[1:] != s_codes[:-1])] if len(t) else np.zeros(0, bool)
    cell = np.cumsum(new) - 1
    n_cells = int(cell[-1]) + 1 if len(t) else 0
    cell_s = s_codes[new]
    tot_a = np.bincount(cell, weights=w * a, minlength=n_cells)
    tot = np.bincount(cell, weights=w, minlength=n_cells)
    ev_a = np.bincount(cell, weights=w * e * a, minlength=n_cells)
    ev = np.bincount(cell, weights=w * e, minlength=n_cells)

    def within(x: np.ndarray) -> np.ndarray:  # reverse cumulative sum restarted in each stratum
        rc = np.cumsum(x[::-1])[::-1]
        last = np.r_[np.flatnonzero(cell_s[1:] != cell_s[:-1]) + 1, n_cells]  # next stratum's first cell
        stratum_end = np.repeat(last, np.diff(np.r_[0, last]))
        return rc - np.r_[rc, 0.0][stratum_end]

    n_a, n = within(tot_a), within(tot)
    use = ev > 0
    n_a, n, d, d_a = n_a[use], n[use], ev[use], ev_a[use]
    o_minus_e = float(np.sum(d_a - d * n_a / n))
    factor = np.divide(d * (n - d), n - 1, out=np.zeros_like(d), where=n > 1)
    v = float(np.sum(factor * (n_a / n) * (1 - n_a / n)))
    observed_a, expected_a = float(d_a.sum()), float(d_a.sum()) - o_minus_e
    if not v > 0:
        return LogRankTwo(0.0, 0, math.nan, observed_a, expected_a, v, math.nan, math.nan, math.nan)
    chi2 = o_minus_e ** 2 / v
    z = z_value(conf)
    log_hr = o_minus_e / v
    half = z / math.sqrt(v)
    return LogRankTwo(chi2, 1, float(stats.chi2.sf(chi2, 1)), observed_a, expected_a, v, math.exp(log_hr),
                      math.exp(log_hr - half), math.exp(log_hr + half))


def km_mixture_quantile(durations: Any, observed: Any, strata: Any, mix: dict[Any, float],
                        weights: Any = None, q: float = 0.5) -> float:
    """Quantile of a standardised survival curve: Σ_c m_c · S_c(t), the strata's Kaplan–Meier
    curves mixed in the shares ``mix`` (direct standardisation).

    The median first-response time at another period's channel mix is this with the channels'
    curves of the period and ``mix`` = the other period's share of tickets per channel. The
    quantile rule is R's (see :func:`km_median`); ``math.inf`` when the mixed curve does not
    fall to 1 − ``q``; strata absent from ``mix`` get weight 0, and the shares are rescaled
    to sum to 1 over the strata present.

    Examples
    --------
    >>> km_mixture_quantile([1, 2, 3, 10, 20, 30], [1] * 6, list("aaabbb"), {"a": 0.5, "b": 0.5})
    6.5
    >>> km_mixture_quantile([1, 2, 3, 10, 20, 30], [1] * 6, list("aaabbb"), {"a": 0.9, "b": 0.1})
    2.0
    """
    t, e, w, _ = _prepare(durations, observed, weights)
    labels = np.asarray(strata, dtype=object).ravel()
    if weights is not None:
        labels = labels[np.asarray(weights, dtype=float).ravel() > 0]
    present = [c for c in dict.fromkeys(labels) if mix.get(c, 0) > 0]
    total = sum(mix[c] for c in present)
    if not present or total <= 0:
        return math.nan
    times = np.unique(t[e])
    if len(times) == 0:
        return math.inf
    mixed = np.zeros(len(times))
    for c in present:  # a handful of strata
        rows = labels == c
        curve = _km_arrays(t[rows], e[rows], w[rows], 0.95)
        at = np.searchsorted(curve["time"], times, side="right") - 1  # the step in force at each time
        mixed += mix[c] / total * np.where(at >= 0, curve["survival"][np.maximum(at, 0)], 1.0)
    return _survfit_quantile(times, mixed, q)
