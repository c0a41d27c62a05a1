"""Report periods: calendar months in the dataset timezone, half-open ``[start, end)`` (SPEC §3, A4).

A period is written ``YYYY-MM``. Several can be asked for at once as a list or as an inclusive
range ``"2026-01:2026-10"``. Every period must start before ``as_of``. Month arithmetic on
labels (the month before, a shift by k months, the 13-month trend window) lives here too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .errors import PeriodError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: The months a report's trend shows: the period and the 12 before it.
TREND_MONTHS = 13


def local_midnight(day: dt.date, timezone: str) -> pd.Timestamp:
    """Local midnight starting ``day`` as an instant (a midnight in a DST gap moves forward).

    Examples
    --------
    >>> local_midnight(dt.date(2026, 10, 1), "Europe/Berlin").isoformat()
    '2026-10-01T00:00:00+02:00'
    """
    return pd.Timestamp(day).tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")


@dataclass(frozen=True)
class Period:
    """One calendar month in a timezone.

    Attributes
    ----------
    label : str
        ``YYYY-MM``.
    start, end : pandas.Timestamp
        Local midnight of the first day of the month and of the next month (tz-aware).
    month : int
        Months since 1970-01 (``year * 12 + month - 1 - 1970 * 12``): the key the engine groups by.
    """

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    month: int

    @property
    def first_day(self) -> dt.date:
        """The period's first local date."""
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        """The period's last local date."""
        return (self.end - pd.Timedelta(hours=12)).date()

    def t_end(self, as_of: pd.Timestamp) -> pd.Timestamp:
        """``min(end, as_of)``: the instant "at period end" means (SPEC A4)."""
        return min(self.end, as_of)

    def days(self, as_of: pd.Timestamp) -> list[dt.date]:
        """The period's local dates, up to the local date of ``as_of`` (that partial day included).

        Examples
        --------
        >>> p = month_period("2026-10", "UTC")
        >>> len(p.days(pd.Timestamp("2026-11-15", tz="UTC")))
        31
        >>> len(p.days(pd.Timestamp("2026-10-03 08:00", tz="UTC")))
        3
        """
        last = min(self.last_day, as_of.tz_convert(self.start.tz).date())
        return [d.date() for d in pd.date_range(self.first_day, last, freq="D")]


def month_number(label: str) -> int:
    """Months since 1970-01 of a ``YYYY-MM`` label (the engine's month key).

    Examples
    --------
    >>> month_number("1970-01"), month_number("2026-10")
    (0, 681)
    """
    match = _MONTH.match(label.strip()) if isinstance(label, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"period {label!r} is not a month written YYYY-MM (e.g. \"2026-10\")")
    return (int(match.group(1)) - 1970) * 12 + int(match.group(2)) - 1


def month_label(number: int) -> str:
    """The ``YYYY-MM`` label of a month key (:func:`month_number` reversed).

    Examples
    --------
    >>> month_label(681)
    '2026-10'
    """
    return f"{1970 + number // 12:04d}-{number % 12 + 1:02d}"


def shift(period: str, months: int) -> str:
    """The month ``months`` after ``period`` (negative: before).

    Examples
    --------
    >>> shift("2026-01", -1), shift("2026-10", -12), shift("2026-12", 1)
    ('2025-12', '2025-10', '2027-01')
    """
    return month_label(month_number(period) + months)


def previous(period: str, months: int = 1) -> str:
    """The month ``months`` before ``period``.

    Examples
    --------
    >>> previous("2026-01"), previous("2026-10", 12)
    ('2025-12', '2025-10')
    """
    return shift(period, -months)


def trend_periods(period: str, months: int = TREND_MONTHS) -> list[str]:
    """The ``months`` periods ending with ``period``, oldest first.

    Examples
    --------
    >>> trend_periods("2026-02", 4)
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    return [shift(period, -k) for k in range(months - 1, -1, -1)]


def trend_range(period: str, months: int = TREND_MONTHS) -> str:
    """The ``months`` months ending with ``period`` as a range ``kt.kpis`` takes.

    Examples
    --------
    >>> trend_range("2026-10")
    '2025-10:2026-10'
    """
    return f"{shift(period, 1 - months)}:{shift(period, 0)}"


def month_period(label: str, timezone: str) -> Period:
    """The :class:`Period` of a ``YYYY-MM`` label in ``timezone``.

    Examples
    --------
    >>> p = month_period("2026-10", "Europe/Berlin")
    >>> p.start.isoformat(), p.end.isoformat()
    ('2026-10-01T00:00:00+02:00', '2026-11-01T00:00:00+01:00')
    """
    number = month_number(label)
    year, month = 1970 + number // 12, number % 12 + 1
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return Period(month_label(number), local_midnight(first, timezone), local_midnight(following, timezone), number)


def _labels(spec: str | Iterable[str]) -> list[str]:
    if isinstance(spec, str):
        if ":" in spec:
            first, _, last = spec.partition(":")
            a, b = month_number(first), month_number(last)
            if b < a:
                raise PeriodError(f"period range {spec!r} ends before it starts")
            return [month_label(m) for m in range(a, b + 1)]
        return [spec]
    labels = list(spec)
    if not labels or not all(isinstance(x, str) for x in labels):
        raise PeriodError(f"periods {spec!r}: expected \"YYYY-MM\" strings")
    return labels


def parse_periods(spec: str | Iterable[str], timezone: str, as_of: pd.Timestamp) -> list[Period]:
    """Parse ``"2026-10"``, ``["2026-09", "2026-10"]`` or ``"2026-01:2026-10"`` into sorted periods.

    Parameters
    ----------
    spec : str or iterable of str
        One month, a list of months, or an inclusive range ``first:last``.
    timezone : str
        The dataset timezone.
    as_of : pandas.Timestamp
        Every period must start strictly before it (SPEC A4).

    Returns
    -------
    list of Period
        Unique, in time order.

    Raises
    ------
    PeriodError
        For a malformed period or one that does not start before ``as_of``.

    Examples
    --------
    >>> as_of = pd.Timestamp("2026-11-15", tz="UTC")
    >>> [p.label for p in parse_periods("2026-08:2026-10", "UTC", as_of)]
    ['2026-08', '2026-09', '2026-10']
    """
    periods = {p.month: p for p in (month_period(x, timezone) for x in _labels(spec))}
    for p in periods.values():
        if p.start >= as_of:
            raise PeriodError(f"period {p.label} starts at or after as_of ({as_of.isoformat()}): "
                              "there is no data for it yet")
    return [periods[m] for m in sorted(periods)]
