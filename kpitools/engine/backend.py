"""The Ibis backend: one connection per engine run and the way tables get into it.

Ibis is imported here, lazily, so that ``import kpitools`` stays fast. Every query of the engine
is an Ibis expression built from portable operations (integer arithmetic on instants, exact
counts, joins, window functions), which Ibis compiles for the connection's own dialect; this
module only reaches the connection through Ibis's backend API.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_names = itertools.count()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the DeprecationWarning ibis 12 triggers by calling DuckDB 1.5's fetch_arrow_table()
    when it reads a table schema (harmless; the engine cannot avoid that call)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        yield


def ibis_module() -> Any:
    """``ibis``, imported on first use."""
    import ibis

    return ibis


def _stored_columns(store: Any, name: str) -> list[str]:
    """Every column of a stored table, the hidden ones included (the store lists only some of
    them): its schema, read through Ibis on a cursor of the store."""
    con = ibis_module().duckdb.from_connection(store.con.cursor())
    try:
        with _quiet():
            return list(con.table(name).columns)
    finally:
        con.disconnect()


def _signed_keys(data: pa.Table) -> pa.Table:
    """``data`` with its unsigned 64-bit columns (the store's hashed keys) as signed ones, bit for
    bit: neither Spark nor DataFusion has an unsigned type, and a key is only ever compared for
    equality, which the reinterpretation keeps."""
    for i, field in enumerate(data.schema):
        if pa.types.is_uint64(field.type):
            signed = pa.chunked_array([c.view(pa.int64()) for c in data.column(i).chunks], pa.int64())
            data = data.set_column(i, pa.field(field.name, pa.int64(), field.nullable), signed)
    return data


class Backend:
    """An Ibis connection and the storage used to bring tables into it.

    Parameters
    ----------
    storage : {"memory", "parquet"}
        ``"memory"`` passes Arrow tables as Ibis memtables (zero copy on DuckDB); ``"parquet"``
        writes them to Parquet files in a temporary folder and reads those (the same expressions
        over a second kind of source; used by the portability tests).
    con : Ibis backend, optional
        Reuse a connection (tests share one); a new in-memory DuckDB otherwise.
    shared : bool
        The connection outlives the run (a process-wide Spark session): :meth:`close` drops the
        run's cached tables and leaves the connection open.

    Notes
    -----
    By default the engine runs on :meth:`on_store`: a connection to the dataset's own DuckDB
    store, where the stored tables are read in place. Any other backend first gets a copy of
    each stored table it needs (:meth:`stored`).

    Examples
    --------
    >>> b = Backend()
    >>> t = b.table("x", pa.table({"a": [1, 2, 3]}))
    >>> int(b.execute(t.a.sum().name("s").as_table())["s"][0]), b.scalar(t.count())
    (6, 3)
    """

    def __init__(self, storage: str = "memory", con: Any = None, shared: bool = False, copies: Copies | None = None):
        if storage not in ("memory", "parquet"):
            raise ValueError(f"storage must be 'memory' or 'parquet', got {storage!r}")
        ibis = ibis_module()
        self.storage = storage
        self.shared = shared
        self.con = con if con is not None else ibis.duckdb.connect()
        self.store: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._copies: dict[tuple[int, str], Any] = {}
        self._cached: list[Any] = []
        self.copies = copies

    @classmethod
    def on_warehouse(cls, store: Any) -> Backend:
        """A backend on the connection of a :class:`~kpitools.warehouse.WarehouseStore`, whose
        tables are read where they are (the connection stays open after the run)."""
        # small tables reach DuckDB as memtables; other engines read them from Parquet files
        backend = cls("memory" if store.backend.name == "duckdb" else "parquet", con=store.backend, shared=True)
        backend.store = store
        return backend

    @classmethod
    def on_store(cls, store: Any) -> Backend:
        """A backend on a new connection (a cursor) to a :class:`~kpitools.dataset.Store`: its
        temporary tables are its own and go when it is closed."""
        ibis = ibis_module()
        backend = cls(con=ibis.duckdb.from_connection(store.con.cursor()))
        backend.store = store
        return backend

    @property
    def embedded(self) -> bool:
        """The connection is DuckDB in this process: temporary tables, and no cost per query."""
        return self.con.name == "duckdb"

    def close(self) -> None:
        """Close the connection (and with it the temporary tables of the run); a shared one stays
        open and loses only the run's cached tables."""
        self.release()
        if not self.shared:
            self.con.disconnect()

    def release(self) -> None:
        """Release what :meth:`cache` kept in a backend's own cache (the connection stays open)."""
        with _quiet():
            while self._cached:
                self._cached.pop().release()

    def _folder(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kpitools-")
        return Path(self._tmp.name)

    def table(self, name: str, data: pa.Table, folder: Path | None = None) -> Any:
        """An Arrow table as an Ibis table expression on this connection (Parquet storage: a file
        in ``folder``, by default the backend's own)."""
        ibis = ibis_module()
        if self.storage == "memory":
            return ibis.memtable(data)
        path = (folder or self._folder()) / f"{name}_{next(_names)}.parquet"
        pq.write_table(_signed_keys(data), path)
        with _quiet():
            return self.con.read_parquet(path)

    def stored(self, store: Any, name: str) -> Any:
        """The stored table ``name`` of ``store`` (in its stored form, hidden columns included)."""
        key = (id(store), name)
        if key not in self._copies:
            if store is self.store:  # the dataset's own tables, read where they are
                with _quiet():
                    self._copies[key] = (store.table(name) if getattr(store, "backend", None) is self.con
                                         else self.con.table(name))
            elif self.copies is not None:
                self._copies[key] = self.copies.get(store, name, lambda folder: self.table(
                    name, store.arrow(name, _stored_columns(store, name)), folder))
            else:
                self._copies[key] = self.table(name, store.arrow(name, _stored_columns(store, name)))
        return self._copies[key]

    def cache(self, expr: Any) -> Any:
        """Materialise a shared intermediate once and return it: a temporary table of the run's
        DuckDB connection, elsewhere Ibis's cache of the expression, which each backend makes its
        own way (a cached view on Spark, an in-memory table on DataFusion, which has no temporary
        tables although Ibis says it has)."""
        with _quiet():
            if self.embedded:
                return self.con.create_table(f"kpitools_cache_{next(_names)}", expr, temp=True)
            table = expr.cache()
        self._cached.append(table)
        return table

    def execute(self, expr: Any) -> pd.DataFrame:
        """Run a table expression on this connection and return pandas (via Arrow: numeric columns
        arrive without Ibis's per-column conversions)."""
        with _quiet():
            return self.con.to_pyarrow(expr).to_pandas()

    def execute_parts(self, parts: dict[str, Any], order: list[str]) -> dict[str, pd.DataFrame]:
        """Run several table expressions (aggregates, as a rule) and return name -> frame sorted
        by ``order``.

        On embedded DuckDB one at a time (a query costs no round trip there, and only one
        aggregate's hash table is in memory at once, which a small memory limit needs: at 10M
        tickets under 512 MB the union ran out of memory); elsewhere as one union query, each row
        labelled with its part (each query is a job on Spark or a round trip to a warehouse)."""
        if self.embedded:
            return {name: self.execute(part.order_by(order)) for name, part in parts.items()}
        ibis = ibis_module()
        key = "kpitools_part"
        # nullable alike: a backend may know one part's column cannot be null and not another's
        labelled = [part.mutate(**{key: ibis.literal(name)}) for name, part in parts.items()]
        labelled = [p.cast({c: t.copy(nullable=True) for c, t in p.schema().items()}) for p in labelled]
        found = self.execute(ibis.union(*labelled, distinct=False).order_by([key, *order]))
        return {name: found[found[key] == name].drop(columns=key).reset_index(drop=True) for name in parts}

    def scalar(self, expr: Any) -> Any:
        """Run a scalar expression (a count, a flag) and return the Python value."""
        with _quiet():
            return self.con.to_pyarrow(expr).as_py()


class Copies:
    """Stored tables copied into a shared connection, kept while their store lives: each
    ``kt.kpis`` call on a process-wide Spark session would otherwise copy the dataset again (at
    1M tickets about 30 s a call). A store's files go when the store is garbage collected."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="kpitools-copies-")
        self._tables: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

    def get(self, store: Any, name: str, make: Any) -> Any:
        """The copy of ``store``'s table ``name``, made by ``make(folder)`` the first time."""
        if store not in self._tables:
            folder = Path(tempfile.mkdtemp(dir=self._tmp.name))
            weakref.finalize(store, shutil.rmtree, folder, ignore_errors=True)
            self._tables[store] = {"": folder}
        tables = self._tables[store]
        if name not in tables:
            tables[name] = make(tables[""])
        return tables[name]
