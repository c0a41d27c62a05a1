"""Snapshots of a loaded dataset, so that a monthly run validates its input once.

:func:`kpitools.run` loads the dataset, writes a snapshot (the validated tables as a DuckDB file,
plus the rejects, row counts, configuration and ``as_of``) into a temporary folder and names
that folder in the ``KPITOOLS_SNAPSHOT`` environment variable of the notebook kernels it starts.
:func:`kpitools.load` of the run's dataset folder in such a kernel opens the snapshot read-only
instead of validating the files again, so every notebook of a run reports on the one dataset the
run loaded. If that is no longer possible it is an error, never a fresh load that could mix two
datasets in one report: :class:`InputChangedError` when an input file no longer has the size and
modification time it had when the run loaded it (or a file was added to or removed from the
folder), :class:`SnapshotError` when the snapshot is unreadable or was written by another
kpitools version. Another folder loads as usual; outside a run the variable is unset and nothing
changes.

The snapshot holds the customers' data, so its files are readable by their owner only.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .dataset import Dataset, Store
from .errors import KpitoolsError

ENV = "KPITOOLS_SNAPSHOT"
DATABASE = "dataset.duckdb"
META = "dataset.pickle"
_FORMAT = 3  # 2: the store has customer keys; 3: the provided columns travel


class SnapshotError(KpitoolsError):
    """The run's snapshot cannot be used (unreadable, or written by another kpitools)."""


class InputChangedError(KpitoolsError):
    """An input file of the run's dataset changed after the run loaded it."""


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
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # also when it existed: the snapshot is the customers' data
    if ds.config.connection is not None:  # the tables stay in their backend: the kernels validate there
        _write_meta(folder, {"format": _FORMAT, "kpitools": _version(), "source": str(Path(ds.path).resolve()),
                             "connection": ds.config.connection, "counts": ds.counts})
        return folder
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
    (folder / DATABASE).chmod(0o600)
    _write_meta(folder, meta)
    return folder


def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
    with os.fdopen(os.open(folder / META, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL))


def _changed(folder: Path, meta: dict[str, Any]) -> list[str]:
    """The input files whose size or modification time differ from the snapshot's record (added
    and removed files included), relative to ``folder`` when inside it."""
    before, now = meta["fingerprint"] or {}, _fingerprint(folder, meta["files"].values())
    names = []
    for path in sorted(set(before) | set(now)):
        if before.get(path) != now.get(path):
            p = Path(path)
            names.append(p.relative_to(folder).as_posix() if p.is_relative_to(folder) else str(p))
    return names


def reopen(path: str | os.PathLike[str]) -> Dataset | None:
    """The dataset of folder ``path`` from the snapshot named by ``KPITOOLS_SNAPSHOT``.

    ``None`` outside a run (the variable is unset) and for any folder other than the run's.

    Raises
    ------
    SnapshotError
        The snapshot cannot be read or was written by another kpitools version.
    InputChangedError
        An input file of the run's folder changed since the run loaded it.
    """
    where = os.environ.get(ENV)
    if not where:
        return None
    try:
        meta: dict[str, Any] = pickle.loads((Path(where) / META).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise SnapshotError(f"cannot read the run's dataset snapshot {where} ({exc}); "
                            "start the run again") from None
    folder = Path(path).resolve()
    if meta.get("source") != str(folder):
        return None
    if meta.get("format") != _FORMAT or meta.get("kpitools") != _version():
        raise SnapshotError(f"the run's dataset snapshot {where} was written by kpitools {meta.get('kpitools')}, "
                            f"this kernel runs {_version()}; start the run again")
    if not folder.is_dir():
        raise InputChangedError(f"input changed during the run: {folder.name} (the folder is gone)")
    if "connection" in meta:
        return _reconnect(folder, meta)
    changed = _changed(folder, meta)
    if changed:
        # a fresh load here would put a second dataset into the same report
        raise InputChangedError(f"input changed during the run: {', '.join(changed)}")
    store = Store.read_only(Path(where) / DATABASE, meta["store"])
    return Dataset(path=Path(path), config=meta["config"], rejects=meta["rejects"], counts=meta["counts"],
                   as_of=meta["as_of"], files=meta["files"], store=store, provided=meta["provided"])


def _reconnect(folder: Path, meta: dict[str, Any]) -> Dataset:
    """The run's dataset in its backend, validated again there (nothing is copied out of it); a
    table whose rows changed since the run validated it is an error, as a changed file is."""
    from .config import read_config
    from .warehouse import connect

    cfg = read_config(folder)
    ds = connect(cfg.connection, config=cfg, rejects_table=None)
    before, now = (c.set_index("table")[["rows_in", "rows_kept"]] for c in (meta["counts"], ds.counts))
    if not before.equals(now):
        changed = sorted(set(before.index) ^ set(now.index)
                         | {t for t in set(before.index) & set(now.index) if not before.loc[t].equals(now.loc[t])})
        raise InputChangedError(f"input changed during the run: table(s) {', '.join(changed)} of {cfg.connection}")
    return ds
