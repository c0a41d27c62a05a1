"""``dataset.toml``: the facts about a dataset (SPEC §2, A1) and its column mappings (SPEC §6)."""

from __future__ import annotations

import codecs
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from .errors import ConfigError
from .schema import DEFAULT_SCALES, GROUPS, STATUSES, TABLES
from .timeparse import ISO_PATTERN, localize

CONFIG_NAME = "dataset.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_TOP_KEYS = {"timezone", "as_of", "activation_event", "scales", "channel_groups",
             "business_hours", "tables", "currency", "statuses", "sla", "connection"}
#: The mapping keys a table in a backend takes (column names only: other mappings need the files'
#: text, which a backend's typed columns do not have; a view in the backend does the rest).
BACKEND_TABLE_KEYS = frozenset({"table", "columns", "absent"})
SLA_METRICS = ("first_reply", "next_reply", "resolution")
_SLA_KEYS = ("metric", "target_h", "channel", "priority", "business_hours", "pause_on")


@dataclass(frozen=True)
class SlaPolicy:
    """One ``[[sla]]`` entry (SPEC B6): a target for one metric, optionally for one channel
    and/or priority, on the calendar or business-hours clock, less the time in ``pause_on``."""

    metric: str  # one of SLA_METRICS
    target_h: float
    channel: str | None = None
    priority: str | None = None
    business_hours: bool = False
    pause_on: tuple[str, ...] = ()

    @property
    def specificity(self) -> int:
        """0 for channel and priority, 1 channel, 2 priority, 3 neither: lower wins (SPEC B6)."""
        return 2 * (self.channel is None) + (self.priority is None)

    def label(self) -> str:
        """A short name: ``first_reply 4 h email/high (business hours, pauses pending)``."""
        scope = "/".join(x for x in (self.channel, self.priority) if x) or "every ticket"
        extra = (["business hours"] if self.business_hours else []) + \
            ([f"pauses {', '.join(self.pause_on)}"] if self.pause_on else [])
        return f"{self.metric} {self.target_h:g} h {scope}" + (f" ({'; '.join(extra)})" if extra else "")


@dataclass(frozen=True)
class BusinessHours:
    """A weekly opening schedule in local wall time.

    ``weekly[d]`` lists ``(start_minute, end_minute)`` for weekday ``d`` (0 = Monday), half-open,
    minutes after local midnight of that day; ``end > 1440`` means the interval crosses midnight.
    Holidays (``country``/``subdivision`` via the ``holidays`` package) and ``closed_dates`` close
    the intervals that *start* on them (SPEC A8).
    """

    weekly: dict[int, tuple[tuple[int, int], ...]]
    country: str | None = None
    subdivision: str | None = None
    closed_dates: tuple[dt.date, ...] = ()


#: A source column as a mapping names it: a name (``<join>.<column>`` for a joined file's column),
#: or several names, meaning the first non-empty of them (coalesce).
SourceName = str | tuple[str, ...]


@dataclass(frozen=True)
class JoinSource:
    """A second file looked up by key (``[tables.<name>.join.<join>]``): many rows to one."""

    file: str  # relative to the dataset folder, as written
    path: Path
    on: str  # the source column (or an earlier join's ``<join>.<column>``) holding the key
    key: str  # the joined file's key column


#: Encodings a table file may declare (by codec name; aliases such as "latin1" or "windows-1252" work).
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")
_LAYOUT_KEYS = ("delimiter", "encoding", "decimal", "thousands", "sheet")


@dataclass(frozen=True)
class Layout:
    """How a table file's text is laid out (``[tables.<name>]`` keys; README "dataset.toml").

    ``delimiter`` None means sniffed from the first lines (``,``, ``;``, tab or ``|``);
    ``encoding`` None means UTF-8 (a UTF-16 byte-order mark is recognised); ``decimal`` and
    ``thousands`` say how numbers are written in text; ``sheet`` names an ``.xlsx`` worksheet
    (None: the first).
    """

    delimiter: str | None = None
    encoding: str | None = None
    decimal: str = "."
    thousands: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class FilePart:
    """One of several files that together make a table (``files = [{ file = ... }, ...]``), with
    the constants and layout of that file."""

    file: str
    constants: dict[str, Any] = field(default_factory=dict)
    layout: Layout = field(default_factory=Layout)


@dataclass(frozen=True)
class TableSource:
    """Where a canonical table comes from and how its columns are mapped (SPEC §6).

    See the README section "Column mappings" for the user-facing description of every key.
    Timestamp entries and conditions are stored as checked, normalised tables: a timestamp is
    a dict with exactly one of ``column``, ``date`` (+ ``time``) or ``base``; a condition a dict
    with ``column`` and one of ``equals``, ``in``, ``empty``; ``when`` a tuple of conditions.
    """

    file: str | None = None
    #: the table's name in the dataset's backend (``[connection]``), e.g. ``"support.tickets"``
    table: str | None = None
    absent: bool = False
    columns: dict[str, SourceName] = field(default_factory=dict)
    durations: dict[str, SourceName] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    timestamps: dict[str, dict[str, Any]] = field(default_factory=dict)
    dayfirst: bool = False
    skip_empty: tuple[str, ...] = ()
    group_by: str | None = None
    where: tuple[dict[str, Any], ...] = ()
    joins: dict[str, JoinSource] = field(default_factory=dict)
    layout: Layout = field(default_factory=Layout)
    files: tuple[FilePart, ...] = ()


@dataclass(frozen=True)
class DatasetConfig:
    folder: Path
    timezone: str = "UTC"
    as_of: pd.Timestamp | None = None
    activation_event: str | None = None
    scales: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_SCALES))
    voice_channels: tuple[str, ...] = ("phone",)
    text_channels: tuple[str, ...] | None = None
    business_hours: BusinessHours | None = None
    tables: dict[str, TableSource] = field(default_factory=dict)
    currency: str | None = None  # the unit of costs.cost ("EUR", "$"), written in every cost label
    #: ``[statuses]``: source status name (trimmed, lower-case) -> canonical status (SPEC B5)
    statuses: dict[str, str] = field(default_factory=dict)
    #: ``[[sla]]`` policies in file order (SPEC B6)
    sla: tuple[SlaPolicy, ...] = ()
    #: ``[connection] url``: the backend the tables live in (see :mod:`kpitools.warehouse`)
    connection: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _fail(path: Path, msg: str, column: str | None = None) -> ConfigError:
    return ConfigError(f"{path}: {msg}", file=str(path), column=column)


def _minutes(h: str, m: str) -> int:
    return int(h) * 60 + int(m)


def _parse_interval(path: Path, day: str, text: Any) -> tuple[int, int]:
    match = _INTERVAL.match(text) if isinstance(text, str) else None
    if not match:
        raise _fail(path, f"[business_hours.weekly] {day}: expected intervals like \"09:00-17:00\", got {text!r}")
    start, end = _minutes(*match.group(1, 2)), _minutes(*match.group(3, 4))
    if start >= 1440 or end > 1440 or int(match.group(2)) > 59 or int(match.group(4)) > 59:
        raise _fail(path, f"[business_hours.weekly] {day}: {text!r} is not a time of day (00:00 to 24:00)")
    if end <= start:  # crosses midnight
        end += 1440
    return start, end


def _parse_business_hours(path: Path, raw: Any) -> BusinessHours | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail(path, "[business_hours] must be a table")
    unknown = set(raw) - {"weekly", "closed_dates", "country", "subdivision"}
    if unknown:
        raise _fail(path, f"[business_hours] unknown key(s) {sorted(unknown)}; expected weekly, closed_dates, "
                          "country, subdivision")
    weekly_raw = _typed(path, "[business_hours.weekly]", raw.get("weekly", {}), dict,
                        'a table of weekday = ["09:00-17:00", ...]')
    unknown = set(weekly_raw) - set(WEEKDAYS)
    if unknown:
        raise _fail(path, f"[business_hours.weekly] unknown day(s) {sorted(unknown)}; expected {', '.join(WEEKDAYS)}")
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for i, day in enumerate(WEEKDAYS):
        items = weekly_raw.get(day, [])
        if isinstance(items, str):
            items = [items]
        items = _typed(path, f"[business_hours.weekly] {day}", items, list,
                       f'a list of intervals, e.g. {day} = ["09:00-12:00", "13:00-17:00"]')
        weekly[i] = tuple(sorted(_parse_interval(path, day, s) for s in items))
    if not any(weekly.values()):
        raise _fail(path, "[business_hours] has no opening intervals in [business_hours.weekly]")
    closed = []
    for d in _typed(path, "[business_hours] closed_dates", raw.get("closed_dates", []), list,
                    'a list of dates, e.g. closed_dates = ["2026-12-24"]'):
        try:
            if isinstance(d, dt.datetime) or not isinstance(d, (dt.date, str)):
                raise ValueError
            closed.append(d if isinstance(d, dt.date) else dt.date.fromisoformat(d))
        except ValueError:
            raise _fail(path, f"[business_hours] closed_dates: {d!r} is not a YYYY-MM-DD date") from None
    country = raw.get("country")
    subdivision = raw.get("subdivision")
    for key, value in (("country", country), ("subdivision", subdivision)):
        if value is not None:
            _typed(path, f"[business_hours] {key}", value, str, 'a code of the holidays package, e.g. country = "DE"')
    if subdivision is not None and country is None:
        raise _fail(path, "[business_hours] subdivision needs a country (e.g. country = \"DE\")")
    if country is not None:
        import holidays

        try:
            holidays.country_holidays(country, subdiv=subdivision, years=2020)
        except NotImplementedError:
            raise _fail(path, f"[business_hours] country {country!r} is not known to the holidays package") from None
        except Exception as exc:  # holidays raises NotImplementedError or ValueError for bad subdivisions
            raise _fail(path, f"[business_hours] subdivision {subdivision!r} of {country!r}: {exc}") from None
    return BusinessHours(weekly=weekly, country=country, subdivision=subdivision,
                         closed_dates=tuple(sorted(set(closed))))


def _typed(path: Path, key: str, value: Any, kind: type, expected: str) -> Any:
    """``value`` when it is of the TOML type ``kind``; else a ConfigError naming the key and the
    expected form (a bare string is never read as a list of its letters, nor a number as a time)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _fail(path, f"{key}: expected {expected}, got {value!r}")
    return value


def _names(path: Path, key: str, value: Any, example: str) -> tuple[str, ...]:
    """A list of non-empty strings (e.g. channel names)."""
    items = _typed(path, key, value, list, f"a list of names, e.g. {example}")
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise _fail(path, f"{key}: expected a list of non-empty names, e.g. {example}, got {value!r}")
    return tuple(items)


def _parse_scales(path: Path, raw: Any) -> dict[str, tuple[int, int]]:
    scales = dict(DEFAULT_SCALES)
    for name, value in _typed(path, "[scales]", raw or {}, dict, "a table of survey = [min, max]").items():
        if name not in scales:
            raise _fail(path, f"[scales] unknown survey {name!r}; expected csat, nps or ces")
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value) or value[0] >= value[1]):
            raise _fail(path, f"[scales] {name}: expected [min, max] integers with min < max, got {value!r}")
        scales[name] = (value[0], value[1])
    return scales


def _parse_statuses(path: Path, raw: Any) -> dict[str, str]:
    """``[statuses]``: source name = canonical status. Names are trimmed and matched in any case
    (SPEC B7.5), so two names that differ only so must agree."""
    out: dict[str, str] = {}
    for source, canon in _typed(path, "[statuses]", raw or {}, dict,
                                'a table of source status = canonical status, e.g. "on-hold" = "on_hold"').items():
        if canon not in STATUSES:
            raise _fail(path, f"[statuses] {source!r}: expected one of {', '.join(STATUSES)}, got {canon!r}")
        name = source.strip().lower()
        if not name:
            raise _fail(path, "[statuses]: a source status name is empty")
        if out.get(name, canon) != canon:
            raise _fail(path, f"[statuses] {source!r}: maps to {canon!r} and, written in another case, "
                              f"to {out[name]!r}; names are matched in any case")
        out[name] = canon
    return out


def _parse_sla(path: Path, raw: Any) -> tuple[SlaPolicy, ...]:
    """``[[sla]]``: each entry checked by type; the first problem names the entry and key."""
    out = []
    for i, entry in enumerate(_typed(path, "[[sla]]", raw if raw is not None else [], list,
                                     "an array of tables [[sla]] with metric and target_h")):
        at = f"[[sla]] #{i + 1}"
        entry = _typed(path, at, entry, dict, "a table with metric and target_h")
        unknown = sorted(set(entry) - set(_SLA_KEYS))
        if unknown:
            raise _fail(path, f"{at}: unknown key(s) {unknown}; expected {', '.join(_SLA_KEYS)}")
        metric = entry.get("metric")
        if metric not in SLA_METRICS:
            raise _fail(path, f"{at} metric: expected one of {', '.join(SLA_METRICS)}, got {metric!r}")
        target = entry.get("target_h")
        if not isinstance(target, (int, float)) or isinstance(target, bool) or not 0 < target < float("inf"):
            raise _fail(path, f"{at} target_h: expected a number of hours > 0, got {target!r}")
        scope = {}
        for key in ("channel", "priority"):
            value = entry.get(key)
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise _fail(path, f"{at} {key}: expected a non-empty name, got {value!r}")
            scope[key] = value.strip() if value is not None else None
        bh = entry.get("business_hours", False)
        _typed(path, f"{at} business_hours", bh, bool, "true or false")
        pause = _names(path, f"{at} pause_on", entry.get("pause_on", []), '["pending", "on_hold"]')
        wrong = [p for p in pause if p not in STATUSES]
        if wrong:
            raise _fail(path, f"{at} pause_on: {wrong[0]!r} is not one of {', '.join(STATUSES)}")
        out.append(SlaPolicy(metric, float(target), scope["channel"], scope["priority"], bh,
                             tuple(dict.fromkeys(pause))))
    return tuple(out)


def parse_as_of(value: Any, tz: str) -> pd.Timestamp:
    """A naive ``as_of`` is local time in ``tz``; an offset is honoured. Returned in ``tz``.

    ``value`` is a TOML date or date-time, or text in the ISO form of SPEC A2; anything else
    (a number, a word such as "yesterday") raises ``ValueError``.
    """
    if isinstance(value, str):
        if not re.fullmatch(ISO_PATTERN, value.strip()):
            raise ValueError(f"not an ISO timestamp: {value!r}")
    elif not isinstance(value, dt.date):
        raise ValueError(f"not a timestamp: {value!r}")
    ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    if ts.tzinfo is None:
        return localize(pd.Series([ts]), tz).iloc[0]
    return ts.tz_convert(tz)


def _inside(folder: Path, rel: str, path: Path, what: str) -> str:
    target = (folder / rel).resolve()
    if Path(rel).is_absolute() or not target.is_relative_to(folder.resolve()):
        raise _fail(path, f"{what}: {rel!r} points outside the dataset folder {folder}")
    return rel


def _parse_tables(folder: Path, path: Path, raw: Any) -> dict[str, TableSource]:
    out: dict[str, TableSource] = {}
    for name, spec in (raw or {}).items():
        if name not in TABLES:
            raise _fail(path, f"[tables.{name}]: unknown table; expected one of {', '.join(TABLES)}")
        if not isinstance(spec, dict):
            raise _fail(path, f"[tables.{name}] must be a table")
        allowed = {"file", "table", "absent", "columns", "durations", "constants", "values", "timestamps",
                   "dayfirst", "skip_empty", "group_by", "where", "join", "files", *_LAYOUT_KEYS}
        extra = set(spec) - allowed
        if extra:
            raise _fail(path, f"[tables.{name}]: unknown key(s) {sorted(extra)}; expected {', '.join(sorted(allowed))}")
        file = spec.get("file")
        if file is not None:
            _typed(path, f"[tables.{name}] file", file, str, 'a file name, e.g. file = "calls.csv"')
            _inside(folder, file, path, f"[tables.{name}] file")
        if not isinstance(spec.get("absent", False), bool):
            raise _fail(path, f"[tables.{name}] absent: expected true or false, got {spec['absent']!r}")
        table = spec.get("table")
        if table is not None:
            _typed(path, f"[tables.{name}] table", table, str, 'a table of the backend, e.g. table = "support.tickets"')
            other = sorted(set(spec) - BACKEND_TABLE_KEYS)
            if other or not table.strip():
                raise _fail(path, f"[tables.{name}] table: a table in a backend takes only {', '.join(sorted(BACKEND_TABLE_KEYS))}"
                                  f"{f', got {other}' if other else ''} (do other mappings in a view there)")
        layout = _layout(path, f"[tables.{name}]", spec, Layout())
        parts = _file_parts(folder, path, name, spec, layout)
        canonical = {c.name for c in TABLES[name]}
        for section in ("columns", "durations", "values", "timestamps", "constants"):
            if not isinstance(spec.get(section, {}), dict):
                raise _fail(path, f"[tables.{name}.{section}] must be a table of canonical column = source")
            unknown = set(spec.get(section, {})) - canonical
            if unknown:
                raise _fail(path, f"[tables.{name}.{section}]: {sorted(unknown)} not canonical column(s) of "
                                  f"{name}; expected some of {', '.join(c.name for c in TABLES[name])}")
        out[name] = TableSource(file=file, table=table, absent=spec.get("absent", False), layout=layout, files=parts,
                                **_parse_mapping(folder, path, name, spec))
    return out


def _layout(path: Path, at: str, spec: dict[str, Any], base: Layout) -> Layout:
    """The layout keys of ``spec`` over ``base`` (a table's, for one of its files), each checked."""
    given = {k: spec[k] for k in _LAYOUT_KEYS if k in spec}
    for key, value in given.items():
        _typed(path, f"{at} {key}", value, str, "text")
    delimiter = given.get("delimiter", base.delimiter)
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise _fail(path, f"{at} delimiter: expected one character such as \",\", \";\", \"\\t\" or \"|\", "
                          f"got {delimiter!r}")
    encoding = given.get("encoding", base.encoding)
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            name = None
        known = {codecs.lookup(e).name: e for e in ENCODINGS}
        if name not in known:
            raise _fail(path, f"{at} encoding: expected one of {', '.join(ENCODINGS)}, got {encoding!r}")
        encoding = known[name]
    decimal = given.get("decimal", base.decimal)
    if decimal not in (".", ","):
        raise _fail(path, f"{at} decimal: expected \".\" or \",\", got {decimal!r}")
    thousands = given.get("thousands", base.thousands)
    if thousands is not None and (thousands not in (",", ".", " ", "'") or thousands == decimal):
        raise _fail(path, f"{at} thousands: expected one of \",\", \".\", \" \" or \"'\" other than the decimal "
                          f"mark {decimal!r}, got {thousands!r}")
    return Layout(delimiter=delimiter, encoding=encoding, decimal=decimal, thousands=thousands,
                  sheet=given.get("sheet", base.sheet))


def _file_parts(folder: Path, path: Path, name: str, spec: dict[str, Any], layout: Layout) -> tuple[FilePart, ...]:
    """``files = [{ file = "...", constants = {...}, <layout keys> }, ...]``: a table from several files."""
    if "files" not in spec:
        return ()
    at = f"[tables.{name}] files"
    example = 'files = [{ file = "calls.csv", constants = { channel = "phone" } }, { file = "chats.csv" }]'
    items = _typed(path, at, spec["files"], list, f"a list of tables, e.g. {example}")
    if "file" in spec or not items:
        raise _fail(path, f"{at}: expected a non-empty list instead of file, e.g. {example}")
    canonical = {c.name for c in TABLES[name]}
    parts = []
    for i, item in enumerate(items, start=1):
        key = f"{at} #{i}"
        _typed(path, key, item, dict, 'a table such as { file = "calls.csv" }')
        extra = set(item) - {"file", "constants", *_LAYOUT_KEYS}
        if extra or "file" not in item:
            raise _fail(path, f"{key}: expected file and optionally constants, {', '.join(_LAYOUT_KEYS)}; "
                              f"got keys {sorted(item)}")
        _typed(path, f"{key} file", item["file"], str, 'a file name, e.g. file = "calls.csv"')
        _inside(folder, item["file"], path, f"{key} file")
        constants = _typed(path, f"{key} constants", item.get("constants", {}), dict,
                           'a table of canonical column = value, e.g. constants = { channel = "phone" }')
        unknown = set(constants) - canonical
        if unknown:
            raise _fail(path, f"{key} constants: {sorted(unknown)} not canonical column(s) of {name}")
        for canon, value in constants.items():
            if not isinstance(value, (str, int, float, bool)):
                raise _fail(path, f"{key} constants {canon}: expected a string, number or boolean, got {value!r}")
        parts.append(FilePart(file=item["file"], constants=dict(constants),
                              layout=_layout(path, key, item, layout)))
    return tuple(parts)


# --- column mappings (SPEC §6): every key checked by type, the error naming it ----------------

_SCALAR = (str, int, float, bool)
_CONDITION_TESTS = ("equals", "in", "empty")
_READ_KEYS = ("format", "dayfirst", "unit", "offset_minutes")  # how a column (or date + time) is read
_AMOUNT_KEYS = ("seconds", "duration", "hours", "days", "months_back")  # added to a base
_TIMESTAMP_KEYS = {"column", "date", "time", "base", "when", "agg", *_READ_KEYS, *_AMOUNT_KEYS}


def _source_name(path: Path, key: str, value: Any) -> SourceName:
    """A source column name, or a non-empty list of them (the first non-empty value wins)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise _fail(path, f"{key}: expected a source column name or a list of them (the first non-empty "
                      f"wins), got {value!r}")


def _conditions(path: Path, key: str, value: Any) -> tuple[dict[str, Any], ...]:
    """``{ column = ..., equals = ... | in = [...] | empty = true/false }`` or a list of them (all hold)."""
    shape = (f"{key}: expected {{ column = \"...\", equals = value }} (or in = [values], or empty = true/false), "
             "or a list of them that must all hold")
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict) or "column" not in item:
            raise _fail(path, f"{shape}; got {item!r}")
        tests = [t for t in _CONDITION_TESTS if t in item]
        unknown = set(item) - {"column", *_CONDITION_TESTS}
        if unknown or len(tests) != 1:
            raise _fail(path, f"{shape}; got keys {sorted(item)}")
        test, operand = tests[0], item[tests[0]]
        ok = {"equals": isinstance(operand, _SCALAR),
              "in": isinstance(operand, list) and bool(operand) and all(isinstance(v, _SCALAR) for v in operand),
              "empty": isinstance(operand, bool)}[test]
        if not ok:
            expected = {"equals": "a string, number or boolean",
                        "in": "a non-empty list of strings, numbers or booleans", "empty": "true or false"}[test]
            raise _fail(path, f"{key} {test}: expected {expected}, got {operand!r}")
        out.append({"column": _source_name(path, f"{key} column", item["column"]), test: operand})
    if not out:
        raise _fail(path, f"{shape}; got an empty list")
    return tuple(out)


def _timestamp_spec(path: Path, key: str, spec: Any, group_by: Any) -> dict[str, Any]:
    """One ``[timestamps]`` entry, checked and normalised (a bare name = ``{ column = name }``)."""
    if isinstance(spec, (str, list)):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise _fail(path, f"{key}: expected a source column, a list of them, or a table such as "
                          f"{{ column = \"When\", format = \"%d.%m.%Y %H:%M\" }}; got {spec!r}")
    unknown = set(spec) - _TIMESTAMP_KEYS
    if unknown:
        raise _fail(path, f"{key}: unknown key(s) {sorted(unknown)}; expected some of "
                          f"{', '.join(sorted(_TIMESTAMP_KEYS))}")
    sources = [s for s in ("column", "date", "base") if s in spec]
    if len(sources) != 1 or ("time" in spec) != ("date" in spec):
        raise _fail(path, f"{key}: expected exactly one of column, date + time, or base")
    out = dict(spec)
    for name in ("column", "date", "time"):
        if name in spec:
            out[name] = _source_name(path, f"{key} {name}", spec[name])
    given = set(spec)
    if "base" in spec:
        if not isinstance(spec["base"], str):
            raise _fail(path, f"{key} base: expected \"as_of\" or an earlier timestamp of the table, "
                              f"got {spec['base']!r}")
        if given & set(_READ_KEYS):
            raise _fail(path, f"{key}: {', '.join(sorted(given & set(_READ_KEYS)))} apply to column or date, "
                              "not to base")
        for name in given & set(_AMOUNT_KEYS):
            value = spec[name]
            if isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
                raise _fail(path, f"{key} {name}: expected a number or a source column, got {value!r}")
            if not isinstance(value, (int, float)):
                out[name] = _source_name(path, f"{key} {name}", value)
    elif given & set(_AMOUNT_KEYS):
        raise _fail(path, f"{key}: {', '.join(sorted(given & set(_AMOUNT_KEYS)))} apply only with base")
    if "format" in spec and not (isinstance(spec["format"], str) and spec["format"]):
        raise _fail(path, f"{key} format: expected a strptime format such as \"%d.%m.%Y %H:%M\", "
                          f"got {spec['format']!r}")
    if "dayfirst" in spec and not isinstance(spec["dayfirst"], bool):
        raise _fail(path, f"{key} dayfirst: expected true or false, got {spec['dayfirst']!r}")
    if "unit" in spec and spec["unit"] not in ("s", "ms"):
        raise _fail(path, f"{key} unit: expected \"s\" (epoch seconds) or \"ms\" (epoch milliseconds), "
                          f"got {spec['unit']!r}")
    if "offset_minutes" in spec:
        value = spec["offset_minutes"]
        if isinstance(value, bool) or not isinstance(value, (int, str, list)) or (
                isinstance(value, int) and abs(value) > 18 * 60):
            raise _fail(path, f"{key} offset_minutes: expected a source column or whole minutes east of UTC "
                              f"within ±1080, got {value!r}")
        if not isinstance(value, int):
            out["offset_minutes"] = _source_name(path, f"{key} offset_minutes", value)
    forms = [k for k in ("format", "dayfirst", "unit") if k in spec]
    if len(forms) > 1:
        raise _fail(path, f"{key}: {' and '.join(forms)} are alternatives; declare one form besides ISO")
    if "unit" in spec and "offset_minutes" in spec:
        raise _fail(path, f"{key}: epoch values are instants; offset_minutes does not apply with unit")
    if "when" in spec:
        out["when"] = _conditions(path, f"{key} when", spec["when"])
    if "agg" in spec:
        if spec["agg"] not in ("min", "max"):
            raise _fail(path, f"{key} agg: expected \"min\" or \"max\", got {spec['agg']!r}")
        if group_by is None:
            raise _fail(path, f"{key} agg: applies only with group_by")
    return out


def _joins(folder: Path, path: Path, table: str, raw: Any) -> dict[str, JoinSource]:
    """``[tables.<table>.join.<name>]``: ``file``, ``on`` and optional ``key`` (default: ``on``)."""
    if not isinstance(raw, dict):
        raise _fail(path, f"[tables.{table}.join] must be a table of name = {{ file = \"...\", on = \"...\" }}")
    out: dict[str, JoinSource] = {}
    for name, spec in raw.items():
        key = f"[tables.{table}.join.{name}]"
        if "." in name:
            raise _fail(path, f"{key}: a join name may not contain a dot (columns are named <join>.<column>)")
        if not isinstance(spec, dict) or not {"file", "on"} <= set(spec) or set(spec) - {"file", "on", "key"}:
            raise _fail(path, f"{key}: expected file, on and optionally key, got {spec!r}")
        for part in spec:
            if not (isinstance(spec[part], str) and spec[part]):
                raise _fail(path, f"{key} {part}: expected text, got {spec[part]!r}")
        ref = spec["on"].partition(".")[0]
        if "." in spec["on"] and ref in raw and ref not in out:
            raise _fail(path, f"{key} on: {spec['on']!r} refers to join {ref!r}, which must be declared "
                              f"before {name!r}")
        _inside(folder, spec["file"], path, f"{key} file")
        out[name] = JoinSource(file=spec["file"], path=folder / spec["file"], on=spec["on"],
                               key=spec.get("key", spec["on"]))
    return out


def _parse_mapping(folder: Path, path: Path, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The mapping keys of ``[tables.<name>]`` as :class:`TableSource` fields, checked by type."""
    at = f"[tables.{name}"
    if not isinstance(spec.get("dayfirst", False), bool):
        raise _fail(path, f"{at}] dayfirst: expected true or false, got {spec['dayfirst']!r}")
    skip = spec.get("skip_empty", [])
    if not isinstance(skip, list) or not all(isinstance(s, str) and s for s in skip):
        raise _fail(path, f"{at}] skip_empty: expected a list of source column names, got {skip!r}")
    group_by = spec.get("group_by")
    if group_by is not None and not (isinstance(group_by, str) and group_by):
        raise _fail(path, f"{at}] group_by: expected a canonical column name, got {group_by!r}")
    values = {}
    for canon, value in spec.get("values", {}).items():
        if (not isinstance(value, dict) or "column" not in value or set(value) - {"column", "map"}
                or not isinstance(value.get("map", {}), dict)):
            raise _fail(path, f"{at}.values] {canon}: expected {{ column = \"...\", map = {{ source = canonical, "
                              f"... }} }}, got {value!r}")
        values[canon] = {**value, "column": _source_name(path, f"{at}.values] {canon} column", value["column"])}
    for canon, value in spec.get("constants", {}).items():
        if not isinstance(value, _SCALAR):
            raise _fail(path, f"{at}.constants] {canon}: expected a string, number or boolean, got {value!r}")
    return {
        "columns": {k: _source_name(path, f"{at}.columns] {k}", v) for k, v in spec.get("columns", {}).items()},
        "durations": {k: _source_name(path, f"{at}.durations] {k}", v) for k, v in spec.get("durations", {}).items()},
        "constants": dict(spec.get("constants", {})),
        "values": values,
        "timestamps": {k: _timestamp_spec(path, f"{at}.timestamps] {k}", v, group_by)
                       for k, v in spec.get("timestamps", {}).items()},
        "dayfirst": spec.get("dayfirst", False),
        "skip_empty": tuple(skip),
        "group_by": group_by,
        "where": _conditions(path, f"{at}] where", spec["where"]) if "where" in spec else (),
        "joins": _joins(folder, path, name, spec["join"]) if "join" in spec else {},
    }


def read_config(folder: str | Path) -> DatasetConfig:
    """Read ``folder/dataset.toml``; a missing file means every default (timezone UTC)."""
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not path.exists():
        return DatasetConfig(folder=folder)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise _fail(path, "cannot be read as UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"malformed TOML: {exc}") from None
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise _fail(path, f"unknown key(s) {sorted(unknown)}; expected {', '.join(sorted(_TOP_KEYS))}")
    tz = _typed(path, "timezone", raw.get("timezone", "UTC"), str, 'an IANA time zone name, e.g. "Europe/Berlin"')
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise _fail(path, f"timezone {tz!r} is not an IANA time zone name (e.g. \"Europe/Berlin\")") from None
    as_of = None
    if "as_of" in raw:
        try:
            as_of = parse_as_of(raw["as_of"], tz)
        except (ValueError, TypeError):
            raise _fail(path, f"as_of {raw['as_of']!r} is not a timestamp like \"2026-11-15T12:00:00\" "
                              "(naive = dataset timezone; an offset is allowed)") from None
    groups = _typed(path, "[channel_groups]", raw.get("channel_groups", {}), dict,
                    'a table such as voice = ["phone"]')
    if set(groups) - set(GROUPS):
        raise _fail(path, f"[channel_groups] only voice and text are known, got {sorted(groups)}")
    voice = _names(path, "[channel_groups] voice", groups.get("voice", ["phone"]), 'voice = ["phone"]')
    text = _names(path, "[channel_groups] text", groups["text"], 'text = ["chat", "email"]') if "text" in groups else None
    act = raw.get("activation_event")
    if act is not None:
        _typed(path, "activation_event", act, str, 'the name of an activity event, e.g. "activated"')
    currency = raw.get("currency")
    if currency is not None and not (isinstance(currency, str) and currency.strip()):
        raise _fail(path, f"currency {currency!r} is not a currency name like \"EUR\"")
    return DatasetConfig(
        folder=folder,
        timezone=tz,
        as_of=as_of,
        activation_event=str(act) if act is not None else None,
        scales=_parse_scales(path, raw.get("scales")),
        voice_channels=voice,
        text_channels=text,
        business_hours=_parse_business_hours(path, raw.get("business_hours")),
        tables=_parse_tables(folder, path, _typed(path, "[tables]", raw.get("tables", {}), dict,
                                                  "a table of [tables.<name>] sections")),
        currency=currency.strip() if currency is not None else None,
        statuses=_parse_statuses(path, raw.get("statuses")),
        sla=_parse_sla(path, raw.get("sla")),
        connection=_parse_connection(path, raw.get("connection")),
    )


def _parse_connection(path: Path, raw: Any) -> str | None:
    """``[connection] url = "..."``: an Ibis connection URL (``duckdb://warehouse.duckdb``, a path
    relative to the dataset folder; ``postgres://...``) or ``spark`` (the process's Spark session)."""
    if raw is None:
        return None
    example = 'url = "duckdb://warehouse.duckdb" (or "spark", "postgres://user@host/db")'
    _typed(path, "[connection]", raw, dict, f"a table such as {example}")
    if set(raw) != {"url"}:
        raise _fail(path, f"[connection]: expected only url, e.g. {example}; got keys {sorted(raw)}")
    url = _typed(path, "[connection] url", raw["url"], str, example)
    if url != "spark" and "://" not in url:
        raise _fail(path, f"[connection] url: expected a URL such as {example}, got {url!r}")
    return url
