"""What the report notebooks call as ``report.X``: display objects, numbers picked from a KPI
table, the target scorecard, comparison tables and the notebook preamble.

Everything shown is escaped and renders deterministically (see :mod:`.display`); numbers
follow the ``"table"`` style of :mod:`kpitools.format`.

========================  ==============================================================
module                    holds
========================  ==============================================================
:mod:`.display`           ``Table``, ``Text``, ``say``, ``bullets``, ``table``, colours
:mod:`.selection`         ``pick``, ``ranking``, ``read_kpis``, ``latest``, ``target``, ...
:mod:`.scorecard`         ``scorecard``, ``headline`` and their tables
:mod:`.tables`            ``kpi_table``, ``omnibus_table``, ``pairs_table``, ``changes_table``
:mod:`.axes`              ``log_hours_axis``
:mod:`.preamble`          ``parameters``, ``setup``: the first cells of every report notebook
:mod:`.summary`           ``summary``: the readable view of a KPI, comparison, change or finding table
========================  ==============================================================
"""

from __future__ import annotations

from typing import Any

from .. import format as _fmt
from ..format import DASH, EFFECT_NAMES, MINUS, is_median, sentence
from ..periods import TREND_MONTHS, previous, trend_range
from ..schema import ALL, GROUPS
from .axes import log_hours_axis
from .display import BAD, GOOD, NEUTRAL, Table, Text, bullets, say, table
from .preamble import ReportSetup, dataset_path, parameters, setup, shown_channels
from .scorecard import headline, headline_table, scorecard, scorecard_table
from .sections import change_title, channel_title, compare_all, missing, missing_tables, omitted_table
from .selection import kpis_as_lines, latest, pick, ranking, read_kpis, target
from .summary import summary
from .tables import changes_table, kpi_table, omnibus_table, pairs_table

# the table style of kpitools.format under the names the notebooks use
format_value = _fmt.value
format_ci = _fmt.with_ci
format_change = _fmt.change
format_p = _fmt.p_value
format_effect = _fmt.effect
month_name = _fmt.month
kpi_title = _fmt.title
kpi_label = _fmt.label


def format_diff(diff: Any, low: Any, high: Any, kpi: str) -> str:
    """A difference (a − b) with its CI for tables (see :func:`kpitools.format.difference`).

    Examples
    --------
    >>> format_diff(24.39, 17.12, 31.33, "csat_pct"), format_diff(-19.64, None, None, "frt_median_h")
    ('+24.4 pp [+17.1, +31.3]', '−19.6 h')
    """
    return _fmt.difference(diff, kpi, low, high)


__all__ = [
    "ALL", "BAD", "DASH", "EFFECT_NAMES", "GOOD", "GROUPS", "MINUS", "NEUTRAL", "ReportSetup", "TREND_MONTHS",
    "Table", "Text", "bullets", "changes_table", "format_ci", "format_change", "format_diff", "format_effect",
    "format_p", "format_value", "headline", "headline_table", "is_median", "kpi_label", "kpi_table", "kpi_title",
    "kpis_as_lines", "latest", "log_hours_axis", "month_name", "omnibus_table", "pairs_table", "pick", "previous",
    "ranking", "read_kpis", "say", "scorecard", "scorecard_table", "sentence", "setup", "shown_channels", "table",
    "target", "trend_range", "change_title", "channel_title", "compare_all", "missing", "missing_tables",
    "omitted_table", "dataset_path", "parameters", "summary",
]
