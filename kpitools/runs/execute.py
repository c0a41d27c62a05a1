"""Running report notebooks with papermill: one kernel each, a few at a time, one line per event.

Notebooks run in a small thread pool: each thread only waits on its own kernel process, so
threads are enough and the kernels do the work in parallel. The kernel's working folder is set
per kernel (nbclient's ``resources.metadata.path``) rather than with papermill's ``cwd``, which
changes the working folder of the whole process and is not safe with several threads.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .params import NotebookSpec
from .versions import FAILED, SUCCEEDED

KERNEL = "python3"
#: Thread pools of numpy's BLAS and OpenMP: left at one per core, ``jobs`` kernels oversubscribe the
#: cores (three kernels on two cores ran a sample run 3× slower than two).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def kernel_environment(jobs: int, snapshot: str | os.PathLike[str] | None = None,
                       environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables to set for the kernels of a run: the cores shared among ``jobs`` kernels (unless
    already set in ``environ``, default ``os.environ``) and the dataset snapshot to reopen.

    Examples
    --------
    >>> kernel_environment(2, environ={"OMP_NUM_THREADS": "4"}) == {
    ...     "OPENBLAS_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // 2)),
    ...     "MKL_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // 2))}
    True
    """
    from ..snapshot import ENV

    environ = os.environ if environ is None else environ
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    out = {name: threads for name in THREAD_VARIABLES if name not in environ}
    if snapshot is not None:
        out[ENV] = str(snapshot)
    return out


def kernel_manager(env: Mapping[str, str]) -> type:
    """An nbclient kernel manager class whose kernels start with ``env`` added to this process's
    environment (per kernel: ``os.environ`` is left alone, so concurrent runs do not mix)."""
    from jupyter_client.manager import AsyncKernelManager

    extra = dict(env)

    class KernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw["env"] = {**kw.get("env", os.environ), **extra}
            await super().start_kernel(**kw)

    return KernelManager


@dataclass
class NotebookResult:
    """How one notebook of a run went.

    Attributes
    ----------
    name : str
        Notebook name (file stem).
    status : str
        ``"succeeded"`` or ``"failed"``.
    started_at : str
        ISO 8601 UTC start time.
    duration_s : float
        Wall time of execution and HTML export, in seconds.
    notebook : pathlib.Path
        The executed notebook (partial output when it failed).
    html : pathlib.Path or None
        The HTML report (``None`` when even the export failed).
    failed_cell_index : int or None
        0-based index of the failing cell in the *source* notebook (as nbformat and JupyterLab
        order cells; papermill's injected-parameters cell is not counted).
    execution_count : int or None
        The failing cell's ``In [n]`` number in the executed notebook.
    error_name, error_value : str or None
        Exception class name and message (``ValueError``, ``"boom"``).
    """

    name: str
    status: str
    started_at: str
    duration_s: float
    notebook: Path
    html: Path | None = None
    failed_cell_index: int | None = None
    execution_count: int | None = None
    error_name: str | None = None
    error_value: str | None = None

    @property
    def error_line(self) -> str:
        """``"ValueError: boom"`` (empty when it succeeded)."""
        if self.error_name is None:
            return ""
        return f"{self.error_name}: {self.error_value}" if self.error_value else self.error_name

    def describe_failure(self) -> str:
        """One line naming the notebook, the failing cell and the exception."""
        where = (f" at cell index {self.failed_cell_index}"
                 + (f" (In [{self.execution_count}])" if self.execution_count is not None else "")
                 if self.failed_cell_index is not None else "")
        return f"notebook {self.name} failed{where}: {self.error_line}"


class Progress:
    """Thread-safe one-line-per-event progress on stderr (silent when ``enabled`` is False)."""

    def __init__(self, prefix: str, enabled: bool = True):
        self.prefix = prefix
        self.enabled = enabled
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        if self.enabled:
            with self._lock:
                print(f"{self.prefix} {message}", file=sys.stderr, flush=True)


def _source_index(executed_index: int, spec: NotebookSpec) -> int | None:
    # papermill inserts one cell (the injected parameters) right after the parameters cell
    injected = spec.parameters_cell + 1
    if executed_index == injected:
        return None
    return executed_index - 1 if executed_index > injected else executed_index


def run_notebook(spec: NotebookSpec, out_dir: Path, parameters: Mapping[str, Any], *,
                 cwd: Path, export: Callable[[Path, Path, bool], Path],
                 env: Mapping[str, str] | None = None) -> NotebookResult:
    """Execute one notebook into ``out_dir`` and export its HTML; never raises for notebook errors.

    A failing cell keeps the partial output (papermill saves after every cell and on error);
    the HTML is exported from it too, so the failure can be read in the report.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = out_dir / f"{spec.name}.ipynb"
    started = datetime.now(timezone.utc).isoformat()
    t0 = time.perf_counter()
    result = NotebookResult(name=spec.name, status=SUCCEEDED, started_at=started, duration_s=0.0, notebook=out)
    try:
        papermill.execute_notebook(
            str(spec.path), str(out), parameters=dict(parameters), kernel_name=KERNEL,
            progress_bar=False, log_output=False, request_save_on_cell_execute=True,
            resources={"metadata": {"path": str(cwd)}}, kernel_manager_class=kernel_manager(env or {}),
        )
    except PapermillExecutionError as exc:
        result.status = FAILED
        result.failed_cell_index = _source_index(exc.cell_index, spec)
        result.execution_count = exc.exec_count
        result.error_name, result.error_value = exc.ename, exc.evalue
    except Exception as exc:  # dead kernel, timeout, unreadable notebook: still a failed notebook, not a crash
        result.status = FAILED
        result.error_name, result.error_value = type(exc).__name__, str(exc)
    if out.exists():
        try:
            result.html = export(out, out_dir / f"{spec.name}.html", result.status == FAILED)
        except Exception as exc:  # a broken export must not hide the run's outcome
            if result.status == SUCCEEDED:
                result.status = FAILED
                result.error_name, result.error_value = type(exc).__name__, f"HTML export: {exc}"
    result.duration_s = round(time.perf_counter() - t0, 3)
    return result


def run_notebooks(specs: Sequence[NotebookSpec], out_dir: Path, parameters: Mapping[str, Mapping[str, Any]], *,
                  cwd: Path, jobs: int, export: Callable[[Path, Path, bool], Path],
                  progress: Progress, env: Mapping[str, str] | None = None) -> list[NotebookResult]:
    """Run every notebook (``parameters[name]`` each) with at most ``jobs`` at once, kernels started
    with ``env`` added to the environment; results in input order."""

    def one(spec: NotebookSpec) -> NotebookResult:
        progress(f"{spec.name}: started")
        res = run_notebook(spec, out_dir, parameters[spec.name], cwd=cwd, export=export, env=env)
        progress(f"{spec.name}: {res.status} in {res.duration_s:.1f} s"
                 + (f" ({res.describe_failure()})" if res.status == FAILED else ""))
        return res

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(specs)))) as pool:
        return list(pool.map(one, specs))
