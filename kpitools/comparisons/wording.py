"""Numbers in words for findings: the ``"sentence"`` style of :mod:`kpitools.format`.

Examples
--------
>>> value(62.4, "csat_pct"), difference(-25.3, "csat_pct"), p_value(0.031), label("csat_pct")
('62%', '−25 pts', 'p = 0.031', 'CSAT')
"""

from __future__ import annotations

from .. import format as fmt
from ..format import interval, month

__all__ = ["difference", "interval", "label", "month", "p_value", "value"]


def value(x: float, kpi: str) -> str:
    """A KPI value in a sentence (see :func:`kpitools.format.value`)."""
    return fmt.value(x, kpi, style="sentence")


def difference(x: float, kpi: str, signed: bool = True) -> str:
    """A difference of KPI values in a sentence (see :func:`kpitools.format.difference`)."""
    return fmt.difference(x, kpi, plus=signed, style="sentence")


def p_value(p: float) -> str:
    """``"p < 0.001"``, ``"p = 0.031"`` (see :func:`kpitools.format.p_value`)."""
    return fmt.p_value(p, style="sentence")


def label(kpi: str) -> str:
    """Short name of a KPI in a sentence (see :func:`kpitools.format.label`)."""
    return fmt.label(kpi, style="sentence")
