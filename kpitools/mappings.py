"""Column mappings (SPEC §6): turn a real export into the canonical columns, without code.

A mapping (``[tables.<name>]`` in dataset.toml) works on the source file read as text and
produces canonical columns as text, so the ordinary row rules (SPEC A3) judge the result and
name the canonical column in every reject. Derived timestamps are written as naive local
``YYYY-MM-DD HH:MM:SS`` text. Source columns a mapping does not use are kept as extras.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .config import TableSource
from .errors import ConfigError, DatasetError
from .validate import TEXT, clean_text

_ISO = "%Y-%m-%d %H:%M:%S"
_HMS = r"^(\d+):([0-5]\d):([0-5]\d)$"


class _Source:
    """The source frame plus bookkeeping of which of its columns a mapping consumed."""

    def __init__(self, raw: pd.DataFrame, file: str, table: str):
        self.raw, self.file, self.table, self.used = raw, file, table, set()

    def __call__(self, name: str) -> pd.Series:
        if name not in self.raw:
            found = ", ".join(map(str, self.raw.columns))
            raise DatasetError(
                f"{self.file}: the mapping of table {self.table!r} in dataset.toml names column "
                f"{name!r}, which the file does not have (found: {found})",
                file=self.file, column=name)
        self.used.add(name)
        return self.raw[name]


def hms_seconds(text: pd.Series) -> pd.Series:
    """``hh:mm:ss`` text (or plain seconds) to seconds as float; other text is left as NaN.

    >>> hms_seconds(pd.Series(["00:02:23", "75", "", "1:00:00"])).tolist()
    [143.0, 75.0, nan, 3600.0]
    """
    t = clean_text(text)
    parts = t.str.extract(_HMS).astype("float64")
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2]
    plain = pd.to_numeric(t.where(parts[0].isna()), errors="coerce")
    return seconds.fillna(plain).astype("float64")


def _amount(src: _Source, value: Any, index: pd.Index) -> pd.Series:
    """A number per row: a constant, or a source column (hh:mm:ss or plain numbers)."""
    if isinstance(value, (int, float)):
        return pd.Series(float(value), index=index)
    return hms_seconds(src(value))


def _as_text(stamps: pd.Series, raw: pd.Series | None = None) -> pd.Series:
    """Naive timestamps to canonical text; where parsing failed, keep the raw text for the reject."""
    out = stamps.dt.strftime(_ISO).astype(TEXT)
    return out if raw is None else out.fillna(clean_text(raw))


def _parse(text: pd.Series, fmt: str | None, dayfirst: bool) -> pd.Series:
    t = clean_text(text)
    if fmt:
        return pd.to_datetime(t, format=fmt, errors="coerce")
    return pd.to_datetime(t, dayfirst=dayfirst, errors="coerce", format="mixed")


def _timestamp(canon: str, spec: Any, src: _Source, made: dict[str, pd.Series], ts: TableSource,
               as_of: pd.Timestamp | None, index: pd.Index) -> pd.Series:
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise ConfigError(f"dataset.toml [tables.{src.table}.timestamps] {canon}: expected a column name or a table")
    fmt, dayfirst = spec.get("format"), spec.get("dayfirst", ts.dayfirst)
    if "column" in spec:
        raw = src(spec["column"])
        stamps = _parse(raw, fmt, dayfirst)
    elif "date" in spec:
        raw = clean_text(src(spec["date"])) + " " + clean_text(src(spec["time"])).fillna("00:00:00")
        stamps = _parse(raw, fmt, dayfirst)
    elif "base" in spec:
        raw = None
        if spec["base"] == "as_of":
            if as_of is None:
                raise ConfigError(f"dataset.toml [tables.{src.table}.timestamps] {canon}: base = \"as_of\" needs as_of to be set")
            stamps = pd.Series(as_of.tz_localize(None), index=index)
        elif spec["base"] in made:
            stamps = pd.to_datetime(made[spec["base"]], format=_ISO, errors="coerce")
        else:
            raise ConfigError(f"dataset.toml [tables.{src.table}.timestamps] {canon}: base {spec['base']!r} "
                              "must be as_of or a timestamp defined earlier in the same table")
        for key, unit in (("seconds", 1), ("duration", 1), ("hours", 3600), ("days", 86400)):
            if key in spec:
                stamps = stamps + pd.to_timedelta(_amount(src, spec[key], index) * unit, unit="s")
        if "months_back" in spec:
            months = _amount(src, spec["months_back"], index)
            stamps = _shift_months(stamps, -months)
    else:
        raise ConfigError(f"dataset.toml [tables.{src.table}.timestamps] {canon}: expected one of "
                          "column, date (+ time) or base")
    if "when" in spec:
        cond = spec["when"]
        stamps = stamps.where(clean_text(src(cond["column"])) == str(cond["equals"]))
        raw = None if raw is None else raw.where(stamps.notna())
    if "agg" in spec:
        stamps.attrs["agg"] = spec["agg"]
    return stamps, raw


def _shift_months(stamps: pd.Series, months: pd.Series) -> pd.Series:
    """Add whole months (day clipped to the month's length) without a per-row loop."""
    ok = stamps.notna() & months.notna()
    out = pd.Series(pd.NaT, index=stamps.index, dtype="datetime64[ns]")
    if ok.any():
        s, m = stamps[ok], months[ok].astype("int64")
        total = s.dt.year * 12 + (s.dt.month - 1) + m
        first = pd.to_datetime({"year": total // 12, "month": total % 12 + 1, "day": 1})
        day = np.minimum(s.dt.day, first.dt.days_in_month)
        out[ok] = first + pd.to_timedelta(day - 1, unit="D") + (s - s.dt.normalize())
    return out


def apply_mapping(raw: pd.DataFrame, table: str, ts: TableSource, *, file: str,
                  as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Map the text frame ``raw`` of ``file`` onto the canonical columns of ``table``."""
    src = _Source(raw, file, table)
    for name in ts.skip_empty:
        src.raw = src.raw[clean_text(src(name)).notna()]
    index = src.raw.index
    out: dict[str, pd.Series] = {}
    for canon, source in ts.columns.items():
        out[canon] = src(source)
    for canon, spec in ts.values.items():
        mapping = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in spec.get("map", {}).items()}
        source = clean_text(src(spec["column"]))
        out[canon] = source.map(mapping).astype(TEXT).fillna(source)
    for canon, value in ts.constants.items():
        out[canon] = pd.Series(str(value).lower() if isinstance(value, bool) else str(value), index=index, dtype=TEXT)
    for canon, spec in ts.durations.items():
        seconds = hms_seconds(src(spec))
        out[canon] = seconds.astype(TEXT).fillna(clean_text(src(spec)))
    aggs: dict[str, str] = {}
    made: dict[str, pd.Series] = {}
    for canon, spec in ts.timestamps.items():
        stamps, raw_text = _timestamp(canon, spec, src, made, ts, as_of, index)
        if "agg" in stamps.attrs:
            aggs[canon] = stamps.attrs["agg"]
        made[canon] = _as_text(stamps, raw_text)
        out[canon] = made[canon] if not aggs.get(canon) else stamps
    for extra in src.raw.columns:
        if extra not in src.used and extra not in out:
            out[extra] = src.raw[extra]
    frame = pd.DataFrame(out, index=index)
    return _group(frame, ts.group_by, aggs, file) if ts.group_by else frame


def _group(frame: pd.DataFrame, key: str, aggs: dict[str, str], file: str) -> pd.DataFrame:
    """One row per ``key`` (e.g. customers from an orders table); the first source row names it."""
    if key not in frame:
        raise ConfigError(f"dataset.toml: group_by {key!r} for {file} is not a mapped canonical column")
    frame = frame[clean_text(frame[key]).notna()]
    grouped = frame.groupby(key, sort=False, dropna=True)
    first = grouped.head(1).set_index(key)
    for canon, how in aggs.items():
        if how not in ("min", "max"):
            raise ConfigError(f"dataset.toml: agg for {canon!r} must be \"min\" or \"max\", got {how!r}")
        first[canon] = _as_text(getattr(grouped[canon], how)())
    rows = grouped.head(1).index
    return first.reset_index().set_index(rows)
