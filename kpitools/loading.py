"""``kpitools.load``: read a dataset folder strictly and account for every input row (SPEC §2).

Files are read by Arrow (multi-threaded C++), every rule runs vectorised over whole columns,
and each input row ends up kept or rejected with a reason: rows_in = rows_kept + rows_rejected.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .config import DatasetConfig, TableSource, read_config
from .dataset import Dataset, channels_of
from .errors import DatasetError
from .mappings import apply_mapping
from .schema import TABLE_ORDER, TABLES, required
from .validate import TEXT, check_table

REJECT_COLUMNS = ["table", "file", "row", "column", "value", "reason"]
COUNT_COLUMNS = ["table", "rows_in", "rows_kept", "rows_rejected"]
_FIRST_DATA_ROW = 2  # as a spreadsheet shows it: the header is row 1


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


def read_csv_text(file: Path) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Read a CSV with every column as text (empty = "").

    Returns the frame, indexed by spreadsheet row number, and the rows that could not be parsed
    (wrong number of fields) as (row, reason).
    """
    names = _header(file)
    frame, bad = _read_csv(file, names, use_threads=True)
    if any(number is None for number, _ in bad):  # Arrow numbers bad rows only when single-threaded
        frame, bad = _read_csv(file, names, use_threads=False)
    # Arrow numbers skipped rows by line; rows that parsed fill the remaining numbers in order.
    bad_rows = {number for number, _ in bad}
    numbers = np.arange(_FIRST_DATA_ROW, _FIRST_DATA_ROW + len(frame) + len(bad))
    frame.index = pd.Index(numbers[~np.isin(numbers, list(bad_rows))][: len(frame)], name="row")
    return frame, bad


def _read_csv(file: Path, names: list[str], use_threads: bool) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    bad: list[tuple[int, str]] = []

    def on_invalid(row) -> str:
        bad.append((row.number, f"row has {row.actual_columns} fields, expected {row.expected_columns}"))
        return "skip"

    try:
        table = pacsv.read_csv(
            file,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding="utf8",
                                           use_threads=use_threads),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise DatasetError(f"{file}: is not valid UTF-8 text; expected UTF-8 (with or without BOM) — "
                               "re-save the file as UTF-8", file=str(file)) from None
        raise DatasetError(f"{file}: cannot be read as CSV: {exc}", file=str(file)) from None
    return table.to_pandas(types_mapper=_text_types), bad


def read_parquet(file: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{file}: cannot be read as Parquet: {exc}", file=str(file)) from None
    frame = table.to_pandas(types_mapper=_text_types)
    frame.index = pd.Index(np.arange(_FIRST_DATA_ROW, _FIRST_DATA_ROW + len(frame)), name="row")
    return frame


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


def _read(folder: Path, table: str, file: Path, cfg: DatasetConfig) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    src = cfg.tables.get(table)
    if file.suffix.lower() == ".parquet":
        frame, bad = read_parquet(file), []
        if _has_mapping(src):
            frame = frame.astype(TEXT)
    else:
        frame, bad = read_csv_text(file)
    if _has_mapping(src):
        frame = apply_mapping(frame, table, src, file=str(file), as_of=cfg.as_of)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required(table) if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns)
        raise DatasetError(f"{file}: missing required column {missing[0]!r} of table {table} "
                           f"(required: {', '.join(required(table))}; found: {found})",
                           file=str(file), column=missing[0])
    return frame, bad


def _kpi_ids() -> frozenset[str]:
    from .catalog import catalog

    return frozenset(catalog()["id"])


def load(path: str | Path) -> Dataset:
    """Load and validate the dataset folder ``path``.

    Raises :class:`kpitools.DatasetError` for file-level problems (missing folder, file or
    required column, empty file, wrong encoding, malformed dataset.toml); row-level problems
    reject the row and are listed in ``ds.rejects``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder (expected a folder holding tickets.csv or "
                           "tickets.parquet and dataset.toml)", file=str(folder))
    cfg = read_config(folder)
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    rejects: list[pd.DataFrame] = []
    counts: list[tuple[str, int, int, int]] = []
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
        frame, bad = _read(folder, table, file, cfg)
        channels = frozenset()
        if table == "costs":  # SPEC A3: a channel some kept ticket uses
            channels = frozenset(channels_of(tables, ("tickets",)))
        elif table == "targets":
            channels = frozenset(channels_of(tables))
        checked = check_table(table, frame, tz=cfg.timezone, scales=cfg.scales, channels=channels,
                              kpi_ids=_kpi_ids() if table == "targets" else frozenset())
        kept = checked.reason.isna()
        typed = checked.frame if kept.all() else checked.frame[kept.to_numpy()]
        tables[table] = typed.reset_index(drop=True)
        files[table] = file
        rejects.append(_rejects(table, file, folder, frame, checked.reason[~kept], checked.column[~kept]))
        if bad:
            rejects.append(pd.DataFrame({"table": table, "file": _rel(file, folder), "row": [r for r, _ in bad],
                                         "column": None, "value": None, "reason": [why for _, why in bad]}))
        n_rejected = int((~kept).sum()) + len(bad)
        counts.append((table, len(frame) + len(bad), int(kept.sum()), n_rejected))
    if (folder / "dataset.toml").exists():
        files["dataset.toml"] = folder / "dataset.toml"
    all_rejects = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    all_rejects["row"] = all_rejects["row"].astype("Int64")
    return Dataset(
        path=folder,
        config=cfg,
        tables=tables,
        rejects=all_rejects[REJECT_COLUMNS],
        counts=pd.DataFrame(counts, columns=COUNT_COLUMNS),
        as_of=cfg.as_of if cfg.as_of is not None else _latest(tables, cfg.timezone, folder),
        files=files,
    )


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


def _latest(tables: dict[str, pd.DataFrame], tz: str, folder: Path) -> pd.Timestamp:
    """SPEC A4: the latest timestamp of any kept row in any table (spam included)."""
    latest = [frame[c.name].max() for name, frame in tables.items()
              for c in TABLES[name] if c.kind == "timestamp" and frame[c.name].notna().any()]
    if not latest:
        raise DatasetError(f"{folder}: no timestamps to derive as_of from; set as_of in dataset.toml",
                           file=str(folder / "dataset.toml"))
    return max(latest).tz_convert(tz)
