"""Targets (SPEC §4 "Targets", A9): first-response SLA thresholds and the KPI scorecard.

``targets`` rows with ``kpi = "frt_h"`` are SLA thresholds in calendar hours, not targets. Every
other row is a target for one KPI id: for its channel, or, with an empty channel, for every
channel and ``all`` that has no row of its own (a channel row overrides the empty-channel row,
as for thresholds). That rule is :func:`target_for`; thresholds, the scorecard and the reports
all ask it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .catalog import get as get_kpi
from .schema import ALL, GROUPS

THRESHOLD = "frt_h"
SCORECARD_COLUMNS = ["period", "kpi", "channel", "target", "value", "direction", "status"]


def target_for(targets: pd.DataFrame | None, kpi: str, channel: str = ALL) -> float | None:
    """The target of ``kpi`` for ``channel``: the channel's own row, else the row with an empty
    channel, which applies to every channel and ``all`` but not to the groups ``voice``/``text``
    (a group has only its own row); None when neither exists.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["csat_pct"] * 2, "target": [80.0, 70.0], "channel": [None, "phone"]})
    >>> [target_for(t, "csat_pct", c) for c in ("all", "chat", "phone", "voice")], target_for(t, "nps")
    ([80.0, 80.0, 70.0, None], None)
    """
    if targets is None or targets.empty:
        return None
    rows = targets.loc[targets["kpi"] == kpi]
    channels = rows["channel"] if "channel" in rows else pd.Series(pd.NA, index=rows.index, dtype=object)
    own = rows.loc[(channels == channel).fillna(False).to_numpy(bool), "target"]
    if len(own):
        return float(own.iloc[0])
    every = rows.loc[channels.isna().to_numpy(bool), "target"]
    return float(every.iloc[0]) if len(every) and channel not in GROUPS else None


def frt_thresholds(targets: pd.DataFrame | None, channels: list[str]) -> dict[str, float]:
    """First-response threshold (hours) of each channel: its own ``frt_h`` row, else the row with
    an empty channel; channels with neither are left out.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["frt_h", "frt_h"], "target": [4.0, 1.0], "channel": [None, "chat"]})
    >>> frt_thresholds(t, ["chat", "email"])
    {'chat': 1.0, 'email': 4.0}
    """
    own, every = frt_limits(targets)
    found = {c: own.get(c, every) for c in channels}
    return {c: t for c, t in found.items() if t is not None}


def frt_limits(targets: pd.DataFrame | None) -> tuple[dict[str, float], float | None]:
    """The ``frt_h`` thresholds as :func:`target_for` reads them, in one pass (thousands of
    channels): each channel's own row, and the row with an empty channel that every other
    channel takes (None when there is none).

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["frt_h", "frt_h", "frt_h"], "target": [4.0, 1.0, 2.0],
    ...                   "channel": [None, "chat", "chat"]})
    >>> frt_limits(t)
    ({'chat': 1.0}, 4.0)
    """
    if targets is None or targets.empty:
        return {}, None
    rows = targets.loc[targets["kpi"] == THRESHOLD]
    channels = rows["channel"] if "channel" in rows else pd.Series(pd.NA, index=rows.index, dtype=object)
    named = rows.loc[channels.notna().to_numpy(bool)]
    own = named.drop_duplicates("channel").set_index("channel")["target"].astype(float).to_dict()
    every = rows.loc[channels.isna().to_numpy(bool), "target"]
    return own, float(every.iloc[0]) if len(every) else None


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
    rows = kpis_df[["period", "channel", "kpi", "value"]]
    periods = rows["period"].drop_duplicates().tolist() or [None]
    frames = []
    for kpi_id in dict.fromkeys(targets["kpi"]):  # each KPI with a target
        mine = rows[rows["kpi"] == kpi_id]
        goal = {c: target_for(targets, kpi_id, c) for c in set(mine["channel"])}
        mine = mine.assign(target=[goal[c] for c in mine["channel"]]).dropna(subset=["target"])
        if len(mine):
            frames.append(mine)
        own = set(channel[(targets["kpi"] == kpi_id) & channel.notna()])
        for chan in channel[targets["kpi"] == kpi_id]:  # a target row no KPI row meets: "no data" per period
            if pd.isna(chan) and mine["channel"].isin(own).all():
                chan = ALL
            elif pd.isna(chan) or (mine["channel"] == chan).any():
                continue
            frames.append(pd.DataFrame({"period": periods, "channel": chan, "kpi": kpi_id, "value": np.nan,
                                        "target": target_for(targets, kpi_id, chan)}))
    if not frames:
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["direction"] = [get_kpi(k).direction for k in out["kpi"]]
    out["status"] = _status(out["value"].to_numpy(dtype=float), out["target"].to_numpy(dtype=float),
                            out["direction"].tolist())
    out = out.sort_values(["period", "kpi", "channel"], kind="stable").reset_index(drop=True)
    return out[SCORECARD_COLUMNS]
