"""Helpers shared by the figures: axes creation, channel order, catalogue labels, CI drawing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..catalog import get as get_kpi
from .theme import style

#: Channel groups and the total: shown after the channels, never counted in a channel mix.
GROUPS: tuple[str, ...] = ("voice", "text", "all")
#: Share of the finite data range added past it to draw an open-ended (infinite) CI.
OPEN_END_MARGIN = 0.15
CI_ALPHA = 0.15
MINUS = "\u2212"


@contextmanager
def axes_for(ax: Axes | None) -> Iterator[Axes]:
    """The caller's axes, or a new figure drawn entirely inside the report style."""
    if ax is not None:
        yield ax
        return
    with style():
        _, new_ax = plt.subplots()
        yield new_ax


def channel_order(present: Iterable[Any], channels: Sequence[Any] | None = None) -> list[str]:
    """``channels`` as given (those present), else the present ones sorted with groups last."""
    seen = list(dict.fromkeys(str(c) for c in present))
    if channels is not None:
        return [str(c) for c in channels if str(c) in seen]
    plain = sorted(c for c in seen if c not in GROUPS)
    return plain + [g for g in GROUPS if g in seen]


def kpi_label(kpi: str) -> str:
    """Axis label of a KPI from the catalogue: ``"Title [unit]"``."""
    k = get_kpi(kpi)
    return f"{k.title} [{k.unit}]"


def diff_label(kpi: str) -> str:
    """Axis label of a difference of a KPI; percentages differ in percentage points."""
    k = get_kpi(kpi)
    unit = "pp" if k.unit == "%" else k.unit
    return f"Difference in {k.title} [{unit}]"


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
    """Labels at x = 0, 1, ...; slanted when more than six would crowd a report-width axis."""
    rotate = len(labels) > 6
    ax.set_xticks(range(len(labels)), labels, rotation=45 if rotate else 0,
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
