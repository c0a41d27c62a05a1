"""``kpitools.load``: read a dataset folder strictly and account for every input row (SPEC §2).

Files are read by Arrow in slices of ``CHUNK_ROWS`` rows (Parquet batches, streamed CSV), every
rule runs vectorised over a slice's columns, and each input row ends up kept or rejected with a
reason: rows_in = rows_kept + rows_rejected. Kept rows go to the dataset's DuckDB
:class:`~kpitools.dataset.Store`, where duplicate keys are judged over the whole file at the
end; so the memory a load needs is that of one slice, whatever the size of the files.
"""

from __future__ import annotations

import csv
import ctypes
import functools
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import snapshot
from .config import DatasetConfig, TableSource, read_config
from .dataset import ROW, Dataset, Store, stored_channels
from .errors import DatasetError
from .mappings import apply_mapping
from .schema import KEYS, TABLE_ORDER, TABLES, required
from .validate import TEXT, _is_text, check_table

REJECT_COLUMNS = ["table", "file", "row", "column", "value", "reason"]
COUNT_COLUMNS = ["table", "rows_in", "rows_kept", "rows_rejected"]
_FIRST_DATA_ROW = 2  # as a spreadsheet shows it: the header is row 1
CHUNK_ROWS = 500_000  # rows validated at once: bounds the memory a large file needs


def _text_types(t: pa.DataType):
    return TEXT if pa.types.is_string(t) or pa.types.is_large_string(t) else None


def _header(file: Path) -> list[str]:
    with file.open("rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetError(f"{file}: is UTF-16 text; expected UTF-8 (with or without BOM) — re-save it as UTF-8",
                           file=str(file))
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the 1 MiB mark
            raise DatasetError(f"{file}: byte {exc.start} is not UTF-8; expected UTF-8 text (with or without BOM) "
                               "— re-save the file as UTF-8", file=str(file)) from None
        text = head[: exc.start].decode("utf-8-sig")
    if not text.strip():
        raise DatasetError(f"{file}: the file is empty; expected a header row with the columns of the table",
                           file=str(file))
    names = next(csv.reader(io.StringIO(text.splitlines()[0])))
    names = [n.strip() for n in names]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DatasetError(f"{file}: duplicate column name(s) {dupes} in the header", file=str(file), column=dupes[0])
    return names


def read_csv_text(file: Path) -> Iterator[tuple[pa.Table, np.ndarray, list[tuple[int, str]]]]:
    """Read a CSV with every column as text (empty = ""), in slices of about ``CHUNK_ROWS`` rows.

    Yields each slice as an Arrow table, the spreadsheet row number of each of its rows and the
    rows that could not be parsed (wrong number of fields) since the previous slice, as (row,
    reason). The reader is single-threaded because only then does Arrow number the bad rows.
    """
    names = _header(file)
    bad: list[tuple[int, str]] = []

    def on_invalid(row) -> str:
        bad.append((row.number, f"row has {row.actual_columns} fields, expected {row.expected_columns}"))
        return "skip"

    try:
        reader = pacsv.open_csv(
            file,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding="utf8", use_threads=False,
                                           block_size=16 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
        schema = reader.schema
        number, reported = _FIRST_DATA_ROW, 0
        batches: list[pa.RecordBatch] = []
        done = False
        while not done:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                done = True
            size = sum(b.num_rows for b in batches)
            if size < CHUNK_ROWS and not done:
                continue
            # bad rows take their numbers; the rows that parsed fill the others in order
            skipped = np.array([r for r, _ in bad if r >= number], dtype=np.int64)
            numbers = np.arange(number, number + size + len(skipped))
            numbers = numbers[~np.isin(numbers, skipped)][:size]
            number = int(numbers[-1]) + 1 if size else number
            yield pa.Table.from_batches(batches, schema), numbers, bad[reported:]
            reported = len(bad)
            batches = []
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise DatasetError(f"{file}: is not valid UTF-8 text; expected UTF-8 (with or without BOM) — "
                               "re-save the file as UTF-8", file=str(file)) from None
        raise DatasetError(f"{file}: cannot be read as CSV: {exc}", file=str(file)) from None


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


def _pandas(table: pa.Table, rows: np.ndarray) -> pd.DataFrame:
    frame = table.to_pandas(types_mapper=_text_types)
    frame.index = pd.Index(rows, name="row")
    return frame


def _parquet_chunks(file: Path) -> Iterator[pd.DataFrame]:
    """The Parquet file in slices of about ``CHUNK_ROWS`` rows, indexed by row number."""
    try:
        pf = pq.ParquetFile(file)
        first = _FIRST_DATA_ROW
        empty = True
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
            empty = False
            yield _pandas(pa.Table.from_batches([batch]), np.arange(first, first + batch.num_rows))
            first += batch.num_rows
        if empty:
            yield _pandas(pf.schema_arrow.empty_table(), np.arange(0))
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{file}: cannot be read as Parquet: {exc}", file=str(file)) from None


def _locate(folder: Path, table: str, src: TableSource | None) -> Path | None:
    if src is not None and src.file:
        path = folder / src.file
        if not path.exists():
            raise DatasetError(f"{path}: file not found (named by [tables.{table}] in dataset.toml)", file=str(path))
        return path
    for ext in ("parquet", "csv"):  # Parquet wins (SPEC A1)
        path = folder / f"{table}.{ext}"
        if path.exists():
            return path
    return None


def _has_mapping(src: TableSource | None) -> bool:
    return src is not None and any(
        (src.columns, src.durations, src.values, src.constants, src.timestamps, src.skip_empty, src.group_by))


def _chunks(table: str, file: Path, cfg: DatasetConfig) -> Iterator[tuple[pd.DataFrame, list[tuple[int, str]]]]:
    """The raw table in slices (rows indexed by spreadsheet row number) with the CSV rows that
    did not parse (given with the first slice). A mapped table comes whole: mappings may group
    rows."""
    src = cfg.tables.get(table)
    if _has_mapping(src):
        if file.suffix.lower() == ".parquet":
            frame, bad = pd.concat(list(_parquet_chunks(file))).astype(TEXT), []
        else:
            slices = list(read_csv_text(file))
            frame = pd.concat([_pandas(data, rows) for data, rows, _ in slices])
            bad = [b for _, _, part in slices for b in part]
        yield _checked_columns(apply_mapping(frame, table, src, file=str(file), as_of=cfg.as_of), table, file), bad
    elif file.suffix.lower() == ".parquet":
        for frame in _parquet_chunks(file):
            yield _checked_columns(frame, table, file), []
    else:
        for data, rows, bad in read_csv_text(file):
            yield _checked_columns(_pandas(data, rows), table, file), bad


def _checked_columns(frame: pd.DataFrame, table: str, file: Path) -> pd.DataFrame:
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
    store = Store()
    files: dict[str, Path] = {}
    rejects: list[pd.DataFrame] = []
    counts: list[tuple[str, int, int, int]] = []
    provided: dict[str, frozenset[str]] = {}
    for table in TABLE_ORDER:
        src = cfg.tables.get(table)
        if src is not None and src.absent:
            continue
        file = _locate(folder, table, src)
        if file is None:
            if table == "tickets":
                raise DatasetError(f"{folder}: no tickets table; expected tickets.csv or tickets.parquet (or a "
                                   "[tables.tickets] file in dataset.toml, or absent = true for a dataset without "
                                   "tickets)", file=str(folder / "tickets.csv"))
            continue
        channels = frozenset()
        if table == "costs":  # SPEC A3: a channel some kept ticket uses
            channels = frozenset(stored_channels(store, ("tickets",)))
        elif table == "targets":
            channels = frozenset(stored_channels(store, ("tickets", "surveys")))
        rows_in, table_rejects, bad_rows, provided[table] = _load_table(store, table, file, folder, cfg, channels)
        files[table] = file
        rejects.append(table_rejects)
        rejects.extend(bad_rows)
        kept = store.rows(table)
        counts.append((table, rows_in, kept, rows_in - kept))
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


def _load_table(store: Store, table: str, file: Path, folder: Path, cfg: DatasetConfig,
                channels: frozenset[str]) -> tuple[int, pd.DataFrame, list[pd.DataFrame], frozenset[str]]:
    """Validate ``file`` slice by slice into ``store``; then drop the duplicate keys (SPEC A3: among
    the rows that pass every other rule, first in file order kept).

    Returns the input row count, the rejected rows (in row order), the unparseable CSV rows and
    the columns the file (through its mapping) provides.
    """
    kpi_ids = _kpi_ids() if table == "targets" else frozenset()
    rows_in = 0
    parts: list[pd.DataFrame] = []
    bad_parts: list[pd.DataFrame] = []
    key = KEYS.get(table, ())
    raw_keys: list[pd.Series] = []  # a kept key's raw text where trimming changed it
    provided: frozenset[str] = frozenset()
    for frame, bad in _chunks(table, file, cfg):
        provided |= frozenset(frame.columns)
        checked = check_table(table, frame, tz=cfg.timezone, scales=cfg.scales, channels=channels,
                              kpi_ids=kpi_ids, dedupe=False)
        kept = checked.reason.isna().to_numpy()
        typed = checked.frame if kept.all() else checked.frame[kept]
        store.append(table, typed, typed.index)
        parts.append(_rejects(table, file, folder, frame, checked.reason[~kept], checked.column[~kept]))
        if key and key[0] in frame and _is_text(frame[key[0]]):
            raw = frame[key[0]][kept]
            changed = (raw.str.len() != typed[key[0]].str.len()).fillna(True).to_numpy(bool)
            raw_keys.append(raw[changed])
        if bad:
            bad_parts.append(pd.DataFrame({"table": table, "file": _rel(file, folder), "row": [r for r, _ in bad],
                                           "column": None, "value": None, "reason": [why for _, why in bad]}))
        rows_in += len(frame) + len(bad)
        del frame, checked, typed
        release_memory()
    if key:
        parts.append(_duplicates(store, table, file, folder, key, raw_keys))
    if store.exists(table):
        store.profile(table)
    parts = [p for p in parts if len(p)]
    table_rejects = (pd.concat(parts).sort_values("row", kind="stable") if parts
                     else pd.DataFrame(columns=REJECT_COLUMNS))
    return rows_in, table_rejects, bad_parts, provided


def _duplicates(store: Store, table: str, file: Path, folder: Path, key: tuple[str, ...],
                raw_keys: list[pd.Series]) -> pd.DataFrame:
    """Reject (and drop from the store) the stored rows whose key repeats an earlier row's."""
    if not store.exists(table):
        return pd.DataFrame(columns=REJECT_COLUMNS)
    parts = ", ".join(f'"{k}"' for k in key)
    dup = store.con.execute(
        f'SELECT {ROW} AS row, "{key[0]}" AS value FROM "{table}" '
        f"QUALIFY row_number() OVER (PARTITION BY {parts} ORDER BY {ROW}) > 1 ORDER BY {ROW}").df()
    if dup.empty:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    store.delete_rows(table, dup["row"].to_numpy())
    values = dup["value"].astype(str)
    if raw_keys:
        raw = pd.concat(raw_keys)
        values = pd.Series(raw.reindex(dup["row"]).astype(object).to_numpy(), index=values.index).fillna(values)
    return pd.DataFrame({"table": table, "file": _rel(file, folder), "row": dup["row"].to_numpy(),
                         "column": key[0], "value": values.to_numpy(dtype=object),
                         "reason": f"duplicate {' + '.join(key)} (the first row is kept)"})


def _rejects(table: str, file: Path, folder: Path, frame: pd.DataFrame, reason: pd.Series,
             column: pd.Series) -> pd.DataFrame:
    if reason.empty:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    values = pd.Series(None, index=reason.index, dtype=object)
    for col in column.unique():
        rows = (column == col).to_numpy()
        if col in frame:
            values[rows] = frame.loc[reason.index[rows], col].astype(str).to_numpy()
    return pd.DataFrame({"table": table, "file": _rel(file, folder),
                         "row": reason.index.to_numpy(), "column": column.to_numpy(),
                         "value": values.to_numpy(), "reason": reason.to_numpy()})


def _rel(file: Path, folder: Path) -> str:
    return str(file.relative_to(folder)) if file.is_relative_to(folder) else str(file)


def _latest(store: Store, tz: str, folder: Path) -> pd.Timestamp:
    """SPEC A4: the latest timestamp of any kept row in any table (spam included)."""
    latest = [store.bounds(name, c.name)[1] for name in store.dtypes for c in TABLES.get(name, ())
              if c.kind == "timestamp" and c.name in store.dtypes[name]]
    latest = [x for x in latest if x is not None]
    if not latest:
        raise DatasetError(f"{folder}: no timestamps to derive as_of from; set as_of in dataset.toml",
                           file=str(folder / "dataset.toml"))
    return pd.Timestamp(max(latest), tz="UTC").tz_convert(tz)
