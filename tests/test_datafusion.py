"""The same KPI definitions on a second SQL engine (issue 16): ``kt.kpis`` on Apache DataFusion
(through Ibis, from Parquet copies of the stored tables) equals DuckDB's for every KPI, channel
and period. DataFusion differs from DuckDB where it matters to a portable engine: no temporary
tables, no unsigned integers, and it knows which columns cannot be null."""

from __future__ import annotations

import pytest

import kpitools as kt
from kpitools.engine.backend import Backend
from kpitools.sample import write_sample
from tests.factories import kpi_differences

@pytest.fixture(scope="module")
def sample(tmp_path_factory, module_tmpdir):
    return kt.load(write_sample(tmp_path_factory.mktemp("datafusion") / "sample", tickets=1500))


def test_every_kpi_equal_on_datafusion_and_duckdb(sample):
    import ibis

    duck = kt.kpis(sample, "2026-09:2026-10")
    other = kt.kpis(sample, "2026-09:2026-10", backend=Backend("parquet", con=ibis.datafusion.connect()))
    assert len(duck) > 500 and duck["kpi"].nunique() > 40  # the full table, not a corner of it
    assert kpi_differences(duck, other) == []
    assert other.attrs["omitted"] == duck.attrs["omitted"]
