"""``kpitools.run``: one monthly run, from a dataset folder to an immutable report version."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from .. import snapshot
from ..errors import KpitoolsError
from .execute import (KERNELS, NotebookResult, Progress, RunStopped, kernel_environment, remove_dead_workspaces,
                      run_notebooks, stop_on_signals, workspace)
from .export import export_html
from .index import write_index
from .manifest import (find_reproduced, fingerprint, input_hashes, kpitools_state, package_versions,
                       process_record, repair_interrupted, sha256_file, write_json)
from ..parameters import bundled_notebooks
from .params import NotebookSpec, check_params, find_notebooks, inspect_parameters
from .tables import KPIS_PARQUET, KpiEngine, write_tables
from ..engine.connection import ENV as CONNECTION_ENV, NAMES as CONNECTIONS
from .versions import FAILED, MANIFEST, RUNNING, SUCCEEDED, claim_version, update_latest

#: Columns that identify a ticket, survey response, customer or session (SPEC: never in a shared
#: output). ``agent_id`` is not here: it names an employee, not a customer, and reports rank agents.
IDENTIFIERS = ("ticket_id", "response_id", "customer_id", "session_id")
#: File-system errors that the user fixes on the reports folder, not in kpitools.
_STORAGE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
                   errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                   errno.EPERM: "permission denied", errno.ENOTDIR: "a part of the path is a file"}


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


def redact_identifiers(rejects: pd.DataFrame) -> pd.DataFrame:
    """``rejects`` with the ``value`` emptied where ``column`` is an identifier (:data:`IDENTIFIERS`);
    table, file, row, column and reason stay, so every rejected row can still be found.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"column": ["customer_id", "contacts"], "value": ["ana@example.org", "x"]})
    >>> redact_identifiers(r)["value"].tolist()
    ['', 'x']
    """
    if rejects.empty or not {"column", "value"} <= set(rejects.columns):
        return rejects
    out = rejects.copy()
    out["value"] = out["value"].astype(object).where(~out["column"].isin(IDENTIFIERS), "")
    return out


def storage_error(exc: OSError, folder: Path) -> KpitoolsError | None:
    """One clear line for a full disk or a folder kpitools may not write (``None`` for other errors)."""
    why = _STORAGE_ERRORS.get(exc.errno)
    if why is None:
        return None
    where = exc.filename or folder
    return KpitoolsError(f"cannot write the reports in {folder}: {why} ({where}); "
                         "free some space or choose a writable folder with --reports-dir, then run again")


def _claim(period_dir: Path) -> Path:
    try:
        return claim_version(period_dir)
    except OSError as exc:
        raise (storage_error(exc, period_dir.parent) or exc) from None


def _input_changed(results: Sequence[NotebookResult]) -> str | None:
    """The message of a kernel that found the dataset changed during the run, if any."""
    return next((r.error_value for r in results if r.error_name == snapshot.InputChangedError.__name__), None)


def run(dataset: str | os.PathLike[str] = "data/sample", period: str | None = None,
        notebooks: Sequence[str] | None = None, jobs: int | None = None,
        params: Mapping[str, Any] | None = None, reports_dir: str | os.PathLike[str] = "reports",
        notebooks_dir: str | os.PathLike[str] | None = None, progress: bool = True, *,
        include_identifiers: bool = False, connection: str = "duckdb", load: Callable[[Path], Any] | None = None,
        engine: KpiEngine | None = None) -> RunResult:
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
        Where versions go; where the notebooks are (default: the ones that come with kpitools,
        :func:`~kpitools.parameters.bundled_notebooks`).
    progress : bool
        Print one line per step (loading, KPI tables) and per notebook event to stderr.
    include_identifiers : bool
        Keep ticket, response, customer and session ids in ``rejects.csv`` (and the kernels'
        ``ds.rejects``), for private use only; by default their values are emptied, since reports
        are shared. Recorded in the manifest.
    connection : {"duckdb", "spark"}
        The engine that computes every KPI of the run, in this process and in the notebook kernels
        (:mod:`kpitools.engine.connection`): embedded DuckDB, or a local Spark session. Recorded
        in the manifest.
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
        failing notebook, cell and exception (or the input file that changed during the run).
    RunStopped
        SIGTERM or SIGINT: the kernels are killed, the version is marked failed.

    A version left ``running`` by a process that no longer exists is marked failed first, and
    temporary folders of dead runs are removed.

    Examples
    --------
    >>> result = kt.run("data/sample", period="2026-10")          # doctest: +SKIP
    >>> result.version, result.status                              # doctest: +SKIP
    ('v1', 'succeeded')
    """
    if connection not in CONNECTIONS:
        raise KpitoolsError(f"connection {connection!r} is not an engine kpitools knows; expected duckdb or spark")
    with stop_on_signals(), _connection(connection):
        return _run(dataset, period, notebooks, jobs, params, reports_dir, notebooks_dir, progress,
                    include_identifiers, load, engine)


@contextlib.contextmanager
def _connection(name: str) -> Iterator[None]:
    """The engine of the run: set for this process and (inherited) for its kernels, then restored."""
    before = os.environ.get(CONNECTION_ENV)
    os.environ[CONNECTION_ENV] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ[CONNECTION_ENV]
        else:
            os.environ[CONNECTION_ENV] = before


def _run(dataset: str | os.PathLike[str], period: str | None, notebooks: Sequence[str] | None, jobs: int | None,
         params: Mapping[str, Any] | None, reports_dir: str | os.PathLike[str],
         notebooks_dir: str | os.PathLike[str] | None, progress: bool, include_identifiers: bool,
         load: Callable[[Path], Any] | None, engine: KpiEngine | None) -> RunResult:
    """:func:`run` once signals are handled."""
    from ..periods import month_period, parse_periods

    if load is None:
        from ..loading import load
    if engine is None:
        from .. import engine

    step = Progress("kpitools run:", progress)  # the load and the KPI tables take most of a minute on large data
    notebooks_dir = Path(notebooks_dir if notebooks_dir is not None else bundled_notebooks()).resolve()
    specs = [inspect_parameters(p) for p in find_notebooks(notebooks_dir, notebooks)]
    user_params = check_params(params or {}, specs)
    jobs = _check_jobs(jobs)
    if period is not None:
        month_period(period, "UTC")  # format first: a bad period must not cost a dataset load
    dataset = Path(dataset).resolve()
    step(f"loading and validating {dataset}")
    ds = load(dataset)
    period = period if period is not None else default_period(ds.as_of)
    period = parse_periods(period, ds.timezone, ds.as_of)[0].label
    unknown = sorted(set(user_params.get("channels") or []) - set(ds.channels))
    if unknown:
        raise KpitoolsError(f"parameter 'channels': unknown channel(s) {unknown}; "
                            f"the dataset has {', '.join(ds.channels) or 'none'}")
    if not include_identifiers:
        # the run's own copy: rejects.csv and the kernels' snapshot both come from it
        ds.rejects = redact_identifiers(ds.rejects)

    reports_dir = Path(reports_dir).resolve()
    repair_interrupted(reports_dir)
    remove_dead_workspaces()
    # the slow parts of the manifest come first: from the claim on, a stop must find it ready
    facts = {"inputs": input_hashes(dataset, ds.files.values()), "kpitools": kpitools_state(),
             "packages": package_versions(), "jobs": jobs,
             "notebooks": [{"name": s.name, "source_sha256": sha256_file(s.path)} for s in specs]}
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    folder = _claim(reports_dir / period)
    version = folder.name
    common = {"dataset": str(dataset), "period": period, **user_params,
              "output_dir": str(folder), "kpis_path": str(folder / KPIS_PARQUET)}
    manifest: dict[str, Any] = {"period": period, "version": version, "status": RUNNING,
                                "process": process_record(), "started_at": started.isoformat(),
                                "parameters": common, "include_identifiers": include_identifiers,
                                "connection": os.environ[CONNECTION_ENV], **facts}
    results: list[NotebookResult] = []
    try:
        write_json(folder / MANIFEST, manifest)
        step(f"computing the KPI tables for {period} and the 12 months before ({version})")
        write_tables(ds, period, engine, folder)
        report = Progress(f"kpitools run {period} {version}:", progress)
        index_href = os.path.relpath(reports_dir / "index.html", folder)

        def export(nb: Path, out: Path, failed: bool) -> Path:
            return export_html(nb, out, resources_dir=notebooks_dir, index_href=index_href,
                               caption=f"{nb.stem} — {period} {version}", failed=failed)

        # kernels reopen the validated dataset from a snapshot instead of loading it again
        with workspace() as tmp:
            env = kernel_environment(min(jobs, len(specs)), snapshot.save(ds, tmp))
            results = run_notebooks(specs, folder, {s.name: _notebook_params(s, common) for s in specs},
                                    cwd=notebooks_dir, jobs=jobs, export=export, progress=report, env=env,
                                    connection_dir=tmp / KERNELS)
        status = SUCCEEDED if all(r.status == SUCCEEDED for r in results) else FAILED
    except BaseException as exc:  # keep the version, marked failed, whatever stopped it
        error = str(exc) if isinstance(exc, KpitoolsError) else f"{type(exc).__name__}: {exc}"
        manifest.update(status=FAILED, error=error, duration_s=round(time.perf_counter() - t0, 3))
        _finish_failed(folder, reports_dir, manifest)
        clear = storage_error(exc, folder) if isinstance(exc, OSError) else None
        if clear is not None:
            raise clear from None
        if isinstance(exc, RunStopped):
            raise RunStopped(exc.signum, f"run {period} {version}") from None
        raise
    by_name = {r.name: r for r in results}
    for entry in manifest["notebooks"]:
        r = by_name[entry["name"]]
        entry.update(status=r.status, started_at=r.started_at, duration_s=r.duration_s,
                     notebook=r.notebook.name, html=r.html.name if r.html else None,
                     failed_cell_index=r.failed_cell_index, execution_count=r.execution_count,
                     error_name=r.error_name, error_value=r.error_value)
    changed = _input_changed(results)
    if changed:
        manifest["error"] = changed
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
        failures = changed or "; ".join(r.describe_failure() for r in results if r.status == FAILED)
        raise RunFailedError(f"run {period} {version} failed: {failures}. Partial output kept in {folder}",
                             result)
    return result


def _finish_failed(folder: Path, reports_dir: Path, manifest: Mapping[str, Any]) -> None:
    """Record a failed version and rebuild the index, as far as the disk allows: when the disk is
    full this fails too, and the original error is the one to report (the next run marks a version
    left ``running`` as interrupted)."""
    try:
        write_json(folder / MANIFEST, manifest)
        write_index(reports_dir)
    except OSError:
        pass
