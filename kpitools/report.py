"""Display helpers for the report notebooks: KPI tables, the target scorecard, escaped text.

Everything shown here is escaped: a channel, topic or KPI value that reads
``<script>alert(1)</script>`` appears as that text in JupyterLab and in the HTML reports.
(pandas' ``Styler`` does not escape by default; :func:`table` always asks it to.) Each display
object renders as HTML in a notebook and as plain text elsewhere, and both renderings are
deterministic — no random element ids, no memory addresses — so the stored notebook outputs
can be compared by nbval.

Numbers follow one convention: percentages with one decimal, NPS with one, mean scores with
two, handle times in minutes with one, costs with two, counts whole; times (unit ``h``) in
seconds, minutes or hours by size, the unit written after the value, e.g. ``"2.4 min [2.2,
2.6]"``. A Kaplan–Meier median that is not reached reads "not reached", an open CI limit
``∞``; a missing value "–". Negative numbers use the minus sign (U+2212).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .catalog import get as get_kpi
from .safety import escape_html

MINUS = "\u2212"
DASH = "\u2013"
ALL = "all"
GROUPS = ("voice", "text")
TREND_MONTHS = 13

GOOD = "#1a7f37"
BAD = "#b3261e"
NEUTRAL = "#57606a"

_DECIMALS = {"%": 1, "min": 1, "currency": 2, "tickets/customer": 2}
_TABLE_STYLES = [
    {"selector": "", "props": "border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.5em 0;"},
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: 600; padding: 4px 0;"},
    {"selector": "th.row_heading", "props": "white-space: nowrap;"},
    {"selector": "th", "props": "text-align: left; padding: 4px 10px; border-bottom: 1px solid #d0d7de;"},
    {"selector": "td", "props": "padding: 4px 10px; border-bottom: 1px solid #eaeef2;"},
]


# ----------------------------------------------------------------------------- display objects
class Table:
    """A table for notebooks: escaped HTML in JupyterLab and reports, plain text in a terminal.

    Attributes
    ----------
    frame : DataFrame
        The displayed text, cell by cell.
    html : str
        The escaped HTML.
    caption : str or None
        The caption, also the first line of the plain text.
    """

    def __init__(self, frame: pd.DataFrame, html: str, caption: str | None = None):
        self.frame = frame
        self.html = html
        self.caption = caption

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        body = self.frame.to_string()
        return f"{self.caption}\n{body}" if self.caption else body


class Text:
    """Escaped narrative computed from the data: a paragraph, or a list of items."""

    def __init__(self, items: Sequence[str], ordered: bool | None = None):
        self.items = [str(i) for i in items]
        self.ordered = ordered

    def _repr_html_(self) -> str:
        if self.ordered is None:
            return "".join(f"<p>{escape_html(i)}</p>" for i in self.items)
        tag = "ol" if self.ordered else "ul"
        return f"<{tag}>" + "".join(f"<li>{escape_html(i)}</li>" for i in self.items) + f"</{tag}>"

    def __repr__(self) -> str:
        if self.ordered is None:
            return "\n".join(self.items)
        return "\n".join(f"{k + 1}. {i}" if self.ordered else f"- {i}" for k, i in enumerate(self.items))


def say(text: str) -> Text:
    """A paragraph of text built from the data, escaped when shown.

    Examples
    --------
    >>> say("<b>chat</b> is fastest")._repr_html_()
    '<p>&lt;b&gt;chat&lt;/b&gt; is fastest</p>'
    """
    return Text([text])


def bullets(items: Iterable[str], ordered: bool = False) -> Text:
    """A list of statements (numbered when ``ordered``), escaped when shown.

    Examples
    --------
    >>> bullets(["a < b", "c"], ordered=True)
    1. a < b
    2. c
    """
    return Text(list(items), ordered=ordered)


def _minus(text: str) -> str:
    """A formatted number with the minus sign (U+2212) instead of a hyphen."""
    return MINUS + text[1:] if text.startswith("-") else text


def table(frame: pd.DataFrame, caption: str | None = None, index: bool = False,
          styles: pd.DataFrame | None = None, formats: dict[str, str] | None = None,
          right: Sequence[str] | None = None, wrap: bool = False) -> Table:
    """Any DataFrame as an escaped :class:`Table` (cells, index, column names and caption).

    Parameters
    ----------
    frame : DataFrame
        What to show (values are shown as ``str()`` of them; format numbers first).
    caption : str, optional
        A caption above the table.
    index : bool
        Show the index as row headers.
    styles : DataFrame, optional
        CSS declarations per cell (same shape and labels as ``frame``; "" for none).
    formats : dict, optional
        Column -> ``str.format`` pattern for its non-missing values (``{"rows": "{:,}"}``).
    right : sequence of str, optional
        Columns to right-align (default: the numeric ones); the others are left-aligned.
    wrap : bool
        Let right-aligned cells wrap at spaces (by default they stay on one line; use
        non-breaking spaces to keep parts of a wrapping cell together).

    Returns
    -------
    Table

    Examples
    --------
    >>> t = table(pd.DataFrame({"topic": ["<script>alert(1)</script>"], "tickets": [3]}))
    >>> "<script>" in t.html, "&lt;script&gt;alert(1)&lt;/script&gt;" in t.html
    (False, True)
    """
    numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    shown = frame.copy()
    for column, pattern in (formats or {}).items():
        shown[column] = [_minus(pattern.format(v)) if not pd.isna(v) else "" for v in frame[column]]
    shown = shown.astype(object).where(shown.notna(), "")
    shown = shown.map(str)
    shown.columns = [str(c) for c in shown.columns]
    right = [str(c) for c in (right if right is not None else numeric)]
    aligned = pd.DataFrame("text-align: left", index=shown.index, columns=shown.columns)
    for column in right:
        aligned[column] = "text-align: right" + ("" if wrap else "; white-space: nowrap")
    if index:
        shown.index = [str(i) for i in shown.index]
    key = f"{caption}|{shown.to_json(orient='split')}".encode("utf-8")
    styler = shown.style.set_uuid(f"kt{zlib.crc32(key):08x}")
    styler = styler.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    headers = [{"selector": f"th.col_heading.col{j}", "props": "text-align: right;"}
               for j, c in enumerate(shown.columns) if c in right]
    styler = styler.set_table_styles(_TABLE_STYLES + headers)
    css = aligned
    if styles is not None:
        extra = styles.fillna("").astype(str)
        extra.columns, extra.index = shown.columns, shown.index
        css = (aligned + "; " + extra).where(extra != "", aligned).map(lambda c: c.strip("; "))
    styler = styler.apply(lambda _: css, axis=None)
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(escape_html(caption))
    return Table(shown if index else shown.reset_index(drop=True), styler.to_html(), caption)


# ----------------------------------------------------------------------------- numbers in words
def _signed(x: float, decimals: int, plus: bool = False) -> str:
    text = f"{abs(x):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return text
    return (MINUS if x < 0 else "+" if plus else "") + text


def _time_unit(hours: float) -> tuple[float, str, int]:
    """(factor, unit, decimals) to write ``hours``: seconds under a minute, minutes under an hour."""
    size = abs(hours)
    if size < 1 / 60:
        return 3600.0, "s", 0
    if size < 1:
        return 60.0, "min", 1
    return 1.0, "h", 1 if size < 100 else 0


def is_median(kpi: str) -> bool:
    """Whether ``kpi`` is a Kaplan–Meier median (NaN with data = "not reached").

    Examples
    --------
    >>> is_median("frt_bh_median_h"), is_median("frt_mean_h")
    (True, False)
    """
    return kpi.endswith("_median_h")


def _decimals(kpi: str, x: float) -> int:
    unit = get_kpi(kpi).unit
    if unit in _DECIMALS:
        return _DECIMALS[unit]
    if unit == "score":
        return 1 if kpi == "nps" else 2
    return 0 if float(x).is_integer() else 1  # counts; means of counts get one decimal


def format_value(value: Any, kpi: str, n: Any = None, plus: bool = False) -> str:
    """One KPI value as the report writes it (see the module notes).

    Parameters
    ----------
    value : float
        The value (NaN = none).
    kpi : str
        Its KPI id (unit and decimals come from the catalogue).
    n : float, optional
        Its ``n``: a median that is NaN with ``n > 0`` is "not reached".
    plus : bool
        Write a ``+`` before positive numbers (for changes).

    Examples
    --------
    >>> format_value(71.234, "csat_pct"), format_value(-18.5, "nps"), format_value(0.0125, "frt_median_h")
    ('71.2', '−18.5', '45 s')
    >>> format_value(float("nan"), "ttr_median_h", n=40), format_value(None, "fcr_pct"), format_value(5172, "tickets")
    ('not reached', '–', '5,172')
    """
    x = float(value) if value is not None and not pd.isna(value) else math.nan
    if math.isnan(x):
        return "not reached" if is_median(kpi) and n is not None and not pd.isna(n) and n > 0 else DASH
    if math.isinf(x):
        return "not reached" if is_median(kpi) else "\u221e"
    if get_kpi(kpi).unit == "h":
        factor, unit, decimals = _time_unit(x)
        return f"{_signed(x * factor, decimals, plus)} {unit}"
    return _signed(x, _decimals(kpi, x), plus)


def format_ci(value: Any, low: Any, high: Any, kpi: str, n: Any = None) -> str:
    """A value with its confidence interval: ``"71.2 [68.1, 74.0]"``, ``"2.4 min [2.2, 2.6]"``.

    The limits use the value's decimals and time unit; a missing upper limit of a median is
    ``∞`` (not reached); without any limit, the value alone.

    Examples
    --------
    >>> format_ci(71.23, 68.07, 74.01, "csat_pct")
    '71.2 [68.1, 74.0]'
    >>> format_ci(0.04, 0.037, 0.044, "frt_median_h"), format_ci(5.2, 4.1, float("nan"), "ttr_median_h")
    ('2.4 min [2.2, 2.6]', '5.2 h [4.1, ∞]')
    """
    text = format_value(value, kpi, n)
    x = float(value) if value is not None and not pd.isna(value) else math.nan
    lo, hi = (float(v) if v is not None and not pd.isna(v) else math.nan for v in (low, high))
    if not math.isfinite(x) or (math.isnan(lo) and math.isnan(hi)):
        return text
    if get_kpi(kpi).unit == "h":
        factor, unit, decimals = _time_unit(x)
        limits = [(_signed(v * factor, decimals) if math.isfinite(v) else None) for v in (lo, hi)]
        number = text[: -len(unit) - 1]
        suffix = f" {unit}"
    else:
        decimals = _decimals(kpi, x)
        limits = [(_signed(v, decimals) if math.isfinite(v) else None) for v in (lo, hi)]
        number, suffix = text, ""
    low_text = limits[0] if limits[0] is not None else DASH
    high_text = limits[1] if limits[1] is not None else ("\u221e" if is_median(kpi) else DASH)
    return f"{number}{suffix} [{low_text}, {high_text}]"


def format_change(diff: Any, kpi: str) -> str:
    """A change of a KPI with an arrow: ``"▲ +2.1 pp"``, ``"▼ −25.3 pp"``, ``"= 0.0"``; "–" if unknown.

    Percentages change in percentage points (pp); times in their own unit. A change that rounds
    to zero at the value's precision gets ``=`` rather than an arrow.

    Examples
    --------
    >>> format_change(-25.34, "csat_pct"), format_change(0.5, "frt_median_h"), format_change(0.02, "nps")
    ('▼ −25.3 pp', '▲ +30.0 min', '= 0.0')
    """
    if diff is None or pd.isna(diff):
        return DASH
    x = float(diff)
    text = format_value(x, kpi, plus=True)
    if not text.startswith(("+", MINUS)):  # rounds to zero at the value's precision
        return "= " + text + (" pp" if get_kpi(kpi).unit == "%" else "")
    arrow = "\u25b2" if x > 0 else "\u25bc"
    if get_kpi(kpi).unit == "%":
        text += " pp"
    return f"{arrow} {text}"


def kpi_title(kpi: str) -> str:
    """A KPI's catalogue title.

    Examples
    --------
    >>> kpi_title("fcr_pct")
    'First contact resolution'
    """
    return get_kpi(kpi).title


def kpi_label(kpi: str) -> str:
    """Row label of a KPI: its catalogue title and unit (times carry their unit in the cells).

    Examples
    --------
    >>> kpi_label("csat_pct"), kpi_label("frt_median_h")
    ('CSAT (top two) [%]', 'First response time, median')
    """
    k = get_kpi(kpi)
    return k.title if k.unit == "h" else f"{k.title} [{k.unit}]"


# ----------------------------------------------------------------------------- picking values
def latest(kpis: pd.DataFrame) -> str:
    """The latest period of a KPI table."""
    return str(kpis["period"].astype(str).max())


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


def read_kpis(ds: Any, period: str, kpis_path: str = "", months: int = TREND_MONTHS) -> pd.DataFrame:
    """The KPI table of a report: ``kpis_path`` (a run's Parquet) when given, else computed.

    Computed, it is :func:`kpitools.kpis` for ``period`` and the ``months − 1`` months before
    it, in one pass — what a monthly run precomputes once for every notebook.
    """
    if kpis_path:
        return pd.read_parquet(kpis_path)
    from .engine import kpis

    return kpis(ds, period=trend_range(period, months))


def trend_range(period: str, months: int = TREND_MONTHS) -> str:
    """The ``months`` months ending with ``period`` as a range ``kt.kpis`` takes.

    Examples
    --------
    >>> trend_range("2026-10")
    '2025-10:2026-10'
    """
    end = pd.Period(period, freq="M")
    return f"{end - (months - 1)}:{end}"


def previous(period: str, months: int = 1) -> str:
    """The month ``months`` before ``period``.

    Examples
    --------
    >>> previous("2026-01"), previous("2026-10", 12)
    ('2025-12', '2025-10')
    """
    return str(pd.Period(period, freq="M") - months)


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case (the rest untouched: channel names keep their case).

    Examples
    --------
    >>> sentence("chat answers fastest"), sentence("iOS app")
    ('Chat answers fastest', 'IOS app')
    """
    return text[:1].upper() + text[1:]


def target(ds: Any, kpi: str, channel: str = ALL) -> float | None:
    """The target of a KPI for a channel: its own ``targets`` row, else the row with an empty channel.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ds = SimpleNamespace(targets=pd.DataFrame({"kpi": ["csat_pct"] * 2, "target": [80.0, 70.0],
    ...                                            "channel": [None, "phone"]}))
    >>> target(ds, "csat_pct"), target(ds, "csat_pct", "phone"), target(ds, "nps")
    (80.0, 70.0, None)
    """
    t = ds.targets
    if t is None or t.empty:
        return None
    rows = t.loc[t["kpi"] == kpi]
    channel_col = rows["channel"] if "channel" in rows else pd.Series(pd.NA, index=rows.index)
    for mine in (channel_col == channel, channel_col.isna()):
        found = rows.loc[mine.fillna(False).to_numpy(bool), "target"]
        if len(found):
            return float(found.iloc[0])
    return None


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


def month_name(period: str) -> str:
    """``"2026-10"`` → ``"October 2026"``.

    Examples
    --------
    >>> month_name("2026-10")
    'October 2026'
    """
    return pd.Period(period, freq="M").strftime("%B %Y")


# ----------------------------------------------------------------------------- tables
def _channel_columns(present: Iterable[str], channels: Sequence[str] | None, groups: bool) -> list[str]:
    seen = set(present)
    names = [c for c in (channels if channels is not None else sorted(seen)) if c in seen and c not in (*GROUPS, ALL)]
    extra = [g for g in GROUPS if groups and g in seen]
    return names + extra + ([ALL] if ALL in seen else [])


def kpi_table(kpis: pd.DataFrame, ids: Sequence[str], period: str | None = None,
              channels: Sequence[str] | None = None, groups: bool = False, n: bool = False,
              caption: str | None = None, transpose: bool = False) -> Table:
    """KPIs × channels for one period, each cell the value and its CI, labels from the catalogue.

    Parameters
    ----------
    kpis : DataFrame
        Tidy KPI table (``kt.kpis`` or a run's ``kpis_path``).
    ids : sequence of str
        KPI ids, in row order (ids absent from ``kpis`` are left out).
    period : str, optional
        Default the latest period in ``kpis``.
    channels : sequence of str, optional
        Channel columns in this order (default every channel, sorted; ``[]`` for ``all`` only);
        ``all`` comes last.
    groups : bool
        Also show the ``voice`` and ``text`` columns.
    n : bool
        Append each cell's ``n`` (the cell may wrap before it).
    caption : str, optional
        Caption above the table.
    transpose : bool
        Channels as rows and KPIs as columns (narrower when there are few KPIs and many channels).

    Returns
    -------
    Table
        A KPI not written for a channel (customer KPIs are ``all`` only) leaves the cell empty.

    Examples
    --------
    >>> kp = pd.DataFrame({"period": "2026-10", "channel": ["chat", "all"], "kpi": "csat_pct",
    ...                    "value": [80.0, 75.5], "n": [100.0, 200.0], "ci_low": [71.1, 69.0], "ci_high": [86.7, 81.0]})
    >>> kpi_table(kp, ["csat_pct"])
                                   chat                all
    CSAT (top two) [%]  80.0 [71.1, 86.7]  75.5 [69.0, 81.0]
    """
    period = period or latest(kpis)
    rows = kpis.loc[(kpis["period"].astype(str) == str(period)) & kpis["kpi"].isin(list(ids))].copy()
    rows["channel"] = rows["channel"].astype(str)
    columns = _channel_columns(rows["channel"], channels, groups)
    rows = rows.loc[rows["channel"].isin(columns)]
    text = [format_ci(v, lo, hi, k, m) for v, lo, hi, k, m in
            zip(rows["value"], rows["ci_low"], rows["ci_high"], rows["kpi"], rows["n"])]
    if n:  # the cell may wrap between the value and its n, never inside either
        nbsp = "\u00a0"
        text = [t.replace(" ", nbsp) + ("" if pd.isna(m) else f" n{nbsp}={nbsp}{m:,.0f}")
                for t, m in zip(text, rows["n"])]
    cells = pd.DataFrame({"kpi": rows["kpi"].to_numpy(), "channel": rows["channel"].to_numpy(), "text": text})
    order = [k for k in ids if k in set(cells["kpi"])]
    wide = (cells.pivot(index="kpi", columns="channel", values="text")
            .reindex(index=order, columns=columns).fillna(""))
    wide.index = [kpi_label(k) for k in wide.index]
    wide.columns.name = None
    if transpose:
        wide = wide.T
    return table(wide, caption=caption, index=True, right=list(wide.columns), wrap=n)


_STATUS_TEXT = {"met": "\u2714 met", "missed": "\u2718 missed", "no data": "no data", "n/a": "n/a"}
_STATUS_CSS = {"met": f"color: {GOOD}; font-weight: 600", "missed": f"color: {BAD}; font-weight: 600"}


def _better(diff: np.ndarray, direction: pd.Series) -> list[bool | None]:
    higher = (direction == "higher").to_numpy()
    lower = (direction == "lower").to_numpy()
    out: list[bool | None] = []
    for d, h, lo in zip(diff, higher, lower):  # one per scorecard row
        if np.isnan(d) or d == 0 or not (h or lo):
            out.append(None)
        else:
            out.append(bool(d > 0) == bool(h))
    return out


def scorecard(kpis: pd.DataFrame, ds: Any, period: str | None = None,
              channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Targets met or missed in a period, with the change since last month and last year.

    Parameters
    ----------
    kpis : DataFrame
        Tidy KPI table holding the period and, for the changes, the month and the year before.
    ds : Dataset
        Its ``targets`` table (see :func:`kpitools.targets_scorecard`).
    period : str, optional
        Default the latest period in ``kpis``.
    channels : sequence of str, optional
        Only these channels (``all`` is always kept).

    Returns
    -------
    DataFrame
        ``kpi, channel, value, target, status, direction, value_last_month, value_last_year,
        change_month, change_year, better_month, better_year``: status ``met``/``missed``/
        ``no data``/``n/a``; changes are value − earlier value (NaN when unknown); ``better_*``
        says whether the change is an improvement by the KPI's direction (None for no change,
        no direction or unknown). Rows in catalogue order, ``all`` first within a KPI.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> kp = pd.DataFrame({"period": ["2025-10", "2026-09", "2026-10"], "channel": "all", "kpi": "fcr_pct",
    ...                    "value": [60.0, 75.0, 72.0]})
    >>> ds = SimpleNamespace(targets=pd.DataFrame({"kpi": ["fcr_pct"], "target": [70.0], "channel": [None]}))
    >>> scorecard(kp, ds)[["status", "change_month", "better_month", "change_year", "better_year"]].values.tolist()
    [['met', -3.0, False, 12.0, True]]
    """
    from .targets import targets_scorecard

    period = period or latest(kpis)
    current = kpis.loc[kpis["period"].astype(str) == str(period)]
    card = targets_scorecard(current, ds)
    card = card.loc[card["period"].astype(str) == str(period)] if len(card) else card
    if channels:
        card = card.loc[card["channel"].isin([*channels, ALL])]
    out = card.loc[:, ["kpi", "channel", "value", "target", "status", "direction"]].reset_index(drop=True)
    return _order(_with_changes(out, kpis, str(period)))


def _with_changes(out: pd.DataFrame, kpis: pd.DataFrame, period: str) -> pd.DataFrame:
    """Add the values a month and a year before, the changes, and whether they are improvements."""
    values = kpis.assign(period=kpis["period"].astype(str), channel=kpis["channel"].astype(str))
    values = values.set_index(["period", "kpi", "channel"])["value"]
    values = values[~values.index.duplicated()]

    def before(months: int) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([[previous(period, months)] * len(out), out["kpi"], out["channel"]])
        return values.reindex(keys).to_numpy(dtype=float)

    out = out.copy()
    out["value_last_month"] = before(1)
    out["value_last_year"] = before(12)
    out["change_month"] = out["value"].astype(float) - out["value_last_month"]
    out["change_year"] = out["value"].astype(float) - out["value_last_year"]
    out["better_month"] = _better(out["change_month"].to_numpy(), out["direction"])
    out["better_year"] = _better(out["change_year"].to_numpy(), out["direction"])
    return out


def _order(out: pd.DataFrame) -> pd.DataFrame:
    """Catalogue order of the KPIs, ``all`` first within a KPI, then channels by name."""
    from .catalog import ids as catalog_ids

    order = {k: i for i, k in enumerate(catalog_ids())}
    out = out.assign(_k=out["kpi"].map(order), _c=out["channel"] != ALL)
    return out.sort_values(["_k", "_c", "channel"], kind="stable").drop(columns=["_k", "_c"]).reset_index(drop=True)


def headline(kpis: pd.DataFrame, ids: Sequence[str], period: str | None = None, channel: str = ALL) -> pd.DataFrame:
    """Headline KPIs of one channel with their CI and the change since last month and last year.

    Returns
    -------
    DataFrame
        ``kpi, channel, value, n, ci_low, ci_high, direction`` and the change columns of
        :func:`scorecard`, in the order of ``ids`` (ids without a row in the period left out).

    Examples
    --------
    >>> kp = pd.DataFrame({"period": ["2026-09", "2026-10"], "channel": "all", "kpi": "nps",
    ...                    "value": [31.0, -19.0], "n": 500.0, "ci_low": None, "ci_high": None})
    >>> headline(kp, ["nps", "csat_pct"])[["kpi", "value", "change_month", "better_month"]].values.tolist()
    [['nps', -19.0, -50.0, False]]
    """
    period = str(period or latest(kpis))
    rows = kpis.loc[(kpis["period"].astype(str) == period) & (kpis["channel"].astype(str) == channel)
                    & kpis["kpi"].isin(list(ids))]
    rows = rows.set_index("kpi").reindex([k for k in ids if k in set(rows["kpi"])]).reset_index()
    out = rows.loc[:, ["kpi", "channel", "value", "n", "ci_low", "ci_high"]].copy()
    out["direction"] = [get_kpi(k).direction for k in out["kpi"]]
    return _with_changes(out, kpis, period)


def headline_table(card: pd.DataFrame, caption: str | None = None) -> Table:
    """:func:`headline` as an escaped table: KPI, value [CI] and coloured arrows of change.

    Examples
    --------
    >>> card = pd.DataFrame({"kpi": ["nps"], "value": [-19.0], "n": [500.0], "ci_low": [-25.0], "ci_high": [-12.0],
    ...                      "change_month": [-50.0], "change_year": [float("nan")], "better_month": [False],
    ...                      "better_year": [None]})
    >>> headline_table(card).frame.iloc[0].tolist()
    ['Net Promoter Score [score]', '−19.0 [−25.0, −12.0]', '▼ −50.0', '–']
    """
    frame = pd.DataFrame({
        "KPI": [kpi_label(k) for k in card["kpi"]],
        "value [95 % CI]": [format_ci(v, lo, hi, k, n) for v, lo, hi, k, n in
                            zip(card["value"], card["ci_low"], card["ci_high"], card["kpi"], card["n"])],
        "vs last month": [format_change(d, k) for d, k in zip(card["change_month"], card["kpi"])],
        "vs last year": [format_change(d, k) for d, k in zip(card["change_year"], card["kpi"])],
    })
    return table(frame, caption=caption, styles=_change_styles(frame, card),
                 right=["value [95 % CI]", "vs last month", "vs last year"])


def _change_styles(frame: pd.DataFrame, card: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for column, better in (("vs last month", "better_month"), ("vs last year", "better_year")):
        styles[column] = [_change_css(None if text.startswith(("=", DASH)) else b)
                          for text, b in zip(frame[column], card[better])]
    return styles


def _change_css(better: Any) -> str:
    if better is None or (isinstance(better, float) and math.isnan(better)):
        return f"color: {NEUTRAL}"
    return f"color: {GOOD if better else BAD}"


def scorecard_table(card: pd.DataFrame, caption: str | None = None) -> Table:
    """The :func:`scorecard` as an escaped table: met in green, missed in red, arrows for changes.

    An arrow gives the direction of the change (▲ up, ▼ down), its colour whether that is an
    improvement (green) or not (red) by the KPI's direction; it says nothing about significance.

    Examples
    --------
    >>> card = pd.DataFrame({"kpi": ["fcr_pct"], "channel": ["all"], "value": [72.0], "target": [70.0],
    ...                      "status": ["met"], "change_month": [-3.0], "change_year": [12.0],
    ...                      "better_month": [False], "better_year": [True]})
    >>> scorecard_table(card)
                                KPI channel value target status vs last month vs last year
    0  First contact resolution [%]     all  72.0   70.0  ✔ met    ▼ −3.0 pp   ▲ +12.0 pp
    """
    frame = pd.DataFrame({
        "KPI": [kpi_label(k) for k in card["kpi"]],
        "channel": card["channel"].astype(str).to_numpy(),
        "value": [format_value(v, k) for v, k in zip(card["value"], card["kpi"])],
        "target": [format_value(v, k) for v, k in zip(card["target"], card["kpi"])],
        "status": [_STATUS_TEXT.get(s, str(s)) for s in card["status"]],
        "vs last month": [format_change(d, k) for d, k in zip(card["change_month"], card["kpi"])],
        "vs last year": [format_change(d, k) for d, k in zip(card["change_year"], card["kpi"])],
    })
    styles = _change_styles(frame, card)
    styles["status"] = [_STATUS_CSS.get(s, f"color: {NEUTRAL}") for s in card["status"]]
    return table(frame, caption=caption, styles=styles, right=["value", "target", "vs last month", "vs last year"])


# ----------------------------------------------------------------------------- comparisons
EFFECT_NAMES = {"cramers_v": "Cramér's V", "cohens_h": "h", "cohens_d": "d", "epsilon_squared": "\u03b5\u00b2",
                "rank_biserial": "r"}


def format_p(p: Any) -> str:
    """A p-value: ``"< 0.001"``, three decimals below 0.1, two above; "–" when missing.

    Examples
    --------
    >>> format_p(1e-9), format_p(0.0123), format_p(0.42), format_p(None)
    ('< 0.001', '0.012', '0.42', '–')
    """
    if p is None or pd.isna(p):
        return DASH
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def format_effect(size: Any, name: Any) -> str:
    """An effect size with its symbol: ``"h 0.50"``, ``"Cramér's V 0.23"``; "–" when missing.

    Examples
    --------
    >>> format_effect(0.4959, "cohens_h"), format_effect(-0.9999, "rank_biserial"), format_effect(None, None)
    ('h 0.50', 'r −1.00', '–')
    """
    if size is None or pd.isna(size) or name is None or pd.isna(name):
        return DASH
    return f"{EFFECT_NAMES.get(str(name), str(name))} {_signed(float(size), 2)}"


def format_diff(diff: Any, low: Any, high: Any, kpi: str) -> str:
    """A difference (a − b) with its CI, in points for percentages and NPS, else the KPI's unit.

    Examples
    --------
    >>> format_diff(24.39, 17.12, 31.33, "csat_pct"), format_diff(-19.64, None, None, "frt_median_h")
    ('+24.4 pp [+17.1, +31.3]', '−19.6 h')
    """
    if diff is None or pd.isna(diff):
        return DASH
    x = float(diff)
    unit = get_kpi(kpi).unit
    if unit == "h":
        factor, name, decimals = _time_unit(x)
        text, suffix = _signed(x * factor, decimals, plus=True), f" {name}"
    else:
        factor, decimals = 1.0, _decimals(kpi, x)
        text, suffix = _signed(x, decimals, plus=True), " pp" if unit == "%" else ""
    limits = [v for v in (low, high) if v is not None and not pd.isna(v)]
    if len(limits) < 2:
        return text + suffix
    lo, hi = (_signed(float(v) * factor, decimals, plus=True) for v in limits)
    return f"{text}{suffix} [{lo}, {hi}]"


def _size(x: Any, kpi: str) -> str:
    """An unsigned size of a difference (the minimum detectable one), in the difference's unit."""
    if x is None or pd.isna(x):
        return DASH
    text = format_diff(abs(float(x)), None, None, kpi)
    return text[1:] if text.startswith("+") else text


def omnibus_table(results: dict[str, pd.DataFrame], caption: str | None = None) -> Table:
    """One row per KPI of ``kt.compare_channels`` results: the k-group test, its effect size, the
    verdict and how many channel pairs differ after adjustment.

    Parameters
    ----------
    results : dict
        KPI id -> the ``kt.compare_channels`` DataFrame of that KPI.
    caption : str, optional
        Caption above the table.

    Examples
    --------
    >>> res = pd.DataFrame({"comparison": ["omnibus", "pair"], "test": ["chi2", "z"], "statistic": [61.7, 6.5],
    ...                     "p": [1e-12, 1e-9], "effect_size": [0.23, 0.5], "effect_name": ["cramers_v", "cohens_h"],
    ...                     "verdict": ["difference", "higher"], "reason": [None, None]})
    >>> omnibus_table({"csat_pct": res}).frame.iloc[0].tolist()
    ['CSAT (top two) [%]', 'chi2', '61.7', '< 0.001', "Cramér's V 0.23", 'difference', '1 of 1']
    """
    rows = []
    for kpi, res in results.items():  # one row per KPI
        omni = res.loc[res["comparison"] == "omnibus"].iloc[0]
        pairs = res.loc[res["comparison"] == "pair"]
        judged = pairs["verdict"].isin(["lower", "higher", "no significant difference"])
        differ = pairs["verdict"].isin(["lower", "higher"])
        verdict = omni["verdict"] + (f" ({omni['reason']})" if isinstance(omni["reason"], str) and omni["reason"]
                                     else "")
        rows.append((kpi_label(kpi), omni["test"],
                     f"{omni['statistic']:.1f}" if not pd.isna(omni["statistic"]) else DASH,
                     format_p(omni["p"]), format_effect(omni["effect_size"], omni["effect_name"]), verdict,
                     f"{int(differ.sum())} of {int(judged.sum())}"))
    frame = pd.DataFrame(rows, columns=["KPI", "test", "statistic", "p", "effect size", "verdict",
                                        "pairs that differ"])
    return table(frame, caption=caption, right=["statistic", "p", "effect size", "pairs that differ"])


def pairs_table(results: dict[str, pd.DataFrame], channels: Sequence[str] | None = None,
                caption: str | None = None) -> Table:
    """Every channel pair of ``kt.compare_channels`` results: both values, the difference with its
    CI, the adjusted p, the effect size, the minimum detectable difference and the verdict (a
    ``KPI`` column first when ``results`` holds several KPIs).

    Parameters
    ----------
    results : dict
        KPI id -> the ``kt.compare_channels`` DataFrame of that KPI.
    channels : sequence of str, optional
        Only pairs of these channels.
    caption : str, optional
        Caption above the table.

    Examples
    --------
    >>> res = pd.DataFrame({"comparison": ["pair"], "group_a": ["chat"], "group_b": ["phone"],
    ...                     "estimate_a": [86.0], "ci_low_a": [84.0], "ci_high_a": [88.0], "n_a": [400.0],
    ...                     "estimate_b": [62.0], "ci_low_b": [58.0], "ci_high_b": [66.0], "n_b": [300.0],
    ...                     "diff": [24.0], "diff_low": [18.0], "diff_high": [30.0], "p_adj": [1e-6],
    ...                     "effect_size": [0.54], "effect_name": ["cohens_h"], "mdd": [9.6],
    ...                     "verdict": ["higher"], "reason": [None]})
    >>> pairs_table({"csat_pct": res}).frame.iloc[0].tolist()
    ['chat − phone', '86.0 [84.0, 88.0]', '62.0 [58.0, 66.0]', '+24.0 pp [+18.0, +30.0]', '< 0.001', 'h 0.54', '9.6 pp', 'higher']
    """
    rows = []
    for kpi, res in results.items():  # one block per KPI
        pairs = res.loc[res["comparison"] == "pair"]
        if channels is not None:
            pairs = pairs.loc[pairs["group_a"].isin(list(channels)) & pairs["group_b"].isin(list(channels))]
        for r in pairs.itertuples():  # a handful of pairs
            verdict = r.verdict + (f" ({r.reason})" if r.verdict == "not enough data" and isinstance(r.reason, str)
                                   else "")
            rows.append((kpi_label(kpi), f"{r.group_a} {MINUS} {r.group_b}",
                         format_ci(r.estimate_a, r.ci_low_a, r.ci_high_a, kpi, r.n_a),
                         format_ci(r.estimate_b, r.ci_low_b, r.ci_high_b, kpi, r.n_b),
                         format_diff(r.diff, r.diff_low, r.diff_high, kpi), format_p(r.p_adj),
                         format_effect(r.effect_size, r.effect_name),
                         _size(r.mdd, kpi), verdict))
    frame = pd.DataFrame(rows, columns=["KPI", "pair (a − b)", "a", "b", "difference [95 % CI]", "p (adjusted)",
                                        "effect size", "detectable", "verdict"])
    if len(results) == 1:  # the caption names the one KPI
        frame = frame.drop(columns="KPI")
    return table(frame, caption=caption, right=["a", "b", "difference [95 % CI]", "p (adjusted)", "effect size",
                                                "detectable"])


def changes_table(results: Sequence[pd.DataFrame] | pd.DataFrame, caption: str | None = None) -> Table:
    """Month-over-month and year-over-year changes of ``kt.changes`` results, one row per KPI ×
    channel × comparison: both values, the change with its CI, the adjusted p and the verdict.

    Examples
    --------
    >>> ch = pd.DataFrame({"kpi": ["csat_pct"], "channel": ["all"], "kind": ["mom"], "compare_to": ["2026-09"],
    ...                    "value": [52.5], "value_before": [77.8], "n": [1140.0], "n_before": [991.0],
    ...                    "diff": [-25.3], "diff_low": [-29.1], "diff_high": [-21.3], "p_adj": [1e-20],
    ...                    "verdict": ["lower"], "improved": [False], "reason": [None], "signal": [True]})
    >>> changes_table(ch).frame.iloc[0].tolist()
    ['CSAT (top two) [%]', 'all', 'vs 2026-09', '77.8', '52.5', '−25.3 pp [−29.1, −21.3]', '< 0.001', 'lower (worse)', 'outside']
    """
    frame = pd.concat(list(results), ignore_index=True) if not isinstance(results, pd.DataFrame) else results
    rows = []
    for r in frame.itertuples():  # a handful of KPIs × channels × two comparisons
        verdict = r.verdict
        if r.verdict in ("lower", "higher") and r.improved is not None and not pd.isna(r.improved):
            verdict += " (better)" if r.improved else " (worse)"
        elif r.verdict == "not enough data" and isinstance(r.reason, str):
            verdict += f" ({r.reason})"
        signal = DASH if r.signal is None or pd.isna(r.signal) else ("outside" if r.signal else "within")
        rows.append((kpi_label(r.kpi), r.channel, f"vs {r.compare_to}", format_value(r.value_before, r.kpi, r.n_before),
                     format_value(r.value, r.kpi, r.n), format_diff(r.diff, r.diff_low, r.diff_high, r.kpi),
                     format_p(r.p_adj), verdict, signal))
    out = pd.DataFrame(rows, columns=["KPI", "channel", "compared", "before", "now", "change [95 % CI]",
                                      "p (adjusted)", "verdict", "Laney p\u2032 limits"])
    styles = pd.DataFrame("", index=out.index, columns=out.columns)
    styles["verdict"] = [f"color: {BAD}" if v.endswith("(worse)") else f"color: {GOOD}" if v.endswith("(better)")
                         else "" for v in out["verdict"]]
    return table(out, caption=caption, styles=styles, right=["before", "now", "change [95 % CI]", "p (adjusted)"])


def log_hours_axis(ax: Any, low: float = 1 / 60, high: float = 24 * 7, label: str = "Time since creation",
                   axis: str = "x") -> Any:
    """Put a time axis in hours on a log scale (default 1 minute to 1 week), with readable ticks.

    Waiting times span seconds (chat) to days (email); on a linear axis the fast channels are a
    vertical line at 0.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> [t.get_text() for t in log_hours_axis(ax).get_xticklabels()]
    ['1 min', '5 min', '15 min', '1 h', '4 h', '1 day', '1 week']
    >>> plt.close(fig)
    """
    ticks = [(1 / 120, "30 s"), (1 / 60, "1 min"), (5 / 60, "5 min"), (0.25, "15 min"), (1.0, "1 h"), (4.0, "4 h"),
             (24.0, "1 day"), (168.0, "1 week"), (24.0 * 30, "30 days")]
    shown = [(t, text) for t, text in ticks if low <= t <= high]
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', not {axis!r}")
    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"set_{axis}lim")(low, high)
    getattr(ax, f"set_{axis}ticks")([t for t, _ in shown], [text for _, text in shown])
    ax.minorticks_off()
    getattr(ax, f"set_{axis}label")(f"{label} (log scale)")
    return ax
