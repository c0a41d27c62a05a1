"""A dataset whose tables stay where they live: :func:`connect` (a warehouse, a lake, a DuckDB file).

Support data of large teams lives in warehouses and lakes (Postgres, Snowflake, BigQuery, Spark,
DuckDB), synced there by tools like Fivetran. :func:`connect` validates such tables in place: the
A3 row rules of :mod:`kpitools.rules` are Ibis expressions, so the backend runs them as its own
SQL; the kept rows become tables of that backend (temporary ones, or cached views on Spark); only
the rejects come back, as ``ds.rejects`` and, written back, as the small table ``kpitools_rejects``.
The KPI engine then runs on the same connection, so no table is exported.

Two things differ from files, because a backend table has types and no order:

* a timestamp column without a time zone holds wall times of the dataset's timezone (as naive
  text in a file does); one with a time zone holds instants;
* rows are numbered from 1 in the order of the table's key, then of all its columns: a fixed
  order, so the row of a reject can be found again and, among rows with the same key, the first
  in that order is kept (SPEC A3).

Only the canonical tables without conversations are read this way (not ``messages`` or
``status_changes``), and of the mappings only ``columns`` (renames) apply: anything more is a
view in the backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .config import DatasetConfig, read_config
from .dataset import KEY, ROW, Dataset, Store
from .errors import DatasetError
from .rules import COLUMN, REASON, Raw, checked, duplicates
from .schema import KEYS, TABLE_ORDER, TABLES, required
from .validate import TEXT

#: The table the rejects are written back to (in the connection's current database).
REJECTS = "kpitools_rejects"
#: Tables read from files only (their conversations are formed by :mod:`kpitools.conversations`).
FILE_ONLY = ("messages", "status_changes")
_names = itertools.count()


def _ibis() -> Any:
    import ibis

    return ibis


def materialise(con: Any, expr: Any, prefix: str = "kpitools_") -> Any:
    """``expr`` computed once in the backend: a temporary table, or where the backend has none
    (PySpark) a cached view."""
    try:
        return con.create_table(f"{prefix}{next(_names)}", expr, temp=True)
    except NotImplementedError:
        return expr.cache()


def backend_of(url: str, folder: Path) -> Any:
    """The Ibis connection of a ``[connection] url``: ``spark`` is the process's Spark session (a
    local one when there is none); a ``duckdb://`` path is relative to the dataset folder."""
    if url == "spark":
        from .engine.spark import connect as spark

        return spark()
    ibis = _ibis()
    if url.startswith("duckdb://"):
        path = url.removeprefix("duckdb://")
        if path and path != ":memory:" and not Path(path).is_absolute():
            path = str(folder / path)
        if path and path != ":memory:" and not Path(path).exists():
            raise DatasetError(f"{path}: no such DuckDB database (named by [connection] url in dataset.toml)",
                               file=path)
        # read-only: the notebook kernels of a run read the file at once (so no rejects go back)
        return ibis.duckdb.connect(path, read_only=True) if path and path != ":memory:" else ibis.duckdb.connect()
    try:
        return ibis.connect(url)
    except Exception as exc:  # the driver's own error names what is wrong (host, credentials, driver)
        raise DatasetError(f"cannot connect to {url.split('@')[-1]!r} ([connection] url in dataset.toml): "
                           f"{type(exc).__name__}: {exc}") from None


def connect(backend: Any, tables: Mapping[str, str] | None = None, config: str | Path | DatasetConfig | None = None,
            *, rejects_table: str | None = REJECTS) -> Dataset:
    """Validate tables that live in a backend and return a :class:`~kpitools.dataset.Dataset` on them.

    Parameters
    ----------
    backend : Ibis connection or str
        Where the tables are: ``ibis.duckdb.connect("warehouse.duckdb")``,
        ``ibis.pyspark.connect(spark)``, ``ibis.postgres.connect(...)``, or a URL as
        ``[connection] url`` takes it (``"spark"``, ``"duckdb://..."``).
    tables : mapping, optional
        Canonical table -> the backend's table (``"support.tickets"``, ``"tickets"``); added to
        the ``table`` keys of ``[tables.<name>]`` in ``config``.
    config : path or DatasetConfig, optional
        The dataset.toml (or its folder) with the timezone, scales, statuses, channel groups and
        column renames; every default when omitted.
    rejects_table : str or None
        The table the rejects are written back to (replaced); None writes nothing. A DuckDB
        file named by URL is opened read-only (a run's notebooks read it at once): nothing is
        written to it.

    Raises
    ------
    DatasetError
        A table or required column missing, a table kpitools reads from files only.

    Examples
    --------
    >>> import ibis
    >>> con = ibis.duckdb.connect()
    >>> _ = con.create_table("tk", pd.DataFrame({"ticket_id": ["a", "b", "b"], "channel": ["chat", "email", "chat"],
    ...     "created_at": pd.to_datetime(["2026-10-01 09:00", "2026-10-02 10:00", "2026-10-03 11:00"])}))
    >>> ds = connect(con, {"tickets": "tk"})
    >>> ds.counts[["table", "rows_in", "rows_kept", "rows_rejected"]].values.tolist()
    [['tickets', 3, 2, 1]]
    >>> ds.rejects[["row", "column", "value", "reason"]].values.tolist()
    [[3, 'ticket_id', 'b', 'duplicate ticket_id (the first row is kept)']]
    >>> con.table("kpitools_rejects").count().execute()
    1
    """
    cfg = config if isinstance(config, DatasetConfig) else read_config(Path(config)) if config is not None \
        else DatasetConfig(folder=Path("."))
    con = backend_of(backend, cfg.folder) if isinstance(backend, str) else backend
    if isinstance(backend, str) and backend.startswith("duckdb://"):
        rejects_table = None  # opened read-only
    names = {t: s.table for t, s in cfg.tables.items() if s.table is not None and not s.absent} | dict(tables or {})
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise DatasetError(f"{unknown[0]!r} is not a kpitools table; expected some of {', '.join(TABLES)}")
    here = sorted(set(names) & set(FILE_ONLY))
    if here:
        raise DatasetError(f"table {here[0]} cannot be read from a backend yet (its conversations are formed "
                           "while loading files); export it to a file or leave it out")
    if "tickets" not in names:
        raise DatasetError("no tickets table named (tables={'tickets': '<schema>.<table>'} or "
                           "[tables.tickets] table = \"...\" in dataset.toml)")
    store = WarehouseStore(con, cfg.timezone)
    checked_tables: dict[str, Any] = {}
    rejects, counts, provided = [], [], {}
    for table in (t for t in TABLE_ORDER if t in names):
        raw, provided[table] = _raw(con, table, names[table], cfg)
        channels = frozenset()
        if table in ("costs", "targets"):  # SPEC A3: a channel some kept ticket (or survey) uses
            channels = frozenset(v for t in ("tickets", "surveys")[:1 if table == "costs" else 2]
                                 if t in store.dtypes for v in store.distinct(t, "channel"))
        kpi_ids = _kpi_ids() if table == "targets" else frozenset()
        rules = checked(raw, table, Raw(), tz=cfg.timezone, scales=cfg.scales, channels=channels,
                        kpi_ids=kpi_ids, statuses=cfg.statuses, keep=(ROW,))
        checked_tables[table] = materialise(con, rules)
        kept, gone = _verdicts(raw, checked_tables[table], table, names[table])
        store.add(table, kept)
        rows_in = int(raw.count().execute())
        rejects.append(gone)
        counts.append((table, rows_in, rows_in - len(gone), len(gone), ""))
    store.add_customer_keys()
    out = pd.concat(rejects, ignore_index=True)
    out["row"] = out["row"].astype("Int64")
    if rejects_table is not None:
        _write_back(con, rejects_table, out)
    lo, hi = store.span()
    if cfg.as_of is None and hi == lo == 0:
        raise DatasetError("no timestamps to derive as_of from; set as_of in dataset.toml")
    as_of = cfg.as_of if cfg.as_of is not None else pd.Timestamp(hi, tz="UTC").tz_convert(cfg.timezone)
    return Dataset(path=cfg.folder, config=cfg, rejects=out, as_of=as_of,
                   counts=pd.DataFrame(counts, columns=["table", "rows_in", "rows_kept", "rows_rejected", "note"]),
                   files={}, store=store, provided=provided)


def _write_back(con: Any, name: str, rejects: pd.DataFrame) -> None:
    """The rejects as a table of the backend (replacing an earlier one), typed even when empty."""
    import pyarrow as pa

    schema = pa.schema([("table", pa.string()), ("file", pa.string()), ("row", pa.int64()),
                        ("column", pa.string()), ("value", pa.string()), ("reason", pa.string())])
    data = pa.Table.from_pandas(rejects, schema=schema, preserve_index=False)
    con.create_table(name, _ibis().memtable(data), overwrite=True)


def _kpi_ids() -> frozenset[str]:
    from .catalog import catalog

    return frozenset(catalog()["id"])


def _split(name: str) -> tuple[str, Any]:
    """``"a.b.c"`` -> (``"c"``, ``("a", "b")``): a table and the catalog/database it is in."""
    parts = name.split(".")
    database = None if len(parts) == 1 else parts[0] if len(parts) == 2 else tuple(parts[:-1])
    return parts[-1], database


def _raw(con: Any, table: str, name: str, cfg: DatasetConfig) -> tuple[Any, frozenset[str]]:
    """The backend's table as the rules read it: renamed to canonical columns, text as text,
    timestamps as ISO text (instants with a ``Z``), numbers and booleans typed, ``ROW`` numbered;
    with the columns it provides."""
    ibis = _ibis()
    short, database = _split(name)
    try:
        source = con.table(short, database=database)
    except Exception as exc:  # each backend raises its own "not found"
        raise DatasetError(f"table {name!r} (for {table}) not found in the backend: {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    renames = cfg.tables[table].columns if table in cfg.tables else {}
    for canon, src in renames.items():
        if not isinstance(src, str) or src not in source.columns:
            raise DatasetError(f"[tables.{table}.columns] {canon} = {src!r}: no such column in {name!r} "
                               f"(columns: {', '.join(source.columns)})", column=canon)
    back = {src: canon for canon, src in renames.items()}
    instants = _instants(con, short, database, source)
    columns = {back.get(c, c): _as_read(source[c], c in instants) for c in source.columns if not c.startswith("__kt")}
    missing = [c for c in required(table) if c not in columns]
    if missing:
        raise DatasetError(f"{name}: missing required column {missing[0]!r} of table {table} "
                           f"(required: {', '.join(required(table))}; found: {', '.join(columns)})", column=missing[0])
    raw = source.select(**columns)
    key = [c for c in KEYS.get(table, ()) if c in raw.columns]
    order = [raw[c] for c in key] + [raw[c] for c in raw.columns if c not in key]
    # numbered once: the rules and the values of the rejects both read it, and numbering sorts the table
    return materialise(con, raw.mutate(**{ROW: ibis.row_number().over(order_by=order) + 1})), frozenset(columns)


def _instants(con: Any, name: str, database: Any, source: Any) -> frozenset[str]:
    """The timestamp columns that hold instants. Ibis types Spark's ``TIMESTAMP`` (an instant) and
    ``TIMESTAMP_NTZ`` (a wall time) alike, so on Spark the session's own schema tells them apart,
    and their text is read in the session's time zone, which must be UTC."""
    if con.name != "pyspark":
        return frozenset(c for c, t in source.schema().items() if t.is_timestamp() and t.timezone is not None)
    from pyspark.sql.types import TimestampType

    session = con._session
    zone = session.conf.get("spark.sql.session.timeZone")
    fields = session.table(".".join([*([database] if isinstance(database, str) else database or ()), name])).schema
    found = frozenset(f.name for f in fields if isinstance(f.dataType, TimestampType))
    if found and zone not in ("UTC", "Etc/UTC", "Z", "+00:00"):
        raise DatasetError(f"table {name}: Spark's session time zone is {zone!r}; kpitools reads its timestamps "
                           "in UTC: spark.conf.set('spark.sql.session.timeZone', 'UTC')")
    return found


def _as_read(col: Any, instant: bool) -> Any:
    """A backend column in the form the rules take (see the module notes)."""
    dtype = col.type()
    if dtype.is_string() or dtype.is_boolean() or dtype.is_integer() or dtype.is_floating():
        return col
    if dtype.is_decimal():
        return col.cast("float64")
    if instant:  # its UTC wall time and a Z
        return col.cast("timestamp").cast("string") + "Z"
    return col.cast("string")  # naive timestamps and dates as ISO text, anything else as its text


def _verdicts(raw: Any, rules: Any, table: str, source: str) -> tuple[Any, pd.DataFrame]:
    """The kept rows (stored form) and the rejected rows (SPEC A3: first failing rule, then the
    duplicate keys among the rows that pass every rule), in row order; a reject's ``file`` is
    the backend's table."""
    ibis = _ibis()
    failed = rules.filter(rules[REASON].notnull()).select(ROW, REASON, COLUMN)
    text = raw.select(ROW, *[raw[c].cast("string").name(c) for c in raw.columns if c != ROW])
    joined = failed.join(text, ROW)
    value = ibis.cases(*[(joined[COLUMN] == c, joined[c]) for c in text.columns if c != ROW],
                       else_=ibis.null("string"))
    gone = joined.select(row=joined[ROW], column=joined[COLUMN], value=value, reason=joined[REASON]).execute()
    passing = rules.filter(rules[REASON].isnull()).drop(REASON, COLUMN, *[c for c in rules.columns
                                                                         if c.startswith("__kt_raw")])
    key = KEYS.get(table, ())
    kept = passing
    if key:
        repeated = duplicates(passing, key, ROW)
        dup = repeated.select(row=repeated[ROW], value=repeated[key[0]].cast("string")).execute()
        dup = dup.assign(column=key[0], reason=f"duplicate {' + '.join(key)} (the first row is kept)")
        kept = passing.anti_join(repeated.select(ROW), ROW)
        gone = pd.concat([gone, dup], ignore_index=True)
    gone = gone.sort_values("row", kind="stable").reset_index(drop=True)
    gone.insert(0, "file", source)
    gone.insert(0, "table", table)
    return kept, gone[["table", "file", "row", "column", "value", "reason"]]


class WarehouseStore:
    """The validated tables of :func:`connect`, kept in its backend: what the engine and the
    report read of a :class:`~kpitools.dataset.Store`, answered by Ibis expressions.

    The reading methods that rest only on ``dtypes``, :meth:`profile` and :meth:`arrow` are the
    Store's own (one rule for both kinds of store).
    """

    def __init__(self, backend: Any, tz: str):
        self.backend, self.tz = backend, tz
        self.dtypes: dict[str, dict[str, Any]] = {}
        self._tables: dict[str, Any] = {}
        self._filled: dict[tuple[str, str], bool] = {}
        self._bounds: dict[tuple[str, str], tuple[int | None, int | None]] = {}
        self._distinct: dict[tuple[str, str], list[Any]] = {}

    columns = Store.columns
    hidden = Store.hidden
    is_timestamp = Store.is_timestamp
    has_values = Store.has_values
    bounds = Store.bounds
    span = Store.span
    frame = Store.frame

    def add(self, name: str, kept: Any) -> None:
        """Keep a table's rows (typed columns, ``ROW``): the customer keys come with
        :meth:`add_customer_keys`, once every table is in."""
        self._tables[name] = kept
        self.dtypes[name] = _dtypes(name, kept.schema(), self.tz)

    def add_customer_keys(self) -> None:
        """Number the customer ids of every table (an integer per id, as the engine joins them)
        and materialise each table in the backend."""
        ibis = _ibis()
        with_ids = [t for t in self._tables if "customer_id" in self.dtypes[t]]
        keys = None
        if with_ids:
            ids = ibis.union(*[self._tables[t].select(id=self._tables[t]["customer_id"].cast("string"))
                               for t in with_ids])
            ids = ids.filter(ids.id.notnull()).distinct()  # (a union of one table is that table)
            keys = materialise(self.backend, ids.mutate(**{KEY: ibis.row_number().over(order_by=ids.id) + 1}))
        for name, kept in self._tables.items():
            if name in with_ids:
                text = kept["customer_id"].cast("string")
                kept = kept.left_join(keys, text == keys.id).drop("id")
            self._tables[name] = materialise(self.backend, kept)

    def customer_keys(self) -> None:
        """Nothing to check: :meth:`add_customer_keys` numbered the ids (the store's interface)."""

    def table(self, name: str) -> Any:
        """The stored table (hidden columns included) as an Ibis table on the backend."""
        return self._tables[name]

    def exists(self, name: str) -> bool:
        return name in self._tables

    def rows(self, name: str) -> int:
        return int(self._tables[name].count().execute())

    def profile(self, name: str) -> None:
        """Which columns hold a value and the bounds of each timestamp column, in one query."""
        t = self._tables[name]
        cols = self.columns(name)
        stamps = [c for c in cols if self.is_timestamp(name, c)]
        aggs = {f"f{i}": t[c].count() for i, c in enumerate(cols)}
        aggs |= {f"{fn}{i}": getattr(t[c], fn)() for i, c in enumerate(stamps) for fn in ("min", "max")}
        row = t.aggregate(**aggs).execute().iloc[0]
        self._filled.update({(name, c): bool(row[f"f{i}"] > 0) for i, c in enumerate(cols)})

        def value(x: Any) -> int | None:
            return None if pd.isna(x) else int(x)

        self._bounds.update({(name, c): (value(row[f"min{i}"]), value(row[f"max{i}"])) for i, c in enumerate(stamps)})

    def distinct(self, name: str, column: str) -> list[Any]:
        """The distinct non-empty values of a column as text."""
        if (name, column) not in self._distinct:
            t = self._tables[name]
            values = t.select(v=t[column].cast("string")).distinct()
            self._distinct[(name, column)] = values.filter(values.v.notnull()).execute()["v"].tolist()
        return self._distinct[(name, column)]

    def arrow(self, name: str, columns: list[str] | None = None) -> Any:
        """The stored form of a table as Arrow, in row order."""
        t = self._tables[name]
        return t.order_by(ROW).select(*(columns or [*self.columns(name), *self.hidden(name)])).to_pyarrow()


def _dtypes(table: str, schema: Any, tz: str) -> dict[str, Any]:
    """The pandas dtypes of a validated table's columns (what ``Dataset.tables`` gives), from its
    Ibis schema: the canonical columns by kind, the extras as they are typed."""
    import numpy as np

    kinds = {c.name: c.kind for c in TABLES[table]}
    out: dict[str, Any] = {}
    for name, dtype in schema.items():
        if name.startswith("__kt"):
            continue
        kind = kinds.get(name)
        if kind == "timestamp":
            out[name] = pd.DatetimeTZDtype("ns", tz)
        elif kind in ("bool", "int", "score", "float"):
            out[name] = {"bool": np.dtype(bool), "int": np.dtype("int64"), "score": np.dtype("int64"),
                         "float": np.dtype("float64")}[kind]
        else:
            out[name] = TEXT if dtype.is_string() else dtype.to_pandas()
    return out
