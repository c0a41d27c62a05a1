"""Column mappings (SPEC §6): turn a real export into the canonical columns, without code.

A mapping (``[tables.<name>]`` in dataset.toml) works on the source file read as text and
produces canonical columns as text, so the ordinary row rules (SPEC A3) judge the result and
name the canonical column in every reject. Source columns a mapping does not use are kept as
extras.

Timestamps are read by the one A2 parser (:func:`~kpitools.timeparse.parse_timestamps`) with
the forms the mapping declares, and written as ISO text with their offset (exact instants), so
the row rules read them back unchanged. A value of no accepted form is written as found: the
row rules reject it, quoting the accepted forms (``DataFrame.attrs[TIMESTAMP_FORMS]``).

Rows that ``where`` (or ``skip_empty``) leaves out are not rows of the table: they are not
counted in its rows_in (see the README, "Column mappings").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .config import JoinSource, TableSource
from .errors import ConfigError, DatasetError
from .reading import read_frame
from .schema import FALSE_WORDS, TRUE_WORDS
from .timeparse import TIMESTAMP_FORMS, expected_form, localize, parse_timestamps
from .validate import TEXT, clean_text

_HMS = r"^(\d+):([0-5]\d):([0-5]\d)$"
_OUT = "%Y-%m-%dT%H:%M:%S%z"  # ISO with offset; Arrow's %S carries the fraction of the unit


class _Source:
    """The source frame, its joined files, and which source columns the mapping consumed.

    Calling it with a name gives that source column (a source column of that exact name, else
    ``<join>.<column>`` of a joined file); with a tuple of names, the first non-empty of them.
    """

    def __init__(self, raw: pd.DataFrame, file: str, table: str, joins: dict[str, JoinSource]):
        self.raw, self.file, self.table, self.joins = raw, file, table, joins
        self.used: set[str] = set()
        self._lookups: dict[str, pd.DataFrame] = {}

    def __call__(self, name: str | tuple[str, ...]) -> pd.Series:
        if isinstance(name, tuple):
            return _coalesce([self(n) for n in name])
        if name in self.raw:
            self.used.add(name)
            return self.raw[name]
        join, _, column = name.partition(".")
        if join in self.joins:
            return self._joined(join, column)
        found = ", ".join(map(str, self.raw.columns))
        joins = f"; joined files: {', '.join(self.joins)}" if self.joins else ""
        raise DatasetError(
            f"{self.file}: the mapping of table {self.table!r} in dataset.toml names column "
            f"{name!r}, which the file does not have (found: {found}{joins})",
            file=self.file, column=name)

    def _joined(self, join: str, column: str) -> pd.Series:
        """``column`` of the joined file's row whose key equals this row's ``on`` (empty if none)."""
        spec = self.joins[join]
        if join not in self._lookups:
            self._lookups[join] = _lookup(spec, self.table, join)
        lookup = self._lookups[join]
        if column not in lookup:
            raise DatasetError(
                f"{spec.path}: column {column!r} (named as {join}.{column} by [tables.{self.table}] in dataset.toml) "
                f"is not in the file (found: {', '.join(map(str, lookup.columns))})",
                file=str(spec.path), column=column)
        keys = clean_text(self(spec.on))
        return keys.map(lookup[column]).astype(TEXT)


def _coalesce(columns: list[pd.Series]) -> pd.Series:
    """The first non-empty (trimmed) value of several columns, row by row (vectorised).

    >>> _coalesce([pd.Series(["a", " ", None]), pd.Series(["b", "c", ""])]).tolist()
    ['a', 'c', <NA>]
    """
    out = clean_text(columns[0])
    for column in columns[1:]:
        out = out.fillna(clean_text(column))
    return out


def _lookup(spec: JoinSource, table: str, join: str) -> pd.DataFrame:
    """The joined file as text (read like a table file: delimiter sniffed, UTF-8), indexed by its
    trimmed key; a key may occur once (many-to-one), rows with an empty key are never matched."""
    where = f"[tables.{table}.join.{join}] in dataset.toml"
    if not spec.path.exists():
        raise DatasetError(f"{spec.path}: file not found (named by {where})", file=str(spec.path))
    frame = read_frame(spec.path, table=table)
    if spec.key not in frame:
        raise DatasetError(f"{spec.path}: no key column {spec.key!r} (named by {where}; found: "
                           f"{', '.join(map(str, frame.columns))})", file=str(spec.path), column=spec.key)
    keys = clean_text(frame[spec.key])
    repeated = keys.notna() & keys.duplicated(keep=False)
    if repeated.any():
        first = keys[repeated].iloc[0]
        rows = keys.index[(keys == first).fillna(False).to_numpy(bool)][:2].tolist()
        raise DatasetError(
            f"{spec.path}: key {first!r} of column {spec.key!r} is on rows {rows[0]} and {rows[1]}; a joined file "
            f"needs one row per key (many-to-one, {where})", file=str(spec.path), column=spec.key)
    return frame[keys.notna().to_numpy()].set_axis(keys.dropna().to_numpy())


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


def _rows_where(src: _Source, conds: tuple[dict[str, Any], ...]) -> np.ndarray:
    """Rows where every condition holds (``where``, ``when``): ``equals``, ``in`` or ``empty``.

    Source text is trimmed; a TOML string compares exactly, a number numerically, a boolean as
    the boolean words of SPEC A3 (any case).
    """
    keep = np.ones(len(src.raw), dtype=bool)
    for cond in conds:
        text = clean_text(src(cond["column"]))
        if "empty" in cond:
            keep &= text.isna().to_numpy() == cond["empty"]
            continue
        hit = np.zeros(len(text), dtype=bool)
        for value in cond["in"] if "in" in cond else [cond["equals"]]:
            hit |= _equals(text, value)
        keep &= hit
    return keep


def _equals(text: pd.Series, value: Any) -> np.ndarray:
    if isinstance(value, bool):
        same = text.str.lower().isin(TRUE_WORDS if value else FALSE_WORDS)
    elif isinstance(value, (int, float)):
        same = pd.to_numeric(text, errors="coerce") == value
    else:
        same = text == value
    return same.fillna(False).to_numpy(dtype=bool)


def _as_text(stamps: pd.Series) -> pd.Series:
    """Instants as ISO text with their offset in the dataset timezone (Arrow, no per-row Python);
    whole seconds without a fraction, else microseconds."""
    arr = pa.array(stamps)
    whole = (stamps.dropna().dt.microsecond == 0).all() and (stamps.dropna().dt.nanosecond == 0).all()
    arr = arr.cast(pa.timestamp("s" if whole else "us", arr.type.tz), safe=False)
    return pd.Series(pc.strftime(arr, format=_OUT), index=stamps.index).astype(TEXT)


def _amount(src: _Source, value: Any, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """A number of seconds per row, and the text where a value is present but unreadable: a
    constant, or a source column of plain numbers or ``hh:mm:ss``."""
    if isinstance(value, (int, float)):
        return pd.Series(float(value), index=index), pd.Series(pd.NA, index=index, dtype=TEXT)
    text = clean_text(src(value))
    seconds = hms_seconds(text)
    return seconds, text.where(seconds.isna())


@dataclass
class _Stamps:
    """One mapped timestamp column: the instants, the text to show where a value is unreadable,
    and the accepted forms a reject quotes."""

    stamps: pd.Series
    failed: pd.Series
    form: str

    def text(self) -> pd.Series:
        """Canonical text: the instant with its offset, else the unreadable value as found."""
        return _as_text(self.stamps).fillna(self.failed)


def _timestamp(canon: str, spec: dict[str, Any], src: _Source, made: dict[str, pd.Series], ts: TableSource,
               tz: str, as_of: pd.Timestamp | None) -> _Stamps:
    """Read one ``[timestamps]`` entry (the shapes are checked by the config)."""
    index = src.raw.index
    if "base" in spec:
        result = _offset_from(canon, spec, src, made, tz, as_of)
    else:
        if "column" in spec:
            raw = clean_text(src(spec["column"]))
        else:  # date + time
            raw = clean_text(src(spec["date"])) + " " + clean_text(src(spec["time"])).fillna("00:00:00")
        own_form = "format" in spec or "unit" in spec  # one declared form: the table's dayfirst yields
        options = {"format": spec.get("format"), "dayfirst": spec.get("dayfirst", ts.dayfirst and not own_form),
                   "unit": spec.get("unit")}
        offset, form = spec.get("offset_minutes"), expected_form(**options)
        minutes = None
        if offset is not None:
            minutes = clean_text(src(offset)) if isinstance(offset, str) else pd.Series(str(offset), index=index)
            form += f", at the offset in minutes {'in ' + repr(offset) if isinstance(offset, str) else str(offset)}"
        stamps = parse_timestamps(raw.fillna(""), tz, **options, offset_minutes=minutes)
        failed = raw.where(stamps.isna())
        if minutes is not None:  # name the offset: the timestamp text alone may be a valid naive value
            failed = failed + " (offset " + minutes.fillna("") + ")"
        result = _Stamps(stamps, failed, form)
    if "when" in spec:
        keep = _rows_where(src, spec["when"])
        result.stamps, result.failed = result.stamps.where(keep), result.failed.where(keep)
    return result


def _offset_from(canon: str, spec: dict[str, Any], src: _Source, made: dict[str, pd.Series], tz: str,
                 as_of: pd.Timestamp | None) -> _Stamps:
    """``base`` plus amounts: seconds, durations and hours as elapsed time; days and
    ``months_back`` on the local calendar (the result read by A2)."""
    index = src.raw.index
    where = f"dataset.toml [tables.{src.table}.timestamps] {canon}"
    if spec["base"] == "as_of":
        if as_of is None:
            raise ConfigError(f"{where}: base = \"as_of\" needs as_of to be set")
        stamps = pd.Series(as_of.tz_convert(tz), index=index)
    elif spec["base"] in made:
        stamps = made[spec["base"]]
    else:
        raise ConfigError(f"{where}: base {spec['base']!r} must be as_of or a timestamp defined earlier in the "
                          "same table")
    failed = pd.Series(pd.NA, index=index, dtype=TEXT)
    parts = []
    for key, seconds_per in (("seconds", 1), ("duration", 1), ("hours", 3600)):
        if key in spec:
            amount, bad = _amount(src, spec[key], index)
            stamps = stamps + pd.to_timedelta(amount * seconds_per, unit="s")
            failed = failed.fillna(bad + f" ({key})")
            parts.append(f"{key} as seconds or hh:mm:ss")
    if "days" in spec or "months_back" in spec:
        wall = stamps.dt.tz_localize(None)
        if "days" in spec:
            days, bad = _amount(src, spec["days"], index)
            wall = wall + pd.to_timedelta(days, unit="D")
            failed = failed.fillna(bad + " (days)")
            parts.append("days as a number")
        if "months_back" in spec:
            months, bad = _amount(src, spec["months_back"], index)
            wall = _shift_months(wall, -months)
            failed = failed.fillna(bad + " (months_back)")
            parts.append("months_back as a number")
        stamps = localize(wall, tz)
    return _Stamps(stamps, failed, f"{spec['base']} plus {', '.join(parts)}")


def _shift_months(stamps: pd.Series, months: pd.Series) -> pd.Series:
    """Add whole months (day clipped to the month's length) to naive times without a per-row loop."""
    ok = stamps.notna() & months.notna()
    out = pd.Series(pd.NaT, index=stamps.index, dtype="datetime64[ns]")
    if ok.any():
        s, m = stamps[ok], months[ok].astype("int64")
        total = s.dt.year * 12 + (s.dt.month - 1) + m
        first = pd.to_datetime({"year": total // 12, "month": total % 12 + 1, "day": 1})
        day = np.minimum(s.dt.day, first.dt.days_in_month)
        out[ok] = first + pd.to_timedelta(day - 1, unit="D") + (s - s.dt.normalize())
    return out


def apply_mapping(raw: pd.DataFrame, table: str, ts: TableSource, *, file: str, tz: str,
                  as_of: pd.Timestamp | None, notes: list[str]) -> pd.DataFrame:
    """Map the text frame ``raw`` of ``file`` onto the canonical columns of ``table``.

    Rows failing ``skip_empty`` or ``where`` are dropped first: they are not rows of the table
    (not in its rows_in), and ``notes`` receives how many there were (the loader shows it in
    ``ds.counts.note``); then ``columns``, ``values``, ``constants``, ``durations`` and ``timestamps`` make the
    canonical columns, ``group_by`` folds rows, and unused source columns stay as extras. The
    result's ``attrs[TIMESTAMP_FORMS]`` names the accepted forms of each mapped timestamp.
    """
    src = _Source(raw, file, table, ts.joins)
    conds = tuple({"column": name, "empty": False} for name in ts.skip_empty) + ts.where
    if conds:
        keep = _rows_where(src, conds)
        src.raw = src.raw[keep]
        if not keep.all():
            by = " and ".join(k for k, given in (("skip_empty", ts.skip_empty), ("where", ts.where)) if given)
            n = int((~keep).sum())
            notes.append(f"{n:,} source row{'s' if n > 1 else ''} left out by {by} (not rows of this table)")
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
    made: dict[str, pd.Series] = {}
    forms: dict[str, str] = {}
    aggs: dict[str, str] = {}
    for canon, spec in ts.timestamps.items():
        stamps = _timestamp(canon, spec, src, made, ts, tz, as_of)
        made[canon], forms[canon] = stamps.stamps, stamps.form
        if "agg" in spec:  # folded by group_by; unreadable values take no part
            aggs[canon] = spec["agg"]
            out[canon] = stamps.stamps
        else:
            out[canon] = stamps.text()
    for extra in src.raw.columns:
        if extra not in src.used and extra not in out:
            out[extra] = src.raw[extra]
    frame = pd.DataFrame(out, index=index)
    if ts.group_by:
        frame = _group(frame, ts.group_by, aggs, file)
    frame.attrs[TIMESTAMP_FORMS] = forms
    return frame


def _group(frame: pd.DataFrame, key: str, aggs: dict[str, str], file: str) -> pd.DataFrame:
    """One row per ``key`` (e.g. customers from an orders table); the first source row names it."""
    if key not in frame:
        raise ConfigError(f"dataset.toml: group_by {key!r} for {file} is not a mapped canonical column")
    frame = frame[clean_text(frame[key]).notna()]
    grouped = frame.groupby(key, sort=False, dropna=True)
    first = grouped.head(1).set_index(key)
    for canon, how in aggs.items():
        first[canon] = _as_text(getattr(grouped[canon], how)())
    rows = grouped.head(1).index
    return first.reset_index().set_index(rows)
