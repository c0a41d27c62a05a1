"""Running out of memory: clear errors instead of a silent kill, honest reasons for a dead kernel.

- ``kpitools validate`` under an address-space limit (``RLIMIT_AS``, set in the subprocess once
  its imports are done, so the limit falls on the data) fails with one line naming memory and the
  knob, never a traceback;
- the store's DuckDB limit follows the memory the process may use (cgroup, ``ulimit -v``), and
  DuckDB's out-of-memory error names the table and the knob;
- a kernel that dies by ``SIGKILL`` (tests/notebooks/kills_kernel.ipynb kills its own kernel, as
  the out-of-memory killer would) is reported with its peak memory, and memory is named as the
  likely cause only when the kernel had taken nearly all the memory there was.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import kpitools as kt
from kpitools import memory
from kpitools.dataset import Store
from kpitools.runs import RunFailedError

_spec = importlib.util.spec_from_file_location("kpitools_test_fakes", Path(__file__).parent / "notebooks" / "fakes.py")
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

#: ``kpitools validate`` with everything it imports already loaded, then ``room`` MiB more address space.
LIMITED_VALIDATE = textwrap.dedent("""
    import resource, sys
    import psutil
    from kpitools import cli
    import kpitools.flags, kpitools.loading, kpitools.stats
    room = int(sys.argv[2]) * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (psutil.Process().memory_info().vms + room, resource.RLIM_INFINITY))
    sys.exit(cli.main(["validate", sys.argv[1]]))
""")


def big_dataset(folder: Path, rows: int) -> Path:
    """A tickets-only dataset of ``rows`` tickets (Parquet, built with Arrow in seconds)."""
    folder.mkdir(parents=True)
    (folder / "dataset.toml").write_text('timezone = "UTC"\nas_of = "2026-11-15T12:00:00"\n')
    rng = np.random.default_rng(1)
    created = np.datetime64("2025-10-01", "s") + rng.integers(0, 400 * 86400, rows).astype("timedelta64[s]")

    def text(prefix: str, numbers: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")

    pq.write_table(pa.table({
        "ticket_id": text("T", np.arange(rows)),
        "channel": pa.array(np.array(["email", "chat", "phone"])[rng.integers(0, 3, rows)]),
        "created_at": pa.array(created),
        "first_response_at": pa.array(created + np.timedelta64(3600, "s")),
        "customer_id": text("C", rng.integers(0, rows // 3, rows)),
        "contacts": pa.array(rng.integers(1, 4, rows)),
    }), folder / "tickets.parquet")
    return folder


def test_validate_out_of_memory_is_one_clear_line(tmp_path):
    # 2M tickets need about 600 MB to validate (DuckDB scans the Parquet file); 300 MiB of room is not enough
    data = big_dataset(tmp_path / "big", 2_000_000)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}  # OpenBLAS can spin when threads get no memory
    done = subprocess.run([sys.executable, "-c", LIMITED_VALIDATE, str(data), "300"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("kpitools: error: out of memory")
    assert "KPITOOLS_MEMORY_LIMIT" in last and "Traceback" not in done.stderr


def test_duckdb_out_of_memory_names_the_table_and_the_knob(monkeypatch):
    monkeypatch.setenv(memory.ENV, "1MB")  # far too little for a 200,000-row table, even with spilling
    store = Store()
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(200_000)], "contacts": np.arange(200_000)})
    with pytest.raises(memory.OutOfMemoryError) as info:
        store.append("tickets", frame, np.arange(len(frame)))
    message = str(info.value)
    assert message.startswith("out of memory storing table tickets: DuckDB's memory limit 1MB is not enough")
    assert "Set KPITOOLS_MEMORY_LIMIT higher" in message and "--jobs 1" in message
    store.close()


def test_memory_limit_follows_the_memory_the_process_may_use(monkeypatch):
    monkeypatch.setattr(memory, "_computed", {})
    monkeypatch.delenv(memory.ENV, raising=False)
    monkeypatch.setattr(memory, "available_memory", lambda: 1000 * memory.MB)
    assert memory.memory_limit() == "400MiB"  # 40 % of what is left
    assert memory.memory_limit(4) == "100MiB"  # shared by four processes
    monkeypatch.setattr(memory, "available_memory", lambda: 64_000 * memory.MB)
    assert memory.memory_limit(2) == "768MiB"  # never more than the store needs
    assert memory.memory_limit() == "400MiB"  # fixed once per process: DuckDB's instances share it
    monkeypatch.setenv(memory.ENV, "3GB")
    assert memory.memory_limit() == "3GB"
    monkeypatch.setenv(memory.ENV, "lots")
    with pytest.raises(kt.KpitoolsError, match="KPITOOLS_MEMORY_LIMIT='lots': expected a size"):
        memory.memory_limit()


def test_cgroup_limit_counts_usage_but_not_reclaimable_cache(tmp_path, monkeypatch):
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("805306368\n")  # 768 MiB, of which 256 MiB is cache
    (tmp_path / "memory.stat").write_text("anon 536870912\ninactive_file 268435456\n")
    files = (str(tmp_path / "memory.max"), str(tmp_path / "memory.current"), "inactive_file",
             str(tmp_path / "memory.stat"))
    monkeypatch.setattr(memory, "_CGROUPS", (files,))
    assert memory.cgroup_room() == 512 * memory.MB
    (tmp_path / "memory.max").write_text("max\n")
    assert memory.cgroup_room() is None


@pytest.fixture()
def run_kill(tmp_path):
    data = fakes.write_dataset(tmp_path / "data")
    nbdir = fakes.copy_notebooks(tmp_path / "notebooks")

    def go() -> RunFailedError:
        with pytest.raises(RunFailedError) as info:
            kt.run(data, period="2026-10", notebooks=["kills_kernel"], reports_dir=tmp_path / "reports",
                   notebooks_dir=nbdir, progress=False, engine=fakes.FakeEngine())
        return info.value

    return go


def test_kernel_killed_with_memory_to_spare_is_not_called_out_of_memory(run_kill):
    exc = run_kill()
    (nb,) = exc.result.notebooks
    assert nb.error_name == "DeadKernelError"
    assert nb.error_value.startswith("the kernel was killed (SIGKILL) while using ")
    assert "not for lack of memory" in nb.error_value and "out of memory" not in nb.error_value
    assert nb.error_value in str(exc)


def test_kernel_killed_near_the_memory_limit_is_called_out_of_memory(run_kill, monkeypatch):
    # the machine as the out-of-memory killer sees it: 5 MB left beside a kernel of ~50 MB
    monkeypatch.setattr(memory, "system_room", lambda: 5 * 10 ** 6)
    exc = run_kill()
    (nb,) = exc.result.notebooks
    assert nb.error_value.startswith("the kernel was killed (SIGKILL) while using ")
    assert "with 5 MB left (largest sample): most likely out of memory" in nb.error_value
    assert "--jobs 1" in nb.error_value
    manifest = (exc.result.path / "manifest.json").read_text()
    assert "most likely out of memory" in manifest
