"""Tidy series behind the report figures that are not KPIs of SPEC §4: the daily backlog, ticket
volume by local weekday × hour and survey score counts.

They are computed by the KPI engine (:mod:`kpitools.engine.series`) from the same narrow tables
and rules as the KPIs; this module is their public home for notebooks and the report.
"""

from __future__ import annotations

from .engine.series import daily_backlog, score_counts, survey_channels, volume_by_hour

__all__ = ["daily_backlog", "score_counts", "survey_channels", "volume_by_hour"]
