"""The per-group observations behind a KPI value: what the comparison tests need.

A KPI value is a summary (a share, an NPS, a mean, a Kaplan–Meier median); testing a difference
needs what it summarises. This module pulls those inputs from the KPI engine's own queries on a
:class:`~kpitools.engine.context.Context`, so they follow exactly the rules of the KPI (the same
denominators, spam exclusion, as_of censoring, periods and clocks) and the estimates rebuilt from
them equal the values of :func:`kpitools.kpis`.

Five kinds of KPI can be compared; each has its own observation columns (besides ``period`` and
the segment column):

* ``share`` (``fcr_pct``, ``reopen_pct``, ``open_pct``, ``sla_frt_pct``, ``abandonment_pct``,
  ``csat_pct``, ``ces_easy_pct``, and of SPEC §8 ``one_touch_pct``, ``bot_resolved_pct``,
  ``handoff_pct``, ``backlog_aged_7d_pct`` and the ``sla_*_pct`` of the [[sla]] policies):
  ``successes``, ``n``;
* ``nps``: ``score``, ``count`` (responses per score);
* ``score`` (``csat_mean``, ``ces_mean``): ``score``, ``count``;
* ``mean`` (``aht_min``): ``handle_seconds``, ``count``;
* ``time`` (``frt_median_h``, ``ttr_median_h``, ``nrt_median_h`` and their ``_bh_`` twins):
  ``hours``, ``event`` (answered/resolved by as_of, a next-reply wait closed by an agent message;
  False = censored at as_of or, for a wait, at the ticket's resolution), ``count``.

The §8 KPIs are compared across channels only (``by="channel"``).

Counts are weights: each row stands for ``count`` identical observations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import catalog
from ..dataset import Dataset
# the engine's own count queries (internal to it), so that every rule is the KPI's rule
from ..engine import conversations as engine_conversations
from ..engine.satisfaction import score_counts as engine_score_counts
from ..engine.context import HOUR_US, Context
from ..engine.observe import backlog_counts as engine_backlog_counts
from ..engine.observe import duration_counts, handle_counts, tickets_in_periods
from ..engine.observe import outcome_counts as engine_outcome_counts
from ..engine.tidy import ALL, weighted_moments, with_all
from ..errors import KpitoolsError, UnknownSegmentError
from ..periods import parse_periods
from ..stats import nps_ci, t_ci, wilson_ci
from ..stats.survival import KmMedian, km_quantiles

#: Honesty thresholds (SPEC §5): no verdict under MIN_N per group or an expected count under
#: MIN_EXPECTED; Kaplan–Meier medians resting on fewer than MIN_EVENTS events are flagged.
MIN_N = 30
MIN_EXPECTED = 5
MIN_EVENTS = 10

# ticket shares: KPI id -> (successes, total) columns of the engine's ticket counts
_TICKET_SHARES = {
    "fcr_pct": ("fcr", "resolved"),
    "reopen_pct": ("reopen", "resolved"),
    "open_pct": ("open", "na"),
    "sla_frt_pct": ("sla_met", "sla_judged"),
    "abandonment_pct": ("abandoned", "tickets"),
}
# survey shares: KPI id -> (survey, lowest "success" score as an offset from the scale maximum)
_SURVEY_SHARES = {"csat_pct": ("csat", 1), "ces_easy_pct": ("ces", 2)}
_SCORES = {"csat_mean": "csat", "ces_mean": "ces"}
# time KPIs: id -> (event column, business-duration column or None for the calendar clock)
_TIMES = {
    "frt_median_h": ("fr_us", None),
    "frt_bh_median_h": ("fr_us", "frt_bh_us"),
    "ttr_median_h": ("res_us", None),
    "ttr_bh_median_h": ("res_us", "ttr_bh_us"),
}
# SPEC §8 times: id -> business clock (next-reply waits, SPEC B3)
_WAITS = {"nrt_median_h": False, "nrt_bh_median_h": True}
# SPEC §8 shares: id -> (successes, total) of the engine's conversation counts; the SLA ids sum
# met and met + breached over the policies
_CONVERSATION_SHARES = {**engine_conversations.TICKET_SHARES, "backlog_aged_7d_pct": ("aged", "backlog"),
                        **{k: ("met", "judged") for k in engine_conversations.SLA_METRICS}}
_BH_TWINS = {"frt_median_h": "frt_bh_median_h", "ttr_median_h": "ttr_bh_median_h",
             "nrt_median_h": "nrt_bh_median_h"}
#: Ticket shares whose event may be impossible in a channel (SPEC §9 structural zeros): a channel
#: with no such ticket in its whole history is not compared on the KPI.
STRUCTURAL = {"abandonment_pct": "abandoned", "reopen_pct": "reopen"}
_NOT_COMPARABLE = {
    "frt_km_p90_h": "no test of a difference of Kaplan–Meier 90th percentiles is implemented; compare "
                    "frt_median_h",
    "ttr_km_p90_h": "no test of a difference of Kaplan–Meier 90th percentiles is implemented; compare "
                    "ttr_median_h",
    "tickets": "it is a count with no per-ticket outcome to test",
    "backlog_end": "it is a count with no per-ticket outcome to test",
    "cpi": "it is a cost ratio with no per-ticket outcome to test",
    "tickets_per_customer": "it is a ratio of counts with no per-customer outcome to test",
    "replies_mean": "no test of a difference of reply counts is implemented; compare one_touch_pct",
    **{k: "it is a conventional median of resolved tickets' time in status; no test of it is implemented"
       for k in engine_conversations.STATUS_TIMES},
}

KINDS = {
    **{k: "share" for k in (*_TICKET_SHARES, *_SURVEY_SHARES, *_CONVERSATION_SHARES)},
    "nps": "nps",
    **{k: "score" for k in _SCORES},
    "aht_min": "mean",
    **{k: "time" for k in (*_TIMES, *_WAITS)},
}


def kind_of(kpi: str) -> str:
    """The comparison kind of a KPI id (``share``, ``nps``, ``score``, ``mean`` or ``time``).

    Raises
    ------
    KpitoolsError
        For an unknown id or a KPI that cannot be compared, saying why.

    Examples
    --------
    >>> kind_of("csat_pct"), kind_of("frt_bh_median_h")
    ('share', 'time')
    """
    if kpi in KINDS:
        return KINDS[kpi]
    entry = catalog.get(kpi)  # UnknownKpiError for an unknown id
    if entry.scope == "all":
        why = "it is written for all channels only (SPEC A6)"
    elif kpi in _NOT_COMPARABLE:
        why = _NOT_COMPARABLE[kpi]
    else:
        twin = kpi.replace("_mean_h", "_median_h").replace("_p90_h", "_median_h")
        why = (f"means and percentiles of answered tickets leave the censored ones out; compare "
               f"{twin} (censoring-aware) instead")
    raise KpitoolsError(f"{kpi} cannot be compared: {why}")


def resolve_kpi(kpi: str, business_hours: bool = False) -> str:
    """The KPI id to compare: ``kpi`` itself, or its business-hours twin when asked.

    Examples
    --------
    >>> resolve_kpi("frt_median_h", business_hours=True)
    'frt_bh_median_h'
    """
    kind_of(kpi)
    if not business_hours or "_bh_" in kpi:
        return kpi
    if kpi not in _BH_TWINS:
        raise KpitoolsError(f"business_hours=True applies to the time KPIs "
                            f"({', '.join(_BH_TWINS)}), not to {kpi}")
    return _BH_TWINS[kpi]


@dataclass(frozen=True)
class Observations:
    """The observations of one KPI per period and group.

    Attributes
    ----------
    kpi, kind : str
        The KPI id and its kind (see the module notes).
    data : DataFrame
        ``period``, ``group`` and the kind's columns; ``group = "all"`` pools every row of the
        period (rows without a segment value included), as the KPI's ``all`` does.
    groups : list of str
        The segments to compare, in order (for channels: every channel of SPEC A6).
    scale : tuple of int, optional
        The survey scale ``(min, max)`` (NPS, scores).
    structural_zeros : frozenset of str
        Groups whose KPI cannot occur (SPEC §9: no abandoned ticket in the channel's whole
        history): they are not compared on it.
    """

    kpi: str
    kind: str
    data: pd.DataFrame
    groups: list[str]
    scale: tuple[int, int] | None = None
    structural_zeros: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Sample:
    """One group's observations in one period, with the KPI estimate they give.

    ``estimate``, ``ci_low``, ``ci_high`` and ``n`` are what :func:`kpitools.kpis` writes (NaN
    where it writes nothing; a Kaplan–Meier median not reached is NaN, ``median`` keeps
    ``inf``). Kind-specific fields: ``successes`` (share); ``nps_counts`` (detractors,
    passives, promoters); ``values`` / ``weights`` (distinct scores, handle minutes or hours,
    with their counts), ``mean``, ``sd`` (score, mean); ``events`` (event flag of each
    ``values`` row), ``n_events``, ``median`` (time).
    """

    kind: str
    n: float
    estimate: float
    ci_low: float
    ci_high: float
    successes: float = math.nan
    nps_counts: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    events: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    mean: float = math.nan
    sd: float = math.nan
    n_events: float = math.nan
    median: float = math.nan

    def expanded(self, events_only: bool = False) -> np.ndarray:
        """Every observation (or, for times, every event time) as its own array entry."""
        keep = self.events if events_only else np.ones(len(self.values), dtype=bool)
        return np.repeat(self.values[keep], self.weights[keep])


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else math.nan


def nps_split(scores: np.ndarray, counts: np.ndarray, scale: tuple[int, int]) -> tuple[float, float, float]:
    """Detractors, passives and promoters among ``counts`` responses of ``scores`` (SPEC A12).

    Examples
    --------
    >>> nps_split(np.array([3, 7, 9, 10]), np.array([2, 1, 4, 1]), (0, 10))
    (2.0, 1.0, 5.0)
    """
    detractor, promoter = _nps_sides(scores, scale)
    d, r = float(counts[detractor].sum()), float(counts[promoter].sum())
    return d, float(counts.sum()) - d - r, r


def _nps_sides(scores: np.ndarray, scale: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Which ``scores`` are detractors (at most top − 4) and which promoters (at least top − 1)."""
    return scores <= scale[1] - 4, scores >= scale[1] - 1


def _sums(code: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per group sums of counts, NaN skipped as pandas' ``sum`` does (whole counts: exact in any order)."""
    return np.bincount(code, weights=np.where(np.isnan(values), 0.0, values), minlength=size)


def _share_samples(rows: pd.DataFrame, code: np.ndarray, size: int) -> list[Sample]:
    k, n = _sums(code, rows["successes"].to_numpy(float), size), _sums(code, rows["n"].to_numpy(float), size)
    low, high, has = np.full(size, math.nan), np.full(size, math.nan), n != 0
    low[has], high[has] = wilson_ci(k[has], n[has])
    empty = Sample("share", 0.0, math.nan, math.nan, math.nan, successes=0.0)
    return [Sample("share", n_, 100 * k_ / n_, 100 * lo, 100 * hi, successes=k_) if n_ != 0 else empty
            for k_, n_, lo, hi in zip(k.tolist(), n.tolist(), low.tolist(), high.tolist())]


def _time_samples(rows: pd.DataFrame, code: np.ndarray, size: int, at: list[slice]) -> list[Sample]:
    values, events = rows["hours"].to_numpy(float), rows["event"].to_numpy(bool)
    weights = rows["count"].to_numpy(np.int64)
    n = np.bincount(code, weights=weights, minlength=size)
    n_events = np.bincount(code, weights=weights * events, minlength=size)
    med = pd.DataFrame(math.nan, index=range(size), columns=list(KmMedian._fields))
    if len(code):  # every group's Kaplan–Meier median in one pass, each as km_median of its rows
        med = km_quantiles(values, events, pd.Categorical.from_codes(code, categories=range(size)), weights)[0.5]
    empty = Sample("time", 0.0, math.nan, math.nan, math.nan, n_events=0.0)
    return [Sample("time", n_, _finite(m), _finite(lo), _finite(hi), values=values[i], weights=weights[i],
                   events=events[i], n_events=e, median=m) if n_ != 0 else empty
            for n_, e, m, lo, hi, i in zip(n.tolist(), n_events.tolist(), med["median"].tolist(), med["low"].tolist(),
                                           med["high"].tolist(), at)]


def _nps_samples(rows: pd.DataFrame, code: np.ndarray, size: int, at: list[slice],
                 scale: tuple[int, int]) -> list[Sample]:
    values, weights = rows["score"].to_numpy(float), rows["count"].to_numpy(np.int64)
    detractor, promoter = _nps_sides(values, scale)  # nps_split of every group at once
    n = np.bincount(code, weights=weights, minlength=size)
    d = np.bincount(code, weights=weights * detractor, minlength=size)
    r = np.bincount(code, weights=weights * promoter, minlength=size)
    split = zip(d.tolist(), (n - d - r).tolist(), r.tolist())
    return [Sample("nps", n_, est, lo, hi, nps_counts=c, values=values[i], weights=weights[i])
            for n_, est, lo, hi, c, i in zip(n.tolist(), *(x.tolist() for x in nps_ci(d, n - d - r, r)), split, at)]


def _moment_samples(kind: str, rows: pd.DataFrame, code: np.ndarray, size: int, at: list[slice]) -> list[Sample]:
    """Mean scores, and handle times (seconds -> minutes after the moments, as the engine does)."""
    raw = rows["handle_seconds" if kind == "mean" else "score"].to_numpy(float)
    weights = rows["count"].to_numpy(np.int64)
    n = np.bincount(code, weights=weights, minlength=size)
    mean, sd = np.full(size, math.nan), np.full(size, math.nan)
    for g in np.flatnonzero(n > 0):  # the engine's exact fsum moments have no vectorised form
        mean[g], sd[g], _ = weighted_moments(raw[at[g]], weights[at[g]])
    values = raw / 60 if kind == "mean" else raw
    if kind == "mean":
        mean, sd = mean / 60, sd / 60
    low, high = t_ci(mean, sd, n)  # NaN below n = 2
    return [Sample(kind, n_, m, lo, hi, values=values[i], weights=weights[i], mean=m, sd=s_)
            for n_, m, s_, lo, hi, i in zip(n.tolist(), mean.tolist(), sd.tolist(), low.tolist(), high.tolist(), at)]


def _samples_of(obs: Observations, rows: pd.DataFrame, code: np.ndarray, size: int) -> list[Sample]:
    """The :class:`Sample` of each of ``size`` groups from ``rows`` of ``obs.data`` sorted by their
    group ``code`` (0 … ``size`` − 1; a group without rows has ``n = 0``).

    The one home of the sample rules, written for every group at once (thousands of channels):
    counts are summed with ``bincount``, intervals and Kaplan–Meier medians computed as arrays,
    elementwise, so each group's numbers are those of its rows alone.
    """
    bounds = np.searchsorted(code, np.arange(size + 1)).tolist()
    at = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]  # each group's rows
    if obs.kind == "share":
        return _share_samples(rows, code, size)
    if obs.kind == "time":
        return _time_samples(rows, code, size, at)
    if obs.kind == "nps":
        return _nps_samples(rows, code, size, at, obs.scale)
    return _moment_samples(obs.kind, rows, code, size, at)


def make_sample(obs: Observations, rows: pd.DataFrame) -> Sample:
    """The :class:`Sample` of one group's rows of ``obs.data`` (empty rows: ``n = 0``)."""
    return _samples_of(obs, rows, np.zeros(len(rows), dtype=np.intp), 1)[0]


def samples(obs: Observations, period: str, groups: list[str] | None = None) -> dict[str, Sample]:
    """The :class:`Sample` of each group (default ``obs.groups``) in ``period``.

    Thousands of channels take one pass: the period's rows are sorted by group once (stable, so
    each group keeps its row order) and every group's sample is computed together.
    """
    labels = list(dict.fromkeys(obs.groups if groups is None else groups))
    part = obs.data[obs.data["period"] == period]
    code = pd.Index(labels, dtype=object).get_indexer(part["group"])
    kept = np.flatnonzero(code >= 0)
    order = kept[np.argsort(code[kept], kind="stable")]
    return dict(zip(labels, _samples_of(obs, part.iloc[order], code[order], len(labels))))


# ---------------------------------------------------------------- engine queries

def _ticket_shares(ctx: Context, kpi: str, by: str) -> pd.DataFrame:
    counts = engine_outcome_counts(ctx, tickets_in_periods(ctx, by), by, {kpi})
    counts["sla_judged"] = counts["sla_met"] + counts["sla_missed"]
    k_col, n_col = _TICKET_SHARES[kpi]
    counts = with_all(counts, ["mon"], [k_col, n_col])
    return counts.rename(columns={k_col: "successes", n_col: "n"})[["mon", "g", "successes", "n"]]


def _survey_counts(ctx: Context, survey: str, by: str) -> pd.DataFrame:
    counts = engine_score_counts(ctx, by)
    counts = counts[counts["survey"] == survey]
    return counts.rename(columns={"n": "count"})[["mon", "g", "score", "count"]]


def _survey_shares(ctx: Context, kpi: str, by: str) -> pd.DataFrame:
    survey, offset = _SURVEY_SHARES[kpi]
    counts = _survey_counts(ctx, survey, by)
    cut = ctx.ds.config.scales[survey][1] - offset
    counts = counts.assign(successes=counts["count"].where(counts["score"] >= cut, 0))
    out = counts.groupby(["mon", "g"], sort=True)[["successes", "count"]].sum().reset_index()
    return out.rename(columns={"count": "n"})


def _handle_minutes(ctx: Context, by: str) -> pd.DataFrame:
    out = with_all(handle_counts(ctx, tickets_in_periods(ctx, by), by), ["mon", "handle_s"], ["n"])
    return out.rename(columns={"handle_s": "handle_seconds", "n": "count"})[["mon", "g", "handle_seconds", "count"]]


def _durations(ctx: Context, kpi: str, by: str) -> pd.DataFrame:
    out = duration_counts(ctx, tickets_in_periods(ctx, by), *_TIMES[kpi])
    out["g"] = ctx.segment_labels(out["g"], by)
    out = with_all(out, ["mon", "dur", "ev"], ["n"])
    # the engine's own conversion (durations.summarise), so the medians match to the bit
    hours = out["dur"].to_numpy(np.int64) / HOUR_US
    return pd.DataFrame({"mon": out["mon"], "g": out["g"], "hours": hours, "event": out["ev"].astype(bool),
                         "count": out["n"]})


def _conversation_shares(ctx: Context, kpi: str) -> pd.DataFrame:
    """The §8 shares per channel, from the engine's own counts (SPEC B4–B6)."""
    k_col, n_col = _CONVERSATION_SHARES[kpi]
    if kpi == "backlog_aged_7d_pct":
        index = pd.MultiIndex.from_product([ctx.months, ctx.channels], names=["mon", "g"])
        counts = engine_backlog_counts(ctx, "channel", index).reset_index()
    elif kpi in engine_conversations.SLA_METRICS:
        counts = engine_conversations.sla_counts(ctx, engine_conversations.SLA_METRICS[kpi])
        counts = counts.assign(judged=counts["met"] + counts["breached"])
        counts = counts.groupby(["mon", "g"], as_index=False)[["met", "judged"]].sum()
    else:
        counts = engine_conversations.ticket_counts(ctx)
    counts = with_all(counts, ["mon"], [k_col, n_col])
    return counts.rename(columns={k_col: "successes", n_col: "n"})[["mon", "g", "successes", "n"]]


def _waits(ctx: Context, kpi: str) -> pd.DataFrame:
    """Next-reply waits started in the periods per channel (SPEC B3), as ``nrt_median_h`` reads them."""
    out = with_all(engine_conversations.wait_counts(ctx, _WAITS[kpi]), ["mon", "dur", "ev"], ["n"])
    return pd.DataFrame({"mon": out["mon"], "g": out["g"], "hours": out["dur"].to_numpy(np.int64) / HOUR_US,
                         "event": out["ev"].astype(bool), "count": out["n"]})


def structural_zeros(ctx: Context, kpi: str, by: str = "channel") -> frozenset[str]:
    """The channels with tickets but not one ticket with the event of ``kpi`` (abandoned,
    reopened) in the dataset's whole history up to as_of (SPEC §9); empty for other KPIs and
    other segments."""
    if kpi not in STRUCTURAL or by != "channel":
        return frozenset()
    with Context(ctx.ds, None) as whole:
        t = whole.tickets(by)
        t = t.filter(t.created_us <= whole.as_of_us).mutate(mon=0)
        counts = engine_outcome_counts(whole, t, by, {kpi})
    counts = counts.dropna(subset=["g"]).groupby("g")[["tickets", STRUCTURAL[kpi]]].sum()
    never = counts[(counts["tickets"] > 0) & (counts[STRUCTURAL[kpi]] == 0)]
    return frozenset(str(g) for g in never.index)


def gather(ctx: Context, kpi: str, by: str = "channel") -> Observations:
    """The :class:`Observations` of ``kpi`` per segment ``by`` in every period of ``ctx``.

    Raises
    ------
    KpitoolsError
        When the KPI cannot be compared, the dataset lacks what it needs, or ``by`` is not a
        column of the tables the KPI reads.
    """
    kind = kind_of(kpi)
    reason = ctx.missing(kpi)
    if reason is not None:
        raise KpitoolsError(f"{kpi} cannot be computed on this dataset: {reason}")
    tables = ("surveys", "tickets") if catalog.get(kpi).api == "satisfaction" else ("tickets",)
    if not any(by in ctx.ds.tables.get(name, ()) for name in tables):
        raise UnknownSegmentError(f"by={by!r} is not a column of the {' or '.join(tables)} table")
    if catalog.get(kpi).api == "conversations" and by != "channel":
        raise KpitoolsError(f"{kpi} is compared across channels only (by='channel'), not by={by!r}")
    scale = None
    try:
        if kpi in _CONVERSATION_SHARES:
            frame = _conversation_shares(ctx, kpi)
        elif kpi in _WAITS:
            frame = _waits(ctx, kpi)
        elif kpi in _TICKET_SHARES:
            frame = _ticket_shares(ctx, kpi, by)
        elif kpi in _SURVEY_SHARES:
            frame = _survey_shares(ctx, kpi, by)
        elif kind in ("nps", "score"):
            survey = "nps" if kind == "nps" else _SCORES[kpi]
            scale = tuple(ctx.ds.config.scales[survey])
            frame = _survey_counts(ctx, survey, by)
        elif kind == "mean":
            frame = _handle_minutes(ctx, by)
        else:
            frame = _durations(ctx, kpi, by)
    except KeyError as exc:
        raise KpitoolsError(str(exc.args[0])) from None
    labels = ctx.labels
    frame = frame.dropna(subset=["g"])
    data = frame.assign(period=[labels[m] for m in frame["mon"]]).rename(columns={"g": "group"})
    data = data[["period", "group", *[c for c in frame.columns if c not in ("mon", "g")]]]
    data = data.sort_values(["period", "group"], kind="stable").reset_index(drop=True)
    seen = sorted(set(data["group"]) - {ALL})
    groups = sorted(set(ctx.channels) | set(seen)) if by == "channel" else seen
    return Observations(kpi, kind, data, groups, scale, structural_zeros(ctx, kpi, by))


def single_period(ds: Dataset, period: str) -> str:
    """The label of ``period`` when it names one month (a KpitoolsError otherwise)."""
    periods = parse_periods(period, ds.timezone, ds.as_of)
    if len(periods) != 1:
        raise KpitoolsError(f"period {period!r}: give one month (YYYY-MM)")
    return periods[0].label


def observations(ds: Dataset, period: Any, kpi: str, by: str = "channel",
                 business_hours: bool = False) -> pd.DataFrame:
    """The observations behind ``kpi`` per segment: the inputs of its comparison tests.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str or list of str
        One month ``"2026-10"``, a list, or a range ``"2026-01:2026-10"``.
    kpi : str
        A comparable KPI id (see the module notes for the kinds and their columns).
    by : str
        The segment column (``channel``, or any ticket/survey column such as ``agent_id``).
    business_hours : bool
        For ``frt_median_h`` / ``ttr_median_h``: use the business-hours clock (the ``_bh_`` twin).

    Returns
    -------
    DataFrame
        ``period``, the ``by`` column (with ``all`` pooling every row of the period), then the
        kind's columns, one row per distinct observation with its ``count`` (for shares, one
        row per period and segment with ``successes`` and ``n``).

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> obs = observations(example_dataset(), "2026-10", "ttr_median_h")
    >>> obs[obs.channel == "chat"][["hours", "event", "count"]].values.tolist()   # one censored
    [[2.0, True, 1], [1022.0, False, 1]]
    """
    kpi = resolve_kpi(kpi, business_hours)
    obs = gather(Context(ds, period), kpi, by)
    return obs.data.rename(columns={"group": by})
