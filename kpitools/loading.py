"""``kpitools.load``: read a dataset folder strictly and account for every input row (SPEC §2).

An unmapped Parquet file is read by DuckDB itself (:mod:`kpitools.parquet_scan`): the row rules
of :mod:`kpitools.rules` (SQL built through Ibis) and the store's insert run as one statement over
it. Other files are read by Arrow in slices of ``CHUNK_ROWS`` rows (streamed CSV, mapped tables),
each judged by the same rules in the dataset's DuckDB :class:`~kpitools.dataset.Store`. Every
input row is stored with its verdict; the rejected rows then leave the table with their reasons:
rows_in = rows_kept + rows_rejected. Kept rows never leave DuckDB; the duplicate keys are judged
over the whole table at the end; so the memory a load needs is that of one slice (or DuckDB's
own, within its limit), whatever the size of the files.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import conversations, parquet_scan, snapshot
from .config import DatasetConfig, FilePart, Layout, TableSource, read_config
from .dataset import ROW, Dataset, Store, stored_channels
from .errors import DatasetError
from .mappings import apply_mapping
from .parquet_scan import Scan
from .reading import Slice, Typed, kind, read_slices
from .schema import KEYS, TABLE_ORDER, TABLES, required
from .rules import COLUMN, RAW_KEY, REASON, Rules, duplicates
from .validate import TEXT, NumberText

REJECT_COLUMNS = ["table", "file", "row", "column", "value", "reason"]
COUNT_COLUMNS = ["table", "rows_in", "rows_kept", "rows_rejected", "note"]
CHUNK_ROWS = 500_000  # rows validated at once: bounds the memory a large file needs
PART_STRIDE = 1 << 40  # stored row key = file index * PART_STRIDE + row, for tables from several files
DEFAULT_NAMES = ("{}.parquet", "{}.csv", "{}.csv.gz", "{}.xlsx")  # looked for in this order (Parquet wins)
_NUMERIC = {name: frozenset(c.name for c in cols if c.kind in ("int", "float", "score")) for name, cols in TABLES.items()}


@dataclasses.dataclass(frozen=True)
class Part:
    """One file of a table: where it is, its name in rejects, its constants and layout."""

    path: Path
    name: str
    constants: dict[str, Any]
    layout: Layout


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` (None elsewhere)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Give freed memory back to the OS: Arrow's pool and glibc's heap keep what a slice of
    validation freed, and without this the resident size of a large load keeps growing."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _inside(folder: Path, path: Path, table: str) -> Path:
    """``path`` when it (symbolic links resolved) lies inside the dataset folder; else an error
    that names the file but shows nothing of what it points to."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise DatasetError(f"{path}: the file of table {table} resolves to a place outside the dataset folder "
                           f"{folder}; expected a file inside it (copy it in rather than linking to it)",
                           file=str(path))
    return path


def _parts(folder: Path, table: str, src: TableSource | None) -> list[Part]:
    """The files of ``table`` in order: declared ones (``file`` or ``files``), else the first of
    ``<table>.parquet``, ``.csv``, ``.csv.gz``, ``.xlsx`` that exists (none: the table is absent)."""
    src = src or TableSource()
    declared = src.files or ((FilePart(file=src.file, layout=src.layout),) if src.file else ())
    parts = []
    for item in declared:
        path = folder / item.file
        if not path.exists():
            raise DatasetError(f"{path}: file not found (named by [tables.{table}] in dataset.toml)", file=str(path))
        parts.append(Part(_inside(folder, path, table), item.file, dict(item.constants), item.layout))
    if not declared:
        for pattern in DEFAULT_NAMES:
            path = folder / pattern.format(table)
            if path.exists():
                parts.append(Part(_inside(folder, path, table), path.name, {}, src.layout))
                break
    return parts


def _has_mapping(src: TableSource | None) -> bool:
    return src is not None and any(
        (src.columns, src.durations, src.values, src.constants, src.timestamps, src.skip_empty, src.group_by,
         src.where, src.joins))


def _chunks(table: str, part: Part, cfg: DatasetConfig, notes: list[str]) -> Iterator[Slice]:
    """The raw table of one file in slices (rows indexed by spreadsheet row number). A mapped
    table comes whole (mappings may group rows); a file's constants join the table's."""
    src = cfg.tables.get(table)
    if part.constants:
        src = dataclasses.replace(src or TableSource(), constants={**(src.constants if src else {}), **part.constants})
    file = part.path
    if _has_mapping(src):
        slices = list(read_slices(file, part.layout, notes, table=table, as_text=True, chunk_rows=CHUNK_ROWS))
        frame = pd.concat([s.frame for s in slices])
        mapped = apply_mapping(frame, table, src, file=str(file), tz=cfg.timezone, as_of=cfg.as_of, notes=notes)
        yield Slice(_checked_columns(mapped, table, file), [b for s in slices for b in s.bad])
    else:
        for piece in read_slices(file, part.layout, notes, table=table, numeric=_NUMERIC[table], typed=True,
                                 chunk_rows=CHUNK_ROWS):
            piece.frame = _checked_columns(piece.frame, table, file)
            yield piece


def _scan(table: str, part: Part, cfg: DatasetConfig, store: Store, notes: list[str]) -> Scan | None:
    """An unmapped Parquet file as DuckDB reads it (see :mod:`kpitools.parquet_scan`), else None."""
    src = cfg.tables.get(table)
    if part.constants or _has_mapping(src) or kind(part.path) != "parquet":
        return None
    return parquet_scan.scan(part.path, notes, _NUMERIC[table], store.con)


def _checked_columns(frame: pd.DataFrame | Typed | Scan, table: str, file: Path) -> pd.DataFrame | Typed | Scan:
    if isinstance(frame, pd.DataFrame):  # (Typed slices and scans come with their names trimmed)
        frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required(table) if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns)
        raise DatasetError(f"{file}: missing required column {missing[0]!r} of table {table} "
                           f"(required: {', '.join(required(table))}; found: {found})",
                           file=str(file), column=missing[0])
    return frame


def _kpi_ids() -> frozenset[str]:
    from .catalog import catalog

    return frozenset(catalog()["id"])


def load(path: str | Path) -> Dataset:
    """Load and validate the dataset folder ``path``.

    Raises :class:`kpitools.DatasetError` for file-level problems (missing folder, file or
    required column, empty file, wrong encoding, malformed dataset.toml); row-level problems
    reject the row and are listed in ``ds.rejects``. Large files are validated in slices of
    ``CHUNK_ROWS`` rows and kept in the dataset's DuckDB store (see :class:`~kpitools.dataset.Dataset`).
    Inside a notebook kernel started by :func:`kpitools.run`, the run's snapshot of the same,
    unchanged folder is reopened instead of validating again (see :mod:`kpitools.snapshot`).
    """
    reopened = snapshot.reopen(path)
    if reopened is not None:
        return reopened
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder (expected a folder holding tickets.csv or "
                           "tickets.parquet and dataset.toml)", file=str(folder))
    cfg = read_config(folder)
    if cfg.connection is not None:  # the tables live in a backend: validated there
        from .warehouse import connect

        return connect(cfg.connection, config=cfg)
    store = Store()
    files: dict[str, Path] = {}
    rejects: list[pd.DataFrame] = []
    counts: list[tuple[str, int, int, int, str]] = []
    provided: dict[str, frozenset[str]] = {}
    for table in TABLE_ORDER:
        if table == conversations.FOLLOWS:  # tickets, messages and status changes are stored
            _link(store, cfg, folder, files, rejects, counts, provided)
        src = cfg.tables.get(table)
        if src is not None and src.absent:
            continue
        parts = _parts(folder, table, src)
        if not parts:
            if table == "tickets" and not _parts(folder, "messages", cfg.tables.get("messages")):
                raise DatasetError(f"{folder}: no tickets table; expected tickets.csv (or .parquet, .csv.gz, .xlsx) "
                                   "(or a [tables.tickets] file in dataset.toml, messages to derive tickets from, "
                                   "or absent = true for a dataset without tickets)", file=str(folder / "tickets.csv"))
            continue
        channels = frozenset()
        if table == "costs":  # SPEC A3: a channel some kept ticket uses
            channels = frozenset(stored_channels(store, ("tickets",)))
        elif table == "targets":
            channels = frozenset(stored_channels(store, ("tickets", "surveys")))
        notes: list[str] = []
        rows_in, table_rejects, bad_rows, provided[table] = _load_table(store, table, parts, cfg, channels, notes)
        for i, part in enumerate(parts):
            files[table if i == 0 else f"{table}[{i}]"] = part.path
        rejects.append(table_rejects)
        rejects.extend(bad_rows)
        kept = store.rows(table) if store.exists(table) else 0
        counts.append((table, rows_in, kept, rows_in - kept, "; ".join(notes)))
    if (folder / "dataset.toml").exists():
        files["dataset.toml"] = folder / "dataset.toml"
    store.customer_keys()  # once here rather than in every engine run
    store.con.execute("CHECKPOINT")
    all_rejects = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    all_rejects["row"] = all_rejects["row"].astype("Int64")
    return Dataset(
        path=folder,
        config=cfg,
        rejects=all_rejects[REJECT_COLUMNS],
        counts=pd.DataFrame(counts, columns=COUNT_COLUMNS),
        as_of=cfg.as_of if cfg.as_of is not None else _latest(store, cfg.timezone, folder),
        files=files,
        store=store,
        provided=provided,
    )


def _link(store: Store, cfg: DatasetConfig, folder: Path, files: dict[str, Path], rejects: list[pd.DataFrame],
          counts: list[tuple[str, int, int, int, str]], provided: dict[str, frozenset[str]]) -> None:
    """Conversations, tickets derived from messages and their accounting (SPEC §8, see
    :mod:`kpitools.conversations`), added to the load's ``rejects``, ``counts`` and ``provided``."""
    if not any(name in store.dtypes for name in ("messages", "status_changes")):
        return
    linked = conversations.link(store, cfg, provided, conversations.message_files(files, folder), PART_STRIDE)
    if linked.rejects is not None:
        rejects.insert(0, linked.rejects)  # derived tickets come first, as the tickets file would
    counts[:] = [(t, i, k, r, "; ".join(filter(None, [note, *linked.notes.get(t, [])]))) for t, i, k, r, note in counts]
    counts[:0] = linked.counts
    provided.update(linked.provided)


def _load_table(store: Store, table: str, files: list[Part], cfg: DatasetConfig, channels: frozenset[str],
                notes: list[str]) -> tuple[int, pd.DataFrame, list[pd.DataFrame], frozenset[str]]:
    """Validate the table's files into ``store`` (a Parquet file DuckDB reads in one pass, others
    slice by slice), every row with its verdict; then drop the rejected rows and the duplicate keys
    over all of them (SPEC A3: among the rows that pass every other rule, first in file order kept).

    Returns the input row count, the rejected rows (in file and row order), the rows that did not
    parse and the columns the files (through their mapping) provide. ``notes`` receives what the
    readers got past, each named by its file when the table has several.
    """
    kpi_ids = _kpi_ids() if table == "targets" else frozenset()
    rows_in = 0
    parts: list[pd.DataFrame] = []
    rejected: list[np.ndarray] = []  # the stored row keys of the rejected rows
    bad_parts: list[pd.DataFrame] = []
    key = KEYS.get(table, ())
    provided: frozenset[str] = frozenset()
    columns: list[str] | None = None  # the stored columns: those of the first file's first slice
    stored_dtypes: dict[str, Any] = {}
    for index, part in enumerate(files):
        offset = index * PART_STRIDE
        said: list[str] = []
        rules = Rules(table, tz=cfg.timezone, scales=cfg.scales, statuses=cfg.statuses, channels=channels,
                      kpi_ids=kpi_ids, numbers=NumberText(part.layout.decimal, part.layout.thousands))
        whole = _scan(table, part, cfg, store, said)  # a Parquet file DuckDB reads itself, in one pass
        for piece in [whole] if whole is not None else _chunks(table, part, cfg, said):
            if piece is whole:
                frame, checked = _checked_columns(whole, table, part.path), rules.scan(store.con, whole)
            else:
                frame, checked = piece.frame, rules.check(store.con, piece.frame, piece.unreadable)
            provided |= frozenset(frame.columns)
            if columns is None:
                columns, stored_dtypes = list(rules.dtypes), rules.dtypes
            elif list(rules.dtypes) != columns:  # a later file with other extra columns
                dropped = [c for c in rules.dtypes if c not in columns]
                if dropped:
                    said.append(f"column(s) {dropped} not kept (the table's columns are those of {files[0].name})")
            # every row goes in with its verdict (one pass over a scanned file); the rejected leave below
            with parquet_scan.read_errors(part.path):
                store.append_query(table, _stored(checked, columns, stored_dtypes, offset), stored_dtypes)
            gone = _gone(store, table, offset, 0 if piece is whole else _first_row(frame))
            rules.drop(store.con)
            rejected.append(gone.index.to_numpy() + offset)
            if piece is whole:
                typed, unreadable = whole.rejected(gone.index.to_numpy()) if len(gone) else (None, {})
                parts.append(_rejects(table, part.name, typed, gone[REASON], gone[COLUMN], unreadable))
                rows_in += whole.rows
                continue
            parts.append(_rejects(table, part.name, frame, gone[REASON], gone[COLUMN], piece.unreadable))
            if piece.bad:
                bad_parts.append(pd.DataFrame({"table": table, "file": part.name, "row": [r for r, _ in piece.bad],
                                               "column": None, "value": None, "reason": [why for _, why in piece.bad]}))
            rows_in += len(frame) + len(piece.bad)
            del frame
            release_memory()
        notes.extend(f"{part.name}: {n}" if len(files) > 1 else n for n in said)
    raw_keys = _settle(store, table, np.concatenate(rejected)) if rejected else []
    if key:
        parts.append(_duplicates(store, table, files, key, raw_keys))
    if store.exists(table):
        store.profile(table)
    parts = [p for p in parts if len(p)]
    order = {part.name: i for i, part in enumerate(files)}
    table_rejects = (pd.concat(parts).sort_values(["file", "row"], key=lambda s: s.map(order) if s.name == "file"
                                                  else s, kind="stable") if parts
                     else pd.DataFrame(columns=REJECT_COLUMNS))
    return rows_in, table_rejects, bad_parts, provided


def _stored(checked: Any, columns: list[str], dtypes: dict[str, Any], offset: int) -> str:
    """SQL for the rows of a checked slice in the stored form: the stored columns in order, each of
    its stored type (a column a later file lacks is empty), row numbers past ``offset``, then the
    verdict columns (``REASON``, ``COLUMN``, ``RAW_KEY``) that :func:`_settle` acts on and drops."""
    import ibis

    values = {name: _as_stored(checked[name] if name in checked.columns else ibis.null(), dtypes[name])
              for name in columns}
    raw = checked[RAW_KEY] if RAW_KEY in checked.columns else ibis.null("string")
    return ibis.to_sql(checked.select(**values, **{ROW: checked[ROW] + offset, REASON: checked[REASON],
                                                   COLUMN: checked[COLUMN], RAW_KEY: raw}), dialect="duckdb")


def _as_stored(value: Any, dtype: Any) -> Any:
    """A checked column of a slice as the table stores it: of the stored type, a boolean stored as
    text written as pandas writes it ("True"/"False", as a slice with empty cells gives it)."""
    import ibis

    kind = _ibis_type(dtype)
    if kind.is_string() and value.type().is_boolean():
        return ibis.cases((value, "True"), (~value, "False"), else_=ibis.null("string"))
    return value.cast(kind)


def _ibis_type(dtype: Any) -> Any:
    """The stored Ibis type of a column of this pandas dtype (timestamps as int64 ns)."""
    import ibis

    if isinstance(dtype, pd.DatetimeTZDtype) or str(dtype).startswith("datetime64"):
        return ibis.dtype("int64")
    return ibis.dtype("string") if dtype == TEXT else ibis.dtype(dtype)


def _first_row(frame: pd.DataFrame | Typed) -> int:
    """The first row number of a slice (its rows follow the earlier slices'); past every row of
    the file when it is empty."""
    numbers = frame.rows if isinstance(frame, Typed) else frame.index
    return int(numbers.min()) if len(numbers) else PART_STRIDE


def _gone(store: Store, table: str, offset: int, first: int) -> pd.DataFrame:
    """The rejected rows of one file in the stored table (its rows past ``offset``) from its row
    ``first`` on (the slice just stored; slices come in row order): reason and column by row number."""
    rows = f"{ROW} >= {offset + first} AND {ROW} < {offset + PART_STRIDE}"
    return store.con.execute(
        f'SELECT {ROW} - {offset} AS "row", {REASON} AS "{REASON}", {COLUMN} AS "{COLUMN}" FROM "{table}" '
        f"WHERE {REASON} IS NOT NULL AND {rows} ORDER BY {ROW}").df().set_index("row")


def _settle(store: Store, table: str, rejected: np.ndarray) -> list[pd.Series]:
    """Drop the rejected rows (stored row keys) and the verdict columns from the stored table;
    returns the kept rows' key as read where trimming changed it, by stored row key."""
    if not store.exists(table):
        return []
    if len(rejected):
        store.delete_rows(table, rejected)
    raw = store.con.execute(f'SELECT {ROW}, "{RAW_KEY}" FROM "{table}" WHERE "{RAW_KEY}" IS NOT NULL').df()
    store.drop_columns(table, [REASON, COLUMN, RAW_KEY])
    return [pd.Series(raw[RAW_KEY].to_numpy(dtype=object), index=raw[ROW].to_numpy())] if len(raw) else []


def _duplicates(store: Store, table: str, files: list[Part], key: tuple[str, ...],
                raw_keys: list[pd.Series]) -> pd.DataFrame:
    """Reject (and drop from the store) the stored rows whose key repeats an earlier row's."""
    if not store.exists(table):
        return pd.DataFrame(columns=REJECT_COLUMNS)
    import ibis

    schema = store.con.table(table).limit(0).to_arrow_table().schema
    rows = ibis.table(ibis.Schema.from_pyarrow(schema), name=table)
    # only the rows of keys that repeat go through the window (a hash count first: cheaper than sorting all)
    counted = rows.group_by(list(key)).aggregate(__kt_n=rows.count())
    counted = counted.filter(counted.__kt_n > 1)
    rows = rows.semi_join(counted, [rows[k].identical_to(counted[k]) for k in key])
    repeated = duplicates(rows, key, ROW)
    query = repeated.select(row=repeated[ROW], value=repeated[key[0]]).order_by("row")
    dup = store.con.execute(ibis.to_sql(query, dialect="duckdb")).df()
    if dup.empty:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    store.delete_rows(table, dup["row"].to_numpy())
    values = dup["value"].astype(str)
    if raw_keys:
        raw = pd.concat(raw_keys)
        values = pd.Series(raw.reindex(dup["row"]).astype(object).to_numpy(), index=values.index).fillna(values)
    stored = dup["row"].to_numpy()
    names = np.array([part.name for part in files], dtype=object)
    return pd.DataFrame({"table": table, "file": names[stored // PART_STRIDE], "row": stored % PART_STRIDE,
                         "column": key[0], "value": values.to_numpy(dtype=object),
                         "reason": f"duplicate {' + '.join(key)} (the first row is kept)"})


def _rejects(table: str, file: str, frame: pd.DataFrame | Typed, reason: pd.Series, column: pd.Series,
             unreadable: dict[str, tuple[np.ndarray, str, np.ndarray]]) -> pd.DataFrame:
    """The rejected rows of one slice, each with the value of the column its reason is about
    (as read: a cell the reader took out shows what the file held)."""
    if reason.empty:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    if isinstance(frame, Typed):  # only the rejected rows become pandas
        rows = np.sort(reason.index.to_numpy())
        at = np.searchsorted(frame.rows, rows)
        unreadable = {c: (mask[at], why, values[at]) for c, (mask, why, values) in unreadable.items()}
        frame = frame.frame(rows)
    values = pd.Series(None, index=reason.index, dtype=object)
    for col in column.unique():
        rows = (column == col).to_numpy()
        shown = frame.loc[reason.index[rows], col].astype(str).to_numpy(dtype=object) if col in frame else None
        if col in unreadable:  # a cell the reader took out shows its text; the column's others as read
            mask, _, text = unreadable[col]
            at = frame.index.get_indexer(reason.index[rows])
            shown = np.where(mask[at], text[at], shown if shown is not None else None)
        if shown is not None:
            values[rows] = shown
    return pd.DataFrame({"table": table, "file": file,
                         "row": reason.index.to_numpy(), "column": column.to_numpy(),
                         "value": values.to_numpy(), "reason": reason.to_numpy()})


def _latest(store: Store, tz: str, folder: Path) -> pd.Timestamp:
    """SPEC A4: the latest timestamp of any kept row in any table (spam included)."""
    latest = [store.bounds(name, c.name)[1] for name in store.dtypes for c in TABLES.get(name, ())
              if c.kind == "timestamp" and c.name in store.dtypes[name]]
    latest = [x for x in latest if x is not None]
    if not latest:
        raise DatasetError(f"{folder}: no timestamps to derive as_of from; set as_of in dataset.toml",
                           file=str(folder / "dataset.toml"))
    return pd.Timestamp(max(latest), tz="UTC").tz_convert(tz)
