"""Kaplan–Meier curves of first-response and resolution times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..catalog import get as get_kpi
from ..stats.survival import _survfit_quantile
from ._helpers import CI_ALPHA, MAX_CHANNELS, axes_for, channel_order, legend_outside, no_data, short, top_channels
from .theme import channel_palette

KINDS = ("survival", "cumulative")


def _median_text(median: float) -> str:
    """Medians under an hour in minutes: chat and phone answer in minutes, "0.0 h" says nothing."""
    if not math.isfinite(median):
        return "median not reached"
    return f"median {median * 60:.0f} min" if median < 1 else f"median {median:.1f} h"


def km_curves(curves: pd.DataFrame, ax: Axes | None = None, title: str | None = None,
              max_hours: float | None = None, kind: str = "survival", kpi: str | None = None,
              max_channels: int = MAX_CHANNELS) -> Axes:
    """Kaplan–Meier step curves per group with confidence bands and medians marked.

    Parameters
    ----------
    curves : DataFrame
        Output of ``kt.survival_curve``: ``group, time_h, survival, ci_low, ci_high`` (one
        row per distinct time; the curve is drawn from S(0) = 1).
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default names the KPI when given.
    max_hours : float, optional
        Right end of the time axis (long tails hide the first hours that matter).
    kind : {"survival", "cumulative"}
        ``"survival"`` plots S(t), the share still waiting; ``"cumulative"`` plots 1 − S(t),
        the share answered or resolved by t.
    kpi : str, optional
        KPI id (e.g. ``"frt_median_h"``) whose title the default title uses.
    max_channels : int
        Groups drawn, the largest by ``n_risk`` at their first time (see :func:`top_channels`);
        a curve cannot be summed, so the legend says how many smaller groups are left out.

    Returns
    -------
    Axes
        Each group's legend entry gives its KM median (R's rule, as the KPIs) or says
        "median not reached"; a reached median is marked on the 50 % line. Without any
        curve the figure says "no data".

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> curves = pd.DataFrame({"group": ["chat"] * 2 + ["email"] * 2, "time_h": [1.0, 2.0, 1.0, 5.0],
    ...                        "survival": [0.4, 0.0, 0.8, 0.6], "ci_low": [0.1, np.nan, 0.5, 0.3],
    ...                        "ci_high": [1.0, np.nan, 1.0, 1.0]})
    >>> ax = km_curves(curves, kind="cumulative")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['chat: median 1.0 h', 'email: median not reached']
    >>> plt.close(ax.figure)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    groups = curves["group"].astype(str)
    # everyone in a group is at risk at its first time: the largest n_risk is the group's size
    sizes = (pd.DataFrame({"channel": groups, "n": curves.get("n_risk", np.nan)})
             .groupby("channel", as_index=False)["n"].max())
    order, rest = top_channels(sizes, channel_order(groups), max_channels)
    colors = channel_palette(order)
    default = f"{get_kpi(kpi).title}: Kaplan\u2013Meier curves" if kpi else "Kaplan\u2013Meier curves"
    with axes_for(ax) as ax:
        if not order:
            return no_data(ax, title or default)
        for group in order:  # at most max_channels groups
            mine = curves.loc[groups == group].sort_values("time_h")
            times = mine["time_h"].to_numpy(dtype=float)
            surv, low, high = (mine[c].to_numpy(dtype=float) for c in ("survival", "ci_low", "ci_high"))
            median = _survfit_quantile(times, surv)
            t = np.concatenate([[0.0], times])
            s, lo, hi = (np.concatenate([[1.0], v]) for v in (surv, low, high))
            if kind == "cumulative":
                s, lo, hi = 1 - s, 1 - hi, 1 - lo
            ax.step(t, 100 * s, where="post", lw=2, color=colors[group],
                    label=f"{short(group)}: {_median_text(median)}")
            ax.fill_between(t, 100 * lo, 100 * hi, step="post", color=colors[group], alpha=CI_ALPHA, lw=0)
            if math.isfinite(median):
                ax.plot([median, median], [0, 50], ls=":", lw=1.2, color=colors[group])
                ax.plot([median], [50], marker="o", color=colors[group])
        ax.axhline(50, color="grey", lw=0.8, ls="--")
        ax.set_xlim(0, max_hours)
        ax.set_ylim(0, 102)
        ylabel = "Still waiting, S(t) [%]" if kind == "survival" else "Done by t, 1 \u2212 S(t) [%]"
        ax.set(xlabel="Hours since creation [h]", ylabel=ylabel, title=title or default)
        legend_outside(ax, "group", left_out=len(rest))
        return ax
