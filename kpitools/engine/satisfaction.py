"""Satisfaction KPIs (SPEC §4, A12): surveys responded in the period, per segment.

One Ibis pass counts responses per ``(mon, g, survey, score)`` (:func:`.observe.score_counts`);
scales are small, so every mean, share and NPS is derived in numpy from those counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import nps_ci
from .context import Context
from .observe import score_counts  # also read from here by kpitools.comparisons
from .tidy import grid, mean_rows, rows, share_rows

__all__ = ["compute", "score_counts"]


def _pivot(counts: pd.DataFrame, survey: str, index: pd.MultiIndex) -> pd.DataFrame:
    """Counts of one survey type: rows ``(mon, g)`` of ``index``, one column per score."""
    part = counts[counts["survey"] == survey]
    table = part.pivot_table(index=["mon", "g"], columns="score", values="n", aggfunc="sum", fill_value=0)
    return table.reindex(index, fill_value=0)


def _moments(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sample sd and n per row of a score-count table (exact integer sums)."""
    scores = table.columns.to_numpy(dtype=np.int64)
    w = table.to_numpy(dtype=np.int64)
    n = w.sum(axis=1)
    s1 = w @ scores
    s2 = w @ (scores * scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, s1 / n, np.nan)
        # n·Σx² − (Σx)² is an exact integer, so sd has no cancellation error
        var = (n * s2 - s1 * s1) / (n * (n - 1.0))
        sd = np.where(n > 1, np.sqrt(np.maximum(var, 0.0)), np.nan)
    return mean, sd, n


def _at_least(table: pd.DataFrame, cut: int) -> np.ndarray:
    cols = [c for c in table.columns if c >= cut]
    return table[cols].to_numpy(dtype=np.int64).sum(axis=1)


def _at_most(table: pd.DataFrame, cut: int) -> np.ndarray:
    cols = [c for c in table.columns if c <= cut]
    return table[cols].to_numpy(dtype=np.int64).sum(axis=1)


def compute(ctx: Context, by: str, groups: list[str], want: set[str]) -> list[pd.DataFrame]:
    """Tidy frames (``group`` = segment) for the satisfaction KPI ids in ``want``."""
    index = grid(ctx.months, groups)
    labels = ctx.labels
    scales = ctx.ds.config.scales
    counts = score_counts(ctx, by)
    frames = []
    csat = _pivot(counts, "csat", index)
    if "csat_pct" in want:
        frames.append(share_rows(index, labels, "csat_pct", _at_least(csat, scales["csat"][1] - 1),
                                 csat.to_numpy().sum(axis=1)))
    if "csat_mean" in want:
        frames.append(mean_rows(index, labels, "csat_mean", *_moments(csat)))
    if "nps" in want:
        nps = _pivot(counts, "nps", index)
        top = scales["nps"][1]
        d, p = _at_most(nps, top - 4), _at_least(nps, top - 1)
        r = nps.to_numpy().sum(axis=1)
        res = nps_ci(d, r - d - p, p)
        frames.append(rows(index, labels, "nps", res.nps, r, res.low, res.high))
    ces = _pivot(counts, "ces", index)
    if "ces_mean" in want:
        frames.append(mean_rows(index, labels, "ces_mean", *_moments(ces)))
    if "ces_easy_pct" in want:
        frames.append(share_rows(index, labels, "ces_easy_pct", _at_least(ces, scales["ces"][1] - 2),
                                 ces.to_numpy().sum(axis=1)))
    return frames
