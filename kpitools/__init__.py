"""kpitools: customer-service KPIs computed right.

>>> import kpitools as kt
>>> ds = kt.load("data/sample")                         # doctest: +SKIP
>>> kt.kpis(ds, period="2026-10")                        # doctest: +SKIP

Heavy modules (Ibis, DuckDB, scipy, matplotlib) are imported on first use so that
``import kpitools`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it; resolved lazily (PEP 562)
_EXPORTS = {
    "load": "loading",
    "Dataset": "dataset",
    "KpitoolsError": "errors",
    "DatasetError": "errors",
    "ConfigError": "errors",
    "PeriodError": "errors",
    "write_sample": "sample",
    "catalog": "catalog",
    "kpis": "engine",
    "kpis_to_csv": "engine",
    "speed": "engine",
    "satisfaction": "engine",
    "retention": "engine",
    "engagement": "engine",
    "channels": "engine",
    "cohort_table": "engine",
    "survival_curve": "engine",
    "targets_scorecard": "targets",
    "compare_channels": "comparisons",
    "changes": "comparisons",
    "findings": "comparisons",
    "laney": "comparisons",
    "observations": "comparisons",
    "run": "runs",
}
_SUBMODULES = {"stats", "plot", "schema", "config", "business_hours", "periods", "quality", "series",
               "scenarios", "report"}

__all__ = sorted(_EXPORTS) + sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'kpitools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
