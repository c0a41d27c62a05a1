"""Change over time per channel: month over month, year over year, and the Laney p′ chart (SPEC §5)."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from .. import catalog, coverage
from ..dataset import Dataset
from ..engine.context import Context
from ..engine.tidy import ALL
from ..errors import KpitoolsError, UnknownChannelError
from ..periods import shift
from ..stats import laney_p_prime
from ..stats.control import laney_last
from ..stats.survival import km_mixture_quantile, logrank_two
from .across import family_name
from .contrast import at_level, better_of, check_options, contrast, judge, time_result
from .observations import Observations, Sample, gather, kind_of, make_sample, samples, single_period
from .wording import month

COLUMNS = [
    "kpi", "channel", "period", "compare_to", "kind", "value", "value_before", "n", "n_before", "diff",
    "diff_low", "diff_high", "test", "statistic", "p", "p_adj", "effect_size", "effect_name", "mdd",
    "verdict", "improved", "reason", "flags", "signal", "hl_shift", "hl_low", "hl_high", "hl_low_open",
    "hl_high_open", "hr", "hr_low", "hr_high", "interval_of", "level", "family", "crude_p", "crude_verdict",
    "mix_value",
]
#: The stratum of rows without a channel value in a stratified test of ``all``.
NO_CHANNEL = "(no channel)"
KINDS = {"mom": 1, "yoy": 12}  # kind -> months back


def _check_history(history: Any) -> None:
    if isinstance(history, bool) or not isinstance(history, (int, np.integer)) or history < 1:
        raise KpitoolsError(f"history must be a whole number of months ≥ 1, got {history!r}")


def window(period: str, kpi: str, history: int = 12) -> list[str]:
    """The months :func:`changes` reads: the period, the month and the year before, and for a
    share the ``history`` months of its Laney chart."""
    back = set(KINDS.values()) | (set(range(1, history + 1)) if kind_of(kpi) == "share" else set())
    return [shift(period, -m) for m in sorted(back, reverse=True)] + [period]


def _chart_months(period: str, history: int, uncovered: Collection[str]) -> list[str]:
    """The months of a Laney chart judging ``period``: it and the ``history`` months before it,
    the ``uncovered`` ones (SPEC A15) left out."""
    return [m for m in (shift(period, -b) for b in range(history, -1, -1)) if m not in uncovered]


def _share_counts(obs: Observations, months: list[str], groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Successes and n of a share per group (rows) and month (columns), 0 where there are none."""
    g = pd.Index(groups, dtype=object).get_indexer(obs.data["group"])
    m = pd.Index(months, dtype=object).get_indexer(obs.data["period"])
    at = (g >= 0) & (m >= 0)
    k, n = np.zeros((len(groups), len(months))), np.zeros((len(groups), len(months)))
    k[g[at], m[at]] = obs.data["successes"].to_numpy(float)[at]
    n[g[at], m[at]] = obs.data["n"].to_numpy(float)[at]
    return k, n


def _first_data(n: np.ndarray) -> np.ndarray:
    """Per group, its first month with data (the number of months when it has none)."""
    return ((n > 0).cumsum(axis=1) == 0).sum(axis=1)


def _judged_baseline(n: np.ndarray) -> np.ndarray:
    """Per group, the months before the last from its first month with data: a group's chart
    starts there, and the month judged does not widen its own limits (SPEC §9)."""
    month = np.arange(n.shape[1])
    return (month >= _first_data(n)[:, None]) & (month < n.shape[1] - 1)


def laney_chart(obs: Observations, period: str, group: str = ALL, history: int = 12,
                uncovered: Collection[str] = ()) -> pd.DataFrame:
    """The Laney p′ chart of a share's ``group`` over ``period`` and the ``history`` months
    before it, from gathered observations (the ``uncovered`` months, SPEC A15, and the months
    before the group's first data left out). The centre line and σ_z are estimated from the
    months before ``period`` only: the month judged does not widen its own limits."""
    labels = _chart_months(period, history, uncovered)
    k, n = _share_counts(obs, labels, [group])
    start = int(_first_data(n)[0])
    chart = laney_p_prime(k[0, start:], n[0, start:], labels[start:], baseline=_judged_baseline(n)[0, start:])
    chart.insert(0, "channel", group)
    chart.insert(0, "kpi", obs.kpi)
    return chart


def laney_signals(obs: Observations, period: str, groups: list[str], history: int = 12,
                  uncovered: Collection[str] = ()) -> dict[str, bool | None]:
    """Whether ``period`` falls outside each group's :func:`laney_chart` limits, for every group
    at once (:func:`kpitools.stats.control.laney_last`, the same numbers as one chart each); None
    where the chart does not judge it (no data that month, no limits, the month uncovered)."""
    labels = _chart_months(period, history, uncovered)
    if not labels or labels[-1] != period:
        return dict.fromkeys(groups)
    k, n = _share_counts(obs, labels, groups)
    last = laney_last(k, n, _judged_baseline(n))
    judged = (last["n"] > 0) & last["ucl"].notna()
    return dict(zip(groups, last["signal"].astype(object).where(judged, None).tolist()))


def _samples(obs: Observations, period: str, groups: list[str], uncovered: Collection[str]) -> dict[str, Sample]:
    """The groups' samples in ``period``; none (n = 0) in a month the KPI's tables do not cover."""
    if period in uncovered:
        return dict.fromkeys(groups, make_sample(obs, obs.data.iloc[:0]))
    return samples(obs, period, groups)


def _strata_rows(obs: Observations, period: str, groups: list[str]) -> pd.DataFrame:
    """The time observations of ``all`` in ``period`` with their channel: each channel's rows, and
    the rows of ``all`` no channel accounts for as one more stratum."""
    part = obs.data[obs.data["period"] == period]
    chans = part[part["group"].isin([g for g in groups if g != ALL])]
    total = part[part["group"] == ALL].groupby(["hours", "event"])["count"].sum()
    rest = total.sub(chans.groupby(["hours", "event"])["count"].sum(), fill_value=0)
    rest = rest[rest > 0].reset_index().assign(group=NO_CHANNEL)
    return pd.concat([chans[["group", "hours", "event", "count"]], rest[["group", "hours", "event", "count"]]],
                     ignore_index=True)


def mix_adjusted(obs: Observations, period: str, before: str, groups: list[str], a: Sample, b: Sample,
                 crude: dict[str, Any]) -> dict[str, Any]:
    """The change of a time KPI of ``all`` tested within channels (SPEC §9 channel mix).

    The log-rank test stratified by channel (R ``survdiff(Surv(t, e) ~ period + strata(channel))``)
    becomes the row's test; the crude (unstratified) p is kept in ``crude_p``, and ``mix_value``
    is the period's median at the earlier period's channel mix (the channels' Kaplan–Meier
    curves of ``period`` mixed in the ticket shares of ``before``).
    """
    now, then = _strata_rows(obs, period, groups), _strata_rows(obs, before, groups)
    both = pd.concat([now.assign(a=True), then.assign(a=False)], ignore_index=True)
    res = logrank_two(both["hours"].to_numpy(float), both["event"].to_numpy(bool), both["a"].to_numpy(bool),
                      both["count"].to_numpy(float), strata=both["group"].to_numpy(object))
    shares = then.groupby("group")["count"].sum()
    mix = (shares / shares.sum()).to_dict() if shares.sum() > 0 else {}
    mixed = km_mixture_quantile(now["hours"].to_numpy(float), now["event"].to_numpy(bool),
                                now["group"].to_numpy(object), mix, now["count"].to_numpy(float))
    out = time_result(a, b, month(period), month(before), res, test="logrank_stratified")
    if crude["reason"] is not None:  # thin data, medians not reached: as the crude contrast says
        out["reason"] = crude["reason"]
    out.update(crude_p=crude["p"], crude_sign=crude["sign"], mix_value=mixed if math.isfinite(mixed) else np.nan)
    return out


def change_rows(obs: Observations, period: str, groups: list[str], alpha: float = 0.05,
                uncovered: Collection[str] = ()) -> pd.DataFrame:
    """Every change (month over month, year over year) of every group, before any adjustment."""
    rows = []
    now_s = _samples(obs, period, groups, uncovered)
    for kind, back in KINDS.items():
        before = shift(period, -back)
        before_s = _samples(obs, before, groups, uncovered)
        # an uncovered month has no data, not zero: its n stays empty and the contrast says
        # "no data for <month>" (the current month first)
        gap = next((m for m in (period, before) if m in uncovered), None)
        now_name, before_name = month(period), month(before)
        for g in groups:  # one contrast per channel: most return at once (no data, n < 30)
            a, b = now_s[g], before_s[g]
            result = contrast(a, b, now_name, before_name, alpha)
            result.update(crude_p=np.nan, crude_sign=np.nan, mix_value=np.nan)
            if g == ALL and obs.kind == "time" and result["reason"] is None and gap is None:
                result = at_level(mix_adjusted(obs, period, before, groups, a, b, result), alpha)
            if gap is not None:
                result["reason"] = coverage.no_data(gap)
            rows.append({"channel": g, "compare_to": before, "kind": kind, "value": a.estimate,
                         "value_before": b.estimate, "n": np.nan if period in uncovered else a.n,
                         "n_before": np.nan if before in uncovered else b.n, **result})
    out = pd.DataFrame(rows)
    out["kpi"], out["period"] = obs.kpi, period
    return out


def finish_changes(judged: pd.DataFrame) -> pd.DataFrame:
    """``improved`` and the crude verdict of stratified rows from a judged change frame; the
    private columns dropped."""
    out = judged.copy()
    out["improved"] = pd.Series([{1: True, 2: False}.get(better_of(v, catalog.get(k).direction))
                                 for v, k in zip(out["verdict"], out["kpi"])], index=out.index, dtype=object)
    # the crude test of a stratified row, judged at the level the family used
    crude = []
    for p, sign, level in zip(out["crude_p"], out["crude_sign"], out["level"]):
        if not (isinstance(p, float) and math.isfinite(p) and math.isfinite(level)):
            crude.append(None)
        elif p < level and sign != 0 and math.isfinite(sign):
            crude.append("higher" if sign > 0 else "lower")
        else:
            crude.append("no significant difference")
    out["crude_verdict"] = pd.Series(crude, index=out.index, dtype=object)
    return out.drop(columns=[c for c in ("_ci", "_mdd", "sign", "crude_sign") if c in out])


def change_table(obs: Observations, period: str, groups: list[str], p_adjust: str = "holm",
                 alpha: float = 0.05, history: int = 12, uncovered: Collection[str] = ()) -> pd.DataFrame:
    """:func:`changes` on gathered observations (see there for the output); ``uncovered`` are the
    months of the window the KPI's tables do not cover (see :mod:`kpitools.coverage`)."""
    judged = judge(change_rows(obs, period, groups, alpha, uncovered), p_adjust, alpha)
    family = family_name(p_adjust, judged.attrs["family"], "changes of this KPI")
    out = finish_changes(judged)
    out["family"] = family
    # no data, or no limits (a chart of one month): not judged, rather than "no signal"
    signals = laney_signals(obs, period, groups, history, uncovered) if obs.kind == "share" else {}
    out["signal"] = pd.Series([signals.get(g) for g in out["channel"]], index=out.index, dtype=object)
    order = {g: i for i, g in enumerate(groups)}
    out = out.sort_values(["channel", "kind"], key=lambda s: s.map(order) if s.name == "channel" else s,
                          kind="stable")
    for col in ("hl_low_open", "hl_high_open"):
        out[col] = [bool(v) if isinstance(v, (bool, np.bool_)) else False for v in out[col]]
    out = out[COLUMNS].reset_index(drop=True)
    out.attrs["family"] = family
    return out


def _groups(obs: Observations, channels: list[str] | None) -> list[str]:
    if channels is None:
        return [*(g for g in obs.groups if g not in obs.structural_zeros), ALL]
    unknown = [c for c in channels if c not in obs.groups and c != ALL]
    if unknown:
        raise UnknownChannelError(f"unknown channel(s) {', '.join(map(repr, unknown))}; known: "
                                  f"{', '.join(obs.groups)}")
    return [g for g in obs.groups if g in channels and g not in obs.structural_zeros] + [ALL]


def changes(ds: Dataset, period: str, kpi: str, channels: list[str] | None = None, history: int = 12,
            p_adjust: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Month-over-month and year-over-year change of a KPI per channel and for ``all``.

    Each channel's value in ``period`` is compared with its value in the month before
    (``kind = "mom"``) and in the same month a year before (``"yoy"``), by the test of the KPI's
    kind: shares — pooled two-proportion z-test (Fisher where an expected count < 5) with the
    Newcombe CI of the difference; NPS — z-test of the difference with its Wald CI; means
    (``csat_mean``, ``ces_mean``, ``aht_min``) — Welch's t-test and interval; Kaplan–Meier
    medians — log-rank test, and the difference of the medians without a CI (no interval for
    a difference of two KM medians is standard; the log-rank p judges it). The rows of one call
    form the adjustment family (Holm by default); honesty rules as in
    :func:`compare_channels` (n < 30 or an expected count < 5: no verdict, ``reason`` says why).
    A change against a month the KPI's tables do not cover (SPEC A15: before the data start) is
    not computed: ``verdict = "not enough data"``, ``reason = "no data for October 2025"``, that
    month's ``n`` empty (no data is not zero), the change columns empty.

    For shares, ``signal`` says whether the period falls outside the Laney p′ limits of the
    channel's chart over the period and the ``history`` months before it (see :func:`laney`;
    the chart itself is a separate function so this table stays a plain DataFrame); None when
    the chart has no limits (its only covered month is the period).

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str
        One month, ``"2026-10"``.
    kpi : str
        A comparable KPI id (see :func:`compare_channels`).
    channels : list of str, optional
        Only these channels (``all`` is always included).
    history : int
        Months before ``period`` in the Laney chart (shares only).
    p_adjust : {"holm", "bh", "none"}
        Adjustment over the rows of the call.
    alpha : float
        Two-sided level.

    Returns
    -------
    DataFrame
        One row per channel (then ``all``) and kind: ``kpi``, ``channel``, ``period``,
        ``compare_to`` (the earlier month), ``kind``, ``value``, ``value_before`` (the values of
        :func:`kpitools.kpis`), ``n``, ``n_before``, ``diff`` (value − value_before, in points for
        shares and NPS), ``diff_low``, ``diff_high``, ``test``, ``statistic``, ``p``, ``p_adj``,
        ``effect_size``, ``effect_name``, ``mdd``, ``verdict`` (``"higher"`` / ``"lower"``:
        the period's value is significantly higher/lower; ``"no significant difference"``;
        ``"not enough data"``), ``improved`` (True/False for a significant change, by the
        catalog's direction), ``reason`` (months written out: ``"n < 30 for September 2026
        (n = 20)"``), ``flags``, ``signal`` (shares; None otherwise).

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": range(200), "channel": "chat",
    ...                   "created_at": ["2026-09-10"] * 100 + ["2026-10-10"] * 100,
    ...                   "abandoned": [True] * 10 + [False] * 90 + [True] * 30 + [False] * 70})
    >>> res = changes(dataset_from_frames({"tickets": t}, as_of="2026-11-01"), "2026-10", "abandonment_pct")
    >>> res[["channel", "kind", "value", "value_before", "verdict", "reason"]]
      channel kind  value  value_before          verdict                     reason
    0    chat  mom   30.0          10.0           higher                       None
    1    chat  yoy   30.0           NaN  not enough data  no data for October 2025
    2     all  mom   30.0          10.0           higher                       None
    3     all  yoy   30.0           NaN  not enough data  no data for October 2025
    """
    _check_history(history)
    check_options(p_adjust, alpha)
    label = single_period(ds, period)
    months = window(label, kpi, history)
    obs = gather(Context(ds, months), kpi)
    return change_table(obs, label, _groups(obs, channels), p_adjust, alpha, history,
                        coverage.uncovered(ds, kpi, months))


def laney(ds: Dataset, period: str, kpi: str, channel: str = ALL, history: int = 12) -> pd.DataFrame:
    """Laney p′ control chart of a share KPI for one channel over the last ``history`` + 1 months.

    Plain p-charts flag nearly every month at large n; the p′ limits widen them by the
    month-to-month variation actually seen (see :func:`kpitools.stats.laney_p_prime`). Months
    the KPI's tables do not cover (SPEC A15) and months before the channel's first data are left
    out of the chart and its limits; a later month without data has NaN p.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str
        The last month of the chart.
    kpi : str
        A share KPI id (``csat_pct``, ``fcr_pct``, ``abandonment_pct``...).
    channel : str
        A channel or ``all``.
    history : int
        Months before ``period``.

    Returns
    -------
    DataFrame
        ``kpi``, ``channel``, ``period``, ``successes``, ``n``, ``p``, ``centre``, ``sigma_p``,
        ``z``, ``sigma_z``, ``lcl``, ``ucl`` (p′ limits), ``p_lcl``, ``p_ucl`` (p-chart limits),
        ``signal``; proportions on 0..1, ready for :func:`kpitools.plot.laney_chart`.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": range(40), "channel": "chat",
    ...                   "created_at": ["2026-08-10"] * 20 + ["2026-09-10"] * 10 + ["2026-10-10"] * 10,
    ...                   "abandoned": [True, False] * 10 + [False] * 10 + [True] * 5 + [False] * 5})
    >>> chart = laney(dataset_from_frames({"tickets": t}, as_of="2026-11-01"), "2026-10", "abandonment_pct")
    >>> chart[["period", "successes", "n", "p"]]
        period  successes     n    p
    0  2026-08       10.0  20.0  0.5
    1  2026-09        0.0  10.0  0.0
    2  2026-10        5.0  10.0  0.5
    """
    _check_history(history)
    if kind_of(kpi) != "share":
        raise KpitoolsError(f"the Laney p′ chart is for shares; {kpi} is not one")
    label = single_period(ds, period)
    periods = [shift(label, -m) for m in range(history, 0, -1)] + [label]
    obs = gather(Context(ds, periods), kpi)
    if channel != ALL and channel not in obs.groups:
        raise UnknownChannelError(f"unknown channel {channel!r}; known: {', '.join(obs.groups)}")
    return laney_chart(obs, label, channel, history, coverage.uncovered(ds, kpi, periods))
