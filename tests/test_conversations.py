"""Known answers for conversations and tickets derived from messages (SPEC §8 B1, B2, B7.1–B7.4)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools.conversations import conversation_of as conversation_sql

HEADER = "message_id,sent_at,author,ticket_id,in_reply_to,customer_id,agent_id,channel"


def write(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def conversation_of(ds: kt.Dataset) -> dict[str, str]:
    rows = ds.store.con.execute(f"SELECT message_id, {conversation_sql(ds.store)} FROM messages ORDER BY __kt_row"
                                ).fetchall()
    return dict(rows)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "dataset.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
    return tmp_path


def test_reply_chains_missing_root_branching_and_loop(folder: Path) -> None:
    write(folder, "messages.csv", [
        HEADER,
        "m1,2026-10-01 10:00,customer,,,c1,,email",    # a root: names its conversation
        "m2,2026-10-01 11:00,agent,,m1,,a1,",          # branch 1
        "m3,2026-10-01 11:30,agent,,m1,,a2,",          # branch 2
        "m4,2026-10-01 12:00,customer,,m3,,,",         # replies to branch 2
        "r1,2026-10-02 09:00,customer,,gone,,,chat",   # reaches a missing message ...
        "r2,2026-10-02 08:00,customer,,gone,,,",       # ... so does this earlier one: it names both
        "r3,2026-10-02 13:00,agent,,r1,,a1,",          # reaches it through r1
        "l1,2026-10-03 10:00,customer,,l2,,,chat",     # a loop l1 -> l2 -> l3 -> l1 ...
        "l2,2026-10-03 09:00,customer,,l3,,,",
        "l3,2026-10-03 11:00,agent,,l1,,a1,",
        "l4,2026-10-03 08:00,customer,,l2,,,",         # ... reached from outside: the earliest
        "s1,2026-10-04 10:00,customer,,s1,,,chat",     # replies to itself: a loop of one
        "t1,2026-10-05 10:00,customer,X7,,,,email",    # a ticket id ...
        "X7,2026-10-05 09:00,customer,,,,,",           # ... that is also a root's message id: one conversation
        "t2,2026-10-05 11:00,agent,,t1,,a1,",          # a reply to a ticket's message joins that ticket
    ])
    ds = kt.load(folder)
    assert conversation_of(ds) == {
        "m1": "m1", "m2": "m1", "m3": "m1", "m4": "m1",
        "r1": "r2", "r2": "r2", "r3": "r2",
        "l1": "l4", "l2": "l4", "l3": "l4", "l4": "l4",
        "s1": "s1",
        "t1": "X7", "X7": "X7", "t2": "X7",
    }
    assert ds.tickets["ticket_id"].tolist() == ["m1", "r2", "l4", "s1", "X7"]


def test_a_long_chain_resolves(folder: Path) -> None:
    n = 300
    lines = [HEADER, "c0,2026-10-01 00:00,customer,,,,,chat"]
    lines += [f"c{i},2026-10-01 {i // 60:02d}:{i % 60:02d},{'agent' if i % 2 else 'customer'},,c{i - 1},,,"
              for i in range(1, n)]
    write(folder, "messages.csv", lines)
    ds = kt.load(folder)
    assert set(conversation_of(ds).values()) == {"c0"}
    assert ds.tickets["first_response_at"].tolist() == [pd.Timestamp("2026-10-01 00:01", tz="UTC")]


def test_tickets_from_messages_inbound_outbound_bot_and_channel(folder: Path) -> None:
    write(folder, "messages.csv", [
        HEADER,
        "a1,2026-10-01 10:00,bot,A,,,,",               # a bot first does not decide: inbound
        "a2,2026-10-01 10:05,Customer,A,,,,",          # created_at = the first customer message
        "a3,2026-10-01 10:05,CUSTOMER,A,,c9,,",        # the customer's id: first non-empty of a customer
        "a4,2026-10-01 10:07,agent,A,,c1,a1,chat",     # channel: the first non-empty in message order
        "b1,2026-10-01 10:00,customer,B,,,,email",     # an agent at the same instant comes after the customer
        "b2,2026-10-01 10:00,agent,B,,,a1,",
        "c1,2026-10-01 09:00,agent,C,,c3,a1,email",    # an agent first: outbound
        "c2,2026-10-01 10:00,customer,C,,c3,,",
        "d1,2026-10-01 09:00,bot,D,,c4,,chat",         # no customer message: outbound
        "e1,2026-10-02 09:00,customer,E,,c5,,",        # no channel anywhere: rejected
        "e2,2026-10-02 09:30,agent,E,,,a2,",
        "f1,2026-10-02 09:00,customer,F,,,,email",     # an agent wrote before the customer
        "f0,2026-10-02 08:00,agent,F,,,a2,",           # (later in the file): outbound
    ])
    ds = kt.load(folder)
    t = ds.tickets.set_index("ticket_id")
    assert t.index.tolist() == ["A", "B"]
    assert t.loc["A", "created_at"] == pd.Timestamp("2026-10-01 10:05", tz="UTC")
    assert t.loc["A", "customer_id"] == "c9"
    assert t.loc["A", "channel"] == "chat"
    assert t.loc["A", "first_response_at"] == pd.Timestamp("2026-10-01 10:07", tz="UTC")
    assert t.loc["B", "first_response_at"] == pd.Timestamp("2026-10-01 10:00", tz="UTC")
    assert t["resolved_at"].isna().all() and t["agent_id"].isna().all()
    counts = ds.counts.set_index("table")
    assert counts.loc["tickets", ["rows_in", "rows_kept", "rows_rejected"]].tolist() == [3, 2, 1]
    assert "3 outbound conversations are no ticket" in counts.loc["tickets", "note"]
    assert "7 messages of 4 conversations without a kept ticket" in counts.loc["messages", "note"]
    rejects = ds.rejects[ds.rejects["table"] == "tickets"]
    assert rejects[["file", "row", "column", "value"]].values.tolist() == [["messages.csv", 11, "channel", "E"]]
    # only what messages give is derived (A13): resolved_at needs status changes, agent_id is never derived
    assert ds.provided("tickets") == {"ticket_id", "channel", "created_at", "customer_id", "first_response_at"}
    assert ds.channels == ["chat", "email"]


def test_a_tickets_table_keeps_its_columns_and_gains_missing_ones(folder: Path) -> None:
    write(folder, "tickets.csv", [
        "ticket_id,channel,created_at,resolved_at",
        "A,email,2026-10-01 10:00,",
        "B,email,2026-10-01 10:00,2026-10-01 12:00",
        "C,chat,2026-10-01 10:00,",
    ])
    write(folder, "messages.csv", [
        HEADER,
        "a1,2026-10-01 09:00,agent,A,,,a1,",           # before created_at: counts, but answers nothing
        "a2,2026-10-01 10:00,customer,A,,c1,,",
        "a3,2026-10-01 11:00,agent,A,,,a1,",
        "z1,2026-10-01 11:00,customer,Z,,c2,,email",   # no such ticket: kept, counted, used by no KPI
    ])
    ds = kt.load(folder)
    t = ds.tickets.set_index("ticket_id")
    assert t.loc["A", "first_response_at"] == pd.Timestamp("2026-10-01 11:00", tz="UTC")
    assert t.loc["A", "customer_id"] == "c1"
    assert pd.isna(t.loc["B", "first_response_at"]) and pd.isna(t.loc["A", "resolved_at"])
    assert ds.provided("tickets") == {"ticket_id", "channel", "created_at", "resolved_at",
                                      "customer_id", "first_response_at"}
    assert ds.counts.set_index("table").loc["tickets", "rows_in"] == 3
    assert "1 message of 1 conversation without a kept ticket" in ds.counts.set_index("table").loc["messages", "note"]


def test_an_empty_value_of_a_provided_column_is_never_filled(folder: Path) -> None:
    write(folder, "tickets.csv", ["ticket_id,channel,created_at,customer_id,first_response_at",
                                  "A,email,2026-10-01 10:00,,"])
    write(folder, "messages.csv", [HEADER, "a1,2026-10-01 10:00,customer,A,,c1,,", "a2,2026-10-01 11:00,agent,A,,,,"])
    ds = kt.load(folder)
    assert ds.tickets["customer_id"].isna().all() and ds.tickets["first_response_at"].isna().all()


def test_messages_rules_key_and_author(folder: Path) -> None:
    write(folder, "messages.csv", [
        HEADER,
        "m1,2026-10-01 10:00,robot,,,,,chat",          # bad author: rejected first ...
        "m1,2026-10-01 10:01,customer,,,,,chat",       # ... so this one is no duplicate
        "m1,2026-10-01 10:02,Agent,,nowhere,,,chat",   # a duplicate (the unknown in_reply_to is no reason)
        "m2,2026-10-01 10:03,bot,T404,,,,",            # unknown ticket_id: kept
    ])
    ds = kt.load(folder)
    assert ds.tables["messages"]["author"].tolist() == ["customer", "bot"]
    reasons = ds.rejects[ds.rejects["table"] == "messages"][["row", "reason"]].values.tolist()
    assert reasons == [[2, "unknown author (expected customer, agent or bot)"],
                       [4, "duplicate message_id (the first row is kept)"]]


def test_no_tickets_and_no_messages_is_still_an_error(folder: Path) -> None:
    write(folder, "status_changes.csv", ["ticket_id,changed_at,status", "A,2026-10-01,open"])
    with pytest.raises(kt.DatasetError, match="no tickets table"):
        kt.load(folder)


def test_as_of_and_coverage_read_message_and_status_dates(folder: Path) -> None:
    from kpitools.coverage import first_month

    write(folder, "tickets.csv", ["ticket_id,channel,created_at", "A,email,2026-10-01 10:00"])
    write(folder, "messages.csv", [HEADER, "a1,2026-09-20 10:00,customer,A,,,,"])
    write(folder, "status_changes.csv", ["ticket_id,changed_at,status", "A,2026-11-03 08:00,solved"])
    ds = kt.load(folder)
    assert ds.as_of == pd.Timestamp("2026-11-03 08:00", tz="UTC")
    assert first_month(ds, "messages") == "2026-09"
    assert first_month(ds, "status_changes") == "2026-11"
