"""Known answers for status changes and ``[statuses]`` (SPEC §8 B5, B7.5)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools.errors import ConfigError

UTC = "UTC"


def write(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "dataset.toml").write_text(
        'timezone = "UTC"\n[statuses]\n"On-Hold" = "on_hold"\n" Waiting " = "pending"\nDone = "solved"\n'
        "reopened = \"open\"\n", encoding="utf-8")
    write(tmp_path, "tickets.csv", ["ticket_id,channel,created_at",
                                    "A,email,2026-10-01 10:00", "B,email,2026-10-01 10:00",
                                    "C,chat,2026-10-01 10:00", "D,chat,2026-10-01 10:00"])
    return tmp_path


def test_statuses_mapped_trimmed_any_case_and_unmapped_rejected(folder: Path) -> None:
    write(folder, "status_changes.csv", [
        "ticket_id,changed_at,status",
        "A,2026-10-01 11:00, OPEN",        # canonical names need no mapping, in any case
        "A,2026-10-01 12:00,on-hold",       # mapped in another case
        "A,2026-10-01 13:00,WAITING",       # mapped, the name trimmed
        "A,2026-10-01 14:00,escalated",     # unmapped: rejected
        "A,2026-10-01 15:00,on_hold",
        "A,2026-10-01 15:00,on_hold",       # no key: never de-duplicated
        "Z,2026-10-01 15:00,done",          # an unknown ticket: kept
    ])
    ds = kt.load(folder)
    assert ds.tables["status_changes"]["status"].tolist() == ["open", "on_hold", "pending", "on_hold", "on_hold",
                                                             "solved"]
    rejects = ds.rejects[["table", "row", "column", "value"]].values.tolist()
    assert rejects == [["status_changes", 5, "status", "escalated"]]
    assert ds.rejects["reason"].iloc[0].startswith("unmapped status")
    counts = ds.counts.set_index("table").loc["status_changes"]
    assert counts[["rows_in", "rows_kept", "rows_rejected"]].tolist() == [7, 6, 1]


def test_resolved_at_and_reopened_from_status_changes(folder: Path) -> None:
    write(folder, "status_changes.csv", [
        "ticket_id,changed_at,status",
        "A,2026-10-01 11:00,pending",
        "A,2026-10-01 12:00,solved",        # the first solved: resolved_at
        "A,2026-10-01 13:00,closed",        # solved -> closed is no reopen
        "A,2026-10-01 14:00,reopened",      # a reopen
        "A,2026-10-01 15:00,done",
        "A,2026-10-01 16:00,on-hold",       # a second reopen
        "B,2026-09-30 08:00,open",          # before created_at: takes effect at created_at
        "B,2026-09-30 09:00,solved",        # so the ticket is resolved at created_at
        "C,2026-10-01 11:00,open",          # never solved
        "Z,2026-10-01 11:00,solved",        # unknown ticket: kept, ignored
    ])
    ds = kt.load(folder)
    t = ds.tickets.set_index("ticket_id")
    assert t.loc["A", "resolved_at"] == pd.Timestamp("2026-10-01 12:00", tz=UTC)
    assert t.loc["B", "resolved_at"] == pd.Timestamp("2026-10-01 10:00", tz=UTC)
    assert t[["resolved_at"]].loc[["C", "D"]].isna().all().all()
    assert t["reopened"].to_dict() == {"A": 2, "B": 0, "C": 0, "D": 0}
    assert {"resolved_at", "reopened"} <= ds.provided("tickets")
    assert "first_response_at" not in ds.provided("tickets")  # no messages: nothing to derive it from
    assert ds.rows("status_changes") == 10


def test_a_change_before_created_at_orders_by_file_at_created_at(folder: Path) -> None:
    write(folder, "status_changes.csv", [
        "ticket_id,changed_at,status",
        "A,2026-09-30 09:00,solved",        # both take effect at created_at, in file order:
        "A,2026-09-30 08:00,open",          # solved then open is a reopen
    ])
    ds = kt.load(folder)
    t = ds.tickets.set_index("ticket_id")
    assert t.loc["A", "resolved_at"] == pd.Timestamp("2026-10-01 10:00", tz=UTC)
    assert t.loc["A", "reopened"] == 1


def test_provided_ticket_columns_are_not_derived(folder: Path) -> None:
    write(folder, "tickets.csv", ["ticket_id,channel,created_at,resolved_at,reopened",
                                  "A,email,2026-10-01 10:00,,"])
    write(folder, "status_changes.csv", ["ticket_id,changed_at,status", "A,2026-10-01 12:00,solved",
                                         "A,2026-10-01 13:00,open"])
    ds = kt.load(folder)
    assert ds.tickets["resolved_at"].isna().all() and ds.tickets["reopened"].tolist() == [0]


@pytest.mark.parametrize("toml, message", [
    ('[statuses]\nhold = "waiting"\n', "expected one of new, open, pending, on_hold, solved, closed"),
    ('[statuses]\nHold = "on_hold"\nhold = "pending"\n', "names are matched in any case"),
    ('statuses = ["open"]\n', "[statuses]: expected a table"),
])
def test_bad_statuses_section(folder: Path, toml: str, message: str) -> None:
    (folder / "dataset.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        kt.load(folder)
