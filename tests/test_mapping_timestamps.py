"""Mapped timestamps are exactly as exact as unmapped ones (SPEC §6, A2), with known answers.

One parser reads every timestamp: an explicit offset is kept, mixed offsets are fine, naive
values are local to the dataset timezone (or to a declared offset in minutes), epoch seconds
and milliseconds are instants, and a value that matches neither ISO nor the one declared form
is rejected with that form in the reason, never guessed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools.errors import ConfigError
from kpitools.timeparse import ISO_FORM, parse_timestamps


def make(folder: Path, toml: str, files: dict[str, str]) -> kt.Dataset:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return kt.load(folder)


def tickets_toml(timezone: str, created: str, *, table: str = "") -> str:
    """A mapped tickets table whose created_at is ``created`` (a TOML value)."""
    return f"""
timezone = "{timezone}"
[tables.tickets]
file = "export.csv"
constants = {{ channel = "chat" }}
{table}
[tables.tickets.columns]
ticket_id = "Id"
[tables.tickets.timestamps]
created_at = {created}
"""


def created(ds: kt.Dataset) -> dict[str, str]:
    """ticket_id → created_at as an ISO instant in UTC."""
    t = ds.tickets.set_index("ticket_id")["created_at"].dt.tz_convert("UTC")
    return t.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_dict()


def reasons(ds: kt.Dataset) -> dict[int, str]:
    return ds.rejects.set_index("row")["reason"].to_dict()


def test_explicit_offset_is_kept_exactly_as_in_an_unmapped_file(tmp_path: Path) -> None:
    # before: read as 21:45 New York wall time = 01:45 UTC on 1 November (4 hours off, next month)
    mapped = make(tmp_path / "mapped", tickets_toml("America/New_York", '"Created"'),
                  {"export.csv": "Id,Created\nA,2017-10-31T21:45:10Z\nB,2017-10-31 21:45:10+02:00\n"})
    plain = make(tmp_path / "plain", 'timezone = "America/New_York"\n',
                 {"tickets.csv": "ticket_id,channel,created_at\nA,chat,2017-10-31T21:45:10Z\n"
                                 "B,chat,2017-10-31 21:45:10+02:00\n"})
    assert created(mapped) == created(plain) == {"A": "2017-10-31T21:45:10Z", "B": "2017-10-31T19:45:10Z"}
    local = mapped.tickets.set_index("ticket_id")["created_at"]
    assert local["A"].isoformat() == "2017-10-31T17:45:10-04:00"      # still October in New York


def test_mixed_offsets_in_one_column_are_instants(tmp_path: Path) -> None:
    # before: a raw AttributeError ("Can only use .dt accessor with datetimelike values")
    ds = make(tmp_path, tickets_toml("Europe/Berlin", '"Created"'),
              {"export.csv": "Id,Created\nA,2026-10-01T08:00:00+02:00\nB,2026-10-01T08:00:00-05:00\n"
                             "C,2026-10-01T08:00:00Z\nD,2026-10-01T08:00:00\n"})
    assert created(ds) == {"A": "2026-10-01T06:00:00Z", "B": "2026-10-01T13:00:00Z",
                           "C": "2026-10-01T08:00:00Z", "D": "2026-10-01T06:00:00Z"}  # D: Berlin summer time


def test_mixed_offsets_through_a_declared_format(tmp_path: Path) -> None:
    ds = make(tmp_path, tickets_toml("UTC", '{ column = "Created", format = "%d.%m.%Y %H:%M %z" }'),
              {"export.csv": "Id,Created\nA,31.10.2017 21:45 +0100\nB,31.10.2017 21:45 -0500\n"})
    assert created(ds) == {"A": "2017-10-31T20:45:00Z", "B": "2017-11-01T02:45:00Z"}


def test_day_month_text_without_a_declared_form_is_rejected_not_guessed(tmp_path: Path) -> None:
    # before: 03/11/2026 became 11 March and 13/11/2026 13 November in the same column, 0 rejects
    ds = make(tmp_path, tickets_toml("UTC", '"Created"'),
              {"export.csv": "Id,Created\nA,03/11/2026\nB,13/11/2026\nC,2026-11-03\n"})
    assert created(ds) == {"C": "2026-11-03T00:00:00Z"}
    assert reasons(ds) == {2: f"unparseable timestamp in created_at (expected {ISO_FORM})",
                           3: f"unparseable timestamp in created_at (expected {ISO_FORM})"}
    assert ds.rejects.set_index("row")["value"].to_dict() == {2: "03/11/2026", 3: "13/11/2026"}


def test_dayfirst_reads_every_value_day_first(tmp_path: Path) -> None:
    ds = make(tmp_path, tickets_toml("UTC", '{ column = "Created", dayfirst = true }'),
              {"export.csv": "Id,Created\nA,03/11/2026\nB,13/11/2026 9:05\nC,3.11.2026 09:05:07\nD,11/13/2026\n"
                             "E,2026-11-03T10:00:00+01:00\n"})
    assert created(ds) == {"A": "2026-11-03T00:00:00Z", "B": "2026-11-13T09:05:00Z",
                           "C": "2026-11-03T09:05:07Z", "E": "2026-11-03T09:00:00Z"}
    assert reasons(ds) == {5: f"unparseable timestamp in created_at (expected {ISO_FORM} or "
                              "DD/MM/YYYY[ HH:MM[:SS]][±HH:MM])"}                 # month 13


def test_a_declared_format_is_the_only_other_form(tmp_path: Path) -> None:
    ds = make(tmp_path, tickets_toml("UTC", '{ column = "Created", format = "%m/%d/%Y" }'),
              {"export.csv": "Id,Created\nA,03/11/2026\nB,13/11/2026\nC,2026-11-03 08:00\n"})
    assert created(ds) == {"A": "2026-03-11T00:00:00Z", "C": "2026-11-03T08:00:00Z"}   # ISO always accepted
    assert reasons(ds) == {3: f"unparseable timestamp in created_at (expected {ISO_FORM} or format %m/%d/%Y)"}


def test_table_dayfirst_applies_to_date_plus_time(tmp_path: Path) -> None:
    ds = make(tmp_path, tickets_toml("Europe/Berlin", '{ date = "Day", time = "Clock" }', table="dayfirst = true"),
              {"export.csv": "Id,Day,Clock\nA,29/03/2026,02:30:00\nB,25/10/2026,02:30\nC,31/02/2026,10:00\n"})
    # A2 in the spring gap (02:30 → 03:30 summer time) and the repeated autumn hour (standard time)
    assert created(ds) == {"A": "2026-03-29T01:30:00Z", "B": "2026-10-25T01:30:00Z"}
    assert list(reasons(ds)) == [4]                                                    # 31 February
    assert ds.rejects["value"].tolist() == ["31/02/2026 10:00"]


@pytest.mark.parametrize(("unit", "values", "expected"), [
    ("s", ["1509486310", "1509486310.25", "-86400"],
     ["2017-10-31T21:45:10.000000Z", "2017-10-31T21:45:10.250000Z", "1969-12-31T00:00:00.000000Z"]),
    ("ms", ["1509486310123", "0", "1509486310123.5"],
     ["2017-10-31T21:45:10.123000Z", "1970-01-01T00:00:00.000000Z", "2017-10-31T21:45:10.123500Z"]),
])
def test_epoch_seconds_and_milliseconds(tmp_path: Path, unit: str, values: list[str], expected: list[str]) -> None:
    rows = "".join(f"{i},{v}\n" for i, v in enumerate([*values, "1e3", "99999999999999999", "2017-10-31"]))
    ds = make(tmp_path, tickets_toml("Asia/Tokyo", f'{{ column = "Created", unit = "{unit}" }}'),
              {"export.csv": "Id,Created\n" + rows})
    t = ds.tickets.set_index("ticket_id")["created_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert t.to_dict() == {**dict(zip(["0", "1", "2"], expected)), "5": "2017-10-30T15:00:00.000000Z"}  # ISO: Tokyo
    what = "seconds" if unit == "s" else "milliseconds"
    assert reasons(ds) == {5: f"unparseable timestamp in created_at (expected {ISO_FORM} or epoch {what})",
                           6: f"unparseable timestamp in created_at (expected {ISO_FORM} or epoch {what})"}


def test_offset_in_minutes_from_a_column(tmp_path: Path) -> None:
    ds = make(tmp_path, tickets_toml("Europe/Berlin", '{ column = "Created", offset_minutes = "Tz" }'),
              {"export.csv": "Id,Created,Tz\nA,2026-10-01 10:00,120\nB,2026-10-01 10:00,-300\n"
                             "C,2026-10-01 10:00,\nD,2026-10-01 10:00+00:00,330\nE,2026-10-01 10:00,abc\n"
                             "F,2026-10-01 10:00,1200\n"})
    assert created(ds) == {"A": "2026-10-01T08:00:00Z", "B": "2026-10-01T15:00:00Z",
                           "C": "2026-10-01T08:00:00Z",      # no offset: the dataset timezone (CEST)
                           "D": "2026-10-01T10:00:00Z"}      # the value's own offset is kept
    rejects = ds.rejects.set_index("row")
    assert rejects["value"].to_dict() == {6: "2026-10-01 10:00 (offset abc)", 7: "2026-10-01 10:00 (offset 1200)"}
    assert rejects.loc[6, "reason"] == (f"unparseable timestamp in created_at (expected {ISO_FORM}, "
                                        "at the offset in minutes in 'Tz')")
    assert "Tz" not in ds.tickets.columns


def test_constant_offset_in_minutes(tmp_path: Path) -> None:
    ds = make(tmp_path, tickets_toml("UTC", '{ column = "Created", format = "%d.%m.%Y %H:%M", offset_minutes = 330 }'),
              {"export.csv": "Id,Created\nA,01.10.2026 10:00\n"})
    assert created(ds) == {"A": "2026-10-01T04:30:00Z"}


def test_durations_from_a_base_are_elapsed_time_and_days_are_calendar_days(tmp_path: Path) -> None:
    ds = make(tmp_path, """
timezone = "Europe/Berlin"
[tables.tickets]
file = "export.csv"
constants = { channel = "phone" }
[tables.tickets.columns]
ticket_id = "Id"
[tables.tickets.timestamps]
created_at = "Created"
first_response_at = { base = "created_at", seconds = "Wait" }
resolved_at = { base = "created_at", days = 1 }
""", {"export.csv": "Id,Created,Wait\nA,2026-10-25 01:30:00,3600\nB,2026-10-25 01:00:00,abc\n"
                    "C,2026-10-25 01:00:00,2026-01-01\nD,2026-10-25 01:00:00,\nE,2026-10-24 12:00:00,60\n"})
    t = ds.tickets.set_index("ticket_id")
    # an hour after 01:30 CEST is the first 02:30 (CEST); wall-clock arithmetic gave the second (CET)
    assert t.loc["A", "first_response_at"].isoformat() == "2026-10-25T02:30:00+02:00"
    # one calendar day after 24 October 12:00 CEST is 25 October 12:00 CET (25 elapsed hours)
    assert t.loc["E", "resolved_at"].isoformat() == "2026-10-25T12:00:00+01:00"
    assert pd.isna(t.loc["D", "first_response_at"])                                   # empty wait: unanswered
    rejects = ds.rejects.set_index("row")
    assert rejects["column"].to_dict() == {3: "first_response_at", 4: "first_response_at"}
    assert rejects["value"].to_dict() == {3: "abc (seconds)", 4: "2026-01-01 (seconds)"}  # never read as a date
    assert rejects.loc[3, "reason"] == ("unparseable timestamp in first_response_at "
                                        "(expected created_at plus seconds as seconds or hh:mm:ss)")


def test_parser_options_are_one_function() -> None:
    text = pd.Series(["2026-10-01T08:00:00Z", "01.10.2026 08:00", "1790000000", ""])
    assert parse_timestamps(text, "UTC").notna().tolist() == [True, False, False, False]
    assert parse_timestamps(text, "UTC", dayfirst=True).notna().tolist() == [True, True, False, False]
    assert parse_timestamps(text, "UTC", format="%d.%m.%Y %H:%M").notna().tolist() == [True, True, False, False]
    assert parse_timestamps(text, "UTC", unit="s").notna().tolist() == [True, False, True, False]


@pytest.mark.parametrize(("spec", "message"), [
    ('{ column = "Created", unit = "h" }', 'created_at unit: expected "s" (epoch seconds) or "ms"'),
    ('{ column = "Created", unit = "s", format = "%d" }', "created_at: format and unit are alternatives"),
    ('{ column = "Created", unit = "s", offset_minutes = "Tz" }', "offset_minutes does not apply with unit"),
    ('{ column = "Created", offset_minutes = true }', "created_at offset_minutes: expected a source column"),
    ('{ column = "Created", offset_minutes = 2000 }', "within ±1080"),
    ('{ column = "Created", dayfirst = "yes" }', "created_at dayfirst: expected true or false"),
    ('{ column = "Created", format = 5 }', "created_at format: expected a strptime format"),
    ('{ column = "Created", base = "as_of" }', "expected exactly one of column, date + time, or base"),
    ('{ date = "Created" }', "expected exactly one of column, date + time, or base"),
    ('{ column = "Created", seconds = "Wait" }', "seconds apply only with base"),
    ('{ base = "as_of", format = "%d" }', "format apply to column or date, not to base"),
    ('{ column = "Created", agg = "min" }', "created_at agg: applies only with group_by"),
    ('{ column = "Created", zone = "x" }', "created_at: unknown key(s) ['zone']"),
    ("42", "created_at: expected a source column, a list of them, or a table"),
])
def test_timestamp_options_are_checked_by_type(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"\[tables\.tickets\.timestamps\]") as err:
        make(tmp_path, tickets_toml("UTC", spec), {"export.csv": "Id,Created\nA,2026-10-01\n"})
    assert message in str(err.value)
