"""Helpers shared by the figures: axes creation, channel order and cap, catalogue labels, CI drawing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..catalog import get as get_kpi
from ..format import MINUS, unit_label
from ..schema import ALL
from ..schema import GROUPS as CHANNEL_GROUPS
from .theme import FIGSIZE, OTHER, style

#: Channel groups and the total: shown after the channels, never counted in a channel mix.
GROUPS: tuple[str, ...] = (*CHANNEL_GROUPS, ALL)
#: Share of the finite data range added past it to draw an open-ended (infinite) CI.
OPEN_END_MARGIN = 0.15
CI_ALPHA = 0.15
#: Channels a figure draws one by one by default; the others are combined or left to the table.
MAX_CHANNELS = 8
#: The volume that ranks channels for the cap.
VOLUME_KPI = "tickets"
#: Counts that add up across channels: the only KPIs whose smaller channels may be drawn as a sum.
ADDITIVE_KPIS: tuple[str, ...] = ("tickets", "backlog_end")
#: Longest name written in full in a tick label or legend entry.
MAX_LABEL = 20
#: Legend entries beyond which the legend takes a second column (one column would outgrow the axes).
LEGEND_ROWS = 12
#: Height per row and fixed margin (inches) of a figure with one row per channel or pair.
ROW_HEIGHT = 0.28
ROW_MARGIN = 1.4


@contextmanager
def axes_for(ax: Axes | None, rows: int = 0) -> Iterator[Axes]:
    """The caller's axes, or a new figure drawn entirely inside the report style, made taller
    when ``rows`` labelled rows would not fit the report height."""
    if ax is not None:
        yield ax
        return
    with style():
        width, height = FIGSIZE
        _, new_ax = plt.subplots(figsize=(width, max(height, ROW_MARGIN + ROW_HEIGHT * rows)))
        yield new_ax


def channel_order(present: Iterable[Any], channels: Sequence[Any] | None = None) -> list[str]:
    """``channels`` as given (those present), else the present ones sorted with groups last."""
    seen = list(dict.fromkeys(str(c) for c in present))
    if channels is not None:
        return [str(c) for c in channels if str(c) in seen]
    plain = sorted(c for c in seen if c not in GROUPS)
    return plain + [g for g in GROUPS if g in seen]


def top_channels(kpis: pd.DataFrame, channels: Iterable[Any], max_channels: int = MAX_CHANNELS, *,
                 kpi: str | None = None, period: str | None = None) -> tuple[list[str], list[str]]:
    """Split ``channels`` into those a figure draws one by one and the smaller rest.

    The ``max_channels`` largest by volume are kept: the ``tickets`` rows of ``kpis`` when it
    has any for these channels, else the ``n`` of the ``kpi`` rows, else their ``value``
    (without a ``kpi`` column every row counts), summed over periods or taken in ``period``.
    Ties go to the name first in sorted order, so the split is deterministic. The groups
    (``voice``, ``text``, ``all``) are always kept and do not count.

    Returns
    -------
    tuple of lists
        ``kept`` in the order of ``channels``; ``rest`` largest first.

    Examples
    --------
    >>> kpis = pd.DataFrame({"channel": ["chat", "email", "fax", "all"], "kpi": "tickets",
    ...                      "value": [50.0, 30.0, 30.0, 110.0]})
    >>> top_channels(kpis, ["fax", "email", "chat", "all"], 2)
    (['email', 'chat', 'all'], ['fax'])
    """
    if max_channels < 0:
        raise ValueError(f"max_channels must be at least 0, not {max_channels}")
    names = list(dict.fromkeys(str(c) for c in channels))
    plain = [c for c in names if c not in GROUPS]
    if len(plain) <= max_channels:
        return names, []
    rows = kpis.assign(channel=kpis["channel"].astype(str))
    rows = rows.loc[rows["channel"].isin(plain)]
    if period is not None and "period" in rows:
        rows = rows.loc[rows["period"].astype(str) == str(period)]
    volume = pd.Series(0.0, index=plain)
    for source, column in ((VOLUME_KPI, "value"), (kpi, "n"), (kpi, "value")):
        mine = rows.loc[rows["kpi"] == source] if "kpi" in rows else rows
        if column in mine and mine[column].notna().any():
            volume = mine.groupby("channel")[column].sum().astype(float).reindex(plain, fill_value=0.0)
            break
    ranked = (pd.DataFrame({"channel": plain, "volume": volume.to_numpy()})
              .sort_values(["volume", "channel"], ascending=[False, True])["channel"].tolist())
    largest = set(ranked[:max_channels])
    return [c for c in names if c in largest or c in GROUPS], ranked[max_channels:]


def other_label(count: int) -> str:
    """Name of the element that sums the ``count`` channels not drawn one by one."""
    return f"{OTHER} ({count} channel{'' if count == 1 else 's'})"


def left_out_text(count: int) -> str:
    """What a figure says about the channels it leaves to the table (a rate cannot be summed)."""
    return f"{count} smaller channel{'' if count == 1 else 's'} in the table below"


def short(name: Any, width: int = MAX_LABEL) -> str:
    """A name for a label, at most ``width`` characters: a longer one keeps its start and its
    end around an ellipsis, as names of one dataset often differ only at the end.

    >>> short("support-emea-enterprise-escalations-tier2")
    'support-emea-…-tier2'
    """
    name = str(name)
    tail = width // 3
    return name if len(name) <= width else f"{name[:width - tail - 1]}\u2026{name[-tail:]}"


def sum_other(rows: pd.DataFrame, rest: Sequence[str], by: str, columns: Sequence[str]) -> pd.DataFrame:
    """The ``rest`` channels' ``columns`` summed per ``by`` value, as the rows of one "other" channel.

    A sum is written only where every one of those channels has a value (else NaN): a partial
    sum would understate the count.
    """
    mine = rows.loc[rows["channel"].isin(rest)]
    summed = mine.groupby(by)[list(columns)].sum(min_count=len(rest)).reset_index()
    return summed.assign(channel=other_label(len(rest)))


def legend_outside(ax: Axes, title: str | None = None, left_out: int = 0) -> None:
    """Legend right of the axes (two columns when long), ending with the channels left out."""
    handles, labels = ax.get_legend_handles_labels()
    if left_out:
        handles.append(Line2D([], [], ls="none"))
        labels.append(left_out_text(left_out))
    if handles:
        ax.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  ncols=1 if len(handles) <= LEGEND_ROWS else 2)


def has_values(values: Any) -> bool:
    """Whether there is anything to draw: a value that is not NaN (+inf is: not reached)."""
    return bool(pd.notna(pd.Series(values, dtype=float)).any())


def kpi_label(kpi: str) -> str:
    """Axis label of a KPI from the catalogue: ``"Title [unit]"`` (costs: the dataset's currency,
    see :func:`kpitools.format.unit_label`)."""
    unit = unit_label(kpi)
    return get_kpi(kpi).title + (f" [{unit}]" if unit else "")


def diff_label(kpi: str) -> str:
    """Axis label of a difference of a KPI; percentages differ in percentage points."""
    unit = "pp" if get_kpi(kpi).unit == "%" else unit_label(kpi)
    return f"Difference in {get_kpi(kpi).title}" + (f" [{unit}]" if unit else "")


def kpi_rows(kpis: pd.DataFrame, kpi: str, channels: Sequence[Any] | None = None) -> pd.DataFrame:
    """Rows of one KPI (copy) with ``ci_low``/``ci_high`` present and string periods/channels."""
    get_kpi(kpi)  # unknown ids fail here, naming the known ones
    rows = kpis.loc[kpis["kpi"] == kpi].copy()
    for column in ("ci_low", "ci_high", "n"):
        if column not in rows:
            rows[column] = np.nan
    rows["channel"] = rows["channel"].astype(str)
    rows["period"] = rows["period"].astype(str)
    if channels is not None:
        rows = rows.loc[rows["channel"].isin([str(c) for c in channels])]
    return rows


def latest_period(rows: pd.DataFrame, period: str | None) -> str | None:
    """``period`` as given, else the last period in ``rows`` (None when there is none)."""
    if period is not None:
        return str(period)
    return max(rows["period"]) if len(rows) else None


def label_x(ax: Axes, labels: Sequence[str]) -> None:
    """Labels at x = 0, 1, ...; slanted when more than six would crowd a report-width axis, long
    names shortened."""
    rotate = len(labels) > 6
    ax.set_xticks(range(len(labels)), [short(label) for label in labels], rotation=45 if rotate else 0,
                  ha="right" if rotate else "center")


def period_axis(ax: Axes, periods: Iterable[Any]) -> dict[str, int]:
    """Put the sorted distinct periods on the x axis; returns period -> position."""
    labels = sorted({str(p) for p in periods})
    label_x(ax, labels)
    return {label: i for i, label in enumerate(labels)}


def open_end(values: np.ndarray) -> float:
    """Where to draw +inf: a margin past the largest finite value (1 when there is none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 1.0
    top, bottom = finite.max(), finite.min()
    span = top - bottom or abs(top) or 1.0
    return float(top + OPEN_END_MARGIN * span)


def cap(values: pd.Series | np.ndarray, at: float) -> np.ndarray:
    """Float copy with +inf replaced by ``at`` (NaN kept)."""
    out = np.asarray(values, dtype=float).copy()
    out[np.isposinf(out)] = at
    return out


def count_text(n: Any) -> str:
    """``"n = 1,234"``, or ``"n = –"`` when unknown."""
    return f"n = {float(n):,.0f}" if pd.notna(n) else "n = \u2013"


def no_data(ax: Axes, title: str) -> Axes:
    """An empty figure that says so, so a report with a skipped KPI still renders."""
    ax.set_title(title)
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="grey")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
