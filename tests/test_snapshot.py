"""Dataset snapshots (issue 5): a run validates its dataset once and its kernels reopen it.

``kt.load`` must return the snapshot for the very folder it was taken of and load normally any
other folder; what it returns must be the same dataset. Inside a run the run's folder is never
loaded afresh: a changed input or an unusable snapshot is an error (one dataset per report).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools import memory, snapshot
from kpitools.runs.execute import THREAD_VARIABLES, kernel_environment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "examples" / "call_center", folder)
    return folder


@pytest.fixture
def snap(data, tmp_path, monkeypatch):
    ds = kt.load(data)
    where = snapshot.save(ds, tmp_path / "snap")
    monkeypatch.setenv(snapshot.ENV, str(where))
    return ds, where


def _mode(ds) -> str:
    return ds.store.con.execute("SELECT current_setting('access_mode')").fetchone()[0]


def test_reopened_dataset_is_the_loaded_one(data, snap):
    ds, _ = snap
    again = kt.load(data)
    assert _mode(again) == "read_only" and _mode(ds) == "automatic"
    assert again.path == data and again.as_of == ds.as_of and again.files == ds.files
    pd.testing.assert_frame_equal(again.rejects, ds.rejects)
    pd.testing.assert_frame_equal(again.counts, ds.counts)
    pd.testing.assert_frame_equal(again.tickets, ds.tickets)
    pd.testing.assert_frame_equal(kt.kpis(again, "2021-03"), kt.kpis(ds, "2021-03"))


def test_two_readers_at_once(data, snap):
    a, b = kt.load(data), kt.load(data)
    assert len(a.tickets) == len(b.tickets) == 5_000


def test_without_the_variable_nothing_changes(data, snap, monkeypatch):
    monkeypatch.delenv(snapshot.ENV)
    assert snapshot.reopen(data) is None
    assert _mode(kt.load(data)) == "automatic"


def test_another_folder_is_loaded(data, snap, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(data, other)
    assert snapshot.reopen(other) is None
    assert _mode(kt.load(other)) == "automatic"


def test_a_changed_input_file_is_an_error(data, snap):
    csv = data / "call_center.csv"
    st = csv.stat()
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(snapshot.InputChangedError, match="^input changed during the run: call_center.csv$"):
        kt.load(data)


def test_a_new_or_removed_file_in_the_folder_is_a_change(data, snap):
    (data / "sessions.csv").write_text("session_id,started_at\n")
    with pytest.raises(snapshot.InputChangedError, match="sessions.csv"):
        snapshot.reopen(data)
    (data / "sessions.csv").unlink()
    assert snapshot.reopen(data) is not None
    (data / "dataset.toml").unlink()
    with pytest.raises(snapshot.InputChangedError, match="dataset.toml"):
        snapshot.reopen(data)


def test_a_damaged_or_foreign_snapshot_is_an_error(data, snap, monkeypatch):
    _, where = snap
    monkeypatch.setattr(kt, "__version__", "0.0.0-other")
    with pytest.raises(snapshot.SnapshotError, match="this kernel runs 0.0.0-other"):
        snapshot.reopen(data)
    monkeypatch.undo()
    monkeypatch.setenv(snapshot.ENV, str(where))
    (where / snapshot.META).write_bytes(b"not a pickle")
    with pytest.raises(snapshot.SnapshotError, match="cannot read the run's dataset snapshot"):
        kt.load(data)
    monkeypatch.setenv(snapshot.ENV, str(where / "missing"))
    with pytest.raises(snapshot.SnapshotError):
        snapshot.reopen(data)


def test_snapshot_is_private(snap):
    _, where = snap
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in where.iterdir()} == {
        snapshot.DATABASE: 0o600, snapshot.META: 0o600}


def test_kernel_environment_shares_the_cores_and_the_memory(monkeypatch):
    monkeypatch.delenv(memory.ENV, raising=False)
    monkeypatch.setattr(memory, "_computed", {})
    monkeypatch.setattr(memory, "available_memory", lambda: 3000 * memory.MB)
    cores = os.cpu_count() or 1
    env = kernel_environment(2, "/tmp/x", environ={})
    # two kernels and the run share 40 % of the available memory
    assert env == {**{v: str(max(1, cores // 2)) for v in THREAD_VARIABLES}, snapshot.ENV: "/tmp/x",
                   memory.ENV: "400MiB"}
    assert kernel_environment(cores * 4, environ={memory.ENV: "1GB"}) == {v: "1" for v in THREAD_VARIABLES}
    # what the user set is theirs
    assert "MKL_NUM_THREADS" not in kernel_environment(1, environ={"MKL_NUM_THREADS": "8"})
