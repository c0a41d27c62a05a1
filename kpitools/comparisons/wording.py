"""Numbers in words: KPI values, differences, intervals and p-values formatted for statements.

Percentages and NPS in whole points (one decimal under 10), mean scores with two decimals,
times in seconds, minutes or hours by size, handle times in minutes. Minus signs are U+2212.
"""

from __future__ import annotations

import math

from .. import catalog

MINUS = "\u2212"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
LABELS = {
    "csat_pct": "CSAT", "csat_mean": "CSAT mean score", "nps": "NPS", "ces_mean": "CES",
    "ces_easy_pct": "CES easy share", "fcr_pct": "FCR", "reopen_pct": "reopen rate",
    "open_pct": "open share", "sla_frt_pct": "first-response SLA", "abandonment_pct": "abandonment",
    "aht_min": "AHT", "frt_median_h": "median first-response time",
    "frt_bh_median_h": "median first-response time (business hours)",
    "ttr_median_h": "median resolution time", "ttr_bh_median_h": "median resolution time (business hours)",
}


def label(kpi: str) -> str:
    """Short name of a KPI in a sentence (the catalog title when there is none).

    Examples
    --------
    >>> label("csat_pct"), label("crr_pct")
    ('CSAT', 'Customer retention rate')
    """
    return LABELS.get(kpi) or catalog.get(kpi).title


def month(period: str) -> str:
    """``"2026-10"`` → ``"October 2026"`` (English, whatever the locale).

    Examples
    --------
    >>> month("2026-10")
    'October 2026'
    """
    year, mon = period.split("-")
    return f"{MONTHS[int(mon) - 1]} {year}"


def _number(x: float, decimals: int, signed: bool = False, strip: bool = False) -> str:
    text = f"{abs(x):.{decimals}f}"
    if strip and decimals and text.endswith("." + "0" * decimals):
        text = text[: -decimals - 1]
    if float(text) == 0:
        return text
    return (MINUS if x < 0 else "+" if signed else "") + text


def _points(x: float, signed: bool = False) -> str:
    return _number(x, 1 if abs(x) < 10 else 0, signed, strip=True)


def _time(hours: float, signed: bool = False) -> str:
    size = abs(hours)
    if size < 1 / 60:
        return _number(hours * 3600, 0, signed) + " s"
    if size < 1:
        return _number(hours * 60, 1 if size * 60 < 10 else 0, signed) + " min"
    return _number(hours, 1 if size < 100 else 0, signed) + " h"


def value(x: float, kpi: str) -> str:
    """A KPI value in its unit (a Kaplan–Meier median that is not finite: "not reached").

    Examples
    --------
    >>> value(62.4, "csat_pct"), value(-19.2, "nps"), value(5.761, "ces_mean"), value(0.0125, "frt_median_h")
    ('62%', '−19', '5.76', '45 s')
    """
    if not math.isfinite(x):
        return "not reached" if _unit(kpi) == "h" else "n/a"
    unit = _unit(kpi)
    if unit == "h":
        return _time(x)
    if unit == "min":
        return _number(x, 1) + " min"
    if kpi == "nps":
        return _points(x, signed=True)
    if unit == "%":
        return _points(x) + "%"
    return _number(x, 2)


def difference(x: float, kpi: str, signed: bool = True) -> str:
    """A difference of KPI values: points for percentages and NPS, else the KPI's unit.

    Examples
    --------
    >>> difference(-25.3, "csat_pct"), difference(6.38, "ttr_median_h"), difference(6.2, "nps", signed=False)
    ('−25 pts', '+6.4 h', '6.2 pts')
    """
    unit = _unit(kpi)
    if unit == "h":
        return _time(x, signed)
    if unit == "min":
        return _number(x, 1, signed) + " min"
    if kpi == "nps" or unit == "%":
        return _points(x, signed) + " pts"
    return _number(x, 2, signed)


def interval(low: float, high: float, kpi: str, of_difference: bool = False) -> str:
    """``[low, high]`` of a value or a difference (units left out for percentages and points);
    ``""`` when a limit is missing.

    Examples
    --------
    >>> interval(60.2, 65.4, "csat_pct"), interval(-27.1, -23.4, "csat_pct", of_difference=True)
    ('[60, 65]', '[−27, −23]')
    >>> interval(0.0233, 0.0269, "frt_median_h")
    '[1.4 min, 1.6 min]'
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    unit = _unit(kpi)
    if unit in ("h", "min"):
        text = (lambda x: difference(x, kpi)) if of_difference else (lambda x: value(x, kpi))
    elif kpi == "nps" or unit == "%":
        text = (lambda x: _points(x, of_difference or kpi == "nps"))
    else:
        text = (lambda x: _number(x, 2, of_difference))
    return f"[{text(low)}, {text(high)}]"


def p_value(p: float) -> str:
    """``"p < 0.001"``, three decimals below 0.1, two above.

    Examples
    --------
    >>> p_value(2e-9), p_value(0.0042), p_value(0.031), p_value(0.42)
    ('p < 0.001', 'p = 0.004', 'p = 0.031', 'p = 0.42')
    """
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _unit(kpi: str) -> str:
    return catalog.get(kpi).unit
