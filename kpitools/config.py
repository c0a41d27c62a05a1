"""``dataset.toml``: the facts about a dataset (SPEC §2, A1) and its column mappings (SPEC §6)."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from .errors import ConfigError
from .schema import DEFAULT_SCALES, GROUPS, TABLES
from .timeparse import localize

CONFIG_NAME = "dataset.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_TOP_KEYS = {"timezone", "as_of", "activation_event", "scales", "channel_groups",
             "business_hours", "tables"}


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


@dataclass(frozen=True)
class TableSource:
    """Where a canonical table comes from and how its columns are mapped (SPEC §6).

    See the README section "Column mappings" for the user-facing description of every key.
    """

    file: str | None = None
    absent: bool = False
    columns: dict[str, str] = field(default_factory=dict)
    durations: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    timestamps: dict[str, Any] = field(default_factory=dict)
    dayfirst: bool = False
    skip_empty: tuple[str, ...] = ()
    group_by: str | None = None


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
    weekly_raw = raw.get("weekly", {})
    unknown = set(weekly_raw) - set(WEEKDAYS)
    if unknown:
        raise _fail(path, f"[business_hours.weekly] unknown day(s) {sorted(unknown)}; expected {', '.join(WEEKDAYS)}")
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for i, day in enumerate(WEEKDAYS):
        items = weekly_raw.get(day, [])
        if isinstance(items, str):
            items = [items]
        weekly[i] = tuple(sorted(_parse_interval(path, day, s) for s in items))
    if not any(weekly.values()):
        raise _fail(path, "[business_hours] has no opening intervals in [business_hours.weekly]")
    closed = []
    for d in raw.get("closed_dates", []):
        try:
            closed.append(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)))
        except ValueError:
            raise _fail(path, f"[business_hours] closed_dates: {d!r} is not a YYYY-MM-DD date") from None
    country = raw.get("country")
    subdivision = raw.get("subdivision")
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


def _parse_scales(path: Path, raw: Any) -> dict[str, tuple[int, int]]:
    scales = dict(DEFAULT_SCALES)
    for name, value in (raw or {}).items():
        if name not in scales:
            raise _fail(path, f"[scales] unknown survey {name!r}; expected csat, nps or ces")
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) for v in value) or value[0] >= value[1]):
            raise _fail(path, f"[scales] {name}: expected [min, max] integers with min < max, got {value!r}")
        scales[name] = (value[0], value[1])
    return scales


def parse_as_of(value: Any, tz: str) -> pd.Timestamp:
    """A naive ``as_of`` is local time in ``tz``; an offset is honoured. Returned in ``tz``."""
    ts = pd.Timestamp(value)
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
        allowed = {"file", "absent", "columns", "durations", "constants", "values", "timestamps",
                   "dayfirst", "skip_empty", "group_by"}
        extra = set(spec) - allowed
        if extra:
            raise _fail(path, f"[tables.{name}]: unknown key(s) {sorted(extra)}; expected {', '.join(sorted(allowed))}")
        file = spec.get("file")
        if file is not None:
            _inside(folder, str(file), path, f"[tables.{name}] file")
        canonical = {c.name for c in TABLES[name]}
        for section in ("columns", "durations", "values", "timestamps", "constants"):
            if not isinstance(spec.get(section, {}), dict):
                raise _fail(path, f"[tables.{name}.{section}] must be a table of canonical column = source")
            unknown = set(spec.get(section, {})) - canonical
            if unknown:
                raise _fail(path, f"[tables.{name}.{section}]: {sorted(unknown)} not canonical column(s) of "
                                  f"{name}; expected some of {', '.join(c.name for c in TABLES[name])}")
        out[name] = TableSource(
            file=file,
            absent=bool(spec.get("absent", False)),
            columns={str(k): str(v) for k, v in spec.get("columns", {}).items()},
            durations={str(k): str(v) for k, v in spec.get("durations", {}).items()},
            constants=dict(spec.get("constants", {})),
            values={k: dict(v) for k, v in spec.get("values", {}).items()},
            timestamps=dict(spec.get("timestamps", {})),
            dayfirst=bool(spec.get("dayfirst", False)),
            skip_empty=tuple(spec.get("skip_empty", ())),
            group_by=spec.get("group_by"),
        )
    return out


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
    tz = raw.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise _fail(path, f"timezone {tz!r} is not an IANA time zone name (e.g. \"Europe/Berlin\")") from None
    as_of = None
    if "as_of" in raw:
        try:
            as_of = parse_as_of(raw["as_of"], tz)
        except (ValueError, TypeError):
            raise _fail(path, f"as_of {raw['as_of']!r} is not a timestamp like \"2026-11-15T12:00:00\"") from None
    groups = raw.get("channel_groups", {}) or {}
    if set(groups) - set(GROUPS):
        raise _fail(path, f"[channel_groups] only voice and text are known, got {sorted(groups)}")
    voice = tuple(groups.get("voice", ["phone"]))
    text = tuple(groups["text"]) if "text" in groups else None
    act = raw.get("activation_event")
    return DatasetConfig(
        folder=folder,
        timezone=tz,
        as_of=as_of,
        activation_event=str(act) if act is not None else None,
        scales=_parse_scales(path, raw.get("scales")),
        voice_channels=voice,
        text_channels=text,
        business_hours=_parse_business_hours(path, raw.get("business_hours")),
        tables=_parse_tables(folder, path, raw.get("tables")),
    )
