"""kpitools.flags: data sanity flags (SPEC A16), each with a known answer and a case that must not fire.

Datasets are written as files and loaded, so the flags see what the loader provides (which
optional columns a file has, spreadsheet row numbers: the header is row 1).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools import snapshot
from kpitools.dataset import Dataset
from kpitools.flags import COLUMNS, sanity_flags

ROOT = Path(__file__).resolve().parent.parent


def load(folder: Path, toml: str = 'timezone = "UTC"\n', **tables: str) -> Dataset:
    """Write ``dataset.toml`` and one CSV per keyword (table=text) into ``folder`` and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.toml").write_text(toml, encoding="utf-8")
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return kt.load(folder)


def flag(ds: Dataset, name: str) -> pd.DataFrame:
    """The rows of one flag, indexed by column."""
    f = ds.flags
    return f.loc[f["flag"] == name].set_index("column")


TICKETS = "ticket_id,channel,created_at,first_response_at,resolved_at\n"


# ---------------------------------------------------------------- resolved_before_response
def test_resolved_before_response(tmp_path):
    ds = load(tmp_path, tickets=TICKETS
              + "t1,chat,2026-10-01 09:00,2026-10-01 10:00,2026-10-01 09:30\n"   # row 2: resolved first
              + "t2,chat,2026-10-01 09:00,2026-10-01 10:00,2026-10-01 10:00\n"   # equal: fine
              + "t3,chat,2026-10-01 09:00,,2026-10-01 11:00\n"                   # never answered: fine
              + "t4,chat,2026-10-01 09:00,2026-10-01 12:00,2026-10-01 11:59\n")  # row 5
    got = flag(ds, "resolved_before_response")
    assert got.index.tolist() == ["resolved_at"]
    assert (got.loc["resolved_at", "rows"], got.loc["resolved_at", "example_rows"]) == (2, "2, 5")
    assert got.loc["resolved_at", "table"] == "tickets"


def test_resolved_after_response_is_not_flagged(tmp_path):
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2026-10-01 09:00,2026-10-01 10:00,2026-10-01 10:00\n"
              "t2,chat,2026-10-01 09:00,2026-10-01 10:00,2026-10-02 10:00\n")
    assert flag(ds, "resolved_before_response").empty


# ---------------------------------------------------------------- implausible_duration
def test_implausible_duration_one_row_per_column(tmp_path):
    ds = load(tmp_path, tickets=TICKETS
              + "t1,chat,2025-01-01 09:00,2026-02-05 09:00,2026-02-05 09:00\n"   # 400 days: both columns
              + "t2,chat,2025-01-01 09:00,2025-01-01 10:00,2026-01-01 09:00:01\n"  # resolved 365 d + 1 s
              + "t3,chat,2025-01-01 09:00,2025-01-01 10:00,2026-01-01 09:00\n")   # exactly 365 days: fine
    got = flag(ds, "implausible_duration")
    assert got["rows"].to_dict() == {"first_response_at": 1, "resolved_at": 2}
    assert got["example_rows"].to_dict() == {"first_response_at": "2", "resolved_at": "2, 3"}
    assert "365 days" in got.loc["resolved_at", "note"]


def test_durations_up_to_a_year_are_not_flagged(tmp_path):
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2025-01-01 09:00,2025-06-01 10:00,2026-01-01 09:00\n")
    assert flag(ds, "implausible_duration").empty


# ---------------------------------------------------------------- date_only
def test_date_only_uses_local_midnights_of_the_dataset_timezone(tmp_path):
    # 22:00Z on 1 October is midnight in Berlin (summer time), 23:00Z on 1 November too (winter time)
    ds = load(tmp_path, 'timezone = "Europe/Berlin"\n', tickets=TICKETS
              + "t1,chat,2026-10-01,2026-10-01 09:00,\n"
              + "t2,chat,2026-10-01T22:00:00Z,2026-10-03 09:00,\n"
              + "t3,chat,2026-11-01T23:00:00Z,2026-11-03 09:00,\n"
              + "t4,chat,2026-10-25,,\n")  # the day summer time ends
    got = flag(ds, "date_only")
    assert got.index.tolist() == ["created_at"]  # first_response_at has times; resolved_at is empty
    assert (got.loc["created_at", "rows"], got.loc["created_at", "example_rows"]) == (4, "2, 3, 4")


def test_a_utc_midnight_is_not_a_local_midnight(tmp_path):
    ds = load(tmp_path, 'timezone = "Europe/Berlin"\n', tickets=TICKETS
              + "t1,chat,2026-10-01,,\n" + "t2,chat,2026-10-02T00:00:00Z,,\n")
    assert flag(ds, "date_only").empty


# ---------------------------------------------------------------- after_as_of
def test_after_as_of_in_each_tables_first_date(tmp_path):
    ds = load(tmp_path, 'timezone = "UTC"\nas_of = "2026-10-10T12:00:00"\n',
              tickets=TICKETS + "t1,chat,2026-10-01 09:00,2026-10-11 09:00,\n"  # only its response is later
              + "t2,chat,2026-10-10 12:00,,\n"                                 # exactly at as_of: fine
              + "t3,chat,2026-10-10 12:00:01,,\n",
              surveys="response_id,survey,score,responded_at\nr1,csat,5,2026-10-12 08:00\nr2,csat,4,2026-10-09\n")
    got = ds.flags.loc[lambda f: f["flag"] == "after_as_of"]
    assert got[["table", "column", "rows", "example_rows"]].values.tolist() == [
        ["tickets", "created_at", 1, "4"], ["surveys", "responded_at", 1, "2"]]
    assert "2026-10-10 12:00" in got["note"].iloc[0]


def test_nothing_after_the_default_as_of(tmp_path):
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2026-10-01 09:00,2026-10-11 09:00,\n")
    assert flag(ds, "after_as_of").empty


# ---------------------------------------------------------------- no_overlap
def test_no_overlap_names_both_tables(tmp_path):
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2025-01-10 09:00,,\nt2,chat,2025-03-10 09:00,,\n",
              surveys="response_id,survey,score,responded_at\nr1,csat,5,2026-04-01\nr2,csat,5,2026-04-02\n"
                      "r3,csat,5,2026-04-03\n")
    got = ds.flags.loc[lambda f: f["flag"] == "no_overlap"]
    assert got[["table", "column", "rows", "example_rows"]].values.tolist() == [
        ["tickets+surveys", "created_at+responded_at", 5, ""]]
    assert got["note"].iloc[0].startswith("tickets 2025-01 to 2025-03 and surveys 2026-04 share no month")


def test_overlap_is_judged_on_local_months(tmp_path):
    # 23:30Z on 28 February is 1 March in Berlin: the month the tickets have
    ds = load(tmp_path, 'timezone = "Europe/Berlin"\n',
              tickets=TICKETS + "t1,chat,2026-03-10 09:00,,\n",
              surveys="response_id,survey,score,responded_at\nr1,csat,5,2026-02-28T23:30:00Z\n")
    assert flag(ds, "no_overlap").empty


def test_customers_cover_every_month_after_their_first_signup(tmp_path):
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2026-03-10 09:00,,\n",
              customers="customer_id,signup_at\nc1,2024-01-05 10:00\nc2,2024-02-05 10:00\n")
    assert flag(ds, "no_overlap").empty


# ---------------------------------------------------------------- constant
def test_constant_optional_columns(tmp_path):
    ds = load(tmp_path, tickets="ticket_id,channel,created_at,abandoned,topic,priority\n"
              "t1,chat,2026-10-01 09:00,no,,high\n"
              "t2,chat,2026-10-01 10:00,n,,low\n"
              "t3,chat,2026-10-01 11:00,,,high\n")  # an empty boolean is false too
    got = flag(ds, "constant")
    assert got.index.tolist() == ["abandoned", "topic"]  # priority varies; channel is required
    assert got["rows"].tolist() == [3, 3] and got["example_rows"].tolist() == ["2, 3, 4"] * 2


def test_missing_columns_and_single_rows_are_not_constant(tmp_path):
    # contacts, reopened, abandoned, ... are absent: stored as their defaults, but not provided
    ds = load(tmp_path, tickets="ticket_id,channel,created_at,topic\nt1,chat,2026-10-01 09:00,billing\n"
              "t2,chat,2026-10-02 09:00,login\n")
    assert flag(ds, "constant").empty
    one = load(tmp_path / "one", tickets="ticket_id,channel,created_at,topic\nt1,chat,2026-10-01 09:00,billing\n")
    assert flag(one, "constant").empty


# ---------------------------------------------------------------- signup_spike
def _customers(days: list[str]) -> str:
    return "customer_id,signup_at\n" + "".join(f"c{i},{d} 10:00\n" for i, d in enumerate(days))


def test_signup_spike_counts_the_signups_of_spike_days(tmp_path):
    days = ["2026-10-01"] * 2 + ["2026-10-02"] * 3 + ["2026-10-03"] * 2 + ["2026-10-05"] * 2 + ["2026-10-06"] * 20
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2026-10-01 09:00,,\n", customers=_customers(days))
    got = flag(ds, "signup_spike")
    assert (got.loc["signup_at", "rows"], got.loc["signup_at", "example_rows"]) == (20, "11, 12, 13")
    assert "2026-10-06" in got.loc["signup_at", "note"]


def test_steady_signups_have_no_spike(tmp_path):
    days = [f"2026-10-{d:02d}" for d in range(1, 11) for _ in range(3)]
    ds = load(tmp_path, tickets=TICKETS + "t1,chat,2026-10-01 09:00,,\n", customers=_customers(days))
    assert flag(ds, "signup_spike").empty


# ---------------------------------------------------------------- the frame
def test_frame_columns_and_order(tmp_path):
    ds = load(tmp_path, 'timezone = "UTC"\nas_of = "2026-10-05"\n',
              tickets=TICKETS + "t1,chat,2026-10-01,2026-10-01,2026-10-01\nt2,chat,2026-10-09,,\n",
              surveys="response_id,survey,score,responded_at,channel\nr1,csat,5,2026-10-02 10:00,chat\n"
                      "r2,csat,4,2026-10-02 11:00,chat\n")
    f = ds.flags
    assert f.columns.tolist() == COLUMNS and f["rows"].dtype == "int64"
    assert f[["table", "column", "flag"]].values.tolist() == [
        ["tickets", "created_at", "after_as_of"], ["tickets", "created_at", "date_only"],
        ["tickets", "first_response_at", "date_only"], ["tickets", "resolved_at", "date_only"],
        ["surveys", "channel", "constant"]]
    assert ds.flags is f  # cached


def test_sample_dataset_flags_only_its_planted_signup_spike():
    ds = kt.load(ROOT / "data" / "sample")
    expected = pd.DataFrame({
        "table": ["customers"], "column": ["signup_at"], "flag": ["signup_spike"], "rows": [330],
        "example_rows": ["17749, 17750, 17751"],
        "note": ["sign-ups spike on 1 day (2026-06-14; robust z > 3.5): check for spam or an import before "
                 "trusting customer KPIs"]})
    pd.testing.assert_frame_equal(ds.flags, expected)
    pd.testing.assert_frame_equal(sanity_flags(ds), expected)  # deterministic


def test_flags_of_a_read_only_snapshot(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    ds = load(folder, 'timezone = "Europe/Berlin"\n',
              tickets=TICKETS + "t1,chat,2026-10-01,2026-10-02,2026-10-01\nt2,chat,2026-10-02,,\n")
    monkeypatch.setenv(snapshot.ENV, str(snapshot.save(ds, tmp_path / "snap")))
    again = kt.load(folder)
    assert again.store.con.execute("SELECT current_setting('access_mode')").fetchone()[0] == "read_only"
    assert set(again.flags["flag"]) == {"date_only", "resolved_before_response"}
    pd.testing.assert_frame_equal(again.flags, ds.flags)


@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # ibis 12's create_table, DuckDB 1.5
def test_flags_read_the_store_only_through_its_ibis_tables(tmp_path, monkeypatch):
    """Any store's backend will do (a warehouse's tables): the flags run no SQL text of their own
    and read rows only through ``store.table``, here served by another database."""
    import ibis

    from tests.test_engine_portable import sql_in

    assert not sql_in(ROOT / "kpitools" / "flags.py")
    ds = load(tmp_path, 'timezone = "Europe/Berlin"\nas_of = "2026-10-05"\n',
              tickets=TICKETS + "t1,chat,2026-10-01,2026-10-02,2026-10-01\nt2,chat,2026-10-09,,\n",
              customers=_customers(["2026-10-01"] * 2 + ["2026-10-02"] * 2 + ["2026-10-03"] * 20))
    expected = ds.flags
    assert set(expected["flag"]) == {"after_as_of", "date_only", "resolved_before_response", "signup_spike"}
    other = ibis.duckdb.connect()
    copies = {name: other.create_table(name, ds.store.table(name).to_pyarrow()) for name in ds.tables}
    monkeypatch.setattr(ds.store, "table", copies.__getitem__)
    pd.testing.assert_frame_equal(sanity_flags(ds), expected)


# ---------------------------------------------------------------- kpitools validate
@pytest.mark.parametrize("rows, expected", [
    ("t1,chat,2026-10-01 09:00,2026-10-01 10:00,2026-10-01 09:30\nt2,chat,2026-10-01 09:00,,\n",
     "  tickets.resolved_at: resolved_before_response, 1 rows — resolved before the first response"),
    ("t1,chat,2026-10-01 09:00,2026-10-01 10:00,2026-10-01 10:30\nt2,chat,2026-10-01 09:00,,\n",
     "no sanity flags"),
])
def test_cli_validate_prints_the_flags(tmp_path, capsys, rows, expected):
    from kpitools.cli import main

    load(tmp_path, tickets=TICKETS + rows)
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.index("total:") < out.index(expected)
