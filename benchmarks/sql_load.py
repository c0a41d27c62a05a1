"""The SQL baseline's own load: the dataset's files read and validated by hand-written DuckDB SQL.

What a DuckDB expert would write to get from the benchmark's files to the tables
``sql_baseline.Baseline`` reads (the same stored form as kpitools': timestamps as ``BIGINT``
nanoseconds since the epoch, UTC): ``read_parquet``/``read_csv`` straight into one
``CREATE TABLE ... AS`` per table, text trimmed (empty = null), the A3 row rules as filters
(required columns, ISO timestamps, naive ones local to the dataset timezone by a ``CASE`` over its
offset changes, first response and resolution not before creation, integers, non-negative
durations and costs, booleans, survey types and scales, periods, channels, KPI ids), duplicates
dropped among the rows passing the rest (first in file order kept), and a count of the rows
rejected per table. It is written for the files ``kpitools.write_sample`` produces (Parquet
tickets, messages, status changes, activity and sessions; CSV surveys, customers, costs and
targets), follows no reply chains (the baseline's KPIs read no messages) and reports rejects
as counts, not as reasons per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from kpitools.catalog import catalog
from kpitools.config import read_config
from kpitools.rules import wall_steps
from kpitools.schema import STATUSES

_ISO = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$"


def steps(x: str, bounds: Any, values: Any) -> str:
    """SQL for a step function of ``x``: ``values[0]`` below ``bounds[0]``, ``values[i]`` from
    ``bounds[i - 1]`` on (a balanced tree of CASEs, about log2(len(bounds)) tests per row)."""
    if len(bounds) == 0:
        return str(int(values[0]))
    mid = len(bounds) // 2
    return (f"CASE WHEN {x} < {int(bounds[mid])} THEN {steps(x, bounds[:mid], values[:mid + 1])} "
            f"ELSE {steps(x, bounds[mid + 1:], values[mid + 1:])} END")


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    """``t(text)``: trimmed, empty = null; ``wall(text)``: the wall time (ns) of naive ISO text;
    ``zoned(text)``: the instant (ns) of ISO text with an offset (each null otherwise)."""
    con.execute("CREATE MACRO t(x) AS nullif(trim(x), '')")
    zoned = "\\d{2}:\\d{2}.*(Z|[+-]\\d{2}(:?\\d{2})?)$"
    con.execute(f"CREATE MACRO zoned(x) AS CASE WHEN regexp_matches(x, '{_ISO}') AND regexp_matches(x, '{zoned}') "
                "THEN epoch_ns(TRY_CAST(x AS TIMESTAMPTZ)) END")
    con.execute(f"CREATE MACRO wall(x) AS CASE WHEN regexp_matches(x, '{_ISO}') AND NOT regexp_matches(x, '{zoned}') "
                "THEN epoch_ns(TRY_CAST(x AS TIMESTAMP)) END")


def _utc(tz: str):
    """SQL for the instant of a naive wall time column (ns) by SPEC A2: the offset as a binary
    tree of ``CASE`` over the offset changes of the years the data can hold (1970-2040)."""
    bounds, offsets = wall_steps(tz)
    a, b = np.searchsorted(bounds, [pd.Timestamp(y).value for y in ("1970-01-01", "2040-01-01")])
    return lambda column: f"({column} - {steps(column, bounds[a:b], offsets[a:b + 1])})"


def load(folder: Path, db: Path) -> dict[str, int]:
    """Read and validate ``folder`` into the DuckDB file ``db``; the rows rejected per table."""
    cfg = read_config(folder)
    con = duckdb.connect(str(db), config={"preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    _macros(con)
    utc = _utc(cfg.timezone)
    names = ("tickets", "messages", "status_changes", "surveys", "customers", "activity", "sessions", "costs",
             "targets")
    path = {name: str(folder / f"{name}.parquet") if (folder / f"{name}.parquet").exists()
            else str(folder / f"{name}.csv") for name in names}

    def parquet(name: str, stamps: tuple[str, ...]) -> str:
        """The file with its timestamps as wall-time nanoseconds and spreadsheet row numbers."""
        ns = ", ".join(f"epoch_ns({c}) AS {c}" for c in stamps)
        return (f"(SELECT * REPLACE ({ns}), file_row_number + 2 AS row "
                f"FROM read_parquet('{path[name]}', file_row_number = true))")

    def csv(name: str, stamps: tuple[str, ...] = ()) -> str:
        """The file as text, its timestamps' trimmed text beside their wall time and instant."""
        parsed = "".join(f", t({c}) AS {c}_text, wall(t({c})) AS {c}_wall, zoned(t({c})) AS {c}_zoned"
                         for c in stamps)
        return (f"(SELECT *{parsed}, row_number() OVER () + 1 AS row "
                f"FROM read_csv('{path[name]}', all_varchar = true, header = true))")

    def stamp(column: str) -> str:
        return f"coalesce({column}_zoned, {utc(column + '_wall')})"

    def first(key: str) -> str:
        return f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY row) = 1"

    rejected: dict[str, int] = {}

    def table(name: str, sql: str, source: str) -> None:
        con.execute(f"CREATE TABLE {name} AS {sql}")
        rows_in = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
        rejected[name] = rows_in - con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]

    nonneg = "coalesce({0} >= 0 AND isfinite({0}), true)"
    source = parquet("tickets", ("created_at", "first_response_at", "resolved_at"))
    table("tickets", f"""
        SELECT * EXCLUDE (row) FROM (
            SELECT t(ticket_id) AS ticket_id, t(channel) AS channel, {utc('created_at')} AS created_at,
                   t(customer_id) AS customer_id, {utc('first_response_at')} AS first_response_at,
                   {utc('resolved_at')} AS resolved_at, coalesce(abandoned, false) AS abandoned,
                   coalesce(contacts, 1) AS contacts, coalesce(reopened, 0) AS reopened, t(agent_id) AS agent_id,
                   handle_seconds, wait_seconds, t(topic) AS topic, t(priority) AS priority, row
            FROM {source})
        WHERE ticket_id IS NOT NULL AND channel IS NOT NULL AND created_at IS NOT NULL
          AND coalesce(first_response_at >= created_at, true) AND coalesce(resolved_at >= created_at, true)
          AND contacts >= 1 AND reopened >= 0
          AND {nonneg.format('handle_seconds')} AND {nonneg.format('wait_seconds')}
        {first('ticket_id')}""", source)
    source = parquet("messages", ("sent_at",))
    table("messages", f"""
        SELECT * EXCLUDE (row) FROM (
            SELECT t(message_id) AS message_id, {utc('sent_at')} AS sent_at, lower(t(author)) AS author,
                   t(ticket_id) AS ticket_id, t(in_reply_to) AS in_reply_to, t(customer_id) AS customer_id,
                   t(agent_id) AS agent_id, t(channel) AS channel, row
            FROM {source})
        WHERE message_id IS NOT NULL AND sent_at IS NOT NULL AND author IN ('customer', 'agent', 'bot')
        {first('message_id')}""", source)
    statuses = ", ".join(f"('{k}', '{v}')" for k, v in {**{s: s for s in STATUSES}, **cfg.statuses}.items())
    source = parquet("status_changes", ("changed_at",))
    table("status_changes", f"""
        SELECT s.ticket_id, s.changed_at, m.canonical AS status FROM (
            SELECT t(ticket_id) AS ticket_id, {utc('changed_at')} AS changed_at, lower(t(status)) AS status
            FROM {source}) AS s JOIN (VALUES {statuses}) AS m(named, canonical) ON m.named = s.status
        WHERE s.ticket_id IS NOT NULL AND s.changed_at IS NOT NULL""", source)
    scales = " OR ".join(f"(survey = '{k}' AND score BETWEEN {lo} AND {hi})" for k, (lo, hi) in cfg.scales.items())
    source = csv("surveys", ("responded_at",))
    table("surveys", f"""
        SELECT response_id, survey, CAST(score AS BIGINT) AS score, responded_at, ticket_id, customer_id, channel
        FROM (SELECT t(response_id) AS response_id, lower(t(survey)) AS survey,
                     TRY_CAST(t(score) AS DOUBLE) AS score, {stamp('responded_at')} AS responded_at,
                     t(ticket_id) AS ticket_id, t(customer_id) AS customer_id, t(channel) AS channel, row
              FROM {source})
        WHERE response_id IS NOT NULL AND responded_at IS NOT NULL AND score = floor(score) AND ({scales})
        {first('response_id')}""", source)
    words = "('true', 't', '1', 'yes', 'y', 'false', 'f', '0', 'no', 'n')"
    source = csv("customers", ("signup_at", "churned_at"))
    table("customers", f"""
        SELECT * EXCLUDE (row, spam, churned_text) FROM (
            SELECT t(customer_id) AS customer_id, {stamp('signup_at')} AS signup_at, churned_at_text AS churned_text,
                   {stamp('churned_at')} AS churned_at, t(segment) AS segment, lower(t(is_spam)) AS spam,
                   coalesce(spam IN ('true', 't', '1', 'yes', 'y'), false) AS is_spam, row
            FROM {source})
        WHERE customer_id IS NOT NULL AND signup_at IS NOT NULL AND (churned_text IS NULL OR churned_at IS NOT NULL)
          AND coalesce(churned_at >= signup_at, true) AND (spam IS NULL OR spam IN {words})
        {first('customer_id')}""", source)
    source = parquet("activity", ("ts",))
    table("activity", f"""
        SELECT * FROM (SELECT t(customer_id) AS customer_id, {utc('ts')} AS ts, t(event) AS event FROM {source})
        WHERE customer_id IS NOT NULL AND ts IS NOT NULL""", source)
    source = parquet("sessions", ("started_at",))
    table("sessions", f"""
        SELECT * EXCLUDE (row) FROM (
            SELECT t(session_id) AS session_id, {utc('started_at')} AS started_at,
                   t(customer_id) AS customer_id, coalesce(converted, false) AS converted,
                   coalesce(self_service, false) AS self_service, coalesce(chat_available, false) AS chat_available,
                   row
            FROM {source})
        WHERE session_id IS NOT NULL AND started_at IS NOT NULL
        {first('session_id')}""", source)
    source = csv("costs")
    table("costs", f"""
        SELECT * EXCLUDE (row) FROM (
            SELECT t(period) AS period, t(channel) AS channel, TRY_CAST(t(cost) AS DOUBLE) AS cost, row FROM {source})
        WHERE regexp_matches(period, '^\\d{{4}}-(0[1-9]|1[0-2])$') AND channel IN (SELECT channel FROM tickets)
          AND cost >= 0 AND isfinite(cost)
        {first('period, channel')}""", source)
    ids = ", ".join(f"'{k}'" for k in [*catalog()["id"], "frt_h"])
    source = csv("targets")
    table("targets", f"""
        SELECT * EXCLUDE (row) FROM (
            SELECT t(kpi) AS kpi, TRY_CAST(t(target) AS DOUBLE) AS target, t(channel) AS channel, row FROM {source})
        WHERE kpi IN ({ids}) AND target IS NOT NULL AND isfinite(target)
          AND (channel IS NULL OR channel IN (SELECT channel FROM tickets UNION SELECT channel FROM surveys))
        {first('kpi, channel')}""", source)
    con.execute("CHECKPOINT")
    con.close()
    return rejected
