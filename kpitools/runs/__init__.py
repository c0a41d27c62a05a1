"""Monthly runs (SPEC §7): report notebooks executed into immutable, versioned report folders.

>>> import kpitools as kt
>>> kt.run("data/sample", period="2026-10")                 # doctest: +SKIP

Modules: :mod:`.params` (notebooks and their parameters), :mod:`.versions` (``v<N>`` folders and
``LATEST``), :mod:`.tables` (KPI and reject tables), :mod:`.execute` (papermill),
:mod:`.export` (HTML), :mod:`.manifest` (``manifest.json``), :mod:`.index` (``index.html``),
:mod:`.monthly` (:func:`run`).
"""

from __future__ import annotations

from .execute import NotebookResult
from .index import write_index
from .monthly import RunFailedError, RunResult, default_period, run
from .params import parse_params

__all__ = ["NotebookResult", "RunFailedError", "RunResult", "default_period", "parse_params", "run",
           "write_index"]
