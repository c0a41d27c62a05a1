"""The row rules of SPEC A3 as one Ibis expression over a raw table, written once for any engine.

:func:`checked` takes a raw table (text columns as read, or typed columns from Parquet) and
returns every canonical column typed, the extra columns, and per row the first failing reason
and the column it is about (columns in schema order, then the cross-column rules).
:func:`duplicates` finds the rows whose key repeats an earlier row's; applied to the rows that
pass every other rule it completes A3 (first in file order kept). The loader runs both on its
DuckDB store; since they are Ibis expressions (no SQL text, no values formatted into SQL), the
same rules compile for Spark or a warehouse.

Timestamps are parsed by integer arithmetic on the fields of the A2 form, exactly as
:func:`kpitools.timeparse.parse_timestamps` reads them (pandas' ISO 8601 parser: fields in range,
offsets below ±24 h, instants within pandas' nanosecond range); naive values take the dataset
timezone's offset as a step function of the wall time, whose steps follow the A2 rule (a time
in a spring-forward gap takes the offset before the change, a repeated time the offset after).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dataset import ROW
from .schema import AUTHORS, FALSE_WORDS, KEYS, STATUSES, SURVEY_TYPES, TABLES, TRUE_WORDS, Column
from .timeparse import ISO_FORM, ISO_PATTERN, TIMESTAMP_FORMS, utc_offsets
from .validate import PERIOD_TEXT, TEXT, NumberText

#: Output columns besides the table's: the first failing reason of a row (null = kept), the
#: column it is about, and a text key's value as read where trimming changed it.
REASON, COLUMN, RAW_KEY = "__kt_reason", "__kt_column", "__kt_raw_key"
#: Raw column flagging the cells of ``<column>`` the reader could not represent.
UNREADABLE = "__kt_unreadable:"
# the characters Arrow's utf8_trim_whitespace (pandas' str.strip on Arrow strings) removes
_SPACE = r"[\t\n\x{0b}\f\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_EDGES = rf"^{_SPACE}+|{_SPACE}+$"
_SPACES = "".join(chr(c) for c in (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680,
                                    *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000))
_OFFSET_TEXT = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_FRACTION = r"^.{19}\.(\d{1,6})"
US_PER_S, US_PER_DAY = 1_000_000, 86_400_000_000
# pandas' nanosecond range in whole microseconds: a value beyond it does not parse
_MIN_US, _MAX_US = -(pd.Timestamp.min.value // -1000), pd.Timestamp.max.value // 1000
_NEGATIVE = {"handle_seconds": "negative duration", "wait_seconds": "negative duration", "cost": "negative cost"}
_CROSS_RULES = {
    "tickets": (("first_response_at", "created_at"), ("resolved_at", "created_at")),
    "customers": (("churned_at", "signup_at"),),
}


def _ibis() -> Any:
    import ibis

    return ibis


@dataclass(frozen=True)
class Raw:
    """What the rules need to know about a raw table besides its columns.

    ``naive`` and ``aware`` name typed timestamp columns, given as ``int64`` nanoseconds since the
    epoch (wall time, or UTC); ``unreadable`` maps a column to the reason for its flagged cells
    (a boolean column ``UNREADABLE + name``); ``numbers`` is how text writes numbers; ``forms``
    names the accepted timestamp forms per column for the reject reason (default the A2 form).
    """

    naive: frozenset[str] = frozenset()
    aware: frozenset[str] = frozenset()
    unreadable: tuple[tuple[str, str], ...] = ()
    numbers: NumberText = NumberText()
    forms: tuple[tuple[str, str], ...] = ()


def clean(text: Any) -> Any:
    """Trimmed text, an empty string null (SPEC A3). The regular expression runs only on values
    that start or end with a space of any kind (a cheap test on two characters)."""
    ibis = _ibis()
    spaces = ibis.literal(_SPACES)  # (a list of values would become a join in DuckDB)
    edges = _yes(spaces.contains(text.substr(0, 1)) | spaces.contains(text.right(1)))
    return ibis.ifelse(edges, text.re_replace(_EDGES, ""), text).nullif("")


def _is_text(value: Any) -> bool:
    return value.type().is_string()


def _yes(condition: Any) -> Any:
    """A condition whose null means no (SQL's three-valued logic made two-valued)."""
    return condition.fill_null(False)


# Names of the intermediate columns. The rules are computed in stages (trimmed text; numbers and
# timestamp fields; typed values; failing rules; the verdict), each a projection over the last, so
# that every stage refers to the previous one's columns instead of repeating their expressions.
def _text(name: str) -> str:
    return f"__kt_text:{name}"


def _number(name: str) -> str:
    return f"__kt_number:{name}"


def _bad(name: str) -> str:
    return f"__kt_bad:{name}"


def _wall(name: str) -> str:
    return f"__kt_wall:{name}"


def _zoned(name: str) -> str:
    return f"__kt_zoned:{name}"


def _typed_name(name: str) -> str:
    return f"__kt_typed:{name}"


_TEXT_KINDS = ("timestamp", "survey", "author", "status", "period", "channel", "bool")


def _numbers(t: Any, name: str, form: NumberText) -> tuple[Any, Any]:
    """(value as float64, bad): a text value not of the declared form or not finite (``inf``,
    ``1e999``) is bad; so is an infinite typed value."""
    ibis = _ibis()
    if _text(name) not in t.columns:
        number = t[name].cast("float64")
        return number, _yes(number.isinf())
    text = t[_text(name)]
    shaped = _yes(text.re_search(form.pattern))
    plain = text
    if form.thousands:
        plain = plain.replace(form.thousands, "")
    if form.decimal != ".":
        plain = plain.replace(form.decimal, ".")
    number = ibis.ifelse(shaped, plain.try_cast("float64"), ibis.null("float64"))
    return number, text.notnull() & ~(shaped & _yes(~number.isinf()))


def _fraction(number: Any) -> Any:
    """The float has a fractional part (or is not finite): the remainder by 1, which stays a
    float (a floor would be cast to an integer, which fails on ``1e300``)."""
    return number % 1.0 != 0


def _whole(number: Any, default: int) -> Any:
    """A float that is a whole number as int64 (null = ``default``); like numpy, a value beyond
    int64 becomes its minimum (only rejected rows reach that)."""
    ibis = _ibis()
    return ibis.cases((number.isnull(), ibis.literal(default, "int64")),
                      (number.abs() < 2.0 ** 63, number.cast("int64")),
                      else_=ibis.literal(np.iinfo(np.int64).min, "int64"))


def steps(x: Any, bounds: Any, values: Any) -> Any:
    """A step function of ``x`` as nested conditions: ``values[0]`` below ``bounds[0]``,
    ``values[i]`` from ``bounds[i - 1]`` on (a balanced tree: about log2(len(bounds)) tests)."""
    ibis = _ibis()
    if len(bounds) == 0:
        return ibis.literal(int(values[0]), "int64")
    mid = len(bounds) // 2
    return ibis.ifelse(x < int(bounds[mid]), steps(x, bounds[:mid], values[:mid + 1]),
                       steps(x, bounds[mid + 1:], values[mid + 1:]))


@functools.cache
def wall_steps(tz: str) -> tuple[np.ndarray, np.ndarray]:
    """The UTC offset (ns) of naive wall times (ns) in ``tz`` by SPEC A2, as a step function of
    the wall time over pandas' whole range: (bounds, offsets) as :func:`steps` reads them.

    An offset change at instant B from o to o' is the wall time B + o': before it the old offset
    holds (a time in a spring-forward gap), from it the new one (a repeated autumn time is the
    later occurrence).

    >>> bounds, offsets = wall_steps("Europe/Berlin")
    >>> gap, repeated = pd.Timestamp("2026-03-29 02:30").value, pd.Timestamp("2026-10-25 02:30").value
    >>> [int(offsets[np.searchsorted(bounds, w, side="right")]) // 3_600_000_000_000 for w in (gap, repeated)]
    [1, 1]
    """
    day = 86_400_000_000_000
    bounds, offsets = utc_offsets(tz, pd.Timestamp.min.value + 2 * day, pd.Timestamp.max.value - 2 * day)
    return bounds + offsets[1:], offsets


def _civil_days(y: Any, m: Any, d: Any) -> Any:
    """Days since 1970-01-01 of a proleptic Gregorian date with a year after 0 (integer
    arithmetic on non-negative numbers only, so any engine's integer division agrees)."""
    ibis = _ibis()
    y = y - ibis.ifelse(m <= 2, 1, 0)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + ibis.ifelse(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _month_days(y: Any, m: Any) -> Any:
    ibis = _ibis()
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return ibis.cases((m == 2, ibis.ifelse(leap, 29, 28)), (m.isin([4, 6, 9, 11]), 30), else_=31)


def _in_range(us: Any, margin: int = 0) -> Any:
    """Microseconds as nanoseconds, null beyond pandas' range (less ``margin`` µs at each end)."""
    ibis = _ibis()
    return ibis.ifelse((us >= _MIN_US + margin) & (us <= _MAX_US - margin), us * 1000, ibis.null("int64"))


def _field(part: str, name: str) -> str:
    return f"__kt_{part}:{name}"


def iso_stages(name: str) -> list[Any]:
    """How the trimmed text of timestamp column ``name`` becomes (wall time ns of a naive value,
    instant ns of a value with an offset): a list of stages, each a function of the table so far
    giving new columns; the last gives ``_wall(name)`` and ``_zoned(name)``, null where the text
    is not of the A2 form or names no instant pandas can hold (pandas' ISO 8601 parser: fields in
    range, offsets below 24 h)."""
    ibis = _ibis()

    def f(part: str) -> str:
        return _field(part, name)

    def fields(t: Any) -> dict[str, Any]:
        text = t[_text(name)]

        def number(start: int, length: int) -> Any:
            return text.substr(start, length).try_cast("int64")

        timed = text.length() > 10
        fraction = text.re_extract(_FRACTION, 1)
        return {f("iso"): _yes(text.re_search(ISO_PATTERN)), f("y"): number(0, 4), f("m"): number(5, 2),
                f("d"): number(8, 2), f("hh"): ibis.ifelse(timed, number(11, 2), 0),
                f("mi"): ibis.ifelse(timed, number(14, 2), 0),
                f("ss"): ibis.ifelse((text.length() >= 19) & (text.substr(16, 1) == ":"), number(17, 2), 0),
                f("us"): ibis.ifelse(fraction == "", 0, fraction.rpad(6, "0").try_cast("int64")),
                f("off"): ibis.ifelse(timed, text.re_extract(_OFFSET_TEXT, 0), "")}

    def offset(t: Any) -> dict[str, Any]:
        off = t[f("off")]
        y, m, d = t[f("y")], t[f("m")], t[f("d")]
        zoned = off != ""
        hours = ibis.ifelse(zoned & (off != "Z"), off.substr(1, 2).try_cast("int64"), 0)
        minutes = ibis.ifelse(off.length() > 3, off.substr(off.length() - 2, 2).try_cast("int64"), 0)
        in_range = (t[f("iso")] & (y >= 1677) & (y <= 2262) & (m >= 1) & (m <= 12) & (d >= 1)
                    & (t[f("hh")] <= 23) & (t[f("mi")] <= 59) & (t[f("ss")] <= 59) & (hours <= 23) & (minutes <= 59))
        return {f("zoned"): zoned, f("ok"): in_range, f("offset_us"):
                ibis.ifelse(off.substr(0, 1) == "-", -1, 1) * (hours * 60 + minutes) * 60 * US_PER_S}

    def instants(t: Any) -> dict[str, Any]:
        y, m, d = t[f("y")], t[f("m")], t[f("d")]
        ok = t[f("ok")] & (d <= _month_days(y, m))
        wall = (((_civil_days(y, m, d) * 24 + t[f("hh")]) * 60 + t[f("mi")]) * 60 + t[f("ss")]) * US_PER_S + t[f("us")]
        none = ibis.null("int64")
        return {f("wall_us"): ibis.ifelse(ok & ~t[f("zoned")], wall, none),
                f("utc_us"): ibis.ifelse(ok & t[f("zoned")], wall - t[f("offset_us")], none)}

    def nanoseconds(t: Any) -> dict[str, Any]:
        # a wall time within a day of the range's ends has no offset pandas could apply
        return {_wall(name): _in_range(t[f("wall_us")], US_PER_DAY), _zoned(name): _in_range(t[f("utc_us")])}

    return [fields, offset, instants, nanoseconds]


def _wall_to_utc_ns(wall_ns: Any, tz: str) -> Any:
    bounds, offsets = wall_steps(tz)
    return wall_ns - steps(wall_ns, bounds, offsets)


def checked(raw: Any, table: str, raw_info: Raw, *, tz: str, scales: Mapping[str, tuple[int, int]],
            channels: frozenset[str] = frozenset(), kpi_ids: frozenset[str] = frozenset(),
            statuses: Mapping[str, str] | None = None, keep: tuple[str, ...] = ()) -> Any:
    """Type every canonical column of the raw Ibis table ``raw`` and judge each row (SPEC A3,
    duplicates aside: see :func:`duplicates`).

    The result holds the canonical columns in schema order (an absent optional column as its
    empty value: false, 1 contacts, 0 reopened, null), then the extra columns (text trimmed,
    typed ones as they are), then the columns named in ``keep`` as they are, then ``REASON`` and
    ``COLUMN``, and ``RAW_KEY`` for a table with a text key. Timestamps are ``int64`` nanoseconds
    since the epoch (UTC). ``channels`` are the known channels (costs, targets) and ``kpi_ids``
    the valid KPI ids (targets); ``statuses`` is dataset.toml's ``[statuses]`` (trimmed lower-case
    source name -> canonical status).
    """
    ibis = _ibis()
    schema = {c.name: c for c in TABLES[table]}
    given = [c for c in raw.columns if not c.startswith(UNREADABLE) and c not in keep]
    typed_stamps = raw_info.naive | raw_info.aware
    # stage 1: trimmed text (of typed values too where a rule reads text)
    t = raw.mutate(**{_text(c): clean(raw[c] if _is_text(raw[c]) else raw[c].cast("string")) for c in given
                      if _is_text(raw[c]) or (c in schema and schema[c].kind in _TEXT_KINDS
                                              and c not in typed_stamps and not raw[c].type().is_boolean()
                                              and not (schema[c].kind == "bool" and raw[c].type().is_numeric()))})
    # stage 2: numbers, and text timestamps in the stages of their parsing
    stage: dict[str, Any] = {}
    parsing: list[list[Any]] = []
    for col in schema.values():
        if col.name not in given:
            continue
        if col.kind in ("int", "float", "score"):
            stage[_number(col.name)], stage[_bad(col.name)] = _numbers(t, col.name, raw_info.numbers)
        elif col.kind == "timestamp" and col.name not in typed_stamps:
            parsing.append(iso_stages(col.name))
    t = t.mutate(**stage) if stage else t
    for steps_of_all in zip(*parsing):  # the n-th stage of every column at once
        t = t.mutate(**{k: e for step in steps_of_all for k, e in step(t).items()})
    # stage 3: typed values, and the rules in the order they are judged
    typed: dict[str, Any] = {}
    rules: list[tuple[Any, str, str]] = []
    for col in schema.values():
        name = col.name
        if name not in given:  # an absent optional column: its empty value, nothing to check
            typed[name] = _empty(col)
            continue
        value = t[_text(name)] if _text(name) in t.columns else t[name]
        why = dict(raw_info.unreadable).get(name)
        if why is not None:
            rules.append((_yes(t[UNREADABLE + name]), name, why))
        if col.required:
            rules.append((value.isnull(), name, f"empty required column {name}"))
        typed[name] = _kind(col, t, value, raw_info, rules, typed, tz=tz, scales=scales, channels=channels,
                            kpi_ids=kpi_ids, statuses=statuses or {})
    t = t.mutate(**{_typed_name(n): e for n, e in typed.items()})
    out = {n: t[_typed_name(n)] for n in typed}
    for later, earlier in _CROSS_RULES.get(table, ()):
        rules.append((_yes(out[later] < out[earlier]), later, f"{later} before {earlier}"))
    # stage 4: each rule's verdict, then the first one failed
    t = t.mutate(**{f"__kt_fail{i}": _yes(c) for i, (c, _, _) in enumerate(rules)})
    failed = [t[f"__kt_fail{i}"] for i in range(len(rules))]
    none = ibis.null("string")
    out = {n: t[_typed_name(n)] for n in typed}
    for extra in given:
        if extra not in out:
            out[extra] = t[_text(extra)] if _text(extra) in t.columns else t[extra]
    for name in keep:
        out[name] = t[name]
    out[REASON] = ibis.cases(*[(f, ibis.literal(r)) for f, (_, _, r) in zip(failed, rules)], else_=none) \
        if rules else none
    out[COLUMN] = ibis.cases(*[(f, ibis.literal(c)) for f, (_, c, _) in zip(failed, rules)], else_=none) \
        if rules else none
    key = KEYS[table][0] if table in KEYS else None
    if key in given and _is_text(raw[key]):
        out[RAW_KEY] = ibis.ifelse(t[key] != out[key].fill_null(""), t[key], none)
    return t.select(**out)


def _kind(col: Column, t: Any, value: Any, raw_info: Raw, rules: list[tuple[Any, str, str]],
          typed: dict[str, Any], *, tz: str, scales: Mapping[str, tuple[int, int]], channels: frozenset[str],
          kpi_ids: frozenset[str], statuses: Mapping[str, str]) -> Any:
    """One canonical column typed by its kind (``value``: its trimmed text, or the typed value),
    its rules appended to ``rules``."""
    ibis = _ibis()
    name, kind = col.name, col.kind

    def fail(condition: Any, reason: str) -> None:
        rules.append((condition, name, reason))

    if kind == "text":
        if name == "kpi":
            fail(value.notnull() & ~_yes(value.isin(sorted(kpi_ids | {"frt_h"}))),
                 "unknown kpi (expected a KPI id or frt_h)")
        return value
    if kind == "timestamp":
        if name in raw_info.aware:
            return value
        if name in raw_info.naive:
            return _wall_to_utc_ns(value, tz)
        wall = t[_wall(name)]
        stamps = ibis.ifelse(wall.isnull(), t[_zoned(name)], _wall_to_utc_ns(wall, tz))
        fail(value.notnull() & wall.isnull() & t[_zoned(name)].isnull(),
             f"unparseable timestamp in {name} (expected {dict(raw_info.forms).get(name, ISO_FORM)})")
        return stamps
    if kind == "bool":
        bad = f"bad boolean in {name} (expected true/false, yes/no, y/n, 1/0)"
        if value.type().is_boolean():
            return value.fill_null(False)
        if value.type().is_numeric():  # pandas writes 1.0 and 0.0 as the text "1" and "0"
            number = value.cast("float64")
            fail(number.notnull() & ~number.isin([0.0, 1.0]), bad)
            return _yes(number == 1.0)
        word = value.lower()
        is_true = _yes(word.isin(sorted(TRUE_WORDS)))
        fail(word.notnull() & ~is_true & ~_yes(word.isin(sorted(FALSE_WORDS))), bad)
        return is_true
    if kind in ("int", "float", "score"):
        number, bad = t[_number(name)], t[_bad(name)]
        present = t[_text(name)].notnull() if _text(name) in t.columns else t[name].notnull()
        if kind == "int":
            minimum = 1 if name == "contacts" else 0
            not_int = bad | (present & (_fraction(number)))
            low = present & (number < minimum)
            fail(not_int | low, f"{name} is not an integer >= {minimum}")
            return ibis.ifelse(_yes(not_int | low), ibis.literal(minimum, "int64"), _whole(number, minimum))
        if kind == "float":
            fail(bad, f"{name} is not a number")
            if name in _NEGATIVE:
                fail(present & (number < 0), f"{_NEGATIVE[name]} in {name}")
            return number
        survey = typed["survey"]
        lo = ibis.cases(*[(survey == k, float(lo)) for k, (lo, _) in scales.items()], else_=ibis.null("float64"))
        hi = ibis.cases(*[(survey == k, float(hi)) for k, (_, hi) in scales.items()], else_=ibis.null("float64"))
        outside = present & ~bad & ((_fraction(number)) | (number < lo) | (number > hi))
        fail(bad | _yes(outside), "score outside its scale (an integer within the survey's scale)")
        return _whole(number, 0)
    if kind in ("survey", "author"):
        word = value.lower()
        words, what = (SURVEY_TYPES, "survey type (expected csat, nps or ces)") if kind == "survey" \
            else (AUTHORS, "author (expected customer, agent or bot)")
        fail(word.notnull() & ~_yes(word.isin(list(words))), f"unknown {what}")
        return word
    if kind == "status":  # SPEC B7.5: [statuses] first, then the canonical names themselves
        canon = value.lower().substitute({**{s: s for s in STATUSES}, **statuses}, else_=ibis.null("string"))
        fail(value.notnull() & canon.isnull(),
             f"unmapped status (map it to one of {', '.join(STATUSES)} under [statuses] in dataset.toml)")
        return canon
    if kind == "period":
        fail(value.notnull() & ~_yes(value.re_search(PERIOD_TEXT)), "period is not YYYY-MM")
    else:  # channel
        fail(value.notnull() & ~_yes(value.isin(sorted(channels))), "unknown channel (no kept ticket uses it)")
    return value


def _empty(col: Column) -> Any:
    """The value an absent optional column stands for (SPEC A3: empty boolean = false, ...)."""
    ibis = _ibis()
    if col.kind == "timestamp":
        return ibis.null("int64")
    if col.kind == "bool":
        return ibis.literal(False)
    if col.kind == "int":
        return ibis.literal(1 if col.name == "contacts" else 0, "int64")
    if col.kind == "float":
        return ibis.null("float64")
    return ibis.null("string")


def duplicates(rows: Any, key: tuple[str, ...], order: str) -> Any:
    """The rows of ``rows`` whose ``key`` repeats that of a row earlier by ``order`` (SPEC A3:
    the first row is kept), as ``rows`` filtered."""
    ibis = _ibis()
    nth = ibis.row_number().over(group_by=[rows[k] for k in key], order_by=rows[order])
    return rows.mutate(__kt_nth=nth).filter(lambda t: t.__kt_nth > 0).drop("__kt_nth")


class Rules:
    """The rules of one table for one file, run on a DuckDB connection slice by slice.

    :meth:`check` hands a slice (a pandas frame as the reader gives it, indexed by row number)
    to DuckDB as Arrow and makes :data:`CHECKED` the view of what :func:`checked` makes of it, so
    the rules run in the statement that reads it (the SQL is compiled once per kind of slice).
    :attr:`dtypes` are the pandas dtypes of the typed columns of the last slice (what
    :class:`~kpitools.dataset.Store` records).
    """

    def __init__(self, table: str, *, tz: str, scales: Mapping[str, tuple[int, int]],
                 statuses: Mapping[str, str] | None = None, channels: frozenset[str] = frozenset(),
                 kpi_ids: frozenset[str] = frozenset(), numbers: NumberText = NumberText()):
        self.table, self.tz, self.channels, self.kpi_ids, self.numbers = table, tz, channels, kpi_ids, numbers
        self.scales = tuple(sorted(scales.items()))
        self.statuses = tuple(sorted((statuses or {}).items()))
        self.dtypes: dict[str, Any] = {}
        self._raw: str | None = None  # what the raw rows of the last check are: registered Arrow, or a view

    def check(self, con: Any, frame: Any, unreadable: Mapping[str, tuple[np.ndarray, str, np.ndarray]]) -> Any:
        """Check a slice (a pandas frame, or a :class:`~kpitools.reading.Typed` Arrow slice) as
        :data:`CHECKED` (the slice stays registered until :meth:`drop`); returns that view as an
        (unbound) Ibis table of typed columns, extras, ``__kt_row``, ``REASON``, ``COLUMN`` (and
        ``RAW_KEY``)."""
        if isinstance(frame, pd.DataFrame):
            raw, naive, aware = raw_arrow(frame, unreadable)
            forms, dtypes = frame.attrs.get(TIMESTAMP_FORMS, {}), frame
        else:
            raw, naive, aware = typed_arrow(frame.table, frame.rows, unreadable)
            forms, dtypes = {}, pd.DataFrame({n: pd.Series(dtype=d) for n, d in frame.dtypes.items()})
        info = Raw(naive=frozenset(naive), aware=frozenset(aware),
                   unreadable=tuple((c, why) for c, (_, why, _) in unreadable.items()), numbers=self.numbers,
                   forms=tuple(forms.items()))
        sql = self._sql(raw.schema, info, dtypes)
        # in batches of DuckDB's row-group size, which it scans in parallel (one batch: one thread)
        raw = pa.Table.from_batches(raw.to_batches(max_chunksize=_SCAN_ROWS), raw.schema)
        con.register(_RAW_NAME, raw)
        self._raw = _REGISTERED
        con.execute(f"CREATE OR REPLACE TEMP VIEW {CHECKED} AS {sql}")
        return _checked_table(con)

    def scan(self, con: Any, scan: Any) -> Any:
        """Check a whole Parquet file as DuckDB reads it (a :class:`~kpitools.parquet_scan.Scan`):
        :data:`CHECKED` becomes a view, so the rules run in the statement that reads it (nothing
        is materialised before the store's insert); returns it as :meth:`check` does."""
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_RAW_NAME} AS {scan.select}")
        schema = con.execute(f"SELECT * FROM {_RAW_NAME} LIMIT 0").to_arrow_table().schema
        info = Raw(naive=scan.naive, aware=scan.aware, unreadable=tuple(scan.unreadable.items()),
                   numbers=self.numbers)
        dtypes = pd.DataFrame({n: pd.Series(dtype=d) for n, d in scan.dtypes.items()})
        self._raw = _VIEW
        con.execute(f"CREATE OR REPLACE TEMP VIEW {CHECKED} AS {self._sql(schema, info, dtypes)}")
        return _checked_table(con)

    def drop(self, con: Any) -> None:
        """Remove what the last :meth:`check` or :meth:`scan` left on the connection."""
        con.execute(f"DROP VIEW IF EXISTS {CHECKED}")
        if self._raw == _REGISTERED:
            con.unregister(_RAW_NAME)
        elif self._raw == _VIEW:
            con.execute(f"DROP VIEW {_RAW_NAME}")
        self._raw = None

    def _sql(self, schema: Any, info: Raw, dtypes: pd.DataFrame) -> str:
        """The compiled rules over a raw table of this schema; records the stored dtypes."""
        self.dtypes = stored_dtypes(self.table, dtypes, self.tz)
        return _compiled(self.table, schema, info, self.tz, self.scales, self.channels, self.kpi_ids, self.statuses)


def _checked_table(con: Any) -> Any:
    """:data:`CHECKED` as an unbound Ibis table of the types DuckDB gave it (a literal may be
    narrower than Ibis declared it)."""
    stored = con.execute(f"SELECT * FROM {CHECKED} LIMIT 0").to_arrow_table().schema
    return _ibis().table(_ibis().Schema.from_pyarrow(stored), name=CHECKED)


@functools.lru_cache(maxsize=64)
def _compiled(table: str, schema: Any, info: Raw, tz: str, scales: tuple[tuple[str, tuple[int, int]], ...],
              channels: frozenset[str], kpi_ids: frozenset[str], statuses: tuple[tuple[str, str], ...]
              ) -> str:
    """DuckDB SQL of :func:`checked` over a raw table of this Arrow ``schema`` (compiling takes
    Ibis about a second, so it is done once per kind of slice in a process)."""
    ibis = _ibis()
    raw = ibis.table(ibis.Schema.from_pyarrow(schema), name=_RAW_NAME)
    expr = checked(raw, table, info, tz=tz, scales=dict(scales), channels=channels, kpi_ids=kpi_ids,
                   statuses=dict(statuses), keep=(ROW,))
    return ibis.to_sql(expr, dialect="duckdb")


#: The temporary view of the checked rows (the rules run in the statement that reads it).
CHECKED = "kpitools_checked"
_RAW_NAME = "kpitools_raw"
_REGISTERED, _VIEW = "registered", "view"  # what _RAW_NAME is while a check's rows are read
_SCAN_ROWS = 122_880


def raw_arrow(frame: pd.DataFrame, unreadable: Mapping[str, tuple[np.ndarray, str, np.ndarray]]
              ) -> tuple[Any, set[str], set[str]]:
    """A reader's slice as the rules read it: text as text (object columns too, as their text),
    typed columns as they are with timestamps as int64 ns, the unreadable cells' flags and the
    row numbers; with the names of the naive and the aware timestamp columns."""
    columns: dict[str, Any] = {}
    naive, aware = set(), set()
    for name in frame.columns:
        s = frame[name]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            aware.add(name)
            columns[name] = pa.array(s.dt.as_unit("ns").array.asi8, type=pa.int64(), mask=s.isna().to_numpy())
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            naive.add(name)
            columns[name] = pa.array(s.to_numpy("datetime64[ns]").view("i8"), type=pa.int64(),
                                     mask=s.isna().to_numpy())
        else:
            if s.dtype == object:  # mixed or untyped values are judged by their text, as pandas writes it
                s = s.astype(TEXT)
            array = pa.array(s, from_pandas=True)
            columns[name] = array.cast(pa.string()) if pa.types.is_null(array.type) else array
    for name, (mask, _, _) in unreadable.items():
        columns[UNREADABLE + name] = pa.array(mask, type=pa.bool_())
    columns[ROW] = pa.array(frame.index.to_numpy(dtype=np.int64))
    return pa.table(columns), naive, aware


def typed_arrow(table: Any, rows: np.ndarray, unreadable: Mapping[str, tuple[np.ndarray, str, np.ndarray]]
                ) -> tuple[Any, set[str], set[str]]:
    """What :func:`raw_arrow` makes of the pandas frame of an Arrow slice, made in Arrow: an
    integer column with nulls as float64 and a boolean one as the text "True"/"False" (pandas'
    object column), NaN as null, timestamps as int64 ns, a column of nulls as text."""
    columns: dict[str, Any] = {}
    naive, aware = set(), set()
    for name, col in zip(table.column_names, table.columns):
        kind = col.type
        if pa.types.is_timestamp(kind):
            (aware if kind.tz is not None else naive).add(name)
            col = pc.cast(col, pa.int64())
        elif pa.types.is_integer(kind) and col.null_count:
            col = pc.cast(col, pa.float64(), safe=False)
        elif pa.types.is_boolean(kind) and col.null_count:
            col = pc.if_else(col, "True", "False")
        elif pa.types.is_floating(kind):
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, kind), col)
        elif pa.types.is_null(kind):
            col = col.cast(pa.string())
        columns[name] = col
    for name, (mask, _, _) in unreadable.items():
        columns[UNREADABLE + name] = pa.array(mask, type=pa.bool_())
    columns[ROW] = pa.array(rows, type=pa.int64())
    return pa.table(columns), naive, aware


def stored_dtypes(table: str, frame: pd.DataFrame, tz: str) -> dict[str, Any]:
    """The pandas dtypes of the checked columns (canonical in schema order, then the extras) of a
    slice ``frame``: what the store records and :meth:`Store.frame` gives back."""
    out: dict[str, Any] = {}
    for col in TABLES[table]:
        raw = frame[col.name] if col.name in frame else None
        if col.kind == "text":
            out[col.name] = raw.dtype if raw is not None and not _text_dtype(raw.dtype) else TEXT
        elif col.kind == "timestamp":
            out[col.name] = pd.DatetimeTZDtype("ns", tz)
        else:
            out[col.name] = {"bool": np.dtype(bool), "int": np.dtype("int64"), "score": np.dtype("int64"),
                             "float": np.dtype("float64")}.get(col.kind, TEXT)
    for name in frame.columns:
        if name not in out:
            dtype = frame[name].dtype
            out[name] = TEXT if _text_dtype(dtype) else dtype
    return out


def _text_dtype(dtype: Any) -> bool:
    return pd.api.types.is_string_dtype(dtype) or dtype == object
