"""The tables a run computes once and writes next to its reports: KPIs and rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ..periods import trend_periods
from ..engine.tidy import omitted_frame
from ..safety import write_safe_csv

KPIS_CSV = "kpis.csv"
KPIS_PARQUET = "kpis.parquet"
OMITTED_CSV = "omitted.csv"
REJECTS_CSV = "rejects.csv"


class KpiEngine(Protocol):
    """What a run needs from :mod:`kpitools.engine` (tests pass a small stand-in)."""

    def kpis(self, ds: Any, period: Any = ..., channels: Any = None) -> pd.DataFrame: ...

    def kpis_to_csv(self, df: pd.DataFrame, path: Any) -> Any: ...


def write_tables(ds: Any, period: str, engine: KpiEngine, out_dir: Path) -> dict[str, Path]:
    """Write ``kpis.csv``, ``omitted.csv``, ``kpis.parquet`` and ``rejects.csv`` into ``out_dir``.

    ``kpis.csv`` is exactly ``engine.kpis(ds, period=period)`` as written by
    ``engine.kpis_to_csv`` (the machine-readable contract of SPEC §7); ``omitted.csv`` beside it
    lists the KPIs the dataset cannot give and why (SPEC A13). ``kpis.parquet`` holds the same rows
    plus the 12 months before (one more ``kpis`` call for them), with the omissions in its
    metadata (``attrs``), so report notebooks read the period, its 13-month trend and what is
    missing from ``kpis_path`` instead of recomputing the suite. ``rejects.csv`` is
    ``ds.rejects`` with formula-like text neutralised.
    """
    current = engine.kpis(ds, period=period)
    paths = {"kpis_csv": out_dir / KPIS_CSV, "omitted_csv": out_dir / OMITTED_CSV,
             "kpis_parquet": out_dir / KPIS_PARQUET, "rejects_csv": out_dir / REJECTS_CSV}
    engine.kpis_to_csv(current, paths["kpis_csv"])
    write_safe_csv(omitted_frame(current), paths["omitted_csv"])
    earlier = engine.kpis(ds, period=trend_periods(period)[:-1])
    trend = pd.concat([earlier, current], ignore_index=True)
    trend.attrs["omitted"] = dict(current.attrs.get("omitted", {}))
    trend.to_parquet(paths["kpis_parquet"], index=False)
    write_safe_csv(ds.rejects, paths["rejects_csv"])
    return paths
