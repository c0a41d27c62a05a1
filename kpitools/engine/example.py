"""Build a :class:`~kpitools.dataset.Dataset` straight from small DataFrames (no files, no loader).

For tests, doctests and notebook experiments: columns are coerced to the Dataset dtypes, naive
timestamps (strings or values) are read as local time in the dataset timezone by the rule of
SPEC A2, and missing optional columns are filled with their empty values. No row is validated or
rejected: give it clean rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..business_hours import wall_to_utc_ns
from ..config import BusinessHours, DatasetConfig, parse_as_of
from ..dataset import Dataset
from ..schema import DEFAULT_SCALES, TABLES
from ..validate import TEXT

_DEFAULTS = {"contacts": 1, "reopened": 0}


def _timestamps(values: pd.Series, tz: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(tz).dt.as_unit("ns")
    wall = pd.DatetimeIndex(pd.to_datetime(values.astype(object).where(values.notna(), None),
                                           format="ISO8601"))
    utc = pd.to_datetime(wall_to_utc_ns(wall, tz), utc=True)
    return pd.Series(utc, index=values.index).dt.tz_convert(tz).where(wall.notna().tolist())


def _coerce(table: str, frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col in TABLES[table]:
        values = frame[col.name].reset_index(drop=True) if col.name in frame else pd.Series([None] * len(frame))
        if col.kind == "timestamp":
            out[col.name] = _timestamps(values, tz)
        elif col.kind == "bool":
            out[col.name] = values.astype(object).where(values.notna(), False).astype(bool)
        elif col.kind in ("int", "score"):
            default = _DEFAULTS.get(col.name, 0)
            out[col.name] = values.astype(object).where(values.notna(), default).astype(np.int64)
        elif col.kind == "float":
            out[col.name] = pd.to_numeric(values).astype(float)
        else:
            text = values.astype(TEXT).str.strip()
            out[col.name] = text.where(text != "", pd.NA).str.lower() if col.kind == "survey" else \
                text.where(text != "", pd.NA)
    for extra in frame.columns:
        if extra not in out:
            out[extra] = frame[extra].reset_index(drop=True).astype(TEXT)
    return out


def dataset_from_frames(tables: dict[str, pd.DataFrame], timezone: str = "UTC", as_of: Any = None,
                        business_hours: BusinessHours | None = None, activation_event: str | None = None,
                        scales: dict[str, tuple[int, int]] | None = None,
                        voice_channels: tuple[str, ...] = ("phone",)) -> Dataset:
    """A Dataset from DataFrames keyed by table name (tables left out or None are absent).

    ``as_of`` (naive = local) defaults to the latest timestamp of any table (SPEC A4).

    Examples
    --------
    >>> ds = dataset_from_frames({"tickets": pd.DataFrame({
    ...     "ticket_id": ["t1"], "channel": ["chat"], "created_at": ["2026-10-01 10:00"]})},
    ...     timezone="Europe/Berlin")
    >>> ds.tickets["created_at"].iloc[0].isoformat(), ds.as_of.isoformat()
    ('2026-10-01T10:00:00+02:00', '2026-10-01T10:00:00+02:00')
    """
    coerced = {name: _coerce(name, frame, timezone) for name, frame in tables.items() if frame is not None}
    if as_of is None:
        stamps = [t[c.name].max() for name, t in coerced.items() for c in TABLES[name]
                  if c.kind == "timestamp" and t[c.name].notna().any()]
        as_of_ts = max(stamps)
    else:
        as_of_ts = parse_as_of(as_of, timezone)
    config = DatasetConfig(folder=Path("."), timezone=timezone, as_of=as_of_ts,
                           activation_event=activation_event, scales={**DEFAULT_SCALES, **(scales or {})},
                           voice_channels=tuple(voice_channels), business_hours=business_hours)
    return Dataset(path=Path("."), config=config, tables=coerced, rejects=pd.DataFrame(),
                   counts=pd.DataFrame(), as_of=as_of_ts.tz_convert(timezone),
                   provided={name: frame.columns for name, frame in tables.items() if frame is not None})


def example_dataset() -> Dataset:
    """A three-ticket dataset used by the engine's doctests (UTC, as_of 2026-11-15).

    Examples
    --------
    >>> example_dataset().channels
    ['chat', 'email']
    """
    tickets = pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3"],
        "channel": ["chat", "email", "chat"],
        "created_at": ["2026-10-01 10:00", "2026-10-02 10:00", "2026-10-03 10:00"],
        "customer_id": ["c1", "c2", "c1"],
        "first_response_at": ["2026-10-01 11:00", "2026-10-02 12:00", None],
        "resolved_at": ["2026-10-01 12:00", "2026-10-03 10:00", None],
        "handle_seconds": [600.0, 300.0, None],
        "topic": ["billing", "billing", "login"],
    })
    surveys = pd.DataFrame({"response_id": ["r1", "r2"], "survey": ["csat", "csat"], "score": [5, 3],
                            "responded_at": ["2026-10-02 09:00", "2026-10-04 09:00"],
                            "ticket_id": ["t1", "t2"]})
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3"],
                              "signup_at": ["2026-09-10", "2026-09-20", "2026-10-05"],
                              "churned_at": [None, "2026-10-20", None]})
    activity = pd.DataFrame({"customer_id": ["c1", "c2", "c1"],
                             "ts": ["2026-09-15 08:00", "2026-09-21 08:00", "2026-10-10 08:00"]})
    costs = pd.DataFrame({"period": ["2026-10", "2026-10"], "channel": ["chat", "email"], "cost": [10.0, 15.0]})
    return dataset_from_frames({"tickets": tickets, "surveys": surveys, "customers": customers,
                                "activity": activity, "costs": costs}, as_of="2026-11-15")
