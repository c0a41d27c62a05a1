"""The loaded dataset: validated tables plus the accounting of every input row.

The loader keeps the validated tables in a :class:`Store` (an embedded DuckDB database in a
temporary folder: compressed columns on disk, a bounded buffer pool in memory), so a dataset of
tens of millions of rows stays small in memory and the KPI engine queries it where it lies. The
pandas tables analysts use (``ds.tickets``, ``ds.tables["activity"]``, ...) are materialised on
first access and cached. A :class:`Dataset` built from pandas frames keeps those frames and
copies them into an in-memory store when the engine first needs one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .config import DatasetConfig
from .memory import MB, memory_limit, out_of_memory, parse_size
from .validate import TEXT

ROW = "__kt_row"  # the input row number of each stored row (its spreadsheet row for loaded files)
KEY = "__kt_key"  # an integer per customer id, on tables with a customer_id (see Store.customer_keys)


_PREFIX = "kpitools-store-"


def _remove_orphans() -> None:
    """Remove store folders left behind by processes that ended without cleaning up (a killed
    Jupyter kernel runs no exit handlers)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            os.kill(int((folder / "owner.pid").read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):  # not ours to judge (another user's, or being created)
            continue


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_sql(text: str) -> str:
    """SQL for the key of a customer id given as text (a 64-bit hash: one integer per id unless
    two ids collide, which :meth:`Store.customer_keys` checks)."""
    return f"hash({text})"


class Store:
    """Tables kept in an embedded DuckDB database, with the pandas dtype of every column.

    Timestamps are stored as ``BIGINT`` nanoseconds since the epoch (UTC for time-zone aware
    columns, wall time for naive ones), so the stored values are exact; every other column is
    stored as Arrow converts it. Each table has a hidden ``__kt_row`` column, the row's number,
    and each table with a ``customer_id`` a hidden ``__kt_key``: an integer per customer id, so
    the engine joins and counts customers on integers instead of text (see :meth:`customer_keys`).

    Parameters
    ----------
    on_disk : bool
        Keep the database in a temporary folder (removed when the store is closed or garbage
        collected, or by a later store once its process has died without cleaning up); otherwise
        in memory (small datasets built from frames).
    read_only : path, optional
        Open this existing database read-only instead (see :meth:`read_only`).

    Examples
    --------
    >>> s = Store(on_disk=False)
    >>> s.append("t", pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}), rows=[2, 3])
    >>> s.rows("t"), s.columns("t")
    (2, ['a', 'b'])
    >>> s.frame("t")["a"].tolist()
    ['x', 'y']
    """

    def __init__(self, on_disk: bool = True, *, read_only: Path | None = None):
        import duckdb

        self.folder = None
        if on_disk and read_only is None:
            _remove_orphans()
            self.folder = Path(tempfile.mkdtemp(prefix=_PREFIX))
            (self.folder / "owner.pid").write_text(str(os.getpid()))
        # the buffer pool fits the memory this process may use (beyond it the store spills to its
        # folder); rows are read back in input order by their number, so DuckDB may write and scan
        # in parallel
        self.memory_limit = memory_limit()
        config = {"memory_limit": self.memory_limit, "preserve_insertion_order": False}
        if parse_size(self.memory_limit) < 512 * MB:  # each thread pins blocks of its own: one, in little memory
            config["threads"] = 1
        if self.folder is not None:
            config["temp_directory"] = str(self.folder / "spill")
        if read_only is not None:
            self.con = duckdb.connect(str(read_only), read_only=True, config=config)
        elif self.folder is not None:
            self.con = duckdb.connect(str(self.folder / "dataset.duckdb"), config=config)
        else:
            self.con = duckdb.connect(config=config)
        try:  # no progress bar in terminals; a Jupyter kernel without ipywidgets refuses the setting
            self.con.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:
            pass
        self.dtypes: dict[str, dict[str, Any]] = {}
        # facts about the stored tables, kept until a table changes
        self._filled: dict[tuple[str, str], bool] = {}
        self._bounds: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        self._distinct: dict[tuple[str, str], list[Any]] = {}
        self._keys_checked = False
        self._ibis: Any = None
        self._finalizer = weakref.finalize(self, Store._release, self.con, self.folder)

    @staticmethod
    def _release(con: Any, folder: Path | None) -> None:
        con.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Close the database and remove its folder."""
        self._finalizer()

    def _memory(self, what: str) -> Any:
        """Out of memory while doing ``what`` becomes an error naming it and the limit to change."""
        return out_of_memory(what, self.memory_limit)

    def _forget(self, name: str) -> None:
        for facts in (self._filled, self._bounds, self._distinct):
            for key in [k for k in facts if k[0] == name]:
                del facts[key]

    # ---------------------------------------------------------------- writing
    def append(self, name: str, frame: pd.DataFrame, rows: Any) -> None:
        """Append ``frame`` (the first call fixes the table's columns and dtypes) with row numbers ``rows``."""
        self._forget(name)
        if name not in self.dtypes:
            self.dtypes[name] = dict(frame.dtypes.items())
        dtypes = self.dtypes[name]
        columns: dict[str, pa.Array] = {}
        for col, dtype in dtypes.items():
            s = frame[col]
            if str(s.dtype) != str(dtype):
                s = s.astype(dtype)
            if isinstance(dtype, pd.DatetimeTZDtype) or str(dtype).startswith("datetime64"):
                values = s.dt.as_unit("ns").array.asi8 if isinstance(dtype, pd.DatetimeTZDtype) \
                    else s.to_numpy("datetime64[ns]").view("i8")
                columns[col] = pa.array(values, type=pa.int64(), mask=s.isna().to_numpy())
            else:
                columns[col] = pa.array(s, from_pandas=True)
        columns[ROW] = pa.array(np.asarray(rows, dtype=np.int64))
        self.con.register("kpitools_chunk", pa.table(columns))
        try:
            self._insert(name, "kpitools_chunk")
        finally:
            self.con.unregister("kpitools_chunk")

    def append_query(self, name: str, query: str, dtypes: Mapping[str, Any]) -> None:
        """Append the rows of a query on this connection that gives them in the stored form
        (timestamps as int64 ns, then ``__kt_row``), so they never leave DuckDB; ``dtypes`` are the
        pandas dtypes of the columns (the first call fixes them)."""
        self._forget(name)
        self.dtypes.setdefault(name, dict(dtypes))
        self._insert(name, f"({query})")

    def _insert(self, name: str, source: str) -> None:
        """Create or extend the stored table from ``source`` (SQL: a table name or a subquery),
        adding the customer key."""
        key = ""
        if "customer_id" in self.dtypes[name]:
            self._keys_checked = False
            text = self.text(name, "customer_id")
            key = f", CASE WHEN {text} IS NOT NULL THEN {_key_sql(text)} END AS {KEY}"
        verb = "INSERT INTO {} SELECT" if self.exists(name) else "CREATE TABLE {} AS SELECT"
        with self._memory(f"storing table {name}"):
            self.con.execute(f"{verb.format(_quote(name))} *{key} FROM {source}")

    def delete_rows(self, name: str, rows: Any) -> None:
        """Drop the rows with these row numbers."""
        self._forget(name)
        self.con.register("kpitools_gone", pa.table({"r": pa.array(rows, type=pa.int64())}))
        try:
            self.con.execute(f"DELETE FROM {_quote(name)} WHERE {ROW} IN (SELECT r FROM kpitools_gone)")
        finally:
            self.con.unregister("kpitools_gone")

    def drop_columns(self, name: str, columns: list[str]) -> None:
        """Drop columns the table's dtypes do not name (columns a writer keeps while it works)."""
        for column in columns:
            self.con.execute(f"ALTER TABLE {_quote(name)} DROP COLUMN {_quote(column)}")

    def update(self, name: str, query: str, columns: list[str]) -> None:
        """Set ``columns`` of the rows of table ``name`` that ``query`` names: an SQL query giving
        the row number (``__kt_row``) and those columns in stored form; other rows keep their values.
        A changed ``customer_id`` changes its hidden customer key too."""
        self._forget(name)
        table = _quote(name)
        sets = [f"{_quote(c)} = u.{_quote(c)}" for c in columns]
        if "customer_id" in columns and KEY in self.hidden(name):
            self._keys_checked = False
            text = self.text(name, "customer_id", "u.")
            sets.append(f"{KEY} = CASE WHEN {text} IS NOT NULL THEN {_key_sql(text)} END")
        with self._memory(f"updating table {name}"):
            self.con.execute(f"UPDATE {table} SET {', '.join(sets)} FROM ({query}) AS u WHERE {table}.{ROW} = u.{ROW}")

    def customer_keys(self) -> None:
        """Make sure the hidden customer keys are one integer per customer id over all tables.

        The keys are hashes; should two ids ever share one (or a table's keys come from an
        earlier numbering), every table is renumbered: keys become the ids' ranks. Checked once
        after the tables last changed (the loader does it, so the engine finds it done).
        """
        if self._keys_checked:
            return
        tables = [t for t in self.dtypes if "customer_id" in self.dtypes[t]]
        if tables:
            pairs = " UNION ALL ".join(f"SELECT {self.text(t, 'customer_id')} AS id, {KEY} AS k FROM {_quote(t)}"
                                       for t in tables)
            with self._memory(f"numbering the customer ids of {', '.join(tables)}"):
                n, ids, keys = self.con.execute(
                    f"SELECT count(*), count(DISTINCT id), count(DISTINCT k) FROM "
                    f"(SELECT DISTINCT id, k FROM ({pairs}) WHERE id IS NOT NULL)").fetchone()
                if not n == ids == keys:
                    self._renumber(tables)
        self._keys_checked = True

    def _renumber(self, tables: list[str]) -> None:
        ids = " UNION ".join(f"SELECT {self.text(t, 'customer_id')} AS id FROM {_quote(t)}" for t in tables)
        self.con.execute(f"CREATE TEMP TABLE kpitools_ids AS SELECT id, row_number() OVER (ORDER BY id) AS k "
                         f"FROM ({ids}) WHERE id IS NOT NULL")
        try:
            for t in tables:
                self.con.execute(f"UPDATE {_quote(t)} SET {KEY} = i.k FROM kpitools_ids AS i "
                                 f"WHERE {self.text(t, 'customer_id', _quote(t) + '.')} = i.id")
        finally:
            self.con.execute("DROP TABLE kpitools_ids")

    # ---------------------------------------------------------------- reading
    def table(self, name: str) -> Any:
        """The stored table as an Ibis table (hidden columns included), on a connection of its own
        to this database: what code that reads a store without SQL text uses (it also reads a
        :class:`~kpitools.warehouse.WarehouseStore`)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con.cursor())
        with warnings.catch_warnings():  # ibis 12 calls DuckDB 1.5's deprecated fetch_arrow_table()
            warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
            return self._ibis.table(name)

    def text(self, name: str, column: str, prefix: str = "") -> str:
        """SQL for a stored column as text (text columns as they are, other types cast)."""
        ref = prefix + _quote(column)
        return ref if self.dtypes[name][column] == TEXT else f"CAST({ref} AS VARCHAR)"

    def hidden(self, name: str) -> list[str]:
        """The table's hidden columns: the row number, and the customer key where it has one."""
        return [ROW, KEY] if "customer_id" in self.dtypes[name] else [ROW]

    def exists(self, name: str) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]).fetchone()[0])

    def columns(self, name: str) -> list[str]:
        """The table's columns in order (without the hidden row number)."""
        return list(self.dtypes[name])

    def rows(self, name: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0])

    def is_timestamp(self, name: str, column: str) -> bool:
        dtype = self.dtypes[name][column]
        return isinstance(dtype, pd.DatetimeTZDtype) or str(dtype).startswith("datetime64")

    def profile(self, name: str) -> None:
        """Gather, in one scan, which columns of a table hold any value and the earliest and
        latest instant of each timestamp column (the loader does it once per table)."""
        cols = self.columns(name)
        stamps = [c for c in cols if self.is_timestamp(name, c)]
        exprs = [f"count({_quote(c)}) > 0" for c in cols]
        exprs += [f"{fn}({_quote(c)})" for c in stamps for fn in ("min", "max")]
        with self._memory(f"profiling table {name}"):
            row = self.con.execute(f"SELECT {', '.join(exprs)} FROM {_quote(name)}").fetchone()
        self._filled.update({(name, c): bool(f) for c, f in zip(cols, row)})
        bounds = row[len(cols):]
        self._bounds.update({(name, c): (bounds[2 * i], bounds[2 * i + 1]) for i, c in enumerate(stamps)})

    def has_values(self, name: str, column: str) -> bool:
        """The table has ``column`` and it is not entirely empty."""
        if name not in self.dtypes or column not in self.dtypes[name]:
            return False
        if (name, column) not in self._filled:
            self.profile(name)
        return self._filled[(name, column)]

    def bounds(self, name: str, column: str) -> tuple[int | None, int | None]:
        """Earliest and latest instant (ns) of a timestamp column (None when it is empty)."""
        if (name, column) not in self._bounds:
            self.profile(name)
        return self._bounds[(name, column)]

    def distinct(self, name: str, column: str) -> list[Any]:
        """The distinct non-empty values of a column as text (text columns as they are)."""
        if (name, column) not in self._distinct:
            ref = self.text(name, column)
            with self._memory(f"reading the {column} values of table {name}"):
                rows = self.con.execute(
                    f"SELECT DISTINCT {ref} FROM {_quote(name)} WHERE {ref} IS NOT NULL").fetchall()
            self._distinct[(name, column)] = [r[0] for r in rows]
        return self._distinct[(name, column)]

    def span(self) -> tuple[int, int]:
        """Earliest and latest stored instant (ns) over every timestamp column (0, 0 when none)."""
        found = [b for t in self.dtypes for c in self.dtypes[t] if self.is_timestamp(t, c)
                 for b in self.bounds(t, c) if b is not None]
        return (int(min(found)), int(max(found))) if found else (0, 0)

    def arrow(self, name: str, columns: list[str] | None = None) -> Any:
        """The stored form of a table (timestamps as int64 ns, plus the hidden columns) as Arrow,
        in input order."""
        cols = ", ".join(_quote(c) for c in (columns or [*self.columns(name), *self.hidden(name)]))
        with self._memory(f"reading table {name}"):
            return self.con.execute(f"SELECT {cols} FROM {_quote(name)} ORDER BY {ROW}").to_arrow_table()

    def frame(self, name: str) -> pd.DataFrame:
        """The table as pandas with the dtypes it was stored from, in input order."""
        table = self.arrow(name, self.columns(name))
        out = {}
        for col, dtype in self.dtypes[name].items():
            arr = table.column(col)
            if self.is_timestamp(name, col):
                ns = pc.fill_null(arr, np.iinfo(np.int64).min).to_numpy()  # int64 min is NaT
                idx = pd.DatetimeIndex(ns.view("datetime64[ns]"))
                if isinstance(dtype, pd.DatetimeTZDtype):
                    idx = idx.tz_localize("UTC").tz_convert(dtype.tz)
                out[col] = pd.Series(idx, copy=False)
            elif dtype == TEXT:
                out[col] = pd.Series(pd.arrays.ArrowStringArray(arr.cast(pa.large_string())), copy=False)
            else:
                out[col] = arr.to_pandas().astype(dtype, copy=False)
        return pd.DataFrame(out, index=pd.RangeIndex(table.num_rows))

    def facts(self) -> dict[str, Any]:
        """What :meth:`read_only` needs besides the database: dtypes and the facts gathered so far."""
        return {"dtypes": self.dtypes, "filled": self._filled, "bounds": self._bounds, "distinct": self._distinct,
                "keys_checked": self._keys_checked}

    @classmethod
    def read_only(cls, database: Path, facts: Mapping[str, Any]) -> Store:
        """Open a database written by :mod:`kpitools.snapshot` for reading (several processes may
        at once; in one process the connections share one database instance, so the configuration
        is the same for all: DuckDB spills beside the database). The engine's temporary tables
        still work."""
        store = cls(read_only=database)
        store.dtypes = dict(facts["dtypes"])
        store._filled, store._bounds, store._distinct = (dict(facts[k]) for k in ("filled", "bounds", "distinct"))
        store._keys_checked = bool(facts["keys_checked"])
        return store

    @classmethod
    def from_frames(cls, frames: Mapping[str, pd.DataFrame]) -> Store:
        """An in-memory store holding ``frames`` (rows numbered from 0)."""
        store = cls(on_disk=False)
        for name, frame in frames.items():
            store.append(name, frame, np.arange(len(frame)))
        return store


class Tables(Mapping):
    """``name -> DataFrame`` of a dataset; a stored table becomes pandas on first access (cached)."""

    def __init__(self, names: list[str], load: Any, frames: dict[str, pd.DataFrame] | None = None):
        self._names = list(names)
        self._load = load
        self._frames = dict(frames or {})

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._frames:
            self._frames[name] = self._load(name)
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __repr__(self) -> str:
        return f"Tables({self._names})"


def channels_of(tables: Mapping[str, pd.DataFrame], names: tuple[str, ...] = ("tickets", "surveys")) -> list[str]:
    """Sorted distinct non-empty ``channel`` values of the named tables (Arrow's unique: fast on 10M rows)."""
    found: set[str] = set()
    for name in names:
        table = tables.get(name)
        if table is not None and "channel" in table:
            values = pa.array(table["channel"], from_pandas=True)
            found.update(v for v in pc.unique(values).to_pylist() if v is not None)
    return sorted(found)


class Dataset:
    """A loaded, validated dataset (build it with :func:`kpitools.load`).

    Tables hold the canonical columns of :mod:`kpitools.schema` first, then any extra source
    columns (kept as text, for segmenting). Types: timestamps are ``datetime64[ns, <timezone>]``
    in the dataset timezone (NaT = empty); text is pandas ``string`` (``<NA>`` = empty); booleans
    are plain ``bool`` (empty = False); ``contacts``/``reopened``/``score`` are ``int64``;
    ``handle_seconds``/``wait_seconds``/``cost``/``target`` are ``float64`` (NaN = empty);
    ``survey`` is lower-case. Spam customers are kept here (they are counted in data quality);
    the KPI engine excludes them.

    Parameters
    ----------
    path, config, rejects, counts, as_of, files
        Where it was loaded from, its dataset.toml, the rejected rows, the row accounting per
        table, the effective ``as_of`` and the input files.
    tables : mapping of str to DataFrame, optional
        The validated tables as pandas frames (for datasets built in memory).
    store : Store, optional
        The validated tables as stored by the loader (pandas is materialised on first access).
    provided : mapping of str to column names, optional
        The columns each table's file or mapping actually provides. The stored tables hold every
        schema column (an absent optional one filled with its empty value), so this is what tells
        a missing column from an empty one (SPEC A13). Default: every stored column.
    """

    def __init__(self, path: Path, config: DatasetConfig, tables: Mapping[str, pd.DataFrame] | None = None,
                 rejects: pd.DataFrame | None = None, counts: pd.DataFrame | None = None,
                 as_of: pd.Timestamp | None = None, files: dict[str, Path] | None = None, *,
                 store: Store | None = None, provided: Mapping[str, Iterable[str]] | None = None):
        self.path = path
        self.config = config
        self.rejects = rejects if rejects is not None else pd.DataFrame()
        self.counts = counts if counts is not None else pd.DataFrame()
        self.as_of = as_of
        self.files = dict(files or {})
        self._store = store
        self._provided = {name: frozenset(cols) for name, cols in (provided or {}).items()}
        if store is not None:
            self.tables = Tables(list(store.dtypes), store.frame)
        else:
            frames = dict(tables or {})
            self.tables = Tables(list(frames), frames.__getitem__, frames)

    @property
    def store(self) -> Store:
        """The tables in DuckDB, where the KPI engine reads them (built from the frames on first use)."""
        if self._store is None:
            self._store = Store.from_frames({name: self.tables[name] for name in self.tables})
            if "messages" in self.tables:  # the engine reads each message's conversation (SPEC B1)
                from .conversations import assign_conversations

                assign_conversations(self._store)
        return self._store

    def columns(self, table: str) -> list[str] | None:
        """Column names of ``table`` (None when the dataset has no such table), without loading it."""
        if table not in self.tables:
            return None
        if self._store is not None:
            return self._store.columns(table)
        return list(self.tables[table].columns)

    def provided(self, table: str) -> frozenset[str]:
        """The columns of ``table`` that its file or mapping provides (empty when the table is
        absent). A schema column outside this set is *missing*: the KPIs that need it are omitted
        (SPEC A13), although the stored table holds it filled with its empty value."""
        if table in self._provided:
            return self._provided[table]
        return frozenset(self.columns(table) or ())

    def rows(self, table: str) -> int:
        """Row count of ``table`` (0 when absent), without loading it."""
        if table not in self.tables:
            return 0
        return self._store.rows(table) if self._store is not None else len(self.tables[table])

    @property
    def timezone(self) -> str:
        return self.config.timezone

    @property
    def tickets(self) -> pd.DataFrame | None:
        return self.tables.get("tickets")

    @property
    def surveys(self) -> pd.DataFrame | None:
        return self.tables.get("surveys")

    @property
    def customers(self) -> pd.DataFrame | None:
        return self.tables.get("customers")

    @property
    def activity(self) -> pd.DataFrame | None:
        return self.tables.get("activity")

    @property
    def sessions(self) -> pd.DataFrame | None:
        return self.tables.get("sessions")

    @property
    def costs(self) -> pd.DataFrame | None:
        return self.tables.get("costs")

    @property
    def targets(self) -> pd.DataFrame | None:
        return self.tables.get("targets")

    @property
    def channels(self) -> list[str]:
        """Channels of the kept tickets plus any explicit survey channel (SPEC A6), sorted."""
        if self._store is None:
            return channels_of(self.tables)
        return stored_channels(self._store, ("tickets", "surveys"))

    @property
    def channel_groups(self) -> dict[str, list[str]]:
        """``voice`` and ``text`` resolved against the channels (see :func:`group_channels`)."""
        return group_channels(self.channels, self.config)

    @cached_property
    def flags(self) -> pd.DataFrame:
        """Valid but implausible rows and columns (SPEC A16; see :func:`kpitools.flags.sanity_flags`)."""
        from .flags import sanity_flags  # it builds on the engine's local time, which imports this module

        return sanity_flags(self)

    def _summary(self) -> tuple[list[tuple[str, str]], list[tuple[str, int, int]]]:
        """What ``repr`` and the notebook display show: the facts, and per table rows kept and rejected."""
        as_of = self.as_of.strftime("%Y-%m-%d %H:%M %z") if self.as_of is not None else "–"
        facts = [("path", str(self.path)), ("as_of", as_of), ("timezone", self.timezone),
                 ("channels", ", ".join(self.channels) or "none"),
                 ("sanity flags", f"{len(self.flags):,} (ds.flags)"),
                 ("rows rejected", f"{len(self.rejects):,} (ds.rejects)")]
        counts = (self.counts.set_index("table") if {"table", "rows_kept", "rows_rejected"} <= set(self.counts)
                  else None)
        rows = [(name, self.rows(name), int(counts.at[name, "rows_rejected"])
                 if counts is not None and name in counts.index else 0) for name in self.tables]
        return facts, rows

    def __repr__(self) -> str:
        """Several short lines (a one-line repr wrapped mid-word in a notebook)."""
        facts, rows = self._summary()
        width = max((len(name) for name, _, _ in rows), default=0)
        lines = [f"Dataset {facts[0][1]!r}"]
        lines += [f"  {name:<{width}}  {kept:>12,} kept  {rejected:>9,} rejected" for name, kept, rejected in rows]
        lines += [f"  {key}: {value}" for key, value in facts[1:]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The notebook display: the tables with rows kept and rejected, then the facts (escaped)."""
        from html import escape

        facts, rows = self._summary()
        body = "".join(f"<tr><th style='text-align:left'>{escape(name)}</th><td>{kept:,}</td><td>{rejected:,}</td></tr>"
                       for name, kept, rejected in rows)
        items = "".join(f"<li><b>{escape(key)}</b>: {escape(value)}</li>" for key, value in facts[1:])
        return (f"<div><b>Dataset</b> <code>{escape(facts[0][1])}</code>"
                "<table><thead><tr><th>table</th><th>rows kept</th><th>rows rejected</th></tr></thead>"
                f"<tbody>{body}</tbody></table><ul>{items}</ul></div>")


def group_channels(channels: list[str], config: DatasetConfig) -> dict[str, list[str]]:
    """``voice`` and ``text`` of dataset.toml resolved against ``channels`` (given voice only:
    text = the rest)."""
    voice = [c for c in channels if c in config.voice_channels]
    if config.text_channels is None:
        text = [c for c in channels if c not in voice]
    else:
        text = [c for c in channels if c in config.text_channels]
    return {"voice": voice, "text": text}


def stored_channels(store: Store, names: tuple[str, ...]) -> list[str]:
    """Sorted distinct non-empty ``channel`` values of the named stored tables."""
    return sorted({v for n in names if n in store.dtypes and "channel" in store.dtypes[n]
                   for v in store.distinct(n, "channel")})
