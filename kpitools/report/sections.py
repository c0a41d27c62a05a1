"""What a report section may show and say: a note when its data are absent, and titles that claim
only what a test supports (SPEC §9).

A notebook section asks :func:`missing` first: when none of its KPIs has a value it prints the
note (what is missing and how to provide it) and goes on with the next section; absence is a
state, not an exception. Titles that rank channels come from :func:`channel_title`, which names a
best or worst channel only when the channel comparison says it differs from the next one, and
titles about the month's change from :func:`change_title`, which says "no data" for a month the
KPI's tables do not cover (SPEC A15) and "fell"/"rose" only for a significant change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .. import coverage
from .. import format as fmt
from ..catalog import get as get_kpi
from ..errors import KpitoolsError
from ..periods import previous
from .display import Text, say
from .selection import pick, ranking

CONTRACT = "README, 'The data contract'"
MIN_N = 30  # below this no verdict is given (SPEC §5), so no channel is named best or worst


def missing(kpis: pd.DataFrame, ids: Sequence[str], period: str, channels: Sequence[str] | None = None) -> Text | None:
    """A note when none of ``ids`` has a value in ``period`` (None when the section can be shown).

    A KPI the dataset cannot give (``kpis.attrs["omitted"]``) is named with its reason and where
    to read how to provide it; a KPI computed but without a value this month reads "no data".

    Examples
    --------
    >>> kp = pd.DataFrame({"period": ["2026-10"], "channel": ["all"], "kpi": ["nps"], "value": [float("nan")],
    ...                    "n": [0.0]})
    >>> kp.attrs["omitted"] = {"csat_pct": "no surveys table"}
    >>> missing(kp, ["csat_pct"], "2026-10")
    Not available: CSAT (top two) (no surveys table). Add it to the dataset to see this section (README, 'The data contract').
    >>> missing(kp, ["nps"], "2026-10")
    No data for Net Promoter Score in October 2026.
    """
    omitted = kpis.attrs.get("omitted", {})
    rows = kpis[kpis["kpi"].isin(list(ids)) & (kpis["period"].astype(str) == str(period)) & kpis["value"].notna()]
    if channels is not None:
        rows = rows[rows["channel"].isin([*channels, "all", "voice", "text"])]
    if len(rows):
        return None
    absent = [k for k in ids if k in omitted]
    if absent:
        why = "; ".join(sorted({omitted[k] for k in absent}))
        titles = ", ".join(get_kpi(k).title for k in absent)
        return say(f"Not available: {titles} ({why}). Add it to the dataset to see this section ({CONTRACT}).")
    titles = ", ".join(get_kpi(k).title for k in ids)
    return say(f"No data for {titles} in {fmt.month(period)}.")


def _differ(result: pd.DataFrame | None, a: str, b: str) -> bool:
    """Whether the channel comparison found ``a`` and ``b`` significantly different."""
    if result is None:
        return False
    pairs = result[result["comparison"] == "pair"]
    row = pairs[((pairs["group_a"] == a) & (pairs["group_b"] == b)) | ((pairs["group_a"] == b) & (pairs["group_b"] == a))]
    return bool(len(row)) and bool(row["verdict"].isin(["lower", "higher"]).iloc[0])


def channel_title(ds: Any, kpis: pd.DataFrame, kpi: str, period: str, channels: Sequence[str] | None,
                  best: str, worst: str, compared: pd.DataFrame | None = None) -> str:
    """A title ranking the channels on ``kpi`` that names the best (``best``, a template with
    ``{channel}`` and ``{value}``) or the worst (``worst``) channel only where the comparison of
    channels says it differs from the next one (SPEC §9); otherwise it says there is no clear
    difference. ``compared`` is :func:`kpitools.compare_channels` for the KPI when already at hand.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> import kpitools as kt
    >>> t = pd.DataFrame({"ticket_id": range(120), "channel": ["chat"] * 60 + ["email"] * 60,
    ...                   "created_at": "2026-10-05", "resolved_at": "2026-10-06",
    ...                   "reopened": [0] * 50 + [1] * 10 + [0] * 30 + [1] * 30})
    >>> ds = dataset_from_frames({"tickets": t})
    >>> kp = kt.kpis(ds, "2026-10")
    >>> channel_title(ds, kp, "reopen_pct", "2026-10", None, "{channel} is reopened least ({value} %)",
    ...               "{channel} most ({value} %)")
    'chat is reopened least (16.7 %), email most (50.0 %)'
    """
    order = ranking(kpis, kpi, period, channels)
    title, month = get_kpi(kpi).title, fmt.month(period)
    if order.empty:
        return f"No data for {title} in {month}"
    first = order.iloc[0]
    if len(order) == 1:
        return f"{title} {fmt.value(first.value, kpi)} in {first.channel}, the only channel with data in {month}"
    if compared is None:
        try:
            from ..comparisons import compare_channels

            compared = compare_channels(ds, period, kpi)
        except KpitoolsError:
            compared = None
    last = order.iloc[-1]
    thin = (order["n"] < MIN_N).any()
    claims = []
    if order.iloc[1].n >= MIN_N and first.n >= MIN_N and _differ(compared, first.channel, order.iloc[1].channel):
        claims.append(best.format(channel=first.channel, value=fmt.value(first.value, kpi)))
    if order.iloc[-2].n >= MIN_N and last.n >= MIN_N and _differ(compared, last.channel, order.iloc[-2].channel):
        claims.append(worst.format(channel=last.channel, value=fmt.value(last.value, kpi)))
    if claims:
        return ", ".join(claims)
    return (f"No clear difference in {title} between the channels in {month}"
            + (f" (fewer than {MIN_N} observations in some channels)" if thin else ""))


def change_title(ds: Any, kpis: pd.DataFrame, kpi: str, period: str, channel: str = "all") -> str:
    """A title on the month's change of ``kpi``: "fell"/"rose" only when :func:`kpitools.changes`
    finds the change significant, "no significant change" otherwise, and "no data for <month>"
    when the KPI's tables do not cover the month before (SPEC A15)."""
    title, month, before_period = get_kpi(kpi).title, fmt.month(period), previous(period)
    now = pick(kpis, kpi, channel, period)
    if math.isnan(now):
        return f"No data for {title} in {month}"
    head = f"{title} {fmt.value(now, kpi)}{_unit(kpi)} in {month}"
    if not coverage.covers(ds, kpi, before_period):
        return f"{head}; {coverage.no_data(before_period)}"
    before = pick(kpis, kpi, channel, before_period)
    if math.isnan(before):
        return f"{head}; no value for {fmt.month(before_period)}"
    was = f"{fmt.value(before, kpi)}{_unit(kpi)}"
    try:
        from ..comparisons import changes

        rows = changes(ds, period, kpi)
    except KpitoolsError:  # a KPI without a test of change (a count): the two values, no verdict
        return f"{head}, against {was} the month before"
    rows = rows[(rows["channel"] == channel) & (rows["kind"] == "mom")]
    verdict = rows["verdict"].iloc[0] if len(rows) else None
    if verdict in ("lower", "higher"):
        return f"{title} {'fell' if verdict == 'lower' else 'rose'} to {fmt.value(now, kpi)}{_unit(kpi)} in {month}, from {was} the month before"
    return f"{head}: no significant change from {was} the month before"


def _unit(kpi: str) -> str:
    return " %" if get_kpi(kpi).unit == "%" else ""


def missing_tables(ds: Any, tables: Sequence[str], what: str) -> Text | None:
    """A note when the dataset lacks one of ``tables`` that ``what`` needs (None when it has all).

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> ds = dataset_from_frames({"tickets": pd.DataFrame({"ticket_id": ["t1"], "channel": ["chat"],
    ...                                                    "created_at": ["2026-10-01"]})})
    >>> missing_tables(ds, ["customers", "activity"], "Signup cohorts")
    Not available: Signup cohorts needs the customers and activity tables. Add them to the dataset to see this section (README, 'The data contract').
    """
    absent = [t for t in tables if t not in ds.tables]
    if not absent:
        return None
    noun, pronoun = ("table", "it") if len(absent) == 1 else ("tables", "them")
    return say(f"Not available: {what} needs the {' and '.join(absent)} {noun}. "
               f"Add {pronoun} to the dataset to see this section ({CONTRACT}).")


def compare_all(ds: Any, period: str, ids: Sequence[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """:func:`kpitools.compare_channels` for each of ``ids``: the results, and for each KPI that
    cannot be compared (a single channel, a KPI the dataset lacks) the reason."""
    from ..comparisons import compare_channels

    results, skipped = {}, {}
    for kpi in ids:
        try:
            results[kpi] = compare_channels(ds, period, kpi)
        except KpitoolsError as exc:
            skipped[kpi] = str(exc)
    return results, skipped


def omitted_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPIs the dataset cannot give, with their titles and the reason, in catalogue order.

    Examples
    --------
    >>> kp = pd.DataFrame(); kp.attrs["omitted"] = {"churn_pct": "no churned_at column in customers"}
    >>> omitted_table(kp).values.tolist()
    [['churn_pct', 'Customer churn rate', 'no churned_at column in customers']]
    """
    from ..catalog import ids
    from ..engine.tidy import omitted_frame

    rows = omitted_frame(kpis)
    order = {k: i for i, k in enumerate(ids())}
    rows = rows.assign(title=rows["kpi"].map(lambda k: get_kpi(k).title)).sort_values(
        "kpi", key=lambda s: s.map(order), kind="stable")
    return rows[["kpi", "title", "reason"]].reset_index(drop=True)
