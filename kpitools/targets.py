"""Targets (SPEC §4 "Targets", A9): first-response SLA thresholds and the KPI scorecard.

``targets`` rows with ``kpi = "frt_h"`` are SLA thresholds in calendar hours, not targets. Every
other row is a target for one KPI id: for its channel, or, with an empty channel, for every
channel and ``all`` that has no row of its own (a channel row overrides the empty-channel row,
as for thresholds).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .catalog import get as get_kpi

THRESHOLD = "frt_h"
SCORECARD_COLUMNS = ["period", "kpi", "channel", "target", "value", "direction", "status"]


def frt_thresholds(targets: pd.DataFrame | None, channels: list[str]) -> dict[str, float]:
    """First-response threshold (hours) of each channel: its own ``frt_h`` row, else the row with
    an empty channel; channels with neither are left out.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["frt_h", "frt_h"], "target": [4.0, 1.0], "channel": [None, "chat"]})
    >>> frt_thresholds(t, ["chat", "email"])
    {'chat': 1.0, 'email': 4.0}
    """
    if targets is None:
        return {}
    rows = targets[targets["kpi"] == THRESHOLD]
    channel = rows["channel"] if "channel" in rows else pd.Series(pd.NA, index=rows.index)
    default = rows.loc[channel.isna(), "target"]
    own = dict(zip(rows.loc[channel.notna(), "channel"], rows.loc[channel.notna(), "target"]))
    out = {}
    for c in channels:
        if c in own:
            out[c] = float(own[c])
        elif len(default):
            out[c] = float(default.iloc[0])
    return out


def _status(value: np.ndarray, target: np.ndarray, direction: list[Any]) -> list[str]:
    higher = np.array([d == "higher" for d in direction])
    lower = np.array([d == "lower" for d in direction])
    met = (higher & (value >= target)) | (lower & (value <= target))
    status = np.where(met, "met", "missed")
    status = np.where(higher | lower, status, "n/a")
    return np.where(np.isnan(value), "no data", status).tolist()


def targets_scorecard(kpis_df: pd.DataFrame, ds: Any) -> pd.DataFrame:
    """Met / missed per target row × matching channel × period.

    Parameters
    ----------
    kpis_df : DataFrame
        The output of :func:`kpitools.kpis` (columns ``period, channel, kpi, value, ...``).
    ds : Dataset
        Its ``targets`` table supplies the targets (none → an empty scorecard).

    Returns
    -------
    DataFrame
        ``period, kpi, channel, target, value, direction, status``: ``met`` when the value is at
        least (direction ``higher``) or at most (``lower``) the target, ``missed`` otherwise,
        ``no data`` when the KPI has no value for that channel and period, ``n/a`` for a KPI
        without a direction (``tickets``). A target with an empty channel applies to every
        channel and ``all`` that has no target row of its own; ``frt_h`` rows (SLA thresholds)
        are skipped.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> kp = pd.DataFrame({"period": ["2026-10"] * 2, "channel": ["all", "chat"],
    ...                    "kpi": ["fcr_pct"] * 2, "value": [80.0, 60.0]})
    >>> ds = SimpleNamespace(targets=pd.DataFrame({"kpi": ["fcr_pct"], "target": [70.0], "channel": [None]}))
    >>> targets_scorecard(kp, ds)[["channel", "status"]].values.tolist()
    [['all', 'met'], ['chat', 'missed']]
    """
    targets = ds.targets
    if targets is None or targets.empty:
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    targets = targets[targets["kpi"] != THRESHOLD]
    channel = targets["channel"] if "channel" in targets else pd.Series(pd.NA, index=targets.index)
    groups = {"voice", "text"}
    rows = kpis_df[["period", "channel", "kpi", "value"]]
    frames = []
    for kpi_id, target, chan in zip(targets["kpi"], targets["target"], channel):
        mine = rows[rows["kpi"] == kpi_id]
        if pd.isna(chan):
            own = set(channel[(targets["kpi"] == kpi_id) & channel.notna()])
            mine = mine[~mine["channel"].isin(own | groups)]
            if mine.empty:  # the KPI is not in kpis_df: one "no data" row per period for all
                mine = pd.DataFrame({"period": rows["period"].drop_duplicates().tolist() or [None],
                                     "channel": "all", "kpi": kpi_id, "value": np.nan})
        else:
            mine = mine[mine["channel"] == chan]
            if mine.empty:
                mine = pd.DataFrame({"period": rows["period"].drop_duplicates().tolist() or [None],
                                     "channel": chan, "kpi": kpi_id, "value": np.nan})
        frames.append(mine.assign(target=float(target)))
    if not frames:
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["direction"] = [get_kpi(k).direction for k in out["kpi"]]
    out["status"] = _status(out["value"].to_numpy(dtype=float), out["target"].to_numpy(dtype=float),
                            out["direction"].tolist())
    out = out.sort_values(["period", "kpi", "channel"], kind="stable").reset_index(drop=True)
    return out[SCORECARD_COLUMNS]
