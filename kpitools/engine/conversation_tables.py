"""The narrow tables of SPEC §8 (B3–B7), which carry every conversation rule once.

* :func:`ticket_facts` — one row per non-spam, non-abandoned ticket created by as_of (B7.2)
  that a KPI of the periods reads (created in one, or with a customer message in one):
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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..conversations import CONVERSATION
from ..dataset import ROW
from ..schema import SOLVED
from .narrow import not_spam

if TYPE_CHECKING:
    from .context import Context


def ticket_facts(ctx: Context) -> Any:
    """Non-spam, non-abandoned tickets created by as_of (SPEC B7.2) that the periods need (all
    without periods, see :func:`_in_periods`): ``tk`` (row key), ``tid`` (ticket id as text),
    ``chan``, ``prio``, ``c_ns``, ``fr_ns``/``res_ns`` (empty after as_of), ``c_mon``,
    ``outbound``. Cached once per run."""
    def build() -> Any:
        ibis, time, as_of = ctx.ibis, ctx.time, ctx.as_of_ns_int
        none = ibis.null("int64")

        def stamp(column: str) -> Any:
            return ibis.ifelse(t[column] <= as_of, t[column], none) if ctx.has("tickets", column) else none

        t = ctx.stored("tickets")
        abandoned = t.abandoned.coalesce(False) if ctx.has("tickets", "abandoned") else ibis.literal(False)
        t = t.filter(t.created_at <= as_of, ~abandoned, not_spam(ctx, "tickets", t))
        r = t.select(tk=t[ROW], tid=ctx.text("tickets", t, "ticket_id"), chan=ctx.text("tickets", t, "channel"),
                     prio=ctx.text("tickets", t, "priority") if ctx.has("tickets", "priority")
                     else ibis.null("string"),
                     c_ns=t.created_at, fr_ns=stamp("first_response_at"), res_ns=stamp("resolved_at"),
                     c_mon=time.mon(time.us(t.created_at), t.created_at, ctx.span("tickets", "created_at")))
        if ctx.periods:
            r = r.filter(_in_periods(ctx, r))
        if "messages" not in ctx.ds.tables:
            return ctx.backend.cache(r.mutate(outbound=ibis.literal(False)))
        # B2: an agent wrote first, or no customer wrote (bots never decide)
        m = ctx.stored("messages")
        m = m.mutate(conv=_conversation(ctx, m))
        m = m.semi_join(r, m.conv == r.tid)
        o = m.group_by("conv").aggregate(
            first_agent=m.sent_at.min(where=m.author == "agent"),
            first_customer=m.sent_at.min(where=m.author == "customer"),
            customers=m.count(where=m.author == "customer"))
        j = r.left_join(o, r.tid == o.conv)
        outbound = ((j.first_agent < j.first_customer) | (j.customers == 0)).coalesce(False)
        return ctx.backend.cache(j.select(*r.columns, outbound=outbound))
    return ctx.memo(("conv_tickets",), build)


def _in_periods(ctx: Context, r: Any) -> Any:
    """The tickets some §8 KPI of the periods reads: created in a period, or with a customer
    message sent in one (a wait may start there, B7.6). Every table below is per ticket, so
    leaving the others out changes no value."""
    keep = r.c_mon.isin(ctx.months)
    if "messages" not in ctx.ds.tables:
        return keep
    time = ctx.time
    m = ctx.stored("messages")
    m = m.filter(m.author == "customer", m.sent_at <= ctx.as_of_ns_int)
    # the month of a wait's start, as waits() computes it
    m = m.filter(time.mon(time.us(m.sent_at), m.sent_at, ctx.span("messages", "sent_at")).isin(ctx.months))
    return keep | r.tid.isin(_conversation(ctx, m))


def _conversation(ctx: Context, m: Any) -> Any:
    """A stored message's conversation id: its ticket_id, else the one its reply chain leads to
    (see :func:`kpitools.conversations.conversation_of`)."""
    return m[CONVERSATION].coalesce(ctx.text("messages", m, "ticket_id"))


def _linked(ctx: Context, rel: Any, tid: Any) -> Any:
    """``rel`` joined to the ticket facts on the ticket id ``tid`` (an expression on ``rel``)."""
    facts = ticket_facts(ctx).select("tk", "tid", "c_ns")
    return rel.join(facts, tid == facts.tid)


def _status_changes(ctx: Context) -> Any:
    """Status changes up to as_of of the kept tickets: ``tk``, ``t`` (the change takes effect at
    ``max(changed_at, created_at)``, B7.5), ``row``, ``status``."""
    s = ctx.stored("status_changes")
    s = s.filter(s.changed_at <= ctx.as_of_ns_int)
    j = _linked(ctx, s, ctx.text("status_changes", s, "ticket_id"))
    return j.select(tk=j.tk, t=ctx.ibis.greatest(j.changed_at, j.c_ns), row=j[ROW].cast("int64"), status=j.status)


def events(ctx: Context) -> Any:
    """Each ticket's events up to as_of in the order of SPEC B7.3: ``tk``, ``t`` (ns), ``kind``
    (``c`` customer, ``a`` agent, ``b`` bot message, ``R`` resolution, ``O`` change to a status
    that is not solved/closed), ``seq`` (1, 2, ... per ticket)."""
    def build() -> Any:
        ibis = ctx.ibis
        facts = ticket_facts(ctx)
        done = facts.filter(facts.res_ns.notnull())
        parts = [done.select(tk=done.tk, t=done.res_ns, rank=ibis.literal(2, "int64"),
                             row=ibis.literal(0, "int64"), kind=ibis.literal("R"))]
        if "messages" in ctx.ds.tables:
            m = ctx.stored("messages")
            m = m.filter(m.sent_at <= ctx.as_of_ns_int)
            j = _linked(ctx, m, _conversation(ctx, m))
            parts.append(j.select(
                tk=j.tk, t=j.sent_at, rank=ibis.ifelse(j.author == "customer", 0, 1).cast("int64"),
                row=j[ROW].cast("int64"),
                kind=ibis.cases((j.author == "customer", "c"), (j.author == "agent", "a"), else_="b")))
        if "status_changes" in ctx.ds.tables:
            s = _status_changes(ctx)
            parts.append(s.select(tk=s.tk, t=s.t, rank=ibis.literal(3, "int64"), row=s.row,
                                  kind=ibis.ifelse(s.status.isin(list(SOLVED)), "R", "O")))
        u = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
        seq = ibis.row_number().over(ibis.window(group_by=u.tk, order_by=[u.t, u.rank, u.row])) + 1
        return ctx.backend.cache(u.select(tk=u.tk, t=u.t, kind=u.kind, seq=seq))
    return ctx.memo(("conv_events",), build)


def waits(ctx: Context) -> Any:
    """The next-reply waits (SPEC B3, B7.3): ``tk``, ``chan``, ``prio``, ``start_ns``, ``end_ns``
    (the closing agent message, else the censoring resolution or as_of), ``closed``,
    ``start_mon``. Cached once per run."""
    def build() -> Any:
        ibis, time = ctx.ibis, ctx.time
        ev = events(ctx)

        def when(cond: Any) -> Any:
            return ibis.ifelse(cond, ev.seq, ibis.null("int64"))

        # per ticket (hash aggregates, not windows: cheaper): the first agent message and the
        # final resolution, the first after the last reopen (none while reopened)
        per = ev.group_by(p_tk=ev.tk).aggregate(first_agent=when(ev.kind == "a").min(),
                                                last_reopen=when(ev.kind == "O").max())
        r = ev.filter(ev.kind == "R")
        r = r.join(per, r.tk == per.p_tk)
        r = r.filter(r.seq > r.last_reopen.coalesce(0))
        final = r.group_by(f_tk=r.tk).aggregate(final_res=r.seq.min())
        # customer messages and the boundaries (agent messages, resolutions) between them: a
        # customer message right after a boundary (or first) is the first of its group, and once
        # the others are dropped the row after it is the boundary that ends its wait
        s = ev.filter(ev.kind.isin(["c", "a", "R"]))
        prev = s.kind.lag().over(ibis.window(group_by=s.tk, order_by=s.seq))
        s = s.mutate(prev=prev)
        s = s.filter((s.kind != "c") | s.prev.isnull() | (s.prev != "c"))
        after = ibis.window(group_by=s.tk, order_by=s.seq)
        s = s.mutate(next_kind=s.kind.lead().over(after), next_t=s.t.lead().over(after))
        c = s.filter(s.kind == "c")
        facts = ticket_facts(ctx).select(k_tk="tk", chan="chan", prio="prio", outbound="outbound")
        c = c.join(facts, c.tk == facts.k_tk)
        c = c.join(per, c.tk == per.p_tk)
        c = c.left_join(final, c.tk == final.f_tk)
        c = c.filter(c.outbound | (c.seq > c.first_agent), c.final_res.isnull() | (c.seq < c.final_res))
        return ctx.backend.cache(c.select(
            tk=c.tk, chan=c.chan, prio=c.prio, start_ns=c.t, closed=(c.next_kind == "a").coalesce(False),
            end_ns=c.next_t.coalesce(ctx.as_of_ns_int),
            start_mon=time.mon(time.us(c.t), c.t, ctx.span("messages", "sent_at"))))
    return ctx.memo(("conv_waits",), build)


def status_spans(ctx: Context) -> Any:
    """Time in status (SPEC B5): ``tk``, ``status``, ``s_ns``, ``e_ns`` — ``new`` from creation
    to the first change, then each status from its change to the next (the last to as_of);
    ``solved_ns``, the ticket's first change to solved/closed (empty when none by as_of)."""
    def build() -> Any:
        ibis = ctx.ibis
        facts = ticket_facts(ctx)
        new = facts.select(tk=facts.tk, t=facts.c_ns, row=ibis.literal(-1, "int64"), status=ibis.literal("new"))
        s = _status_changes(ctx)
        u = ibis.union(new, s.select(tk=s.tk, t=s.t, row=s.row, status=s.status.cast("string")), distinct=False)
        nxt = u.t.lead().over(ibis.window(group_by=u.tk, order_by=[u.t, u.row]))
        solved = ibis.ifelse(u.status.isin(list(SOLVED)), u.t, ibis.null("int64")).min()
        solved = solved.over(ibis.window(group_by=u.tk))
        return ctx.backend.cache(u.select(tk=u.tk, status=u.status, s_ns=u.t, e_ns=nxt.coalesce(ctx.as_of_ns_int),
                                          solved_ns=solved))
    return ctx.memo(("conv_spans",), build)
