"""Reading table files to their end: CSV (plain or gzip'd, any declared layout), ``.xlsx`` and
Parquet, each row numbered as a spreadsheet shows it (the header is row 1).

A CSV file is read by Arrow, and its records are counted independently first by a
quote-aware scan (:func:`scan_csv`): a file that ends inside a quoted field (an unterminated
quote swallows the rest), bytes that are not of the file's encoding, or a reader that returns
fewer rows than the file holds stop the load with a :class:`~kpitools.errors.DatasetError`
naming the file and line — a table is never silently shortened. Every reader error becomes
such a message; file-level oddities the reader gets past (an unnamed index column, a sniffed
delimiter) are returned as notes.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import itertools
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .config import Layout
from .errors import DatasetError
from .validate import TEXT

CHUNK_ROWS = 500_000  # rows per slice: bounds the memory a large file needs
FIRST_DATA_ROW = 2  # as a spreadsheet shows it: the header is row 1
DELIMITERS = (",", ";", "\t", "|")  # sniffed, in this order of preference on a tie
_BLOCK = 16 << 20  # bytes scanned (and parsed by Arrow) at once
_HEAD = 1 << 20  # bytes the header and the delimiter are read from
_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")
_ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "latin-1", "cp1252"}  # quote, delimiters and newlines are single bytes
_END = "\x00kpitools-end-of-file\x00"  # a record after the last; swallowed only by an open quote
_NS_LIMIT = {"s": 9_223_372_036, "ms": 9_223_372_036_854, "us": 9_223_372_036_854_775}  # pandas' ns range


@dataclass
class Typed:
    """A slice of a typed Parquet file left in Arrow (no pandas round trip): ``table`` holds the
    columns as read (timestamps in ns, values pandas cannot hold taken out), ``rows`` their row
    numbers (ascending). What pandas would make of it is known from the types and null counts
    (:attr:`dtypes`), so only the rows a load rejects become pandas (:meth:`frame`)."""

    table: pa.Table
    rows: np.ndarray

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    def __len__(self) -> int:
        return self.table.num_rows

    @functools.cached_property
    def dtypes(self) -> dict[str, object]:
        """The dtypes of the slice as pandas: an integer column with nulls is float64, a boolean
        one object (what ``to_pandas`` gives for the whole slice)."""
        return pandas_dtypes(self.table.schema, {n for n, c in zip(self.columns, self.table.columns) if c.null_count})

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The rows with these numbers as pandas, of the slice's :attr:`dtypes` (a few rows
        alone could convert to other dtypes)."""
        part = self.table.take(np.searchsorted(self.rows, rows)).to_pandas(types_mapper=_text_types)
        part = part.astype({n: d for n, d in self.dtypes.items() if part[n].dtype != d})
        part.index = pd.Index(rows, name="row")
        return part


@dataclass
class Slice:
    """Part of a file: rows indexed by spreadsheet row number (a pandas frame, or :class:`Typed`),
    the rows that did not parse as (row, reason), and per column the cells the reader could not
    represent (taken out, left empty) as (mask, reason, the values as the file holds them)."""

    frame: pd.DataFrame | Typed
    bad: list[tuple[int, str]] = field(default_factory=list)
    unreadable: dict[str, tuple[np.ndarray, str, np.ndarray]] = field(default_factory=dict)


def pandas_dtypes(schema: pa.Schema, with_nulls: set[str]) -> dict[str, object]:
    """The dtypes pandas gives columns of these Arrow types: an integer column with nulls (named
    in ``with_nulls``) is float64, a boolean one object (what ``to_pandas`` gives)."""
    empty = schema.empty_table().to_pandas(types_mapper=_text_types)
    out = {}
    for f in schema:
        out[f.name] = empty[f.name].dtype
        if f.name in with_nulls and pa.types.is_integer(f.type):
            out[f.name] = np.dtype("float64")
        elif f.name in with_nulls and pa.types.is_boolean(f.type):
            out[f.name] = np.dtype(object)
    return out


def kind(path: Path) -> str:
    """``csv``, ``parquet`` or ``xlsx`` by the file name (``.csv.gz`` is CSV)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".xlsx"):
        return "xlsx"
    return "csv"


def read_slices(path: Path, layout: Layout, notes: list[str], *, table: str,
                numeric: frozenset[str] = frozenset(), as_text: bool = False, typed: bool = False,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[Slice]:
    """The file in slices of about ``CHUNK_ROWS`` rows.

    CSV and ``.xlsx`` give text columns (empty cell = ""). Parquet gives typed columns, or text
    with ``as_text``; a NaN or infinite value in one of the ``numeric`` columns and a timestamp
    outside the years 1678-2261 are nulled and reported in ``Slice.unreadable`` (as text they
    stay as written, for the row rules to judge). ``table`` names the table in messages;
    ``notes`` receives what the reader got past. With ``typed``, a Parquet file whose column
    types allow it comes as :class:`Typed` slices rather than pandas frames.
    """
    _check_layout(path, layout, table)
    if kind(path) == "parquet":
        yield from _parquet(path, notes, numeric, as_text, typed and not as_text, chunk_rows)
    elif kind(path) == "xlsx":
        yield from _xlsx(path, layout, notes, chunk_rows)
    else:
        yield from _csv(path, layout, notes, table, chunk_rows)


def read_frame(path: Path, layout: Layout = Layout(), *, table: str) -> pd.DataFrame:
    """A whole file as text columns indexed by spreadsheet row (e.g. a file looked up by key);
    a row that does not parse stops with a message naming it."""
    slices = list(read_slices(path, layout, [], table=table, as_text=True))
    bad = [b for s in slices for b in s.bad]
    if bad:
        raise DatasetError(f"{path}: row {bad[0][0]}: {bad[0][1]}", file=str(path))
    return pd.concat([s.frame for s in slices])


def _check_layout(path: Path, layout: Layout, table: str) -> None:
    """Layout keys that do not apply to the file's kind are mistakes, not silently ignored."""
    given = {k for k in ("delimiter", "encoding", "thousands") if getattr(layout, k) is not None}
    given |= {"decimal"} if layout.decimal != "." else set()
    wrong = {"csv": {"sheet"} if layout.sheet is not None else set(), "xlsx": given,
             "parquet": given | ({"sheet"} if layout.sheet is not None else set())}[kind(path)]
    if wrong:
        raise DatasetError(f"{path}: [tables.{table}] {', '.join(sorted(wrong))} in dataset.toml do(es) not apply "
                           f"to a {kind(path)} file", file=str(path))


# --------------------------------------------------------------------------- CSV

def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def _read_bytes(path: Path, fh: IO[bytes], size: int) -> bytes:
    try:
        return fh.read(size)
    except (OSError, EOFError, zlib.error) as exc:  # a damaged or truncated gzip stream
        raise DatasetError(f"{path}: cannot be read to its end ({exc}); expected a complete "
                           f"{'gzip-compressed ' if path.name.lower().endswith('.gz') else ''}CSV file",
                           file=str(path)) from None


def _encoding(layout: Layout, head: bytes, notes: list[str]) -> str:
    """The declared encoding, else UTF-16 when the file starts with its byte-order mark, else UTF-8."""
    if layout.encoding is not None:
        return layout.encoding
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append("UTF-16 (byte-order mark) recognised")
        return "utf-16"
    return "utf-8"


def _not_encoded(path: Path, table: str, encoding: str, line: int, byte: int) -> DatasetError:
    hint = ('declare the file\'s encoding in dataset.toml, e.g. [tables.' + table + '] encoding = "cp1252" '
            '(or "latin-1", "utf-16")') if encoding == "utf-8" else "check the encoding declared in dataset.toml"
    return DatasetError(f"{path}, line {line}: byte 0x{byte:02X} is not {encoding.upper()} text; {hint}",
                        file=str(path))


def _head(path: Path, layout: Layout, notes: list[str], table: str) -> tuple[str, str, list[str]]:
    """(encoding, delimiter, header names as written) from the start of the file."""
    with _open(path) as fh:
        head = _read_bytes(path, fh, _HEAD)
    encoding = _encoding(layout, head, notes)
    decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == "utf-8" else encoding)()
    try:
        text = decoder.decode(head)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4 or encoding != "utf-8":  # not a character cut at the end of the head
            raise _not_encoded(path, table, encoding, head[:exc.start].count(b"\n") + 1, head[exc.start]) from None
        text = head[: exc.start].decode("utf-8-sig")
    if not text.strip():
        raise DatasetError(f"{path}: the file is empty; expected a header row with the columns of the table",
                           file=str(path))
    delimiter = layout.delimiter or _sniff(text, notes)
    header = next((r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r), [])
    return encoding, delimiter, header


def _sniff(text: str, notes: list[str]) -> str:
    """The delimiter that splits the header into the most columns with the next rows agreeing.

    >>> _sniff("a;b;c\\n1;2,5;3\\n", [])
    ';'
    """
    best, score = ",", (0, 0)
    for delim in DELIMITERS:
        records = [r for r in itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delim), 50) if r]
        width = len(records[0]) if records else 0
        agree = sum(len(r) == width for r in records[1:-1] or records[1:])  # the last may be cut off
        if width > 1 and (agree, width) > score:
            best, score = delim, (agree, width)
    if best != ",":
        notes.append(f"delimiter {best!r} detected")
    return best


@dataclass
class Records:
    """What the independent scan found: the records (header included) and, for each empty line,
    how many records precede it (a spreadsheet shows empty lines as rows)."""

    count: int
    empty_after: np.ndarray


def scan_csv(path: Path, encoding: str, delimiter: str, table: str) -> Records:
    """Count the records of a CSV file by its quoting, in one streaming pass.

    The fast path is vectorised: when every quote that opens a field stands at a field's start
    (after a delimiter, a line end or a closing quote), quotes pair up and a line end is a record
    end exactly when an even number of quotes precede it. A file with a quote inside an unquoted
    field (legal, and taken literally) is counted by Python's C-level ``csv`` reader instead.

    Raises DatasetError when the file ends inside a quoted field (naming the line where that
    field opens) or holds bytes that are not of ``encoding`` (naming their line).
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    quotes = lines = records = 0
    prev = _LF  # the byte before the block: the file starts as after a line end
    opened_line = 0
    empty: list[np.ndarray] = []
    delim = ord(delimiter)
    with _open(path) as fh:
        while block := _read_bytes(path, fh, _BLOCK):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                start = max(exc.start, 0)
                raise _not_encoded(path, table, encoding, lines + block[:start].count(b"\n") + 1,
                                   block[min(start, len(block) - 1)]) from None
            data = np.frombuffer(block if encoding in _ASCII_COMPATIBLE else text.encode("utf-8"), np.uint8)
            if not len(data):
                continue
            before = np.concatenate(([prev], data[:-1]))
            q = np.flatnonzero(data == _QUOTE)
            openers = q[(quotes + np.arange(len(q))) % 2 == 0]
            if not np.isin(before[openers], (delim, _LF, _CR, _QUOTE)).all():
                return _scan_with_csv_module(path, encoding, delimiter, table)
            ends = np.flatnonzero((data == _CR) | ((data == _LF) & (before != _CR)))  # CRLF ends at its CR
            outside = (quotes + np.searchsorted(q, ends)) % 2 == 0
            blank = np.isin(before[ends], (_LF, _CR))
            filled = outside & ~blank
            if len(openers):
                opened_line = lines + int(np.searchsorted(ends, openers[-1])) + 1
            gaps = np.flatnonzero(outside & blank)
            if len(gaps):
                empty.append(records + np.cumsum(filled)[gaps] - filled[gaps])
            records += int(filled.sum())
            lines += len(ends)
            quotes += len(q)
            prev = data[-1]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_encoded(path, table, encoding, lines + 1, 0) from None
    if quotes % 2:
        raise _unterminated(path, opened_line, lines + (prev not in (_LF, _CR)))
    records += prev not in (_LF, _CR)  # a last line without a line end
    return Records(records, np.concatenate(empty) if empty else np.zeros(0, np.int64))


def _unterminated(path: Path, line: int, last: int) -> DatasetError:
    return DatasetError(f"{path}, line {line}: a quoted field opens here and is never closed, so it would swallow "
                        f"the rest of the file (to line {last}); expected a closing quote (\") — the file cannot be "
                        "read to its end", file=str(path))


def _scan_with_csv_module(path: Path, encoding: str, delimiter: str, table: str) -> Records:
    """:func:`scan_csv` by Python's ``csv`` reader (same quoting rules as Arrow's parser); a
    record appended after the last is swallowed only when the file ends inside a quoted field."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # a long quoted text is a value, not an error
    records, empty, start, last_start, last = 0, [], 1, 1, None
    try:
        with _open(path) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as fh:
            reader = csv.reader(itertools.chain(fh, [_END]), delimiter=delimiter)
            for last in reader:
                if last:
                    records += 1
                    last_start = start
                else:
                    empty.append(records)
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise _not_encoded(path, table, encoding, start, exc.object[exc.start]) from None
    finally:
        csv.field_size_limit(limit)
    if last != [_END]:
        raise _unterminated(path, last_start, start - 2)  # lines read, less the one appended
    return Records(records - 1, np.asarray(empty, dtype=np.int64))


def _csv(path: Path, layout: Layout, notes: list[str], table: str, chunk_rows: int) -> Iterator[Slice]:
    encoding, delimiter, header = _head(path, layout, notes, table)
    names = [n.strip() for n in header]
    unnamed = [i for i, n in enumerate(names) if not n]
    if unnamed:
        notes.append(f"{len(unnamed)} column(s) without a name ignored (column {', '.join(str(i + 1) for i in unnamed)}"
                     "; an index column written with the data)")
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise DatasetError(f"{path}: duplicate column name(s) {dupes} in the header", file=str(path), column=dupes[0])
    records = scan_csv(path, encoding, delimiter, table)
    bad: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, f"row has {row.actual_columns} fields, expected {row.expected_columns}"))
        return "skip"

    keep = [h for h, n in zip(header, names) if n]
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8" if encoding == "utf-8" else encoding,
                                           use_threads=False, block_size=_BLOCK),  # bad rows are numbered only so
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in keep}, include_columns=keep,
                                                 null_values=[], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
        if reader.schema.names != keep:
            raise DatasetError(f"{path}: the header reads as {reader.schema.names} to Arrow but {keep} to the "
                               "csv module; expected a plain header row", file=str(path))
        number, reported, size, done = FIRST_DATA_ROW, 0, 0, False
        batches: list[pa.RecordBatch] = []
        rows_read = 0
        while not done:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                done = True
            size = sum(b.num_rows for b in batches)
            if size < chunk_rows and not done:
                continue
            # bad rows take their record numbers; the rows that parsed fill the others in order
            skipped = np.array([r for r, _ in bad[reported:]], dtype=np.int64)
            ordinals = np.arange(number, number + size + len(skipped))
            ordinals = ordinals[~np.isin(ordinals, skipped)][:size]
            number = int(ordinals[-1]) + 1 if size else number + len(skipped)
            frame = pa.Table.from_batches(batches, reader.schema).to_pandas(types_mapper=_text_types)
            frame.columns = [n.strip() for n in frame.columns]
            frame.index = pd.Index(_spreadsheet_rows(ordinals, records.empty_after), name="row")
            part = [(int(_spreadsheet_rows(np.array([r]), records.empty_after)[0]), why) for r, why in bad[reported:]]
            rows_read += size + len(part)
            yield Slice(frame, part)
            reported, batches = len(bad), []
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise DatasetError(f"{path}: cannot be read as CSV: {_arrow_message(exc)}", file=str(path)) from None
    if rows_read != records.count - 1:
        raise DatasetError(f"{path}: {rows_read} rows were read but the file holds {records.count - 1} records "
                           "(counted by their quoting); the file cannot be read reliably to its end",
                           file=str(path))


def _spreadsheet_rows(ordinals: np.ndarray, empty_after: np.ndarray) -> np.ndarray:
    """Record ordinals (header = 1) as spreadsheet rows: each empty line before a record is a row."""
    return ordinals + np.searchsorted(empty_after, ordinals - 1, side="right")


def _arrow_message(exc: Exception) -> str:
    """Arrow's message without its C++ source locations; rows as Arrow counts records."""
    text = str(exc).split("\n")[0]
    return re.sub(r"\s*\(?/[^ ]+\.cc:\d+\)?", "", text)


def _text_types(t: pa.DataType):
    return TEXT if pa.types.is_string(t) or pa.types.is_large_string(t) else None


# --------------------------------------------------------------------------- xlsx

def _cell_text(value: object) -> str:
    """A cell as text: dates and times in ISO form (spreadsheets have no time zone: local time),
    whole numbers without ``.0``, booleans as true/false, empty as ""."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx(path: Path, layout: Layout, notes: list[str], chunk_rows: int) -> Iterator[Slice]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read as an Excel workbook (.xlsx): {exc}", file=str(path)) from None
    try:
        sheets = book.sheetnames
        if layout.sheet is not None and layout.sheet not in sheets:
            raise DatasetError(f"{path}: no sheet {layout.sheet!r}; the workbook has {', '.join(map(repr, sheets))}",
                               file=str(path))
        name = layout.sheet or sheets[0]
        if layout.sheet is None and len(sheets) > 1:
            notes.append(f"sheet {name!r} read (the first of {len(sheets)}; name another with sheet = \"...\")")
        rows = enumerate(book[name].iter_rows(values_only=True), start=1)
        header: list[str] = []
        for number, values in rows:
            header = [_cell_text(v).strip() for v in values]
            if any(header):
                break
        if not any(header):
            raise DatasetError(f"{path}: sheet {name!r} is empty; expected a header row with the columns of the table",
                               file=str(path))
        while header and not header[-1]:
            header.pop()  # cells formatted but empty to the right of the header
        unnamed = [i for i, n in enumerate(header) if not n]
        if unnamed:
            notes.append(f"{len(unnamed)} column(s) without a name ignored")
        dupes = sorted({n for n in header if n and header.count(n) > 1})
        if dupes:
            raise DatasetError(f"{path}: duplicate column name(s) {dupes} in the header of sheet {name!r}",
                               file=str(path), column=dupes[0])
        keep = [i for i, n in enumerate(header) if n]
        width = len(header)
        numbers, cells, bad, first = [], [], [], True
        for number, values in rows:
            texts = [_cell_text(v) for v in values]
            if not any(t.strip() for t in texts):
                continue  # an empty spreadsheet row is no record
            if any(t.strip() for t in texts[width:]):
                last = max(i for i, t in enumerate(texts) if t.strip()) + 1
                bad.append((number, f"row has {last} fields, expected {width}"))
            else:
                texts += [""] * (width - len(texts))
                numbers.append(number)
                cells.append([texts[i] for i in keep])
            if len(numbers) + len(bad) >= chunk_rows:
                yield Slice(_sheet_frame(cells, [header[i] for i in keep], numbers), bad)
                numbers, cells, bad, first = [], [], [], False
        if numbers or bad or first:
            yield Slice(_sheet_frame(cells, [header[i] for i in keep], numbers), bad)
    finally:
        book.close()


def _sheet_frame(cells: list[list[str]], names: list[str], numbers: list[int]) -> pd.DataFrame:
    columns = list(zip(*cells)) if cells else [()] * len(names)
    return pd.DataFrame({n: pd.Series(c, dtype=TEXT) for n, c in zip(names, columns)}).set_axis(
        pd.Index(numbers, name="row", dtype=np.int64))


# --------------------------------------------------------------------------- Parquet

def _parquet(path: Path, notes: list[str], numeric: frozenset[str], as_text: bool, typed: bool,
             chunk_rows: int) -> Iterator[Slice]:
    keep, typed_ok = parquet_columns(path, notes)
    typed = typed and typed_ok
    try:
        pf = pq.ParquetFile(path)
        first, empty = FIRST_DATA_ROW, True
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=keep, use_pandas_metadata=False):
            empty = False
            yield parquet_slice(pa.Table.from_batches([batch]), np.arange(first, first + batch.num_rows),
                                numeric, as_text, typed)
            first += batch.num_rows
        if empty:
            yield parquet_slice(pf.schema_arrow.empty_table().select(keep), np.arange(0), numeric, as_text, typed)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable_parquet(path, exc) from None


def _unreadable_parquet(path: Path, exc: Exception) -> DatasetError:
    return DatasetError(f"{path}: cannot be read as Parquet: {_arrow_message(exc)}", file=str(path))


def parquet_columns(path: Path, notes: list[str]) -> tuple[list[str], bool]:
    """The columns of a Parquet file that are read (an index or unnamed column is ignored, with a
    note; duplicate names stop the load) and whether their pandas form is known from their types
    (see :func:`_typed_ok`)."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable_parquet(path, exc) from None
    names = schema.names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DatasetError(f"{path}: duplicate column name(s) {dupes}; expected one column per name",
                           file=str(path), column=dupes[0])
    meta = schema.pandas_metadata or {}
    index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    skip = [n for n in names if not n.strip() or n in index]
    if skip:
        notes.append(f"{len(skip)} index or unnamed column(s) ignored ({', '.join(map(repr, skip))})")
    keep = [n for n in names if n not in skip]
    return keep, _typed_ok(schema, keep, meta)


def _typed_ok(schema: pa.Schema, keep: list[str], meta: dict) -> bool:
    """Whether the pandas form of these columns is known from their Arrow types alone (text,
    integers, floats, booleans, timestamps, nulls; no pandas extension dtype recorded for a
    column that is not text; names distinct once trimmed): then :class:`Typed` slices."""
    recorded = {c.get("name"): c.get("numpy_type") for c in meta.get("columns", [])}
    for name in keep:
        t = schema.field(name).type
        text = pa.types.is_string(t) or pa.types.is_large_string(t)
        if not (text or pa.types.is_integer(t) or pa.types.is_float32(t) or pa.types.is_float64(t)
                or pa.types.is_boolean(t) or pa.types.is_timestamp(t) or pa.types.is_null(t)):
            return False
        if not text and name in recorded and not _numpy_type(recorded[name]):
            return False
    return len({n.strip() for n in keep}) == len(keep)


def _numpy_type(name: object) -> bool:
    try:
        return isinstance(pd.api.types.pandas_dtype(name), np.dtype)
    except (TypeError, ValueError):
        return False


def _as_text(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.string()).to_pylist(), dtype=object)


def parquet_slice(table: pa.Table, rows: np.ndarray, numeric: frozenset[str], as_text: bool,
                   typed: bool = False) -> Slice:
    """Typed columns (or text), with values pandas cannot hold taken out and reported; as
    :class:`Typed` (names trimmed) with ``typed``, else a pandas frame."""
    unreadable: dict[str, tuple[np.ndarray, str, np.ndarray]] = {}
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        if pa.types.is_timestamp(col.type) and col.type.unit in _NS_LIMIT:
            limit = _NS_LIMIT[col.type.unit]
            ticks = pc.cast(col, pa.int64())
            outside = pc.fill_null(pc.or_(pc.greater(ticks, limit), pc.less(ticks, -limit)), False)
            bad = outside.to_numpy(zero_copy_only=False)
            if bad.any():
                if as_text:  # written as found, for the row rules to reject
                    table = table.set_column(i, name, pc.cast(col, pa.string()))
                    continue
                unreadable[name] = (bad, f"timestamp in {name} outside the years 1678-2261", _as_text(col))
                col = pc.if_else(outside, pa.scalar(None, col.type), col)
            if not as_text:
                col = pc.cast(col, pa.timestamp("ns", col.type.tz))
                table = table.set_column(i, name, col)
        elif pa.types.is_floating(col.type) and (as_text or name in numeric):
            finite = pc.fill_null(pc.is_finite(col), True)
            if not pc.all(finite).as_py():
                if as_text:  # nan and inf stay visible as text (not empty) for the row rules
                    table = table.set_column(i, name, pc.cast(col, pa.string()))
                    continue
                unreadable[name] = (~finite.to_numpy(zero_copy_only=False), f"{name} is not a finite number",
                                    _as_text(col))
                table = table.set_column(i, name, pc.if_else(finite, col, pa.scalar(None, col.type)))
    if typed:
        return Slice(Typed(table.rename_columns([n.strip() for n in table.column_names]), rows), [], unreadable)
    frame = table.to_pandas(types_mapper=_text_types)
    if as_text:
        frame = frame.astype(TEXT)
    frame.index = pd.Index(rows, name="row")
    return Slice(frame, [], unreadable)
