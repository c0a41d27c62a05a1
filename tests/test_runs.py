"""kt.run: versioned, immutable report folders; up-front validation; failures; concurrency.

Uses the tiny test notebooks of tests/notebooks (ok: succeeds, reads kpis_path, plots; fails:
raises ValueError in cell index 2), a six-ticket dataset loaded by the real loader, and a
stand-in KPI engine (tests/notebooks/fakes.py). Kernels take ~1.5 s each, so the runs are
shared by a module fixture: v1 (ok), v2 (ok again), v3 (ok + fails, jobs=2).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import re
import tempfile
import threading
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import kpitools as kt
from kpitools import snapshot
from kpitools.errors import KpitoolsError
from kpitools.runs import RunFailedError, parse_params
from kpitools.runs.versions import claim_version

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
def runs(ws):
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


def test_kernels_reopen_the_runs_snapshot(ws, runs):
    nb = nbformat.read(ws / "reports" / "2026-10" / "v1" / "ok.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    # one notebook, so one kernel: numpy may use every core unless the environment said otherwise
    blas = os.environ.get("OPENBLAS_NUM_THREADS", str(os.cpu_count()))
    assert f"store: read_only | BLAS threads: {blas} | tickets: 4" in text
    assert snapshot.ENV not in os.environ  # set for the kernels only
    assert not list(Path(tempfile.gettempdir()).glob("kpitools-snapshot-*"))  # and removed the snapshot
