"""kpitools: customer-service KPIs computed right.

>>> import kpitools as kt
>>> ds = kt.load("data/sample")                         # doctest: +SKIP
>>> kt.kpis(ds, period="2026-10")                        # doctest: +SKIP

Heavy modules (Ibis, DuckDB, scipy, matplotlib) are imported on first use so that
``import kpitools`` stays fast. Type checkers and editors read the same names from the imports
under ``TYPE_CHECKING`` below (a test keeps them and ``_EXPORTS`` equal).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types of the lazy exports, for mypy, pyright and IDEs
    from . import business_hours, config, periods, plot, quality, report, scenarios, schema, series, stats
    from .catalog import catalog
    from .comparisons import changes, compare_channels, findings, laney, observations
    from .dataset import Dataset
    from .engine import (channels, cohort_table, engagement, kpis, kpis_to_csv, retention, satisfaction, speed,
                         survival_curve)
    from .errors import ConfigError, DatasetError, KpitoolsError, PeriodError
    from .loading import load
    from .warehouse import connect
    from .report.summary import summary
    from .runs import run
    from .sample import write_sample
    from .targets import targets_scorecard

__version__ = "0.1.0"

# public name -> module that defines it; resolved lazily (PEP 562)
_EXPORTS = {
    "load": "loading",
    "connect": "warehouse",
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
    "summary": "report.summary",
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
