"""An unmapped Parquet file read by DuckDB in one pass loads exactly as the slice reader loads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kpitools as kt
from kpitools import loading, parquet_scan

US = pa.timestamp("us")


def _tickets() -> pa.Table:
    """Rows that pass and rows that fail in every way a typed file can (row numbers 2-13)."""
    n = None
    return pa.table({
        "ticket_id": ["T1", "T2", "T3", "T4", "T5", n, "T2", " T8 ", "T9", "T10", "T11", "T12"],
        "channel": ["chat", "email", "phone", "chat", "chat", "chat", "chat", "chat", " ", "chat", "chat", "chat"],
        "created_at": pa.array([dt.datetime(2026, 10, d) for d in range(1, 12)] + [dt.datetime(9999, 1, 1)], US),
        "first_response_at": pa.array([dt.datetime(2026, 10, 1, 1), n, dt.datetime(2026, 9, 1), n, n, n, n, n, n, n,
                                       n, n], US),
        "resolved_at": pa.array([dt.datetime(2026, 10, 2, 3, 4, 5, 678_901), *[n] * 11], pa.timestamp("ns")),
        "contacts": pa.array([1, 2, n, 0, 1, 1, 1, 1, 1, 1, 1, 1], pa.int64()),
        "reopened": pa.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], pa.int32()),
        "abandoned": [True, False, n, False, False, False, False, False, False, False, False, False],
        "handle_seconds": [1.5, float("inf"), float("nan"), n, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        "wait_seconds": pa.array([1.0, *[n] * 11], pa.float32()),
        "extra_int": pa.array([1, n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], pa.int16()),
        "extra_float": [float("nan"), 1.0, float("inf"), *[0.5] * 9],
        "extra_flag": [n, True, False, *[True] * 7, False, True],
        "seen_at": pa.array([dt.datetime(2026, 10, 1), *[n] * 11], pa.timestamp("ms", "America/New_York")),
    })


def _load(folder: Path, monkeypatch: pytest.MonkeyPatch, scanned: bool) -> tuple[kt.Dataset, list[Path]]:
    used: list[Path] = []
    real = parquet_scan.scan

    def spy(path, *args):
        found = real(path, *args) if scanned else None
        if found is not None:
            used.append(path)
        return found

    monkeypatch.setattr(parquet_scan, "scan", spy)
    monkeypatch.setattr(loading, "CHUNK_ROWS", 4)  # several slices on the reader's path
    return kt.load(folder), used


def _both_ways(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[kt.Dataset, list[Path]]:
    """The folder loaded with its Parquet files scanned and again through the slices: the same
    tables, rejects, counts and provided columns; the scanned dataset and the files scanned."""
    with monkeypatch.context() as m:
        scanned, used = _load(folder, m, scanned=True)
    with monkeypatch.context() as m:
        sliced, _ = _load(folder, m, scanned=False)
    pd.testing.assert_frame_equal(scanned.rejects, sliced.rejects)
    pd.testing.assert_frame_equal(scanned.counts, sliced.counts)
    assert list(scanned.tables) == list(sliced.tables)
    for name in scanned.tables:
        pd.testing.assert_frame_equal(scanned.tables[name], sliced.tables[name])
        assert scanned.provided(name) == sliced.provided(name)
    return scanned, used


def test_a_scanned_file_loads_as_its_slices_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reject reason, the values shown and the kept rows' types, the same both ways."""
    table = _tickets()
    frame = table.to_pandas()
    frame.index = [f"i{i}" for i in range(len(frame))]  # an index column pandas records: ignored
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "tickets.parquet", row_group_size=5)
    (tmp_path / "dataset.toml").write_text('timezone = "Europe/Berlin"\n')
    scanned, used = _both_ways(tmp_path, monkeypatch)
    assert used == [tmp_path / "tickets.parquet"]
    reasons = dict(zip(scanned.rejects["row"], scanned.rejects["reason"]))
    assert reasons == {
        4: "first_response_at before created_at", 3: "handle_seconds is not a finite number",
        5: "contacts is not an integer >= 1", 6: "negative duration in handle_seconds",
        7: "empty required column ticket_id", 10: "empty required column channel",
        13: "timestamp in created_at outside the years 1678-2261"}
    assert scanned.rejects.set_index("row").at[3, "value"] == "inf"
    assert scanned.rejects.set_index("row").at[13, "value"].startswith("9999-01-01")
    kept = scanned.tickets.set_index("ticket_id")
    assert kept.at["T1", "resolved_at"] == pd.Timestamp("2026-10-02 03:04:05.678901", tz="Europe/Berlin")
    assert kept.at["T8", "created_at"] == pd.Timestamp("2026-10-08", tz="Europe/Berlin")  # trimmed key
    assert kept.at["T2", "channel"] == "chat"  # row 8: T2 of row 3 was rejected, so it is no duplicate
    assert str(kept["extra_int"].dtype) == "float64" and pd.isna(kept.at["T1", "extra_flag"])
    assert kept.at["T10", "extra_flag"] == "True" and kept.at["T11", "extra_flag"] == "False"


def test_a_table_from_a_scanned_and_a_read_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of one table mix paths: a Parquet file scanned, a CSV file in slices; duplicates and
    row numbers are judged over both as before."""
    pq.write_table(_tickets().slice(0, 6), tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("ticket_id,channel,created_at\nT1,chat,2026-10-05\nT20,chat,2026-10-06\n"
                                    "T21,chat,yesterday\n")
    (tmp_path / "dataset.toml").write_text('timezone = "UTC"\n[tables.tickets]\nfiles = [{file = "a.parquet"}, '
                                           '{file = "b.csv"}]\n')
    scanned, used = _both_ways(tmp_path, monkeypatch)
    assert used == [tmp_path / "a.parquet"]
    assert scanned.rejects[scanned.rejects["file"] == "b.csv"]["row"].tolist() == [2, 4]


def test_files_it_cannot_express_go_through_the_slices(tmp_path: Path) -> None:
    """A column of nulls, an aware nanosecond timestamp, a name DuckDB reads as a pattern."""
    notes: list[str] = []
    base = {"ticket_id": ["T1"], "channel": ["chat"], "created_at": pa.array([dt.datetime(2026, 10, 1)], US)}
    for name, extra in [("nulls.parquet", {"x": pa.nulls(1)}),
                        ("ns.parquet", {"x": pa.array([dt.datetime(2026, 1, 1)], pa.timestamp("ns", "UTC"))}),
                        ("t[1].parquet", {})]:
        pq.write_table(pa.table({**base, **extra}), tmp_path / name)
        assert parquet_scan.scan(tmp_path / name, notes, frozenset(), None) is None


def test_a_damaged_file_stops_the_load_naming_it(tmp_path: Path) -> None:
    """A page DuckDB cannot decode is a DatasetError naming the file, not a DuckDB traceback."""
    rows = 50_000
    pq.write_table(pa.table({"ticket_id": [f"T{i}" for i in range(rows)], "channel": ["chat"] * rows,
                             "created_at": pa.array([dt.datetime(2026, 10, 1)] * rows, US)}),
                   tmp_path / "tickets.parquet", compression="none", use_dictionary=False)
    data = bytearray((tmp_path / "tickets.parquet").read_bytes())
    data[1000:5000] = b"\xff" * 4000  # inside the ticket_id pages; the footer stays readable
    (tmp_path / "tickets.parquet").write_bytes(bytes(data))
    with pytest.raises(kt.DatasetError, match=r"tickets.parquet: cannot be read as Parquet"):
        kt.load(tmp_path)
