"""Heatmaps: signup cohorts × months since signup, and ticket volume by weekday × hour."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from ._helpers import axes_for, has_values, no_data

MAX_ANNOTATED = 24
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: value column -> (what the title calls it, colour-bar label with unit)
COHORT_LABELS = {
    "pct": ("Share of cohort active", "Active [% of cohort]"),
    "active": ("Active customers", "Active customers [customers]"),
    "customers": ("Cohort size", "Cohort size [customers]"),
}


def cohort_heatmap(cohort_long: pd.DataFrame, ax: Axes | None = None, value: str = "pct",
                   title: str | None = None, last: int | None = 12, annot: bool | None = None) -> Axes:
    """Signup cohort × months since signup heatmap; cells not yet observable stay blank.

    Parameters
    ----------
    cohort_long : DataFrame
        Output of ``kt.cohort_table``: ``cohort, months_since_signup, customers, active, pct``,
        one row per cell (NaN where not observable yet).
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    value : {"pct", "active", "customers"}
        The column to show.
    title : str, optional
        The finding to state; default describes the table.
    last : int or None
        Show only the ``last`` most recent cohorts (and the months they reach); None for all.
    annot : bool, optional
        Write each cell's value (rounded to a whole number) in it; default when the table is
        at most :data:`MAX_ANNOTATED` cells wide and high, so that the numbers stay legible.

    Returns
    -------
    Axes
        "no data" when no cell has a value.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> cohorts = pd.DataFrame({"cohort": ["2026-08"] * 3 + ["2026-09"] * 3,
    ...                         "months_since_signup": [0, 1, 2] * 2,
    ...                         "pct": [100.0, 61.0, 48.0, 100.0, 57.0, float("nan")]})
    >>> ax = cohort_heatmap(cohorts)
    >>> [t.get_text() for t in ax.texts]
    ['100', '61', '48', '100', '57']
    >>> plt.close(ax.figure)
    """
    table = cohort_long.pivot(index="cohort", columns="months_since_signup", values=value).sort_index(axis=0)
    if last is not None:
        table = table.iloc[-last:].dropna(axis=1, how="all")
    table = table.sort_index(axis=1)
    table.index = table.index.astype(str)
    if annot is None:
        annot = max(table.shape) <= MAX_ANNOTATED
    name, label = COHORT_LABELS.get(value, (value, value))
    default_title = f"{name} by signup cohort and months since signup"
    with axes_for(ax) as ax:
        if not has_values(table.to_numpy().ravel()):  # seaborn cannot scale colours without a value
            return no_data(ax, title or default_title)
        sns.heatmap(table, ax=ax, annot=annot, fmt=".0f", cmap="Blues", linewidths=0.5, linecolor="white",
                    annot_kws={"fontsize": 8}, cbar_kws={"label": label})
        ax.set(xlabel="Months since signup", ylabel="Signup cohort",
               title=title or default_title)
        ax.tick_params(axis="y", rotation=0)
        ax.grid(False)  # grid lines would show through the blank cells
        return ax


def _weekday_numbers(weekday: pd.Series) -> pd.Series:
    """0 = Monday ... 6 = Sunday from numbers or English day names (any case, full or short)."""
    if pd.api.types.is_numeric_dtype(weekday):
        return weekday.astype(int)
    codes = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
    return weekday.astype(str).str[:3].str.lower().map(codes)


def volume_heatmap(data: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Tickets by weekday × hour of creation; hours with no tickets show as 0.

    Parameters
    ----------
    data : DataFrame
        Counts ``weekday`` (0 = Monday or a day name), ``hour`` (0–23), ``tickets``; or
        tickets with a ``created_at`` column (counted here, in the timestamps' timezone).
    ax : Axes, optional
        Where to draw; default a new report-style figure.
    title : str, optional
        The finding to state; default describes the figure.

    Returns
    -------
    Axes
        "no data" when ``data`` has no row.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> counts = pd.DataFrame({"weekday": [0, 0, 4], "hour": [9, 10, 16], "tickets": [12, 30, 7]})
    >>> ax = volume_heatmap(counts)
    >>> [t.get_text() for t in ax.get_yticklabels()][:2], ax.collections[0].get_array().sum()
    (['Mon', 'Tue'], np.float64(49.0))
    >>> plt.close(ax.figure)
    """
    if "tickets" in data:
        counts = pd.DataFrame({"weekday": _weekday_numbers(data["weekday"]), "hour": data["hour"],
                               "tickets": data["tickets"]})
    else:
        created = data["created_at"]
        counts = pd.DataFrame({"weekday": created.dt.weekday, "hour": created.dt.hour, "tickets": 1})
    grid = (counts.groupby(["weekday", "hour"])["tickets"].sum().unstack("hour")
            .reindex(index=range(7), columns=range(24)).fillna(0))
    grid.index = list(WEEKDAYS)
    default_title = "Tickets by weekday and hour of creation"
    with axes_for(ax) as ax:
        if counts.empty:
            return no_data(ax, title or default_title)
        sns.heatmap(grid, ax=ax, cmap="rocket_r", linewidths=0.5, linecolor="white",
                    cbar_kws={"label": "Tickets [tickets]"})
        ax.set(xlabel="Hour of creation", ylabel="", title=title or default_title)
        ax.tick_params(axis="y", rotation=0)
        ax.tick_params(axis="x", rotation=0)
        ax.grid(False)
        return ax
