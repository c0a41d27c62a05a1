"""Where the engine runs when the caller names no backend: embedded DuckDB, or Spark.

``KPITOOLS_CONNECTION`` (``duckdb``, the default, or ``spark``) chooses for the whole process;
``kpitools run --connection spark`` sets it for the run and its notebook kernels, so every KPI of
a report comes from the same engine. On DuckDB the engine reads the dataset's store in place; on
Spark it copies the stored tables it needs into one local session shared by the process (a JVM
start costs seconds).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from ..errors import KpitoolsError
from .backend import Backend, Copies

ENV = "KPITOOLS_CONNECTION"
NAMES = ("duckdb", "spark")


def connection() -> str:
    """The engine this process runs on by default (``KPITOOLS_CONNECTION``, else ``duckdb``).

    Examples
    --------
    >>> os.environ.pop(ENV, None) and None; connection()
    'duckdb'
    """
    name = os.environ.get(ENV, "").strip().lower() or "duckdb"
    if name not in NAMES:
        raise KpitoolsError(f"{ENV}={os.environ[ENV]!r} is not an engine kpitools knows; expected duckdb or spark")
    return name


@functools.cache
def _spark() -> Any:
    from .spark import connect

    return connect()


@functools.cache
def _spark_copies() -> Copies:
    return Copies()


def default_backend(store: Any) -> Backend:
    """A backend for one engine run on ``store`` as :func:`connection` says (the caller closes it;
    closing a Spark backend leaves the shared session running). A dataset whose tables live in a
    backend (:func:`kpitools.connect`) runs on that backend, whatever the process default."""
    if getattr(store, "backend", None) is not None:
        return Backend.on_warehouse(store)
    if connection() == "spark":
        return Backend("parquet", con=_spark(), shared=True, copies=_spark_copies())
    return Backend.on_store(store)
