"""The loaded dataset: validated pandas tables plus the accounting of every input row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import DatasetConfig


def channels_of(tables: Mapping[str, pd.DataFrame], names: tuple[str, ...] = ("tickets", "surveys")) -> list[str]:
    """Sorted distinct non-empty ``channel`` values of the named tables (Arrow's unique: fast on 10M rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found: set[str] = set()
    for name in names:
        table = tables.get(name)
        if table is not None and "channel" in table:
            values = pa.array(table["channel"], from_pandas=True)
            found.update(v for v in pc.unique(values).to_pylist() if v is not None)
    return sorted(found)


@dataclass
class Dataset:
    """A loaded, validated dataset (build it with :func:`kpitools.load`).

    Tables hold the canonical columns of :mod:`kpitools.schema` first, then any extra source
    columns (kept as text, for segmenting). Types: timestamps are ``datetime64[ns, <timezone>]``
    in the dataset timezone (NaT = empty); text is pandas ``string`` (``<NA>`` = empty); booleans
    are plain ``bool`` (empty = False); ``contacts``/``reopened``/``score`` are ``int64``;
    ``handle_seconds``/``wait_seconds``/``cost``/``target`` are ``float64`` (NaN = empty);
    ``survey`` is lower-case. Spam customers are kept here (they are counted in data quality);
    the KPI engine excludes them.
    """

    path: Path
    config: DatasetConfig
    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    counts: pd.DataFrame
    as_of: pd.Timestamp
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        return self.config.timezone

    @property
    def tickets(self) -> pd.DataFrame | None:
        return self.tables.get("tickets")

    @property
    def surveys(self) -> pd.DataFrame | None:
        return self.tables.get("surveys")

    @property
    def customers(self) -> pd.DataFrame | None:
        return self.tables.get("customers")

    @property
    def activity(self) -> pd.DataFrame | None:
        return self.tables.get("activity")

    @property
    def sessions(self) -> pd.DataFrame | None:
        return self.tables.get("sessions")

    @property
    def costs(self) -> pd.DataFrame | None:
        return self.tables.get("costs")

    @property
    def targets(self) -> pd.DataFrame | None:
        return self.tables.get("targets")

    @property
    def channels(self) -> list[str]:
        """Channels of the kept tickets plus any explicit survey channel (SPEC A6), sorted."""
        return channels_of(self.tables)

    @property
    def channel_groups(self) -> dict[str, list[str]]:
        """``voice`` and ``text`` resolved against the channels (given voice only: text = the rest)."""
        chans = self.channels
        voice = [c for c in chans if c in self.config.voice_channels]
        if self.config.text_channels is None:
            text = [c for c in chans if c not in voice]
        else:
            text = [c for c in chans if c in self.config.text_channels]
        return {"voice": voice, "text": text}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"Dataset({str(self.path)!r}, {parts}, as_of={self.as_of.isoformat()})"
