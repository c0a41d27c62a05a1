"""Row rules of SPEC A3: turn one raw table into typed columns plus a reject reason per row.

Every rule is a vectorised check over a whole column. The first failing reason of a row wins:
columns in schema order, then cross-column rules, then duplicates among the rows that passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .schema import FALSE_WORDS, KEYS, SURVEY_TYPES, TABLES, TRUE_WORDS, Column
from .timeparse import ISO_FORM, TIMESTAMP_FORMS, from_arrow_timestamps, parse_timestamps

TEXT = pd.StringDtype("pyarrow")
_NUMBER_TEXT = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_PERIOD_TEXT = r"^\d{4}-(?:0[1-9]|1[0-2])$"
_CROSS_RULES = {
    "tickets": (("first_response_at", "created_at"), ("resolved_at", "created_at")),
    "customers": (("churned_at", "signup_at"),),
}


@dataclass
class Checked:
    """A validated table: typed frame (all rows) and, per row, the first failing rule."""

    frame: pd.DataFrame
    reason: pd.Series  # object: None = kept
    column: pd.Series  # object: the column the reason is about


class _Verdicts:
    """First-failure bookkeeping shared by all rules of one table."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.reason = np.full(len(index), None, dtype=object)
        self.column = np.full(len(index), None, dtype=object)
        self.failed = np.zeros(len(index), dtype=bool)

    def fail(self, mask: pd.Series | np.ndarray, column: str, reason: str) -> None:
        new = np.asarray(mask, dtype=bool) & ~self.failed
        if new.any():
            self.reason[new] = reason
            self.column[new] = column
            self.failed |= new


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) or s.dtype == object


def clean_text(s: pd.Series) -> pd.Series:
    """Trim text; an empty string is null (SPEC A3)."""
    s = s.astype(TEXT).str.strip()
    return s.mask(s == "")


def _bool(s: pd.Series, col: Column, v: _Verdicts) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        s = s.astype("Float64").astype(TEXT).str.replace(r"\.0$", "", regex=True)
    t = clean_text(s).str.lower()
    is_true = t.isin(TRUE_WORDS).fillna(False).astype(bool)
    is_false = t.isin(FALSE_WORDS).fillna(False).astype(bool)
    v.fail(t.notna() & ~is_true & ~is_false, col.name,
           f"bad boolean in {col.name} (expected true/false, yes/no, y/n, 1/0)")
    return is_true


@dataclass(frozen=True)
class NumberText:
    """How numbers are written in a text file: the decimal mark and an optional thousands
    separator (``[tables.<name>] decimal`` and ``thousands`` in dataset.toml).

    >>> form = NumberText(",", ".")
    >>> text = pd.Series(["1.234,5", "12,25", "1.5", "12.34"], dtype="string")
    >>> text.str.fullmatch(form.pattern).tolist(), form.plain(text[:2]).tolist()
    ([True, True, False, False], ['1234.5', '12.25'])
    """

    decimal: str = "."
    thousands: str | None = None

    @property
    def pattern(self) -> str:
        if (self.decimal, self.thousands) == (".", None):
            return _NUMBER_TEXT
        point = re.escape(self.decimal)
        digits = rf"(?:\d{{1,3}}(?:{re.escape(self.thousands)}\d{{3}})+|\d+)" if self.thousands else r"\d+"
        return rf"^[+-]?(?:{digits}(?:{point}\d*)?|{point}\d+)(?:[eE][+-]?\d+)?$"

    def plain(self, text: pd.Series) -> pd.Series:
        """Text of this form rewritten with a point and no separators (other text unchanged)."""
        if self.thousands:
            text = text.str.replace(self.thousands, "", regex=False)
        return text.str.replace(self.decimal, ".", regex=False) if self.decimal != "." else text


def _numbers(s: pd.Series, form: NumberText = NumberText()) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(values as float, present mask, bad mask) for a text or numeric column; a value that is
    not of the declared form or not finite (``inf``, ``1e999``) is bad."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        values = s.astype("float64")
        present = values.notna()
        return values, present, present & np.isinf(values)
    t = clean_text(s)
    present = t.notna()
    shaped = t.str.fullmatch(form.pattern).fillna(False).astype(bool)
    values = pd.to_numeric(form.plain(t.where(shaped)), errors="coerce").astype("float64")
    return values, present, present & ~(shaped & np.isfinite(values))


def _int(s: pd.Series, col: Column, v: _Verdicts, minimum: int, default: int, form: NumberText) -> pd.Series:
    values, present, bad_text = _numbers(s, form)
    not_int = bad_text | (present & (values != np.floor(values)))
    v.fail(not_int | (present & (values < minimum)), col.name,
           f"{col.name} is not an integer >= {minimum}")
    return values.fillna(default).where(~(not_int | (values < minimum)), default).astype("int64")


def _float(s: pd.Series, col: Column, v: _Verdicts, form: NumberText) -> pd.Series:
    values, present, bad_text = _numbers(s, form)
    v.fail(bad_text, col.name, f"{col.name} is not a number")
    if col.name in ("handle_seconds", "wait_seconds", "cost"):
        what = "negative cost" if col.name == "cost" else "negative duration"
        v.fail(present & (values < 0), col.name, f"{what} in {col.name}")
    return values


def _timestamp(s: pd.Series, col: Column, v: _Verdicts, tz: str, form: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return from_arrow_timestamps(s, tz)
    t = clean_text(s)
    parsed = parse_timestamps(t.fillna(""), tz)
    v.fail(t.notna() & parsed.isna(), col.name,
           f"unparseable timestamp in {col.name} (expected {form})")
    return parsed


def check_table(
    table: str,
    raw: pd.DataFrame,
    *,
    tz: str,
    scales: dict[str, tuple[int, int]],
    channels: frozenset[str] = frozenset(),
    kpi_ids: frozenset[str] = frozenset(),
    dedupe: bool = True,
    numbers: NumberText = NumberText(),
    unreadable: Mapping[str, tuple[np.ndarray, str, np.ndarray]] | None = None,
) -> Checked:
    """Type every canonical column of ``raw`` and judge each row (SPEC A3).

    ``raw`` holds the canonical columns (text or typed, e.g. from Parquet) plus extras, which
    are kept as trimmed text. ``channels`` are the known channels (for costs and targets) and
    ``kpi_ids`` the valid KPI ids (for targets). ``dedupe=False`` leaves duplicate keys to the
    caller (the loader judges them across all slices of a large file). ``numbers`` is how a
    text file writes numbers; ``unreadable`` gives, per column, the cells the reader could not
    represent (a NaN in Parquet, a year outside 1678-2261) and why: the column's first rule.
    """
    v = _Verdicts(raw.index)
    out: dict[str, pd.Series] = {}
    for col in TABLES[table]:
        if col.name not in raw:  # an absent optional column: its empty value, nothing to check
            out[col.name] = _empty(col, raw.index, tz)
            continue
        s = raw[col.name]
        if _is_text(s):
            s = clean_text(s)
        if unreadable and col.name in unreadable:
            v.fail(*unreadable[col.name][:1], col.name, unreadable[col.name][1])
        if col.required:
            v.fail(s.isna(), col.name, f"empty required column {col.name}")
        if col.kind == "text":
            out[col.name] = s
            if table == "targets" and col.name == "kpi":
                known = kpi_ids | {"frt_h"}
                v.fail(out["kpi"].notna() & ~out["kpi"].isin(known).fillna(False).astype(bool), "kpi",
                       "unknown kpi (expected a KPI id or frt_h)")
        elif col.kind == "timestamp":
            out[col.name] = _timestamp(s, col, v, tz, raw.attrs.get(TIMESTAMP_FORMS, {}).get(col.name, ISO_FORM))
        elif col.kind == "bool":
            out[col.name] = _bool(s, col, v)
        elif col.kind == "int":
            minimum, default = (1, 1) if col.name == "contacts" else (0, 0)
            out[col.name] = _int(s, col, v, minimum, default, numbers)
        elif col.kind == "float":
            out[col.name] = _float(s, col, v, numbers)
        elif col.kind == "survey":
            t = clean_text(s).str.lower()
            v.fail(t.notna() & ~t.isin(SURVEY_TYPES).fillna(False).astype(bool), col.name,
                   "unknown survey type (expected csat, nps or ces)")
            out[col.name] = t
        elif col.kind == "score":
            out[col.name] = _score(s, col, v, out["survey"], scales, numbers)
        elif col.kind == "period":
            t = clean_text(s)
            v.fail(t.notna() & ~t.str.fullmatch(_PERIOD_TEXT).fillna(False).astype(bool), col.name,
                   "period is not YYYY-MM")
            out[col.name] = t
        elif col.kind == "channel":
            t = clean_text(s)
            v.fail(t.notna() & ~t.isin(channels).fillna(False).astype(bool), col.name,
                   "unknown channel (no kept ticket uses it)")
            out[col.name] = t
    for later, earlier in _CROSS_RULES.get(table, ()):
        v.fail((out[later] < out[earlier]).fillna(False).astype(bool), later, f"{later} before {earlier}")
    if dedupe and table in KEYS:
        v.fail(duplicates([out[k] for k in KEYS[table]], ~v.failed), KEYS[table][0],
               f"duplicate {' + '.join(KEYS[table])} (the first row is kept)")
    for extra in raw.columns:
        if extra not in out:
            s = raw[extra]
            out[extra] = clean_text(s) if _is_text(s) else s
    return Checked(pd.DataFrame(out, index=raw.index),
                   pd.Series(v.reason, index=raw.index), pd.Series(v.column, index=raw.index))


def duplicates(keys: list[pd.Series], candidates: np.ndarray) -> np.ndarray:
    """Rows among ``candidates`` whose key repeats an earlier candidate's (first in file order kept).

    DuckDB's hash partitioning is several times faster than pandas' on millions of text keys.
    """
    import duckdb

    positions = np.flatnonzero(candidates)
    columns = {f"k{i}": pa.array(k.iloc[positions], from_pandas=True) for i, k in enumerate(keys)}
    rows = pa.table({**columns, "pos": pa.array(positions)})
    parts = ", ".join(columns)
    with duckdb.connect() as con:
        con.register("rows", rows)
        dup = con.sql(f"SELECT pos FROM rows QUALIFY row_number() OVER (PARTITION BY {parts} ORDER BY pos) > 1"
                      ).fetchnumpy()["pos"]
    mask = np.zeros(len(candidates), dtype=bool)
    mask[np.asarray(dup, dtype=np.int64)] = True
    return mask


def _empty(col: Column, index: pd.Index, tz: str) -> pd.Series:
    """The value an absent optional column stands for (SPEC A3: empty boolean = false, ...)."""
    n = len(index)
    if col.kind == "timestamp":
        return pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {tz}]")
    if col.kind == "bool":
        return pd.Series(np.zeros(n, dtype=bool), index=index)
    if col.kind == "int":
        return pd.Series(np.full(n, 1 if col.name == "contacts" else 0, dtype="int64"), index=index)
    if col.kind == "float":
        return pd.Series(np.full(n, np.nan), index=index)
    return pd.Series(pd.NA, index=index, dtype=TEXT)


def _score(s: pd.Series, col: Column, v: _Verdicts, survey: pd.Series,
           scales: dict[str, tuple[int, int]], form: NumberText) -> pd.Series:
    values, present, bad_text = _numbers(s, form)
    lo = survey.map({k: lo for k, (lo, _) in scales.items()}).astype("float64")
    hi = survey.map({k: hi for k, (_, hi) in scales.items()}).astype("float64")
    outside = present & ~bad_text & ((values != np.floor(values)) | (values < lo) | (values > hi))
    v.fail(bad_text | outside.fillna(False).astype(bool), col.name,
           "score outside its scale (an integer within the survey's scale)")
    return values.fillna(0).astype("int64")
