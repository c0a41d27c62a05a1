"""Speed and operations KPIs (SPEC §4, A7–A9): tickets created in the period, per segment.

Three Ibis passes over the tickets of the asked periods (counts, handle times, durations per
clock) plus one for the backlog; ``all`` and the voice/text groups are sums of segment counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..targets import frt_limits
from .context import HOUR_US, Context
from .durations import counts as duration_counts
from .durations import summarise
from .tidy import counts_on, grid, mean_rows, pct, rows, share_rows, weighted_moments, with_all

AGED_H = 7 * 24  # backlog_aged_7d_pct: older than this many hours at t_end (SPEC B7.7)
COUNTS = ["tickets", "abandoned", "na", "open", "resolved", "fcr", "reopen", "sla_met", "sla_missed"]
_TIMES = {  # (base, clock) -> (event column, business-duration column)
    ("frt", ""): ("fr_us", None),
    ("frt", "bh_"): ("fr_us", "frt_bh_us"),
    ("ttr", ""): ("res_us", None),
    ("ttr", "bh_"): ("res_us", "ttr_bh_us"),
}
_STATS = {"median": ("median", "km_n", "low", "high"), "mean": ("mean", "ev_n", None, None),
          "p90": ("p90", "ev_n", None, None), "km_p90": ("km_p90", "km_n", "km_p90_low", "km_p90_high")}


def _threshold(ctx: Context, t: Any, by: str) -> Any:
    """Each ticket's first-response threshold in microseconds (null when its channel has none)."""
    ibis = ctx.ibis
    codes = ctx.channel_codes[by]
    own, every = frt_limits(ctx.ds.targets)
    # a branch only for the channels with their own row: the rest take the common threshold
    limits = {codes[c]: h for c, h in own.items() if c in codes and c in ctx.channels}
    default = ibis.null().cast("float64") if every is None else ibis.literal(every * HOUR_US, "float64")
    if not limits:
        return default
    return ibis.cases(*((t.ch == code, ibis.literal(h * HOUR_US, "float64")) for code, h in limits.items()),
                      else_=default)


def outcome_counts(ctx: Context, t: Any, by: str, want: set[str]) -> pd.DataFrame:
    """Ticket counts per ``(mon, g)`` of the tickets ``t``: created, abandoned, handled, open,
    resolved, FCR, reopened and (with an FRT target) SLA met/missed; ``g`` as segment values."""
    na = ~t.abandoned
    resolved = na & t.res_us.notnull()
    metrics = {
        "tickets": t.count(),
        "abandoned": t.count(where=t.abandoned),
        "na": t.count(where=na),
        "open": t.count(where=na & t.res_us.isnull()),
        "resolved": t.count(where=resolved),
        "fcr": t.count(where=resolved & t.first_contact),
        "reopen": t.count(where=resolved & t.was_reopened),
    }
    if "sla_frt_pct" in want:
        thr = _threshold(ctx, t, by)
        frt = t.fr_us - t.created_us
        waited = ctx.as_of_us - t.created_us
        judged = na & thr.notnull()
        metrics["sla_met"] = t.count(where=judged & t.fr_us.notnull() & (frt <= thr))
        metrics["sla_missed"] = t.count(where=judged & ((t.fr_us.notnull() & (frt > thr))
                                                        | (t.fr_us.isnull() & (waited > thr))))
    out = ctx.execute(t.group_by(["mon", "g"]).aggregate(**metrics))
    out["g"] = ctx.segment_labels(out["g"], by)
    for c in COUNTS:
        if c not in out:
            out[c] = 0
    return out


def backlog_counts(ctx: Context, by: str, index: pd.MultiIndex) -> pd.DataFrame:
    """Per ``(mon, g)`` of ``index``: ``backlog``, the non-abandoned tickets created before the
    period's end and unresolved at ``t_end = min(end, as_of)``, and ``aged``, those of them created
    strictly more than 7 × 24 h before ``t_end`` (SPEC B5, B7.7)."""
    t = ctx.tickets(by)
    p = ctx.period_table()
    first_end = int(ctx.period_frame()["tend_us"].min())
    t = t.filter(t.created_us <= ctx.as_of_us, ~t.abandoned, t.res_us.isnull() | (t.res_us > first_end))
    j = t.join(p, t.created_us < p.end_us)
    j = j.filter(j.res_us.isnull() | (j.res_us > j.tend_us))
    out = ctx.execute(j.group_by(["mon", "g"]).aggregate(
        backlog=j.count(), aged=j.count(where=j.tend_us - j.created_us > AGED_H * HOUR_US)))
    out["g"] = ctx.segment_labels(out["g"], by)
    return counts_on(out, index, ["backlog", "aged"])


def _aht(ctx: Context, t: Any, by: str, index: pd.MultiIndex) -> pd.DataFrame:
    h = t.filter(~t.abandoned, t.handle_s.notnull())
    values = ctx.execute(h.group_by(["mon", "g", "handle_s"]).aggregate(n=h.count()))
    values["g"] = ctx.segment_labels(values["g"], by)
    values = with_all(values, ["mon", "handle_s"], ["n"]).sort_values(["mon", "g", "handle_s"])
    out = pd.DataFrame({"mean": np.nan, "sd": np.nan, "n": 0.0}, index=index)
    for key, part in values.groupby(["mon", "g"], sort=False):
        if key in out.index:
            out.loc[key] = weighted_moments(part["handle_s"].to_numpy(float), part["n"].to_numpy(np.int64))
    return out


def compute(ctx: Context, by: str, groups: list[str], want: set[str],
            channel_groups: dict[str, list[str]] | None = None) -> list[pd.DataFrame]:
    """Tidy frames (``group`` = segment) for the speed KPI ids in ``want``."""
    t = ctx.tickets(by)
    t = t.filter(t.created_us <= ctx.as_of_us, t.created_mon.isin(ctx.months)).mutate(mon=t.created_mon)
    index = grid(ctx.months, groups)
    labels = ctx.labels
    c = counts_on(outcome_counts(ctx, t, by, want), index, COUNTS)
    frames = []

    def add(kpi: str, make: Any) -> None:
        if kpi in want:
            frames.append(make())

    add("tickets", lambda: rows(index, labels, "tickets", c["tickets"], c["tickets"]))
    add("open_pct", lambda: rows(index, labels, "open_pct", *pct(c["open"], c["na"])))
    add("fcr_pct", lambda: share_rows(index, labels, "fcr_pct", c["fcr"], c["resolved"]))
    add("reopen_pct", lambda: share_rows(index, labels, "reopen_pct", c["reopen"], c["resolved"]))
    add("sla_frt_pct", lambda: share_rows(index, labels, "sla_frt_pct", c["sla_met"],
                                          c["sla_met"] + c["sla_missed"]))
    add("abandonment_pct", lambda: share_rows(index, labels, "abandonment_pct", c["abandoned"], c["tickets"]))
    if "abandonment_pct" in want and channel_groups is not None:
        gidx = pd.MultiIndex.from_product([ctx.months, sorted(channel_groups)], names=["mon", "g"])
        per = c.reset_index()
        parts = [per[(per["mon"] == m) & per["g"].isin(channel_groups[g])] for m, g in gidx]
        k = [int(part["abandoned"].sum()) for part in parts]
        n = [int(part["tickets"].sum()) for part in parts]
        frames.append(share_rows(gidx, labels, "abandonment_pct", k, n))
    if "backlog_end" in want:
        b = backlog_counts(ctx, by, index)["backlog"]
        frames.append(rows(index, labels, "backlog_end", b, b))
    if "aht_min" in want:
        a = _aht(ctx, t, by, index)
        frames.append(mean_rows(index, labels, "aht_min", a["mean"] / 60, a["sd"] / 60, a["n"]))
    na = t.filter(~t.abandoned)
    for (base, clock), (event_col, bh_col) in _TIMES.items():
        ids = {f"{base}_{clock}{s}_h": s for s in _STATS if f"{base}_{clock}{s}_h" in want}
        if not ids:
            continue
        answered = na[event_col].notnull()
        dur = (na[bh_col] if bh_col else na[event_col].coalesce(ctx.as_of_us) - na.created_us)
        # summarise needs the groups contiguous, not the durations sorted (a costly sort at 10M)
        summary = summarise(duration_counts(na, dur, answered, ctx.execute, by_duration=False), index,
                            lambda codes, by=by: ctx.segment_labels(codes, by))
        for kpi, stat in ids.items():
            value, n, low, high = (summary[x] if x else None for x in _STATS[stat])
            frames.append(rows(index, labels, kpi, value, n, low, high))
    return frames
