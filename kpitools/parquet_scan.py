"""An unmapped Parquet file read by DuckDB where it lies, for the loader's one-pass path.

Reading a large Parquet file through Arrow slices costs a copy into Python and one into DuckDB
per slice; DuckDB's own reader scans the file in parallel, so the row rules and the store's
insert run as one statement over it. :func:`scan` gives the file's raw table as the rules read
it — exactly what :func:`kpitools.rules.typed_arrow` makes of the reader's slices: timestamps as
int64 ns (UTC for aware ones), an integer column with nulls as float64 and a boolean one as
"True"/"False" text (the pandas forms), NaN as null, and a flag column per column whose cells
pandas cannot hold (a timestamp outside the years 1678-2261, a non-finite number in a numeric
column). Files this cannot express exactly fall back to the slices (``None``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .dataset import ROW
from .errors import DatasetError
from .reading import FIRST_DATA_ROW, Typed, parquet_columns, parquet_slice, pandas_dtypes
from .rules import UNREADABLE

_US_LIMIT = 9_223_372_036_854_775  # pandas' nanosecond range in microseconds
_GLOB = set("*?[]{}")  # characters DuckDB would read as a file pattern


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Scan:
    """The raw table of a Parquet file as SQL (``select``, over ``read_parquet``), its trimmed
    column names, the pandas dtypes the whole file has (:attr:`Typed.dtypes`), the reason of each
    flag column, its row count, and what the reader needs to show rejected rows as read."""

    path: Path
    select: str
    columns: list[str]
    dtypes: dict[str, Any]
    unreadable: dict[str, str]
    naive: frozenset[str]
    aware: frozenset[str]
    rows: int
    source: list[str]
    numeric: frozenset[str]

    def rejected(self, rows: np.ndarray) -> tuple[Typed, dict[str, tuple[np.ndarray, str, np.ndarray]]]:
        """The rows with these spreadsheet numbers (ascending) as the slice reader gives them
        (values as read, the cells pandas cannot hold flagged), of the whole file's dtypes; only
        the row groups holding them are read."""
        pf = pq.ParquetFile(self.path)
        sizes = np.array([pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])
        starts = np.cumsum(sizes) - sizes
        at = rows - FIRST_DATA_ROW
        group_of = np.searchsorted(starts, at, side="right") - 1
        groups = np.unique(group_of)
        table = pf.read_row_groups(groups.tolist(), columns=self.source, use_pandas_metadata=False)
        base = np.cumsum(sizes[groups]) - sizes[groups]  # where each group read starts in ``table``
        take = base[np.searchsorted(groups, group_of)] + at - starts[group_of]
        piece = parquet_slice(table.take(pa.array(take, type=pa.int64())), rows, self.numeric, as_text=False,
                              typed=True)
        typed = piece.frame
        typed.__dict__["dtypes"] = self.dtypes  # the file's dtypes, not those of a few rows
        return typed, piece.unreadable


@contextlib.contextmanager
def read_errors(path: Path) -> Iterator[None]:
    """DuckDB's errors reading the file (a damaged page, a value it cannot decode) as a
    :class:`DatasetError` naming the file."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        # a mistake in the SQL (binder, catalogue, parser) or memory is ours to report as such
        if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException,
                            duckdb.OutOfMemoryException)):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"{path}: cannot be read as Parquet: {reason}", file=str(path)) from None


def scan(path: Path, notes: list[str], numeric: frozenset[str], con: Any) -> Scan | None:
    """The file as DuckDB reads it, or None when only the slice reader expresses it exactly (a
    name DuckDB would take for a pattern, an empty file, a type beyond text, numbers, booleans and
    timestamps, an aware nanosecond timestamp). ``notes`` receives the columns ignored."""
    if _GLOB & set(str(path)):
        return None
    keep, typed = parquet_columns(path, notes)
    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    kinds = {name: schema.field(name).type for name in keep}
    if not typed or pf.metadata.num_rows == 0 or any(
            pa.types.is_null(k) or (pa.types.is_timestamp(k) and k.unit == "ns" and k.tz is not None)
            for k in kinds.values()):
        return None
    source = "read_parquet(" + "'" + str(path).replace("'", "''") + "', file_row_number = true)"
    maybe_null = [n for n, k in kinds.items() if pa.types.is_integer(k) or pa.types.is_boolean(k)]
    nulls: dict[str, int] = {}
    if maybe_null:
        with read_errors(path):
            counts = con.execute("SELECT " + ", ".join(f"count(*) - count({_quote(n)})" for n in maybe_null)
                                 + f" FROM {source}").fetchone()
        nulls = dict(zip(maybe_null, counts))
    columns, unreadable = [], {}
    for name, kind in kinds.items():
        col, out = _quote(name), name.strip()
        if pa.types.is_timestamp(kind) and kind.unit == "ns":
            columns.append(f"epoch_ns({col}) AS {_quote(out)}")
        elif pa.types.is_timestamp(kind):
            inside = f"epoch_us({col}) BETWEEN {-_US_LIMIT} AND {_US_LIMIT}"
            columns.append(f"CASE WHEN {inside} THEN epoch_us({col}) * 1000 END AS {_quote(out)}")
            columns.append(f"coalesce(NOT ({inside}), false) AS {_quote(UNREADABLE + out)}")
            unreadable[out] = f"timestamp in {out} outside the years 1678-2261"
        elif pa.types.is_integer(kind) and nulls[name]:
            columns.append(f"CAST({col} AS DOUBLE) AS {_quote(out)}")
        elif pa.types.is_boolean(kind) and nulls[name]:
            columns.append(f"CASE WHEN {col} THEN 'True' WHEN NOT {col} THEN 'False' END AS {_quote(out)}")
        elif pa.types.is_floating(kind) and out in numeric:
            columns.append(f"CASE WHEN isfinite({col}) THEN {col} END AS {_quote(out)}")
            columns.append(f"coalesce(NOT isfinite({col}), false) AS {_quote(UNREADABLE + out)}")
            unreadable[out] = f"{out} is not a finite number"
        elif pa.types.is_floating(kind):
            columns.append(f"CASE WHEN NOT isnan({col}) THEN {col} END AS {_quote(out)}")
        else:
            columns.append(f"{col} AS {_quote(out)}")
    select = f"SELECT {', '.join(columns)}, file_row_number + {FIRST_DATA_ROW} AS {ROW} FROM {source}"
    with_nulls = {n.strip() for n, k in nulls.items() if k}
    dtypes = pandas_dtypes(pa.schema([schema.field(n).with_name(n.strip()) for n in keep]), with_nulls)
    stamps = [schema.field(n) for n in keep if pa.types.is_timestamp(schema.field(n).type)]
    return Scan(path, select, [n.strip() for n in keep], dtypes, unreadable,
                frozenset(f.name.strip() for f in stamps if f.type.tz is None),
                frozenset(f.name.strip() for f in stamps if f.type.tz is not None), pf.metadata.num_rows, keep, numeric)
