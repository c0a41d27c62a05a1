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
# The offset in force before a spring-forward gap is read a few hours earlier, far from any
# other transition (zones change offset at most a few times a year).
_BEFORE_GAP = pd.Timedelta(hours=6)


def localize(naive: pd.Series, tz: str) -> pd.Series:
    """Read naive wall-clock values as local time in ``tz`` (SPEC A2).

    A time in the spring-forward gap takes the offset in force before the change (02:30 →
    03:30 summer time); a time in the repeated autumn hour is read as standard time.

    >>> s = pd.Series(pd.to_datetime(["2026-03-29 02:30", "2026-10-25 02:30"]))
    >>> localize(s, "Europe/Berlin").dt.strftime("%H:%M%z").tolist()
    ['03:30+0200', '02:30+0100']
    """
    idx = pd.DatetimeIndex(naive)
    standard = np.zeros(len(idx), dtype=bool)
    out = idx.tz_localize(tz, ambiguous=standard, nonexistent="NaT")
    gap = out.isna() & idx.notna()
    if gap.any():
        before = (idx[gap] - _BEFORE_GAP).tz_localize(tz, ambiguous=standard[gap], nonexistent="shift_forward")
        offset = before.tz_localize(None) - before.tz_convert("UTC").tz_localize(None)
        utc = out.tz_convert("UTC").tz_localize(None).to_numpy()
        utc[gap] = (idx[gap] - offset).to_numpy()
        out = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz)
    return pd.Series(out, index=naive.index, name=naive.name)


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
