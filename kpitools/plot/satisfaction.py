"""Survey score distributions per channel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ..schema import DEFAULT_SCALES
from ._helpers import MAX_CHANNELS, axes_for, channel_order, count_text, legend_outside, no_data, short, top_channels

#: Segments narrower than this (in %) are left unlabelled: the text would not fit.
MIN_LABELLED_SHARE = 6.0
#: Bar of the responses whose ``by`` value is empty.
UNKNOWN = "unknown"


def _score_counts(data: pd.DataFrame, survey: str, by: str) -> pd.DataFrame:
    """Counts of each score per group (rows: group, columns: score) from responses or counts."""
    if "survey" in data:
        data = data.loc[data["survey"].astype(str).str.lower() == survey.lower()]
    weights = data["count"] if "count" in data else pd.Series(1, index=data.index)
    groups = data[by].astype("string").fillna(UNKNOWN)
    table = (pd.DataFrame({by: groups, "score": data["score"], "count": weights})
             .groupby([by, "score"])["count"].sum().unstack("score", fill_value=0))
    low, high = DEFAULT_SCALES.get(survey.lower(), (np.inf, -np.inf))
    scores = table.columns.astype(int)
    if len(scores):
        low, high = min(low, scores.min()), max(high, scores.max())
    table.columns = scores
    return table.reindex(columns=range(int(low), int(high) + 1) if np.isfinite(low) else [], fill_value=0)


def score_distribution(surveys: pd.DataFrame, survey: str = "csat", by: str = "channel",
                       ax: Axes | None = None, title: str | None = None,
                       max_channels: int = MAX_CHANNELS) -> Axes:
    """Share of each score per group as stacked horizontal bars summing to 100 %.

    Parameters
    ----------
    surveys : DataFrame
        Responses (``score``, ``by`` and, to pick one survey, ``survey``) or counts of them
        (the same columns plus ``count``). Responses with an empty ``by`` get a bar named
        "unknown": resolve a survey's channel from its ticket (SPEC A6) before plotting.
    survey : str
        ``"csat"``, ``"nps"`` or ``"ces"``; the score categories span its default scale
        (SPEC §2) and any score seen.
    by : str
        Column whose values get one bar each.
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default describes the figure.
    max_channels : int
        Groups drawn, those with the most responses (see :func:`top_channels`); the legend
        says how many smaller groups are left out (a distribution is a set of shares, so
        they are not pooled into one bar).

    Returns
    -------
    Axes
        Scores run from red (lowest) to green (highest); tick labels carry ``n``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> counts = pd.DataFrame({"channel": ["chat", "chat", "email"], "score": [5, 4, 1], "count": [3, 1, 2]})
    >>> ax = score_distribution(counts)
    >>> len(ax.patches), [t.get_text() for t in ax.get_yticklabels()]
    (10, ['chat (n = 4)', 'email (n = 2)'])
    >>> plt.close(ax.figure)
    """
    counts = _score_counts(surveys, survey, by)
    totals = counts.sum(axis=1)
    sizes = pd.DataFrame({"channel": totals.index.astype(str), "n": totals.to_numpy(dtype=float)})
    kept, rest = top_channels(sizes, channel_order(counts.index), max_channels)
    counts = counts.loc[kept]
    totals = totals.loc[kept]
    shares = counts.div(totals.where(totals > 0), axis=0) * 100
    colors = sns.color_palette("RdYlGn", len(shares.columns))
    default_title = f"{survey.upper()} scores by {by}"
    with axes_for(ax, rows=len(shares)) as ax:
        if not totals.sum() > 0:
            return no_data(ax, title or default_title)
        left = np.zeros(len(shares))
        for color, score in zip(colors, shares.columns):  # one segment per score
            width = shares[score].to_numpy(dtype=float)
            bars = ax.barh(range(len(shares)), width, left=left, color=color, label=str(score),
                           edgecolor="white", linewidth=0.5)
            ax.bar_label(bars, [f"{w:.0f}" if w >= MIN_LABELLED_SHARE else "" for w in width],
                         label_type="center", fontsize=8)
            left = left + np.nan_to_num(width)
        ax.set_yticks(range(len(shares)), [f"{short(g)} ({count_text(n)})" for g, n in zip(shares.index, totals)])
        ax.set_ylim(len(shares) - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set(xlabel="Share of responses [%]", ylabel="",
               title=title or default_title)
        ax.grid(axis="y", visible=False)
        legend_outside(ax, "score", left_out=len(rest))
        return ax
