"""Numbers and rows picked from a tidy KPI table (``kt.kpis`` or a run's ``kpis_path``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..catalog import get as get_kpi
from ..periods import TREND_MONTHS, trend_range
from ..schema import ALL, GROUPS
from ..targets import target_for


def latest(kpis: pd.DataFrame) -> str:
    """The latest period of a KPI table."""
    return str(kpis["period"].astype(str).max())


def read_kpis(ds: Any, period: str, kpis_path: str = "", months: int = TREND_MONTHS) -> pd.DataFrame:
    """The KPI table of a report: ``kpis_path`` (a run's Parquet) when given, else computed.

    Computed, it is :func:`kpitools.kpis` for ``period`` and the ``months − 1`` months before
    it, in one pass — what a monthly run precomputes once for every notebook.
    """
    if kpis_path:
        return pd.read_parquet(kpis_path)
    from ..engine import kpis

    return kpis(ds, period=trend_range(period, months))


def pick(kpis: pd.DataFrame, kpi: str, channel: str = ALL, period: str | None = None,
         column: str = "value") -> float:
    """One number of a KPI table (NaN when the row is absent).

    Examples
    --------
    >>> kp = pd.DataFrame({"period": "2026-10", "channel": ["all"], "kpi": "nps", "value": [12.0], "n": [80.0]})
    >>> pick(kp, "nps"), pick(kp, "nps", column="n"), pick(kp, "csat_pct")
    (12.0, 80.0, nan)
    """
    period = period or latest(kpis)
    rows = kpis.loc[(kpis["kpi"] == kpi) & (kpis["channel"].astype(str) == channel)
                    & (kpis["period"].astype(str) == str(period)), column]
    return float(rows.iloc[0]) if len(rows) and not pd.isna(rows.iloc[0]) else math.nan


def ranking(kpis: pd.DataFrame, kpi: str, period: str | None = None,
            channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Channels best first by the KPI's direction (groups, ``all`` and missing values left out).

    Returns the KPI rows (``channel, value, n, ci_low, ci_high``); for a KPI without a
    direction, largest first.

    Examples
    --------
    >>> kp = pd.DataFrame({"period": "2026-10", "channel": ["chat", "phone", "all"], "kpi": "frt_median_h",
    ...                    "value": [0.01, 0.05, 0.02], "n": 10.0, "ci_low": None, "ci_high": None})
    >>> ranking(kp, "frt_median_h")["channel"].tolist()
    ['chat', 'phone']
    """
    period = period or latest(kpis)
    rows = kpis.loc[(kpis["kpi"] == kpi) & (kpis["period"].astype(str) == str(period))
                    & ~kpis["channel"].astype(str).isin([*GROUPS, ALL]) & kpis["value"].notna()]
    if channels:
        rows = rows.loc[rows["channel"].isin(list(channels))]
    ascending = get_kpi(kpi).direction == "lower"
    rows = rows.sort_values(["value", "channel"], ascending=[ascending, True], kind="stable")
    return rows.loc[:, ["channel", "value", "n", "ci_low", "ci_high"]].reset_index(drop=True)


def kpis_as_lines(kpis: pd.DataFrame, labels: dict[str, str], channel: str = ALL) -> pd.DataFrame:
    """Several KPIs of one channel relabelled as "channels" of the first KPI, so that
    ``kt.plot.kpi_trend(rows, first_id)`` draws one line per KPI (give them the same unit and
    set the y label yourself).

    Examples
    --------
    >>> kp = pd.DataFrame({"period": "2026-10", "channel": "all", "kpi": ["d1_pct", "d7_pct"], "value": [40.0, 14.0]})
    >>> kpis_as_lines(kp, {"d1_pct": "day 1", "d7_pct": "day 7"})[["channel", "kpi", "value"]].values.tolist()
    [['day 1', 'd1_pct', 40.0], ['day 7', 'd1_pct', 14.0]]
    """
    rows = kpis.loc[kpis["kpi"].isin(list(labels)) & (kpis["channel"].astype(str) == channel)]
    return rows.assign(channel=rows["kpi"].map(labels), kpi=next(iter(labels))).reset_index(drop=True)


def target(ds: Any, kpi: str, channel: str = ALL) -> float | None:
    """The target of a KPI for a channel from ``ds.targets`` (see :func:`kpitools.targets.target_for`).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ds = SimpleNamespace(targets=pd.DataFrame({"kpi": ["csat_pct"] * 2, "target": [80.0, 70.0],
    ...                                            "channel": [None, "phone"]}))
    >>> target(ds, "csat_pct"), target(ds, "csat_pct", "phone"), target(ds, "nps")
    (80.0, 70.0, None)
    """
    return target_for(ds.targets, kpi, channel)
