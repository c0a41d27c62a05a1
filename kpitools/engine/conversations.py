"""Conversation, status and SLA-policy KPIs (SPEC §8, B3–B9).

The rules of §8 are written once in the narrow tables of :mod:`.conversation_tables` (ticket
facts, events in B7.3 order, next-reply waits, status spans). The KPI values are counts over
those tables pulled back per ``(mon, channel)``; medians and means are taken in numpy on distinct
values with their counts, as the other families do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import SlaPolicy
from .arith import round_div
from .context import HOUR_US, Context
# the narrow tables, also read from here by the tests and kpitools.comparisons
from .conversation_tables import events, status_spans, ticket_facts, waits
from .durations import quantile7, summarise
from .observe import AGE_BANDS, backlog_counts, daily_backlog
from .observe import days as observe_days
from .tidy import ALL, counts_on, grid, mean_rows, rows, share_rows, weighted_moments, with_all

__all__ = ["AGE_BANDS", "SLA_METRICS", "STATUS_TIMES", "TICKET_SHARES", "compute", "events", "policy_cases",
           "reply_counts", "sla_counts", "sla_counts_many", "sla_elapsed", "sla_table", "status_spans",
           "status_time_counts", "status_time_sets", "status_time_table", "ticket_counts", "ticket_facts",
           "wait_counts", "waits"]

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
#: The statuses that can hold time before a ticket's first solved/closed change.
TIMED = ("new", "open", "pending", "on_hold")
SLA_METRICS = {"sla_first_reply_pct": "first_reply", "sla_next_reply_pct": "next_reply",
               "sla_resolution_pct": "resolution"}
_TICKET_COLS = ["touched", "one_touch", "with_bot", "handed_off", "bot_resolved", "contained"]


# ---------------------------------------------------------------- counts

def _in_months(ctx: Context, rel: Any, column: str) -> Any:
    return rel.filter(rel[column].isin(ctx.months))


def _agent_messages(ctx: Context) -> Any:
    """Per ticket with events: ``agent`` messages, the ``first_bot`` message's and the
    ``last_agent`` message's position (``seq``)."""
    ibis = ctx.ibis
    ev = events(ctx)
    agent = ev.kind == "a"
    return ev.group_by("tk").aggregate(
        agent=ev.count(where=agent),
        first_bot=ibis.ifelse(ev.kind == "b", ev.seq, ibis.null("int64")).min(),
        last_agent=ibis.ifelse(agent, ev.seq, ibis.null("int64")).max())


def ticket_counts(ctx: Context) -> pd.DataFrame:
    """Per ``(mon, g)`` of the tickets created in the periods: ``touched`` (resolved with an agent
    message), ``one_touch`` (exactly one), ``with_bot``, ``handed_off`` (an agent message after the
    first bot message), ``bot_resolved`` and ``contained`` (no agent message by as_of); SPEC B4,
    B7.6. ``g`` is the channel (``all`` not added)."""
    f = _in_months(ctx, ticket_facts(ctx), "c_mon")
    m = _agent_messages(ctx).rename(m_tk="tk")
    j = f.left_join(m, f.tk == m.m_tk)
    k = j.select(mon=j.c_mon, g=j.chan, resolved=j.res_ns.notnull(), agent=j.agent.coalesce(0),
                 bot=j.first_bot.notnull(), handed_off=(j.last_agent > j.first_bot).coalesce(False))
    return ctx.execute(k.group_by(["mon", "g"]).aggregate(
        touched=k.count(where=k.resolved & (k.agent > 0)), one_touch=k.count(where=k.resolved & (k.agent == 1)),
        with_bot=k.count(where=k.bot), handed_off=k.count(where=k.bot & k.handed_off),
        bot_resolved=k.count(where=k.bot & k.resolved), contained=k.count(where=k.bot & k.resolved & (k.agent == 0))))


def reply_counts(ctx: Context) -> pd.DataFrame:
    """``mon, g, replies, n``: resolved tickets created in the periods with a message, per number
    of agent messages by as_of (``replies_mean``, SPEC B7.6)."""
    ev = events(ctx)
    ev = ev.filter(ev.kind.isin(["c", "a", "b"]))
    m = ev.group_by(m_tk=ev.tk).aggregate(replies=ev.count(where=ev.kind == "a"))
    f = _in_months(ctx, ticket_facts(ctx), "c_mon")
    f = f.filter(f.res_ns.notnull())
    j = f.join(m, f.tk == m.m_tk)
    j = j.select(mon=j.c_mon, g=j.chan, replies=j.replies)
    return ctx.execute(j.group_by(["mon", "g", "replies"]).aggregate(n=j.count()))


def wait_counts(ctx: Context, business_hours: bool = False) -> pd.DataFrame:
    """``mon, g, dur, ev, n``: next-reply waits started in the periods per distinct duration
    (µs, calendar or business clock) and event flag (closed by an agent message)."""
    return _wait_clocks(ctx, [business_hours])[business_hours]


def _wait_clocks(ctx: Context, clocks: list[bool]) -> dict[bool, pd.DataFrame]:
    """:func:`wait_counts` on each clock of ``clocks`` (business hours or not)."""
    w = _in_months(ctx, waits(ctx), "start_mon")
    w = w.select("start_mon", "chan", "start_ns", "end_ns", "closed")
    parts = {}
    for business_hours in clocks:
        if business_hours:
            b = ctx.clock.read(w, w.start_ns, "b0")
            b = ctx.clock.read(b, b.end_ns, "b1")
            rel, dur = b, b.b1 - b.b0
        else:
            rel, dur = w, w.end_ns - w.start_ns
        rel = rel.select(mon=rel.start_mon, g=rel.chan, dur=round_div(dur, 1000), ev=rel.closed)
        parts[str(business_hours)] = rel.group_by(["mon", "g", "dur", "ev"]).aggregate(n=rel.count())
    found = ctx.backend.execute_parts(parts, ["mon", "g", "dur", "ev"])
    return {bh: found[str(bh)] for bh in clocks}


def _status_times(ctx: Context) -> Any:
    """Per ticket created in the periods whose status history reaches solved/closed by as_of:
    ``mon``, ``g`` and the ns spent in each status of :data:`TIMED` before that (SPEC B7.7),
    materialised once so that each time-in-status query reads one row per ticket."""
    def build() -> Any:
        ibis = ctx.ibis
        s = status_spans(ctx)
        s = s.filter(s.solved_ns.notnull())
        spent = ibis.greatest(ibis.least(s.e_ns, s.solved_ns) - s.s_ns, 0)
        s = s.group_by(s_tk=s.tk).aggregate(**{x: ibis.ifelse(s.status == x, spent, 0).sum() for x in TIMED})
        f = _in_months(ctx, ticket_facts(ctx), "c_mon")
        j = f.join(s, f.tk == s.s_tk)
        return ctx.backend.cache(j.select("c_mon", "chan", *TIMED))
    return ctx.memo(("conv_status_times",), build)


def status_time_counts(ctx: Context, statuses: tuple[str, ...]) -> pd.DataFrame:
    """``mon, g, dur, n``: tickets created in the periods whose status history reaches
    solved/closed by as_of, per distinct time (µs) in ``statuses`` before that (SPEC B7.7)."""
    return status_time_sets(ctx, {"": statuses})[""]


def status_time_sets(ctx: Context, sets: dict[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
    """:func:`status_time_counts` of several sets of statuses: the key of ``sets`` -> frame."""
    ibis = ctx.ibis
    t = _status_times(ctx)
    parts = {}
    for name, statuses in sets.items():
        # no status outside TIMED has time before the first solved/closed change
        dur = sum((t[x] for x in TIMED if x in statuses), ibis.literal(0, "int64"))
        part = t.select(mon=t.c_mon, g=t.chan, dur=round_div(dur, 1000))
        parts[name] = part.group_by(["mon", "g", "dur"]).aggregate(n=part.count())
    return ctx.backend.execute_parts(parts, ["mon", "g", "dur"])


# ---------------------------------------------------------------- SLA policies (SPEC B6, B7.8)

def policy_cases(policies: list[SlaPolicy], chan: Any, prio: Any) -> Any:
    """The index (in ``policies``) of the most specific policy matching a row's channel ``chan``
    and priority ``prio`` (expressions) — channel and priority, then channel, then priority,
    then neither; the first in the file among equals; null when none matches.

    Examples
    --------
    >>> import ibis
    >>> p = [SlaPolicy("first_reply", 8), SlaPolicy("first_reply", 4, channel="chat")]
    >>> t = ibis.memtable({"chan": ["chat", "email", None], "prio": ["high", None, None]})
    >>> ibis.duckdb.connect().execute(t.select(pol=policy_cases(p, t.chan, t.prio)))["pol"].tolist()
    [1, 0, 0]
    """
    import ibis

    order = sorted(range(len(policies)), key=lambda i: (policies[i].specificity, i))
    cases = []
    for i in order:
        p = policies[i]
        cond = ibis.literal(True)
        if p.channel is not None:
            cond = chan == p.channel
        if p.priority is not None:
            cond = (cond & (prio == p.priority)) if p.channel is not None else prio == p.priority
        cases.append((cond, ibis.literal(i, "int64")))
    return ibis.cases(*cases, else_=ibis.null("int64"))


def _sla_items(ctx: Context, metric: str) -> Any:
    """What one ``metric`` times: ``tk, chan, prio, mon, start_ns, end_ns, ended`` for the
    tickets created (waits started) in the periods; ``end_ns`` is as_of while still running."""
    if metric == "next_reply":  # a wait censored by a resolution is judged at it (B7.8)
        w = _in_months(ctx, waits(ctx), "start_mon")
        return w.select("tk", "chan", "prio", mon=w.start_mon, start_ns=w.start_ns, end_ns=w.end_ns, ended=w.closed)
    f = _in_months(ctx, ticket_facts(ctx), "c_mon")
    if metric == "first_reply":
        f = f.filter(~f.outbound)
    end = f.fr_ns if metric == "first_reply" else f.res_ns
    return f.select("tk", "chan", "prio", mon=f.c_mon, start_ns=f.c_ns, end_ns=end.coalesce(ctx.as_of_ns_int),
                    ended=end.notnull())


def _on_clock(ctx: Context, rel: Any, at: str, name: str, business: list[int]) -> tuple[Any, Any]:
    """``rel`` and the reading (ns) at its instant ``at`` on each row's policy clock (``pol``):
    the business clock for the policies in ``business``, the calendar for the others."""
    if not business:
        return rel, rel[at]
    rel = ctx.clock.read(rel, rel[at], name)
    return rel, ctx.ibis.ifelse(rel.pol.isin(business), rel[name], rel[at])


def _paused(ctx: Context, items: Any, policies: list[SlaPolicy], business: list[int]) -> Any | None:
    """Per item (``tk, start_ns, end_ns, pol``): ``paused_ns``, the time on its policy's clock that
    the policy's paused statuses overlap ``[start, end]``; None when no policy pauses."""
    ibis = ctx.ibis
    pausing = [i for i, p in enumerate(policies) if p.pause_on]
    if not pausing:
        return None
    keys = items.filter(items.pol.isin(pausing)).select("tk", "start_ns", "end_ns", "pol").distinct()
    s = status_spans(ctx)
    statuses = sorted({x for i in pausing for x in policies[i].pause_on})
    s = s.filter(s.status.isin(statuses)).select(s_tk="tk", status="status", s_ns="s_ns", e_ns="e_ns")
    o = keys.join(s, [keys.tk == s.s_tk, s.s_ns < keys.end_ns, s.e_ns > keys.start_ns])
    o = o.filter(ibis.or_(*((o.pol == i) & o.status.isin(list(policies[i].pause_on)) for i in pausing)))
    o = o.select("tk", "start_ns", "end_ns", "pol", lo=ibis.greatest(o.s_ns, o.start_ns),
                 hi=ibis.least(o.e_ns, o.end_ns))
    o, lo = _on_clock(ctx, o, "lo", "c0", business)
    o = o.mutate(lo_r=lo)
    o, hi = _on_clock(ctx, o, "hi", "c1", business)
    return o.group_by(p_tk=o.tk, p_start=o.start_ns, p_end=o.end_ns, p_pol=o.pol).aggregate(
        paused_ns=(hi - o.lo_r).sum())


def sla_elapsed(ctx: Context, metric: str, pauses: bool = True) -> pd.DataFrame:
    """``policy, mon, g, ended, elapsed_us, n`` for ``metric``: items per policy (index in
    dataset.toml), channel, ended flag and distinct elapsed time on the policy's clock less the
    time in its paused statuses (unless ``pauses`` is False). One query for every policy."""
    return _sla_elapsed_many(ctx, [metric], pauses)[metric]


def _sla_query(ctx: Context, metric: str, pauses: bool) -> Any:
    """The query behind :func:`sla_elapsed` (``pol`` = index among the metric's policies), or None
    without a policy of ``metric``."""
    policies = [p for p in ctx.ds.config.sla if p.metric == metric]
    if not policies:
        return None
    business = [i for i, p in enumerate(policies) if p.business_hours]
    items = _sla_items(ctx, metric)
    items = items.mutate(pol=policy_cases(policies, items.chan, items.prio))
    items = items.filter(items.pol.notnull())
    paused = _paused(ctx, items, policies, business) if pauses else None
    it, start = _on_clock(ctx, items, "start_ns", "b0", business)
    it = it.mutate(start_r=start)
    it, end = _on_clock(ctx, it, "end_ns", "b1", business)
    it = it.mutate(end_r=end)
    elapsed = it.end_r - it.start_r
    if paused is not None:
        it = it.left_join(paused, [it.tk == paused.p_tk, it.start_ns == paused.p_start, it.end_ns == paused.p_end,
                                   it.pol == paused.p_pol])
        elapsed = it.end_r - it.start_r - it.paused_ns.coalesce(0)
    it = it.select(pol=it.pol, mon=it.mon, g=it.chan, ended=it.ended, elapsed_us=round_div(elapsed, 1000))
    return it.group_by(["pol", "mon", "g", "ended", "elapsed_us"]).aggregate(n=it.count())


def _sla_elapsed_many(ctx: Context, metrics: list[str], pauses: bool = True) -> dict[str, pd.DataFrame]:
    """:func:`sla_elapsed` of several metrics: metric -> frame."""
    every = list(ctx.ds.config.sla)
    cols = ["policy", "mon", "g", "ended", "elapsed_us", "n"]
    queries = {m: q for m in metrics if (q := _sla_query(ctx, m, pauses)) is not None}
    found = ctx.backend.execute_parts(queries, ["pol", "mon", "g", "ended", "elapsed_us"]) if queries else {}
    out = {}
    for metric in metrics:
        policies = [p for p in every if p.metric == metric]
        if not policies:
            out[metric] = pd.DataFrame(columns=cols)
            continue
        part = found[metric]
        part["policy"] = np.array([every.index(p) for p in policies], dtype=np.int64)[part["pol"].to_numpy(np.int64)]
        out[metric] = part.sort_values(["policy", "mon", "g", "ended", "elapsed_us"],
                                       kind="stable").reset_index(drop=True)[cols]
    return out


def sla_counts(ctx: Context, metric: str, pauses: bool = True) -> pd.DataFrame:
    """``policy, mon, g, met, breached, running`` for ``metric`` (SPEC B6): met = ended within the
    target (equal included); breached = past the target (ended, censored by a resolution, or
    still running at as_of); running = not ended and not past it (left out of the share)."""
    return sla_counts_many(ctx, [metric], pauses)[metric]


def sla_counts_many(ctx: Context, metrics: list[str], pauses: bool = True) -> dict[str, pd.DataFrame]:
    """:func:`sla_counts` of several metrics: metric -> frame."""
    out = {}
    for metric, el in _sla_elapsed_many(ctx, metrics, pauses).items():
        target = np.array([ctx.ds.config.sla[i].target_h * HOUR_US for i in el["policy"]], dtype=float)
        within = el["elapsed_us"].to_numpy(float) <= target
        ended = el["ended"].to_numpy(bool)
        n = el["n"].to_numpy(np.int64)
        c = el[["policy", "mon", "g"]].assign(met=np.where(ended & within, n, 0), breached=np.where(within, 0, n),
                                              running=np.where(~ended & within, n, 0))
        out[metric] = c.groupby(["policy", "mon", "g"], as_index=False)[["met", "breached", "running"]].sum()
    return out


# ---------------------------------------------------------------- KPI rows

def _median_rows(ctx: Context, frame: pd.DataFrame, index: pd.MultiIndex, kpi: str) -> pd.DataFrame:
    """Conventional medians (no CI) of ``dur`` (µs) weighted by ``n``, per ``(mon, g)``, in hours;
    ``all`` over every row (a segment left empty included). The ``all`` counts are summed apart
    rather than appended to the frame: at scale it holds a row per distinct duration."""
    value = pd.Series(np.nan, index=index)
    count = pd.Series(0.0, index=index)

    def medians(parts: pd.DataFrame) -> None:
        for key, part in parts.groupby(["mon", "g"], sort=False):
            if key in value.index:
                w = part["n"].to_numpy(np.int64)
                value[key] = quantile7(part["dur"].to_numpy(np.int64) / HOUR_US, w, 0.5)
                count[key] = float(w.sum())

    medians(frame.groupby(["mon", "dur"], sort=True)["n"].sum().reset_index().assign(g=ALL))
    frame = frame.dropna(subset=["g"])  # (the caller's frame can go now)
    frame.sort_values(["mon", "g", "dur"], inplace=True)
    medians(frame)
    return rows(index, ctx.labels, kpi, value.to_numpy(), count.to_numpy())


def _wait_summary(ctx: Context, index: pd.MultiIndex, frame: pd.DataFrame) -> pd.DataFrame:
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
    clocks = [bh for bh, ids in ((False, {"nrt_median_h", "nrt_mean_h"}), (True, {"nrt_bh_median_h"})) if want & ids]
    found = _wait_clocks(ctx, clocks) if clocks else {}
    # each clock's counts (a row per distinct wait: millions at scale) are let go once summarised
    if False in found:
        s = _wait_summary(ctx, index, found.pop(False))
        if "nrt_median_h" in want:
            frames.append(rows(index, labels, "nrt_median_h", s["median"], s["km_n"], s["low"], s["high"]))
        if "nrt_mean_h" in want:
            frames.append(rows(index, labels, "nrt_mean_h", s["mean"], s["ev_n"]))
    if True in found:
        s = _wait_summary(ctx, index, found.pop(True))
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
    times = {kpi: statuses for kpi, statuses in STATUS_TIMES.items() if kpi in want}
    if times:
        counts = status_time_sets(ctx, times)
        for kpi in times:  # popped: a set's counts go once its medians are taken
            frames.append(_median_rows(ctx, counts.pop(kpi), index, kpi))
    if "backlog_aged_7d_pct" in want:
        b = backlog_counts(ctx, "channel", index)
        frames.append(share_rows(index, labels, "backlog_aged_7d_pct", b["aged"], b["backlog"]))
    sla = {kpi: metric for kpi, metric in SLA_METRICS.items() if kpi in want}
    found = sla_counts_many(ctx, list(sla.values())) if sla else {}
    for kpi, metric in sla.items():
        c = found[metric]
        c = counts_on(c.assign(judged=c["met"] + c["breached"]), index, ["met", "judged"])
        frames.append(share_rows(index, labels, kpi, c["met"], c["judged"]))
    return frames


# ---------------------------------------------------------------- report tables

def sla_table(ctx: Context) -> pd.DataFrame:
    """Per policy, period and channel (and ``all``): met, breached, still running, the met share
    with the policy's pauses and without them (SPEC B6)."""
    out = []
    metrics = [metric for kpi, metric in SLA_METRICS.items() if ctx.missing(kpi) is None]
    counts = {pauses: sla_counts_many(ctx, metrics, pauses) if metrics else {} for pauses in (True, False)}
    for metric in metrics:
        both = [counts[pauses][metric] for pauses in (True, False)]
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
    counts = status_time_sets(ctx, {status: (status,) for status in TIMED})
    for status in TIMED:
        f = with_all(counts[status], ["mon", "dur"], ["n"])
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
    raw = with_all(daily_backlog(ctx, bands=True), ["day", "band"], ["tickets"])
    full = pd.MultiIndex.from_product([observe_days(ctx), [*ctx.channels, ALL], range(len(AGE_BANDS))],
                                      names=["day", "g", "band"])
    out = raw.groupby(["day", "g", "band"])["tickets"].sum().reindex(full, fill_value=0).reset_index()
    return pd.DataFrame({"date": pd.to_datetime(out["day"].to_numpy() * 86_400, unit="s"), "channel": out["g"],
                         "band": [AGE_BANDS[b][0] for b in out["band"]], "tickets": out["tickets"].astype(np.int64)})
