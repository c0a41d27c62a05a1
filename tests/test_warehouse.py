"""A dataset whose tables stay in a backend (issue 16): ``kt.connect`` validates them there, writes
the rejects back, and the KPIs, flags and a monthly run equal those of the same tables as files.

The backend here is a DuckDB database file, a warehouse as DuckDB keeps one; Spark's turn is in
``test_spark.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

import kpitools as kt
from kpitools.errors import ConfigError, DatasetError
from kpitools.sample import write_sample

BERLIN = "Europe/Berlin"


def _warehouse(path: Path, ds: kt.Dataset) -> ibis.BaseBackend:
    """The validated tables of ``ds`` as tables of a DuckDB file (timestamps as TIMESTAMPTZ)."""
    con = ibis.duckdb.connect(str(path))
    for name in ds.tables:
        con.create_table(name, ds.tables[name], overwrite=True)
    return con


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A sample without the conversation tables (read from files only) and its warehouse copy."""
    folder = write_sample(tmp_path_factory.mktemp("wh") / "sample", tickets=2000)
    for name in ("messages", "status_changes"):
        (folder / f"{name}.parquet").unlink()
    ds = kt.load(folder)
    _warehouse(folder.parent / "warehouse.duckdb", ds).disconnect()
    return folder, ds


@pytest.fixture(scope="module")
def connected(files):
    folder, ds = files
    con = ibis.duckdb.connect(str(folder.parent / "warehouse.duckdb"))
    return kt.connect(con, {name: name for name in ds.tables}, config=folder)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_tables_kpis_and_flags_equal_those_of_the_files(files, connected):
    _, ds = files
    assert connected.as_of == ds.as_of and connected.channels == ds.channels
    for name in ds.tables:
        pd.testing.assert_frame_equal(_sorted(ds.tables[name]), _sorted(connected.tables[name]))
    periods = "2026-09:2026-10"
    pd.testing.assert_frame_equal(kt.kpis(ds, periods), kt.kpis(connected, periods))
    # the same flags; their example rows are numbered in the backend's order, not the file's
    columns = ["table", "column", "flag", "rows", "note"]
    pd.testing.assert_frame_equal(ds.flags[columns], connected.flags[columns])


def test_counts_add_up_and_no_rows_rejected(files, connected):
    counts = connected.counts
    assert (counts["rows_in"] == counts["rows_kept"] + counts["rows_rejected"]).all()
    assert list(counts["rows_in"]) == [files[1].rows(t) for t in counts["table"]]
    assert connected.rejects.empty


def test_bad_rows_are_rejected_in_the_backend_and_written_back():
    con = ibis.duckdb.connect()
    con.create_table("tk", pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3", "t4", "t1"],
        "channel": ["chat", "chat", "email", "chat", "chat"],
        "created_at": ["2026-10-01 09:00", "yesterday", "2026-10-02 10:00", "2026-10-03 08:00", "2026-10-04 08:00"],
        "handle_seconds": [60.0, 60.0, -5.0, 30.0, 10.0],
    }))
    ds = kt.connect(con, {"tickets": "tk"}, rejects_table="bad_rows")
    assert ds.counts[["rows_in", "rows_kept", "rows_rejected"]].values.tolist() == [[5, 2, 3]]
    # rows are numbered by the key, then the other columns: t1 (09:00) 1, t1 (08:00 on the 4th) 2, t2 3, ...
    assert ds.rejects[["file", "row", "column", "value", "reason"]].values.tolist() == [
        ["tk", 2, "ticket_id", "t1", "duplicate ticket_id (the first row is kept)"],
        ["tk", 3, "created_at", "yesterday",
         "unparseable timestamp in created_at (expected YYYY-MM-DD[ HH:MM[:SS]][±HH:MM])"],
        ["tk", 4, "handle_seconds", "-5.0", "negative duration in handle_seconds"],
    ]
    back = con.table("bad_rows").execute()
    pd.testing.assert_frame_equal(back, ds.rejects.astype({"row": "int64"}), check_dtype=False)


def test_naive_timestamps_are_wall_times_and_aware_ones_instants():
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE tk AS SELECT 't1' AS ticket_id, 'chat' AS channel, "
                "TIMESTAMP '2026-10-01 12:00:00' AS created_at, "
                "TIMESTAMPTZ '2026-10-01 12:00:00+00' AS first_response_at")
    config = kt.config.DatasetConfig(folder=Path("."), timezone=BERLIN)
    t = kt.connect(con, {"tickets": "tk"}, config=config).tickets
    assert t["created_at"][0] == pd.Timestamp("2026-10-01 12:00", tz=BERLIN)  # wall time in Berlin
    assert t["first_response_at"][0] == pd.Timestamp("2026-10-01 12:00", tz="UTC")  # 14:00 in Berlin


def test_mistakes_are_errors_that_name_them(tmp_path):
    con = ibis.duckdb.connect()
    con.create_table("tk", pd.DataFrame({"ticket_id": ["t1"], "created_at": ["2026-10-01"]}))
    with pytest.raises(DatasetError, match="missing required column 'channel' of table tickets"):
        kt.connect(con, {"tickets": "tk"})
    with pytest.raises(DatasetError, match="table 'nope' .*not found"):
        kt.connect(con, {"tickets": "nope"})
    with pytest.raises(DatasetError, match="table messages cannot be read from a backend"):
        kt.connect(con, {"tickets": "tk", "messages": "tk"})
    with pytest.raises(DatasetError, match="no tickets table"):
        kt.connect(con, {"surveys": "tk"})
    (tmp_path / "dataset.toml").write_text('[tables.tickets]\ntable = "tk"\nfile = "t.csv"\n')
    with pytest.raises(ConfigError, match=r"\[tables.tickets\] table: a table in a backend takes only"):
        kt.connect(con, config=tmp_path)
    (tmp_path / "dataset.toml").write_text('[connection]\nurl = "warehouse"\n')
    with pytest.raises(ConfigError, match=r"\[connection\] url: expected a URL"):
        kt.load(tmp_path)
    (tmp_path / "dataset.toml").write_text('[connection]\nurl = "duckdb://missing.duckdb"\n')
    with pytest.raises(DatasetError, match="missing.duckdb: no such DuckDB database"):
        kt.load(tmp_path)


def test_column_renames_apply(tmp_path):
    con = ibis.duckdb.connect()
    con.create_table("tk", pd.DataFrame({"id": ["t1"], "via": ["chat"], "opened": ["2026-10-01 09:00"]}))
    (tmp_path / "dataset.toml").write_text(
        '[tables.tickets]\ntable = "tk"\ncolumns = { ticket_id = "id", channel = "via", created_at = "opened" }\n')
    ds = kt.connect(con, config=tmp_path)
    assert ds.tickets[["ticket_id", "channel"]].values.tolist() == [["t1", "chat"]]


def test_monthly_run_on_a_dataset_in_a_backend(files, tmp_path):
    """``kpitools run`` on a folder whose dataset.toml names the backend: the kernels validate in
    the (read-only) DuckDB file again, and the run's KPI table equals the files' own."""
    folder, ds = files
    where = tmp_path / "in_backend"
    where.mkdir()
    shutil.copy(folder.parent / "warehouse.duckdb", where / "warehouse.duckdb")
    toml = (folder / "dataset.toml").read_text()
    tables = "".join(f'[tables.{name}]\ntable = "{name}"\n' for name in ds.tables)
    (where / "dataset.toml").write_text(f'{toml}\n[connection]\nurl = "duckdb://warehouse.duckdb"\n\n{tables}')
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "kpitools.cli", "run", "--dataset", str(where), "--period", "2026-10",
                           "--notebooks", "01_speed_and_operations", "--reports-dir", str(reports), "--jobs", "1",
                           "-q"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    got = pd.read_parquet(next(reports.glob("2026-10/v1/*.parquet")))
    want = kt.kpis(ds, "2026-10")
    assert len(got) > 100
    pd.testing.assert_frame_equal(got[want.columns].query("period == '2026-10'").reset_index(drop=True),
                                  want.reset_index(drop=True), check_dtype=False)


def test_a_customer_with_several_tickets_keeps_each_ticket_once():
    """The customer keys are numbered over the distinct ids even with one table holding them."""
    con = ibis.duckdb.connect()
    con.create_table("tk", pd.DataFrame({"ticket_id": ["t1", "t2", "t3"], "channel": ["chat"] * 3,
                                         "created_at": ["2026-10-01", "2026-10-02", "2026-10-03"],
                                         "customer_id": ["c1", "c1", "c2"]}))
    ds = kt.connect(con, {"tickets": "tk"})
    assert ds.tickets["ticket_id"].tolist() == ["t1", "t2", "t3"]
    keys = ds.store.arrow("tickets").column("__kt_key").to_pylist()
    assert keys[0] == keys[1] != keys[2]
