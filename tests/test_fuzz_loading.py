"""Property: any bytes as tickets.csv either load with every record accounted for (rows in =
kept + rejected = the records Python's csv module finds) or stop with a DatasetError — never
another exception, never a shortened table (issue 11)."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpitools as kt
from kpitools.errors import DatasetError

HEADER = b"ticket_id,channel,created_at,handle_seconds\r\n"
# pieces that stress the quoting and line rules, plus plausible values and bytes that are not UTF-8
PIECES = [b'"', b'""', b",", b";", b"\t", b"|", b"\r", b"\n", b"\r\n", b" ", b"T1", b"T2", b"chat",
          b"2026-10-01", b"2026-10-01 10:00", b"12.5", b"-1", b"inf", b"\xe4", b"\xff\xfe", b"\xc3\xa4", b"\x00"]


def records(data: bytes) -> int:
    """The data records of a UTF-8 CSV as Python's csv module counts them (empty lines are none)."""
    text = data.decode("utf-8")
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row) - 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=60), st.booleans())
def test_random_csv_bytes_load_accounted_for_or_raise_a_dataset_error(pieces: list[bytes], header: bool) -> None:
    data = (HEADER if header else b"") + b"".join(pieces)
    folder = Path(tempfile.mkdtemp(prefix="kt-fuzz-"))
    try:
        (folder / "dataset.toml").write_text('timezone = "UTC"\nas_of = "2026-11-01T00:00:00"\n')
        (folder / "tickets.csv").write_bytes(data)
        try:
            ds = kt.load(folder)
        except DatasetError:
            return
        row = ds.counts.set_index("table").loc["tickets"]
        assert row.rows_in == row.rows_kept + row.rows_rejected == records(data)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
