"""kt.run: versioned, immutable report folders; up-front validation; failures; concurrency.

Uses the tiny test notebooks of tests/notebooks (ok: succeeds, reads kpis_path, plots; fails:
raises ValueError in cell index 2), a six-ticket dataset loaded by the real loader, and a
stand-in KPI engine (tests/notebooks/fakes.py). Kernels take ~1.5 s each, so the runs are
shared by a module fixture: v1 (ok), v2 (ok again), v3 (ok + fails, jobs=2).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import html as html_lib
import importlib.util
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import kpitools as kt
from kpitools import cli, snapshot
from kpitools.errors import KpitoolsError
from kpitools.runs import RunFailedError, parse_params
from kpitools.runs.execute import workspace
from kpitools.runs.versions import claim_version, this_host

_spec = importlib.util.spec_from_file_location("kpitools_test_fakes", Path(__file__).parent / "notebooks" / "fakes.py")
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

REPO = Path(__file__).resolve().parents[1]


def tree_hash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    fakes.write_dataset(root / "data")
    fakes.copy_notebooks(root / "notebooks")
    return root


def _run(ws: Path, reports: Path | None = None, **kw):
    kw.setdefault("progress", False)
    return kt.run(ws / "data", reports_dir=reports or ws / "reports", notebooks_dir=ws / "notebooks",
                  engine=fakes.FakeEngine(), **kw)


@pytest.fixture(scope="module")
def runs(ws, module_tmpdir):
    out = {}
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        # no period: the default is the last complete month before as_of 2026-11-15
        out["r1"] = _run(ws, notebooks=["ok"], progress=True)
    out["stderr1"] = err.getvalue()
    v1 = ws / "reports" / "2026-10" / "v1"
    out["v1_after_r1"] = tree_hash(v1)
    out["latest_after_r1"] = (ws / "reports" / "2026-10" / "LATEST").read_text()
    out["index_after_r1"] = (ws / "reports" / "index.html").read_text()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        out["r2"] = _run(ws, period="2026-10", notebooks=["ok.ipynb"])
    out["stderr2"] = err.getvalue()
    out["v2_after_r2"] = tree_hash(ws / "reports" / "2026-10" / "v2")
    with pytest.raises(RunFailedError) as info:
        _run(ws, period="2026-10", notebooks=["ok", "fails"], jobs=2)
    out["r3_error"] = info.value
    out["v1_after_r3"] = tree_hash(v1)
    out["v2_after_r3"] = tree_hash(ws / "reports" / "2026-10" / "v2")
    return out


def test_first_run_writes_a_complete_version(ws, runs):
    r1 = runs["r1"]
    v1 = ws / "reports" / "2026-10" / "v1"
    assert (r1.period, r1.version, r1.path, r1.status, r1.reproduces) == ("2026-10", "v1", v1, "succeeded", None)
    assert [n.name for n in r1.notebooks] == ["ok"] and r1.notebooks[0].status == "succeeded"
    assert {"ok.ipynb", "ok.html", "manifest.json", "kpis.csv", "kpis.parquet", "rejects.csv"} <= set(runs["v1_after_r1"])
    assert runs["latest_after_r1"] == "v1\n"
    assert 'href="2026-10/v1/ok.html"' in runs["index_after_r1"]


def test_notebook_gets_parameters_and_reads_kpis_path(ws, runs):
    nb = nbformat.read(ws / "reports" / "2026-10" / "v1" / "ok.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f'dataset = "{ws / "data"}"' in injected.source and 'period = "2026-10"' in injected.source
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    # the 13-month trend 2025-10..2026-10, read from kpis_path with the notebooks folder as cwd
    assert "periods: 13 from 2025-10 to 2026-10" in text


def test_kpis_csv_is_exactly_the_engine_table(ws, runs):
    engine = fakes.FakeEngine()
    ds = kt.load(ws / "data")
    expected = ws / "expected_kpis.csv"
    engine.kpis_to_csv(engine.kpis(ds, period="2026-10"), expected)
    v1 = ws / "reports" / "2026-10" / "v1"
    assert (v1 / "kpis.csv").read_bytes() == expected.read_bytes()
    trend = pd.read_parquet(v1 / "kpis.parquet")
    assert trend["period"].nunique() == 13
    # Oct 2026 keeps t3 and t4 (t5, t6 rejected): 2 tickets; Sep: t2 only
    tickets = trend[trend["kpi"].eq("tickets") & trend["channel"].eq("all")].set_index("period")["value"]
    assert (tickets["2026-10"], tickets["2026-09"], tickets["2025-10"]) == (2, 1, 0)


def test_rejects_csv_is_neutralised(ws, runs):
    rejects = pd.read_csv(ws / "reports" / "2026-10" / "v1" / "rejects.csv", dtype=str)
    assert list(rejects.columns) == ["table", "file", "row", "column", "value", "reason"]
    # the formula typed into `contacts` is quoted; the negative number is left as it was
    assert rejects["value"].tolist() == ["'=HYPERLINK(\"http://x\")", "-5"]


def test_manifest(ws, runs):
    path = ws / "reports" / "2026-10" / "v1" / "manifest.json"
    text = path.read_text()
    m = json.loads(text)
    assert text == json.dumps(m, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert m["inputs"] == {name: hashlib.sha256((ws / "data" / name).read_bytes()).hexdigest()
                           for name in ("dataset.toml", "tickets.csv")}
    assert m["parameters"]["period"] == "2026-10" and m["parameters"]["dataset"] == str(ws / "data")
    assert m["kpitools"]["version"] == kt.__version__ and len(m["kpitools"]["source_sha256"]) == 64
    assert m["packages"]["pandas"] == pd.__version__
    assert {"numpy", "scipy", "statsmodels", "ibis-framework", "duckdb", "papermill", "matplotlib",
            "seaborn", "nbconvert"} <= set(m["packages"])
    (nb,) = m["notebooks"]
    assert nb["name"] == "ok" and nb["status"] == "succeeded" and nb["duration_s"] > 0
    assert nb["source_sha256"] == hashlib.sha256((ws / "notebooks" / "ok.ipynb").read_bytes()).hexdigest()
    assert nb["failed_cell_index"] is None and nb["error_name"] is None
    assert m["status"] == "succeeded" and m["reproduces"] is None and m["duration_s"] > 0


def test_html_report_has_no_code_no_scripts_and_embedded_images(ws, runs):
    html = (ws / "reports" / "2026-10" / "v1" / "ok.html").read_text()
    assert "read_parquet" not in html  # code cells are excluded
    assert "<script" not in html and "Content-Security-Policy" in html
    assert html.count('src="data:image/png;base64,') == 2  # the plot and the Markdown logo
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="../../index.html"' in html


def test_progress_lines_on_stderr(runs):
    assert "kpitools run 2026-10 v1: ok: started" in runs["stderr1"]
    assert "kpitools run 2026-10 v1: ok: succeeded in" in runs["stderr1"]
    assert "kpitools run" not in runs["stderr2"]  # progress=False


def test_second_run_is_a_new_version_reproducing_v1(ws, runs):
    r2 = runs["r2"]
    assert (r2.version, r2.status, r2.reproduces) == ("v2", "succeeded", "v1")
    assert json.loads((r2.path / "manifest.json").read_text())["reproduces"] == "v1"
    assert runs["v1_after_r3"] == runs["v1_after_r1"]  # earlier versions are never touched
    assert runs["v2_after_r3"] == runs["v2_after_r2"]


def test_failed_run_is_kept_marked_and_never_latest(ws, runs):
    exc = runs["r3_error"]
    msg = str(exc)
    assert "notebook fails failed at cell index 2 (In [4]): ValueError: boom" in msg and "v3" in msg
    assert isinstance(exc, KpitoolsError)
    result = exc.result
    assert (result.version, result.status) == ("v3", "failed")
    assert {n.name: n.status for n in result.notebooks} == {"ok": "succeeded", "fails": "failed"}
    v3 = ws / "reports" / "2026-10" / "v3"
    m = json.loads((v3 / "manifest.json").read_text())
    fails = next(n for n in m["notebooks"] if n["name"] == "fails")
    assert m["status"] == "failed" and m["reproduces"] is None
    assert (fails["failed_cell_index"], fails["error_name"]) == (2, "ValueError")
    # partial output: the cell before the failure ran, the one after did not
    nb = nbformat.read(v3 / "fails.ipynb", as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "before the failure" in outputs and "never reached" not in outputs
    assert (v3 / "fails.html").exists()
    assert (ws / "reports" / "2026-10" / "LATEST").read_text() == "v2\n"
    index = (ws / "reports" / "index.html").read_text()
    assert "<script>" not in index and "boom &lt;script&gt;alert(1)&lt;/script&gt;" in index
    # newest first, each version once
    assert index.index(">v3<") < index.index(">v2<") < index.index(">v1<")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"params": {"nope": 1}}, "unknown parameter 'nope'"),
    ({"params": {"business_hours": "yes"}}, "expected bool"),
    ({"params": {"channels": ["email", 3]}}, "expected list[str]"),
    ({"notebooks": ["ok", "fails"], "params": {"title": "x"}}, "not declared in the parameters cell of fails"),
    ({"params": {"period": "2026-10"}}, "set by the run itself"),
    ({"params": {"channels": ["fax"]}}, "unknown channel(s) ['fax']"),
    ({"period": "2026-13"}, "not a month written YYYY-MM"),
    ({"period": "Oct 2026"}, "not a month written YYYY-MM"),
    ({"period": "2026-12"}, "starts at or after as_of"),
    ({"notebooks": ["missing"]}, "unknown notebook(s) missing"),
    ({"jobs": 0}, "jobs = 0"),
])
def test_invalid_arguments_start_nothing(ws, tmp_path, kwargs, message):
    kwargs = {"notebooks": ["ok"], **kwargs}
    with pytest.raises(KpitoolsError) as info:
        _run(ws, reports=tmp_path / "reports", **kwargs)
    assert message in str(info.value)
    assert not (tmp_path / "reports").exists()


def test_parse_params_types_values_by_the_notebooks_declarations(ws):
    nbdir = ws / "notebooks"
    got = parse_params(["business_hours=no", "channels=email, chat", "title=a=b"], ["ok"], nbdir)
    assert got == {"business_hours": False, "channels": ["email", "chat"], "title": "a=b"}
    assert parse_params(["channels=", "business_hours=1"], ["ok", "fails"], nbdir) == {
        "channels": [], "business_hours": True}
    assert parse_params(['channels=["a,b"]'], ["ok"], nbdir) == {"channels": ["a,b"]}
    for bad, message in ((["business_hours=maybe"], "cannot be read as bool"),
                         (["title=x"], "not declared in the parameters cell of fails"),
                         (["oops"], "expected key=value")):
        with pytest.raises(KpitoolsError, match=re.escape(message)):
            parse_params(bad, ["ok", "fails"], nbdir)


def test_claim_version_under_contention(tmp_path):
    barrier = threading.Barrier(12)
    got = []

    def claim():
        barrier.wait()
        got.append(claim_version(tmp_path / "2026-10").name)

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=lambda v: int(v[1:])) == [f"v{n}" for n in range(1, 13)]


def test_concurrent_runs_get_different_versions(ws, tmp_path):
    reports = tmp_path / "reports"
    results, errors = [], []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        try:
            results.append(_run(ws, reports=reports, period="2026-10", notebooks=["ok"]))
        except Exception as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.version for r in results) == ["v1", "v2"]
    assert all(r.status == "succeeded" for r in results)
    assert (reports / "2026-10" / "LATEST").read_text() == "v2\n"


def test_real_engine_on_the_sample(tmp_path):
    nbdir = fakes.copy_notebooks(tmp_path / "notebooks")
    result = kt.run(REPO / "data" / "sample", notebooks=["ok"], reports_dir=tmp_path / "reports",
                    notebooks_dir=nbdir, progress=False)
    assert result.status == "succeeded"
    ds = kt.load(REPO / "data" / "sample")
    expected = tmp_path / "expected.csv"
    kt.kpis_to_csv(kt.kpis(ds, period=result.period), expected)
    assert (result.path / "kpis.csv").read_bytes() == expected.read_bytes()


def test_kernels_reopen_the_runs_snapshot(ws, runs, module_tmpdir):
    nb = nbformat.read(ws / "reports" / "2026-10" / "v1" / "ok.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    # one notebook, so one kernel: numpy may use every core unless the environment said otherwise
    blas = os.environ.get("OPENBLAS_NUM_THREADS", str(os.cpu_count()))
    assert f"store: read_only | BLAS threads: {blas} | tickets: 4" in text
    assert snapshot.ENV not in os.environ  # set for the kernels only
    assert not list(module_tmpdir.glob("kpitools-snapshot-*"))  # and removed the snapshot


# --- robustness: failed cells in shared HTML, one dataset per run, signals, privacy, storage ---

def _outputs_text(nb) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells])


def test_failed_cell_shows_a_short_box_without_traceback_or_paths(ws, tmp_path):
    with pytest.raises(RunFailedError) as info:
        _run(ws, reports=tmp_path / "reports", period="2026-10", notebooks=["fails_in_section"])
    assert "FileNotFoundError" in str(info.value)
    v1 = tmp_path / "reports" / "2026-10" / "v1"
    html = (v1 / "fails_in_section.html").read_text()
    assert 'class="kt-error"' in html
    assert "Notebook fails_in_section, section “Ticket volume”" in html
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'missing.csv'" in html_lib.unescape(html)
    for leak in ("Traceback", "/tmp/", "kpitools-private-folder", "alice", "papermill-error-cell", "ipython-input"):
        assert leak not in html
    # the executed notebook keeps everything for whoever debugs the run
    nb = nbformat.read(v1 / "fails_in_section.ipynb", as_version=4)
    (error,) = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert error.traceback and "/tmp/kpitools-private-folder/alice/missing.csv" in error.evalue
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "missing.csv" in index and "kpitools-private-folder" not in index


def test_failed_cell_box_in_the_older_fake(ws, runs):
    html = (ws / "reports" / "2026-10" / "v3" / "fails.html").read_text()
    assert "Notebook fails, before the first heading" in html
    assert "ValueError: boom &lt;script&gt;alert(1)&lt;/script&gt;" in html and "Traceback" not in html


def test_input_changed_during_the_run_fails_it_and_keeps_latest(tmp_path):
    data = fakes.write_dataset(tmp_path / "data")
    nbdir = fakes.copy_notebooks(tmp_path / "notebooks")
    common = dict(reports_dir=tmp_path / "reports", notebooks_dir=nbdir, period="2026-10", progress=False,
                  engine=fakes.FakeEngine())
    assert kt.run(data, notebooks=["ok"], **common).status == "succeeded"
    with pytest.raises(RunFailedError, match="failed: input changed during the run: tickets.csv. Partial"):
        kt.run(data, notebooks=["changes_input"], **common)
    v2 = tmp_path / "reports" / "2026-10" / "v2"
    m = json.loads((v2 / "manifest.json").read_text())
    assert (m["status"], m["error"]) == ("failed", "input changed during the run: tickets.csv")
    assert m["notebooks"][0]["error_name"] == "InputChangedError"
    assert (tmp_path / "reports" / "2026-10" / "LATEST").read_text() == "v1\n"
    assert "input changed during the run: tickets.csv" in (tmp_path / "reports" / "index.html").read_text()


FAKE_CLI = Path(__file__).parent / "notebooks" / "fake_cli.py"


def _wait_for(path: Path, proc, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_and_marks_it_failed(tmp_path, own_tmpdir, signum):
    data = fakes.write_dataset(tmp_path / "data")
    nbdir = fakes.copy_notebooks(tmp_path / "notebooks")
    reports = tmp_path / "reports"
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_CLI), "run", "--dataset", str(data), "--period", "2026-10", "--notebooks",
         "slow", "--reports-dir", str(reports), "--notebooks-dir", str(nbdir), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,  # TMPDIR: own_tmpdir, inherited
        # as from a terminal: a suite started in the background (nohup, `&`) hands on SIGINT ignored,
        # and the run rightly keeps an ignored signal ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    v1 = reports / "2026-10" / "v1"
    _wait_for(v1 / "kernel.pid", proc)
    kernel = int((v1 / "kernel.pid").read_text())
    assert json.loads((v1 / "manifest.json").read_text())["process"]["pid"] == proc.pid
    assert list(own_tmpdir.glob("kpitools-snapshot-*"))  # the run's workspace, while it runs
    t0 = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    name = signal.Signals(signum).name
    assert time.monotonic() - t0 < 10
    assert proc.returncode == 128 + signum
    assert err.splitlines() == [f"kpitools: run 2026-10 v1 stopped by signal {name}; it is marked failed"]
    m = json.loads((v1 / "manifest.json").read_text())
    assert (m["status"], m["error"]) == ("failed", f"stopped by signal {name}")
    assert f"stopped by signal {name}" in (reports / "index.html").read_text()
    assert not (reports / "2026-10" / "LATEST").exists()
    assert not list(own_tmpdir.glob("kpitools-snapshot-*"))  # snapshot and connection files gone
    deadline = time.monotonic() + 5
    while _alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(kernel), "the kernel outlived the run"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed kernel stays a zombie until its parent (gone) is reaped by init: not running any more
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    return True


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running_version(reports: Path, version: str, pid: int, host: str | None = None) -> Path:
    folder = reports / "2026-10" / version
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({
        "period": "2026-10", "version": version, "status": "running", "started_at": "2026-12-01T10:00:00+00:00",
        "process": {"pid": pid, "host": host or this_host()}, "notebooks": []}))
    return folder


def test_runs_repair_marks_dead_running_versions_failed(tmp_path, capsys):
    reports = tmp_path / "reports"
    dead = _running_version(reports, "v1", _dead_pid())
    alive = _running_version(reports, "v2", os.getpid())
    elsewhere = _running_version(reports, "v3", _dead_pid(), host="another-host")
    assert cli.main(["runs", "--repair", "--reports-dir", str(reports)]) == 0
    assert f"marked failed (interrupted): {dead}" in capsys.readouterr().out
    m = json.loads((dead / "manifest.json").read_text())
    assert m["status"] == "failed" and m["error"].startswith("interrupted: process ")
    assert json.loads((alive / "manifest.json").read_text())["status"] == "running"
    assert json.loads((elsewhere / "manifest.json").read_text())["status"] == "running"
    assert "interrupted: process" in (reports / "index.html").read_text()


def test_the_next_run_repairs_and_removes_dead_runs_leftovers(ws, tmp_path, own_tmpdir):
    reports = tmp_path / "reports"
    dead = _running_version(reports, "v1", _dead_pid())
    dead_pid = _dead_pid()
    leftover = own_tmpdir / f"kpitools-snapshot-{dead_pid}-abc"
    (leftover / "kernels").mkdir(parents=True)
    (leftover / "kernels" / "kernel-1.json").write_text("{}")
    (leftover / "owner.json").write_text(json.dumps({"pid": dead_pid, "host": this_host()}))
    live = own_tmpdir / f"kpitools-snapshot-{os.getpid()}-def"
    live.mkdir()
    result = _run(ws, reports=reports, period="2026-10", notebooks=["ok"])
    assert (result.version, result.status) == ("v2", "succeeded")
    assert json.loads((dead / "manifest.json").read_text())["status"] == "failed"
    assert not leftover.exists() and live.exists()


def test_workspace_is_private_and_removed(own_tmpdir):
    with workspace() as folder:
        assert folder.parent == own_tmpdir and folder.name.startswith(f"kpitools-snapshot-{os.getpid()}-")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "kernels").stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "owner.json").stat().st_mode) == 0o600
    assert not folder.exists()


CUSTOMERS_CSV = """\
customer_id,signup_at
ana@example.org,2026-01-05 10:00
bob@example.org,2026-02-01 09:00
ana@example.org,2026-03-01 09:00
"""


def test_no_identifier_in_any_shared_file(tmp_path):
    data = fakes.write_dataset(tmp_path / "data")
    (data / "customers.csv").write_text(CUSTOMERS_CSV)
    nbdir = fakes.copy_notebooks(tmp_path / "notebooks")
    common = dict(notebooks_dir=nbdir, period="2026-10", progress=False, engine=fakes.FakeEngine(),
                  notebooks=["ok"])
    shared = kt.run(data, reports_dir=tmp_path / "shared", **common)
    rejects = pd.read_csv(shared.path / "rejects.csv", dtype=str, keep_default_na=False)
    dup = rejects[rejects["table"].eq("customers")]
    assert dup[["file", "row", "column", "value"]].values.tolist() == [["customers.csv", "4", "customer_id", ""]]
    assert "duplicate" in dup["reason"].iloc[0]
    assert rejects[rejects["table"].eq("tickets")]["value"].tolist() == ["'=HYPERLINK(\"http://x\")", "-5"]
    for path in [*shared.path.rglob("*"), tmp_path / "shared" / "index.html"]:
        if path.is_file():
            assert b"@example.org" not in path.read_bytes(), path
    private = kt.run(data, reports_dir=tmp_path / "private", include_identifiers=True, **common)
    assert "ana@example.org" in (private.path / "rejects.csv").read_text()
    assert json.loads((private.path / "manifest.json").read_text())["include_identifiers"] is True


def test_read_only_reports_folder_is_one_clear_error(ws, tmp_path, monkeypatch):
    # tests run as root, for whom chmod does not stop writing: the failure is simulated, for the
    # reports folder only (the loader makes temporary folders with os.mkdir too)
    reports, mkdir = tmp_path / "reports", os.mkdir

    def read_only(path, *args, **kwargs):
        if Path(path).is_relative_to(reports):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    with pytest.raises(KpitoolsError, match=r"cannot write the reports in .*/reports: the file system is read-only"):
        _run(ws, reports=tmp_path / "reports", period="2026-10", notebooks=["ok"])


def test_reports_folder_under_a_file_is_one_clear_error(ws, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(KpitoolsError, match="a part of the path is a file"):
        _run(ws, reports=tmp_path / "file" / "reports", period="2026-10", notebooks=["ok"])


def test_full_disk_is_one_clear_error_and_a_failed_version(ws, tmp_path, monkeypatch):
    def full(ds, period, engine, out_dir):
        raise OSError(errno.ENOSPC, "No space left on device", str(out_dir / "kpis.parquet"))

    monkeypatch.setattr("kpitools.runs.monthly.write_tables", full)
    reports = tmp_path / "reports"
    with pytest.raises(KpitoolsError) as info:
        _run(ws, reports=reports, period="2026-10", notebooks=["ok"])
    assert str(info.value).startswith(f"cannot write the reports in {reports / '2026-10' / 'v1'}: the disk is full")
    assert "\n" not in str(info.value)
    m = json.loads((reports / "2026-10" / "v1" / "manifest.json").read_text())
    assert m["status"] == "failed" and "No space left on device" in m["error"]
