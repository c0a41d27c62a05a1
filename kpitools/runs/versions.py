"""Version folders ``reports/<period>/v<N>/`` and the ``LATEST`` pointer (SPEC §7).

A version folder is claimed with :func:`os.mkdir`, which either creates the folder or fails
because it exists, atomically, on every platform and on network file systems; so two runs at
once always get different N and neither ever writes into the other's folder. ``LATEST`` is
replaced with :func:`os.replace`, so a reader sees the old or the new pointer, never half a file.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from pathlib import Path

_VERSION = re.compile(r"^v([1-9][0-9]*)$")
LATEST = "LATEST"
MANIFEST = "manifest.json"
SUCCEEDED, FAILED, RUNNING = "succeeded", "failed", "running"


def this_host() -> str:
    """This machine's name, recorded with a running run's pid (a pid means nothing elsewhere)."""
    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine.

    A pid reused by an unrelated process reads as alive: the safe side, since it only delays
    marking a dead run.

    Examples
    --------
    >>> process_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


def version_number(name: str) -> int | None:
    """``"v12"`` -> 12; anything else -> ``None``.

    Examples
    --------
    >>> version_number("v12"), version_number("v0"), version_number("latest")
    (12, None, None)
    """
    match = _VERSION.match(name)
    return int(match.group(1)) if match else None


def list_versions(period_dir: str | Path) -> list[Path]:
    """The ``v<N>`` folders of a period folder, in increasing N (missing folder: empty list)."""
    folder = Path(period_dir)
    if not folder.is_dir():
        return []
    found = [(version_number(p.name), p) for p in folder.iterdir() if p.is_dir()]
    return [p for n, p in sorted((n, p) for n, p in found if n is not None)]


def claim_version(period_dir: str | Path) -> Path:
    """Create and return the next free ``v<N>`` folder of ``period_dir`` (created if needed).

    Safe against concurrent runs: when another run takes N first, the next N is tried.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [claim_version(Path(tmp) / "2026-10").name for _ in range(3)]
    ['v1', 'v2', 'v3']
    """
    folder = Path(period_dir)
    folder.mkdir(parents=True, exist_ok=True)
    existing = list_versions(folder)
    n = version_number(existing[-1].name) + 1 if existing else 1
    while True:
        candidate = folder / f"v{n}"
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            n += 1


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and :func:`os.replace`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write_text(Path(tmp) / "LATEST", "v2\\n").read_text()
    'v2\\n'
    """
    path = Path(path)
    # a unique name per writer (not mkstemp, whose 0600 mode would make reports private)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_manifest(version_dir: str | Path) -> dict | None:
    """The parsed ``manifest.json`` of a version folder (``None`` if absent or unreadable)."""
    try:
        return json.loads((Path(version_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_latest(period_dir: str | Path) -> str | None:
    """The version ``LATEST`` names (``"v3"``), or ``None`` when there is none yet."""
    try:
        name = (Path(period_dir) / LATEST).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if version_number(name) else None


def update_latest(period_dir: str | Path) -> str | None:
    """Point ``LATEST`` at the highest-numbered succeeded version; return its name.

    The pointer is recomputed from the manifests rather than set to "this run", so when two
    runs of a period finish out of order, ``LATEST`` still ends on the newer good version, and
    it never names a failed or unfinished one.
    """
    good = [p.name for p in list_versions(period_dir)
            if (read_manifest(p) or {}).get("status") == SUCCEEDED]
    if not good:
        return None
    atomic_write_text(Path(period_dir) / LATEST, good[-1] + "\n")
    return good[-1]
