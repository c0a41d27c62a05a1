"""Timestamp parsing by SPEC A2: ISO-like text, naive values local to the dataset timezone.

Everything is vectorised over pandas Series; the regex check runs in Arrow's C++ kernels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]] with optional Z / ±HH[:MM]; a date alone is midnight.
ISO_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_OFFSET_PATTERN = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
#: The A2 form as a reject reason names it.
ISO_FORM = "YYYY-MM-DD[ HH:MM[:SS]][±HH:MM]"
#: ``DataFrame.attrs`` key under which a mapping names, per canonical timestamp column, the forms
#: its values may take (the reject reason quotes them); absent = :data:`ISO_FORM`.
TIMESTAMP_FORMS = "timestamp_forms"
# D/M/YYYY (separators / . -) with an optional [ T]H:MM[:SS[.ffffff]] and offset: the day-first form
_DAYFIRST = (r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
             r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$")
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"
_EPOCH_SCALE_US = {"s": 1_000_000, "ms": 1_000}  # microseconds per unit
_MAX_US = 9_000_000_000_000_000  # |microseconds| that nanoseconds since 1970 can hold (years 1685..2255)
_MAX_OFFSET_MINUTES = 18 * 60
_NAT = np.iinfo(np.int64).min


def wall_to_utc_ns(wall: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """Read naive local wall times as instants by the rule of SPEC A2.

    Parameters
    ----------
    wall : pandas.DatetimeIndex
        Naive wall-clock times in ``timezone``.
    timezone : str
        IANA time zone name.

    Returns
    -------
    numpy.ndarray
        ``int64`` nanoseconds since the Unix epoch (UTC). A time in a spring-forward gap takes
        the offset in force before the change; a repeated autumn time is the later occurrence.

    Examples
    --------
    >>> wall = pd.DatetimeIndex(["2026-03-29 02:30", "2026-10-25 02:30"])
    >>> pd.to_datetime(wall_to_utc_ns(wall, "Europe/Berlin"), utc=True).strftime("%H:%M").tolist()
    ['01:30', '01:30']
    """
    wall = wall.as_unit("ns")
    # shift_backward lands a gap time just before the change, so its offset is the one before it;
    # ambiguous=False picks the post-transition (later) reading of a repeated time
    anchored = wall.tz_localize(timezone, ambiguous=False, nonexistent="shift_backward")
    offset = anchored.tz_localize(None).asi8 - anchored.tz_convert("UTC").tz_localize(None).asi8
    return wall.asi8 - offset



def localize(naive: pd.Series, tz: str) -> pd.Series:
    """Read naive wall-clock values as local time in ``tz`` (SPEC A2), keeping NaT.

    >>> s = pd.Series(pd.to_datetime(["2026-03-29 02:30", "2026-10-25 02:30", None]))
    >>> localize(s, "Europe/Berlin").dt.strftime("%H:%M%z").tolist()
    ['03:30+0200', '02:30+0100', nan]
    """
    utc = wall_to_utc_ns(pd.DatetimeIndex(naive), tz).view("datetime64[ns]")
    return pd.Series(pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz), index=naive.index, name=naive.name)


def expected_form(*, format: str | None = None, dayfirst: bool = False, unit: str | None = None) -> str:
    """The forms :func:`parse_timestamps` accepts with these options, as a reject reason names them.

    >>> expected_form(format="%d.%m.%Y %H:%M")
    'YYYY-MM-DD[ HH:MM[:SS]][±HH:MM] or format %d.%m.%Y %H:%M'
    >>> expected_form(dayfirst=True)
    'YYYY-MM-DD[ HH:MM[:SS]][±HH:MM] or DD/MM/YYYY[ HH:MM[:SS]][±HH:MM]'
    >>> expected_form(unit="ms")
    'YYYY-MM-DD[ HH:MM[:SS]][±HH:MM] or epoch milliseconds'
    """
    if format:
        return f"{ISO_FORM} or format {format}"
    if unit:
        return f"{ISO_FORM} or epoch {'seconds' if unit == 's' else 'milliseconds'}"
    return f"{ISO_FORM} or DD/MM/YYYY[ HH:MM[:SS]][±HH:MM]" if dayfirst else ISO_FORM


def parse_timestamps(text: pd.Series, tz: str, *, format: str | None = None, dayfirst: bool = False,
                     unit: str | None = None, offset_minutes: pd.Series | None = None) -> pd.Series:
    """Parse trimmed text to ``datetime64[ns, tz]`` by SPEC A2; a value of no accepted form → NaT.

    One parser for every timestamp, mapped or not. The A2 ISO form is always accepted; the
    options add exactly one more form (never guessed per value): a strptime ``format`` (with
    ``%z`` its offsets are kept), ``dayfirst`` (``D/M/YYYY[ H:MM[:SS]]``, separators ``/ . -``)
    or epoch numbers (``unit`` ``"s"`` or ``"ms"``). Naive values are local wall time: at the
    row's ``offset_minutes`` (minutes east of UTC, text; an empty one means the dataset
    timezone, one that is not a whole number within ±18 h makes the value NaT), else in ``tz``
    by the DST rules of A2. An explicit offset in a value is kept, mixed offsets included.

    Parameters
    ----------
    text : pandas.Series
        Trimmed text; empty or null = NaT.
    tz : str
        IANA name of the dataset timezone (the result's zone; naive values are local to it).
    format, dayfirst, unit, offset_minutes
        The declared extra form and per-row offsets (see above); see :func:`expected_form`.

    Examples
    --------
    >>> s = pd.Series(["2026-10-01", "2026-10-01T08:30:00Z", "2026-10-01 10:30+02:00", "01/10/2026"])
    >>> parse_timestamps(s, "Europe/Berlin").dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2026-10-01 00:00', '2026-10-01 10:30', '2026-10-01 10:30', nan]
    >>> parse_timestamps(s, "Europe/Berlin", dayfirst=True).dt.strftime("%Y-%m-%d").tolist()[3]
    '2026-10-01'
    >>> e = parse_timestamps(pd.Series(["1509486310", "x"]), "UTC", unit="s")
    >>> e.dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    ['2017-10-31 21:45:10', nan]
    >>> o = parse_timestamps(pd.Series(["2026-10-01 10:00"] * 2), "UTC", offset_minutes=pd.Series(["120", "-300"]))
    >>> o.dt.strftime("%H:%M").tolist()
    ['08:00', '15:00']
    """
    text = text.astype("string[pyarrow]")
    if dayfirst and not format:
        text = _dayfirst_as_iso(text)
    iso = _mask(text.str.fullmatch(ISO_PATTERN))
    aware = iso & _mask(text.str.contains(r"\d{2}:\d{2}.*" + _OFFSET_PATTERN, regex=True))
    other = _mask(text.str.len() > 0) & ~iso
    wall = np.full(len(text), _NAT, dtype=np.int64)  # naive values, local wall time
    utc = np.full(len(text), _NAT, dtype=np.int64)  # instants
    wall[iso & ~aware] = _ns(pd.to_datetime(text[iso & ~aware].str.replace("T", " ", regex=False),
                                            format="ISO8601", errors="coerce"))
    utc[aware] = _ns(pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True))
    if format and other.any():
        with_zone = "%z" in format or "%Z" in format
        parsed = pd.to_datetime(text[other], format=format, errors="coerce", utc=with_zone)
        (utc if with_zone else wall)[other] = _ns(parsed)
    elif unit and other.any():
        utc[other] = _epoch_ns(text[other], unit)
    naive = wall != _NAT
    if offset_minutes is not None:
        minutes, given = _offsets(offset_minutes)
        shifted = naive & given & (minutes != _NAT)  # an invalid offset leaves its value NaT
        utc[shifted] = wall[shifted] - minutes[shifted] * 60_000_000_000
        naive &= ~given
    if naive.any():
        utc[naive] = wall_to_utc_ns(pd.DatetimeIndex(wall[naive].view("datetime64[ns]")), tz)
    stamps = pd.DatetimeIndex(utc.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    return pd.Series(stamps, index=text.index, name=text.name)


def _mask(values: pd.Series) -> np.ndarray:
    """A nullable boolean Series as a plain mask (null = False)."""
    return values.fillna(False).to_numpy(dtype=bool)


def _ns(stamps: pd.Series) -> np.ndarray:
    """Parsed timestamps (naive or UTC) as int64 nanoseconds; NaT stays NaT."""
    index = pd.DatetimeIndex(stamps)
    return (index.tz_localize(None) if index.tz is not None else index).as_unit("ns").asi8


def _dayfirst_as_iso(text: pd.Series) -> pd.Series:
    """Rewrite day-first values (``3/11/2026 9:00``) as ISO text (``2026-11-03 09:00``); others unchanged."""
    parts = text.str.extract(_DAYFIRST)
    found = parts[0].notna()
    if not found.any():
        return text
    p = parts[found].astype("string[pyarrow]")
    clock = (" " + p[3].str.zfill(2) + ":" + p[4] + (":" + p[5]).fillna("") + p[6].fillna("")).fillna("")
    iso = p[2] + "-" + p[1].str.zfill(2) + "-" + p[0].str.zfill(2) + clock + p[7].fillna("")
    out = text.copy()
    out[found] = iso
    return out


def _epoch_ns(text: pd.Series, unit: str) -> np.ndarray:
    """Epoch seconds or milliseconds (text) as nanoseconds since 1970 UTC, to the microsecond;
    anything else, or outside the years pandas can hold, → NaT."""
    number = pd.to_numeric(text.where(_mask(text.str.fullmatch(_NUMBER))), errors="coerce")
    micros = np.round(number.to_numpy(dtype="float64") * _EPOCH_SCALE_US[unit])
    ok = np.abs(micros) < _MAX_US  # False for NaN
    return np.where(ok, np.where(ok, micros, 0).astype(np.int64) * 1000, _NAT)


def _offsets(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in minutes east of UTC (text) per row: (minutes, given). An empty offset is not
    given; a given one that is not a whole number within ±18 h has minutes NaT (int64 min)."""
    t = text.astype("string[pyarrow]").str.strip()
    given = _mask(t.str.len() > 0)
    number = pd.to_numeric(t.where(_mask(t.str.fullmatch(r"[+-]?\d+"))), errors="coerce").to_numpy(dtype="float64")
    valid = np.abs(number) <= _MAX_OFFSET_MINUTES  # False for NaN
    return np.where(valid, np.where(valid, number, 0).astype(np.int64), _NAT), given


def from_arrow_timestamps(values: pd.Series, tz: str) -> pd.Series:
    """Typed timestamps (e.g. from Parquet): naive = local wall time, aware = absolute (SPEC A2)."""
    values = pd.to_datetime(values)
    if values.dt.tz is None:
        return localize(values.astype("datetime64[ns]"), tz)
    return values.dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")


def utc_offsets(timezone: str, lo_ns: int, hi_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """The UTC offsets of ``timezone`` between two instants, as a step function.

    Parameters
    ----------
    timezone : str
        IANA time zone name.
    lo_ns, hi_ns : int
        The instants (nanoseconds since the epoch, UTC) the answer must cover.

    Returns
    -------
    bounds, offsets : numpy.ndarray
        ``int64`` nanoseconds: the instants at which the offset changes (ascending) and the offset
        in force before the first bound, from each bound on (one more than ``bounds``). The local
        wall time of ``t`` is ``t + offsets[np.searchsorted(bounds, t, side="right")]``.

    Examples
    --------
    >>> lo, hi = pd.Timestamp("2026-01-01", tz="UTC").value, pd.Timestamp("2026-12-31", tz="UTC").value
    >>> bounds, offsets = utc_offsets("Europe/Berlin", lo, hi)
    >>> pd.to_datetime(bounds, utc=True).strftime("%m-%d %H:%M").tolist(), (offsets // 3_600_000_000_000).tolist()
    (['03-29 01:00', '10-25 01:00'], [1, 2, 1])
    """
    hour = 3_600_000_000_000
    grid = np.arange(lo_ns // hour - 1, hi_ns // hour + 2, dtype=np.int64) * hour

    def offset(ns: np.ndarray) -> np.ndarray:
        local = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(timezone)
        return local.tz_localize(None).asi8 - ns

    at = offset(grid)
    changes = np.flatnonzero(at[1:] != at[:-1])
    lo, hi = grid[changes], grid[changes + 1]  # offset(lo) is the old one, offset(hi) the new one
    before = at[changes]
    while (hi - lo > 1).any():  # bisect each change down to the nanosecond
        mid = lo + (hi - lo) // 2
        old = offset(mid) == before
        lo, hi = np.where(old, mid, lo), np.where(old, hi, mid)
    return hi, np.concatenate([at[:1], at[changes + 1]])
