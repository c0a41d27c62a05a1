"""Engagement and session KPIs (SPEC §4, A10, A11): MAU/DAU/WAU, stickiness, conversion,
self-service deflection, coverage and presence — all for ``all`` only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .context import HOUR_US, Context
from .narrow import FOLLOW_H
from .tidy import grid, rows, share_rows

FOLLOW_US = FOLLOW_H * HOUR_US
WEEK_DAYS = 7


def _active(ctx: Context) -> pd.DataFrame:
    """Per period: ``mau``, ``dau_sum`` (customer-days in its days) and ``wau_sum``.

    ``wau_sum`` is Σ over the period's days d of customers active in d−6..d. Each customer-day c
    covers the days c..c+6 up to the customer's next active day, so these windows do not overlap
    within a customer and the sum is the total overlap of the windows with the period's days.
    """
    ibis = ctx.ibis
    p = ctx.period_table()
    cd = ctx.customer_days()
    first = int(ctx.period_frame()["first_day"].min())
    w = cd.filter(cd.ts_day >= first - (WEEK_DAYS - 1))
    by_customer = ibis.window(group_by=w.customer_id, order_by=w.ts_day)
    nxt, prv = w.ts_day.lead().over(by_customer), w.ts_day.lag().over(by_customer)
    w = w.mutate(s=w.ts_day, e=ibis.least(w.ts_day + (WEEK_DAYS - 1), nxt.coalesce(2**31 - 1) - 1),
                 prv=prv.coalesce(-(2**31)))
    jw = w.join(p, (w.s <= p.last_day) & (w.e >= p.first_day))
    overlap = ibis.least(jw.e, jw.last_day) - ibis.greatest(jw.s, jw.first_day) + 1
    # a customer-day inside the period overlaps it too: one pass counts the days and the windows,
    # and a customer's first day in the period (none before it) counts the customer
    inside = jw.s >= jw.first_day
    out = ctx.execute(jw.group_by("mon").aggregate(
        mau=jw.count(where=inside & (jw.prv < jw.first_day)), dau_sum=jw.count(where=inside),
        wau_sum=overlap.sum()))
    return ctx.by_month(out, ["mau", "dau_sum", "wau_sum"])


def _sessions(ctx: Context) -> pd.DataFrame:
    """Per period: sessions, converted, chat shown, inside business hours; self-service eligible
    and followed by a ticket (each where the dataset allows it; shared by two KPI families)."""
    def eligible(s: Any) -> Any:  # self-service sessions whose 72 h follow-up window has passed
        return s.self_service & s.customer_id.notnull() & (s.started_us + FOLLOW_US <= ctx.as_of_us)

    s = ctx.sessions()
    s = s.mutate(mon=s.started_mon)  # sessions() holds the periods' sessions only
    self_service = ctx.missing("self_service_pct") is None
    metrics = {"sessions": s.count(), "converted": s.count(where=s.converted),
               "chat": s.count(where=s.chat_available)}
    if ctx.missing("coverage_pct") is None:
        metrics["in_bh"] = s.count(where=s.in_bh)
    if self_service:
        metrics["eligible"] = s.count(where=eligible(s))
    out = ctx.by_month(ctx.execute(s.group_by("mon").aggregate(**metrics)), list(metrics))
    if self_service:
        s = ctx.sessions(business_hours=False)  # this pass needs no clock join
        ss = s.mutate(mon=s.started_mon).filter(eligible(s))
        t = ctx.tickets()
        t = t.filter(t.customer_id.notnull(), t.created_us <= ctx.as_of_us).select(
            tid=t.customer_id, created_us=t.created_us)
        followed = ss.semi_join(t, [ss.customer_id == t.tid, t.created_us >= ss.started_us,
                                    t.created_us <= ss.started_us + FOLLOW_US])
        out["followed"] = ctx.by_month(ctx.execute(followed.group_by("mon").aggregate(
            followed=followed.count())), ["followed"])["followed"]
    return out


def compute(ctx: Context, want: set[str]) -> list[pd.DataFrame]:
    """Tidy frames for the engagement/session KPI ids in ``want`` (all for ``all``)."""
    labels = ctx.labels
    index = grid(ctx.months, [])
    frames = []
    if want & {"mau", "dau_mean", "wau_mean", "stickiness_pct"}:
        a = _active(ctx)
        days = ctx.period_frame().set_index("mon")["days"].reindex(ctx.months).to_numpy(dtype=float)
        dau = a["dau_sum"].to_numpy() / days
        wau = a["wau_sum"].to_numpy() / days
        mau = a["mau"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            sticky = np.where(mau > 0, 100 * dau / mau, np.nan)
        for kpi, value, n in (("mau", mau, mau), ("dau_mean", dau, days), ("wau_mean", wau, days),
                              ("stickiness_pct", sticky, mau)):
            if kpi in want:
                frames.append(rows(index, labels, kpi, value, n))
    session_ids = {"conversion_pct", "self_service_pct", "coverage_pct", "presence_pct"}
    if want & session_ids:
        s = ctx.memo("sessions", lambda: _sessions(ctx))
        shares = {"conversion_pct": ("converted", "sessions"), "presence_pct": ("chat", "sessions"),
                  "coverage_pct": ("in_bh", "sessions")}
        for kpi, (k, n) in shares.items():
            if kpi in want:
                frames.append(share_rows(index, labels, kpi, s[k], s[n]))
        if "self_service_pct" in want:
            frames.append(share_rows(index, labels, "self_service_pct", s["eligible"] - s["followed"],
                                     s["eligible"]))
    return frames
