"""Targets met or missed, headline KPIs, and their change since last month and last year."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import coverage
from .. import format as fmt
from ..catalog import get as get_kpi
from ..catalog import ids as catalog_ids
from ..dataset import Dataset
from ..periods import previous
from ..schema import ALL
from ..targets import targets_scorecard
from .display import BAD, GOOD, NEUTRAL, Table, table
from .selection import latest

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
    period = period or latest(kpis)
    current = kpis.loc[kpis["period"].astype(str) == str(period)]
    card = targets_scorecard(current, ds)
    card = card.loc[card["period"].astype(str) == str(period)] if len(card) else card
    if channels:
        card = card.loc[card["channel"].isin([*channels, ALL])]
    out = card.loc[:, ["kpi", "channel", "value", "target", "status", "direction"]].reset_index(drop=True)
    return _order(_with_changes(out, kpis, str(period), ds))


def _with_changes(out: pd.DataFrame, kpis: pd.DataFrame, period: str, ds: Any = None) -> pd.DataFrame:
    """Add the values a month and a year before, the changes, and whether they are improvements.

    With ``ds``, an earlier month that the KPI's tables do not cover (SPEC A15) has no value, and
    ``note_month``/``note_year`` say "no data for <month>" instead of a change from zero."""
    values = kpis.assign(period=kpis["period"].astype(str), channel=kpis["channel"].astype(str))
    values = values.set_index(["period", "kpi", "channel"])["value"]
    values = values[~values.index.duplicated()]

    def before(months: int) -> tuple[np.ndarray, list[str | None]]:
        earlier = previous(period, months)
        keys = pd.MultiIndex.from_arrays([[earlier] * len(out), out["kpi"], out["channel"]])
        found = values.reindex(keys).to_numpy(dtype=float)
        checked = isinstance(ds, Dataset)  # a stand-in with only targets has no dates to check
        notes = [None if not checked or coverage.covers(ds, k, earlier) else coverage.no_data(earlier) for k in out["kpi"]]
        found[[n is not None for n in notes]] = np.nan
        return found, notes

    out = out.copy()
    out["value_last_month"], out["note_month"] = before(1)
    out["value_last_year"], out["note_year"] = before(12)
    out["change_month"] = out["value"].astype(float) - out["value_last_month"]
    out["change_year"] = out["value"].astype(float) - out["value_last_year"]
    out["better_month"] = _better(out["change_month"].to_numpy(), out["direction"])
    out["better_year"] = _better(out["change_year"].to_numpy(), out["direction"])
    return out


def _order(out: pd.DataFrame) -> pd.DataFrame:
    """Catalogue order of the KPIs, ``all`` first within a KPI, then channels by name."""
    order = {k: i for i, k in enumerate(catalog_ids())}
    out = out.assign(_k=out["kpi"].map(order), _c=out["channel"] != ALL)
    return out.sort_values(["_k", "_c", "channel"], kind="stable").drop(columns=["_k", "_c"]).reset_index(drop=True)


def headline(kpis: pd.DataFrame, ids: Sequence[str], period: str | None = None, channel: str = ALL,
             ds: Any = None) -> pd.DataFrame:
    """Headline KPIs of one channel with their CI and the change since last month and last year.

    Returns
    -------
    DataFrame
        ``kpi, channel, value, n, ci_low, ci_high, direction`` and the change columns of
        :func:`scorecard`, in the order of ``ids`` (ids without a row in the period left out);
        with ``ds``, no change against a month the KPI's tables do not cover (SPEC A15).

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
    return _with_changes(out, kpis, period, ds)


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
        "KPI": [fmt.label(k) for k in card["kpi"]],
        "value [95 % CI]": [fmt.with_ci(v, lo, hi, k, n) for v, lo, hi, k, n in
                            zip(card["value"], card["ci_low"], card["ci_high"], card["kpi"], card["n"])],
        "vs last month": _changes(card, "month"),
        "vs last year": _changes(card, "year"),
    })
    return table(frame, caption=caption, styles=_change_styles(frame, card),
                 right=["value [95 % CI]", "vs last month", "vs last year"])


def _changes(card: pd.DataFrame, span: str) -> list[str]:
    """The formatted changes of ``span`` (month or year), or the coverage note where there is one."""
    notes = card[f"note_{span}"] if f"note_{span}" in card else [None] * len(card)
    return [note or fmt.change(d, k) for d, k, note in zip(card[f"change_{span}"], card["kpi"], notes)]


def _change_styles(frame: pd.DataFrame, card: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for column, better in (("vs last month", "better_month"), ("vs last year", "better_year")):
        styles[column] = [_change_css(None if text.startswith(("=", fmt.DASH, "no data")) else b)
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
        "KPI": [fmt.label(k) for k in card["kpi"]],
        "channel": card["channel"].astype(str).to_numpy(),
        "value": [fmt.value(v, k) for v, k in zip(card["value"], card["kpi"])],
        "target": [fmt.value(v, k) for v, k in zip(card["target"], card["kpi"])],
        "status": [_STATUS_TEXT.get(s, str(s)) for s in card["status"]],
        "vs last month": _changes(card, "month"),
        "vs last year": _changes(card, "year"),
    })
    styles = _change_styles(frame, card)
    styles["status"] = [_STATUS_CSS.get(s, f"color: {NEUTRAL}") for s in card["status"]]
    return table(frame, caption=caption, styles=styles, right=["value", "target", "vs last month", "vs last year"])
