"""Mapping features of SPEC §6 with known answers: ``where`` (rows kept only where conditions
hold), ``join`` (a column looked up in a second file, many rows to one) and coalesce (the first
non-empty of several columns), each key checked by type."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools.errors import ConfigError, DatasetError


def make(folder: Path, toml: str, files: dict[str, str]) -> kt.Dataset:
    (folder / "dataset.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return kt.load(folder)


CALLS = ("Id,Direction,Queue,Deleted,Inbound,Score,Created\n"
         "A,in,sales,,true,1.0,2026-10-01\n"
         "B,out,sales,,false,1,2026-10-01\n"
         "C,in,support,,TRUE,2,2026-10-01\n"
         "D,in,billing,,yes,1,2026-10-01\n"
         "E,in,sales,2026-10-02,1,1,2026-10-01\n"
         "F,in,sales,,Y,1,not a date\n")


def calls(folder: Path, where: str) -> kt.Dataset:
    return make(folder, f"""
[tables.tickets]
file = "calls.csv"
constants = {{ channel = "phone" }}
where = {where}
[tables.tickets.columns]
ticket_id = "Id"
[tables.tickets.timestamps]
created_at = "Created"
""", {"calls.csv": CALLS})


@pytest.mark.parametrize(("where", "kept"), [
    ('{ column = "Direction", equals = "in" }', ["A", "C", "D", "E"]),
    ('{ column = "Inbound", equals = true }', ["A", "C", "D", "E"]),            # A3 boolean words, any case
    ('{ column = "Score", equals = 1 }', ["A", "B", "D", "E"]),                      # numbers compare as numbers
    ('{ column = "Queue", in = ["sales", "billing"] }', ["A", "B", "D", "E"]),
    ('{ column = "Deleted", empty = true }', ["A", "B", "C", "D"]),
    ('{ column = "Deleted", empty = false }', ["E"]),
    ('[{ column = "Direction", equals = "in" }, { column = "Queue", in = ["sales"] }, '
     '{ column = "Deleted", empty = true }]', ["A"]),                           # all must hold
])
def test_where_keeps_only_rows_of_the_table(tmp_path: Path, where: str, kept: list[str]) -> None:
    ds = calls(tmp_path, where)
    assert ds.tickets["ticket_id"].tolist() == kept
    rejected = ds.rejects["row"].tolist()                                         # F: its date is unreadable
    counts = ds.counts.set_index("table").loc["tickets"]
    # rows left out by where are not rows of the table: rows_in counts the rest, kept + rejected
    assert counts["rows_in"] == counts["rows_kept"] + counts["rows_rejected"] == len(kept) + len(rejected)


def test_where_rejects_still_name_the_source_row(tmp_path: Path) -> None:
    ds = calls(tmp_path, '{ column = "Inbound", equals = true }')
    assert ds.rejects[["row", "column", "value"]].values.tolist() == [[7, "created_at", "not a date"]]
    counts = ds.counts.set_index("table").loc["tickets"]
    assert counts["rows_in"] == 5                                                 # B (outbound) is not counted ...
    assert counts["note"] == "1 source row left out by where (not rows of this table)"  # ... but accounted for
    assert "Inbound" not in ds.tickets.columns and "Direction" in ds.tickets.columns  # a condition uses its column


def test_join_takes_the_channel_from_an_inboxes_file(tmp_path: Path) -> None:
    ds = make(tmp_path, """
[tables.tickets]
file = "conversations.csv"
[tables.tickets.join.inboxes]
file = "inboxes.csv"
on = "inbox_id"
key = "id"
[tables.tickets.columns]
ticket_id = "id"
channel = "inboxes.channel_type"
[tables.tickets.timestamps]
created_at = "created_at"
""", {"conversations.csv": "id,inbox_id,created_at\nc1,1,2026-10-01\nc2,2,2026-10-01\nc3, 1 ,2026-10-01\n"
                           "c4,9,2026-10-01\n",
          "inboxes.csv": "id,channel_type,name\n1,email,Support\n2,chat,Website\n"})
    assert ds.tickets.set_index("ticket_id")["channel"].to_dict() == {"c1": "email", "c2": "chat", "c3": "email"}
    assert ds.rejects[["row", "column", "reason"]].values.tolist() == [[5, "channel", "empty required column channel"]]
    assert "name" not in ds.tickets.columns                    # a joined file adds only the columns named


def test_join_chains_and_reads_parquet(tmp_path: Path) -> None:
    # an author's role from a users file, and through it the customer's id from a people file
    pd.DataFrame({"user": ["u1", "u2"], "role": ["agent", "customer"], "person": ["p7", "p8"]}).to_parquet(
        tmp_path / "users.parquet")
    ds = make(tmp_path, """
[tables.tickets]
file = "tickets_export.csv"
constants = { channel = "email" }
[tables.tickets.join.users]
file = "users.parquet"
on = "requester"
key = "user"
[tables.tickets.join.people]
file = "people.csv"
on = "users.person"
key = "person_id"
[tables.tickets.columns]
ticket_id = "id"
topic = "users.role"
customer_id = "people.email"
[tables.tickets.timestamps]
created_at = "at"
""", {"tickets_export.csv": "id,requester,at\nt1,u1,2026-10-01\nt2,u2,2026-10-01\n",
          "people.csv": "person_id,email\np8,x@example.com\n"})
    t = ds.tickets.set_index("ticket_id")
    assert t["topic"].to_dict() == {"t1": "agent", "t2": "customer"}
    assert pd.isna(t.loc["t1", "customer_id"]) and t.loc["t2", "customer_id"] == "x@example.com"


def inboxes(folder: Path, inbox_csv: str, join: str = 'file = "inboxes.csv"\non = "inbox_id"\nkey = "id"',
            channel: str = "inboxes.channel_type") -> kt.Dataset:
    return make(folder, f"""
[tables.tickets]
file = "conversations.csv"
[tables.tickets.join.inboxes]
{join}
[tables.tickets.columns]
ticket_id = "id"
channel = "{channel}"
[tables.tickets.timestamps]
created_at = "created_at"
""", {"conversations.csv": "id,inbox_id,created_at\nc1,1,2026-10-01\n", "inboxes.csv": inbox_csv})


def test_join_needs_one_row_per_key(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"inboxes.csv: key '1' of column 'id' is on rows 2 and 4; a joined file "
                                           r"needs one row per key \(many-to-one, \[tables.tickets.join.inboxes\]"):
        inboxes(tmp_path, "id,channel_type\n1,email\n2,chat\n 1,phone\n")


@pytest.mark.parametrize(("inbox_csv", "join", "channel", "message"), [
    ("ident,channel_type\n1,email\n", None, None, r"inboxes.csv: no key column 'id'"),
    ("id,channel_type\n1,email\n", None, "inboxes.kind", r"inboxes.csv: column 'kind' \(named as inboxes.kind"),
    ("id,channel_type\n1,email,x\n", None, None, r"inboxes.csv: row 2: row has 3 fields, expected 2"),
    ("id,channel_type\n1,email\n", 'file = "missing.csv"\non = "inbox_id"\nkey = "id"', None,
     r"missing.csv: file not found \(named by \[tables.tickets.join.inboxes\]"),
    ("id,channel_type\n1,email\n", 'file = "inboxes.csv"\non = "inbox"\nkey = "id"', None,
     r"names column 'inbox', which the file does not have"),
])
def test_join_file_problems_stop_the_load_naming_file_and_column(
        tmp_path: Path, inbox_csv: str, join: str | None, channel: str | None, message: str) -> None:
    kwargs = {k: v for k, v in (("join", join), ("channel", channel)) if v is not None}
    with pytest.raises(DatasetError, match=message):
        inboxes(tmp_path, inbox_csv, **kwargs)


def test_coalesce_takes_the_first_non_empty_column(tmp_path: Path) -> None:
    ds = make(tmp_path, """
[tables.tickets]
file = "export.csv"
constants = { channel = "email" }
[tables.tickets.columns]
ticket_id = "Id"
customer_id = ["Email", "Phone", "Account"]
[tables.tickets.timestamps]
created_at = ["Created", "Imported"]
resolved_at = { column = ["Solved", "Closed"], dayfirst = true, when = { column = "State", in = ["solved", "closed"] } }
""", {"export.csv": "Id,Email,Phone,Account,Created,Imported,Solved,Closed,State\n"
                    "A,a@x.org,+49,acc1,2026-10-01,,,02/10/2026,closed\n"
                    "B,  ,+49 30,acc2,,2026-10-01,02/10/2026,,solved\n"
                    "C,,,,2026-10-01,,03/10/2026,,open\n"})
    t = ds.tickets.set_index("ticket_id")
    assert t["customer_id"].tolist()[:2] == ["a@x.org", "+49 30"] and pd.isna(t.loc["C", "customer_id"])
    assert t["created_at"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-01"] * 3
    assert t["resolved_at"].dt.strftime("%Y-%m-%d").fillna("-").tolist() == ["2026-10-02", "2026-10-02", "-"]
    assert ds.rejects.empty


@pytest.mark.parametrize(("section", "message"), [
    ('where = { column = "Direction", equals = "in", empty = true }', r"\[tables.tickets\] where: expected"),
    ('where = { column = "Direction", in = [] }', r"\[tables.tickets\] where in: expected a non-empty list"),
    ('where = { column = "Direction", equals = { a = 1 } }', r"\[tables.tickets\] where equals: expected a string"),
    ('where = { column = "Direction", empty = "no" }', r"\[tables.tickets\] where empty: expected true or false"),
    ('where = { columns = "Direction", equals = "in" }', r"\[tables.tickets\] where: expected"),
    ("where = []", r"\[tables.tickets\] where: expected .* got an empty list"),
    ('where = { column = 3, equals = "in" }', r"\[tables.tickets\] where column: expected a source column name"),
    ('join = { inboxes = { file = "i.csv" } }', r"\[tables.tickets.join.inboxes\]: expected file, on and"),
    ('join = { inboxes = { file = "i.csv", on = "x", how = "left" } }', r"\[tables.tickets.join.inboxes\]: expected"),
    ('join = { inboxes = { file = "i.csv", on = 1 } }', r"\[tables.tickets.join.inboxes\] on: expected text"),
    ('join = { "in.boxes" = { file = "i.csv", on = "x" } }', r"may not contain a dot"),
    ('join = { inboxes = { file = "../i.csv", on = "x" } }', r"file: '../i.csv' points outside"),
    ('join = { a = { file = "a.csv", on = "b.x" }, b = { file = "b.csv", on = "y" } }',
     r"\[tables.tickets.join.a\] on: 'b.x' refers to join 'b', which must be declared before 'a'"),
    ('join = "inboxes.csv"', r"\[tables.tickets.join\] must be a table"),
    ('columns = { ticket_id = ["Id", 3] }', r"\[tables.tickets.columns\] ticket_id: expected a source column name"),
    ('columns = { ticket_id = [] }', r"\[tables.tickets.columns\] ticket_id: expected"),
    ('values = { abandoned = { map = { Y = true } } }', r"\[tables.tickets.values\] abandoned: expected"),
    ('constants = { channel = ["a"] }', r"\[tables.tickets.constants\] channel: expected a string"),
    ('skip_empty = "Id"', r"\[tables.tickets\] skip_empty: expected a list"),
    ("dayfirst = 1", r"\[tables.tickets\] dayfirst: expected true or false"),
    ("group_by = 3", r"\[tables.tickets\] group_by: expected a canonical column name"),
    ('timestamps = { created_at = { column = "C", when = { column = "S", equal = "Y" } } }',
     r"\[tables.tickets.timestamps\] created_at when: expected"),
])
def test_mapping_keys_are_checked_by_type(tmp_path: Path, section: str, message: str) -> None:
    (tmp_path / "dataset.toml").write_text(f"[tables.tickets]\n{section}\n", encoding="utf-8")
    (tmp_path / "tickets.csv").write_text("ticket_id,channel,created_at\nA,chat,2026-10-01\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        kt.load(tmp_path)
