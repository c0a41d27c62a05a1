"""Column mappings (SPEC §6): unit cases by hand, and the worked examples against their sources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def make(tmp_path: Path, toml: str, files: dict[str, str]) -> kt.Dataset:
    (tmp_path / "dataset.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return kt.load(tmp_path)


def test_dayfirst_dates_date_plus_time_seconds_and_hms_offsets(tmp_path: Path) -> None:
    ds = make(tmp_path, """
timezone = "Europe/Berlin"
[tables.tickets]
file = "calls.csv"
dayfirst = true
constants = { channel = "phone" }
[tables.tickets.columns]
ticket_id = "Id"
[tables.tickets.durations]
handle_seconds = "Talk"
[tables.tickets.values]
abandoned = { column = "Answered", map = { Y = false, N = true } }
[tables.tickets.timestamps]
created_at = { date = "Day", time = "Clock" }
first_response_at = { base = "created_at", seconds = "Wait" }
resolved_at = { base = "first_response_at", duration = "Talk", when = { column = "Done", equals = "Y" } }
""", {"calls.csv": "Id,Day,Clock,Answered,Wait,Talk,Done\n"
                   "A,03/11/2026,09:00:00,Y,30,00:02:00,Y\n"     # 3 November (day first)
                   "B,04/11/2026,10:00:00,N,,,N\n"
                   "C,04/11/2026,10:00:00,Y,15,01:00:00,N\n"})
    t = ds.tickets.set_index("ticket_id")
    assert t.loc["A", "created_at"].isoformat() == "2026-11-03T09:00:00+01:00"
    assert t.loc["A", "first_response_at"].isoformat() == "2026-11-03T09:00:30+01:00"
    assert t.loc["A", "resolved_at"].isoformat() == "2026-11-03T09:02:30+01:00"   # + 2 min talk
    assert t["abandoned"].tolist() == [False, True, False]
    assert t["channel"].tolist() == ["phone"] * 3
    assert t["handle_seconds"].tolist()[0] == 120.0 and pd.isna(t["handle_seconds"].tolist()[1])
    assert t["resolved_at"].isna().tolist() == [False, True, True]                   # Done = N: unresolved
    assert pd.isna(t.loc["B", "first_response_at"])
    assert "Done" not in t.columns and ds.rejects.empty


def test_unmapped_value_is_rejected_naming_the_canonical_column(tmp_path: Path) -> None:
    ds = make(tmp_path, """
[tables.tickets.columns]
ticket_id = "Id"
channel = "Kind"
[tables.tickets.values]
abandoned = { column = "Answered", map = { Y = false, N = true } }
[tables.tickets.timestamps]
created_at = { column = "When", format = "%d.%m.%Y %H:%M" }
""", {"tickets.csv": "Id,Kind,Answered,When\nA,chat,Y,01.10.2026 10:00\nB,chat,?,01.10.2026 10:00\nC,chat,N,1 Oct 2026\n"})
    assert ds.tickets["ticket_id"].tolist() == ["A"]
    rejects = ds.rejects.set_index("row")
    assert rejects.loc[3, "column"] == "abandoned" and rejects.loc[3, "value"] == "?"
    assert rejects.loc[4, "column"] == "created_at" and rejects.loc[4, "value"] == "1 Oct 2026"


def test_months_back_from_as_of_clips_to_month_end_and_group_by_takes_first_order(tmp_path: Path) -> None:
    ds = make(tmp_path, """
as_of = "2026-03-31T12:00:00"
[tables.tickets]
absent = true
[tables.customers]
file = "orders.csv"
group_by = "customer_id"
[tables.customers.columns]
customer_id = "User"
[tables.customers.timestamps]
signup_at = { column = "Ordered", agg = "min" }
[tables.activity]
file = "orders.csv"
constants = { event = "order" }
[tables.activity.columns]
customer_id = "User"
[tables.activity.timestamps]
ts = "Ordered"
""", {"orders.csv": "User,Ordered\nu2,2026-02-03\nu1,2026-01-05\nu2,2026-01-20\n"})
    c = ds.customers.set_index("customer_id")["signup_at"].dt.strftime("%Y-%m-%d")
    assert c.to_dict() == {"u2": "2026-01-20", "u1": "2026-01-05"}
    assert ds.tickets is None and len(ds.activity) == 3
    counts = ds.counts.set_index("table")
    assert counts.loc["customers", "rows_in"] == 2 and counts.loc["activity", "rows_in"] == 3

    from kpitools.mappings import _shift_months

    start = pd.Series(pd.to_datetime(["2026-03-31 12:00", "2026-03-31 12:00"]))
    shifted = _shift_months(start, pd.Series([-1.0, -13.0]))
    assert shifted.dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2026-02-28 12:00", "2025-02-28 12:00"]


def test_call_center_example_matches_its_source() -> None:
    ds = kt.load(EXAMPLES / "call_center")
    source = pd.read_csv(EXAMPLES / "call_center" / "call_center.csv")
    assert len(ds.tickets) == len(source) == 5000
    assert int(ds.tickets["abandoned"].sum()) == 946 == int((source["Answered (Y/N)"] == "N").sum())
    assert len(ds.surveys) == 4054 == int(source["Satisfaction rating"].notna().sum())
    assert ds.rejects.empty
    surveys = ds.counts.set_index("table").loc["surveys"]                 # unrated calls: not survey rows
    assert surveys["note"] == "946 source rows left out by skip_empty (not rows of this table)"
    # speed of answer survives the mapping: mean of the source column, in seconds
    frt = (ds.tickets["first_response_at"] - ds.tickets["created_at"]).dt.total_seconds()
    assert frt.mean() == pytest.approx(source["Speed of answer in seconds"].mean())
    assert ds.surveys["score"].mean() == pytest.approx(source["Satisfaction rating"].mean())
    assert ds.tickets["resolved_at"].notna().sum() == int((source["Resolved"] == "Y").sum())


def test_relay_foods_example_matches_its_source() -> None:
    ds = kt.load(EXAMPLES / "relay_foods")
    source = pd.read_csv(EXAMPLES / "relay_foods" / "relay_foods.csv", parse_dates=["OrderDate"])
    assert len(ds.customers) == source["UserId"].nunique() == 757
    assert len(ds.activity) == len(source) == 2891
    first = source.groupby("UserId")["OrderDate"].min()
    signup = ds.customers.set_index("customer_id")["signup_at"].dt.tz_localize(None)
    assert (signup.sort_index().to_numpy() == first.rename(index=str).sort_index().to_numpy()).all()
    assert ds.rejects.empty


def test_telco_example_matches_its_source() -> None:
    ds = kt.load(EXAMPLES / "telco_churn")
    source = pd.read_csv(EXAMPLES / "telco_churn" / "pwc_churn_with_tickets.csv")
    c = ds.customers
    assert len(c) == len(source) == 7043 and ds.rejects.empty
    assert c["churned_at"].notna().sum() == int((source["Churn"] == "Yes").sum()) == 1869
    # tenure 72 months before 2020-01-01 is 2014-01-01
    months = (2020 - c["signup_at"].dt.year) * 12 + (1 - c["signup_at"].dt.month)
    assert (months.to_numpy() == source["tenure"].to_numpy()).all()
    assert set(c["segment"]) == {"Month-to-month", "One year", "Two year"}


@pytest.mark.parametrize("name", ["call_center", "relay_foods", "telco_churn"])
def test_every_example_accounts_for_every_row(name: str) -> None:
    counts = kt.load(EXAMPLES / name).counts
    assert (counts.rows_in == counts.rows_kept + counts.rows_rejected).all()
    assert counts.rows_rejected.sum() == 0
