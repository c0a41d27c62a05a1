"""How much memory kpitools may use, and a clear error instead of a crash when it runs out.

The dataset store (DuckDB) keeps a bounded buffer pool and spills beyond it to its folder, so its
limit must fit what this process may really allocate: the machine's available memory, but also a
container's cgroup limit and an address-space limit (``ulimit -v``), either of which can be far
lower. Past the limit DuckDB raises an out-of-memory error (a Python ``MemoryError`` in pandas or
Arrow), which :func:`out_of_memory` turns into a :class:`OutOfMemoryError` naming what was being
done and the knob to turn, rather than letting the kernel's OOM killer end the process without a
word.

The knob is the ``KPITOOLS_MEMORY_LIMIT`` environment variable (DuckDB's size syntax: ``2GB``,
``512MB``): it overrides the limit computed here, for every process of a run (the run passes its
own share to each notebook kernel, see :func:`kpitools.runs.execute.kernel_environment`).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
from collections.abc import Iterator
from pathlib import Path

from .errors import KpitoolsError

ENV = "KPITOOLS_MEMORY_LIMIT"
MB = 2 ** 20
#: The store's buffer pool at most: beyond it the store spills to disk, which is fast enough, and
#: the rest of the memory stays free for pandas in the notebooks.
CEILING = 768 * MB
#: DuckDB cannot run a query in much less (one block per thread plus its catalogue).
FLOOR = 64 * MB
#: The part of the available memory the store may take: the loader's pandas slices, Arrow's copies
#: and Python itself need the rest.
SHARE = 0.4
_UNITS = {"b": 1, "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "tb": 10 ** 12,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40}
#: cgroup v2 and v1 files: limit, usage, and the statistic of reclaimable page cache.
_CGROUPS = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "inactive_file",
             "/sys/fs/cgroup/memory.stat"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
             "total_inactive_file", "/sys/fs/cgroup/memory/memory.stat"))
_NO_LIMIT = 2 ** 60  # cgroup v1 writes "no limit" as a number near 2**63


class OutOfMemoryError(KpitoolsError):
    """kpitools ran out of the memory it may use (the message names what it was doing and the knob)."""


def parse_size(text: str) -> int:
    """Bytes of a size written the way DuckDB reads it (``"2GB"``, ``"512 MiB"``).

    Examples
    --------
    >>> parse_size("2GB"), parse_size("512 MiB")
    (2000000000, 536870912)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*", text.lower())
    if m is None:
        raise KpitoolsError(f"{ENV}={text!r}: expected a size such as 2GB or 512MB")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def format_size(n: float) -> str:
    """``n`` bytes for people (decimal units, as DuckDB's settings read them).

    Examples
    --------
    >>> format_size(1_500_000_000), format_size(734_003_200)
    ('1.5 GB', '734 MB')
    """
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cgroup_room() -> int | None:
    """Bytes the process's cgroup may still use (its limit minus what it uses, page cache that can
    be reclaimed not counted as used); ``None`` without a memory limit."""
    for limit_file, usage_file, cache_key, stat_file in _CGROUPS:
        limit, usage = _read(limit_file), _read(usage_file)
        if limit is None or usage is None or not limit.isdigit() or not usage.isdigit():
            continue  # absent, or "max": no limit at this level
        if int(limit) >= _NO_LIMIT:
            return None
        stats = dict(line.split() for line in (_read(stat_file) or "").splitlines() if len(line.split()) == 2)
        cache = int(stats.get(cache_key, 0))
        return max(0, int(limit) - (int(usage) - cache))
    return None


def address_space_room() -> int | None:
    """Bytes of address space left under ``ulimit -v`` (``RLIMIT_AS``); ``None`` when unlimited."""
    import psutil

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(0, soft - psutil.Process().memory_info().vms)


def system_room() -> int:
    """Bytes the machine and this process's cgroup can still give (the address-space limit aside)."""
    import psutil

    rooms = [psutil.virtual_memory().available, cgroup_room()]
    return min(r for r in rooms if r is not None)


def available_memory() -> int:
    """Bytes this process may still allocate: the least of the machine's available memory, the
    room in its cgroup and the room under its address-space limit."""
    rooms = [system_room(), address_space_room()]
    return min(r for r in rooms if r is not None)


def memory_limit(processes: int = 1) -> str:
    """DuckDB's ``memory_limit`` for one of ``processes`` processes sharing the available memory:
    ``KPITOOLS_MEMORY_LIMIT`` when set, else :data:`SHARE` of the available memory split among
    them, between :data:`FLOOR` and :data:`CEILING`.

    The computed value is kept for the life of the process: DuckDB refuses a second connection to
    an open database with another configuration (a kernel calling ``kt.load`` twice).

    Examples
    --------
    >>> os.environ[ENV] = "2GB"; memory_limit()
    '2GB'
    >>> del os.environ[ENV]; FLOOR <= parse_size(memory_limit()) <= CEILING
    True
    """
    given = os.environ.get(ENV, "").strip()
    if given:
        parse_size(given)  # a clear error now rather than DuckDB's at connect
        return given
    if processes not in _computed:
        share = int(available_memory() * SHARE / max(1, processes))
        _computed[processes] = f"{max(FLOOR, min(CEILING, share)) // MB}MiB"
    return _computed[processes]


_computed: dict[int, str] = {}


def as_error(exc: BaseException, what: str, limit: str | None = None) -> OutOfMemoryError | None:
    """The :class:`OutOfMemoryError` for ``exc`` (DuckDB's out-of-memory error, Python's, pandas' or
    Arrow's ``MemoryError``) while doing ``what`` (``"storing table tickets"``), with ``limit`` the
    DuckDB memory limit in force (default: this process's); ``None`` for any other exception."""
    import duckdb

    if not isinstance(exc, (duckdb.OutOfMemoryException, MemoryError)):
        return None
    limit = limit or memory_limit()
    available = available_memory()
    text = str(exc).strip()
    said = f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
    if isinstance(exc, duckdb.OutOfMemoryException) and available > parse_size(limit):
        # DuckDB stopped at its own limit while the process could have had more
        return OutOfMemoryError(
            f"out of memory {what}: DuckDB's memory limit {limit} is not enough, {format_size(available)} "
            f"is available. Set {ENV} higher (e.g. {ENV}={max(1, 2 * parse_size(limit) // 10 ** 9)}GB); "
            f"in a run, also fewer notebooks at once (--jobs 1). ({said})")
    # the process itself got no more memory: only using less, or a higher limit, helps
    return OutOfMemoryError(
        f"out of memory {what}: the process could not allocate more ({format_size(available)} available, "
        f"DuckDB's memory limit {limit}). Free memory or raise the process's limit (container, ulimit -v), "
        f"or set {ENV} lower so DuckDB spills to disk sooner; in a run, also fewer notebooks at once "
        f"(--jobs 1). ({said})")


@contextlib.contextmanager
def out_of_memory(what: str, limit: str) -> Iterator[None]:
    """Turn running out of memory inside the block into an :class:`OutOfMemoryError` saying
    ``what`` was being done, with ``limit`` the DuckDB memory limit in force (see :func:`as_error`)."""
    try:
        yield
    except Exception as exc:
        clear = as_error(exc, what, limit)
        if clear is None:
            raise
        raise clear from None
