"""The same KPI definitions on Spark (issue 16): ``kt.kpis`` on a local PySpark session equals
DuckDB's for every KPI, channel and period, and a monthly run with ``--connection spark`` works.

Marked ``spark`` (a JVM start costs seconds and a local session about 1 GB): skip it locally
with ``-m "not spark"``; CI runs it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools.engine.backend import Backend
from kpitools.engine.connection import connection
from kpitools.sample import write_sample
from tests.factories import kpi_differences

pytestmark = pytest.mark.spark

PERIODS = "2026-09:2026-10"
#: The notebooks of the Spark run: the run's KPI tables (the month and its 13-month trend) are
#: computed on Spark whatever the notebooks; these two add the engine's durations, series,
#: conversations and SLA calls from kernels (each kernel starts its own JVM, so all eight would
#: cost CI minutes for no further engine path).
RUN_NOTEBOOKS = ("01_speed_and_operations", "06_conversations_and_sla")


@pytest.fixture(scope="module")
def spark_backend():
    from kpitools.engine import spark

    con = spark.connect()
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def sample(tmp_path_factory, module_tmpdir):
    return kt.load(write_sample(tmp_path_factory.mktemp("spark") / "sample", tickets=1500))


def test_every_kpi_equal_on_spark_and_duckdb(sample, spark_backend):
    duck = kt.kpis(sample, PERIODS)
    spark = kt.kpis(sample, PERIODS, backend=Backend("parquet", con=spark_backend))
    assert len(duck) > 500 and duck["kpi"].nunique() > 40  # the full table, not a corner of it
    assert set(duck["period"]) == {"2026-09", "2026-10"}
    assert kpi_differences(duck, spark) == []
    assert spark.attrs["omitted"] == duck.attrs["omitted"]


def test_families_and_series_equal_on_spark(sample, spark_backend):
    backend = Backend("parquet", con=spark_backend)
    for family in (kt.speed, kt.satisfaction):
        duck, spark = family(sample, "2026-10"), family(sample, "2026-10", backend=backend)
        pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-9, atol=1e-9)


def test_connection_names(monkeypatch):
    assert connection() == "duckdb"
    monkeypatch.setenv("KPITOOLS_CONNECTION", "spark")
    assert connection() == "spark"
    monkeypatch.setenv("KPITOOLS_CONNECTION", "oracle")
    with pytest.raises(kt.KpitoolsError, match="KPITOOLS_CONNECTION.*duckdb or spark"):
        connection()


def test_monthly_run_on_spark(tmp_path, module_tmpdir):
    data = write_sample(tmp_path / "data", tickets=800)
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "kpitools.cli", "run", "--dataset", str(data), "--period", "2026-10",
                           "--reports-dir", str(reports), "--connection", "spark", "--quiet",
                           "--notebooks", *RUN_NOTEBOOKS],
                          capture_output=True, text=True, timeout=1200, env={**os.environ})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    version = next(p for p in (reports / "2026-10").iterdir() if p.is_dir())
    kpis = pd.read_csv(version / "kpis.csv")
    local = kt.kpis(kt.load(data), "2026-10")
    assert kpi_differences(local, kpis.astype({"period": str})) == []
    manifest = (version / "manifest.json").read_text()
    assert '"connection": "spark"' in manifest
    assert not math.isnan(kpis.loc[(kpis.kpi == "tickets") & (kpis.channel == "all"), "value"].iloc[0])


def test_dataset_in_spark_is_validated_and_reported_there(tmp_path, spark_backend):
    """``kt.connect`` on Spark tables (views here, as a lakehouse names them): the rules run in
    Spark, instants and wall times keep their meaning, and the KPIs equal those of the files."""
    folder = write_sample(tmp_path / "sample", tickets=600)
    # the tickets alone: each table costs Spark tens of seconds of planning, and every table's
    # path is tests/test_warehouse.py's on DuckDB (messages and status changes are read from files only)
    for path in folder.glob("*.*"):
        if path.name.split(".")[0] not in ("tickets", "dataset"):
            path.unlink()
    files = kt.load(folder)
    session = spark_backend._session
    for name in files.tables:
        frame = files.tables[name].copy()
        for column in frame.columns:  # Spark takes text as Python objects and instants in UTC
            if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                frame[column] = frame[column].dt.tz_convert("UTC")
            elif pd.api.types.is_string_dtype(frame[column].dtype):
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        session.createDataFrame(frame).createOrReplaceTempView(f"kt_{name}")
    ds = kt.connect(spark_backend, {name: f"kt_{name}" for name in files.tables}, config=folder)
    assert ds.rejects.empty and list(ds.counts["rows_kept"]) == [files.rows(t) for t in ds.counts["table"]]
    assert ds.as_of == files.as_of
    assert kpi_differences(kt.kpis(files, "2026-10"), kt.kpis(ds, "2026-10")) == []
    assert len(spark_backend.table("kpitools_rejects").execute()) == 0
