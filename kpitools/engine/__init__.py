"""The KPI engine (SPEC §4): Ibis expressions over an embedded DuckDB, pandas at the edges.

Public functions take a :class:`~kpitools.dataset.Dataset` and return tidy DataFrames with the
columns of ``kpis.csv``: ``period, channel, kpi, value, n, ci_low, ci_high`` (SPEC §7).
"""

from __future__ import annotations

from .api import (backlog_by_age, channels, cohort_table, conversation_kpis, engagement, kpis, retention,
                  satisfaction, sla_outcomes, speed, survival_curve, time_in_status)
from .backend import Backend
from .tidy import kpis_to_csv

__all__ = ["Backend", "backlog_by_age", "channels", "cohort_table", "conversation_kpis", "engagement", "kpis",
           "kpis_to_csv", "retention", "satisfaction", "sla_outcomes", "speed", "survival_curve", "time_in_status"]
