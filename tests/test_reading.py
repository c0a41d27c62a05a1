"""Known answers for reading table files (issue 11): files read to their end or a message naming
the line, messy CSV (index columns, newlines in quotes, delimiters, encodings, decimal commas),
.xlsx and gzip'd CSV, unreadable Parquet values, files outside the folder, tables from several files."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kpitools as kt
from kpitools.errors import DatasetError
from kpitools.reading import scan_csv

HEADER = "ticket_id,channel,created_at\n"


def folder_with(tmp_path: Path, files: dict[str, str | bytes], toml: str = 'timezone = "UTC"\n') -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "dataset.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return tmp_path


def tickets(n: int, start: int = 1) -> list[str]:
    return [f"T{i},chat,2026-10-01\n" for i in range(start, start + n)]


def counts(ds: kt.Dataset, table: str = "tickets") -> tuple[int, int, int]:
    row = ds.counts.set_index("table").loc[table]
    return int(row.rows_in), int(row.rows_kept), int(row.rows_rejected)


# --- 1. a file is read to its end, or the load stops naming the line ---------------------------

def test_an_unterminated_quote_stops_the_load_naming_its_line(tmp_path: Path) -> None:
    rows = tickets(200)
    rows[99] = 'T100,"chat,2026-10-01\n'  # line 101: the quote would swallow the other 100 tickets
    folder = folder_with(tmp_path, {"tickets.csv": HEADER + "".join(rows)})
    with pytest.raises(DatasetError, match=r"tickets\.csv, line 101: a quoted field opens here and is never "
                                           r"closed.*to line 201") as info:
        kt.load(folder)
    assert info.value.file.endswith("tickets.csv")


def test_line_numbers_count_physical_lines_and_literal_quotes_take_the_slow_path(tmp_path: Path) -> None:
    # line 2-3: a quoted newline; line 4: a quote inside an unquoted field is taken literally
    # (Arrow and the csv module agree), which the vectorised scan hands to the csv module
    text = HEADER + 'T1,"ch\nat",2026-10-01\nT2,ch"at,2026-10-01\nT3,"chat,2026-10-01\nT4,chat,2026-10-01\n'
    folder = folder_with(tmp_path, {"tickets.csv": text})
    with pytest.raises(DatasetError, match=r"line 5: a quoted field opens here.*to line 6"):
        kt.load(folder)


@pytest.mark.parametrize("text, records", [
    (HEADER + "T1,chat,x\nT2,chat,x", 3),                       # no line end at the end
    (HEADER + "\n\nT1,chat,x\r\n\r\nT2,chat,x\r\n", 3),         # empty lines are no records
    (HEADER + 'T1,"a ""quoted"" word",x\nT2,"two\r\nlines",x\n', 3),
    (HEADER + 'T1,a"b,x\nT2,"c""\nd",x\n', 3),                  # literal quote: the csv module counts
    (HEADER + 'T1,"a"b"c,x\n', 2),                              # after a closing quote the field runs on
])
def test_the_independent_count_of_records(tmp_path: Path, text: str, records: int) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert scan_csv(path, "utf-8", ",", "tickets").count == records


def test_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    # row 2: T1 over two lines; row 3: an empty line (a spreadsheet shows it); row 4: one field
    text = HEADER + 'T1,"multi\nline",2026-10-01\n\nT2\nT3,chat,not a date\n'
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": text}))
    assert ds.rejects[["row", "reason"]].values.tolist() == [
        [5, "unparseable timestamp in created_at (expected YYYY-MM-DD[ HH:MM[:SS]][±HH:MM])"],
        [4, "row has 1 fields, expected 3"]]
    assert counts(ds) == (3, 1, 2)


def test_a_damaged_gzip_stream_is_a_dataset_error(tmp_path: Path) -> None:
    whole = gzip.compress((HEADER + "".join(tickets(50))).encode())
    folder = folder_with(tmp_path, {"tickets.csv.gz": whole[: len(whole) // 2]})
    with pytest.raises(DatasetError, match=r"tickets\.csv\.gz: cannot be read to its end"):
        kt.load(folder)


# --- 2. messy files ------------------------------------------------------------------------------

def test_an_index_column_with_an_empty_header_cell_is_ignored_with_a_note(tmp_path: Path) -> None:
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": ",ticket_id,channel,created_at\n0,T1,chat,2026-10-01\n"
                                                       "1,T2,chat,2026-10-02\n"}))
    assert list(ds.tickets["ticket_id"]) == ["T1", "T2"] and "" not in ds.tickets.columns
    assert "without a name ignored (column 1" in ds.counts.set_index("table").loc["tickets", "note"]


def test_quoted_fields_hold_cr_lf_and_crlf(tmp_path: Path) -> None:
    text = (b"ticket_id,channel,created_at,text\r\n"
            b'T1,chat,2026-10-01,"bare\rCR"\r\nT2,chat,2026-10-01,"bare\nLF"\r\nT3,chat,2026-10-01,"CR\r\nLF"\r\n')
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": text}))
    assert ds.tickets["text"].tolist() == ["bare\rCR", "bare\nLF", "CR\r\nLF"]
    assert counts(ds) == (3, 3, 0)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = (HEADER + "T1,chat,2026-10-01\n").replace(",", delimiter)
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": text + f'T2{delimiter}"a,b"{delimiter}2026-10-01\n'}))
    assert ds.tickets["channel"].tolist() == ["chat", "a,b"]
    assert f"delimiter {delimiter!r} detected" in ds.counts.set_index("table").loc["tickets", "note"]


@pytest.mark.parametrize("encoding, declared", [
    ("latin-1", "latin-1"), ("cp1252", "cp1252"), ("cp1252", "windows-1252"), ("utf-16", "utf-16"),
    ("utf-16", None), ("utf-8-sig", "utf-8-sig"), ("utf-8-sig", None),
])
def test_declared_encodings(tmp_path: Path, encoding: str, declared: str | None) -> None:
    channel = "chät" if encoding == "latin-1" else "chät €"
    toml = 'timezone = "UTC"\n' + (f'[tables.tickets]\nencoding = "{declared}"\n' if declared else "")
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": (HEADER + f"T1,{channel},2026-10-01\n").encode(encoding)}, toml))
    assert ds.tickets["channel"].tolist() == [channel] and list(ds.tickets.columns[:3]) == HEADER.strip().split(",")


def test_a_byte_of_another_encoding_names_its_line_and_the_key_to_declare(tmp_path: Path) -> None:
    text = (HEADER + "".join(tickets(5))).encode() + "T9,chät,2026-10-01\n".encode("cp1252")
    with pytest.raises(DatasetError, match=r'tickets\.csv, line 7: byte 0xE4 is not UTF-8 text.*encoding = "cp1252"'):
        kt.load(folder_with(tmp_path, {"tickets.csv": text}))


def test_decimal_comma_and_thousands_separator(tmp_path: Path) -> None:
    toml = '[tables.tickets]\ndelimiter = ";"\ndecimal = ","\nthousands = "."\n'
    text = ("ticket_id;channel;created_at;handle_seconds;contacts\n"
            "T1;chat;2026-10-01;1.234,5;1\nT2;chat;2026-10-01;12,25;2,0\n"
            "T3;chat;2026-10-01;1.5;1\nT4;chat;2026-10-01;12.34;1\n")
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": text}, toml))
    assert ds.tickets["handle_seconds"].tolist() == [1234.5, 12.25]
    assert ds.tickets["contacts"].tolist() == [1, 2]
    assert ds.rejects[["row", "value", "reason"]].values.tolist() == [
        [4, "1.5", "handle_seconds is not a number"], [5, "12.34", "handle_seconds is not a number"]]


def test_xlsx_with_a_named_sheet_and_spreadsheet_row_numbers(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["not this sheet"])
    sheet = book.create_sheet("Calls")
    sheet.append(["Ticket", "channel", "created_at", "contacts", "abandoned"])
    sheet.append(["T1", "phone", dt.datetime(2026, 10, 1, 9, 30), 1, False])
    sheet.append([])                                                      # row 3: empty
    sheet.append(["T2", "phone", "yesterday", 2.0, True])                  # row 4: unparseable timestamp
    sheet.append(["T3", "phone", dt.date(2026, 10, 2), 1.5, None])         # row 5: contacts not an integer
    book.save(tmp_path / "calls.xlsx")
    toml = '[tables.tickets]\nfile = "calls.xlsx"\nsheet = "Calls"\n[tables.tickets.columns]\nticket_id = "Ticket"\n'
    ds = kt.load(folder_with(tmp_path, {}, toml))
    assert ds.tickets["ticket_id"].tolist() == ["T1"]
    assert ds.tickets["created_at"].iloc[0].isoformat() == "2026-10-01T09:30:00+00:00"
    assert ds.rejects[["file", "row", "column"]].values.tolist() == [["calls.xlsx", 4, "created_at"],
                                                                     ["calls.xlsx", 5, "contacts"]]
    bad = folder_with(tmp_path, {}, toml.replace('"Calls"', '"Anrufe"'))
    with pytest.raises(DatasetError, match=r"no sheet 'Anrufe'; the workbook has 'Notes', 'Calls'"):
        kt.load(bad)


def test_gzipped_csv_is_found_and_read(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"tickets.csv.gz": gzip.compress((HEADER + "".join(tickets(3))).encode())})
    ds = kt.load(folder)
    assert counts(ds) == (3, 3, 0) and ds.files["tickets"].name == "tickets.csv.gz"


def test_layout_keys_that_do_not_fit_the_file_are_errors(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"tickets.csv": HEADER}, '[tables.tickets]\nsheet = "Calls"\n')
    with pytest.raises(DatasetError, match=r"\[tables.tickets\] sheet in dataset.toml do\(es\) not apply to a csv"):
        kt.load(folder)


# --- 3. values Parquet holds that pandas cannot, files outside the folder -----------------------

def test_parquet_nan_inf_and_year_9999_are_rejected_rows(tmp_path: Path) -> None:
    table = pa.table({
        "ticket_id": ["A", "B", "C", "D"], "channel": ["chat"] * 4,
        "created_at": pa.array([dt.datetime(2026, 10, 1), dt.datetime(9999, 12, 31), dt.datetime(2026, 10, 1),
                                dt.datetime(2026, 10, 1)], pa.timestamp("us")),
        "handle_seconds": pa.array([1.5, 2.0, float("inf"), float("nan")]),
    })
    pq.write_table(table, tmp_path / "tickets.parquet")
    ds = kt.load(folder_with(tmp_path, {}))
    assert ds.tickets["ticket_id"].tolist() == ["A"]
    assert ds.rejects[["row", "column", "value", "reason"]].values.tolist() == [
        [3, "created_at", "9999-12-31 00:00:00.000000", "timestamp in created_at outside the years 1678-2261"],
        [4, "handle_seconds", "inf", "handle_seconds is not a finite number"],
        [5, "handle_seconds", "nan", "handle_seconds is not a finite number"]]


def test_text_numbers_beyond_float_are_rejected(tmp_path: Path) -> None:
    ds = kt.load(folder_with(tmp_path, {"tickets.csv": "ticket_id,channel,created_at,handle_seconds\n"
                                                       "T1,chat,2026-10-01,1e999\nT2,chat,2026-10-01,inf\n"
                                                       "T3,chat,2026-10-01,5\n"}))
    assert ds.tickets["ticket_id"].tolist() == ["T3"] and ds.rejects["row"].tolist() == [2, 3]


@pytest.mark.parametrize("with_nulls", [True, False])
def test_typed_parquet_slices_are_what_the_pandas_path_makes_of_them(tmp_path: Path, with_nulls: bool) -> None:
    """A Parquet slice left in Arrow gives the rules the table, dtypes and reject values that its
    pandas frame gives (integers with nulls as float, booleans with nulls as text, NaN as null)."""
    import numpy as np

    from kpitools.reading import read_slices
    from kpitools.rules import raw_arrow, typed_arrow

    n = None if with_nulls else 1
    table = pa.table({
        "ticket_id": ["A", "B", "C", n and "D"], "n8": pa.array([1, 2, n, 4], pa.int8()),
        "u64": pa.array([2**63 + 1, 2, n, 4], pa.uint64()), "flag": [True, False, n and True, True],
        "f32": pa.array([1.5, float("nan"), n, float("inf")], pa.float32()),
        "handle_seconds": [1.5, float("nan"), n, float("inf")], "nothing": pa.nulls(4),
        "created_at": pa.array([dt.datetime(2026, 10, 1), dt.datetime(9999, 1, 1), n and dt.datetime(2026, 1, 1),
                                dt.datetime(1970, 1, 1)], pa.timestamp("us")),
        "aware": pa.array([dt.datetime(2026, 10, 1), None, None, dt.datetime(2020, 1, 1)], pa.timestamp("s", "UTC")),
        " padded ": ["x", "y", "z", "w"],
    })
    pq.write_table(table, tmp_path / "t.parquet")
    args = dict(table="tickets", numeric=frozenset({"handle_seconds"}), chunk_rows=3)
    plain = list(read_slices(tmp_path / "t.parquet", kt.config.Layout(), [], **args))
    typed = list(read_slices(tmp_path / "t.parquet", kt.config.Layout(), [], typed=True, **args))
    for p, t in zip(plain, typed, strict=True):
        p.frame.columns = [c.strip() for c in p.frame.columns]
        assert t.frame.columns == list(p.frame.columns) and t.frame.dtypes == dict(p.frame.dtypes)
        want, got = raw_arrow(p.frame, p.unreadable), typed_arrow(t.frame.table, t.frame.rows, t.unreadable)
        assert want[1:] == got[1:] and want[0].column_names == got[0].column_names
        for name in want[0].column_names:
            w, g = want[0][name], got[0][name]
            assert w.cast(g.type).to_pylist() == g.to_pylist() if pa.types.is_large_string(w.type) else w.equals(g)
        rows = p.frame.index.to_numpy()[::-1][:2]
        pd.testing.assert_frame_equal(t.frame.frame(np.sort(rows)).astype(str), p.frame.loc[np.sort(rows)].astype(str))
        assert {k: (m.tolist(), why, v.tolist()) for k, (m, why, v) in t.unreadable.items()} == \
            {k: (m.tolist(), why, v.tolist()) for k, (m, why, v) in p.unreadable.items()}


def test_duplicate_parquet_column_names_are_a_dataset_error(tmp_path: Path) -> None:
    names = ["ticket_id", "channel", "created_at", "channel"]
    pq.write_table(pa.Table.from_arrays([pa.array(["A"]), pa.array(["c"]), pa.array(["2026-10-01"]),
                                         pa.array(["x"])], names=names), tmp_path / "tickets.parquet")
    with pytest.raises(DatasetError, match=r"tickets\.parquet: duplicate column name\(s\) \['channel'\]"):
        kt.load(folder_with(tmp_path, {}))


def test_a_pandas_index_in_parquet_is_ignored_with_a_note(tmp_path: Path) -> None:
    frame = pd.DataFrame({"ticket_id": ["A"], "channel": ["c"], "created_at": ["2026-10-01"]}, index=pd.Index([7], name="n"))
    frame.to_parquet(tmp_path / "tickets.parquet")
    ds = kt.load(folder_with(tmp_path, {}))
    assert "n" not in ds.tickets.columns and "'n'" in ds.counts.set_index("table").loc["tickets", "note"]


@pytest.mark.parametrize("name", ["tickets.csv", "surveys.csv"])
def test_table_files_linked_to_outside_the_folder_are_refused_without_showing_them(tmp_path: Path, name: str) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("secret-first-line:x:0:0\n")
    folder = folder_with(tmp_path / "d", {"tickets.csv": HEADER + "".join(tickets(1))} if name != "tickets.csv" else {})
    (folder / name).symlink_to(outside)
    with pytest.raises(DatasetError) as info:
        kt.load(folder)
    assert f"{name}: the file of table {name[:-4]} resolves to a place outside the dataset folder" in str(info.value)
    assert "secret-first-line" not in str(info.value)


# --- 4. a table from several files ---------------------------------------------------------------

def test_a_table_from_several_files_with_their_own_constants_and_layout(tmp_path: Path) -> None:
    toml = """
[tables.tickets]
files = [
  { file = "calls.csv", constants = { channel = "phone" } },
  { file = "chats.csv", constants = { channel = "chat" }, delimiter = ";", decimal = "," },
]
"""
    folder = folder_with(tmp_path, {
        "calls.csv": "ticket_id,created_at,handle_seconds\nC1,2026-10-01,60.5\nC2,bad,1\n",
        "chats.csv": "ticket_id;created_at;handle_seconds;bot\nH1;2026-10-02;7,5;yes\nC1;2026-10-02;1;no\n",
    }, toml)
    ds = kt.load(folder)
    assert ds.tickets[["ticket_id", "channel", "handle_seconds"]].values.tolist() == [
        ["C1", "phone", 60.5], ["H1", "chat", 7.5]]
    # the first file fixes the extra columns; another file's extras are named in the note
    assert "chats.csv: column(s) ['bot'] not kept" in ds.counts.set_index("table").loc["tickets", "note"]
    assert ds.rejects[["file", "row", "reason"]].values.tolist() == [
        ["calls.csv", 3, "unparseable timestamp in created_at (expected YYYY-MM-DD[ HH:MM[:SS]][±HH:MM])"],
        ["chats.csv", 3, "duplicate ticket_id (the first row is kept)"]]
    assert counts(ds) == (4, 2, 2)
    assert sorted(p.name for p in ds.files.values()) == ["calls.csv", "chats.csv", "dataset.toml"]
