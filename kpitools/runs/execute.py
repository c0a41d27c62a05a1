"""Running report notebooks with papermill: one kernel each, a few at a time, one line per event.

Notebooks run in a small thread pool: each thread only waits on its own kernel process, so
threads are enough and the kernels do the work in parallel. The kernel's working folder is set
per kernel (nbclient's ``resources.metadata.path``) rather than with papermill's ``cwd``, which
changes the working folder of the whole process and is not safe with several threads.

Each run has a private temporary workspace (``kpitools-snapshot-<pid>-*``, mode 0700) holding the
dataset snapshot and the kernels' connection files, so nothing of a run is left in Jupyter's
shared runtime folder, and a run killed without a chance to clean up leaves one folder, which
the next run removes (:func:`remove_dead_workspaces`). When a run is stopped (a signal, Ctrl-C),
:class:`Kernels` kills every kernel of the run at once, so the worker threads end within seconds
instead of waiting for notebooks nobody will read.

A kernel that dies (killed, crashed) is reported with what can be known about why: how it ended
(its exit code or signal) and the largest memory it was seen to use, sampled every
:data:`SAMPLE_S` seconds. Memory is named as the likely cause only when the evidence says so: it
ended by ``SIGKILL`` (what the kernel's out-of-memory killer sends) while its memory had taken
nearly all there was. Between two samples memory can grow by more than any margin, so the peak
is the peak *seen*.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import memory
from ..errors import KpitoolsError
from .params import NotebookSpec
from .versions import FAILED, SUCCEEDED, process_alive, this_host

KERNEL = "python3"
#: Thread pools of numpy's BLAS and OpenMP: left at one per core, ``jobs`` kernels oversubscribe the
#: cores (three kernels on two cores ran a sample run 3× slower than two).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Temporary workspaces of runs: ``<prefix><pid>-<random>`` in the temporary folder.
WORKSPACE_PREFIX = "kpitools-snapshot-"
OWNER = "owner.json"
KERNELS = "kernels"
#: Seconds between two samples of the kernels' memory.
SAMPLE_S = 0.25
#: A kernel's memory took "nearly all there was" when what was left is at most this share of what
#: it could have had (its memory plus what was left), at the largest sample.
NEAR = 0.2
#: Exception names of a cell that ran out of memory (Python, Arrow, DuckDB).
_MEMORY_ERRORS = ("MemoryError", "ArrowMemoryError", "OutOfMemoryException")


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A private temporary folder for one run (0700, named after this process), removed on exit.

    ``owner.json`` records the process and host, so :func:`remove_dead_workspaces` can tell a
    dead run's folder from a running one's.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{os.getpid()}-"))  # mkdtemp: mode 0700
    try:
        fd = os.open(folder / OWNER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"pid": os.getpid(), "host": this_host()}, fh)
        (folder / KERNELS).mkdir(mode=0o700)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _workspace_owner(folder: Path) -> tuple[int | None, str | None]:
    # the pid is in the name from the first instant; owner.json (written just after) adds the host
    pid = folder.name.removeprefix(WORKSPACE_PREFIX).split("-", 1)[0]
    try:
        host = json.loads((folder / OWNER).read_text(encoding="utf-8")).get("host")
    except (OSError, ValueError, AttributeError):
        host = None
    return (int(pid) if pid.isdigit() else None), host


def remove_dead_workspaces(tmpdir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the workspaces of runs whose process is gone (killed, crashed) from ``tmpdir``
    (default: the temporary folder); return them.

    Only this user's folders made on this host are touched: another host's process cannot be
    seen from here, and another user's folder is not ours to remove.
    """
    removed = []
    for folder in Path(tmpdir or tempfile.gettempdir()).glob(f"{WORKSPACE_PREFIX}*"):
        pid, host = _workspace_owner(folder)
        try:
            mine = folder.is_dir() and folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if not mine or pid is None or host not in (None, this_host()) or process_alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def kernel_environment(jobs: int, snapshot: str | os.PathLike[str] | None = None,
                       environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables to set for the kernels of a run: the cores and the memory of the dataset store
    (:func:`kpitools.memory.memory_limit`) shared among ``jobs`` kernels and the run itself (unless
    already set in ``environ``, default ``os.environ``), and the dataset snapshot to reopen.

    Examples
    --------
    >>> kernel_environment(2, environ={"OMP_NUM_THREADS": "4", "KPITOOLS_MEMORY_LIMIT": "1GB"}) == {
    ...     "OPENBLAS_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // 2)),
    ...     "MKL_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // 2))}
    True
    """
    from ..snapshot import ENV

    environ = os.environ if environ is None else environ
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    out = {name: threads for name in THREAD_VARIABLES if name not in environ}
    if memory.ENV not in environ:  # each kernel would otherwise take a share meant for one process
        out[memory.ENV] = memory.memory_limit(jobs + 1)
    if snapshot is not None:
        out[ENV] = str(snapshot)
    return out


class RunStopped(KpitoolsError):
    """The run was stopped by a signal (SIGTERM, or SIGINT from Ctrl-C)."""

    def __init__(self, signum: int, what: str = ""):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"{what} stopped by signal {self.signal_name}; it is marked failed" if what
                         else f"stopped by signal {self.signal_name}")


@contextlib.contextmanager
def stop_on_signals(signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
    """Turn ``signals`` into :class:`RunStopped` in the main thread while the block runs.

    A second signal while the run is already stopping is ignored, so the clean-up (kill the
    kernels, mark the version failed) is not cut short. Off the main thread (a run started from a
    worker thread) Python cannot install handlers, and the caller's handling stays as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            raise RunStopped(signum)

    # an ignored signal stays ignored (a background job's SIGINT, nohup): the caller chose that
    previous = {s: signal.signal(s, handler) for s in signals if signal.getsignal(s) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@dataclass
class KernelMemory:
    """What a run saw of one kernel: the largest memory it used (with its children), what was left
    then, and how it ended.

    Examples
    --------
    >>> GB = 10 ** 9
    >>> KernelMemory(peak=int(7.5 * GB), room_at_peak=GB // 4, returncode=-9).explain().split(" (largest")[0]
    'the kernel was killed (SIGKILL) while using 7.5 GB, with 250 MB left'
    >>> "not for lack of memory" in KernelMemory(peak=GB // 10, room_at_peak=8 * GB, returncode=-9).explain()
    True
    """

    peak: int = 0
    room_at_peak: int | None = None
    returncode: int | None = None

    def see(self, rss: int, room: int) -> None:
        if rss >= self.peak:
            self.peak, self.room_at_peak = rss, room

    @property
    def near_limit(self) -> bool:
        """At its largest, the kernel left at most :data:`NEAR` of the memory it could have had."""
        return self.room_at_peak is not None and self.room_at_peak <= NEAR * (self.peak + self.room_at_peak)

    def explain(self) -> str:
        """Why the kernel died, as far as the evidence goes, and what to do when it is memory."""
        code = self.returncode
        seen = (f"using {memory.format_size(self.peak)}, with {memory.format_size(self.room_at_peak)} left"
                if self.room_at_peak is not None else "before its memory could be sampled")
        if code is not None and code < 0:
            how = f"was killed ({signal.Signals(-code).name})" if -code in signal.valid_signals() \
                else f"ended by signal {-code}"
        else:
            how = f"exited with code {code}" if code is not None else "stopped answering"
        said = f"the kernel {how} while {seen} (largest sample)"
        if code == -signal.SIGKILL and self.near_limit:
            return (f"{said}: most likely out of memory (the system's out-of-memory killer sends SIGKILL). "
                    f"Run fewer notebooks at once (--jobs 1), give the machine more memory, or report on "
                    f"fewer channels (--param channels=...); {memory.ENV} bounds only DuckDB's part")
        if code == -signal.SIGKILL:
            return (f"{said}: something outside the notebook killed it; not for lack of memory as far as "
                    f"the samples every {SAMPLE_S} s show")
        return said


class Kernels:
    """The live kernel managers of one run, so a stopped run can kill its kernels at once, and a
    sampler of their memory (see :class:`KernelMemory`).

    Kernels start in their own process group (jupyter_client's choice), so a signal to the run
    does not reach them: without this they would run on after the run ended.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._managers: dict[Any, KernelMemory] = {}  # live managers and what is seen of their kernel
        self.stopped = threading.Event()
        self._closed = threading.Event()
        self._sampler = threading.Thread(target=self._sample_until_closed, name="kpitools-kernel-memory",
                                         daemon=True)
        self._sampler.start()

    def add(self, km: Any, seen: KernelMemory | None = None) -> None:
        """Register a kernel manager (its memory recorded into ``seen``, when given)."""
        with self._lock:
            if self.stopped.is_set():
                raise RuntimeError("the run is stopping: no new kernels")
            self._managers[km] = seen if seen is not None else KernelMemory()

    def discard(self, km: Any) -> None:
        """Forget a kernel manager whose kernel is shut down, noting how its kernel ended."""
        with self._lock:
            seen = self._managers.pop(km, None)
        process = self._process(km)
        if seen is not None and process is not None and process.poll() is not None:
            seen.returncode = process.returncode

    @staticmethod
    def _process(km: Any) -> Any:
        # the provisioner lets go of the process once it is shut down; the manager keeps it for us
        return getattr(km, "kt_process", None) or (getattr(km.provisioner, "process", None) if km.provisioner
                                                   else None)

    @classmethod
    def kill(cls, km: Any) -> None:
        """SIGKILL the kernel's process group (the kernel and anything it started)."""
        process = cls._process(km)
        if process is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)

    def stop(self) -> None:
        """Refuse new kernels and kill the running ones."""
        with self._lock:
            self.stopped.set()
            managers = list(self._managers)
        for km in managers:
            self.kill(km)

    def close(self) -> None:
        """End the memory sampler (the run is over)."""
        self._closed.set()
        self._sampler.join()

    def sample(self) -> None:
        """Record each live kernel's memory (its resident set and its children's) and how it ended."""
        import psutil

        with self._lock:
            watched = list(self._managers.items())
        if not watched:
            return
        room = memory.system_room()
        for km, seen in watched:
            process = self._process(km)
            if process is None:
                continue
            if process.poll() is not None:  # dead: how it ended is the evidence
                seen.returncode = process.returncode
                continue
            try:
                proc = psutil.Process(process.pid)
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:  # ended between the two calls: the next sample reads its exit code
                continue
            seen.see(rss, room)

    def _sample_until_closed(self) -> None:
        while not self._closed.wait(SAMPLE_S):
            self.sample()


def kernel_manager(env: Mapping[str, str], kernels: Kernels | None = None,
                   connection_dir: str | os.PathLike[str] | None = None,
                   seen: KernelMemory | None = None) -> type:
    """An nbclient kernel manager class whose kernels start with ``env`` added to this process's
    environment (per kernel: ``os.environ`` is left alone, so concurrent runs do not mix), are
    registered in ``kernels`` (their memory and end recorded into ``seen``) and write their
    connection file into ``connection_dir``."""
    from jupyter_client.manager import AsyncKernelManager

    extra = dict(env)

    class KernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw["env"] = {**kw.get("env", os.environ), **extra}
            if connection_dir is not None:
                self.connection_file = str(Path(connection_dir) / f"kernel-{uuid.uuid4().hex}.json")
            if kernels is not None:
                kernels.add(self, seen)
            await super().start_kernel(**kw)
            self.kt_process = self.provisioner.process if self.provisioner else None
            if kernels is not None and kernels.stopped.is_set():  # stopped while it was starting
                kernels.kill(self)

        async def cleanup_resources(self, restart: bool = False) -> None:
            if kernels is not None:
                kernels.discard(self)
            await super().cleanup_resources(restart=restart)

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
                 env: Mapping[str, str] | None = None, manager: type | None = None,
                 seen: KernelMemory | None = None) -> NotebookResult:
    """Execute one notebook into ``out_dir`` and export its HTML; never raises for notebook errors.

    A failing cell keeps the partial output (papermill saves after every cell and on error);
    the HTML is exported from it too, so the failure can be read in the report. ``manager`` is
    the kernel manager class (default: :func:`kernel_manager` of ``env``); ``seen``, what it
    records of the kernel, explains a dead kernel (:meth:`KernelMemory.explain`).
    """
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    out = out_dir / f"{spec.name}.ipynb"
    started = datetime.now(timezone.utc).isoformat()
    t0 = time.perf_counter()
    result = NotebookResult(name=spec.name, status=SUCCEEDED, started_at=started, duration_s=0.0, notebook=out)
    try:
        papermill.execute_notebook(
            str(spec.path), str(out), parameters=dict(parameters), kernel_name=KERNEL,
            progress_bar=False, log_output=False, request_save_on_cell_execute=True,
            resources={"metadata": {"path": str(cwd)}}, kernel_manager_class=manager or kernel_manager(env or {}),
        )
    except PapermillExecutionError as exc:
        result.status = FAILED
        result.failed_cell_index = _source_index(exc.cell_index, spec)
        result.execution_count = exc.exec_count
        result.error_name, result.error_value = exc.ename, exc.evalue
        if exc.ename in _MEMORY_ERRORS:  # kpitools' own errors name the knob; these do not
            result.error_value = (f"{exc.evalue}: out of memory; run fewer notebooks at once (--jobs 1), "
                                  f"free memory, or set {memory.ENV}")
    except Exception as exc:  # dead kernel, timeout, unreadable notebook: still a failed notebook, not a crash
        result.status = FAILED
        result.error_name, result.error_value = type(exc).__name__, str(exc)
        if isinstance(exc, DeadKernelError) and seen is not None:  # "Kernel died" says nothing of why
            result.error_value = seen.explain()
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
                  progress: Progress, env: Mapping[str, str] | None = None,
                  connection_dir: str | os.PathLike[str] | None = None) -> list[NotebookResult]:
    """Run every notebook (``parameters[name]`` each) with at most ``jobs`` at once, kernels started
    with ``env`` added to the environment and their connection files in ``connection_dir``;
    results in input order.

    When the calling thread is interrupted (:class:`RunStopped`, ``KeyboardInterrupt``) the kernels
    are killed and the notebooks not started are dropped before the exception goes on, so the
    caller gets control back within seconds.
    """
    kernels = Kernels()

    def one(spec: NotebookSpec) -> NotebookResult:
        progress(f"{spec.name}: started")
        seen = KernelMemory()
        manager = kernel_manager(env or {}, kernels, connection_dir, seen)
        res = run_notebook(spec, out_dir, parameters[spec.name], cwd=cwd, env=env, manager=manager, seen=seen,
                           export=lambda nb, out, failed: None if kernels.stopped.is_set() else export(nb, out, failed))
        if not kernels.stopped.is_set():  # a stopped run reports itself in one line
            progress(f"{spec.name}: {res.status} in {res.duration_s:.1f} s"
                     + (f" ({res.describe_failure()})" if res.status == FAILED else ""))
        return res

    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(specs))))
    try:
        return list(pool.map(one, specs))
    except BaseException:
        # nbclient logs "Kernel died while waiting for execute reply" for each killed kernel:
        # expected here, and the run reports its stop in one line of its own
        with _silenced(logging.getLogger("papermill")):  # papermill hands its logger to nbclient
            kernels.stop()
            pool.shutdown(wait=True, cancel_futures=True)  # threads end fast once their kernels are dead
        raise
    finally:
        pool.shutdown(wait=True)
        kernels.close()


@contextlib.contextmanager
def _silenced(logger: logging.Logger) -> Iterator[None]:
    """Drop ``logger``'s records while the block runs."""
    drop = logging.Filter(name="\0")  # matches no logger name, so it drops every record
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
