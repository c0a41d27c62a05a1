"""``kt.summary``: the columns an analyst reads first, of any table the Analyst API returns.

``kt.kpis``, ``kt.compare_channels``, ``kt.changes`` and ``kt.findings`` return complete tidy
frames (thirty columns for a comparison, tuples in the findings' cells, ``n`` as a float since
``tickets_per_customer`` may have a half, SPEC A13). Their summary is a :class:`~.display.Table`:
formatted values with their intervals, whole statements, readable in JupyterLab (escaped HTML)
and in a terminal (plain text, never cut).
"""

from __future__ import annotations

import pandas as pd

from .. import format as fmt
from ..errors import KpitoolsError
from .display import Table, table
from .tables import changes_table, pairs_table

_KPIS = {"period", "channel", "kpi", "value", "n", "ci_low", "ci_high"}


def _count(n: float) -> str:
    """An ``n``: whole with thousands separators, one decimal only when it has a half."""
    if pd.isna(n):
        return fmt.DASH
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def _kpis(frame: pd.DataFrame, caption: str | None) -> Table:
    rows = [(r.period, r.channel, fmt.label(r.kpi), fmt.with_ci(r.value, r.ci_low, r.ci_high, r.kpi, r.n),
             _count(r.n)) for r in frame.itertuples()]
    shown = pd.DataFrame(rows, columns=["period", "channel", "KPI", "value [95 % CI]", "n"])
    return table(shown, caption=caption, right=["value [95 % CI]", "n"])


def _findings(frame: pd.DataFrame, caption: str | None) -> Table:
    rows = [(r.rank, fmt.label(r.kpi, style="sentence"), r.statement, fmt.p_value(r.p_adj),
             r.magnitude if isinstance(r.magnitude, str) else fmt.DASH) for r in frame.itertuples()]
    shown = pd.DataFrame(rows, columns=["rank", "KPI", "finding", "p (adjusted)", "effect"])
    return table(shown, caption=caption, right=["rank", "p (adjusted)"], wrap=True)


def summary(frame: pd.DataFrame, caption: str | None = None) -> Table:
    """The readable view of a table of the Analyst API.

    ==============================  ===================================================================
    ``frame`` from                  shows
    ==============================  ===================================================================
    ``kt.kpis`` (any KPI family)    period, channel, KPI with its unit, value with its CI, ``n`` (whole)
    ``kt.compare_channels``         every pair: both values with CIs, difference, adjusted p, effect,
                                    detectable difference, verdict
    ``kt.changes``                  before, now, change with CI, adjusted p, verdict (better / worse)
    ``kt.findings``                 rank, KPI, the whole statement, adjusted p, effect magnitude
    ==============================  ===================================================================

    The frame itself is unchanged: use it for arithmetic, the summary for reading.

    Parameters
    ----------
    frame : DataFrame
        A result of one of the calls above.
    caption : str, optional
        A caption above the table.

    Returns
    -------
    Table
        HTML in JupyterLab, plain text elsewhere (``.frame`` holds the text cell by cell).

    Raises
    ------
    KpitoolsError
        For a frame that is none of these.

    Examples
    --------
    >>> k = pd.DataFrame({"period": ["2026-10"], "channel": ["all"], "kpi": ["tickets"], "value": [5172.0],
    ...                   "n": [5172.0], "ci_low": [None], "ci_high": [None]})
    >>> summary(k).frame.iloc[0].tolist()
    ['2026-10', 'all', 'Tickets [tickets]', '5,172', '5,172']
    """
    columns = set(frame.columns)
    if {"statement", "rank", "kpi"} <= columns:
        return _findings(frame, caption)
    if {"comparison", "group_a", "group_b"} <= columns:
        return pairs_table({str(k): part for k, part in frame.groupby("kpi", sort=False)}, caption=caption)
    if {"compare_to", "value_before", "kind"} <= columns:
        return changes_table(frame, caption=caption)
    if _KPIS <= columns:
        return _kpis(frame, caption)
    raise KpitoolsError("summary: expected a table of kt.kpis, kt.compare_channels, kt.changes or kt.findings; "
                        f"got columns {sorted(map(str, columns))}")
