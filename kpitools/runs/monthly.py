"""``kpitools.run``: one monthly run, from a dataset folder to an immutable report version."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import snapshot
from ..errors import KpitoolsError
from .execute import NotebookResult, Progress, kernel_environment, run_notebooks
from .export import export_html
from .index import write_index
from .manifest import (find_reproduced, fingerprint, input_hashes, kpitools_state, package_versions,
                       sha256_file, write_json)
from .params import NotebookSpec, check_params, find_notebooks, inspect_parameters
from .tables import KPIS_PARQUET, KpiEngine, write_tables
from .versions import FAILED, MANIFEST, SUCCEEDED, claim_version, update_latest


@dataclass
class RunResult:
    """The outcome of :func:`kpitools.run`.

    Attributes
    ----------
    period : str
        ``YYYY-MM``.
    version : str
        ``"v<N>"``.
    path : pathlib.Path
        The version folder ``reports/<period>/v<N>``.
    status : str
        ``"succeeded"`` or ``"failed"``.
    notebooks : list of NotebookResult
        One per notebook, in the order run.
    reproduces : str or None
        The earliest earlier succeeded version with identical inputs, parameters, notebooks
        and kpitools code, if any.
    """

    period: str
    version: str
    path: Path
    status: str
    notebooks: list[NotebookResult] = field(default_factory=list)
    reproduces: str | None = None


class RunFailedError(KpitoolsError):
    """A run finished but some notebook failed; ``.result`` holds the :class:`RunResult`."""

    def __init__(self, message: str, result: RunResult):
        self.result = result
        super().__init__(message)


def default_period(as_of: Any) -> str:
    """The latest complete month before ``as_of`` (in ``as_of``'s own timezone).

    Examples
    --------
    >>> import pandas as pd
    >>> default_period(pd.Timestamp("2026-11-15 12:00", tz="Europe/Berlin"))
    '2026-10'
    >>> default_period(pd.Timestamp("2026-01-01 00:00", tz="UTC"))
    '2025-12'
    """
    import pandas as pd

    return str(pd.Timestamp(as_of).tz_localize(None).to_period("M") - 1)


def _check_jobs(jobs: int | None) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise KpitoolsError(f"jobs = {jobs!r}: expected a whole number >= 1")
    return jobs


def _notebook_params(spec: NotebookSpec, common: Mapping[str, Any]) -> dict[str, Any]:
    # run-set values go only to notebooks that declare them: papermill would only warn otherwise
    return {k: v for k, v in common.items() if k in spec.types}


def run(dataset: str | os.PathLike[str] = "data/sample", period: str | None = None,
        notebooks: Sequence[str] | None = None, jobs: int | None = None,
        params: Mapping[str, Any] | None = None, reports_dir: str | os.PathLike[str] = "reports",
        notebooks_dir: str | os.PathLike[str] = "notebooks", progress: bool = True, *,
        load: Callable[[Path], Any] | None = None, engine: KpiEngine | None = None) -> RunResult:
    """Run the report notebooks for one period into a new version ``reports/<period>/v<N>/``.

    Everything is checked before anything starts: notebook names, parameter names (each must
    be declared by every selected notebook), value types, the period, ``jobs``, the dataset
    (loaded once) and the channels. Then the next version folder is claimed atomically; the
    KPI table is computed once (``kpis.csv``, plus ``kpis.parquet`` with the 13-month trend that
    notebooks read through their ``kpis_path`` parameter); ``rejects.csv`` is written; the
    notebooks run with papermill (``jobs`` at a time, kernel ``python3``, working folder
    ``notebooks_dir``; each kernel's ``kt.load`` reopens the run's validated dataset from a
    temporary snapshot, see :mod:`kpitools.snapshot`, and numpy's thread pools share the cores
    among the kernels) and are exported to HTML without code; ``manifest.json`` records inputs,
    parameters, versions and outcomes. ``LATEST`` moves only to a succeeded version, and
    ``reports/index.html`` is rebuilt.

    Parameters
    ----------
    dataset : str or path
        Dataset folder.
    period : str, optional
        ``YYYY-MM``; default: the latest complete month before the dataset's ``as_of``.
    notebooks : sequence of str, optional
        Notebook names (with or without ``.ipynb``); default: every notebook of ``notebooks_dir``.
    jobs : int, optional
        Notebooks run at once (default ``os.cpu_count()``).
    params : mapping, optional
        Extra notebook parameters (e.g. ``{"channels": ["email"], "business_hours": False}``);
        ``dataset``, ``period``, ``output_dir`` and ``kpis_path`` are set by the run.
    reports_dir, notebooks_dir : str or path
        Where versions go; where the notebooks are.
    progress : bool
        Print one line per notebook event to stderr.
    load, engine : optional
        The dataset loader and KPI engine (default :func:`kpitools.load` and
        :mod:`kpitools.engine`); injectable for tests.

    Returns
    -------
    RunResult

    Raises
    ------
    KpitoolsError
        For invalid arguments (nothing is started, no folder created).
    RunFailedError
        When a notebook failed: the version is kept, marked failed, and its message names each
        failing notebook, cell and exception.

    Examples
    --------
    >>> result = kt.run("data/sample", period="2026-10")          # doctest: +SKIP
    >>> result.version, result.status                              # doctest: +SKIP
    ('v1', 'succeeded')
    """
    from ..periods import month_period, parse_periods

    if load is None:
        from ..loading import load
    if engine is None:
        from .. import engine

    notebooks_dir = Path(notebooks_dir).resolve()
    specs = [inspect_parameters(p) for p in find_notebooks(notebooks_dir, notebooks)]
    user_params = check_params(params or {}, specs)
    jobs = _check_jobs(jobs)
    if period is not None:
        month_period(period, "UTC")  # format first: a bad period must not cost a dataset load
    dataset = Path(dataset).resolve()
    ds = load(dataset)
    period = period if period is not None else default_period(ds.as_of)
    period = parse_periods(period, ds.timezone, ds.as_of)[0].label
    unknown = sorted(set(user_params.get("channels") or []) - set(ds.channels))
    if unknown:
        raise KpitoolsError(f"parameter 'channels': unknown channel(s) {unknown}; "
                            f"the dataset has {', '.join(ds.channels) or 'none'}")

    reports_dir = Path(reports_dir).resolve()
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    folder = claim_version(reports_dir / period)
    version = folder.name
    common = {"dataset": str(dataset), "period": period, **user_params,
              "output_dir": str(folder), "kpis_path": str(folder / KPIS_PARQUET)}
    manifest: dict[str, Any] = {
        "period": period,
        "version": version,
        "status": "running",
        "started_at": started.isoformat(),
        "parameters": common,
        "inputs": input_hashes(dataset, ds.files.values()),
        "kpitools": kpitools_state(),
        "packages": package_versions(),
        "jobs": jobs,
        "notebooks": [{"name": s.name, "source_sha256": sha256_file(s.path)} for s in specs],
    }
    write_json(folder / MANIFEST, manifest)
    results: list[NotebookResult] = []
    try:
        write_tables(ds, period, engine, folder)
        report = Progress(f"kpitools run {period} {version}:", progress)
        index_href = os.path.relpath(reports_dir / "index.html", folder)

        def export(nb: Path, out: Path, failed: bool) -> Path:
            return export_html(nb, out, resources_dir=notebooks_dir, index_href=index_href,
                               caption=f"{nb.stem} — {period} {version}", failed=failed)

        # kernels reopen the validated dataset from a snapshot instead of loading it again
        with tempfile.TemporaryDirectory(prefix="kpitools-snapshot-") as tmp:
            env = kernel_environment(min(jobs, len(specs)), snapshot.save(ds, tmp))
            results = run_notebooks(specs, folder, {s.name: _notebook_params(s, common) for s in specs},
                                    cwd=notebooks_dir, jobs=jobs, export=export, progress=report, env=env)
        status = SUCCEEDED if all(r.status == SUCCEEDED for r in results) else FAILED
    except BaseException as exc:  # keep the version, marked failed, whatever stopped it
        manifest.update(status=FAILED, error=f"{type(exc).__name__}: {exc}",
                        duration_s=round(time.perf_counter() - t0, 3))
        write_json(folder / MANIFEST, manifest)
        write_index(reports_dir)
        raise
    by_name = {r.name: r for r in results}
    for entry in manifest["notebooks"]:
        r = by_name[entry["name"]]
        entry.update(status=r.status, started_at=r.started_at, duration_s=r.duration_s,
                     notebook=r.notebook.name, html=r.html.name if r.html else None,
                     failed_cell_index=r.failed_cell_index, execution_count=r.execution_count,
                     error_name=r.error_name, error_value=r.error_value)
    manifest["fingerprint"] = fingerprint(manifest)
    reproduces = (find_reproduced(folder.parent, version, manifest["fingerprint"])
                  if status == SUCCEEDED else None)
    manifest.update(status=status, reproduces=reproduces, duration_s=round(time.perf_counter() - t0, 3))
    write_json(folder / MANIFEST, manifest)
    if status == SUCCEEDED:
        update_latest(folder.parent)
    write_index(reports_dir)
    result = RunResult(period=period, version=version, path=folder, status=status,
                       notebooks=results, reproduces=reproduces)
    if status == FAILED:
        failures = "; ".join(r.describe_failure() for r in results if r.status == FAILED)
        raise RunFailedError(f"run {period} {version} failed: {failures}. Partial output kept in {folder}",
                             result)
    return result
