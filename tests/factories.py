"""Small typed datasets for the engine tests: DataFrames (or dicts of columns) in, a Dataset out.

Timestamp strings are local wall time in ``timezone`` (SPEC A2); missing optional columns get
their empty values (see :func:`kpitools.engine.example.dataset_from_frames`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kpitools.config import BusinessHours
from kpitools.dataset import Dataset
from kpitools.engine.example import dataset_from_frames

TABLES = ("tickets", "surveys", "customers", "activity", "sessions", "costs", "targets")


def frame(data: Any) -> pd.DataFrame | None:
    """A DataFrame from a DataFrame, a dict of columns or a list of row dicts (None stays None)."""
    if data is None or isinstance(data, pd.DataFrame):
        return data
    return pd.DataFrame(data)


def make_dataset(tickets: Any = None, surveys: Any = None, customers: Any = None, activity: Any = None,
                 sessions: Any = None, costs: Any = None, targets: Any = None, timezone: str = "UTC",
                 as_of: Any = None, business_hours: BusinessHours | None = None,
                 activation_event: str | None = None, scales: dict[str, tuple[int, int]] | None = None,
                 voice_channels: tuple[str, ...] = ("phone",)) -> Dataset:
    """A Dataset of the given tables (absent when None), typed as the loader types them."""
    given = dict(zip(TABLES, (tickets, surveys, customers, activity, sessions, costs, targets)))
    tables = {name: frame(data) for name, data in given.items() if data is not None}
    return dataset_from_frames(tables, timezone=timezone, as_of=as_of, business_hours=business_hours,
                               activation_event=activation_event, scales=scales,
                               voice_channels=voice_channels)


def tickets(n: int, channel: str = "chat", created: Any = "2026-10-05 10:00", **columns: Any) -> pd.DataFrame:
    """``n`` tickets of one channel; ``created`` and ``columns`` are scalars or lists."""
    data = {"ticket_id": [f"{channel}-{i}" for i in range(n)], "channel": [channel] * n}
    for name, value in {"created_at": created, **columns}.items():
        data[name] = value if isinstance(value, list) else [value] * n
    return pd.DataFrame(data)


def pick(df: pd.DataFrame, kpi: str, channel: str = "all", period: str | None = None) -> pd.Series:
    """The one row of ``kpi`` for ``channel`` (and ``period``) in an engine result."""
    group = "channel" if "channel" in df else df.columns[1]
    sel = (df["kpi"] == kpi) & (df[group] == channel)
    if period is not None:
        sel &= df["period"] == period
    rows = df[sel]
    assert len(rows) == 1, f"{kpi}/{channel}: {len(rows)} rows"
    return rows.iloc[0]


def kpi_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Where two ``kt.kpis`` tables differ by more than 1e-9 (relative for large values), or a row
    is in one only, as text (empty when they agree)."""
    key = ["period", "channel", "kpi"]
    merged = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"), indicator="side")
    out = [f"{r.period} {r.channel} {r.kpi}: only in {r.side}" for r in merged.itertuples() if r.side != "both"]
    for column in ("value", "n", "ci_low", "ci_high"):
        x, y = merged[f"{column}_a"].astype(float), merged[f"{column}_b"].astype(float)
        bad = ~((x.isna() & y.isna()) | np.isclose(x, y, rtol=1e-9, atol=1e-9))
        out += [f"{r.period} {r.channel} {r.kpi} {column}: {u!r} vs {v!r}"
                for r, u, v in zip(merged[bad].itertuples(), x[bad], y[bad])]
    return out
