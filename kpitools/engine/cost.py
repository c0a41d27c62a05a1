"""Cost per interaction (SPEC §4, A11): the costs table is one row per month and channel, so it is
read in pandas; the ticket counts come from Ibis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .context import Context
from .customers import ticket_counts
from .tidy import ALL, grid, rows


def compute(ctx: Context, want: set[str]) -> list[pd.DataFrame]:
    """``cpi`` per channel and for ``all``: cost / non-abandoned tickets created in the period.

    A channel without a cost row has an empty cpi; ``all`` sums every cost row of the period
    (empty when the period has none).
    """
    if "cpi" not in want:
        return []
    index = grid(ctx.months, ctx.channels)
    counts = ticket_counts(ctx)
    na = counts.groupby(["mon", "g"])["na"].sum()
    na = pd.concat([na, pd.concat({ALL: counts.groupby("mon")["na"].sum()}, names=["g"]).swaplevel()])
    na = na.reindex(index, fill_value=0).to_numpy(dtype=float)
    costs = ctx.ds.costs
    by_label = {p.label: p.month for p in ctx.periods}
    costs = costs[costs["period"].isin(list(by_label))]
    cost = pd.Series(np.nan, index=index)
    for (label, channel), value in costs.groupby(["period", "channel"])["cost"].sum().items():
        if (by_label[label], channel) in cost.index:
            cost[(by_label[label], channel)] = value
    for label, values in costs.groupby("period")["cost"]:
        cost[(by_label[label], ALL)] = math.fsum(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(na > 0, cost.to_numpy() / na, np.nan)
    return [rows(index, ctx.labels, "cpi", value, na)]
