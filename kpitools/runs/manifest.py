"""``manifest.json``: what a version was made from, with what, and how it went (SPEC §7).

It records everything needed to tell whether two versions must be identical: the SHA-256 of
every input file, the parameters, the notebooks' source, kpitools' version, git commit and
source. Those parts make the version's ``fingerprint``; ``reproduces`` names the earliest earlier
succeeded version of the period with the same fingerprint.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from .versions import (FAILED, MANIFEST, RUNNING, SUCCEEDED, atomic_write_text, list_versions, process_alive,
                       read_manifest, this_host, version_number)

#: Distributions whose versions can change a number or a chart.
KEY_PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "ibis-framework", "duckdb", "pyarrow",
                "papermill", "nbconvert", "matplotlib", "seaborn")
#: Parameters that name this version's own folder: they differ between versions by design.
LOCATION_PARAMS = ("output_dir", "kpis_path")
INTERRUPTED = "interrupted"


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "x"
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(folder: str | Path, files: Iterable[str | Path]) -> dict[str, str]:
    """SHA-256 of each input file, keyed by its path relative to the dataset ``folder``.

    ``folder/dataset.toml`` is always included when it exists.
    """
    folder = Path(folder).resolve()
    paths = {Path(f).resolve() for f in files}
    if (folder / "dataset.toml").is_file():
        paths.add(folder / "dataset.toml")
    out = {}
    for p in sorted(paths):
        key = p.relative_to(folder).as_posix() if p.is_relative_to(folder) else str(p)
        out[key] = sha256_file(p)
    return out


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (``None`` when not installed), plus Python's.

    Examples
    --------
    >>> v = package_versions(["pandas", "surely-not-installed-kpitools"])
    >>> sorted(v), v["surely-not-installed-kpitools"]
    (['pandas', 'python', 'surely-not-installed-kpitools'], None)
    """
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(folder: Path, *args: str) -> str | None:
    # --no-optional-locks: a read-only look must not touch the index of a repo someone is using
    try:
        done = subprocess.run(["git", "--no-optional-locks", "-C", str(folder), *args],
                              capture_output=True, text=True, timeout=20,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def source_hash(package_dir: str | Path) -> str:
    """SHA-256 over the ``*.py`` files of a package (relative paths and contents, sorted).

    Tells whether the code was the same even when the git tree is dirty or absent.
    """
    root = Path(package_dir)
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        digest.update(p.relative_to(root).as_posix().encode() + b"\0" + sha256_file(p).encode() + b"\n")
    return digest.hexdigest()


def kpitools_state() -> dict[str, Any]:
    """kpitools' version, source hash, and the git commit (+ dirty flag) of its checkout, if any.

    Taken once per process: the code a process runs is what it imported, not what an editor
    saved afterwards.
    """
    return dict(_kpitools_state())


@functools.cache
def _kpitools_state() -> dict[str, Any]:
    import kpitools

    package_dir = Path(kpitools.__file__).parent
    commit = _git(package_dir, "rev-parse", "HEAD")
    status = _git(package_dir, "status", "--porcelain") if commit is not None else None
    return {
        "version": kpitools.__version__,
        "source_sha256": source_hash(package_dir),
        "git_commit": commit.strip() if commit else None,
        "git_dirty": bool(status.strip()) if status is not None else None,
    }


def fingerprint(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of what must be equal for two versions to be the same report.

    Inputs, parameters (minus this version's own paths), each notebook's source hash, and
    kpitools' version, commit and source hash. Times, statuses and package versions are left
    out on purpose: package versions are pinned by requirements.txt, and a report made twice
    from the same inputs and code must be recognised as a repeat.
    """
    params = {k: v for k, v in manifest["parameters"].items() if k not in LOCATION_PARAMS}
    k = manifest["kpitools"]
    parts = {
        "inputs": manifest["inputs"],
        "parameters": params,
        "notebooks": {nb["name"]: nb["source_sha256"] for nb in manifest["notebooks"]},
        "kpitools": [k["version"], k["git_commit"], k["source_sha256"]],
    }
    if manifest.get("include_identifiers"):  # another rejects.csv; absent otherwise, so older fingerprints hold
        parts["include_identifiers"] = True
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def find_reproduced(period_dir: str | Path, version: str, fp: str) -> str | None:
    """The earliest succeeded version before ``version`` with fingerprint ``fp`` (or ``None``)."""
    n = version_number(version)
    for p in list_versions(period_dir):
        if version_number(p.name) >= n:
            break
        m = read_manifest(p) or {}
        if m.get("status") == SUCCEEDED and m.get("fingerprint") == fp:
            return p.name
    return None


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as UTF-8 JSON, sorted keys, indent 2, final newline (atomically)."""
    return atomic_write_text(path, json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n")


def process_record() -> dict[str, Any]:
    """``{"pid", "host"}`` of this process, stored in a running version's manifest so a later run
    can tell a run still going from one that was killed."""
    return {"pid": os.getpid(), "host": this_host()}


def _interrupted(manifest: Mapping[str, Any]) -> bool:
    """A ``running`` manifest whose process, on this host, no longer exists."""
    process = manifest.get("process") or {}
    pid = process.get("pid")
    return (manifest.get("status") == RUNNING and isinstance(pid, int) and process.get("host") == this_host()
            and not process_alive(pid))


def repair_interrupted(reports_dir: str | Path) -> list[Path]:
    """Mark ``failed`` ("interrupted") every version of ``reports_dir`` still ``running`` although
    its process is gone (killed, machine restarted); return their folders.

    Versions started on another host, or before manifests recorded the process, are left alone:
    from here there is no telling whether they still run.
    """
    root = Path(reports_dir)
    fixed = []
    for period_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for version_dir in list_versions(period_dir):
            manifest = read_manifest(version_dir)
            if manifest is None or not _interrupted(manifest):
                continue
            process = manifest["process"]
            manifest.update(status=FAILED, error=f"{INTERRUPTED}: process {process['pid']} on {process['host']} "
                                                 "ended without finishing the run")
            write_json(version_dir / MANIFEST, manifest)
            fixed.append(version_dir)
    return fixed
