"""The public KPI functions: pandas in, tidy pandas out (SPEC §4, §7, A6, A13)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import catalog
from ..dataset import Dataset
from ..errors import NotAvailableError, OptionError
from . import conversations as conv
from . import cost, customers
from . import engagement as engagement_kpis
from . import satisfaction as satisfaction_kpis
from . import speed as speed_kpis
from .backend import Backend
from .context import HOUR_US, Context
from .observe import duration_counts
from .tidy import ALL, finish

Periods = str | list[str]


def _wanted(ctx: Context, api: str, omitted: dict[str, str]) -> set[str]:
    """The ids of ``api`` that this dataset can compute; the others go to ``omitted`` with a reason."""
    want = set()
    for kpi in catalog.ids(api):
        reason = ctx.missing(kpi)
        if reason is None:
            want.add(kpi)
        else:
            omitted[kpi] = reason
    return want


def _segments(ctx: Context, by: str, tables: tuple[str, ...]) -> list[str]:
    """The segment values to write: the channels (SPEC A6) or the distinct values of ``by``."""
    if by == "channel":
        return ctx.channels
    return ctx.segment_values(by, tuple(t for t in tables if t in ctx.ds.tables))


def _result(frames: list[pd.DataFrame], group_name: str, omitted: dict[str, str]) -> pd.DataFrame:
    df = finish(frames, group_name)
    df.attrs["omitted"] = dict(omitted)
    return df


def _speed(ctx: Context, by: str, omitted: dict[str, str]) -> list[pd.DataFrame]:
    want = _wanted(ctx, "speed", omitted)
    if not want:
        return []
    groups = ctx.channel_groups if by == "channel" else None
    return speed_kpis.compute(ctx, by, _segments(ctx, by, ("tickets",)), want, groups)


def _satisfaction(ctx: Context, by: str, omitted: dict[str, str]) -> list[pd.DataFrame]:
    want = _wanted(ctx, "satisfaction", omitted)
    if not want:
        return []
    return satisfaction_kpis.compute(ctx, by, _segments(ctx, by, ("surveys", "tickets")), want)


def _retention(ctx: Context, omitted: dict[str, str]) -> list[pd.DataFrame]:
    return customers.compute(ctx, _wanted(ctx, "retention", omitted))


def _engagement(ctx: Context, omitted: dict[str, str]) -> list[pd.DataFrame]:
    return engagement_kpis.compute(ctx, _wanted(ctx, "engagement", omitted))


def _channels(ctx: Context, omitted: dict[str, str]) -> list[pd.DataFrame]:
    want = _wanted(ctx, "channels", omitted)
    return cost.compute(ctx, want) + engagement_kpis.compute(ctx, want)


def _conversations(ctx: Context, omitted: dict[str, str]) -> list[pd.DataFrame]:
    want = _wanted(ctx, "conversations", omitted)
    return conv.compute(ctx, want) if want else []


def kpis(ds: Dataset, period: Periods, channels: list[str] | None = None, *,
         backend: Backend | None = None) -> pd.DataFrame:
    """Every KPI of SPEC §4 for every channel and ``all``: the ``kpis.csv`` table (SPEC §7).

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str or list of str
        ``"2026-10"``, a list of months, or an inclusive range ``"2026-01:2026-10"`` (computed in
        one pass per query).
    channels : list of str, optional
        Keep only these channel rows (channels or the groups ``voice``/``text``); ``all`` rows
        are always kept.
    backend : Backend, optional
        The Ibis backend to run on (a fresh in-memory DuckDB by default).

    Returns
    -------
    DataFrame
        ``period, channel, kpi, value, n, ci_low, ci_high`` sorted by (period, kpi, channel);
        ``df.attrs["omitted"]`` maps each KPI left out to the reason (missing table, column or
        configuration).

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = kpis(example_dataset(), "2026-10")
    >>> df.loc[(df.kpi == "tickets") & (df.channel == "all"), ["value", "n"]].values.tolist()
    [[3.0, 3.0]]
    """
    omitted: dict[str, str] = {}
    with Context(ds, period, backend) as ctx:
        frames = (_speed(ctx, "channel", omitted) + _satisfaction(ctx, "channel", omitted)
                  + _retention(ctx, omitted) + _engagement(ctx, omitted) + _channels(ctx, omitted)
                  + _conversations(ctx, omitted))
    df = _result(frames, "channel", omitted)
    if channels is not None:
        keep = set(channels) | {ALL}
        df = df[df["channel"].isin(keep)].reset_index(drop=True)
        df.attrs["omitted"] = dict(omitted)
    return df


def _family(ds: Dataset, period: Periods, backend: Backend | None, run: Any, group_name: str) -> pd.DataFrame:
    omitted: dict[str, str] = {}
    with Context(ds, period, backend) as ctx:
        return _result(run(ctx, omitted), group_name, omitted)


def speed(ds: Dataset, period: Periods, by: str = "channel", *, backend: Backend | None = None) -> pd.DataFrame:
    """Speed and operations KPIs per segment of any ticket column (SPEC §4).

    ``tickets``, ``frt_*``, ``ttr_*``, ``open_pct``, ``fcr_pct``, ``reopen_pct``, ``sla_frt_pct``,
    ``aht_min``, ``backlog_end`` and ``abandonment_pct`` (plus voice/text when ``by="channel"``).
    The segment column is named after ``by``; ``all`` covers every ticket.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = speed(example_dataset(), "2026-10", by="topic")
    >>> df.loc[df.kpi == "tickets", ["topic", "value"]].values.tolist()
    [['all', 3.0], ['billing', 2.0], ['login', 1.0]]
    """
    return _family(ds, period, backend, lambda ctx, om: _speed(ctx, by, om), by)


def satisfaction(ds: Dataset, period: Periods, by: str = "channel", *,
                 backend: Backend | None = None) -> pd.DataFrame:
    """Satisfaction KPIs (``csat_pct``, ``csat_mean``, ``nps``, ``ces_mean``, ``ces_easy_pct``)
    per segment: a survey column, else the surveyed ticket's column.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = satisfaction(example_dataset(), "2026-10")
    >>> df.loc[(df.kpi == "csat_pct") & (df.channel == "all"), ["value", "n"]].values.tolist()
    [[50.0, 2.0]]
    """
    return _family(ds, period, backend, lambda ctx, om: _satisfaction(ctx, by, om), by)


def retention(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """Customer KPIs: ``crr_pct``, ``churn_pct``, ``tickets_per_customer`` (per channel),
    ``d1_pct``, ``d7_pct``, ``d30_pct``, ``activation_pct``.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = retention(example_dataset(), "2026-10")
    >>> df.loc[df.kpi == "crr_pct", ["value", "n"]].values.tolist()
    [[50.0, 2.0]]
    """
    return _family(ds, period, backend, _retention, "channel")


def engagement(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """Activity and session KPIs: ``mau``, ``dau_mean``, ``wau_mean``, ``stickiness_pct``,
    ``conversion_pct`` (for ``all``).

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = engagement(example_dataset(), "2026-10")
    >>> df.loc[df.kpi == "mau", "value"].tolist()
    [1.0]
    """
    return _family(ds, period, backend, _engagement, "channel")


def channels(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """Channel and cost KPIs: ``cpi`` (per channel), ``self_service_pct``, ``coverage_pct``,
    ``presence_pct`` (for ``all``).

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = channels(example_dataset(), "2026-10")
    >>> df.loc[df.kpi == "cpi", ["channel", "value"]].round(2).values.tolist()
    [['all', 8.33], ['chat', 5.0], ['email', 15.0]]
    """
    return _family(ds, period, backend, _channels, "channel")


def conversation_kpis(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """Conversation, status and SLA-policy KPIs per channel and ``all`` (SPEC §8): ``nrt_*``,
    ``replies_mean``, ``one_touch_pct``, ``bot_resolved_pct``, ``handoff_pct``, the time-in-status
    medians, ``backlog_aged_7d_pct`` and ``sla_*_pct``; those whose table or policy is missing are
    in ``attrs["omitted"]``.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> df = conversation_kpis(example_dataset(), "2026-10")
    >>> df.loc[(df.kpi == "backlog_aged_7d_pct") & (df.channel == "all"), ["value", "n"]].values.tolist()
    [[100.0, 1.0]]
    """
    return _family(ds, period, backend, _conversations, "channel")


def sla_outcomes(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """Per ``[[sla]]`` policy, period and channel (and ``all``): ``met``, ``breached``, ``running``
    (not ended and not past the target: left out) and ``met_pct`` with the policy's pauses and
    without them (``met_pct_no_pauses``), SPEC B6. Empty without evaluable policies."""
    with Context(ds, period, backend) as ctx:
        return conv.sla_table(ctx)


def time_in_status(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """Per period, channel (and ``all``) and status (new, open, pending, on_hold): tickets created
    in the period whose status history reaches solved/closed by as_of, with the median and mean
    hours spent in the status before that (SPEC B5)."""
    if "status_changes" not in ds.tables:
        raise NotAvailableError("time_in_status needs the status_changes table")
    with Context(ds, period, backend) as ctx:
        return conv.status_time_table(ctx)


def backlog_by_age(ds: Dataset, period: Periods, *, backend: Backend | None = None) -> pd.DataFrame:
    """The daily backlog per channel (and ``all``) by age band — under 1 day, 1–3, 3–7, 7–30 and
    over 30 days (SPEC B5): ``date``, ``channel``, ``band``, ``tickets``.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> b = backlog_by_age(example_dataset(), "2026-10")
    >>> b[(b.channel == "all") & (b.tickets > 0)].tail(1).values.tolist()   # the open ticket, 26 days old
    [[Timestamp('2026-10-31 00:00:00'), 'all', '7–30 days', 1]]
    """
    if "resolved_at" not in ds.provided("tickets"):
        raise NotAvailableError("backlog_by_age needs the resolved_at column of tickets")
    with Context(ds, period, backend) as ctx:
        return conv.backlog_by_age(ctx)


def cohort_table(ds: Dataset, freq: str = "M", *, backend: Backend | None = None) -> pd.DataFrame:
    """Monthly signup cohorts × months since signup (long format; pivot it for display).

    Columns ``cohort`` (signup month ``YYYY-MM``), ``months_since_signup`` (0 = the signup
    month), ``customers`` (cohort size: non-spam signups by as_of), ``active`` (cohort customers
    with any activity in that calendar month) and ``pct``. A cell is observable once its
    calendar month is over at ``as_of`` (month end ≤ as_of); cells of as_of's own month are
    listed with ``active`` and ``pct`` empty.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> cohort_table(example_dataset())[["cohort", "months_since_signup", "pct"]].values.tolist()
    [['2026-09', 0, 100.0], ['2026-09', 1, 50.0], ['2026-09', 2, nan], ['2026-10', 0, 0.0], ['2026-10', 1, nan]]
    """
    if freq != "M":
        raise OptionError(f"freq={freq!r}: only monthly cohorts (\"M\") are supported")
    if ds.customers is None or ds.activity is None:
        raise NotAvailableError("cohort_table needs the customers and activity tables")
    with Context(ds, None, backend) as ctx:
        return customers.cohort_table(ctx)


def survival_curve(ds: Dataset, metric: str = "ttr", by: str | None = "channel", period: Periods | None = None,
                   business_hours: bool = False, *, backend: Backend | None = None) -> pd.DataFrame:
    """Kaplan–Meier curve of first-response (``"frt"``), resolution (``"ttr"``) or next-reply
    (``"nrt"``, SPEC B3: waits started in ``period``, per channel or ``all`` only) time per group.

    Non-abandoned tickets created in ``period`` (every period when None); open tickets are
    censored at as_of. Columns ``group, time_h, survival, ci_low, ci_high, n_risk, n_event,
    n_censor`` (log-transformed Greenwood band). ``by=None`` gives one group, ``all``.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> curve = survival_curve(example_dataset(), "frt", by=None)
    >>> curve[["time_h", "survival"]].round(3).values.tolist()   # the open ticket: censored at 1022 h
    [[1.0, 0.667], [2.0, 0.333], [1022.0, 0.333]]
    """
    if metric not in ("frt", "ttr", "nrt"):
        raise OptionError(f"metric must be 'frt', 'ttr' or 'nrt', got {metric!r}")
    if business_hours and ds.config.business_hours is None:
        raise NotAvailableError("business_hours=True needs [business_hours] in dataset.toml")
    if metric == "nrt":
        if "messages" not in ds.tables:
            raise NotAvailableError("metric='nrt' needs the messages table")
        if by not in ("channel", None) or period is None:
            raise OptionError("metric='nrt' is drawn per channel (by='channel' or None) for a given period")
    with Context(ds, period, backend) as ctx:
        if metric == "nrt":
            counts = conv.wait_counts(ctx, business_hours).assign(g=lambda f: f["g"] if by else ALL)
            return _curves(counts)
        t = ctx.tickets(by or "channel")
        t = t.filter(t.created_us <= ctx.as_of_us)
        if ctx.periods:
            t = t.filter(t.created_mon.isin(ctx.months))
        counts = duration_counts(ctx, t, "fr_us" if metric == "frt" else "res_us",
                                 f"{metric}_bh_us" if business_hours else None)
        counts["g"] = ALL if by is None else ctx.segment_labels(counts["g"], by)
    return _curves(counts)


def _curves(counts: pd.DataFrame) -> pd.DataFrame:
    """One Kaplan–Meier curve per group ``g`` of ``g, dur (µs), ev, n`` counts."""
    from ..stats import km_curve

    counts = counts.dropna(subset=["g"]).groupby(["g", "dur", "ev"], sort=True)["n"].sum().reset_index()
    curves = []
    for group, part in counts.groupby("g", sort=True):
        curve = km_curve(part["dur"].to_numpy(np.int64) / HOUR_US, part["ev"].to_numpy(bool),
                         part["n"].to_numpy(np.int64))
        curves.append(curve.rename(columns={"time": "time_h"}).assign(group=group))
    cols = ["group", "time_h", "survival", "ci_low", "ci_high", "n_risk", "n_event", "n_censor"]
    if not curves:
        return pd.DataFrame(columns=cols)
    return pd.concat(curves, ignore_index=True)[cols]
