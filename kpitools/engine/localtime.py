"""Local time as Ibis expressions on integer instants: microseconds, local days and months.

Instants are stored as int64 nanoseconds since the epoch. The dataset timezone's UTC offsets
over the span of the data come from pandas (:func:`~kpitools.timeparse.utc_offsets`), so the
engine buckets exactly as the loader parses; in a query an offset, and a month, is a step
function of the instant (a few comparisons), and a local day a floor division of the local
wall time. Nothing here depends on a backend's date functions or time zone database.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..timeparse import utc_offsets
from ..rules import steps  # the loader's step function: local time as the loader parses it
from .arith import floor_div

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


def wall(month: int) -> pd.Timestamp:
    """The naive local midnight starting month number ``month`` (months since 1970-01)."""
    return pd.Timestamp(np.datetime64(int(month), "M").astype("datetime64[ns]"))


class LocalTime:
    """The wall clock of timezone ``tz`` between the instants ``lo`` and ``hi`` (ns).

    Examples
    --------
    >>> import ibis
    >>> lt = LocalTime("Europe/Berlin", 0, 2_000_000_000 * 10**9)
    >>> t = ibis.memtable({"ns": [pd.Timestamp("2026-10-31 23:30", tz="UTC").value]})
    >>> us = lt.us(t.ns)
    >>> out = ibis.duckdb.connect().execute(t.select(d=lt.day(us, t.ns), m=lt.mon(us, t.ns)))
    >>> str(np.datetime64(int(out.d[0]), "D")), str(np.datetime64(int(out.m[0]), "M"))  # 00:30 local
    ('2026-11-01', '2026-11')
    """

    def __init__(self, tz: str, lo: int, hi: int):
        self.tz = tz
        self.lo, self.hi = int(lo), int(hi)
        self.bounds, self.offsets = utc_offsets(tz, self.lo, self.hi)

    @cached_property
    def month_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """The instants (ns) at which the local month changes over the span, and the month
        number in force before the first and from each on: a month is then a step lookup on the
        instant (cheaper than deriving it from the local date). An offset change moving the wall
        clock across a month start (back or forth) is a step like any other."""
        bounds, offsets = self.bounds, self.offsets
        lo, hi = self.lo, self.hi
        starts = np.r_[min([lo, *bounds[:1].tolist()]), bounds]
        ends = np.r_[bounds, max([hi, *bounds[-1:].tolist()]) + 1]
        points, months = [], []
        for start, end, offset in zip(starts.tolist(), ends.tolist(), offsets.tolist()):
            month = int(np.datetime64(start + offset, "ns").astype("datetime64[M]").view("i8"))
            points.append(start)
            months.append(month)
            while (at := int(np.datetime64(month + 1, "M").astype("datetime64[ns]").view("i8"))) < end + offset:
                month += 1
                points.append(at - offset)
                months.append(month)
        keep = np.r_[True, np.diff(months) != 0]
        return np.asarray(points, np.int64)[keep][1:], np.asarray(months, np.int64)[keep]

    @staticmethod
    def us(ns: Any) -> Any:
        """Microseconds of the instant ``ns`` (floored)."""
        return floor_div(ns, 1000)

    @staticmethod
    def _within(points: np.ndarray, values: np.ndarray, span: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
        """The steps that matter for instants in ``span`` (ns, inclusive; None = all): a smaller
        expression to build and compile, the same value for every instant in the span."""
        if span is None:
            return points, values
        a, b = np.searchsorted(points, span[0], side="right"), np.searchsorted(points, span[1], side="right")
        return points[a:b], values[a:b + 1]

    def local_us(self, us: Any, ns: Any = None, span: tuple[int, int] | None = None) -> Any:
        """Local wall time (µs since the epoch) of the instant ``us`` (µs), or of ``ns`` (its
        nanoseconds, which the offset lookup then compares: one evaluation of ``us``); ``span``
        bounds the instants (ns) the expression will meet."""
        bounds, offsets_us = self._within(self.bounds, self.offsets // 1000, span)
        if not len(bounds):
            return us + int(offsets_us[0])
        if ns is None:  # instants are whole µs: t < bound exactly when t_us < ceil(bound / 1000)
            ns, bounds = us, -(-bounds // 1000)
        return us + steps(ns, bounds, offsets_us)

    def day(self, us: Any, ns: Any = None, span: tuple[int, int] | None = None) -> Any:
        """The local date of an instant as days since 1970-01-01."""
        return floor_div(self.local_us(us, ns, span), DAY_US)

    def mon(self, us: Any, ns: Any = None, span: tuple[int, int] | None = None) -> Any:
        """The local month of an instant as months since 1970-01."""
        points, months = self._within(*self.month_steps, span)
        if ns is None:
            ns, points = us, -(-points // 1000)
        return steps(ns, points, months)

    def in_range(self, ns: Any, lo: pd.Timestamp, hi: pd.Timestamp | None) -> Any:
        """The local wall time of the instant ``ns`` is in ``[lo, hi)`` (naive bounds).

        Where each bound is an unambiguous wall time this is a plain range of instants (cheap, and
        it lets the backend skip row groups); a bound in an autumn's repeated hour falls back to
        comparing computed wall times.
        """
        try:
            bounds = [None if b is None else b.tz_localize(self.tz, ambiguous="raise", nonexistent="shift_forward")
                      for b in (lo, hi)]
        except Exception:  # pytz/pandas raise AmbiguousTimeError: compare wall times instead
            local = self.local_us(self.us(ns))
            cond = local >= lo.value // 1000
            return cond if hi is None else cond & (local < hi.value // 1000)
        cond = ns >= bounds[0].value
        return cond if hi is None else cond & (ns < bounds[1].value)

    def in_months(self, ns: Any, months: list[int]) -> Any:
        """The instant ``ns`` falls in one of the local ``months`` (runs of months: one range each)."""
        months = sorted(set(months))
        runs = np.split(np.asarray(months), np.flatnonzero(np.diff(months) > 1) + 1)
        cond = None
        for r in runs:
            part = self.in_range(ns, wall(r[0]), wall(r[-1] + 1))
            cond = part if cond is None else cond | part
        return cond

    def weekday_hour(self, us: Any, span: tuple[int, int] | None = None) -> tuple[Any, Any]:
        """The local weekday (0 = Monday) and hour (0–23) of the instant ``us`` (µs)."""
        local = self.local_us(us, None, span)
        day = floor_div(local, DAY_US)
        shifted = day + 3  # 1970-01-01 was a Thursday
        return shifted - floor_div(shifted, 7) * 7, floor_div(local - day * DAY_US, HOUR_US)
