"""Time KPIs from compressed durations: Kaplan–Meier medians, means and p90 (SPEC §3, A8).

Ibis reduces tickets to counts per ``(mon, g, dur_us, ev)`` (distinct duration in microseconds,
event or censored); numpy does the rest on those few rows, so the medians are exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..stats import km_median
from ..stats.survival import km_quantile
from .context import HOUR_US
from .tidy import ALL

SUMMARY = ["km_n", "median", "low", "high", "ev_n", "mean", "p90", "km_p90", "km_p90_low", "km_p90_high"]


def counts(t: Any, dur: Any, ev: Any, execute: Any, by_duration: bool = True) -> pd.DataFrame:
    """``mon, g, dur, ev, n``: tickets of ``t`` per distinct duration and event flag, ordered by
    ``mon, g`` (so numpy can slice the groups without a pandas group-by) and, with
    ``by_duration``, then by ``dur, ev``; ``g`` is the segment code, -1 for a missing segment
    value."""
    rel = t.select(mon=t.created_mon, g=t.g.fill_null(-1), dur=dur, ev=ev)
    agg = rel.group_by(["mon", "g", "dur", "ev"]).aggregate(n=rel.count())
    return execute(agg.order_by(["mon", "g", "dur", "ev"] if by_duration else ["mon", "g"]))


def quantile7(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile (R type 7, numpy's "linear") of sorted ``values`` repeated ``weights`` times.

    Examples
    --------
    >>> quantile7(np.array([1.0, 2.0, 10.0]), np.array([2, 1, 1]), 0.9)
    7.6
    """
    n = int(weights.sum())
    if n == 0:
        return math.nan
    position = (n - 1) * q
    lo = math.floor(position)
    frac = position - lo
    ends = np.cumsum(weights)
    a, b = values[np.searchsorted(ends, [lo + 1, min(lo + 2, n)])]
    # numpy's lerp: from the nearer end, so that frac = 1 gives b exactly
    return float(b - (b - a) * (1 - frac)) if frac >= 0.5 else float(a + (b - a) * frac)


def exact_mean_hours(dur_us: np.ndarray, weights: np.ndarray) -> float:
    """The weighted mean of integer microsecond durations in hours, correctly rounded.

    The sum is taken in integers (split in high and low bits so int64 cannot overflow) and
    divided once, so the result does not depend on the order of the rows.

    Examples
    --------
    >>> exact_mean_hours(np.array([3_600_000_000, 7_200_000_000]), np.array([3, 1]))
    1.25
    """
    n = int(weights.sum())
    if n == 0:
        return math.nan
    high, low = np.divmod(dur_us, 1 << 20)
    total = int((high * weights).sum()) * (1 << 20) + int((low * weights).sum())
    return total / (n * HOUR_US)


def _stats(dur: np.ndarray, ev: np.ndarray, w: np.ndarray) -> list[float]:
    """``SUMMARY`` of one group's rows (durations in µs, any order)."""
    order = np.argsort(dur)  # one sort: the KM curve and the p90 both read durations in order
    dur, ev, w = dur[order], ev[order], w[order]
    hours = dur / HOUR_US
    med = km_median(hours, ev, w)
    p90 = km_quantile(hours, ev, w, 0.9)
    ew = w[ev]
    return [int(w.sum()), med.median, med.low, med.high, int(ew.sum()), exact_mean_hours(dur[ev], ew),
            quantile7(hours[ev], ew, 0.9), p90.median, p90.low, p90.high]


def summarise(frame: pd.DataFrame, index: pd.MultiIndex,
              labels: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """KM median (with CI), mean and p90 of answered/resolved durations, and the censoring-aware
    KM 90th percentile (with CI; R ``quantile(survfit(...), 0.9)``), per ``(mon, g)`` of ``index``.

    ``frame`` is the output of :func:`counts` (ordered by ``mon, g``); ``labels`` turns its
    segment codes into the segment values of ``index``; durations are microseconds, results
    hours. ``km_n`` counts every ticket of the curve, ``ev_n`` the events. ``all`` pools every
    row of the month, tickets without a segment value included.
    """
    found: dict[tuple[int, str], list[float]] = {}
    if not frame.empty:
        mon = frame["mon"].to_numpy(np.int64)
        g = frame["g"].to_numpy(np.int64)
        dur = frame["dur"].to_numpy(np.int64)
        ev = frame["ev"].to_numpy(bool)
        w = frame["n"].to_numpy(np.int64)
        new_mon = np.r_[True, mon[1:] != mon[:-1]]
        bounds = np.flatnonzero(new_mon | np.r_[True, g[1:] != g[:-1]])
        ends = np.r_[bounds[1:], len(frame)]
        wanted = set(index)
        for a, b, name in zip(bounds, ends, labels(g[bounds])):
            if (mon[a], name) in wanted:
                found[(mon[a], name)] = _stats(dur[a:b], ev[a:b], w[a:b])
        mon_starts = np.flatnonzero(new_mon)
        for a, b in zip(mon_starts, np.r_[mon_starts[1:], len(frame)]):
            if (mon[a], ALL) in wanted:
                found[(mon[a], ALL)] = _stats(dur[a:b], ev[a:b], w[a:b])
    out = pd.DataFrame(np.nan, index=index, columns=SUMMARY)
    out[["km_n", "ev_n"]] = 0.0
    if found:
        keys = pd.MultiIndex.from_tuples(list(found), names=index.names)
        out.loc[keys, SUMMARY] = np.array(list(found.values()), dtype=float)
    return out
