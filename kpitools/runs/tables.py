"""The tables a run computes once and writes next to its reports: KPIs and rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ..safety import write_safe_csv

KPIS_CSV = "kpis.csv"
KPIS_PARQUET = "kpis.parquet"
REJECTS_CSV = "rejects.csv"
TREND_MONTHS = 13


class KpiEngine(Protocol):
    """What a run needs from :mod:`kpitools.engine` (tests pass a small stand-in)."""

    def kpis(self, ds: Any, period: Any = ..., channels: Any = None) -> pd.DataFrame: ...

    def kpis_to_csv(self, df: pd.DataFrame, path: Any) -> Any: ...


def trend_periods(period: str, months: int = TREND_MONTHS) -> list[str]:
    """The ``months`` periods ending with ``period``, oldest first.

    Examples
    --------
    >>> trend_periods("2026-02", 4)
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    end = pd.Period(period, freq="M")
    return [str(end - k) for k in range(months - 1, -1, -1)]


def write_tables(ds: Any, period: str, engine: KpiEngine, out_dir: Path) -> dict[str, Path]:
    """Write ``kpis.csv``, ``kpis.parquet`` and ``rejects.csv`` into ``out_dir``.

    ``kpis.csv`` is exactly ``engine.kpis(ds, period=period)`` as written by
    ``engine.kpis_to_csv`` (the machine-readable contract of SPEC §7). ``kpis.parquet`` holds
    the same rows plus the 12 months before (one more ``kpis`` call for them), so report
    notebooks read the period and its 13-month trend from ``kpis_path`` instead of recomputing
    the suite. ``rejects.csv`` is ``ds.rejects`` with formula-like text neutralised.
    """
    current = engine.kpis(ds, period=period)
    paths = {"kpis_csv": out_dir / KPIS_CSV, "kpis_parquet": out_dir / KPIS_PARQUET,
             "rejects_csv": out_dir / REJECTS_CSV}
    engine.kpis_to_csv(current, paths["kpis_csv"])
    earlier = engine.kpis(ds, period=trend_periods(period)[:-1])
    trend = pd.concat([earlier, current], ignore_index=True)
    trend.to_parquet(paths["kpis_parquet"], index=False)
    write_safe_csv(ds.rejects, paths["rejects_csv"])
    return paths
