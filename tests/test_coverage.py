"""coverage (SPEC A15): the first month each table covers, which months a KPI covers, and the
changes and findings that must not compare against a month before the data start."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpitools import coverage
from kpitools.comparisons import changes, findings
from kpitools.comparisons.change import COLUMNS, laney_chart
from kpitools.comparisons.observations import gather
from kpitools.engine.context import Context
from tests.factories import make_dataset, tickets


def chat(created: str, n: int = 1, **columns) -> pd.DataFrame:
    return tickets(n, "chat", created=created, **columns)


# ---------------------------------------------------------------- which months a table covers

def test_a_table_starting_mid_month_covers_that_month():
    ds = make_dataset(tickets=chat("2026-09-17 15:00"), as_of="2026-11-15")
    assert coverage.first_month(ds, "tickets") == "2026-09"
    assert [coverage.table_covers(ds, "tickets", p) for p in ("2026-08", "2026-09", "2026-10", "2026-11")] == [
        False, True, True, True]


def test_a_month_starting_at_or_after_as_of_is_not_covered():
    ds = make_dataset(tickets=chat("2026-09-17"), as_of="2026-11-01 00:00")
    assert coverage.table_covers(ds, "tickets", "2026-10")
    assert not coverage.table_covers(ds, "tickets", "2026-11")  # starts exactly at as_of
    assert not coverage.table_covers(ds, "tickets", "2026-12")


def test_months_are_local_to_the_dataset_timezone():
    t = chat(pd.to_datetime(["2026-03-31T23:30Z"]).tolist())
    berlin = make_dataset(tickets=t, timezone="Europe/Berlin", as_of="2026-06-01")
    assert coverage.first_month(berlin, "tickets") == "2026-04"  # 01:30 on 1 April in Berlin
    assert not coverage.table_covers(berlin, "tickets", "2026-03")
    assert coverage.first_month(make_dataset(tickets=t, as_of="2026-06-01"), "tickets") == "2026-03"


def test_each_table_is_dated_by_its_first_date_column():
    dated = {t: c.name for t, c in coverage.DATED.items()}
    assert dated.items() >= {"tickets": "created_at", "surveys": "responded_at", "customers": "signup_at",
                             "activity": "ts", "sessions": "started_at", "costs": "period"}.items()
    assert "targets" not in dated


def test_costs_are_dated_by_their_period():
    costs = pd.DataFrame({"period": ["2026-10", "2026-08"], "channel": "chat", "cost": [10.0, 20.0]})
    ds = make_dataset(tickets=chat("2026-07-01"), costs=costs, as_of="2026-11-01")
    assert coverage.first_month(ds, "costs") == "2026-08"
    assert not coverage.covers(ds, "cpi", "2026-07") and coverage.covers(ds, "cpi", "2026-08")


def test_targets_never_limit_coverage_and_absent_tables_cover_nothing():
    targets = pd.DataFrame({"kpi": ["frt_h"], "target": [4.0]})
    ds = make_dataset(tickets=chat("2026-09-17"), targets=targets, as_of="2026-11-01")
    assert coverage.first_month(ds, "targets") is None
    assert coverage.table_covers(ds, "targets", "2020-01") and not coverage.table_covers(ds, "targets", "2026-11")
    assert [coverage.covers(ds, "sla_frt_pct", p) for p in ("2026-08", "2026-09")] == [False, True]
    assert coverage.first_month(ds, "surveys") is None and not coverage.covers(ds, "csat_pct", "2026-10")


# ---------------------------------------------------------------- which months a KPI covers

def test_a_kpi_needing_two_tables_covers_a_month_only_when_both_do():
    customers = pd.DataFrame({"customer_id": ["c1"], "signup_at": ["2026-10-02"]})
    ds = make_dataset(tickets=chat("2026-08-20"), customers=customers, as_of="2026-11-15")
    assert coverage.tables_of("tickets_per_customer") == ["tickets", "customers"]
    assert coverage.covers(ds, "tickets", "2026-09")
    assert not coverage.covers(ds, "tickets_per_customer", "2026-09")
    assert coverage.covers(ds, "tickets_per_customer", "2026-10")
    assert coverage.uncovered(ds, "tickets_per_customer", ["2026-08", "2026-09", "2026-10"]) == [
        "2026-08", "2026-09"]


def test_the_reason_names_the_month_in_english():
    assert coverage.no_data("2025-09") == "no data for September 2025"


# ---------------------------------------------------------------- data starting in the period

@pytest.fixture(scope="module")
def first_month_only():
    """Tickets only in October 2026: chat abandons 5 of 100, phone 30 of 100."""
    t = pd.concat([tickets(100, "chat", created="2026-10-05", abandoned=[True] * 5 + [False] * 95),
                   tickets(100, "phone", created="2026-10-06", abandoned=[True] * 30 + [False] * 70)])
    return make_dataset(tickets=t, as_of="2026-11-01")


def test_changes_in_the_first_month_say_no_data(first_month_only):
    res = changes(first_month_only, "2026-10", "abandonment_pct")
    assert list(res.columns) == COLUMNS and len(res) == 6  # chat, phone, all × mom, yoy
    reasons = dict(zip(res["kind"], res["reason"]))
    assert reasons == {"mom": "no data for September 2026", "yoy": "no data for October 2025"}
    assert res["verdict"].eq("not enough data").all() and res["n_before"].isna().all()
    assert res[["value_before", "diff", "diff_low", "diff_high", "p", "p_adj"]].isna().all().all()
    assert res.loc[res["channel"] == "all", "value"].tolist() == [17.5, 17.5]  # October itself is covered
    assert res["improved"].isna().all() and res["signal"].isna().all()


def test_findings_in_the_first_month_state_no_change(first_month_only):
    res = findings(first_month_only, "2026-10")
    assert "change" not in set(res["kind"]) and res["compare_to"].isna().all()
    assert not res["statement"].str.contains("September 2026|October 2025").any()
    assert res.iloc[0]["statement"].startswith("chat abandonment 5% ")  # the difference is still stated


def test_changes_before_the_data_start_say_no_data_for_the_period():
    ds = make_dataset(tickets=chat("2026-10-05", 40, abandoned=False), as_of="2026-11-01")
    res = changes(ds, "2026-09", "abandonment_pct")
    assert set(res["reason"]) == {"no data for September 2026"} and res["n"].isna().all()


def test_laney_leaves_uncovered_months_out():
    months = ["2026-07", "2026-08", "2026-09", "2026-10"]
    t = pd.concat([chat(f"{m}-10", 40, abandoned=[True] * 4 + [False] * 36).assign(
        ticket_id=lambda d, m=m: m + d["ticket_id"]) for m in months])
    ds = make_dataset(tickets=t, as_of="2026-11-01")
    obs = gather(Context(ds, months), "abandonment_pct")
    assert laney_chart(obs, "2026-10", history=3)["period"].tolist() == months
    chart = laney_chart(obs, "2026-10", history=3, uncovered=["2026-07"])
    assert chart["period"].tolist() == months[1:] and chart["n"].tolist() == [40.0] * 3
    assert math.isclose(chart["centre"].iloc[0], 0.1)
