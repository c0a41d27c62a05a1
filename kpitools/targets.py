"""Targets (SPEC §4 "Targets", A9): first-response SLA thresholds and the KPI scorecard.

``targets`` rows with ``kpi = "frt_h"`` are SLA thresholds in calendar hours, not targets. Every
other row is a target for one KPI id: for its channel, or, with an empty channel, for every
channel and ``all`` that has no row of its own (a channel row overrides the empty-channel row,
as for thresholds). That rule has one home (``_positions``): :func:`target_for` asks it for one
channel, :func:`targets_for` for thousands at once; thresholds, the scorecard, the findings and
the reports all go through them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .catalog import get as get_kpi
from .schema import ALL, GROUPS

THRESHOLD = "frt_h"
SCORECARD_COLUMNS = ["period", "kpi", "channel", "target", "value", "direction", "status"]


def _channel_column(targets: pd.DataFrame) -> pd.Series:
    """The targets' channel column as objects (all missing without the column)."""
    if "channel" not in targets:
        return pd.Series(None, index=targets.index, dtype=object)
    return targets["channel"].astype(object)


def _rule_rows(targets: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The rows the rule can pick, as positions in ``targets``: per (kpi, channel) the first row
    naming that channel, and per kpi the first row with an empty channel (the row for every
    channel)."""
    channel = _channel_column(targets)
    empty = channel.isna().to_numpy(bool)
    kpi, position = targets["kpi"].astype(object).to_numpy(), np.arange(len(targets))
    own = pd.Series(position[~empty], index=pd.MultiIndex.from_arrays([kpi[~empty], channel.to_numpy()[~empty]]))
    every = pd.Series(position[empty], index=pd.Index(kpi[empty], dtype=object))
    return own[~own.index.duplicated()], every[~every.index.duplicated()]


def _positions(targets: pd.DataFrame, kpis: Any, channels: Any) -> np.ndarray:
    """The one home of the rule: for each (kpi, channel) pair, the position in ``targets`` of the
    row that sets its target (the channel's own row, else the row with an empty channel unless the
    channel is a group ``voice``/``text``), -1 for none. One indexed lookup for all pairs."""
    kpis, channels = (a.ravel() for a in np.broadcast_arrays(np.asarray(kpis, dtype=object),
                                                              np.asarray(channels, dtype=object)))
    own, every = _rule_rows(targets)
    # get_indexer gives -1 for a pair without a row; appending -1 maps that to "none"
    found = np.append(own.to_numpy(), -1)[own.index.get_indexer(pd.MultiIndex.from_arrays([kpis, channels]))]
    general = np.append(every.to_numpy(), -1)[every.index.get_indexer(pd.Index(kpis, dtype=object))]
    general[pd.Index(channels, dtype=object).isin(GROUPS)] = -1
    return np.where(found >= 0, found, general)


def targets_for(targets: pd.DataFrame | None, kpis: Any, channels: Any) -> np.ndarray:
    """:func:`target_for` of many (kpi, channel) pairs at once (``kpis`` and ``channels``
    broadcast together): a float array, NaN where no target applies. Thousands of channels cost
    one indexed lookup, not a filter of the table per pair.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["csat_pct"] * 2, "target": [80.0, 70.0], "channel": [None, "phone"]})
    >>> targets_for(t, "csat_pct", ["all", "chat", "phone", "voice"]).tolist()
    [80.0, 80.0, 70.0, nan]
    """
    if targets is None or targets.empty:
        return np.full(np.broadcast(np.asarray(kpis, dtype=object), np.asarray(channels, dtype=object)).size, np.nan)
    return np.append(targets["target"].to_numpy(float), np.nan)[_positions(targets, kpis, channels)]  # -1: NaN


def target_for(targets: pd.DataFrame | None, kpi: str, channel: str = ALL) -> float | None:
    """The target of ``kpi`` for ``channel``: the channel's own row, else the row with an empty
    channel, which applies to every channel and ``all`` but not to the groups ``voice``/``text``
    (a group has only its own row); None when neither exists. The first row wins among rows for
    the same KPI and channel. Many pairs at once: :func:`targets_for`.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["csat_pct"] * 2, "target": [80.0, 70.0], "channel": [None, "phone"]})
    >>> [target_for(t, "csat_pct", c) for c in ("all", "chat", "phone", "voice")], target_for(t, "nps")
    ([80.0, 80.0, 70.0, None], None)
    """
    if targets is None or targets.empty:
        return None
    at = int(_positions(targets, [kpi], [channel])[0])
    return float(targets["target"].iloc[at]) if at >= 0 else None


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
    own, every = _rule_rows(targets)
    value = targets["target"].to_numpy(float)
    named = own[own.index.get_level_values(0) == THRESHOLD]
    limits = dict(zip(named.index.get_level_values(1), value[named.to_numpy()].tolist()))
    return limits, float(value[every[THRESHOLD]]) if THRESHOLD in every.index else None


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
    rows = rows[rows["kpi"].isin(set(targets["kpi"]))]
    rows = rows.assign(target=targets_for(targets, rows["kpi"], rows["channel"]))  # one lookup, every channel
    frames = []
    for kpi_id in dict.fromkeys(targets["kpi"]):  # each KPI with a target
        mine = rows[rows["kpi"] == kpi_id].dropna(subset=["target"])
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
