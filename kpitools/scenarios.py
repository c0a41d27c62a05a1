"""The channel-shift savings scenario (SPEC §4, "Channels and cost").

Moving X % of one channel's volume to another saves ``X % × volume × (cpi_from − cpi_to)``,
where the volume is the source channel's non-abandoned tickets of the period (the denominator
of its ``cpi``) and both cost-per-interaction figures are the period's real ones. It is a
linear what-if: it assumes each channel's cost per ticket stays what it was at the new volume
(average cost = marginal cost), which staffing in steps only approximates; a negative saving
means the shift would cost more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .schema import ALL
from .schema import GROUPS as CHANNEL_GROUPS

CPI = "cpi"
#: Rows that are not channels: the groups and the total.
GROUPS = (*CHANNEL_GROUPS, ALL)
DEFAULT_SHIFTS: tuple[float, ...] = (5.0, 10.0, 20.0)
COLUMNS = ["period", "from_channel", "to_channel", "shift_pct", "volume", "tickets_moved", "cpi_from",
           "cpi_to", "saving"]


def channel_shift(kpis: pd.DataFrame, period: str | None = None, shifts: Iterable[float] = DEFAULT_SHIFTS,
                  pairs: Sequence[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Savings of moving a share of one channel's tickets to another, for the real cpi figures.

    Parameters
    ----------
    kpis : DataFrame
        Tidy KPI table (``kt.kpis``): its ``cpi`` rows give each channel's cost per
        interaction (``value``) and volume (``n``, non-abandoned tickets).
    period : str, optional
        ``YYYY-MM``; default the latest period with a ``cpi`` row.
    shifts : iterable of float
        Percentages of the source channel's volume to move (0–100).
    pairs : sequence of (from, to), optional
        Channel pairs to evaluate; default every ordered pair of distinct channels with a cpi.

    Returns
    -------
    DataFrame
        ``period, from_channel, to_channel, shift_pct, volume, tickets_moved, cpi_from, cpi_to,
        saving`` (in the currency of ``costs``; negative = dearer), one row per pair × shift,
        sorted by from, to and shift.

    Raises
    ------
    ValueError
        For a shift outside 0–100 or a pair naming a channel without a cpi.

    Examples
    --------
    >>> kp = pd.DataFrame({"period": "2026-10", "channel": ["phone", "chat", "all"], "kpi": "cpi",
    ...                    "value": [8.0, 3.0, 5.0], "n": [1000.0, 2000.0, 3000.0]})
    >>> channel_shift(kp, shifts=[10], pairs=[("phone", "chat")])[["tickets_moved", "saving"]].values.tolist()
    [[100.0, 500.0]]
    """
    shifts = np.asarray(list(shifts), dtype=float)
    if shifts.size and ((shifts < 0) | (shifts > 100) | np.isnan(shifts)).any():
        raise ValueError(f"shifts must be percentages between 0 and 100, got {shifts.tolist()}")
    rows = kpis.loc[(kpis["kpi"] == CPI) & ~kpis["channel"].astype(str).isin(GROUPS)]
    rows = rows.loc[np.isfinite(rows["value"].to_numpy(dtype=float))]
    if period is None:
        period = str(rows["period"].max()) if len(rows) else None
    rows = rows.loc[rows["period"].astype(str) == str(period)]
    cpi = dict(zip(rows["channel"].astype(str), rows["value"].astype(float)))
    volume = dict(zip(rows["channel"].astype(str), rows["n"].astype(float)))
    if pairs is None:
        names = sorted(cpi)
        pairs = [(a, b) for a in names for b in names if a != b]
    unknown = sorted({c for pair in pairs for c in pair} - set(cpi))
    if unknown:
        raise ValueError(f"no cpi for channel(s) {unknown} in {period}; known: {', '.join(sorted(cpi)) or 'none'}")
    if not len(pairs) or not shifts.size:
        return pd.DataFrame({c: pd.Series(dtype=float if c not in ("period", "from_channel", "to_channel")
                                          else object) for c in COLUMNS})
    source = np.repeat([a for a, _ in pairs], shifts.size)
    target = np.repeat([b for _, b in pairs], shifts.size)
    pct = np.tile(shifts, len(pairs))
    vol = np.array([volume[a] for a in source])
    cpi_from = np.array([cpi[a] for a in source])
    cpi_to = np.array([cpi[b] for b in target])
    moved = pct / 100 * vol
    out = pd.DataFrame({"period": str(period), "from_channel": source, "to_channel": target, "shift_pct": pct,
                        "volume": vol, "tickets_moved": moved, "cpi_from": cpi_from, "cpi_to": cpi_to,
                        "saving": moved * (cpi_from - cpi_to)})
    return out.sort_values(["from_channel", "to_channel", "shift_pct"], kind="stable").reset_index(drop=True)
