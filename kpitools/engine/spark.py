"""PySpark as the engine's backend (the ``spark`` extra): a local session, or the caller's own.

A local session listens on the loopback interface only (by default Spark binds to the machine's
network address), keeps its UI off and its driver small, and reads and writes timestamps in UTC
(the engine only ever hands Spark integer microseconds, so the session time zone changes nothing
but is pinned all the same). For a cluster, build the session as the cluster wants it
(``spark-submit``, Databricks' ``spark``) and pass it to :func:`connect`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any

from ..errors import KpitoolsError

#: The settings of a local session: loopback only, no UI, a modest driver, UTC, few shuffle
#: partitions (a 2-core machine gains nothing from Spark's default of 200), and results handed to
#: Python as Arrow (without it ``toPandas`` pickles rows in the driver: at 10M tickets one
#: month's duration counts ran a 1 GB driver out of heap).
LOCAL_CONFIG = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def local_session(cores: int = 2) -> Any:
    """A local Spark session (``local[cores]``) with :data:`LOCAL_CONFIG`; the running one if
    there is one. Starting the JVM takes several seconds: share one session per process."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise KpitoolsError("the Spark backend needs PySpark: pip install 'kpitools[spark]' "
                            "(and Java 17 or later on the PATH)") from None
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(f"local[{cores}]").appName("kpitools")
    for key, value in {**LOCAL_CONFIG, "spark.sql.warehouse.dir": _warehouse_dir()}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # FATAL: a plan too large for code generation logs a long Java stack trace at ERROR level
    # although Spark then runs it interpreted, as designed; real failures still raise in Python
    session.sparkContext.setLogLevel("FATAL")
    return session


def _warehouse_dir() -> str:
    """A private folder for the tables a local session writes (the rejects of
    :func:`kpitools.connect`), removed at exit: a local session's catalog lives in memory, and
    files left in the working directory would block the same table in the next session."""
    folder = tempfile.mkdtemp(prefix="kpitools-spark-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def connect(session: Any = None) -> Any:
    """An Ibis PySpark connection on ``session`` (a local one from :func:`local_session` when
    none is given)."""
    import ibis

    return ibis.pyspark.connect(session if session is not None else local_session())
