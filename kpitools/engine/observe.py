"""The observations behind the ticket and survey KPIs: compact counts pulled back from the backend.

Each function here answers "what does KPI k count" once, as a few rows per period and segment
(counts per outcome, per distinct duration, per score, per day). The KPI rows (:mod:`.speed`,
:mod:`.satisfaction`, :mod:`.conversations`), the comparisons, the report series
(:mod:`kpitools.series`) and the notebooks read these, so a rule has one home; the §8 counts
are in :mod:`.conversations` beside their tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..periods import local_midnight
from ..targets import frt_limits
from .durations import counts_many as _duration_counts_many
from .localtime import HOUR_US
from .narrow import not_spam
from .tidy import counts_on, with_all

if TYPE_CHECKING:
    from .context import Context

AGED_H = 7 * 24  # backlog_aged_7d_pct: older than this many hours at t_end (SPEC B7.7)
#: Age bands of the daily backlog (days, lower bound included; SPEC B5).
AGE_BANDS = (("under 1 day", 0), ("1–3 days", 1), ("3–7 days", 3), ("7–30 days", 7), ("over 30 days", 30))
OUTCOMES = ["tickets", "abandoned", "na", "open", "resolved", "fcr", "reopen", "sla_met", "sla_missed"]


# ---------------------------------------------------------------- tickets created in the periods

def tickets_in_periods(ctx: Context, by: str) -> Any:
    """Tickets created in the periods, as the speed KPIs select them (``mon`` = creation month)."""
    t = ctx.tickets(by)
    return t.filter(t.created_us <= ctx.as_of_us, t.created_mon.isin(ctx.months)).mutate(mon=t.created_mon)


def _threshold(ctx: Context, t: Any, by: str) -> Any:
    """Each ticket's first-response threshold in microseconds (null when its channel has none)."""
    ibis = ctx.ibis
    codes = ctx.channel_codes[by]
    own, every = frt_limits(ctx.ds.targets)
    # a branch only for the channels with their own row: the rest take the common threshold
    limits = {codes[c]: h for c, h in own.items() if c in codes and c in ctx.channels}
    default = ibis.null("float64") if every is None else ibis.literal(every * HOUR_US, "float64")
    if not limits:
        return default
    return ibis.cases(*((t.ch == code, ibis.literal(h * HOUR_US, "float64")) for code, h in limits.items()),
                      else_=default)


def outcome_counts(ctx: Context, t: Any, by: str, want: set[str]) -> pd.DataFrame:
    """Ticket counts per ``(mon, g)`` of the tickets ``t``: created, abandoned, handled, open,
    resolved, FCR (one contact, never reopened), reopened and (with an FRT target) SLA
    met/missed; ``g`` as segment values."""
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
    for c in OUTCOMES:
        if c not in out:
            out[c] = 0
    return out


def handle_counts(ctx: Context, t: Any, by: str) -> pd.DataFrame:
    """``mon, g, handle_s, n``: handled (non-abandoned) tickets of ``t`` per distinct handle time."""
    h = t.filter(~t.abandoned, t.handle_s.notnull())
    out = ctx.execute(h.group_by(["mon", "g", "handle_s"]).aggregate(n=h.count()))
    out["g"] = ctx.segment_labels(out["g"], by)
    return out


def duration_counts(ctx: Context, t: Any, event: str, business: str | None = None,
                    by_duration: bool = True) -> pd.DataFrame:
    """``mon, g, dur, ev, n``: non-abandoned tickets of ``t`` per distinct duration (µs) to the
    ``event`` column (``fr_us``/``res_us``), censored at as_of (SPEC A8) — on the calendar, or
    the ``business`` column's clock; ``g`` as segment codes (see :func:`.durations.counts_many`)."""
    return duration_counts_many(ctx, t, {"": (event, business)}, by_duration)[""]


def duration_counts_many(ctx: Context, t: Any, specs: dict[str, tuple[str, str | None]],
                         by_duration: bool = True) -> dict[str, pd.DataFrame]:
    """:func:`duration_counts` of several ``(event, business)`` pairs: name -> frame."""
    na = t.filter(~t.abandoned)

    def dur(event: str, business: str | None) -> Any:
        return na[business] if business else na[event].coalesce(ctx.as_of_us) - na.created_us

    parts = {name: (dur(event, business), na[event].notnull()) for name, (event, business) in specs.items()}
    return _duration_counts_many(na, parts, ctx.backend, by_duration=by_duration)


# ---------------------------------------------------------------- the backlog (SPEC B5, B7.7)

def _open_at(ctx: Context, by: str, ends: Any, first_tend: int) -> Any:
    """Non-abandoned tickets created before each row's ``end_us`` and unresolved at its
    ``tend_us`` (≤ ``end_us``; the earliest is ``first_tend``): ``ends`` joined to the tickets,
    with ``g`` and ``age`` (``tend_us`` − creation, µs)."""
    t = ctx.tickets(by)
    t = t.filter(t.created_us <= ctx.as_of_us, ~t.abandoned, t.res_us.isnull() | (t.res_us > first_tend))
    j = t.join(ends, t.created_us < ends.end_us)
    j = j.filter(j.res_us.isnull() | (j.res_us > j.tend_us))
    return j.mutate(age=j.tend_us - j.created_us)


def backlog_counts(ctx: Context, by: str, index: pd.MultiIndex) -> pd.DataFrame:
    """Per ``(mon, g)`` of ``index``: ``backlog``, the non-abandoned tickets created before the
    period's end and unresolved at ``t_end = min(end, as_of)``, and ``aged``, those of them created
    strictly more than 7 × 24 h before ``t_end`` (SPEC B5, B7.7)."""
    def run() -> pd.DataFrame:
        j = _open_at(ctx, by, ctx.period_table(), int(ctx.period_frame()["tend_us"].min()))
        aged = j.age > AGED_H * HOUR_US
        out = ctx.execute(j.group_by(["mon", "g"]).aggregate(backlog=j.count(), aged=j.count(where=aged)))
        out["g"] = ctx.segment_labels(out["g"], by)
        return out

    # backlog_end and backlog_aged_7d_pct read the same counts: one query per run
    return counts_on(ctx.memo(("backlog", by), run), index, ["backlog", "aged"])


def days(ctx: Context) -> list[int]:
    """The local days (numbers since 1970-01-01) of the periods, up to as_of's."""
    frame = ctx.period_frame()
    return [d for first, last in zip(frame["first_day"], frame["last_day"]) for d in range(first, last + 1)]


def daily_backlog(ctx: Context, bands: bool = False) -> pd.DataFrame:
    """``day, g, [band,] tickets``: the backlog at the end of each day of the periods — the
    ``backlog_end`` rule with the day's end (the next local midnight) for the period's end — per
    channel (``g`` as channel values, ``all`` not added) and, with ``bands``, per age band of
    :data:`AGE_BANDS` (an age exactly on a bound falls in the lower band, as for
    ``backlog_aged_7d_pct``)."""
    ibis = ctx.ibis
    numbers = days(ctx)
    ends = np.array([local_midnight(np.datetime64(d + 1, "D").astype(object), ctx.tz).value // 1000
                     for d in numbers], dtype=np.int64)
    tends = np.minimum(ends, ctx.as_of_us)
    table = ctx.backend.table("backlog_days", pa.table({
        "day": pa.array(numbers, pa.int64()), "end_us": pa.array(ends), "tend_us": pa.array(tends)}))
    j = _open_at(ctx, "channel", table, int(tends.min()) if len(tends) else ctx.as_of_us)
    keys = [j.day, j.g]
    if bands:
        band = ibis.cases(*((j.age <= hi * 24 * HOUR_US, i) for i, (_, hi) in enumerate(AGE_BANDS[1:])),
                          else_=len(AGE_BANDS) - 1)
        keys.append(band.name("band"))
    out = ctx.execute(j.group_by(keys).aggregate(tickets=j.count()))
    out["g"] = ctx.segment_labels(out["g"], "channel")
    return out


def channels_with_backlog(ctx: Context) -> list[str]:
    """The channels of the non-spam, non-abandoned tickets created by as_of, over the whole
    history (those a daily backlog can have)."""
    t = ctx.stored("tickets")
    keep = [t.created_at <= ctx.as_of_ns_int, not_spam(ctx, "tickets", t)]
    if ctx.has("tickets", "abandoned"):
        keep.append(~t.abandoned.coalesce(False))
    t = t.filter(*keep)
    chan = t.select(c=ctx.text("tickets", t, "channel"))
    found = ctx.execute(chan.filter(chan.c.notnull()).distinct())["c"]
    return sorted(found.tolist())


# ---------------------------------------------------------------- volume by local hour

def hourly_volume(ctx: Context) -> pd.DataFrame:
    """``weekday, hour, g, n``: tickets (abandoned included, as the ``tickets`` KPI) created in the
    periods — or by as_of without periods — per local weekday (0 = Monday) and hour, per
    channel (``g`` as channel values)."""
    t = ctx.tickets("channel")
    if ctx.periods:
        t = t.filter(t.created_mon.isin(ctx.months))
    weekday, hour = ctx.time.weekday_hour(t.created_us, ctx.span("tickets", "created_at"))
    t = t.select(weekday=weekday, hour=hour, g=t.ch)
    out = ctx.execute(t.group_by(["weekday", "hour", "g"]).aggregate(n=t.count()))
    out["g"] = ctx.segment_labels(out["g"], "channel")
    return out


# ---------------------------------------------------------------- surveys (SPEC A6, A12)

def score_counts(ctx: Context, by: str) -> pd.DataFrame:
    """Responses per ``(mon, g, survey, score)`` in the periods (every answer by as_of without
    periods), plus the ``all`` segment (which also counts answers without a segment value)."""
    s = ctx.surveys(by)
    if ctx.periods:
        s = s.filter(s.responded_mon.isin(ctx.months))
    s = s.mutate(mon=s.responded_mon)
    out = ctx.execute(s.group_by(["mon", "g", "survey", "score"]).aggregate(n=s.count()))
    return with_all(out, ["mon", "survey", "score"], ["n"])
