"""Conversations, tickets derived from messages, and statuses (SPEC §8 B1, B2, B5, B7.1–B7.5).

The loader calls :func:`link` once, after ``tickets``, ``messages`` and ``status_changes`` are
stored and before the tables that depend on the kept tickets (costs and targets check their
channels). Everything runs in the dataset's DuckDB store, as set operations over whole tables:

1. **Conversations** (B1, B7.1). A message with a ``ticket_id`` belongs to that ticket; one
   without belongs to the conversation of the message it replies to, recursively. The chains are
   walked by pointer doubling: each round replaces every message's pointer by its pointer's
   pointer, so a chain of length *n* is resolved in about log2(*n*) joins. A chain ends at a
   message with a ``ticket_id`` (the conversation is that ticket), at a root (a message replying
   to nothing: the conversation is named by its ``message_id``), at a reply to a message missing
   from the table, or never (a loop). The last two are named by the earliest message (by
   ``sent_at``, then file order) among those that reach the same missing message or the same
   loop. That id is stored in the hidden column :data:`CONVERSATION` of the messages without a
   ``ticket_id``; :func:`conversation_of` reads a message's conversation either way.
2. **Tickets from messages** (B2, B7.3, B7.4). Without a tickets table, each *inbound*
   conversation becomes a ticket: ``ticket_id`` = the conversation id, ``created_at`` = its first
   customer message, ``customer_id`` and ``channel`` = the first non-empty value in message order
   (customer messages first for ``customer_id``). A conversation is *outbound* when an agent
   message comes before its first customer message, or it has no customer message (bot messages
   never decide); outbound conversations are no tickets and are counted in the tickets row's
   note. An inbound conversation without a channel anywhere is rejected (a reject row names it,
   at the row of its first message). Rows in = inbound conversations.
3. **Missing ticket columns** (B2, B5, A13). A ticket column that neither the file nor its
   mapping provides is derived where the data allow: ``customer_id`` and ``first_response_at``
   (the first agent message at or after ``created_at``) from the messages, ``resolved_at`` (the
   first change to ``solved``/``closed``) and ``reopened`` (changes from ``solved``/``closed``
   to any other status) from the status changes. Derivation fills missing columns only, never
   the empty values of a provided column; a derived column counts as provided.

Status changes take effect at ``max(changed_at, created_at)`` and are ordered by that instant,
then file order; changes of unknown tickets are kept and take part in nothing. At one instant,
customer messages come before agent and bot messages (B7.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DatasetConfig
from .dataset import ROW, Store
from .schema import SOLVED
from .validate import check_table

#: The hidden column of stored ``messages`` that holds each message's conversation id.
CONVERSATION = "__kt_conversation"
#: The first table loaded after the tables of conversations: :func:`link` runs before it.
FOLLOWS = "surveys"

_SOLVED = "(" + ", ".join(f"'{s}'" for s in SOLVED) + ")"
_FROM_MESSAGES = ("customer_id", "first_response_at")
_FROM_STATUSES = ("resolved_at", "reopened")


@dataclass
class Linked:
    """What :func:`link` adds to the load's accounting."""

    counts: list[tuple[str, int, int, int, str]] = field(default_factory=list)  # rows of tables it made
    notes: dict[str, list[str]] = field(default_factory=dict)  # notes for tables already counted
    rejects: pd.DataFrame | None = None
    provided: dict[str, frozenset[str]] = field(default_factory=dict)  # updated provided columns


def link(store: Store, cfg: DatasetConfig, provided: dict[str, frozenset[str]], message_files: list[str],
         stride: int) -> Linked:
    """Assign conversations, derive tickets or their missing columns, and account for it.

    ``provided`` holds the columns each loaded table's files provide; ``message_files`` names the
    files of ``messages`` in order and ``stride`` is the loader's row-number stride between files
    (a stored row number is ``file index * stride + row``), so reject rows name file and row.
    """
    out = Linked()
    has_messages = "messages" in store.dtypes
    if has_messages:
        assign_conversations(store)
    if "tickets" not in store.dtypes:
        declared = cfg.tables.get("tickets")
        if not has_messages or (declared is not None and declared.absent):
            return out
        out.counts, out.rejects, given = _derive_tickets(store, cfg, provided["messages"], message_files, stride)
        provided = {**provided, "tickets": given}
    derived = []
    if has_messages:  # a customer_id only where the messages have one
        derived += [c for c in _FROM_MESSAGES if c not in provided["tickets"]
                    and (c != "customer_id" or c in provided["messages"])]
        _fill(store, _from_messages(store), [c for c in derived if c in _FROM_MESSAGES])
    if "status_changes" in store.dtypes:
        derived += [c for c in _FROM_STATUSES if c not in provided["tickets"]]
        _fill(store, _from_statuses(store), [c for c in derived if c in _FROM_STATUSES])
    out.provided["tickets"] = provided["tickets"] | frozenset(derived)
    if has_messages:
        out.notes["messages"] = _orphans(store)
    store.profile("tickets")
    return out


def assign_conversations(store: Store) -> None:
    """Store the conversation id of every message without a ``ticket_id`` in the hidden column
    :data:`CONVERSATION` (B7.1); a message with one belongs to that ticket, which
    :func:`conversation_of` reads instead (no column-wide update of a large table)."""
    con = store.con
    text = {c: store.text("messages", c) for c in ("message_id", "ticket_id", "in_reply_to")}
    if CONVERSATION not in [r[0] for r in con.execute("DESCRIBE messages").fetchall()]:
        con.execute(f"ALTER TABLE messages ADD COLUMN {CONVERSATION} VARCHAR")
    if not con.execute(f"SELECT count(*) FROM messages WHERE {text['ticket_id']} IS NULL").fetchone()[0]:
        return
    # a node per message without a ticket (`parent`: the row replied to; null: no reply, or
    # missing), and per message with one that such a message replies to (an end: its ticket).
    # The join is on the ids alone: a condition on one side in ON makes DuckDB loop over all pairs.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kpitools_nodes AS
        WITH free AS (SELECT {ROW} AS row, {text['message_id']} AS id, {text['in_reply_to']} AS replies_to,
                             sent_at AS sent FROM messages WHERE {text['ticket_id']} IS NULL)
        SELECT f.row, f.id, CAST(NULL AS VARCHAR) AS ticket, f.replies_to, f.sent, p.{ROW} AS parent,
               (f.replies_to IS NULL OR p.{ROW} IS NULL) AS ends
        FROM free AS f LEFT JOIN messages AS p ON p.{text['message_id']} = f.replies_to
        UNION ALL
        SELECT {ROW}, {text['message_id']}, {text['ticket_id']}, {text['in_reply_to']}, sent_at, NULL, true
        FROM messages WHERE {text['ticket_id']} IS NOT NULL
          AND {text['message_id']} IN (SELECT replies_to FROM free)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE kpitools_walk AS
        SELECT row, CASE WHEN ends THEN row ELSE parent END AS ptr, row AS low FROM kpitools_nodes
    """)
    rows = con.execute("SELECT count(*) FROM kpitools_nodes").fetchone()[0]
    # 2^rounds >= rows: every chain has reached its end, and every loop has been gone round once
    rounds = max(1, math.ceil(math.log2(max(rows, 2))))
    for _ in range(rounds):
        pending = con.execute("SELECT count(*) FROM kpitools_walk AS w JOIN kpitools_nodes AS n ON n.row = w.ptr "
                              "WHERE NOT n.ends").fetchone()[0]
        if not pending:
            break
        con.execute("""
            CREATE OR REPLACE TEMP TABLE kpitools_walk AS
            SELECT w.row, q.ptr, least(w.low, q.low) AS low
            FROM kpitools_walk AS w JOIN kpitools_walk AS q ON q.row = w.ptr
        """)
    # where each chain ends: a ticket, a root, a reply to a missing message, or a loop (its lowest
    # row); a message with a ticket_id is its own end (its conversation is that ticket), so only
    # the others are followed here
    con.execute("""
        CREATE OR REPLACE TEMP TABLE kpitools_conv AS
        WITH reached AS (
            SELECT n.row, n.id, n.sent, e.ends, e.ticket, e.replies_to, e.id AS end_id, q.low AS loop
            FROM kpitools_nodes AS n
            JOIN kpitools_walk AS w ON w.row = n.row
            JOIN kpitools_nodes AS e ON e.row = w.ptr
            JOIN kpitools_walk AS q ON q.row = w.ptr
            WHERE n.ticket IS NULL
        ), named AS (
            SELECT row, id, sent,
                   CASE WHEN ends AND ticket IS NOT NULL THEN ticket
                        WHEN ends AND replies_to IS NULL THEN end_id END AS conv,
                   CASE WHEN NOT ends THEN 'loop ' || loop
                        WHEN ticket IS NULL AND replies_to IS NOT NULL THEN 'missing ' || replies_to END AS grp
            FROM reached
        ), firsts AS (  -- grouped, not a window over every message: grp is set only where conv is not
            SELECT grp, first(id ORDER BY sent, row) AS conv FROM named WHERE grp IS NOT NULL GROUP BY grp
        )
        SELECT n.row, coalesce(n.conv, f.conv) AS conv FROM named AS n LEFT JOIN firsts AS f ON f.grp = n.grp
    """)
    con.execute(f"UPDATE messages SET {CONVERSATION} = c.conv FROM kpitools_conv AS c WHERE messages.{ROW} = c.row")
    for name in ("kpitools_nodes", "kpitools_walk", "kpitools_conv"):
        con.execute(f"DROP TABLE {name}")


def conversation_of(store: Store, prefix: str = "") -> str:
    """SQL for a stored message's conversation id (after :func:`assign_conversations`): its
    ``ticket_id``, else the conversation its reply chain leads to."""
    return f"coalesce({prefix}{CONVERSATION}, {store.text('messages', 'ticket_id', prefix)})"


def conversations(store: Store) -> str:
    """SQL for one row per conversation of the stored messages (after :func:`assign_conversations`):
    ``conv``, ``row`` (its first message), ``created`` (its first customer message, stored form),
    ``created_row``, ``channel``, ``customer_id`` and ``outbound`` (B2, B7.3, B7.4)."""
    text = {c: store.text("messages", c) for c in ("customer_id", "channel")}
    return f"""
        WITH m AS (SELECT {conversation_of(store)} AS conv, {ROW} AS row, sent_at AS sent, author,
                          {text['customer_id']} AS customer_id, {text['channel']} AS channel,
                          author <> 'customer' AS later FROM messages)
        SELECT conv,
               first(row ORDER BY sent, later, row) AS row,
               min(sent) FILTER (WHERE author = 'customer') AS created,
               first(row ORDER BY sent, row) FILTER (WHERE author = 'customer') AS created_row,
               first(channel ORDER BY sent, later, row) FILTER (WHERE channel IS NOT NULL) AS channel,
               first(customer_id ORDER BY later, sent, row) FILTER (WHERE customer_id IS NOT NULL) AS customer_id,
               coalesce(min(sent) FILTER (WHERE author = 'agent') < min(sent) FILTER (WHERE author = 'customer')
                        OR count(*) FILTER (WHERE author = 'customer') = 0, false) AS outbound
        FROM m GROUP BY conv
    """


def _derive_tickets(store: Store, cfg: DatasetConfig, given: frozenset[str], files: list[str], stride: int
                    ) -> tuple[list[tuple[str, int, int, int, str]], pd.DataFrame, frozenset[str]]:
    """Store the tickets of the inbound conversations (B2): their count row, the rejects (no
    channel anywhere) and the columns they provide."""
    con = store.con
    facts = con.execute(f"SELECT * FROM ({conversations(store)}) WHERE NOT outbound ORDER BY created_row").df()
    outbound = con.execute(f"SELECT count(*) FROM ({conversations(store)}) WHERE outbound").fetchone()[0]
    lost = facts["channel"].isna().to_numpy()
    names = np.array(files, dtype=object)
    rows = facts["row"].to_numpy(np.int64)[lost]
    rejects = pd.DataFrame({"table": "tickets", "file": names[rows // stride], "row": rows % stride,
                            "column": "channel", "value": facts["conv"].to_numpy(object)[lost],
                            "reason": "conversation without a channel (no message of it has one)"})
    kept = facts[~lost]
    columns = ["ticket_id", "channel", "created_at"] + (["customer_id"] if "customer_id" in given else [])
    raw = pd.DataFrame({"ticket_id": kept["conv"], "channel": kept["channel"],
                        "created_at": pd.to_datetime(kept["created"].astype("int64"), utc=True),
                        "customer_id": kept["customer_id"]})[columns]
    typed = check_table("tickets", raw, tz=cfg.timezone, scales=cfg.scales).frame
    store.append("tickets", typed, kept["created_row"].to_numpy(np.int64))
    note = (f"derived from messages: one ticket per inbound conversation; {outbound:,} outbound "
            f"conversation{' is' if outbound == 1 else 's are'} no ticket (an agent wrote first, or no customer wrote)")
    count = ("tickets", len(facts), len(kept), int(lost.sum()), note)
    return [count], rejects, frozenset(columns)


def _fill(store: Store, query: str, columns: list[str]) -> None:
    """Set the derived ticket ``columns`` from ``query`` (one row per ticket it knows)."""
    if columns:
        store.update("tickets", query, columns)


def _from_messages(store: Store) -> str:
    """SQL for ``customer_id`` and ``first_response_at`` of every ticket from its messages (B2)."""
    ticket = store.text("tickets", "ticket_id", "t.")
    return f"""
        SELECT t.{ROW}, c.customer_id,
               (SELECT min(m.sent_at) FROM messages AS m WHERE {conversation_of(store, "m.")} = {ticket}
                    AND m.author = 'agent' AND m.sent_at >= t.created_at) AS first_response_at
        FROM tickets AS t JOIN ({conversations(store)}) AS c ON c.conv = {ticket}
    """


def _from_statuses(store: Store) -> str:
    """SQL for ``resolved_at`` and ``reopened`` of every ticket with status changes (B5, B7.5)."""
    ticket = store.text("tickets", "ticket_id", "t.")
    return f"""
        WITH s AS (
            SELECT t.{ROW} AS {ROW}, c.status, c.{ROW} AS row, greatest(c.changed_at, t.created_at) AS effective
            FROM status_changes AS c JOIN tickets AS t ON {ticket} = {store.text('status_changes', 'ticket_id', 'c.')}
        ), o AS (
            SELECT *, lag(status, 1, 'new') OVER (PARTITION BY {ROW} ORDER BY effective, row) AS before FROM s
        )
        SELECT {ROW}, min(effective) FILTER (WHERE status IN {_SOLVED}) AS resolved_at,
               count(*) FILTER (WHERE before IN {_SOLVED} AND status NOT IN {_SOLVED}) AS reopened
        FROM o GROUP BY {ROW}
    """


def _orphans(store: Store) -> list[str]:
    """B7.2: messages whose conversation is no kept ticket are kept, counted here, and used by no KPI."""
    ticket = store.text("tickets", "ticket_id", "t.")
    n, convs = store.con.execute(
        f"SELECT count(*), count(DISTINCT conv) FROM (SELECT {conversation_of(store, 'm.')} AS conv FROM messages AS m) "
        f"WHERE NOT EXISTS (SELECT 1 FROM tickets AS t WHERE {ticket} = conv)").fetchone()
    if not n:
        return []
    return [f"{n:,} message{'s' if n != 1 else ''} of {convs:,} conversation{'s' if convs != 1 else ''} "
            "without a kept ticket (kept, used by no KPI)"]


def message_files(files: dict[str, Path], folder: Path) -> list[str]:
    """The names (as in rejects) of the files of ``messages`` in order, from the loader's ``files``."""
    paths = [p for key, p in files.items() if key == "messages" or key.startswith("messages[")]
    return [str(p.relative_to(folder)) if p.is_relative_to(folder) else p.name for p in paths]

