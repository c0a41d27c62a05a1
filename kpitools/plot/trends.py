"""Figures over time: KPI trends per channel, backlog, Laney p′ charts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..catalog import get as get_kpi
from ..schema import ALL
from ._helpers import (ADDITIVE_KPIS, CI_ALPHA, GROUPS, MAX_CHANNELS, axes_for, cap, channel_order,
                       has_values, kpi_label, kpi_rows, label_x, legend_outside, no_data, open_end,
                       other_label, period_axis, short, sum_other, top_channels)
from .theme import channel_palette

BACKLOG_KPI = "backlog_end"
SIGNAL_COLOR = "#C0392B"
LIMIT_COLOR = "#C44E52"


def _without_rest(rows: pd.DataFrame, order: list[str], rest: list[str], kpi: str, time: str,
                  value: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows and line order without the ``rest`` channels. For a count they become one "other"
    line, their sum at each time, drawn after the channels and before the groups; any other KPI
    leaves them to the table."""
    kept = rows.loc[~rows["channel"].isin(rest)]
    order = [c for c in order if c not in rest]
    if not rest or kpi not in ADDITIVE_KPIS:
        return kept, order
    other = sum_other(rows, rest, time, [value]).assign(ci_low=np.nan, ci_high=np.nan)
    groups = [c for c in order if c in GROUPS]
    order = [c for c in order if c not in GROUPS] + [other_label(len(rest))] + groups
    return pd.concat([kept, other], ignore_index=True).sort_values(["channel", time]), order


def _draw_series(ax: Axes, rows: pd.DataFrame, x: pd.Series, order: list[str], value: str) -> None:
    """One line per channel with its CI band; +inf (not reached) drawn as open triangles on top."""
    colors = channel_palette(order)
    columns = rows[[value, "ci_low", "ci_high"]].to_numpy(dtype=float)
    top = open_end(columns)
    for channel in order:  # at most max_channels + 1 and the groups
        mine = (rows["channel"] == channel).to_numpy()
        xs = x.to_numpy()[mine]
        ys, low, high = columns[mine].T
        not_reached = np.isposinf(ys)
        # the total is thicker and dashed: told apart from a channel drawn in black
        total = channel == ALL
        ax.plot(xs, np.where(not_reached, np.nan, ys), marker="o", ms=4, lw=2.6 if total else 1.8,
                ls="--" if total else "-", color=colors[channel], label=short(channel))
        ax.fill_between(xs, cap(low, top), cap(high, top), color=colors[channel], alpha=CI_ALPHA, lw=0)
        if not_reached.any():
            ax.plot(xs[not_reached], np.full(not_reached.sum(), top), ls="none", marker="^",
                    mfc="none", color=colors[channel])
    if np.isposinf(columns[:, 0]).any():
        ax.plot([], [], ls="none", marker="^", mfc="none", color="grey", label="not reached")


def kpi_trend(kpis: pd.DataFrame, kpi: str, channels: Sequence[str] | None = None, ax: Axes | None = None,
              title: str | None = None, target: float | None = None, max_channels: int = MAX_CHANNELS) -> Axes:
    """A KPI over periods, one line per channel with its confidence band.

    Parameters
    ----------
    kpis : DataFrame
        Tidy KPI table: ``period, channel, kpi, value`` and, where known, ``n, ci_low, ci_high``.
    kpi : str
        KPI id of the catalogue (labels and unit come from there).
    channels : sequence of str, optional
        Channels to show, in this order; default every channel present, sorted, groups last.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default the KPI's title "by period".
    target : float, optional
        Drawn as a dashed horizontal line.
    max_channels : int
        Channels drawn one by one, the largest by ticket volume over the periods (see
        :func:`top_channels`). For ``tickets`` and ``backlog_end`` the rest are summed into
        one "other (K channels)" line; for any other KPI they are left out and the legend
        says how many.

    Returns
    -------
    Axes
        A value of +inf (median not reached) is drawn as an open triangle above the data,
        an infinite CI bound as a band reaching that height; NaN values leave gaps. Without
        any value the figure says "no data".

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> kpis = pd.DataFrame({"period": ["2026-09", "2026-10"] * 2, "channel": ["chat"] * 2 + ["email"] * 2,
    ...                      "kpi": "csat_pct", "value": [80.0, 82.0, 75.0, 71.0], "n": 100,
    ...                      "ci_low": [72.0, 74.0, 66.0, 62.0], "ci_high": [86.0, 88.0, 82.0, 79.0]})
    >>> ax = kpi_trend(kpis, "csat_pct", target=80)
    >>> ax.get_ylabel(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('CSAT (top two) [%]', ['chat', 'email', 'target'])
    >>> plt.close(ax.figure)
    """
    rows = kpi_rows(kpis, kpi, channels).sort_values(["channel", "period"])
    order = channel_order(rows["channel"], channels)
    _, rest = top_channels(kpis, order, max_channels, kpi=kpi)
    rows, order = _without_rest(rows, order, rest, kpi, "period", "value")
    default_title = f"{get_kpi(kpi).title} by period"
    with axes_for(ax) as ax:
        if not has_values(rows["value"]):
            return no_data(ax, title or default_title)
        positions = period_axis(ax, rows["period"])
        _draw_series(ax, rows, rows["period"].map(positions), order, "value")
        if target is not None:
            ax.axhline(target, color="black", ls="--", lw=1, label="target")
        ax.set(xlabel="Period", ylabel=kpi_label(kpi), title=title or default_title)
        legend_outside(ax, "channel", left_out=0 if kpi in ADDITIVE_KPIS else len(rest))
        return ax


def backlog(series: pd.DataFrame, channels: Sequence[str] | None = None, ax: Axes | None = None,
            title: str | None = None, max_channels: int = MAX_CHANNELS) -> Axes:
    """Backlog over time, one line per channel.

    Parameters
    ----------
    series : DataFrame
        Either the tidy KPI table (rows with ``kpi == "backlog_end"`` are used) or a series
        with ``channel``, a time column ``date`` (datetimes) or ``period``, and the count in
        ``backlog`` or ``value``.
    channels : sequence of str, optional
        Channels to show, in this order; default every channel present, sorted, groups last.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default the catalogue title of ``backlog_end``.
    max_channels : int
        Channels drawn one by one, the largest by ticket volume (the ``tickets`` rows of a KPI
        table, else the backlog itself, see :func:`top_channels`); the rest are summed into
        one "other (K channels)" line, empty at a time where one of them has no value.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> daily = pd.DataFrame({"date": pd.to_datetime(["2026-10-01", "2026-10-02"] * 2),
    ...                       "channel": ["chat", "chat", "email", "email"], "backlog": [5, 7, 12, 9]})
    >>> ax = backlog(daily)
    >>> len(ax.lines), ax.get_ylabel()
    (2, 'Backlog at period end [tickets]')
    >>> plt.close(ax.figure)
    """
    data = series.loc[series["kpi"] == BACKLOG_KPI] if "kpi" in series else series
    time_column = "date" if "date" in data else "period"
    value = "backlog" if "backlog" in data else "value"
    rows = data.loc[:, ["channel", time_column, value]].assign(ci_low=np.nan, ci_high=np.nan)
    rows["channel"] = rows["channel"].astype(str)
    if channels is not None:
        rows = rows.loc[rows["channel"].isin([str(c) for c in channels])]
    rows = rows.sort_values(["channel", time_column])
    order = channel_order(rows["channel"], channels)
    volume = series if "kpi" in series else rows.rename(columns={value: "value"}).assign(kpi=BACKLOG_KPI)
    _, rest = top_channels(volume, order, max_channels, kpi=BACKLOG_KPI)
    rows, order = _without_rest(rows, order, rest, BACKLOG_KPI, time_column, value)
    default_title = f"{get_kpi(BACKLOG_KPI).title} by channel"
    with axes_for(ax) as ax:
        if not has_values(rows[value]):
            return no_data(ax, title or default_title)
        if time_column == "period":
            positions = period_axis(ax, rows["period"])
            x = rows["period"].astype(str).map(positions)
        else:
            x = rows["date"]
        _draw_series(ax, rows, x, order, value)
        ax.set(xlabel=time_column.capitalize(), ylabel=kpi_label(BACKLOG_KPI), title=title or default_title)
        ax.set_ylim(bottom=0)
        legend_outside(ax, "channel")
        return ax


def laney_chart(chart: pd.DataFrame, ax: Axes | None = None, title: str | None = None,
                kpi: str | None = None) -> Axes:
    """Laney p′ control chart of a proportion, in %.

    The p′ limits (solid steps) are the ones to read; the plain p-chart limits (dashed grey)
    are shown to make clear why they are not used at large n. Signals are circled in red.

    Parameters
    ----------
    chart : DataFrame
        Output of :func:`kpitools.stats.control.laney_p_prime`: ``p, centre, lcl, ucl,
        p_lcl, p_ucl, signal`` (proportions 0–1) and optionally ``period``.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default names the KPI when given.
    kpi : str, optional
        KPI id whose title and unit label the y axis.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from kpitools.stats.control import laney_p_prime
    >>> chart = laney_p_prime([50, 51, 49, 50, 52, 50, 75], [100] * 7, range(7))
    >>> ax = laney_chart(chart, kpi="fcr_pct")
    >>> len(ax.lines), len(ax.collections), ax.get_ylabel()
    (6, 1, 'First contact resolution [%]')
    >>> plt.close(ax.figure)
    """
    periods = chart["period"] if "period" in chart else chart.index
    x = np.arange(len(chart))
    pct = {c: chart[c].to_numpy(dtype=float) * 100 for c in ("p", "centre", "lcl", "ucl", "p_lcl", "p_ucl")}
    signal = chart["signal"].fillna(False).to_numpy(dtype=bool)
    name = get_kpi(kpi).title if kpi else "Proportion"
    with axes_for(ax) as ax:
        if not has_values(pct["p"]):
            return no_data(ax, title or f"{name}: Laney p\u2032 chart")
        ax.plot(x, pct["p"], marker="o", color="#333333", lw=1.5, label="p")
        ax.plot(x, pct["centre"], color="#4C72B0", lw=1.5, label="centre")
        ax.step(x, pct["ucl"], where="mid", color=LIMIT_COLOR, lw=1.5, label="p\u2032 limits")
        ax.step(x, pct["lcl"], where="mid", color=LIMIT_COLOR, lw=1.5)
        ax.step(x, pct["p_ucl"], where="mid", color="grey", ls="--", lw=1, label="p-chart limits")
        ax.step(x, pct["p_lcl"], where="mid", color="grey", ls="--", lw=1)
        if signal.any():
            ax.scatter(x[signal], pct["p"][signal], s=120, facecolors="none", edgecolors=SIGNAL_COLOR,
                       linewidths=2, zorder=3, label="signal")
        label_x(ax, [str(p) for p in periods])
        ax.set(xlabel="Period", ylabel=kpi_label(kpi) if kpi else "Proportion [%]",
               title=title or f"{name}: Laney p\u2032 chart")
        legend_outside(ax)
        return ax
