"""Figures across channels: a KPI per channel, the channel mix, pairwise comparisons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..catalog import get as get_kpi
from ._helpers import (ADDITIVE_KPIS, GROUPS, MAX_CHANNELS, MINUS, axes_for, cap, count_text, diff_label,
                       has_values, kpi_label, kpi_rows, latest_period, legend_outside, no_data, open_end,
                       short, sum_other, top_channels)
from .theme import channel_palette

TICKETS_KPI = "tickets"
SIGNIFICANT_COLOR = "#222222"
NOT_SIGNIFICANT_COLOR = "#A0A0A0"

Targets = float | Mapping[str, float] | pd.DataFrame | None


def _targets_by_channel(targets: Targets, kpi: str, channels: list[str]) -> dict[str, float]:
    """Target of each channel: one number for all, a mapping, or a ``targets`` table
    (``kpi, target, channel``; an empty channel applies to every channel, a named one wins)."""
    if targets is None:
        return {}
    if isinstance(targets, pd.DataFrame):
        rows = targets.loc[targets["kpi"] == kpi]
        named = rows["channel"].notna() & (rows["channel"].astype(str) != "")
        general = rows.loc[~named, "target"]
        found = {c: float(general.iloc[-1]) for c in channels} if len(general) else {}
        found.update(zip(rows.loc[named, "channel"].astype(str), rows.loc[named, "target"].astype(float)))
        return {c: found[c] for c in channels if c in found}
    if isinstance(targets, Mapping):
        return {c: float(targets[c]) for c in channels if c in targets}
    return {c: float(targets) for c in channels}


def _sorted_channels(rows: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """Channels best first by the KPI's direction, then not reached (inf), then NaN; after them
    the groups in the order voice, text, all."""
    value = rows["value"].astype(float)
    sign = 1 if get_kpi(kpi).direction == "lower" else -1
    rank = np.where(np.isfinite(value), 0, np.where(np.isnan(value), 2, 1))
    group = rows["channel"].map({g: i + 1 for i, g in enumerate(GROUPS)}).fillna(0)
    return (rows.assign(_group=group, _rank=rank, _key=sign * value.where(rank == 0))
            .sort_values(["_group", "_rank", "_key", "channel"]).drop(columns=["_group", "_rank", "_key"]))


def _without_rest(rows: pd.DataFrame, kpi: str, rest: list[str]) -> pd.DataFrame:
    """Rows without the ``rest`` channels; for a count they are summed into one "other" row placed
    before the groups, for any other KPI they are left to the table."""
    kept = rows.loc[~rows["channel"].isin(rest)]
    if not rest or kpi not in ADDITIVE_KPIS:
        return kept
    other = sum_other(rows, rest, "period", ["value", "n"]).assign(ci_low=np.nan, ci_high=np.nan)
    in_group = kept["channel"].isin(GROUPS)
    return pd.concat([kept.loc[~in_group], other, kept.loc[in_group]], ignore_index=True)


def kpi_by_channel(kpis: pd.DataFrame, kpi: str, period: str | None = None, ax: Axes | None = None,
                   title: str | None = None, targets: Targets = None,
                   max_channels: int = MAX_CHANNELS) -> Axes:
    """One KPI per channel for one period: point and CI error bar, best channel on top.

    Parameters
    ----------
    kpis : DataFrame
        Tidy KPI table: ``period, channel, kpi, value, n, ci_low, ci_high``.
    kpi : str
        KPI id of the catalogue.
    period : str, optional
        ``"YYYY-MM"``; default the latest period in ``kpis``.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default the KPI's title "by channel" and the period.
    targets : float, mapping or DataFrame, optional
        One target for every channel, a channel -> target mapping, or the dataset's
        ``targets`` table; drawn as a black bar on each channel's row.
    max_channels : int
        Channels drawn one by one, the largest by ticket volume in the period (see
        :func:`top_channels`). For ``tickets`` and ``backlog_end`` the rest are summed into
        one "other (K channels)" row; for any other KPI they are left out and the legend
        says how many.

    Returns
    -------
    Axes
        Rows are sorted best first by the KPI's direction, with ``voice``, ``text`` and ``all``
        last; each tick label carries ``n``. A median not reached (+inf) is written as such, a
        missing value as "n/a"; an infinite CI bound ends in an arrowhead. Without any value
        the figure says "no data".

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> kpis = pd.DataFrame({"period": "2026-10", "channel": ["chat", "email", "all"], "kpi": "frt_median_h",
    ...                      "value": [0.5, 6.0, 2.0], "n": [120, 80, 200],
    ...                      "ci_low": [0.4, 4.0, 1.5], "ci_high": [0.7, np.inf, 2.6]})
    >>> ax = kpi_by_channel(kpis, "frt_median_h", targets={"chat": 1.0, "email": 8.0})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['chat (n = 120)', 'email (n = 80)', 'all (n = 200)']
    >>> ax.get_xlabel()
    'First response time, median [h]'
    >>> plt.close(ax.figure)
    """
    rows = kpi_rows(kpis, kpi)
    period = latest_period(rows, period)
    rows = rows.loc[rows["period"] == period]
    kept, rest = top_channels(kpis, rows["channel"], max_channels, kpi=kpi, period=period)
    rows = _without_rest(_sorted_channels(rows, kpi), kpi, rest)
    default_title = f"{get_kpi(kpi).title} by channel, {period}"
    channels = rows["channel"].tolist()
    colors = channel_palette(channels)
    goals = _targets_by_channel(targets, kpi, [c for c in channels if c in kept])
    with axes_for(ax, rows=len(channels)) as ax:
        if not has_values(rows["value"]):
            return no_data(ax, title or default_title)
        columns = rows[["value", "ci_low", "ci_high"]].to_numpy(dtype=float)
        right = open_end(np.concatenate([columns.ravel(), np.array(list(goals.values()), dtype=float)]))
        for y, (channel, (value, low, high)) in enumerate(zip(channels, columns)):  # one row per channel
            if not np.isfinite(value):
                ax.text(0.01, y, "not reached" if np.isposinf(value) else "n/a", va="center",
                        color=colors[channel], transform=ax.get_yaxis_transform())
                continue
            end = cap([high], right)[0]
            _interval(ax, value, low, end, y, color=colors[channel], ms=8, lw=2)
            if np.isposinf(high):
                ax.plot(end, y, marker=">", color=colors[channel])
        if goals:
            ax.plot([goals[c] for c in channels if c in goals],
                    [y for y, c in enumerate(channels) if c in goals],
                    marker="|", ms=22, mew=2.5, color="black", ls="none", label="target")
        ax.set_yticks(range(len(channels)),
                      [f"{short(c)} ({count_text(n)})" for c, n in zip(channels, rows["n"])])
        ax.set_ylim(len(channels) - 0.5, -0.5)
        ax.set(xlabel=kpi_label(kpi), ylabel="", title=title or default_title)
        ax.grid(axis="y", visible=False)
        legend_outside(ax, left_out=0 if kpi in ADDITIVE_KPIS else len(rest))
        return ax


def channel_mix(kpis: pd.DataFrame, period: str | None = None, ax: Axes | None = None,
                title: str | None = None, max_channels: int = MAX_CHANNELS) -> Axes:
    """Share of the period's tickets per channel (groups and ``all`` left out), largest on top.

    Parameters
    ----------
    kpis : DataFrame
        Tidy KPI table with ``kpi == "tickets"`` rows.
    period : str, optional
        ``"YYYY-MM"``; default the latest period with ticket counts.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default "Channel mix" and the period.
    max_channels : int
        Channels drawn one by one, the largest; the rest are summed into one last bar
        "other (K channels)".

    Returns
    -------
    Axes
        One bar per channel labelled with its share and count; the shares sum to 100 %.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> kpis = pd.DataFrame({"period": "2026-10", "channel": ["chat", "email", "phone", "voice", "all"],
    ...                      "kpi": "tickets", "value": [50.0, 30.0, 20.0, 20.0, 100.0]})
    >>> ax = channel_mix(kpis)
    >>> [round(p.get_width()) for p in ax.patches]
    [50, 30, 20]
    >>> plt.close(ax.figure)
    """
    rows = kpi_rows(kpis, TICKETS_KPI)
    period = latest_period(rows, period)
    rows = rows.loc[(rows["period"] == period) & ~rows["channel"].isin(GROUPS)]
    total = rows["value"].sum()
    _, rest = top_channels(kpis, rows["channel"], max_channels, period=period)
    largest = rows.loc[~rows["channel"].isin(rest)].sort_values(["value", "channel"], ascending=[False, True])
    if rest:
        largest = pd.concat([largest, sum_other(rows, rest, "period", ["value"])], ignore_index=True)
    rows = largest.assign(share=100 * largest["value"] / total)
    default_title = f"Channel mix, {period}"
    with axes_for(ax, rows=len(rows)) as ax:
        if rows.empty or not total > 0:
            return no_data(ax, title or default_title)
        colors = channel_palette(rows["channel"])
        bars = ax.barh(range(len(rows)), rows["share"], color=[colors[c] for c in rows["channel"]])
        ax.bar_label(bars, [f" {s:.0f} % ({v:,.0f})" for s, v in zip(rows["share"], rows["value"])])
        ax.set_yticks(range(len(rows)), [short(c) for c in rows["channel"]])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, min(100.0, rows["share"].max() * 1.25))
        ax.set(xlabel=f"Share of {get_kpi(TICKETS_KPI).title.lower()} [%]", ylabel="",
               title=title or default_title)
        ax.grid(axis="y", visible=False)
        return ax


def comparison_forest(comparisons: pd.DataFrame, ax: Axes | None = None, title: str | None = None,
                      kpi: str | None = None, alpha: float = 0.05, scale: float = 1.0,
                      max_channels: int = MAX_CHANNELS) -> Axes:
    """Forest plot of pairwise differences with their CIs; significant pairs in black.

    Parameters
    ----------
    comparisons : DataFrame
        At least ``group_a, group_b, diff, diff_low, diff_high, p_adj``; rows without a pair
        (an omnibus row) are left out. Pairs keep their order, first on top.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default names the KPI when given.
    kpi : str, optional
        KPI id whose title and unit label the x axis (percentages differ in percentage points).
    alpha : float
        A pair is significant when ``p_adj < alpha``.
    scale : float
        Factor applied to the differences, e.g. 100 to show differences of proportions
        (0–1) in percentage points.
    max_channels : int
        Only pairs between the ``max_channels`` largest groups (by ``n_a``/``n_b`` when given,
        see :func:`top_channels`) are drawn; the legend says how many groups are left out.

    Returns
    -------
    Axes
        A pair with no difference (NaN) keeps its row, labelled "n/a".

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from kpitools.stats.proportions import compare_proportions
    >>> res = compare_proportions([80, 60, 40], [100, 100, 100], ["chat", "email", "phone"])
    >>> ax = comparison_forest(res, kpi="csat_pct", scale=100)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['chat − email', 'chat − phone', 'email − phone']
    >>> ax.get_xlabel()
    'Difference in CSAT (top two) [pp]'
    >>> plt.close(ax.figure)
    """
    pairs = comparisons.loc[comparisons["group_a"].notna() & comparisons["group_b"].notna()]
    a, b = pairs["group_a"].astype(str), pairs["group_b"].astype(str)
    unknown = pd.Series(np.nan, index=pairs.index)
    sizes = pd.DataFrame({"channel": pd.concat([a, b], ignore_index=True),
                          "n": pd.concat([pairs.get("n_a", unknown), pairs.get("n_b", unknown)],
                                         ignore_index=True)})
    kept, rest = top_channels(sizes.drop_duplicates("channel"), sizes["channel"], max_channels)
    pairs = pairs.loc[a.isin(kept) & b.isin(kept)]
    diff, low, high = (pairs[c].to_numpy(dtype=float) * scale for c in ("diff", "diff_low", "diff_high"))
    significant = (pairs["p_adj"].to_numpy(dtype=float) < alpha)
    labels = [f"{short(a)} {MINUS} {short(b)}" for a, b in zip(pairs["group_a"], pairs["group_b"])]
    default_title = f"{get_kpi(kpi).title}: pairwise differences" if kpi else "Pairwise differences"
    legend = {True: f"significant (adjusted p < {alpha:g})", False: "not significant"}
    with axes_for(ax, rows=len(pairs)) as ax:
        if pairs.empty:
            return no_data(ax, title or default_title)
        for y in range(len(pairs)):  # one row per pair
            if not np.isfinite(diff[y]):
                ax.text(0.01, y, "n/a", va="center", color=NOT_SIGNIFICANT_COLOR,
                        transform=ax.get_yaxis_transform())
                continue
            sig = bool(significant[y])
            color = SIGNIFICANT_COLOR if sig else NOT_SIGNIFICANT_COLOR
            _interval(ax, diff[y], low[y], high[y], y, color=color, ms=7, lw=2 if sig else 1.2,
                      mfc=color if sig else "white", label=legend.pop(sig, None))
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks(range(len(labels)), labels)
        for tick, sig in zip(ax.get_yticklabels(), significant):
            tick.set_fontweight("bold" if sig else "normal")
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set(xlabel=diff_label(kpi) if kpi else f"Difference (a {MINUS} b)", ylabel="",
               title=title or default_title)
        ax.grid(axis="y", visible=False)
        legend_outside(ax, left_out=len(rest))
        return ax


def _interval(ax: Any, value: float, low: float, high: float, y: float, *, color: str, ms: float, lw: float,
              mfc: str | None = None, label: str | None = None) -> None:
    """A point with its interval. An adjusted interval (NPS, adjusted Wald) need not contain the
    unadjusted point: the error bar then stops at the point and a line draws the whole interval."""
    below, above = max(value - low, 0.0), max(high - value, 0.0)
    ax.errorbar(value, y, xerr=[[below], [above]], fmt="o", ms=ms, capsize=4, lw=lw, color=color,
                mfc=mfc or color, label=label)
    if np.isfinite(low) and np.isfinite(high) and not low <= value <= high:
        ax.plot([low, high], [y, y], lw=lw, color=color)
