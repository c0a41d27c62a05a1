"""Known-answer tests for kpitools.load: row rules (SPEC A3), file-level errors, time zones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kpitools as kt
from kpitools.errors import ConfigError, DatasetError

TICKET_HEADER = "ticket_id,channel,created_at,first_response_at,resolved_at,abandoned,contacts,reopened,handle_seconds"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "dataset.toml", 'timezone = "Europe/Berlin"\n')
    return tmp_path


def test_each_row_rule_rejects_with_its_reason_and_row(folder: Path) -> None:
    write(folder, "tickets.csv", "\n".join([
        TICKET_HEADER,
        "T1,chat,2026-10-01 10:00,2026-10-01 10:05,2026-10-01 11:00,no,1,0,300",   # row 2 kept
        "T2,chat,2026-10-01 10:00,2026-10-01 09:05,,n,1,0,",                       # row 3 response before creation
        "T3,email,2026-13-01,,,,,,",                                               # row 4 unparseable timestamp
        "T1,email,2026-10-02,,,,,,",                                               # row 5 duplicate of row 2
        "T4,phone,2026-10-02,,,maybe,,,",                                          # row 6 bad boolean
        "T5,phone,2026-10-02,,,,0,,",                                              # row 7 contacts < 1
        "T6,phone,2026-10-02,,,,1.0,,-5",                                          # row 8 negative duration
        "T7,phone,2026-10-02,2026-10-02,2026-10-01,,,2.5,",                        # row 9 reopened not an int
        ",phone,2026-10-02,,,,,,",                                                 # row 10 empty required id
        "T8,phone,2026-10-02 08:00,2026-10-02 08:00,2026-10-02 08:00,Y,1.0,0,",    # row 11 kept (equal is fine)
        "T9,phone",                                                                # row 12 wrong field count
    ]) + "\n")
    ds = kt.load(folder)
    assert ds.tickets["ticket_id"].tolist() == ["T1", "T8"]
    got = ds.rejects[["row", "column", "reason"]].astype({"row": "int64"}).values.tolist()
    assert got == [
        [3, "first_response_at", "first_response_at before created_at"],
        [4, "created_at", "unparseable timestamp in created_at (expected YYYY-MM-DD[ HH:MM[:SS]][±HH:MM])"],
        [5, "ticket_id", "duplicate ticket_id (the first row is kept)"],
        [6, "abandoned", "bad boolean in abandoned (expected true/false, yes/no, y/n, 1/0)"],
        [7, "contacts", "contacts is not an integer >= 1"],
        [8, "handle_seconds", "negative duration in handle_seconds"],
        [9, "reopened", "reopened is not an integer >= 0"],        # column rule wins over resolved < created
        [10, "ticket_id", "empty required column ticket_id"],
        [12, None, "row has 2 fields, expected 9"],
    ]
    assert ds.rejects.loc[0, "value"] == "2026-10-01 09:05"
    assert set(ds.rejects["file"]) == {"tickets.csv"}
    counts = ds.counts.set_index("table").loc["tickets"]
    assert (counts.rows_in, counts.rows_kept, counts.rows_rejected) == (11, 2, 9)
    # empty contacts = 1, empty reopened = 0, empty boolean = false; 1.0 is an integer
    assert ds.tickets["contacts"].tolist() == [1, 1]
    assert ds.tickets["abandoned"].tolist() == [False, True]


def test_duplicates_are_judged_among_rows_that_pass_every_other_rule(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at\nT1,chat,not a date\nT1,chat,2026-10-01\n")
    ds = kt.load(folder)
    assert ds.tickets["ticket_id"].tolist() == ["T1"]
    assert ds.rejects["reason"].str.startswith("unparseable").tolist() == [True]


def test_survey_rules_and_scales(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at\nT1,chat,2026-10-01\n")
    write(folder, "surveys.csv", "\n".join([
        "response_id,survey,score,responded_at",
        "S1,CSAT,5,2026-10-02",        # kept: survey type in any case
        "S2,csat,6,2026-10-02",        # score above 1-5
        "S3,foo,1,2026-10-02",         # unknown survey type
        "S4,nps,0,2026-10-02",         # kept: 0 is on the 0-10 scale
        "S5,ces,4.5,2026-10-02",       # not an integer
        "S6,ces,7.0,2026-09-01",       # kept: 7.0 is an integer; before its ticket is fine
    ]) + "\n")
    ds = kt.load(folder)
    assert ds.surveys["response_id"].tolist() == ["S1", "S4", "S6"]
    assert ds.surveys["survey"].tolist() == ["csat", "nps", "ces"]
    assert ds.surveys["score"].tolist() == [5, 0, 7]
    assert ds.rejects["row"].tolist() == [3, 4, 6]
    assert ds.rejects["column"].tolist() == ["score", "survey", "score"]


def test_custom_scale_from_dataset_toml(folder: Path) -> None:
    write(folder, "dataset.toml", "[scales]\ncsat = [1, 10]\n")
    write(folder, "tickets.csv", "ticket_id,channel,created_at\nT1,chat,2026-10-01\n")
    write(folder, "surveys.csv", "response_id,survey,score,responded_at\nS1,csat,9,2026-10-02\nS2,csat,11,2026-10-02\n")
    assert kt.load(folder).surveys["response_id"].tolist() == ["S1"]


def test_costs_and_targets_rules(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at\nT1,chat,2026-10-01\nT2,email,2026-10-01\n")
    write(folder, "costs.csv", "\n".join([
        "period,channel,cost",
        "2026-10,chat,100",          # kept
        "2026-13,chat,100",          # period not YYYY-MM
        "2026-10,fax,100",           # unknown channel
        "2026-10,email,-1",          # negative cost
        "2026-10,chat,200",          # duplicate (period, channel)
    ]) + "\n")
    write(folder, "targets.csv", "\n".join([
        "kpi,target,channel",
        "csat_pct,80,",              # kept: every channel
        "frt_h,4,email",             # kept: SLA threshold
        "happiness,1,",              # unknown kpi
        "nps,abc,",                  # target not a number
        "csat_pct,85,",              # duplicate (kpi, channel)
        "nps,30,fax",                # unknown channel
    ]) + "\n")
    ds = kt.load(folder)
    assert ds.costs[["period", "channel", "cost"]].values.tolist() == [["2026-10", "chat", 100.0]]
    assert ds.targets[["kpi", "target"]].values.tolist() == [["csat_pct", 80.0], ["frt_h", 4.0]]
    reasons = ds.rejects.set_index(["table", "row"])["reason"]
    assert reasons[("costs", 3)] == "period is not YYYY-MM"
    assert reasons[("costs", 4)] == "unknown channel (no kept ticket uses it)"
    assert reasons[("costs", 5)] == "negative cost in cost"
    assert reasons[("costs", 6)].startswith("duplicate period + channel")
    assert reasons[("targets", 4)] == "unknown kpi (expected a KPI id or frt_h)"
    assert reasons[("targets", 5)] == "target is not a number"
    assert reasons[("targets", 6)].startswith("duplicate kpi + channel")
    assert reasons[("targets", 7)] == "unknown channel (no kept ticket uses it)"


def test_customers_churn_before_signup_and_counts_add_up(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at\nT1,chat,2026-10-01\n")
    write(folder, "customers.csv", "customer_id,signup_at,churned_at,is_spam\nC1,2026-01-01,2025-12-31,\nC2,2026-01-01,2026-01-01,yes\n")
    ds = kt.load(folder)
    assert ds.customers["customer_id"].tolist() == ["C2"] and ds.customers["is_spam"].tolist() == [True]
    assert ds.rejects["reason"].tolist() == ["churned_at before signup_at"]
    assert (ds.counts.rows_in == ds.counts.rows_kept + ds.counts.rows_rejected).all()


def test_naive_times_in_a_dst_zone_offsets_and_local_days(folder: Path) -> None:
    write(folder, "tickets.csv", "\n".join([
        "ticket_id,channel,created_at",
        "T1,chat,2026-03-29 02:30",            # spring-forward gap: offset before the change → 03:30 CEST
        "T2,chat,2026-10-25 02:30",            # repeated hour: standard time (+01:00)
        "T3,chat,2026-10-31T23:30:00Z",        # an offset: absolute, 00:30 local on 1 November
        "T4,chat,2026-10-31",                  # a date alone is local midnight
        "T5,chat,2026-10-31 23:59:59.250+01:00",
    ]) + "\n")
    t = kt.load(folder).tickets.set_index("ticket_id")["created_at"]
    assert str(t.dt.tz) == "Europe/Berlin"
    assert t["T1"].isoformat() == "2026-03-29T03:30:00+02:00"
    assert t["T2"].isoformat() == "2026-10-25T02:30:00+01:00"
    assert t["T3"].isoformat() == "2026-11-01T00:30:00+01:00"
    assert t["T4"].isoformat() == "2026-10-31T00:00:00+01:00"
    assert t["T5"].isoformat() == "2026-10-31T23:59:59.250000+01:00"
    # the local day of T3 is 1 November even though its UTC day is 31 October
    assert t.dt.date.astype(str).tolist() == ["2026-03-29", "2026-10-25", "2026-11-01", "2026-10-31", "2026-10-31"]


def test_as_of_defaults_to_latest_kept_timestamp_and_honours_the_config(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at,resolved_at\nT1,chat,2026-10-01,2026-10-05 12:00\nT2,chat,bad,\n")
    assert kt.load(folder).as_of.isoformat() == "2026-10-05T12:00:00+02:00"
    write(folder, "dataset.toml", 'timezone = "Europe/Berlin"\nas_of = "2026-10-03T00:00:00Z"\n')
    assert kt.load(folder).as_of.isoformat() == "2026-10-03T02:00:00+02:00"


def test_parquet_naive_is_local_aware_is_absolute_and_parquet_wins(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at\nCSV,chat,2026-10-01\n")
    naive = pd.Series(pd.to_datetime(["2026-10-01 10:00"]))
    aware = pd.Series(pd.to_datetime(["2026-10-01 10:00"]).tz_localize("UTC"))
    table = pa.table({"ticket_id": ["P1"], "channel": ["chat"], "created_at": naive, "resolved_at": aware,
                      "contacts": pa.array([2], pa.int64()), "abandoned": [False]})
    pq.write_table(table, folder / "tickets.parquet")
    t = kt.load(folder).tickets
    assert t["ticket_id"].tolist() == ["P1"]
    assert t["created_at"][0].isoformat() == "2026-10-01T10:00:00+02:00"
    assert t["resolved_at"][0].isoformat() == "2026-10-01T12:00:00+02:00"
    assert t["contacts"].tolist() == [2]


def test_extra_columns_are_kept_as_text(folder: Path) -> None:
    write(folder, "tickets.csv", "ticket_id,channel,created_at,region\nT1,chat,2026-10-01, north \n")
    t = kt.load(folder).tickets
    assert t["region"].tolist() == ["north"]


def test_utf8_bom_is_accepted(folder: Path) -> None:
    write(folder, "tickets.csv", "\ufeffticket_id,channel,created_at\nT1,chät,2026-10-01\n".encode("utf-8"))
    assert kt.load(folder).tickets["channel"].tolist() == ["chät"]


# --- file-level problems: our exception, a message naming file and column -------------------

@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, ["no tickets table", "tickets.csv"]),
        ({"tickets.csv": "ticket_id,created_at\nT1,2026-10-01\n"},
         ["tickets.csv", "missing required column 'channel'", "required: ticket_id, channel, created_at"]),
        ({"tickets.csv": ""}, ["tickets.csv", "the file is empty", "header"]),
        ({"tickets.csv": "ticket_id,channel,created_at\nT1,ch\xe4t,2026-10-01\n".encode("latin-1")},
         ["tickets.csv", "UTF-8"]),
        ({"tickets.csv": "ticket_id;channel;created_at\nT1;chat;2026-10-01\n".encode("cp1252"),
          "dataset.toml": '[tables.tickets]\nencoding = "klingon"\n'}, ["dataset.toml", "encoding", "cp1252"]),
        ({"tickets.csv": "ticket_id,channel,channel,created_at\n"}, ["tickets.csv", "duplicate column", "channel"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n", "surveys.csv": "response_id,survey,score\n"},
         ["surveys.csv", "missing required column 'responded_at'"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n", "dataset.toml": "timezone = \n"},
         ["dataset.toml", "malformed TOML"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n", "dataset.toml": 'timezone = "Mars/Olympus"\n'},
         ["dataset.toml", "Mars/Olympus", "IANA"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n", "dataset.toml": '[tables.tickets]\nfile = "../secret.csv"\n'},
         ["dataset.toml", "../secret.csv", "outside the dataset folder"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n", "dataset.toml": '[tables.invoices]\nfile = "x.csv"\n'},
         ["dataset.toml", "invoices", "unknown table"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n", "dataset.toml": '[tables.tickets]\nfile = "calls.csv"\n'},
         ["calls.csv", "file not found"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n",
          "dataset.toml": '[tables.tickets.columns]\nticket_id = "Call Id"\n'},
         ["tickets.csv", "'Call Id'", "does not have"]),
        ({"tickets.csv": "ticket_id,channel,created_at\n",
          "dataset.toml": '[business_hours.weekly]\nmon = ["9-17"]\n'},
         ["dataset.toml", "business_hours.weekly", "09:00-17:00"]),
        ({"tickets.parquet": b"not parquet at all"}, ["tickets.parquet", "cannot be read as Parquet"]),
    ],
)
def test_file_level_problems_stop_the_load_with_one_clear_message(tmp_path: Path, files: dict, expected: list[str]) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(DatasetError) as info:
        kt.load(tmp_path)
    for part in expected:
        assert part in str(info.value)


def test_missing_folder_and_config_error_type(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such dataset folder"):
        kt.load(tmp_path / "nope")
    write(tmp_path, "tickets.csv", "ticket_id,channel,created_at\n")
    write(tmp_path, "dataset.toml", "as_of = 'yesterday'\n")
    with pytest.raises(ConfigError, match="as_of 'yesterday'"):
        kt.load(tmp_path)


def test_cli_validate_prints_counts_and_errors_without_traceback(folder: Path, capsys) -> None:
    from kpitools.cli import main

    write(folder, "tickets.csv", "ticket_id,channel,created_at\nT1,chat,2026-10-01\nT1,chat,2026-10-01\n")
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "total: 2 rows in = 1 kept + 1 rejected" in out
    assert "duplicate ticket_id" in out
    assert main(["validate", str(folder / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("kpitools: error:") and "Traceback" not in err  # after the progress line
