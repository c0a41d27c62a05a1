"""The business-hours clock: open time between instants under a weekly schedule (SPEC §3, A8).

A :class:`BusinessClock` lays the schedule of a :class:`~kpitools.config.BusinessHours` out as
absolute (UTC) open intervals over a range of local dates, then maps any instant to the business
seconds elapsed since the clock's origin with one ``np.searchsorted``. A business duration is the
difference of two such readings, so durations are additive and never exceed calendar time.

Rules (SPEC A2, A8):

- intervals are ``[start, end)`` in local wall time; an instant exactly at opening is inside,
  exactly at closing outside;
- a holiday (``holidays`` package, ``country``/``subdivision``) or a ``closed_dates`` entry
  closes the intervals that *start* on that local date; a night interval that began the day
  before stays open;
- a wall time is turned into an instant as SPEC A2 reads naive timestamps: a time in the
  spring-forward gap takes the offset in force before the change (02:30 in Berlin on
  2026-03-29 is 01:30 UTC = 03:30 summer time), a time in the autumn's repeated hour is the
  later occurrence (standard time). So "00:00-24:00" lasts 23 h on a spring-forward day and
  25 h on a fall-back day, and an interval whose both ends map to the same or reversed instants
  (e.g. "02:30-03:00" on the spring-forward day, 01:30 to 01:00 UTC) is empty;
- intervals that overlap or touch once converted are merged, so no instant counts twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from .config import BusinessHours
from .timeparse import wall_to_utc_ns

_NS_PER_S = 1_000_000_000
_NS_PER_MIN = 60 * _NS_PER_S
_NS_PER_H = 3600 * _NS_PER_S
_DAY = dt.timedelta(days=1)


def _instants_ns(instants: Any) -> tuple[np.ndarray, np.ndarray]:
    """UTC nanoseconds and NaT mask of tz-aware pandas instants or UTC ``datetime64`` values."""
    shape = np.shape(instants)
    if isinstance(instants, (np.ndarray, np.datetime64)) and instants.dtype.kind == "M":  # read as UTC
        values = np.asarray(instants).astype("datetime64[ns]").ravel()
        return values.view("i8").reshape(shape), np.isnat(values).reshape(shape)
    index = pd.DatetimeIndex(instants if shape else [instants])
    nat = np.asarray(index.isna())
    if index.tz is None:
        if not nat.all():
            raise ValueError("business-hours instants must be time-zone aware (numpy datetime64 is read as UTC)")
        return np.zeros(shape, np.int64), nat.reshape(shape)
    return index.tz_convert("UTC").as_unit("ns").asi8.reshape(shape), nat.reshape(shape)


class BusinessClock:
    """Business seconds elapsed under a weekly schedule, for instants in a range of local dates.

    Parameters
    ----------
    hours : BusinessHours
        The weekly schedule, holiday country/subdivision and extra closed dates.
    timezone : str
        IANA time zone the schedule is written in (the dataset timezone).
    start, end : datetime.date
        First and last local date the clock must answer for (inclusive). Open intervals are built
        for ``start - 1 day`` to ``end + 1 day`` so that night intervals reaching into the range
        are counted. Instants before local midnight of ``start`` or after local midnight ending
        ``end`` raise ``ValueError``; build the clock with :meth:`for_instants` to cover them.

    Notes
    -----
    The clock's origin (reading 0) is the opening of its first interval; only differences of
    readings are meaningful.

    Examples
    --------
    >>> hours = BusinessHours(weekly={0: ((540, 1020),)})          # Mondays 09:00-17:00
    >>> clock = BusinessClock(hours, "Europe/Berlin", dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    >>> created = pd.Series(pd.to_datetime(["2026-03-02 16:00", "2026-03-02 20:00"]))
    >>> answered = pd.Series(pd.to_datetime(["2026-03-09 10:00", "2026-03-02 21:00"]))
    >>> clock.duration_hours(created.dt.tz_localize("Europe/Berlin"),
    ...                      answered.dt.tz_localize("Europe/Berlin"))
    array([2., 0.])
    """

    def __init__(self, hours: BusinessHours, timezone: str, start: dt.date, end: dt.date):
        if end < start:
            raise ValueError(f"business clock range ends ({end}) before it starts ({start})")
        self.hours = hours
        self.timezone = timezone
        self.start = start
        self.end = end
        starts, ends = self._open_intervals()
        self._starts = starts
        self._ends = ends
        self._lo, self._hi = wall_to_utc_ns(pd.DatetimeIndex([start, end + _DAY]), timezone)
        # The reading is piecewise linear: slope 1 from each opening to its closing, flat after.
        # Breakpoints interleave openings and closings behind a floor no valid instant precedes,
        # so breakpoint k is an opening exactly when k is odd.
        floor = min(self._lo, starts[0]) if starts.size else self._lo
        cum = np.concatenate([[0], np.cumsum(ends - starts)])
        self._breaks = np.concatenate([[floor], np.column_stack([starts, ends]).ravel()])
        self._values = np.concatenate([[0], np.column_stack([cum[:-1], cum[1:]]).ravel()])

    @classmethod
    def for_instants(cls, hours: BusinessHours, timezone: str, *instants: Any) -> BusinessClock:
        """A clock whose range covers every non-NaT instant given.

        Parameters
        ----------
        hours : BusinessHours
            The schedule.
        timezone : str
            IANA time zone of the schedule.
        *instants
            tz-aware pandas Series, DatetimeIndex or Timestamps, or UTC ``datetime64`` arrays.

        Returns
        -------
        BusinessClock
            Spanning the local dates of the earliest and the latest instant.

        Examples
        --------
        >>> hours = BusinessHours(weekly={d: ((540, 1020),) for d in range(5)})
        >>> t = pd.Series(pd.to_datetime(["2026-03-02 10:00", None, "2026-03-31 23:30"], utc=True))
        >>> clock = BusinessClock.for_instants(hours, "Europe/Berlin", t)
        >>> clock.start, clock.end
        (datetime.date(2026, 3, 2), datetime.date(2026, 4, 1))
        """
        lows, highs = [], []
        for values in instants:
            ns, nat = _instants_ns(values)
            ns = ns[~nat]
            if ns.size:
                lows.append(ns.min())
                highs.append(ns.max())
        if not lows:
            raise ValueError("cannot size a business clock: no instant given (all empty or NaT)")
        lo, hi = pd.to_datetime([min(lows), max(highs)], utc=True).tz_convert(timezone)
        return cls(hours, timezone, lo.date(), hi.date())

    def _closed_dates(self) -> pd.DatetimeIndex:
        closed = set(self.hours.closed_dates)
        if self.hours.country is not None:
            import holidays

            years = range(self.start.year - 1, self.end.year + 2)
            closed |= set(holidays.country_holidays(self.hours.country, subdiv=self.hours.subdivision,
                                                    years=years))
        return pd.DatetimeIndex(sorted(closed))

    def _open_intervals(self) -> tuple[np.ndarray, np.ndarray]:
        days = pd.date_range(self.start - _DAY, self.end + _DAY, freq="D", unit="ns")
        open_day = ~days.isin(self._closed_dates())
        weekday = days.dayofweek
        starts, ends = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for day, spans in self.hours.weekly.items():
            if not spans:
                continue
            midnights = days[(weekday == day) & open_day].asi8[:, None]
            minutes = np.asarray(spans, dtype=np.int64) * _NS_PER_MIN
            starts.append((midnights + minutes[:, 0]).ravel())
            ends.append((midnights + minutes[:, 1]).ravel())
        wall = np.concatenate(starts + ends)
        utc = wall_to_utc_ns(pd.DatetimeIndex(wall.view("datetime64[ns]")), self.timezone)
        s, e = np.split(utc, 2)
        keep = e > s  # a gap can fold an interval onto itself (see module notes)
        s, e = s[keep], e[keep]
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
        if s.size == 0:
            return s, e
        reach = np.maximum.accumulate(e)
        first = np.flatnonzero(np.r_[True, s[1:] > reach[:-1]])
        last = np.r_[first[1:] - 1, s.size - 1]
        return s[first], reach[last]

    @property
    def intervals(self) -> pd.DataFrame:
        """The merged open intervals, one row each: ``start``, ``end`` (local time), ``hours``.

        Examples
        --------
        >>> hours = BusinessHours(weekly={6: ((0, 1440),)})            # Sundays, all day
        >>> clock = BusinessClock(hours, "Europe/Berlin", dt.date(2026, 3, 29), dt.date(2026, 3, 29))
        >>> clock.intervals["hours"].tolist()                          # spring forward: 23 h
        [23.0]
        """
        return pd.DataFrame({
            "start": pd.to_datetime(self._starts, utc=True).tz_convert(self.timezone),
            "end": pd.to_datetime(self._ends, utc=True).tz_convert(self.timezone),
            "hours": (self._ends - self._starts) / _NS_PER_H,
        })

    def _locate(self, instants: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Instants (ns), NaT mask and index of the last breakpoint at or before each instant."""
        t, nat = _instants_ns(instants)
        outside = (t > self._hi) | ((t < self._lo) & ~nat)
        if outside.any():
            bad = pd.Timestamp(t[outside].ravel()[0], tz="UTC").tz_convert(self.timezone)
            raise ValueError(f"instant {bad} is outside the business clock's local dates "
                             f"{self.start} to {self.end}; build it with BusinessClock.for_instants")
        if nat.any():
            t = np.where(nat, self._breaks[0], t)
        return t, nat, np.searchsorted(self._breaks, t, side="right") - 1

    def _elapsed_ns(self, instants: Any) -> tuple[np.ndarray, np.ndarray]:
        t, nat, k = self._locate(instants)
        return self._values[k] + (k & 1) * (t - self._breaks[k]), nat

    def seconds(self, instants: Any) -> np.ndarray:
        """Business seconds elapsed from the clock's origin to each instant.

        Parameters
        ----------
        instants : Series, DatetimeIndex, Timestamp or numpy.ndarray
            tz-aware pandas instants, or ``datetime64`` values read as UTC.

        Returns
        -------
        numpy.ndarray
            ``float64`` of the input's shape; NaN where the instant is NaT.

        Examples
        --------
        >>> hours = BusinessHours(weekly={d: ((540, 1020),) for d in range(7)})
        >>> clock = BusinessClock(hours, "UTC", dt.date(2026, 1, 1), dt.date(2026, 1, 2))
        >>> t = pd.DatetimeIndex(["2026-01-01 09:00", "2026-01-01 10:00", "2026-01-01 20:00"], tz="UTC")
        >>> (clock.seconds(t) - clock.seconds(t[0])).tolist()
        [0.0, 3600.0, 28800.0]
        """
        elapsed, nat = self._elapsed_ns(instants)
        return np.where(nat, np.nan, elapsed / _NS_PER_S)

    def duration_hours(self, start: Any, end: Any) -> np.ndarray:
        """Business hours between ``start`` and ``end`` (element-wise, broadcasting).

        Parameters
        ----------
        start, end : Series, DatetimeIndex, Timestamp or numpy.ndarray
            As for :meth:`seconds`.

        Returns
        -------
        numpy.ndarray
            ``float64``; NaN where either instant is NaT; negative when ``end < start``.

        Examples
        --------
        >>> hours = BusinessHours(weekly={d: ((540, 1020),) for d in range(5)})
        >>> clock = BusinessClock(hours, "America/New_York", dt.date(2026, 1, 2), dt.date(2026, 1, 5))
        >>> fri = pd.Timestamp("2026-01-02 16:00", tz="America/New_York")
        >>> float(clock.duration_hours(fri, pd.Timestamp("2026-01-05 10:00", tz="America/New_York")))
        2.0
        """
        a, nat_a = self._elapsed_ns(start)
        b, nat_b = self._elapsed_ns(end)
        return np.where(nat_a | nat_b, np.nan, (b - a) / _NS_PER_H)

    def is_open(self, instants: Any) -> np.ndarray:
        """Whether each instant falls inside an open interval (NaT → False).

        Examples
        --------
        >>> hours = BusinessHours(weekly={d: ((540, 1020),) for d in range(7)})
        >>> clock = BusinessClock(hours, "UTC", dt.date(2026, 1, 1), dt.date(2026, 1, 1))
        >>> clock.is_open(pd.DatetimeIndex(["2026-01-01 09:00", "2026-01-01 17:00", None], tz="UTC")).tolist()
        [True, False, False]
        """
        _, nat, k = self._locate(instants)
        return (k & 1).astype(bool) & ~nat
