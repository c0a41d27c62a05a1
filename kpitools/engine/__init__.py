"""The KPI engine (SPEC §4): Ibis expressions over an embedded DuckDB, pandas at the edges.

Public functions take a :class:`~kpitools.dataset.Dataset` and return tidy DataFrames with the
columns of ``kpis.csv``: ``period, channel, kpi, value, n, ci_low, ci_high`` (SPEC §7).
"""

from __future__ import annotations

from .api import channels, cohort_table, engagement, kpis, retention, satisfaction, speed, survival_curve
from .backend import Backend
from .tidy import kpis_to_csv

__all__ = ["Backend", "channels", "cohort_table", "engagement", "kpis", "kpis_to_csv", "retention",
           "satisfaction", "speed", "survival_curve"]
