"""Speed and operations KPIs (SPEC §4, A7–A9): tickets created in the period, per segment.

The counts come from :mod:`.observe` (outcomes, handle times, durations per clock, the
backlog); ``all`` and the voice/text groups are sums of segment counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .context import Context
from .durations import summarise
from .observe import OUTCOMES as COUNTS
from .observe import backlog_counts, duration_counts_many, handle_counts, outcome_counts, tickets_in_periods
from .tidy import counts_on, grid, mean_rows, pct, rows, share_rows, weighted_moments, with_all

__all__ = ["compute"]

_TIMES = {  # (base, clock) -> (event column, business-duration column)
    ("frt", ""): ("fr_us", None),
    ("frt", "bh_"): ("fr_us", "frt_bh_us"),
    ("ttr", ""): ("res_us", None),
    ("ttr", "bh_"): ("res_us", "ttr_bh_us"),
}
_STATS = {"median": ("median", "km_n", "low", "high"), "mean": ("mean", "ev_n", None, None),
          "p90": ("p90", "ev_n", None, None), "km_p90": ("km_p90", "km_n", "km_p90_low", "km_p90_high")}


def _aht(ctx: Context, t: Any, by: str, index: pd.MultiIndex) -> pd.DataFrame:
    values = with_all(handle_counts(ctx, t, by), ["mon", "handle_s"], ["n"]).sort_values(["mon", "g", "handle_s"])
    out = pd.DataFrame({"mean": np.nan, "sd": np.nan, "n": 0.0}, index=index)
    for key, part in values.groupby(["mon", "g"], sort=False):
        if key in out.index:
            out.loc[key] = weighted_moments(part["handle_s"].to_numpy(float), part["n"].to_numpy(np.int64))
    return out


def compute(ctx: Context, by: str, groups: list[str], want: set[str],
            channel_groups: dict[str, list[str]] | None = None) -> list[pd.DataFrame]:
    """Tidy frames (``group`` = segment) for the speed KPI ids in ``want``."""
    t = tickets_in_periods(ctx, by)
    index = grid(ctx.months, groups)
    labels = ctx.labels
    c = counts_on(outcome_counts(ctx, t, by, want), index, COUNTS)
    frames = []

    def add(kpi: str, make: Any) -> None:
        if kpi in want:
            frames.append(make())

    add("tickets", lambda: rows(index, labels, "tickets", c["tickets"], c["tickets"]))
    add("open_pct", lambda: rows(index, labels, "open_pct", *pct(c["open"], c["na"])))
    add("fcr_pct", lambda: share_rows(index, labels, "fcr_pct", c["fcr"], c["resolved"]))
    add("reopen_pct", lambda: share_rows(index, labels, "reopen_pct", c["reopen"], c["resolved"]))
    add("sla_frt_pct", lambda: share_rows(index, labels, "sla_frt_pct", c["sla_met"],
                                          c["sla_met"] + c["sla_missed"]))
    add("abandonment_pct", lambda: share_rows(index, labels, "abandonment_pct", c["abandoned"], c["tickets"]))
    if "abandonment_pct" in want and channel_groups is not None:
        gidx = pd.MultiIndex.from_product([ctx.months, sorted(channel_groups)], names=["mon", "g"])
        per = c.reset_index()
        parts = [per[(per["mon"] == m) & per["g"].isin(channel_groups[g])] for m, g in gidx]
        k = [int(part["abandoned"].sum()) for part in parts]
        n = [int(part["tickets"].sum()) for part in parts]
        frames.append(share_rows(gidx, labels, "abandonment_pct", k, n))
    if "backlog_end" in want:
        b = backlog_counts(ctx, by, index)["backlog"]
        frames.append(rows(index, labels, "backlog_end", b, b))
    if "aht_min" in want:
        a = _aht(ctx, t, by, index)
        frames.append(mean_rows(index, labels, "aht_min", a["mean"] / 60, a["sd"] / 60, a["n"]))
    times = {key: {f"{key[0]}_{key[1]}{s}_h": s for s in _STATS if f"{key[0]}_{key[1]}{s}_h" in want}
             for key in _TIMES}
    times = {key: ids for key, ids in times.items() if ids}
    # summarise needs the groups contiguous, not the durations sorted (a costly sort at 10M)
    found = duration_counts_many(ctx, t, {f"{base}_{clock}": _TIMES[base, clock] for base, clock in times},
                                 by_duration=False) if times else {}
    for (base, clock), ids in times.items():
        summary = summarise(found[f"{base}_{clock}"], index, lambda codes, by=by: ctx.segment_labels(codes, by))
        for kpi, stat in ids.items():
            value, n, low, high = (summary[x] if x else None for x in _STATS[stat])
            frames.append(rows(index, labels, kpi, value, n, low, high))
    return frames
