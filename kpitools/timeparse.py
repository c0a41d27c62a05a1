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


def parse_timestamps(text: pd.Series, tz: str) -> pd.Series:
    """Parse trimmed, non-empty text to ``datetime64[ns, tz]``; anything not A2-shaped → NaT.

    >>> s = pd.Series(["2026-10-01", "2026-10-01T08:30:00Z", "2026-10-01 10:30+02:00", "01/10/2026"])
    >>> parse_timestamps(s, "Europe/Berlin").dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2026-10-01 00:00', '2026-10-01 10:30', '2026-10-01 10:30', nan]
    """
    text = text.astype("string[pyarrow]")
    ok = text.str.fullmatch(ISO_PATTERN).fillna(False).astype(bool)
    has_offset = ok & text.str.contains(r"\d{2}:\d{2}.*" + _OFFSET_PATTERN, regex=True).fillna(False).astype(bool)
    naive_rows = ok & ~has_offset
    result = pd.Series(pd.NaT, index=text.index, dtype=f"datetime64[ns, {tz}]")
    if naive_rows.any():
        parsed = pd.to_datetime(text[naive_rows].str.replace("T", " ", regex=False), format="ISO8601", errors="coerce")
        result[naive_rows] = localize(parsed, tz)
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        result[has_offset] = parsed.dt.tz_convert(tz)
    return result


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
