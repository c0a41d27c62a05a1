"""Snapshots of a loaded dataset, so that a monthly run validates its input once.

:func:`kpitools.run` loads the dataset, writes a snapshot (the validated tables as a DuckDB file,
plus the rejects, row counts, configuration and ``as_of``) into a temporary folder and names
that folder in the ``KPITOOLS_SNAPSHOT`` environment variable of the notebook kernels it starts.
:func:`kpitools.load` in such a kernel opens the snapshot read-only instead of validating the
files again, but only for the same dataset folder, the same kpitools version and while every
input file still has the size and modification time it had when the run loaded it; in every
other case it loads the folder as usual. Outside a run the variable is unset and nothing changes.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .dataset import Dataset, Store

ENV = "KPITOOLS_SNAPSHOT"
DATABASE = "dataset.duckdb"
META = "dataset.pickle"
_FORMAT = 3  # 2: the store has customer keys; 3: the provided columns travel


def _fingerprint(folder: Path, files: Iterable[Path]) -> dict[str, tuple[int, int]]:
    """Size and modification time of the input files and of every file directly in ``folder``
    (so a table file added since the load counts as a change too)."""
    paths = {Path(f).resolve() for f in files} | {p.resolve() for p in folder.iterdir() if p.is_file()}
    out = {}
    for p in sorted(paths):
        try:
            st = p.stat()
        except OSError:
            continue
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def _version() -> str:
    from . import __version__

    return __version__


def save(ds: Dataset, folder: str | os.PathLike[str]) -> Path:
    """Write a snapshot of ``ds`` into ``folder`` (created if needed) and return the folder.

    Examples
    --------
    >>> import tempfile
    >>> from kpitools.engine.example import example_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     where = save(example_dataset(), tmp)
    ...     sorted(p.name for p in where.iterdir())
    ['dataset.duckdb', 'dataset.pickle']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store = ds.store
    store.customer_keys()  # a read-only store cannot renumber them
    con = store.con
    name = con.execute("SELECT current_database()").fetchone()[0]
    target = str(folder / DATABASE).replace("'", "''")
    con.execute(f"ATTACH '{target}' AS kpitools_snapshot")
    try:
        con.execute(f'COPY FROM DATABASE "{name}" TO kpitools_snapshot')
    finally:
        con.execute("DETACH kpitools_snapshot")
    source = Path(ds.path).resolve()
    meta = {
        "format": _FORMAT,
        "kpitools": _version(),
        "source": str(source),
        "fingerprint": _fingerprint(source, ds.files.values()) if source.is_dir() else None,
        "config": ds.config,
        "rejects": ds.rejects,
        "counts": ds.counts,
        "as_of": ds.as_of,
        "files": ds.files,
        "store": store.facts(),
        "provided": {name: ds.provided(name) for name in ds.tables},
    }
    (folder / META).write_bytes(pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL))
    return folder


def reopen(path: str | os.PathLike[str]) -> Dataset | None:
    """The dataset of folder ``path`` from the snapshot named by ``KPITOOLS_SNAPSHOT``, or None
    when there is none or it does not match (another folder or version, a changed input file)."""
    where = os.environ.get(ENV)
    if not where:
        return None
    try:
        meta: dict[str, Any] = pickle.loads((Path(where) / META).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    folder = Path(path).resolve()
    if (meta.get("format") != _FORMAT or meta.get("kpitools") != _version() or meta.get("source") != str(folder)
            or not folder.is_dir() or meta.get("fingerprint") != _fingerprint(folder, meta["files"].values())):
        return None
    store = Store.read_only(Path(where) / DATABASE, meta["store"])
    return Dataset(path=Path(path), config=meta["config"], rejects=meta["rejects"], counts=meta["counts"],
                   as_of=meta["as_of"], files=meta["files"], store=store, provided=meta["provided"])
