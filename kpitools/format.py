"""KPI values, differences, p-values, month names and KPI names as text: every rule once.

Two named styles, where the outputs differ:

``"table"`` (report tables)
    Fixed decimals by unit: percentages, NPS and handle minutes one, mean scores, costs and
    tickets per customer two, counts whole (a mean of counts one); thousands separators; the
    unit is written only for times (``"2.4 min"``), tables carry the others in the row label;
    changes of percentages in ``pp``; a missing value "–".
``"sentence"`` (findings)
    Percentages and NPS in whole points (one decimal under 10, no trailing ``.0``), written
    ``"62%"`` and ``"−25 pts"``; NPS always signed; mean scores two decimals; handle times
    ``"4.5 min"``; times in minutes whole from 10 min; no thousands separators.

Shared by both: negative numbers take the minus sign (U+2212) and a number that rounds to zero
takes no sign; times are written in seconds under a minute, minutes under an hour, hours above
(whole from 100 h); p-values "< 0.001", three decimals below 0.1, two above; month names are
English whatever the locale.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pandas as pd

from .catalog import get as get_kpi

Style = Literal["table", "sentence"]

MINUS = "\u2212"
DASH = "\u2013"
INFINITY = "\u221e"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
EFFECT_NAMES = {"cramers_v": "Cramér's V", "cohens_h": "h", "cohens_d": "d", "epsilon_squared": "\u03b5\u00b2",
                "rank_biserial": "r", "hazard_ratio": "HR"}
#: Short KPI names for sentences (the catalogue title for the others).
SHORT_LABELS = {
    "csat_pct": "CSAT", "csat_mean": "CSAT mean score", "nps": "NPS", "ces_mean": "CES",
    "ces_easy_pct": "CES easy share", "fcr_pct": "FCR", "reopen_pct": "reopen rate",
    "open_pct": "open share", "sla_frt_pct": "first-response SLA", "abandonment_pct": "abandonment",
    "aht_min": "AHT", "frt_median_h": "median first-response time",
    "frt_bh_median_h": "median first-response time (business hours)",
    "ttr_median_h": "median resolution time", "ttr_bh_median_h": "median resolution time (business hours)",
}
_TABLE_DECIMALS = {"%": 1, "min": 1, "currency": 2, "tickets/customer": 2}
#: The catalogue unit of costs, written as the dataset's currency (see :func:`set_currency`).
CURRENCY = "currency"
_currency: str | None = None


# ----------------------------------------------------------------------------- numbers
def number(x: float, decimals: int, *, plus: bool = False, grouping: bool = False, trim: bool = False) -> str:
    """``x`` rounded to ``decimals`` with the minus sign (U+2212), unsigned when it rounds to zero.

    ``plus`` writes ``+`` before positive numbers, ``grouping`` thousands separators, ``trim``
    drops an all-zero fraction.

    Examples
    --------
    >>> number(-1234.56, 1, grouping=True), number(2.0, 1, plus=True, trim=True), number(-0.04, 1)
    ('−1,234.6', '+2', '0.0')
    """
    text = f"{abs(x):{',' if grouping else ''}.{decimals}f}"
    if trim and decimals and text.endswith("." + "0" * decimals):
        text = text[: -decimals - 1]
    if float(text.replace(",", "")) == 0:
        return text
    return (MINUS if x < 0 else "+" if plus else "") + text


def with_minus(text: str) -> str:
    """A formatted number with the minus sign (U+2212) instead of a leading hyphen.

    Examples
    --------
    >>> with_minus("-3"), with_minus("4-5")
    ('−3', '4-5')
    """
    return MINUS + text[1:] if text.startswith("-") else text


def time_unit(hours: float, *, style: Style = "table") -> tuple[float, str, int]:
    """``(factor, unit, decimals)`` to write ``hours``: seconds under a minute, minutes under an
    hour (whole from 10 minutes in sentences), else hours (whole from 100 hours).

    Examples
    --------
    >>> time_unit(0.01), time_unit(0.5), time_unit(0.5, style="sentence"), time_unit(120)
    ((3600.0, 's', 0), (60.0, 'min', 1), (60.0, 'min', 0), (1.0, 'h', 0))
    """
    size = abs(hours)
    if size < 1 / 60:
        return 3600.0, "s", 0
    if size < 1:
        return 60.0, "min", 1 if style == "table" or size * 60 < 10 else 0
    return 1.0, "h", 1 if size < 100 else 0


def is_median(kpi: str) -> bool:
    """Whether ``kpi`` is a Kaplan–Meier median (NaN with data = "not reached").

    Examples
    --------
    >>> is_median("frt_bh_median_h"), is_median("frt_mean_h")
    (True, False)
    """
    return kpi.endswith("_median_h")


def _unit(kpi: str) -> str:
    return get_kpi(kpi).unit


def set_currency(name: str | None) -> None:
    """Write cost labels in ``name`` (``"EUR"``), the ``currency`` of dataset.toml; ``None``: no unit.

    One report per process (a notebook kernel), so the setting is the process's:
    :func:`kpitools.report.setup` makes it from the dataset it loads.
    """
    global _currency
    _currency = name


def unit_label(kpi: str) -> str | None:
    """A KPI's unit as labels write it: the dataset's currency for costs (``None`` when none is
    configured: a made-up unit would mislead), else the catalogue unit.

    Examples
    --------
    >>> unit_label("csat_pct"), unit_label("cpi")
    ('%', None)
    >>> set_currency("EUR"); unit_label("cpi")
    'EUR'
    >>> set_currency(None)
    """
    unit = _unit(kpi)
    return _currency if unit == CURRENCY else unit


def _in_points(kpi: str) -> bool:
    """Percentages and NPS: differences are points."""
    return kpi == "nps" or _unit(kpi) == "%"


def decimals(kpi: str, x: float, *, style: Style = "table") -> int:
    """Decimals of a value or difference ``x`` of a KPI not measured in hours.

    Examples
    --------
    >>> decimals("csat_pct", 62.4), decimals("csat_pct", 62.4, style="sentence"), decimals("tickets", 3.5)
    (1, 0, 1)
    """
    unit = _unit(kpi)
    if style == "sentence":
        if _in_points(kpi):
            return 1 if abs(x) < 10 else 0
        return 1 if unit == "min" else 2
    if unit in _TABLE_DECIMALS:
        return _TABLE_DECIMALS[unit]
    if unit == "score":
        return 1 if kpi == "nps" else 2
    return 0 if float(x).is_integer() else 1  # counts; means of counts get one decimal


def _float(x: Any) -> float:
    """``x`` as a float, NaN for None and missing values."""
    return math.nan if x is None or pd.isna(x) else float(x)


def _plain(x: float, kpi: str, style: Style, plus: bool) -> str:
    """A number of a KPI not measured in hours, without its unit."""
    return number(x, decimals(kpi, x, style=style), plus=plus, grouping=style == "table",
                  trim=style == "sentence" and _in_points(kpi))


def _time(hours: float, style: Style, plus: bool) -> str:
    factor, unit, places = time_unit(hours, style=style)
    return f"{number(hours * factor, places, plus=plus, grouping=style == 'table')} {unit}"


def value(x: Any, kpi: str, n: Any = None, plus: bool = False, *, style: Style = "table") -> str:
    """One KPI value in ``style`` (see the module notes).

    Parameters
    ----------
    x : float
        The value (NaN or None = none).
    kpi : str
        Its KPI id (unit and decimals come from the catalogue).
    n : float, optional
        Its ``n`` (tables): a median that is NaN with ``n > 0`` is "not reached".
    plus : bool
        Write a ``+`` before positive numbers (for changes).
    style : {"table", "sentence"}

    Examples
    --------
    >>> value(71.234, "csat_pct"), value(-18.5, "nps"), value(0.0125, "frt_median_h"), value(5172, "tickets")
    ('71.2', '−18.5', '45 s', '5,172')
    >>> value(float("nan"), "ttr_median_h", n=40), value(None, "fcr_pct")
    ('not reached', '–')
    >>> [value(x, k, style="sentence") for x, k in ((62.4, "csat_pct"), (-19.2, "nps"), (5.761, "ces_mean"))]
    ['62%', '−19', '5.76']
    """
    x = _float(x)
    unit = _unit(kpi)
    if style == "sentence":
        if not math.isfinite(x):
            return "not reached" if unit == "h" else "n/a"
        if unit == "h":
            return _time(x, style, plus)
        text = _plain(x, kpi, style, plus or kpi == "nps")
        return text + {"min": " min", "%": "%"}.get(unit, "")
    if math.isnan(x):
        has_data = n is not None and not math.isnan(_float(n)) and float(n) > 0
        return "not reached" if is_median(kpi) and has_data else DASH
    if math.isinf(x):
        return "not reached" if is_median(kpi) else INFINITY
    if unit == "h":
        return _time(x, style, plus)
    return _plain(x, kpi, style, plus)


def with_ci(x: Any, low: Any, high: Any, kpi: str, n: Any = None) -> str:
    """A value with its confidence interval for tables: ``"71.2 [68.1, 74.0]"``, ``"2.4 min [2.2, 2.6]"``.

    The limits use the value's decimals and time unit; a missing upper limit of a median is
    ``∞`` (not reached); without any limit, the value alone.

    Examples
    --------
    >>> with_ci(71.23, 68.07, 74.01, "csat_pct")
    '71.2 [68.1, 74.0]'
    >>> with_ci(0.04, 0.037, 0.044, "frt_median_h"), with_ci(5.2, 4.1, float("nan"), "ttr_median_h")
    ('2.4 min [2.2, 2.6]', '5.2 h [4.1, ∞]')
    """
    text = value(x, kpi, n=n)
    x, lo, hi = _float(x), _float(low), _float(high)
    if not math.isfinite(x) or (math.isnan(lo) and math.isnan(hi)):
        return text
    if _unit(kpi) == "h":
        factor, unit, places = time_unit(x)
        text, suffix = text[: -len(unit) - 1], f" {unit}"
    else:
        factor, places, suffix = 1.0, decimals(kpi, x), ""
    low_text, high_text = (number(v * factor, places, grouping=True) if math.isfinite(v) else None for v in (lo, hi))
    if high_text is None:
        high_text = INFINITY if is_median(kpi) else DASH
    return f"{text}{suffix} [{low_text or DASH}, {high_text}]"


def difference(x: Any, kpi: str, low: Any = None, high: Any = None, plus: bool = True, *,
               style: Style = "table") -> str:
    """A difference of KPI values (a − b): points for percentages (and NPS in sentences), else
    the KPI's unit; tables add the CI ``[low, high]`` when both limits are given.

    Examples
    --------
    >>> difference(24.39, "csat_pct", 17.12, 31.33), difference(-19.64, "frt_median_h")
    ('+24.4 pp [+17.1, +31.3]', '−19.6 h')
    >>> difference(-25.3, "csat_pct", style="sentence"), difference(6.2, "nps", plus=False, style="sentence")
    ('−25 pts', '6.2 pts')
    """
    x = _float(x)
    if math.isnan(x):
        return DASH
    unit = _unit(kpi)
    if unit == "h":
        factor, name, places = time_unit(x, style=style)
        text, suffix = number(x * factor, places, plus=plus, grouping=style == "table"), f" {name}"
    elif style == "sentence":
        suffix = " pts" if _in_points(kpi) else " min" if unit == "min" else ""
        return _plain(x, kpi, style, plus) + suffix
    else:
        factor, places = 1.0, decimals(kpi, x)
        text, suffix = number(x, places, plus=plus, grouping=True), " pp" if unit == "%" else ""
    limits = [_float(v) for v in (low, high)]
    if any(math.isnan(v) for v in limits):
        return text + suffix
    lo, hi = (number(v * factor, places, plus=True, grouping=True) for v in limits)
    return f"{text}{suffix} [{lo}, {hi}]"


def size(x: Any, kpi: str) -> str:
    """An unsigned size of a difference (e.g. the minimum detectable one), in the difference's unit.

    Examples
    --------
    >>> size(9.64, "csat_pct"), size(-0.5, "frt_median_h"), size(None, "nps")
    ('9.6 pp', '30.0 min', '–')
    """
    x = _float(x)
    return DASH if math.isnan(x) else difference(abs(x), kpi, plus=False)


def interval(low: float, high: float, kpi: str, of_difference: bool = False) -> str:
    """``[low, high]`` of a value or a difference in a sentence (units left out for percentages
    and points, each limit rounded on its own); ``""`` when a limit is missing.

    Examples
    --------
    >>> interval(60.2, 65.4, "csat_pct"), interval(-27.1, -23.4, "csat_pct", of_difference=True)
    ('[60, 65]', '[−27, −23]')
    >>> interval(0.0233, 0.0269, "frt_median_h")
    '[1.4 min, 1.6 min]'
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    if _unit(kpi) in ("h", "min"):
        def text(x: float) -> str:
            return difference(x, kpi, style="sentence") if of_difference else value(x, kpi, style="sentence")
    else:
        signed = of_difference or kpi == "nps"

        def text(x: float) -> str:
            return _plain(x, kpi, "sentence", signed)
    return f"[{text(low)}, {text(high)}]"


def change(diff: Any, kpi: str) -> str:
    """A change of a KPI with an arrow for tables: ``"▲ +2.1 pp"``, ``"▼ −25.3 pp"``, ``"= 0.0"``; "–" if unknown.

    Percentages change in percentage points (pp); times in their own unit. A change that rounds
    to zero at the value's precision gets ``=`` rather than an arrow.

    Examples
    --------
    >>> change(-25.34, "csat_pct"), change(0.5, "frt_median_h"), change(0.02, "nps")
    ('▼ −25.3 pp', '▲ +30.0 min', '= 0.0')
    """
    x = _float(diff)
    if math.isnan(x):
        return DASH
    text = value(x, kpi, plus=True) + (" pp" if _unit(kpi) == "%" else "")
    if not text.startswith(("+", MINUS)):  # rounds to zero at the value's precision
        return "= " + text
    return f"{'▲' if x > 0 else '▼'} {text}"


def p_value(p: Any, *, style: Style = "table") -> str:
    """A p-value: below 0.001 "< 0.001", three decimals below 0.1, two above; "–" when missing.

    Examples
    --------
    >>> p_value(1e-9), p_value(0.0123), p_value(0.42), p_value(None)
    ('< 0.001', '0.012', '0.42', '–')
    >>> p_value(2e-9, style="sentence"), p_value(0.0042, style="sentence")
    ('p < 0.001', 'p = 0.004')
    """
    p = _float(p)
    if math.isnan(p):
        return DASH
    text = "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.1 else f"{p:.2f}"
    if style == "table":
        return text
    return "p " + (text if text.startswith("<") else "= " + text)


def effect(size: Any, name: Any) -> str:
    """An effect size with its symbol: ``"h 0.50"``, ``"Cramér's V 0.23"``; "–" when missing.

    Examples
    --------
    >>> effect(0.4959, "cohens_h"), effect(-0.9999, "rank_biserial"), effect(None, None)
    ('h 0.50', 'r −1.00', '–')
    """
    x = _float(size)
    if math.isnan(x) or name is None or pd.isna(name):
        return DASH
    return f"{EFFECT_NAMES.get(str(name), str(name))} {number(x, 2, grouping=True)}"


# ----------------------------------------------------------------------------- dates and names
def month(period: str) -> str:
    """``"2026-10"`` → ``"October 2026"`` (English, whatever the locale).

    Examples
    --------
    >>> month("2026-10")
    'October 2026'
    """
    year, mon = str(period).split("-")
    return f"{MONTHS[int(mon) - 1]} {year}"


def moment(ts: Any) -> str:
    """A timestamp as ``"15 November 2026, 00:00"`` (English, whatever the locale).

    Examples
    --------
    >>> import pandas as pd
    >>> moment(pd.Timestamp("2026-11-05 08:30", tz="Europe/Berlin"))
    '05 November 2026, 08:30'
    """
    return f"{ts.day:02d} {MONTHS[ts.month - 1]} {ts.year}, {ts.hour:02d}:{ts.minute:02d}"


def title(kpi: str) -> str:
    """A KPI's catalogue title.

    Examples
    --------
    >>> title("fcr_pct")
    'First contact resolution'
    """
    return get_kpi(kpi).title


def label(kpi: str, *, style: Style = "table") -> str:
    """A KPI's name: in tables its title and unit (times carry their unit in the cells), in
    sentences a short name (the title when there is none). Costs carry the dataset's currency
    (:func:`set_currency`), or no unit when it has none.

    Examples
    --------
    >>> label("csat_pct"), label("frt_median_h"), label("cpi")
    ('CSAT (top two) [%]', 'First response time, median', 'Cost per interaction')
    >>> label("csat_pct", style="sentence"), label("crr_pct", style="sentence")
    ('CSAT', 'Customer retention rate')
    """
    k = get_kpi(kpi)
    if style == "sentence":
        return SHORT_LABELS.get(kpi) or k.title
    unit = unit_label(kpi)
    return k.title if k.unit == "h" or unit is None else f"{k.title} [{unit}]"


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case (the rest untouched: channel names keep their case).

    Examples
    --------
    >>> sentence("chat answers fastest"), sentence("iOS app")
    ('Chat answers fastest', 'IOS app')
    """
    return text[:1].upper() + text[1:]


def hazard_ratio(x: float) -> str:
    """A hazard ratio in a sentence: two decimals below 10.

    Examples
    --------
    >>> hazard_ratio(0.9), hazard_ratio(58.9)
    ('0.90', '59')
    """
    return f"{x:.0f}" if x >= 10 else f"{x:.2f}"


def percent(conf: float) -> str:
    """A confidence level in per cent, with the decimals it needs not to read 100 %.

    Examples
    --------
    >>> percent(0.95), percent(1 - 0.0366), percent(1 - 0.00037)
    ('95%', '96.3%', '99.96%')
    """
    x = 100 * conf
    if x == round(x):
        return f"{x:.0f}%"
    places = 1
    while round(x, places) >= 100 and places < 8:
        places += 1
    return f"{x:.{places}f}%"
