"""Report tables: KPIs × channels, and the results of ``kt.compare_channels`` and ``kt.changes``.

Cells follow the ``"table"`` style of :mod:`kpitools.format`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from .. import format as fmt
from ..schema import ALL, GROUPS
from .display import BAD, GOOD, Table, table
from .selection import latest


#: Channel columns a KPI table shows at most (the largest by volume): with thousands of channels a
#: table of every one is unreadable and slow to render; kpis.csv holds them all.
TOP_CHANNELS = 8


def largest_channels(kpis: pd.DataFrame, names: Sequence[str], top: int) -> list[str]:
    """The ``top`` channels of ``names`` with the most tickets in ``kpis`` (one period), or, without
    a ticket count, the largest ``n``; in the order of ``names``.

    Examples
    --------
    >>> kp = pd.DataFrame({"channel": ["a", "b", "c"], "kpi": "tickets", "value": [5.0, 50.0, 20.0], "n": 1.0})
    >>> largest_channels(kp, ["a", "b", "c"], 2)
    ['b', 'c']
    """
    tickets = kpis.loc[kpis["kpi"] == "tickets"]
    volume = (tickets.groupby("channel")["value"].max() if len(tickets) else kpis.groupby("channel")["n"].max())
    volume = volume.reindex(list(names)).fillna(-1.0)
    keep = set(volume.sort_values(ascending=False, kind="stable").index[:top])
    return [c for c in names if c in keep]


def _channel_columns(present: Iterable[str], channels: Sequence[str] | None, groups: bool) -> list[str]:
    seen = set(present)
    names = [c for c in (channels if channels is not None else sorted(seen)) if c in seen and c not in (*GROUPS, ALL)]
    extra = [g for g in GROUPS if groups and g in seen]
    # all first: with many channels the table scrolls sideways and all stays in view
    return ([ALL] if ALL in seen else []) + extra + names


def kpi_table(kpis: pd.DataFrame, ids: Sequence[str], period: str | None = None,
              channels: Sequence[str] | None = None, groups: bool = False, n: bool = False,
              caption: str | None = None, transpose: bool = False, top: int | None = TOP_CHANNELS) -> Table:
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
    top : int or None
        Show at most this many channels, the largest by tickets (:func:`largest_channels`); the
        caption says how many more are in kpis.csv. ``None``: every channel.

    Returns
    -------
    Table
        A KPI not written for a channel (customer KPIs are ``all`` only) leaves the cell empty.

    Examples
    --------
    >>> kp = pd.DataFrame({"period": "2026-10", "channel": ["chat", "all"], "kpi": "csat_pct",
    ...                    "value": [80.0, 75.5], "n": [100.0, 200.0], "ci_low": [71.1, 69.0], "ci_high": [86.7, 81.0]})
    >>> kpi_table(kp, ["csat_pct"])
                                      all               chat
    CSAT (top two) [%]  75.5 [69.0, 81.0]  80.0 [71.1, 86.7]
    """
    period = period or latest(kpis)
    month = kpis.loc[kpis["period"].astype(str) == str(period)]
    rows = month.loc[month["kpi"].isin(list(ids))].copy()
    rows["channel"] = rows["channel"].astype(str)
    columns = _channel_columns(rows["channel"], channels, groups)
    names = [c for c in columns if c not in (ALL, *GROUPS)]
    if top is not None and len(names) > top:
        keep = set(largest_channels(month, names, top))
        columns = [c for c in columns if c not in names or c in keep]
        note = f"the {top} largest channels; {len(names) - top:,} more in kpis.csv"
        caption = f"{caption} ({note})" if caption else note
    rows = rows.loc[rows["channel"].isin(columns)]
    text = [fmt.with_ci(v, lo, hi, k, m) for v, lo, hi, k, m in
            zip(rows["value"], rows["ci_low"], rows["ci_high"], rows["kpi"], rows["n"])]
    if n:  # the cell may wrap between the value and its n, never inside either
        nbsp = "\u00a0"
        text = [t.replace(" ", nbsp) + ("" if pd.isna(m) else f" n{nbsp}={nbsp}{m:,.0f}")
                for t, m in zip(text, rows["n"])]
    cells = pd.DataFrame({"kpi": rows["kpi"].to_numpy(), "channel": rows["channel"].to_numpy(), "text": text})
    order = [k for k in ids if k in set(cells["kpi"])]
    wide = (cells.pivot(index="kpi", columns="channel", values="text")
            .reindex(index=order, columns=columns).fillna(""))
    wide.index = [fmt.label(k) for k in wide.index]
    wide.columns.name = None
    if transpose:
        wide = wide.T
    return table(wide, caption=caption, index=True, right=list(wide.columns), wrap=n)


def _family(res: pd.DataFrame) -> str:
    """The adjustment family named by a ``kt.compare_channels`` / ``kt.changes`` result ("" if none)."""
    if "family" in res:
        names = [f for f in res["family"] if isinstance(f, str) and f]
        if names:
            return names[0]
    return str(res.attrs.get("family", "")) if isinstance(res.attrs.get("family"), str) else ""


def _with_family(caption: str | None, families: Sequence[str]) -> str | None:
    """``caption`` followed by the one adjustment family of the table's rows (p-values adjusted by …)."""
    names = list(dict.fromkeys(f for f in families if f))
    if len(names) != 1:
        return caption
    note = f"p-values adjusted: {names[0]}"
    return f"{caption} ({note})" if caption else note


def _verdict_interval(r: object, kpi: str) -> str:
    """The interval that goes with a pair's verdict: the difference, the Hodges–Lehmann shift or the
    hazard ratio (with the difference of the KM medians beside it)."""
    of = getattr(r, "interval_of", "difference")
    if of == "shift" and not pd.isna(getattr(r, "hl_low", float("nan"))):
        lo, hi = fmt.difference(r.hl_low, kpi), fmt.difference(r.hl_high, kpi)
        return (f"{fmt.difference(r.diff, kpi)} (mean); shift {'(' if r.hl_low_open else '['}{lo}, {hi}"
                f"{')' if r.hl_high_open else ']'}")
    if of == "hazard ratio" and not pd.isna(getattr(r, "hr", float("nan"))):
        return (f"{fmt.difference(r.diff, kpi, r.diff_low, r.diff_high)}; HR {fmt.number(r.hr, 2)} "
                f"[{fmt.number(r.hr_low, 2)}, {fmt.number(r.hr_high, 2)}]")
    return fmt.difference(r.diff, kpi, r.diff_low, r.diff_high)


def omnibus_table(results: dict[str, pd.DataFrame], caption: str | None = None) -> Table:
    """One row per KPI of ``kt.compare_channels`` results: the k-group test, its effect size, the
    verdict and how many channel pairs differ after adjustment, in the family it names (the
    ``family`` column of the results: ``"Holm over the 10 pairs of this KPI"``). Where the
    k-group test gives no verdict, the pairs column says so rather than counting differences
    beside "not enough data".

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
    ['CSAT (top two) [%]', 'chi2', '61.7', '< 0.001', "Cramér's V 0.23", 'difference', '1 of 1', '–']
    """
    rows = []
    for kpi, res in results.items():  # one row per KPI
        omni = res.loc[res["comparison"] == "omnibus"].iloc[0]
        pairs = res.loc[res["comparison"] == "pair"]
        judged = pairs["verdict"].isin(["lower", "higher", "no significant difference"])
        differ = pairs["verdict"].isin(["lower", "higher"])
        verdict = omni["verdict"] + (f" ({omni['reason']})" if isinstance(omni["reason"], str) and omni["reason"]
                                     else "")
        counted = f"{int(differ.sum())} of {int(judged.sum())}"
        if omni["verdict"] == "not enough data" and judged.any():
            counted += " (pairs tested on their own)"
        rows.append((fmt.label(kpi), omni["test"],
                     f"{omni['statistic']:.1f}" if not pd.isna(omni["statistic"]) else fmt.DASH,
                     fmt.p_value(omni["p"]), fmt.effect(omni["effect_size"], omni["effect_name"]), verdict,
                     counted, _family(res) or fmt.DASH))
    frame = pd.DataFrame(rows, columns=["KPI", "test", "statistic", "p", "effect size", "verdict",
                                        "pairs that differ", "adjustment family"])
    return table(frame, caption=caption, right=["statistic", "p", "effect size", "pairs that differ"])


def pairs_table(results: dict[str, pd.DataFrame], channels: Sequence[str] | None = None,
                caption: str | None = None) -> Table:
    """Every channel pair of ``kt.compare_channels`` results: both values, the difference with the
    interval that goes with the verdict (at the level the family used: the difference, the
    Hodges–Lehmann shift of a rank test, or the hazard ratio of a log-rank test beside the
    difference of the medians), the adjusted p, the effect size, the minimum detectable
    difference and the verdict (a ``KPI`` column first when ``results`` holds several KPIs). The
    caption names the adjustment family when the rows share one.

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
    >>> pairs_table({"csat_pct": res.assign(family="Holm over the 1 pair of this KPI")}).caption
    'p-values adjusted: Holm over the 1 pair of this KPI'
    """
    rows = []
    for kpi, res in results.items():  # one block per KPI
        pairs = res.loc[res["comparison"] == "pair"]
        if channels is not None:
            pairs = pairs.loc[pairs["group_a"].isin(list(channels)) & pairs["group_b"].isin(list(channels))]
        for r in pairs.itertuples():  # a handful of pairs
            verdict = r.verdict + (f" ({r.reason})" if r.verdict == "not enough data" and isinstance(r.reason, str)
                                   else "")
            rows.append((fmt.label(kpi), f"{r.group_a} {fmt.MINUS} {r.group_b}",
                         fmt.with_ci(r.estimate_a, r.ci_low_a, r.ci_high_a, kpi, r.n_a),
                         fmt.with_ci(r.estimate_b, r.ci_low_b, r.ci_high_b, kpi, r.n_b),
                         _verdict_interval(r, kpi), fmt.p_value(r.p_adj),
                         fmt.effect(r.effect_size, r.effect_name), fmt.size(r.mdd, kpi), verdict))
    frame = pd.DataFrame(rows, columns=["KPI", "pair (a − b)", "a", "b", "difference [CI]", "p (adjusted)",
                                        "effect size", "detectable", "verdict"])
    if len(results) == 1:  # the caption names the one KPI
        frame = frame.drop(columns="KPI")
    caption = _with_family(caption, [_family(res) for res in results.values()])
    return table(frame, caption=caption, right=["a", "b", "difference [CI]", "p (adjusted)", "effect size",
                                                "detectable"])


def changes_table(results: Sequence[pd.DataFrame] | pd.DataFrame, caption: str | None = None) -> Table:
    """Month-over-month and year-over-year changes of ``kt.changes`` results, one row per KPI ×
    channel × comparison: both values, the change with the interval that goes with its verdict
    (see :func:`pairs_table`), the adjusted p and the verdict. Each KPI's changes are one
    adjustment family (``"Holm over the 12 changes of this KPI"``): the caption names it when
    the rows share one, else a column does.

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
        signal = fmt.DASH if r.signal is None or pd.isna(r.signal) else ("outside" if r.signal else "within")
        if isinstance(getattr(r, "crude_verdict", None), str) and r.crude_verdict != r.verdict:
            verdict += " within channels (channel mix)"
        rows.append((fmt.label(r.kpi), r.channel, f"vs {r.compare_to}", fmt.value(r.value_before, r.kpi, r.n_before),
                     fmt.value(r.value, r.kpi, r.n), _verdict_interval(r, r.kpi),
                     fmt.p_value(r.p_adj), verdict, signal))
    out = pd.DataFrame(rows, columns=["KPI", "channel", "compared", "before", "now", "change [CI]",
                                      "p (adjusted)", "verdict", "Laney p\u2032 limits"])
    families = [f if isinstance(f, str) else "" for f in frame["family"]] if "family" in frame else []
    if len(set(families)) > 1:
        out["adjustment family"] = families
    caption = _with_family(caption, families if len(set(families)) == 1 else [])
    styles = pd.DataFrame("", index=out.index, columns=out.columns)
    styles["verdict"] = [f"color: {BAD}" if v.endswith("(worse)") else f"color: {GOOD}" if v.endswith("(better)")
                         else "" for v in out["verdict"]]
    return table(out, caption=caption, styles=styles, right=["before", "now", "change [CI]", "p (adjusted)"])
