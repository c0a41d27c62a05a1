"""The dataset's DuckDB store, slice-by-slice loading and the engine's SQL clocks (issue 3).

Large datasets are validated in slices and kept in DuckDB; these tests pin that the result is
the same as validating everything at once, that the stored tables come back with the documented
pandas dtypes, and that the engine's SQL local-time and business-hours arithmetic agrees with
pandas and with :class:`~kpitools.business_hours.BusinessClock`.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpitools as kt
import kpitools.dataset as dataset_module
import kpitools.loading as loading
from kpitools.dataset import Dataset, Store
from kpitools.engine import clock as engine_clock
from kpitools.engine import context as engine_context
from kpitools.engine import kpis_to_csv
from kpitools.timeparse import utc_offsets

from tests.factories import make_dataset, tickets

ROOT = Path(__file__).resolve().parent.parent
TEXT = pd.StringDtype("pyarrow")


def _frame(n: int, offset: int = 0) -> pd.DataFrame:
    stamps = pd.Series(pd.date_range("2026-03-28 23:00", periods=n, freq="37min", tz="Europe/Berlin"))
    return pd.DataFrame({
        "aware": stamps.where(np.arange(n) % 3 != 0),                       # NaT every third row
        "naive": stamps.dt.tz_localize(None).dt.as_unit("ns"),
        "text": pd.Series([f"x{i + offset}" if i % 4 else None for i in range(n)], dtype=TEXT),
        "flag": np.arange(n) % 2 == 0,
        "count": np.arange(n, dtype=np.int64) + offset,
        "amount": np.where(np.arange(n) % 5 == 0, np.nan, np.arange(n) * 1.5),
    })


def test_store_gives_back_what_it_was_given():
    a, b = _frame(7), _frame(5, offset=100)
    store = Store(on_disk=True)
    store.append("t", a, rows=np.arange(2, 9))
    store.append("t", b, rows=np.arange(9, 14))
    expected = pd.concat([a, b], ignore_index=True)
    pd.testing.assert_frame_equal(store.frame("t"), expected, check_exact=True)
    assert store.rows("t") == 12 and store.columns("t") == list(a.columns)
    assert store.has_values("t", "amount") and not store.has_values("t", "missing")
    lo, hi = store.span()  # over both timestamp columns; the naive one holds wall time
    assert lo == expected["aware"].min().value
    assert hi == expected["naive"].max().value
    store.delete_rows("t", [2, 9])
    assert store.rows("t") == 10
    folder = store.folder
    store.close()
    assert not folder.exists()


def _messy(folder: Path) -> Path:
    """A small dataset whose problems straddle slice boundaries: bad CSV rows, a duplicate key
    written with spaces, a duplicate far from its first row, Parquet with several row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir()
    (folder / "dataset.toml").write_text('timezone = "Europe/Berlin"\nas_of = "2026-11-01"\n')
    lines = ["ticket_id,channel,created_at,first_response_at,contacts"]
    for i in range(2, 30):
        if i in (4, 11):
            lines.append(f"T{i},chat")                                       # too few fields
        elif i == 17:
            lines.append(" T5 ,chat,2026-10-03 10:00,,1")                     # duplicate of row 5
        elif i == 23:
            lines.append(f"T{i},chat,2026-10-03 10:00,2026-10-02 10:00,1")    # reply before creation
        else:
            lines.append(f"T{i},{'chat' if i % 2 else 'email'},2026-10-{1 + i % 20:02d} 09:00,,{1 + i % 3}")
    (folder / "tickets.csv").write_text("\n".join(lines) + "\n")
    sessions = pa.table({"session_id": [f"S{i % 9}" for i in range(40)],
                         "started_at": pa.array(pd.date_range("2026-10-01", periods=40, freq="7h"))})
    pq.write_table(sessions, folder / "sessions.parquet", row_group_size=6)
    return folder


@pytest.mark.parametrize("size", [1, 3, 8])
def test_slices_give_the_same_dataset_as_one_pass(tmp_path, monkeypatch, size):
    folder = _messy(tmp_path / "d")
    whole = kt.load(folder)
    monkeypatch.setattr(loading, "CHUNK_ROWS", size)
    sliced = kt.load(folder)
    for name in whole.tables:
        pd.testing.assert_frame_equal(sliced.tables[name], whole.tables[name], check_exact=True)
    pd.testing.assert_frame_equal(sliced.rejects, whole.rejects)
    pd.testing.assert_frame_equal(sliced.counts, whole.counts)


def test_rejects_of_a_sliced_load_are_numbered_by_spreadsheet_row(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "CHUNK_ROWS", 4)
    ds = kt.load(_messy(tmp_path / "d"))
    tickets = ds.rejects[ds.rejects["table"] == "tickets"]
    # rows in file order, then the unparseable CSV rows; the duplicate keeps its raw text
    assert tickets["row"].tolist() == [17, 23, 4, 11]
    assert tickets["value"].tolist()[0] == " T5 "
    sessions = ds.rejects[ds.rejects["table"] == "sessions"]
    assert sessions["row"].tolist() == list(range(11, 42))                 # S0..S8 repeat from row 11
    assert ds.counts.set_index("table").loc["tickets", ["rows_in", "rows_kept", "rows_rejected"]].tolist() == [28, 24, 4]


def test_a_loaded_dataset_and_the_same_frames_give_identical_kpis():
    sample = ROOT / "data" / "sample"
    ds = kt.load(sample)
    frames = Dataset(ds.path, ds.config, tables={k: ds.tables[k] for k in ds.tables}, as_of=ds.as_of)
    assert kpis_to_csv(kt.kpis(frames, "2026-09:2026-10")) == kpis_to_csv(kt.kpis(ds, "2026-09:2026-10"))
    assert repr(frames) == repr(ds)


def _key_pairs(store: Store) -> pd.DataFrame:
    parts = [store.con.execute(f'SELECT CAST(customer_id AS VARCHAR) AS id, __kt_key AS k FROM "{t}"').df()
             for t in store.dtypes if "customer_id" in store.dtypes[t]]
    return pd.concat(parts, ignore_index=True)


def test_customer_keys_are_one_integer_per_id_across_tables():
    store = Store(on_disk=False)
    store.append("customers", pd.DataFrame({"customer_id": pd.Series(["a", "b", "c"], dtype=TEXT)}), rows=[2, 3, 4])
    store.append("activity", pd.DataFrame({"customer_id": pd.Series(["b", None, "a", "z"], dtype=TEXT)}),
                 rows=[2, 3, 4, 5])
    store.append("sessions", pd.DataFrame({"customer_id": [7, 7]}), rows=[2, 3])  # numbers key as their text
    store.append("costs", pd.DataFrame({"amount": [1.0]}), rows=[2])
    store.customer_keys()
    pairs = _key_pairs(store)
    assert pairs.loc[pairs["id"].isna(), "k"].isna().all()               # no id, no key
    known = pairs.dropna(subset=["id"]).drop_duplicates()
    assert set(known["id"]) == {"a", "b", "c", "z", "7"}
    assert known["id"].is_unique and known["k"].is_unique and known["k"].notna().all()
    assert store.hidden("costs") == ["__kt_row"] and "__kt_key" in store.arrow("activity").column_names
    assert store.columns("activity") == ["customer_id"]                 # hidden from the tables' users


def test_colliding_customer_keys_are_renumbered_and_give_the_same_kpis(monkeypatch):
    ds = kt.load(ROOT / "data" / "sample")
    expected = kpis_to_csv(kt.kpis(ds, "2026-09:2026-10"))
    monkeypatch.setattr(dataset_module, "_key_sql", lambda text: "CAST(42 AS UBIGINT)")  # every id collides
    frames = Dataset(ds.path, ds.config, tables={k: ds.tables[k] for k in ds.tables}, as_of=ds.as_of)
    store = frames.store
    assert _key_pairs(store)["k"].dropna().eq(42).all()
    store.customer_keys()
    known = _key_pairs(store).dropna(subset=["id"]).drop_duplicates()
    assert known["id"].is_unique and known["k"].is_unique
    ids = set().union(*(ds.tables[t]["customer_id"].dropna() for t in ds.tables if "customer_id" in ds.tables[t]))
    assert set(known["id"]) == ids
    assert kpis_to_csv(kt.kpis(frames, "2026-09:2026-10")) == expected
    # rows added after a renumbering get hash keys again; the next check renumbers once more
    store.append("activity", ds.tables["activity"].head(3), rows=[10**9, 10**9 + 1, 10**9 + 2])
    store.customer_keys()
    known = _key_pairs(store).dropna(subset=["id"]).drop_duplicates()
    assert known["id"].is_unique and known["k"].is_unique


def test_business_hours_by_buckets_and_by_asof_join_agree(monkeypatch):
    sample = ROOT / "data" / "sample"
    ds = kt.load(sample)
    buckets = kpis_to_csv(kt.kpis(ds, "2026-10"))
    monkeypatch.setattr(engine_clock, "MAX_CLOCK_BUCKETS", 0)  # force the ASOF fallback
    assert kpis_to_csv(kt.kpis(ds, "2026-10")) == buckets
    assert "coverage_pct" in buckets and "frt_bh_median_h" in buckets


@settings(max_examples=25, deadline=None)
@given(zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]),
       start=st.integers(-2_000_000_000, 2_500_000_000), seed=st.integers(0, 2**32 - 1))
def test_utc_offsets_match_pandas(zone, start, seed):
    lo = start * 1_000_000_000
    hi = lo + 3 * 365 * 86_400_000_000_000
    t = np.random.default_rng(seed).integers(lo, hi, 2_000)
    bounds, offsets = utc_offsets(zone, lo, hi)
    local = t + offsets[np.searchsorted(bounds, t, side="right")]
    expected = pd.DatetimeIndex(t.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
    np.testing.assert_array_equal(local, expected.tz_localize(None).asi8)


@settings(max_examples=20, deadline=None)
@given(zone=st.sampled_from(["Europe/Berlin", "America/Santiago", "America/Havana", "Australia/Lord_Howe",
                             "Asia/Kolkata", "Pacific/Apia", "UTC"]),
       start=st.integers(0, 1_700_000_000), seed=st.integers(0, 2**32 - 1))
def test_engine_local_months_and_days_match_pandas(zone, start, seed):
    # Santiago and Havana change their clocks at midnight, so some months start in a skipped or
    # repeated hour; Apia skipped a whole day in 2011; Lord Howe shifts by 30 minutes
    lo, hi = pd.Timestamp(start, unit="s", tz="UTC"), pd.Timestamp(start + 4 * 365 * 86_400, unit="s", tz="UTC")
    ds = make_dataset(tickets=tickets(2, created=[lo.tz_convert(zone), hi.tz_convert(zone)]), timezone=zone,
                      as_of=hi.tz_convert(zone))
    with engine_context.Context(ds, None) as ctx:
        time = ctx.time
        edges = np.concatenate([time.month_steps[0], time.bounds])
        t = np.concatenate([np.random.default_rng(seed).integers(lo.value, hi.value, 2_000), edges - 1, edges,
                            edges + 1, [lo.value, hi.value]])
        t = t[(t >= lo.value) & (t <= hi.value)]
        t = t - t % 1000  # stored instants are whole microseconds
        x = ibis.memtable(pd.DataFrame({"ns": t}))
        us = time.us(x.ns)
        got = ctx.execute(x.select(m=time.mon(us, x.ns), m_us=time.mon(us), d=time.day(us, x.ns)))
    local = pd.DatetimeIndex(t.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone).tz_localize(None).values
    np.testing.assert_array_equal(got["m"], local.astype("datetime64[M]").view("i8"))
    np.testing.assert_array_equal(got["m_us"], got["m"])
    np.testing.assert_array_equal(got["d"], local.astype("datetime64[D]").view("i8"))


def test_usage_scales_the_activity_and_nothing_else(tmp_path):
    import pyarrow.parquet as pq

    base = kt.write_sample(tmp_path / "base", seed=3, tickets=3_000)
    less = kt.write_sample(tmp_path / "less", seed=3, tickets=3_000, usage=0.4)
    for name in ("tickets.parquet", "sessions.parquet", "surveys.csv", "customers.csv"):
        assert (base / name).read_bytes() == (less / name).read_bytes()
    rows = [pq.ParquetFile(f / "activity.parquet").metadata.num_rows for f in (base, less)]
    assert rows[1] < 0.8 * rows[0]


def test_default_sample_is_unchanged():
    sample = ROOT / "data" / "sample"
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = kt.write_sample(tmp, seed=7, tickets=50_000)
        for file in sorted(sample.iterdir()):
            if file.suffix in (".parquet", ".csv", ".toml"):
                assert (out / file.name).read_bytes() == file.read_bytes(), file.name


def test_a_month_starting_in_a_repeated_hour_is_bucketed_by_wall_time():
    # Havana fell back from 01:00 to 00:00 on 2015-11-01: 00:30 happened twice, both in November
    from tests.factories import make_dataset, pick

    created = pd.Series(pd.to_datetime(["2015-10-31T23:30:00-04:00", "2015-11-01T00:30:00-04:00",
                                        "2015-11-01T00:30:00-05:00", "2015-11-02T10:00:00-05:00"], utc=True))
    # abandoned, so no backlog rule keeps a ticket that the period's own test would drop
    ds = make_dataset(tickets={"ticket_id": ["a", "b", "c", "d"], "channel": ["chat"] * 4, "abandoned": [True] * 4,
                               "created_at": created.dt.tz_convert("America/Havana")},
                      timezone="America/Havana", as_of="2015-11-20")
    assert pick(kt.kpis(ds, "2015-10"), "tickets")["value"] == 1
    assert pick(kt.kpis(ds, "2015-11"), "tickets")["value"] == 3


def test_a_new_store_removes_the_folders_of_dead_processes(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    dead, alive = tmp_path / "kpitools-store-dead", tmp_path / "kpitools-store-alive"
    for folder, pid in ((dead, ended.pid), (alive, 1)):  # pid 1 always runs
        folder.mkdir()
        (folder / "owner.pid").write_text(str(pid))
    store = Store(on_disk=True)
    assert not dead.exists() and alive.exists() and store.folder.parent == tmp_path
    store.close()
