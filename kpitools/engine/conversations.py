"""Conversation, status and SLA-policy KPIs (SPEC §8, B3–B9).

Three narrow tables, SQL over the stored tables, carry every rule of §8 once:

* :func:`ticket_facts` — one row per non-spam, non-abandoned ticket created by as_of (B7.2):
  channel, priority, creation, first reply and resolution (blanked after as_of), whether its
  conversation is outbound (B2, decided from every kept message, B7.3).
* :func:`events` — each ticket's messages, resolution and status changes up to as_of in the
  order of B7.3 (``seq``): customer messages, then agent and bot messages in file order, then
  ``resolved_at``, then status changes in file order (a change takes effect at
  ``max(changed_at, created_at)``, B7.5).
* :func:`waits` — the next-reply waits of B3, found with window functions over ``events``: a
  customer message opens a wait when it is the first after the last agent message or
  resolution (the *boundary*), comes after the first agent reply (inbound) and before the
  ticket's final resolution; the next agent message closes it, else the next resolution or
  as_of censors it.
* :func:`status_spans` — each ticket's time in each status: ``new`` from creation, then each
  status from its change to the next, the last one up to as_of.

The KPI values are counts over these tables pulled back per ``(mon, channel)``; medians and
means are taken in numpy on distinct values with their counts, as the other families do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config import SlaPolicy
from ..conversations import CONVERSATION
from ..dataset import ROW
from ..schema import SOLVED
from .context import HOUR_US, Context, q
from .durations import quantile7, summarise
from .speed import backlog_counts
from .tidy import ALL, counts_on, grid, mean_rows, rows, share_rows, weighted_moments, with_all

_SOLVED = "(" + ", ".join(f"'{s}'" for s in SOLVED) + ")"
#: Time-in-status KPIs: id -> the statuses whose time they add up (SPEC B5).
STATUS_TIMES = {
    "requester_wait_median_h": ("new", "open", "on_hold"),
    "agent_wait_median_h": ("pending",),
    "on_hold_median_h": ("on_hold",),
}
#: Shares of tickets: id -> (successes, denominator) columns of :func:`ticket_counts`.
TICKET_SHARES = {
    "one_touch_pct": ("one_touch", "touched"),
    "bot_resolved_pct": ("contained", "bot_resolved"),
    "handoff_pct": ("handed_off", "with_bot"),
}
SLA_METRICS = {"sla_first_reply_pct": "first_reply", "sla_next_reply_pct": "next_reply",
               "sla_resolution_pct": "resolution"}
#: Age bands of the daily backlog (days, lower bound included; SPEC B5).
AGE_BANDS = (("under 1 day", 0), ("1–3 days", 1), ("3–7 days", 3), ("7–30 days", 7), ("over 30 days", 30))
_TICKET_COLS = ["touched", "one_touch", "with_bot", "handed_off", "bot_resolved", "contained"]


# ---------------------------------------------------------------- narrow tables

def ticket_facts(ctx: Context) -> Any:
    """Non-spam, non-abandoned tickets created by as_of (SPEC B7.2): ``tk`` (row key), ``tid``
    (ticket id as text), ``chan``, ``prio``, ``c_ns``, ``fr_ns``/``res_ns`` (empty after as_of),
    ``c_mon``, ``outbound``. Cached once per run."""
    def build() -> Any:
        has = ctx._has
        as_of = ctx.as_of_ns_int

        def stamp(column: str) -> str:
            return f"CASE WHEN t.{q(column)} <= {as_of} THEN t.{q(column)} END" if has("tickets", column) \
                else "CAST(NULL AS BIGINT)"

        abandoned = "coalesce(t.abandoned, FALSE)" if has("tickets", "abandoned") else "FALSE"
        prio = ctx._text("tickets", "priority", "t.") if has("tickets", "priority") else "CAST(NULL AS VARCHAR)"
        tid = ctx._text("tickets", "ticket_id", "t.")
        outbound, join = "FALSE", ""
        if "messages" in ctx.ds.tables:  # B2: an agent wrote first, or no customer wrote (bots never decide)
            join = f"""LEFT JOIN (
                SELECT {CONVERSATION} AS conv,
                       coalesce(min(sent_at) FILTER (WHERE author = 'agent')
                                < min(sent_at) FILTER (WHERE author = 'customer')
                                OR count(*) FILTER (WHERE author = 'customer') = 0, FALSE) AS outbound
                FROM {ctx._base('messages')} GROUP BY 1) AS o ON o.conv = {tid}"""
            outbound = "coalesce(o.outbound, FALSE)"
        query = f"""
            SELECT t.{ROW} AS tk, {tid} AS tid, {ctx._text('tickets', 'channel', 't.')} AS chan, {prio} AS prio,
                   t.created_at AS c_ns, {stamp('first_response_at')} AS fr_ns, {stamp('resolved_at')} AS res_ns,
                   {ctx._mon(ctx._us('t.created_at'), 't.created_at')} AS c_mon, {outbound} AS outbound
            FROM {ctx._base('tickets')} AS t {join}
            WHERE t.created_at <= {as_of} AND NOT {abandoned} AND {ctx._not_spam('tickets', 't.')}"""
        return ctx._sql_table(("conv_tickets", ""), query, cache=True)
    return ctx.memo("conv_tickets", build)


def _facts_name(ctx: Context) -> str:
    """The SQL name of the cached :func:`ticket_facts` table."""
    return ticket_facts(ctx).get_name()


def events(ctx: Context) -> Any:
    """Each ticket's events up to as_of in the order of SPEC B7.3: ``tk``, ``t`` (ns), ``kind``
    (``c`` customer, ``a`` agent, ``b`` bot message, ``R`` resolution, ``O`` change to a status
    that is not solved/closed), ``seq`` (1, 2, ... per ticket)."""
    def build() -> Any:
        facts, as_of = _facts_name(ctx), ctx.as_of_ns_int
        parts = [f"SELECT tk, res_ns AS t, 2 AS rank, 0 AS row, 'R' AS kind FROM {facts} WHERE res_ns IS NOT NULL"]
        if "messages" in ctx.ds.tables:
            parts.append(f"""
                SELECT k.tk, m.sent_at, CASE WHEN m.author = 'customer' THEN 0 ELSE 1 END, m.{ROW},
                       CASE m.author WHEN 'customer' THEN 'c' WHEN 'agent' THEN 'a' ELSE 'b' END
                FROM {ctx._base('messages')} AS m JOIN {facts} AS k ON m.{CONVERSATION} = k.tid
                WHERE m.sent_at <= {as_of}""")
        if "status_changes" in ctx.ds.tables:
            parts.append(f"""
                SELECT k.tk, greatest(s.changed_at, k.c_ns), 3, s.{ROW},
                       CASE WHEN s.status IN {_SOLVED} THEN 'R' ELSE 'O' END
                FROM {ctx._base('status_changes')} AS s
                JOIN {facts} AS k ON {ctx._text('status_changes', 'ticket_id', 's.')} = k.tid
                WHERE s.changed_at <= {as_of}""")
        query = (f"SELECT tk, t, kind, row_number() OVER (PARTITION BY tk ORDER BY t, rank, row) AS seq "
                 f"FROM ({' UNION ALL '.join(parts)})")
        return ctx._sql_table(("conv_events", ""), query, cache=True)
    return ctx.memo("conv_events", build)


def waits(ctx: Context) -> Any:
    """The next-reply waits (SPEC B3, B7.3): ``tk``, ``chan``, ``prio``, ``start_ns``, ``end_ns``
    (the closing agent message, else the censoring resolution or as_of), ``closed``,
    ``start_mon``. Cached once per run."""
    def build() -> Any:
        ev, facts = events(ctx).get_name(), _facts_name(ctx)
        after = "PARTITION BY tk ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"
        query = f"""
            WITH f AS (
                SELECT *,
                       min(CASE WHEN kind = 'a' THEN seq END) OVER (PARTITION BY tk) AS first_agent,
                       max(CASE WHEN kind = 'O' THEN seq END) OVER (PARTITION BY tk) AS last_reopen,
                       -- the last agent message or resolution before this event: a wait's group
                       max(CASE WHEN kind IN ('a', 'R') THEN seq END) OVER (
                           PARTITION BY tk ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS boundary,
                       min(CASE WHEN kind = 'a' THEN seq END) OVER ({after}) AS next_a,
                       min(CASE WHEN kind = 'a' THEN t END) OVER ({after}) AS next_a_t,
                       min(CASE WHEN kind = 'R' THEN seq END) OVER ({after}) AS next_r,
                       min(CASE WHEN kind = 'R' THEN t END) OVER ({after}) AS next_r_t
                FROM {ev}
            ), g AS (
                -- the final resolution: the first one after the last reopen (none while reopened)
                SELECT *, min(CASE WHEN kind = 'R' AND seq > coalesce(last_reopen, 0) THEN seq END)
                              OVER (PARTITION BY tk) AS final_res
                FROM f
            ), c AS (
                SELECT g.*, k.chan, k.prio,
                       row_number() OVER (PARTITION BY g.tk, g.boundary ORDER BY g.seq) AS nth
                FROM g JOIN {facts} AS k ON k.tk = g.tk
                WHERE g.kind = 'c' AND (k.outbound OR g.seq > g.first_agent)
                  AND (g.final_res IS NULL OR g.seq < g.final_res)
            )
            SELECT tk, chan, prio, t AS start_ns,
                   next_a IS NOT NULL AND (next_r IS NULL OR next_a < next_r) AS closed,
                   CASE WHEN next_a IS NOT NULL AND (next_r IS NULL OR next_a < next_r) THEN next_a_t
                        ELSE coalesce(next_r_t, {ctx.as_of_ns_int}) END AS end_ns,
                   {ctx._mon(ctx._us('t'), 't')} AS start_mon
            FROM c WHERE nth = 1"""
        return ctx._sql_table(("conv_waits", ""), query, cache=True)
    return ctx.memo("conv_waits", build)


def status_spans(ctx: Context) -> Any:
    """Time in status (SPEC B5): ``tk``, ``status``, ``s_ns``, ``e_ns`` — ``new`` from creation
    to the first change, then each status from its change to the next (the last to as_of);
    ``solved_ns``, the ticket's first change to solved/closed (empty when none by as_of)."""
    def build() -> Any:
        facts, as_of = _facts_name(ctx), ctx.as_of_ns_int
        query = f"""
            WITH s AS (
                SELECT tk, c_ns AS t, -1 AS row, 'new' AS status FROM {facts}
                UNION ALL
                SELECT k.tk, greatest(s.changed_at, k.c_ns), s.{ROW}, s.status
                FROM {ctx._base('status_changes')} AS s
                JOIN {facts} AS k ON {ctx._text('status_changes', 'ticket_id', 's.')} = k.tid
                WHERE s.changed_at <= {as_of}
            )
            SELECT tk, status, t AS s_ns,
                   coalesce(lead(t) OVER (PARTITION BY tk ORDER BY t, row), {as_of}) AS e_ns,
                   min(CASE WHEN status IN {_SOLVED} THEN t END) OVER (PARTITION BY tk) AS solved_ns
            FROM s"""
        return ctx._sql_table(("conv_spans", ""), query, cache=True)
    return ctx.memo("conv_spans", build)


# ---------------------------------------------------------------- counts

def _months_sql(ctx: Context) -> str:
    return "(" + ", ".join(str(m) for m in ctx.months) + ")"


def _frame(ctx: Context, query: str) -> pd.DataFrame:
    """Run a counting query on the run's backend (its results are a few rows per group)."""
    return ctx.execute(ctx.backend.sql(query))


def ticket_counts(ctx: Context) -> pd.DataFrame:
    """Per ``(mon, g)`` of the tickets created in the periods: ``touched`` (resolved with an agent
    message), ``one_touch`` (exactly one), ``with_bot``, ``handed_off`` (an agent message after the
    first bot message), ``bot_resolved`` and ``contained`` (no agent message by as_of); SPEC B4,
    B7.6. ``g`` is the channel (``all`` not added)."""
    facts, ev = _facts_name(ctx), events(ctx).get_name()
    query = f"""
        WITH m AS (
            SELECT tk, count(*) FILTER (WHERE kind = 'a') AS agent,
                   min(CASE WHEN kind = 'b' THEN seq END) AS first_bot,
                   max(CASE WHEN kind = 'a' THEN seq END) AS last_agent
            FROM {ev} GROUP BY tk
        ), k AS (
            SELECT f.c_mon AS mon, f.chan AS g, f.res_ns IS NOT NULL AS resolved, coalesce(m.agent, 0) AS agent,
                   m.first_bot IS NOT NULL AS bot, coalesce(m.last_agent > m.first_bot, FALSE) AS handed_off
            FROM {facts} AS f LEFT JOIN m ON m.tk = f.tk WHERE f.c_mon IN {_months_sql(ctx)}
        )
        SELECT mon, g, count(*) FILTER (WHERE resolved AND agent > 0) AS touched,
               count(*) FILTER (WHERE resolved AND agent = 1) AS one_touch,
               count(*) FILTER (WHERE bot) AS with_bot,
               count(*) FILTER (WHERE bot AND handed_off) AS handed_off,
               count(*) FILTER (WHERE bot AND resolved) AS bot_resolved,
               count(*) FILTER (WHERE bot AND resolved AND agent = 0) AS contained
        FROM k GROUP BY mon, g"""
    return _frame(ctx, query)


def reply_counts(ctx: Context) -> pd.DataFrame:
    """``mon, g, replies, n``: resolved tickets created in the periods with a message, per number
    of agent messages by as_of (``replies_mean``, SPEC B7.6)."""
    facts, ev = _facts_name(ctx), events(ctx).get_name()
    query = f"""
        SELECT f.c_mon AS mon, f.chan AS g, m.agent AS replies, count(*) AS n
        FROM {facts} AS f JOIN (
            SELECT tk, count(*) FILTER (WHERE kind = 'a') AS agent FROM {ev}
            WHERE kind IN ('c', 'a', 'b') GROUP BY tk) AS m ON m.tk = f.tk
        WHERE f.c_mon IN {_months_sql(ctx)} AND f.res_ns IS NOT NULL
        GROUP BY 1, 2, 3"""
    return _frame(ctx, query)


def wait_counts(ctx: Context, business_hours: bool = False) -> pd.DataFrame:
    """``mon, g, dur, ev, n``: next-reply waits started in the periods per distinct duration
    (µs, calendar or business clock) and event flag (closed by an agent message)."""
    w = waits(ctx).get_name()
    select, joins = "end_ns - start_ns", ""
    if business_hours:
        j0, r0, _ = ctx._clock_join("b0", "w.start_ns")
        j1, r1, _ = ctx._clock_join("b1", "w.end_ns")
        select, joins = f"({r1}) - ({r0})", j0 + j1
    query = f"""
        SELECT mon, g, CAST(round(dur / 1000.0) AS BIGINT) AS dur, ev, count(*) AS n FROM (
            SELECT w.start_mon AS mon, w.chan AS g, {select} AS dur, w.closed AS ev
            FROM {w} AS w {joins} WHERE w.start_mon IN {_months_sql(ctx)})
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""
    return _frame(ctx, query)


def status_time_counts(ctx: Context, statuses: tuple[str, ...]) -> pd.DataFrame:
    """``mon, g, dur, n``: tickets created in the periods whose status history reaches
    solved/closed by as_of, per distinct time (µs) in ``statuses`` before that (SPEC B7.7)."""
    spans, facts = status_spans(ctx).get_name(), _facts_name(ctx)
    wanted = "(" + ", ".join(f"'{s}'" for s in statuses) + ")"
    query = f"""
        SELECT f.c_mon AS mon, f.chan AS g, CAST(round(s.dur / 1000.0) AS BIGINT) AS dur, count(*) AS n
        FROM {facts} AS f JOIN (
            SELECT tk, sum(CASE WHEN status IN {wanted} THEN greatest(least(e_ns, solved_ns) - s_ns, 0) ELSE 0 END)
                       AS dur
            FROM {spans} WHERE solved_ns IS NOT NULL GROUP BY tk) AS s ON s.tk = f.tk
        WHERE f.c_mon IN {_months_sql(ctx)}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    return _frame(ctx, query)


# ---------------------------------------------------------------- SLA policies (SPEC B6, B7.8)

def policy_cases(policies: list[SlaPolicy], chan: str, prio: str) -> str:
    """SQL: the index (in ``policies``) of the most specific policy matching the row's channel
    ``chan`` and priority ``prio`` — channel and priority, then channel, then priority, then
    neither; the first in the file among equals; null when none matches.

    Examples
    --------
    >>> p = [SlaPolicy("first_reply", 8), SlaPolicy("first_reply", 4, channel="chat")]
    >>> policy_cases(p, "chan", "prio")
    "CASE WHEN chan = 'chat' THEN 1 WHEN TRUE THEN 0 END"
    """
    def literal(x: str) -> str:
        return "'" + x.replace("'", "''") + "'"

    order = sorted(range(len(policies)), key=lambda i: (policies[i].specificity, i))
    whens = []
    for i in order:
        p = policies[i]
        cond = [f"{chan} = {literal(p.channel)}"] if p.channel is not None else []
        cond += [f"{prio} = {literal(p.priority)}"] if p.priority is not None else []
        whens.append(f"WHEN {' AND '.join(cond) or 'TRUE'} THEN {i}")
    return f"CASE {' '.join(whens)} END"


def _sla_items(ctx: Context, metric: str) -> str:
    """SQL of what one ``metric`` times: ``chan, prio, mon, start_ns, end_ns, ended, tk`` for the
    tickets created (waits started) in the periods; ``end_ns`` is as_of while still running."""
    as_of, months = ctx.as_of_ns_int, _months_sql(ctx)
    facts = _facts_name(ctx)
    if metric == "next_reply":  # a wait censored by a resolution is judged at it (B7.8)
        return (f"SELECT tk, chan, prio, start_mon AS mon, start_ns, end_ns, closed AS ended "
                f"FROM {waits(ctx).get_name()} WHERE start_mon IN {months}")
    end, cond = ("fr_ns", "AND NOT outbound") if metric == "first_reply" else ("res_ns", "")
    return (f"SELECT tk, chan, prio, c_mon AS mon, c_ns AS start_ns, coalesce({end}, {as_of}) AS end_ns, "
            f"{end} IS NOT NULL AS ended FROM {facts} WHERE c_mon IN {months} {cond}")


def _reading(ctx: Context, business_hours: bool, alias: str, at: str) -> tuple[str, str]:
    """The join (if any) and the SQL reading (ns) of the policy's clock at instant ``at``."""
    if not business_hours:
        return "", at
    join, reading, _ = ctx._clock_join(alias, at)
    return join, reading


def sla_elapsed(ctx: Context, metric: str, pauses: bool = True) -> pd.DataFrame:
    """``policy, mon, g, ended, elapsed_us, n`` for ``metric``: items per policy (index in
    dataset.toml), channel, ended flag and distinct elapsed time on the policy's clock less the
    time in its paused statuses (unless ``pauses`` is False)."""
    every = list(ctx.ds.config.sla)
    policies = [p for p in every if p.metric == metric]
    items = f"SELECT *, {policy_cases(policies, 'chan', 'prio')} AS pol FROM ({_sla_items(ctx, metric)})"
    frames = []
    for i, p in enumerate(policies):  # a handful of policies, each one query
        j0, r0 = _reading(ctx, p.business_hours, "b0", "i.start_ns")
        j1, r1 = _reading(ctx, p.business_hours, "b1", "i.end_ns")
        paused = "0"
        with_pause = ""
        if pauses and p.pause_on:
            statuses = "(" + ", ".join(f"'{s}'" for s in p.pause_on) + ")"
            k0, s0 = _reading(ctx, p.business_hours, "c0", "o.lo")
            k1, s1 = _reading(ctx, p.business_hours, "c1", "o.hi")
            # the overlap of each paused span with [start, end], on the policy's clock
            with_pause = f""", paused AS (
                SELECT o.id, sum(({s1}) - ({s0})) AS ns FROM (
                    SELECT i.id, greatest(s.s_ns, i.start_ns) AS lo, least(s.e_ns, i.end_ns) AS hi
                    FROM items AS i JOIN {status_spans(ctx).get_name()} AS s ON s.tk = i.tk
                    WHERE s.status IN {statuses} AND s.s_ns < i.end_ns AND s.e_ns > i.start_ns) AS o {k0} {k1}
                GROUP BY o.id)"""
            paused = "coalesce(pz.ns, 0)"
        join_pause = "LEFT JOIN paused AS pz ON pz.id = i.id" if with_pause else ""
        query = f"""
            WITH items AS (SELECT *, row_number() OVER () AS id FROM ({items}) WHERE pol = {i}){with_pause}
            SELECT mon, g, ended, CAST(round(el / 1000.0) AS BIGINT) AS elapsed_us, count(*) AS n FROM (
                SELECT i.mon, i.chan AS g, i.ended, ({r1}) - ({r0}) - {paused} AS el
                FROM items AS i {j0} {j1} {join_pause})
            GROUP BY 1, 2, 3, 4"""
        frames.append(_frame(ctx, query).assign(policy=every.index(p)))
    cols = ["policy", "mon", "g", "ended", "elapsed_us", "n"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def sla_counts(ctx: Context, metric: str, pauses: bool = True) -> pd.DataFrame:
    """``policy, mon, g, met, breached, running`` for ``metric`` (SPEC B6): met = ended within the
    target (equal included); breached = past the target (ended, censored by a resolution, or
    still running at as_of); running = not ended and not past it (left out of the share)."""
    el = sla_elapsed(ctx, metric, pauses)
    target = np.array([ctx.ds.config.sla[i].target_h * HOUR_US for i in el["policy"]], dtype=float)
    within = el["elapsed_us"].to_numpy(float) <= target
    ended = el["ended"].to_numpy(bool)
    n = el["n"].to_numpy(np.int64)
    out = el[["policy", "mon", "g"]].assign(met=np.where(ended & within, n, 0), breached=np.where(within, 0, n),
                                           running=np.where(~ended & within, n, 0))
    return out.groupby(["policy", "mon", "g"], as_index=False)[["met", "breached", "running"]].sum()


# ---------------------------------------------------------------- KPI rows

def _median_rows(ctx: Context, frame: pd.DataFrame, index: pd.MultiIndex, kpi: str) -> pd.DataFrame:
    """Conventional medians (no CI) of ``dur`` (µs) weighted by ``n``, per ``(mon, g)``, in hours."""
    frame = with_all(frame, ["mon", "dur"], ["n"]).sort_values(["mon", "g", "dur"])
    value = pd.Series(np.nan, index=index)
    count = pd.Series(0.0, index=index)
    for key, part in frame.groupby(["mon", "g"], sort=False):
        if key in value.index:
            w = part["n"].to_numpy(np.int64)
            value[key] = quantile7(part["dur"].to_numpy(np.int64) / HOUR_US, w, 0.5)
            count[key] = float(w.sum())
    return rows(index, ctx.labels, kpi, value.to_numpy(), count.to_numpy())


def _wait_summary(ctx: Context, index: pd.MultiIndex, business_hours: bool) -> pd.DataFrame:
    frame = wait_counts(ctx, business_hours)
    names = np.array([*ctx.channels, None], dtype=object)
    code = {c: i for i, c in enumerate(ctx.channels)}
    frame["g"] = frame["g"].map(code).fillna(len(ctx.channels)).astype(np.int64)
    frame = frame.sort_values(["mon", "g"], kind="stable")
    return summarise(frame, index, lambda codes: names[codes])


def compute(ctx: Context, want: set[str]) -> list[pd.DataFrame]:
    """Tidy frames (``group`` = channel, then ``all``) for the §8 KPI ids in ``want``."""
    index = grid(ctx.months, ctx.channels)
    labels = ctx.labels
    frames = []
    if want & {"nrt_median_h", "nrt_mean_h"}:
        s = _wait_summary(ctx, index, business_hours=False)
        if "nrt_median_h" in want:
            frames.append(rows(index, labels, "nrt_median_h", s["median"], s["km_n"], s["low"], s["high"]))
        if "nrt_mean_h" in want:
            frames.append(rows(index, labels, "nrt_mean_h", s["mean"], s["ev_n"]))
    if "nrt_bh_median_h" in want:
        s = _wait_summary(ctx, index, business_hours=True)
        frames.append(rows(index, labels, "nrt_bh_median_h", s["median"], s["km_n"], s["low"], s["high"]))
    if want & set(TICKET_SHARES):
        c = counts_on(ticket_counts(ctx), index, _TICKET_COLS)
        for kpi, (k, n) in TICKET_SHARES.items():
            if kpi in want:
                frames.append(share_rows(index, labels, kpi, c[k], c[n]))
    if "replies_mean" in want:
        r = with_all(reply_counts(ctx), ["mon", "replies"], ["n"])
        stats = pd.DataFrame({"mean": np.nan, "sd": np.nan, "n": 0.0}, index=index)
        for key, part in r.groupby(["mon", "g"], sort=False):
            if key in stats.index:
                stats.loc[key] = weighted_moments(part["replies"].to_numpy(float), part["n"].to_numpy(np.int64))
        frames.append(mean_rows(index, labels, "replies_mean", stats["mean"], stats["sd"], stats["n"]))
    for kpi, statuses in STATUS_TIMES.items():
        if kpi in want:
            frames.append(_median_rows(ctx, status_time_counts(ctx, statuses), index, kpi))
    if "backlog_aged_7d_pct" in want:
        b = backlog_counts(ctx, "channel", index)
        frames.append(share_rows(index, labels, "backlog_aged_7d_pct", b["aged"], b["backlog"]))
    for kpi, metric in SLA_METRICS.items():
        if kpi in want:
            c = sla_counts(ctx, metric)
            c = counts_on(c.assign(judged=c["met"] + c["breached"]), index, ["met", "judged"])
            frames.append(share_rows(index, labels, kpi, c["met"], c["judged"]))
    return frames


# ---------------------------------------------------------------- report tables

def sla_table(ctx: Context) -> pd.DataFrame:
    """Per policy, period and channel (and ``all``): met, breached, still running, the met share
    with the policy's pauses and without them (SPEC B6)."""
    out = []
    for kpi, metric in SLA_METRICS.items():
        if ctx.missing(kpi) is not None:
            continue
        both = [sla_counts(ctx, metric, pauses) for pauses in (True, False)]
        free = both[1].rename(columns={"met": "met_np", "breached": "breached_np", "running": "running_np"})
        merged = both[0].merge(free, on=["policy", "mon", "g"], how="outer").fillna(0)
        merged = with_all(merged, ["policy", "mon"], [c for c in merged if c not in ("policy", "mon", "g")])
        out.append(merged)
    cols = ["policy", "metric", "period", "channel", "met", "breached", "running", "met_pct", "met_pct_no_pauses"]
    if not out:
        return pd.DataFrame(columns=cols)
    f = pd.concat(out, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        f["met_pct"] = 100 * f["met"] / (f["met"] + f["breached"])
        f["met_pct_no_pauses"] = 100 * f["met_np"] / (f["met_np"] + f["breached_np"])
    policies = ctx.ds.config.sla
    f["metric"] = [policies[int(i)].metric for i in f["policy"]]
    f["policy"] = [policies[int(i)].label() for i in f["policy"]]
    f["period"] = [ctx.labels[m] for m in f["mon"]]
    f = f.rename(columns={"g": "channel"})
    for c in ("met", "breached", "running"):
        f[c] = f[c].astype(np.int64)
    f["_all"] = f["channel"] == ALL
    return f.sort_values(["period", "metric", "policy", "_all", "channel"]).reset_index(drop=True)[cols]


def status_time_table(ctx: Context) -> pd.DataFrame:
    """Per period, channel (and ``all``) and status: tickets whose history reaches solved/closed
    by as_of, and the median and mean hours they spent in the status before that."""
    index = grid(ctx.months, ctx.channels)
    out = []
    for status in ("new", "open", "pending", "on_hold"):
        f = with_all(status_time_counts(ctx, (status,)), ["mon", "dur"], ["n"])
        for (mon, g), part in f.sort_values("dur").groupby(["mon", "g"], sort=False):
            if (mon, g) in index:
                w = part["n"].to_numpy(np.int64)
                hours = part["dur"].to_numpy(np.int64) / HOUR_US
                out.append([ctx.labels[mon], g, status, int(w.sum()), quantile7(hours, w, 0.5),
                            float(np.dot(hours, w) / w.sum())])
    frame = pd.DataFrame(out, columns=["period", "channel", "status", "tickets", "median_h", "mean_h"])
    frame["_all"] = frame["channel"] == ALL
    return frame.sort_values(["period", "_all", "channel", "status"]).drop(columns="_all").reset_index(drop=True)


def backlog_by_age(ctx: Context) -> pd.DataFrame:
    """The daily backlog by age band (SPEC B5): ``date`` (local day), ``channel`` (and ``all``),
    ``band`` and ``tickets`` — non-abandoned tickets created before the day's end (the next local
    midnight) and unresolved at ``min(day end, as_of)``, by their age then (:data:`AGE_BANDS`)."""
    frame = ctx.period_frame()
    days = [d for first, last in zip(frame["first_day"], frame["last_day"]) for d in range(first, last + 1)]
    ends = [pd.Timestamp(np.datetime64(d + 1, "D")).tz_localize(ctx.tz, nonexistent="shift_forward",
                                                                    ambiguous=False).value // 1000
            for d in days]
    table = ctx.backend.register("backlog_days", pa.table({
        "day": pa.array(days, pa.int64()), "end_us": pa.array(ends, pa.int64()),
        "tend_us": pa.array(np.minimum(ends, ctx.as_of_us), pa.int64())}))
    tickets = ctx.tickets("channel").get_name()
    # band i holds ages up to its upper bound (7 days exactly is not aged, as backlog_aged_7d_pct)
    bands = " ".join(f"WHEN age <= {hi * 24 * HOUR_US} THEN {i}" for i, (_, hi) in enumerate(AGE_BANDS[1:]))
    raw = _frame(ctx, f"""
        SELECT day, g, CASE {bands} ELSE {len(AGE_BANDS) - 1} END AS band, count(*) AS tickets FROM (
            SELECT d.day, t.g, d.tend_us - t.created_us AS age
            FROM {tickets} AS t JOIN {table} AS d
              ON t.created_us < d.end_us AND (t.res_us IS NULL OR t.res_us > d.tend_us)
            WHERE NOT t.abandoned)
        GROUP BY 1, 2, 3""")
    raw["g"] = ctx.segment_labels(raw["g"], "channel")
    raw = with_all(raw, ["day", "band"], ["tickets"])
    full = pd.MultiIndex.from_product([days, [*ctx.channels, ALL], range(len(AGE_BANDS))], names=["day", "g", "band"])
    out = raw.groupby(["day", "g", "band"])["tickets"].sum().reindex(full, fill_value=0).reset_index()
    return pd.DataFrame({"date": pd.to_datetime(out["day"].to_numpy() * 86_400, unit="s"), "channel": out["g"],
                         "band": [AGE_BANDS[b][0] for b in out["band"]], "tickets": out["tickets"].astype(np.int64)})
