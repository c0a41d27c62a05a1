"""Time KPIs from compressed durations: Kaplan–Meier medians, means and p90 (SPEC §3, A8).

Ibis reduces tickets to counts per ``(mon, g, dur_us, ev)`` (distinct duration in microseconds,
event or censored); numpy does the rest on those few rows, so the medians are exact. Every
``(mon, g)`` of a table is summarised in one vectorised pass (no loop over segments), so
thousands of channels cost about what one channel with as many rows costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..stats.survival import km_quantiles
from .context import HOUR_US
from .tidy import ALL

SUMMARY = ["km_n", "median", "low", "high", "ev_n", "mean", "p90", "km_p90", "km_p90_low", "km_p90_high"]


def counts_many(t: Any, parts: dict[str, tuple[Any, Any]], backend: Any,
                by_duration: bool = True) -> dict[str, pd.DataFrame]:
    """``mon, g, dur, ev, n`` of each ``(dur, ev)`` pair of ``parts`` over ``t``: tickets per
    distinct duration and event flag, ordered by ``mon, g`` (so numpy can slice the groups
    without a pandas group-by) and, with ``by_duration``, then by ``dur, ev``; ``g`` is the
    segment code, -1 for a missing segment value. Run by ``backend``'s
    :meth:`~.backend.Backend.execute_parts`: name -> frame."""
    aggs = {}
    for name, (dur, ev) in parts.items():
        rel = t.select(mon=t.created_mon, g=t.g.fill_null(-1), dur=dur, ev=ev)
        aggs[name] = rel.group_by(["mon", "g", "dur", "ev"]).aggregate(n=rel.count())
    return backend.execute_parts(aggs, ["mon", "g", "dur", "ev"] if by_duration else ["mon", "g"])


def _totals(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Exact integer sums of ``values`` over the segments ``bounds[i]:bounds[i + 1]``."""
    return np.concatenate(([0], np.cumsum(values)))[bounds]


def quantile7_groups(values: np.ndarray, weights: np.ndarray, bounds: np.ndarray, q: float) -> np.ndarray:
    """:func:`quantile7` of each segment ``bounds[i]:bounds[i + 1]`` of ``values`` (sorted within
    each segment), all at once; NaN for a segment without weight.

    Examples
    --------
    >>> quantile7_groups(np.array([1.0, 2.0, 10.0, 5.0]), np.array([2, 1, 1, 3]), np.array([0, 3, 3, 4]), 0.9)
    array([7.6, nan, 5. ])
    """
    ends = np.cumsum(weights)
    before = _totals(weights, bounds)
    n, before = np.diff(before), before[:-1]
    position = (n - 1) * q
    lo = np.floor(position)
    frac = position - lo
    lo = lo.astype(np.int64)
    # the (lo + 1)-th and (lo + 2)-th value (capped at the n-th) in each segment's expanded order
    at = np.searchsorted(ends, np.stack([before + lo + 1, before + np.minimum(lo + 2, n)]))
    a, b = values[np.clip(at, 0, max(len(values) - 1, 0))] if len(values) else np.full((2, len(n)), np.nan)
    # numpy's lerp: from the nearer end, so that frac = 1 gives b exactly
    out = np.where(frac >= 0.5, b - (b - a) * (1 - frac), a + (b - a) * frac)
    return np.where(n > 0, out, np.nan)


def quantile7(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile (R type 7, numpy's "linear") of sorted ``values`` repeated ``weights`` times.

    Examples
    --------
    >>> quantile7(np.array([1.0, 2.0, 10.0]), np.array([2, 1, 1]), 0.9)
    7.6
    """
    return float(quantile7_groups(np.asarray(values), np.asarray(weights), np.array([0, len(values)]), q)[0])


def exact_mean_hours_groups(dur_us: np.ndarray, weights: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """:func:`exact_mean_hours` of each segment ``bounds[i]:bounds[i + 1]``, all at once.

    Examples
    --------
    >>> hours = 3_600_000_000
    >>> exact_mean_hours_groups(np.array([hours, 2 * hours, 3 * hours]), np.array([3, 1, 1]), np.array([0, 2, 2, 3]))
    array([1.25, nan, 3.  ])
    """
    high, low = np.divmod(dur_us, 1 << 20)
    n = np.diff(_totals(weights, bounds))
    # the sums in Python integers (int64 cannot hold Σ µs·n at 10⁷ tickets), divided once: correctly rounded
    total = (np.diff(_totals(high * weights, bounds)).astype(object) * (1 << 20)
             + np.diff(_totals(low * weights, bounds)).astype(object))
    out = np.full(len(n), np.nan)
    some = n > 0
    out[some] = (total[some] / (n[some].astype(object) * HOUR_US)).astype(float)
    return out


def exact_mean_hours(dur_us: np.ndarray, weights: np.ndarray) -> float:
    """The weighted mean of integer microsecond durations in hours, correctly rounded.

    The sum is taken in integers (split in high and low bits so int64 cannot overflow) and
    divided once, so the result does not depend on the order of the rows.

    Examples
    --------
    >>> exact_mean_hours(np.array([3_600_000_000, 7_200_000_000]), np.array([3, 1]))
    1.25
    """
    return float(exact_mean_hours_groups(np.asarray(dur_us), np.asarray(weights), np.array([0, len(dur_us)]))[0])


def _spans(frame: pd.DataFrame, index: pd.MultiIndex,
           labels: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``frame`` behind each row of ``index``: ``(rows, slot)``, ``frame`` row
    ``rows[i]`` feeding ``index`` row ``slot[i]``.

    A ``(mon, g)`` run of ``frame`` feeds its ``(mon, label)``, every row of a month feeds
    ``(mon, all)``; rows of ``index`` nobody feeds are left out. Should two runs have the same
    label, the later one counts (so a segment named ``all`` gives way to the month's pool).
    """
    mon = frame["mon"].to_numpy(np.int64)
    g = frame["g"].to_numpy(np.int64)
    new_mon = np.r_[True, mon[1:] != mon[:-1]]
    runs = np.flatnonzero(new_mon | np.r_[True, g[1:] != g[:-1]])
    months = np.flatnonzero(new_mon)
    first = np.r_[runs, months]
    last = np.r_[runs[1:], len(frame), months[1:], len(frame)]
    keys = pd.MultiIndex.from_arrays([np.r_[mon[runs], mon[months]],
                                      np.r_[labels(g[runs]), np.full(len(months), ALL, dtype=object)]])
    slot = index.get_indexer(keys)
    later = len(slot) - 1 - np.unique(slot[::-1], return_index=True)[1]  # the last writer of each slot
    keep = later[slot[later] >= 0]
    size = last[keep] - first[keep]
    rows = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size - first[keep], size)
    return rows, np.repeat(slot[keep], size)


def _summarise_into(out: np.ndarray, frame: pd.DataFrame, index: pd.MultiIndex,
                    labels: Callable[[np.ndarray], np.ndarray]) -> None:
    """:func:`summarise` of the rows of ``frame`` into the rows of ``out`` they feed."""
    rows, slot = _spans(frame, index, labels)
    if not len(rows):  # a month outside index
        return
    dur = frame["dur"].to_numpy(np.int64)[rows]
    order = np.lexsort((dur, slot))  # one sort: the KM curves and the p90s read durations in order
    slot, dur = slot[order], dur[order]
    ev = frame["ev"].to_numpy(bool)[rows][order]
    w = frame["n"].to_numpy(np.int64)[rows][order]
    hours = dur / HOUR_US
    fed = np.unique(slot)
    km = km_quantiles(hours, ev, pd.Categorical.from_codes(slot, categories=np.arange(len(index))), w,
                      q=[0.5, 0.9])
    every = np.arange(len(index) + 1)
    bounds = np.searchsorted(slot[ev], every)  # each slot's events
    columns = {
        "km_n": np.diff(_totals(w, np.searchsorted(slot, every))),
        "median": km[(0.5, "median")], "low": km[(0.5, "low")], "high": km[(0.5, "high")],
        "ev_n": np.diff(_totals(w[ev], bounds)),
        "mean": exact_mean_hours_groups(dur[ev], w[ev], bounds),
        "p90": quantile7_groups(hours[ev], w[ev], bounds, 0.9),
        "km_p90": km[(0.9, "median")], "km_p90_low": km[(0.9, "low")], "km_p90_high": km[(0.9, "high")],
    }
    out[fed] = np.column_stack([np.asarray(columns[c], dtype=float)[fed] for c in SUMMARY])


def summarise(frame: pd.DataFrame, index: pd.MultiIndex,
              labels: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """KM median (with CI), mean and p90 of answered/resolved durations, and the censoring-aware
    KM 90th percentile (with CI; R ``quantile(survfit(...), 0.9)``), per ``(mon, g)`` of ``index``.

    ``frame`` is an output of :func:`counts_many` (ordered by ``mon, g``); ``labels`` turns its
    segment codes into the segment values of ``index``; durations are microseconds, results
    hours. ``km_n`` counts every ticket of the curve, ``ev_n`` the events. ``all`` pools every
    row of the month, tickets without a segment value included. Each row's numbers are those of
    :func:`~kpitools.stats.survival.km_quantile`, :func:`exact_mean_hours` and :func:`quantile7`
    on its tickets alone, computed for all rows of a month in one pass.
    """
    out = np.full((len(index), len(SUMMARY)), np.nan)
    out[:, [SUMMARY.index("km_n"), SUMMARY.index("ev_n")]] = 0.0
    # a month at a time (the frame is ordered by month and no slot spans two): the pass's arrays
    # then hold one month's rows, not the trend's (at 10M tickets over 13 months, 0.9 GB each)
    mon = frame["mon"].to_numpy(np.int64)
    starts = np.flatnonzero(np.r_[True, mon[1:] != mon[:-1]]) if len(mon) else np.array([], dtype=np.int64)
    for lo, hi in zip(starts, np.r_[starts[1:], len(mon)]):
        _summarise_into(out, frame.iloc[lo:hi], index, labels)
    return pd.DataFrame(out, index=index, columns=SUMMARY)
