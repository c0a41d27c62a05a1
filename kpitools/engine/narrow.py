"""The narrow tables: where the rules of which rows a KPI reads are written (SPEC A4–A6, A8–A11).

Each is an Ibis expression over a stored table, holding only the integer columns the KPIs
compare and count. SPEC A4/A5 are applied here: spam customers and everything of theirs are
dropped; first responses, resolutions and churn after ``as_of`` are blanked, and nothing created
after it is kept. The conversation tables of SPEC §8 are in :mod:`.conversation_tables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..dataset import KEY
from ..errors import UnknownSegmentError
from .arith import round_div
from .localtime import HOUR_US

if TYPE_CHECKING:
    from .context import Context

FOLLOW_H = 72  # self-service: a ticket within 72 h of the session counts as a follow-up (SPEC A11)


# ---------------------------------------------------------------- spam (SPEC A5) and customers

def customer_key(ctx: Context, table: str, rel: Any) -> Any:
    """The row's customer key (the store's integer per customer id; null without one)."""
    if not ctx.has(table, "customer_id"):
        return ctx.ibis.null("int64")
    return rel[KEY]


def _spam_keys(ctx: Context) -> Any:
    """The keys of the spam customers as a one-column table, or None when there are none."""
    def build() -> Any:
        if not ctx.has("customers", "is_spam"):
            return None
        c = ctx.stored("customers")
        spam = c.filter(c.is_spam)
        if not ctx.backend.scalar(spam.count()):
            return None
        return spam.select(id=customer_key(ctx, "customers", spam))
    return ctx.memo(("spam",), build)


def not_spam(ctx: Context, table: str, rel: Any) -> Any:
    """The row's customer is not a spam customer (an empty one never is)."""
    return not_spam_key(ctx, customer_key(ctx, table, rel) if ctx.has(table, "customer_id") else None)


def not_spam_key(ctx: Context, key: Any) -> Any:
    """The customer key ``key`` (an expression; None = the table has no customers) is not a spam
    customer's."""
    spam = _spam_keys(ctx)
    if spam is None or key is None:
        return ctx.ibis.literal(True)
    # the keys are never null, so the coalesce changes no value; it keeps Spark from planning
    # NOT IN's null-aware semantics as a nested-loop join of every row with every spam key
    return key.isnull() | ~key.isin(spam.id).coalesce(False)


def _stamp(ctx: Context, table: str, rel: Any, column: str) -> Any:
    """An instant (ns) blanked after as_of (SPEC A4)."""
    ibis = ctx.ibis
    if not ctx.has(table, column):
        return ibis.null("int64")
    return ibis.ifelse(rel[column] <= ctx.as_of_ns_int, rel[column], ibis.null("int64"))


def _or(ctx: Context, table: str, rel: Any, column: str, default: Any) -> Any:
    """A column with empty values as ``default`` (the default alone when the column is absent)."""
    value = ctx.ibis.literal(default)
    return rel[column].coalesce(value) if ctx.has(table, column) else value


# ---------------------------------------------------------------- tickets

def tickets(ctx: Context, by: str) -> Any:
    """Non-spam tickets created by as_of that some KPI of the periods can use.

    Kept rows: created in a period; or, for the backlog, non-abandoned, created before the
    last period end and not resolved before the first period start (the daily backlog of
    :mod:`kpitools.series` starts there); or, for self-service, with a customer and created from
    the first period start to 72 h after the last period end. Without periods every ticket
    created by as_of is kept.

    Columns: ``g`` and ``ch`` (the ``by`` segment and the channel as integer codes, see
    :meth:`~.Context.segment_labels` and ``channel_codes``), ``created_us``, ``created_mon``,
    ``fr_us`` and ``res_us`` (empty after as_of), ``abandoned``, ``first_contact`` (one contact,
    never reopened), ``was_reopened``, ``handle_s``, ``customer_id``, and with a schedule
    ``frt_bh_us``/``ttr_bh_us`` (business microseconds to the reply/resolution, or to as_of when
    there is none; filled for tickets created in a period). Materialised (cached).
    """
    if not ctx.has("tickets", by):
        raise UnknownSegmentError(f"by={by!r} is not a column of the tickets table")
    ibis, time = ctx.ibis, ctx.time
    codes_g = ctx.codes(by)
    codes_ch = None if by == "channel" else ctx.codes("channel")  # else ch is g
    ctx.channel_codes[by] = {v: i for i, v in enumerate(ctx._segments["channel"][:-1])}
    t = ctx.stored("tickets")
    t = t.filter(t.created_at <= ctx.as_of_ns_int, not_spam(ctx, "tickets", t))
    handle = t.handle_seconds.cast("float64") if ctx.has("tickets", "handle_seconds") else ibis.null("float64")
    r = t.select(
        seg=ctx.text("tickets", t, by), chan=ctx.text("tickets", t, "channel"), created_at=t.created_at,
        fr_ns=_stamp(ctx, "tickets", t, "first_response_at"), res_ns=_stamp(ctx, "tickets", t, "resolved_at"),
        abandoned=_or(ctx, "tickets", t, "abandoned", False), contacts=_or(ctx, "tickets", t, "contacts", 1),
        reopened=_or(ctx, "tickets", t, "reopened", 0), handle_s=handle,
        customer_id=customer_key(ctx, "tickets", t),
        created_mon=time.mon(time.us(t.created_at), t.created_at, ctx.span("tickets", "created_at")))
    if ctx.periods:
        frame = ctx.period_frame()
        first_start, last_end = int(frame["start_us"].min()), int(frame["end_us"].max())
        r = r.mutate(in_period=time.in_months(r.created_at, ctx.months))
        unresolved = r.res_ns.isnull() | (r.res_ns > first_start * 1000)
        backlog = ~r.abandoned & (r.created_at < last_end * 1000) & unresolved
        wanted = r.in_period | backlog
        if "sessions" in ctx.ds.tables and ctx.has("tickets", "customer_id"):
            follow = (last_end + FOLLOW_H * HOUR_US) * 1000
            wanted = wanted | ((r.created_at >= first_start * 1000) & (r.created_at <= follow))
        r = r.filter(wanted)
    else:
        r = r.mutate(in_period=ibis.literal(True))
    cg = codes_g.select(g_v=codes_g.v, g=codes_g.code)
    r = r.left_join(cg, r.seg == cg.g_v)
    if codes_ch is not None:
        cc = codes_ch.select(ch_v=codes_ch.v, ch=codes_ch.code)
        r = r.left_join(cc, r.chan == cc.ch_v)
    r = r.select(g=r.g, ch=r.g if codes_ch is None else r.ch, created_at=r.created_at, created_mon=r.created_mon,
                 fr_ns=r.fr_ns, res_ns=r.res_ns, abandoned=r.abandoned, contacts=r.contacts, reopened=r.reopened,
                 handle_s=r.handle_s, customer_id=r.customer_id, in_period=r.in_period)
    business = {}
    if ctx.ds.config.business_hours is not None:
        r, business = _business_times(ctx, r)
    return ctx.backend.cache(r.select(
        g=r.g, ch=r.ch, created_us=time.us(r.created_at), created_mon=r.created_mon, fr_us=time.us(r.fr_ns),
        res_us=time.us(r.res_ns), abandoned=r.abandoned, first_contact=(r.contacts == 1) & (r.reopened == 0),
        was_reopened=r.reopened > 0, handle_s=r.handle_s, customer_id=r.customer_id,
        **{name: make(r) for name, make in business.items()}))


def _business_times(ctx: Context, r: Any) -> tuple[Any, dict[str, Any]]:
    """``frt_bh_us``/``ttr_bh_us``: business µs from creation to the reply/resolution (to as_of
    when there is none), for tickets created in a period; three clock readings per ticket."""
    ibis, as_of = ctx.ibis, ctx.as_of_ns_int
    none = ibis.null("int64")
    for name, at in (("b0", "created_at"), ("b1", "fr_ns"), ("b2", "res_ns")):
        r = ctx.clock.read(r, ibis.ifelse(r.in_period, r[at].coalesce(as_of), none), name)

    def between(end: str) -> Any:
        return lambda rel: ibis.ifelse(rel.in_period, round_div(rel[end] - rel.b0, 1000), none)

    return r, {"frt_bh_us": between("b1"), "ttr_bh_us": between("b2")}


# ---------------------------------------------------------------- surveys (SPEC A6)

def survey_segments(ctx: Context, s: Any, by: str) -> Any:
    """The surveys ``s`` (stored rows) with ``own`` (their own ``by`` value), ``g`` (SPEC A6 for
    channel: their own value, else their ticket's) and ``ticket_ok`` (not about a spam
    customer's ticket)."""
    ibis = ctx.ibis
    linked = ctx.has("surveys", "ticket_id")
    fill = linked and ctx.has("tickets", by)
    r = s.mutate(own=ctx.text("surveys", s, by) if ctx.has("surveys", by) else ibis.null("string"))
    if not (fill or (linked and ctx.has("tickets", "customer_id"))):
        return r.mutate(g=r.own, ticket_ok=ibis.literal(True))
    # one join to the survey's ticket fills in its segment and finds spam customers' tickets
    t = ctx.stored("tickets")
    t = t.select(t_id=ctx.text("tickets", t, "ticket_id"),
                 t_seg=ctx.text("tickets", t, by) if fill else ibis.null("string"),
                 t_key=customer_key(ctx, "tickets", t))
    r = r.left_join(t, ctx.text("surveys", r, "ticket_id") == t.t_id)
    has_key = ctx.has("tickets", "customer_id")
    return r.mutate(g=r.own.coalesce(r.t_seg) if fill else r.own,
                    ticket_ok=not_spam_key(ctx, r.t_key if has_key else None))


def surveys(ctx: Context, by: str) -> Any:
    """Non-spam surveys answered by as_of in the periods: ``g`` (the ``by`` segment, see
    :func:`survey_segments`), ``survey``, ``score``, ``responded_mon``."""
    time = ctx.time
    s = ctx.stored("surveys")
    keep = [s.responded_at <= ctx.as_of_ns_int, not_spam(ctx, "surveys", s)]
    if ctx.periods:
        keep.append(time.in_months(s.responded_at, ctx.months))
    s = s.filter(*keep)
    mon = time.mon(time.us(s.responded_at), s.responded_at, ctx.span("surveys", "responded_at"))
    r = survey_segments(ctx, s.mutate(responded_mon=mon), by)
    r = r.filter(r.ticket_ok)
    if ctx.has("surveys", "ticket_id") and not ctx.has("tickets", by):
        if ctx.backend.scalar(r.filter(r.own.isnull(), r.ticket_id.notnull()).count()):
            raise UnknownSegmentError(f"by={by!r} is not a column of the surveys or tickets table")
    return r.select(g=r.g, survey=r.survey, score=r.score.cast("int64"), responded_mon=r.responded_mon)


# ---------------------------------------------------------------- customers, activity, sessions

def customers(ctx: Context) -> Any:
    """Non-spam customers: ``customer_id``, ``signup_us``, ``signup_day``, ``signup_mon``,
    ``churn_us`` (empty when after as_of). Materialised (cached)."""
    ibis, time = ctx.ibis, ctx.time
    c = ctx.stored("customers")
    if ctx.has("customers", "is_spam"):
        c = c.filter(~c.is_spam.coalesce(False))
    signup, span = time.us(c.signup_at), ctx.span("customers", "signup_at")
    churn = _stamp(ctx, "customers", c, "churned_at")
    return ctx.backend.cache(c.select(
        customer_id=customer_key(ctx, "customers", c), signup_us=signup, signup_day=time.day(signup, c.signup_at, span),
        signup_mon=time.mon(signup, c.signup_at, span), churn_us=time.us(churn) if ctx.has("customers", "churned_at")
        else ibis.null("int64")))


def activity(ctx: Context) -> Any:
    """Non-spam activity up to as_of: ``customer_id``, ``ts_us``, ``ts_day``, ``ts_mon``,
    ``is_activation``."""
    ibis, time = ctx.ibis, ctx.time
    a = ctx.stored("activity")
    keep = [a.ts <= ctx.as_of_ns_int, not_spam(ctx, "activity", a)]
    if ctx.periods:  # WAU reaches 6 days before the first period; D-N and activation come later
        first = int(ctx.period_frame()["first_day"].min()) - 6
        keep.append(time.in_range(a.ts, pd.Timestamp(np.datetime64(first, "D").astype("datetime64[ns]")), None))
    a = a.filter(*keep)
    event = ctx.ds.config.activation_event
    if event is not None and ctx.has("activity", "event"):
        is_act = (ctx.text("activity", a, "event") == event).coalesce(False)
    else:
        is_act = ibis.literal(False)
    ts, span = time.us(a.ts), ctx.span("activity", "ts")
    return a.select(customer_id=customer_key(ctx, "activity", a), ts_us=ts, ts_day=time.day(ts, a.ts, span),
                    ts_mon=time.mon(ts, a.ts, span), is_activation=is_act)


def sessions(ctx: Context, business_hours: bool) -> Any:
    """Non-spam sessions started by as_of in the periods: ``customer_id``, ``started_us``,
    ``started_mon``, ``converted``, ``self_service``, ``chat_available``, ``in_bh`` (with a
    schedule and ``business_hours``; a query that does not need it skips the clock join)."""
    time = ctx.time
    s = ctx.stored("sessions")
    keep = [s.started_at <= ctx.as_of_ns_int, not_spam(ctx, "sessions", s)]
    if ctx.periods:
        keep.append(time.in_months(s.started_at, ctx.months))
    s = s.filter(*keep)
    cols = {"customer_id": customer_key(ctx, "sessions", s), "started_us": time.us(s.started_at),
            "started_mon": time.mon(time.us(s.started_at), s.started_at, ctx.span("sessions", "started_at")),
            **{c: _or(ctx, "sessions", s, c, False) for c in ("converted", "self_service", "chat_available")}}
    r = s.select(**cols, started_at=s.started_at)
    if not (business_hours and ctx.ds.config.business_hours is not None):
        return r.drop("started_at")
    r = ctx.clock.read(r, r.started_at, "b")
    return r.select(*cols, in_bh=r.b_open)
