"""The Ibis backend: one DuckDB connection per engine run and the way narrow tables get into it.

Ibis is imported here, lazily, so that ``import kpitools`` stays fast. Expressions built by the
engine use only portable operations (integer arithmetic on microsecond columns, exact counts,
joins, one window ``lead``); they compile unchanged for other Ibis backends.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
import warnings
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


class Backend:
    """A DuckDB connection and the storage used to register the engine's narrow tables.

    Parameters
    ----------
    storage : {"memory", "parquet"}
        ``"memory"`` registers Arrow tables in the connection (zero copy); ``"parquet"`` writes
        them to Parquet files in a temporary folder and scans those (the same expressions over a
        second kind of source; used by the portability tests).
    con : ibis DuckDB backend, optional
        Reuse a connection (tests share one); a new in-memory DuckDB otherwise.

    Notes
    -----
    By default the engine runs on :meth:`on_store`: a connection to the dataset's own DuckDB
    store, where the stored tables are read in place. Any other backend first gets a copy of
    each stored table it needs (:meth:`base`).

    Examples
    --------
    >>> b = Backend()
    >>> t = b.table("x", pa.table({"a": [1, 2, 3]}))
    >>> int(b.execute(t.a.sum().name("s").as_table())["s"][0])
    6
    """

    def __init__(self, storage: str = "memory", con: Any = None):
        if storage not in ("memory", "parquet"):
            raise ValueError(f"storage must be 'memory' or 'parquet', got {storage!r}")
        ibis = ibis_module()
        self.storage = storage
        self.con = con if con is not None else ibis.duckdb.connect()
        self.store: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._bases: dict[tuple[int, str], str] = {}

    @classmethod
    def on_store(cls, store: Any) -> Backend:
        """A backend on a new connection (a cursor) to a :class:`~kpitools.dataset.Store`: its
        temporary tables are its own and go when it is closed."""
        ibis = ibis_module()
        backend = cls(con=ibis.duckdb.from_connection(store.con.cursor()))
        backend.store = store
        return backend

    def close(self) -> None:
        """Close the connection (and with it the temporary tables of the run)."""
        self.con.disconnect()

    def _folder(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kpitools-")
        return Path(self._tmp.name)

    def table(self, name: str, data: pa.Table) -> Any:
        """Register an Arrow table and return it as an Ibis table expression."""
        ibis = ibis_module()
        if self.storage == "memory":
            return ibis.memtable(data)
        path = self._folder() / f"{name}_{next(_names)}.parquet"
        pq.write_table(data, path)
        with _quiet():
            return self.con.read_parquet(path)

    def register(self, name: str, data: pa.Table) -> str:
        """Register an Arrow table under a fresh SQL name (returned, quoted) for raw SQL."""
        sql_name = f"kpitools_{''.join(c if c.isalnum() else '_' for c in name)}_{next(_names)}"
        if self.storage == "memory":
            self.con.con.register(sql_name, data)
        else:
            path = self._folder() / f"{sql_name}.parquet"
            pq.write_table(data, path)
            self.con.con.execute(f"CREATE TEMP VIEW {sql_name} AS SELECT * FROM read_parquet('{path}')")
        return sql_name

    def base(self, store: Any, name: str) -> str:
        """The SQL name of the stored table ``name`` of ``store`` as this backend sees it."""
        if store is self.store:
            return '"' + name.replace('"', '""') + '"'
        key = (id(store), name)
        if key not in self._bases:
            self._bases[key] = self.register(name, store.arrow(name))
        return self._bases[key]

    def sql(self, query: str) -> Any:
        """A raw DuckDB query as an Ibis table expression."""
        with _quiet():
            return self.con.sql(query)

    def cache(self, expr: Any) -> Any:
        """Materialise a shared intermediate once (a temporary DuckDB table) and return it."""
        with _quiet():
            return self.con.create_table(f"kpitools_cache_{next(_names)}", expr, temp=True)

    def execute(self, expr: Any) -> pd.DataFrame:
        """Run an expression on this connection and return pandas (DuckDB's own conversion:
        numeric columns arrive without Arrow and Ibis copies in between)."""
        with _quiet():
            return self.con.to_pyarrow(expr).to_pandas()
