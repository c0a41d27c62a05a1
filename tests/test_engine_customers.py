"""Known answers for the customer, retention, engagement, session and cost KPIs (SPEC §4, A10, A11)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

import kpitools as kt
from kpitools.config import BusinessHours
from tests.factories import make_dataset, pick, tickets

Z = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    centre = (k + Z * Z / 2) / (n + Z * Z)
    half = Z * math.sqrt(k * (n - k) / n + Z * Z / 4) / (n + Z * Z)
    return 100 * (centre - half), 100 * (centre + half)


def test_crr_churn_and_tickets_per_customer():
    # k1 active throughout; k2 churns in October (S only); k3 acquired and lost in October
    # (neither); k4 and k6 acquired in October (E and N); k5 churns after the period (S and E).
    # S = {k1, k2, k5} = 3, E = {k1, k4, k5, k6} = 4, E - N = 2 -> CRR 2/3, churn 1/3
    customers = pd.DataFrame({
        "customer_id": ["k1", "k2", "k3", "k4", "k5", "k6"],
        "signup_at": ["2026-01-01", "2026-02-01", "2026-10-05", "2026-10-10", "2026-03-01", "2026-10-31 23:00"],
        "churned_at": [None, "2026-10-15", "2026-10-20", None, "2026-11-05", None]})
    t = pd.concat([tickets(2, "chat"), tickets(1, "email", abandoned=True)])
    df = kt.retention(make_dataset(tickets=t, customers=customers, as_of="2026-11-20"), "2026-10")
    crr, churn = pick(df, "crr_pct"), pick(df, "churn_pct")
    assert (crr.value, crr.n) == (pytest.approx(200 / 3), 3)
    assert (crr.ci_low, crr.ci_high) == pytest.approx(wilson(2, 3))
    assert (churn.value, churn.n) == (pytest.approx(100 / 3), 3)
    assert (churn.ci_low, churn.ci_high) == pytest.approx((100 - crr.ci_high, 100 - crr.ci_low))
    # tickets per customer: (S + E) / 2 = 3.5; chat 2 / 3.5, email 1 / 3.5 (abandoned counts), all 3 / 3.5
    tpc = pick(df, "tickets_per_customer")
    assert (tpc.value, tpc.n) == (pytest.approx(3 / 3.5), 3.5)
    assert pick(df, "tickets_per_customer", "email").value == pytest.approx(1 / 3.5)
    assert kt.engine.kpis_to_csv(df).count(",3.5,") == 3


def test_signup_exactly_at_t_end_is_in_e_and_n():
    # as_of inside November -> t_end = as_of; k2 signs up exactly then: E = 2, N = 1, S = 1
    customers = {"customer_id": ["k1", "k2"], "signup_at": ["2026-01-01", "2026-11-20 12:00"], "churned_at": None}
    ds = make_dataset(tickets=tickets(1, created="2026-11-02"), customers=customers, as_of="2026-11-20 12:00")
    df = kt.retention(ds, "2026-11")
    assert (pick(df, "crr_pct").value, pick(df, "crr_pct").n) == (100.0, 1)
    assert pick(df, "tickets_per_customer").n == 1.5


def test_day_n_retention_with_as_of():
    # as_of 10-20 12:00.  u1 signs up 10-01: day 1 = 10-02 active, day 7 = 10-08 inactive
    # (activity on 10-03 is day 2), day 30 after as_of.  u2 signs up 10-12 23:00: active on day 1
    # (10-13) and day 7 (10-19).  u3 signs up 10-19: day 1 = as_of's day (counts) but its activity
    # at 13:00 is after as_of.  u4 signs up 10-20 06:00: day 1 after as_of, left out.
    # d1 = 2 / 3, d7 = 1 / 2 (u1, u2), d30 empty (n = 0)
    customers = {"customer_id": ["u1", "u2", "u3", "u4"],
                 "signup_at": ["2026-10-01 10:00", "2026-10-12 23:00", "2026-10-19 08:00", "2026-10-20 06:00"]}
    activity = {"customer_id": ["u1", "u1", "u2", "u2", "u3"],
                "ts": ["2026-10-02 23:59", "2026-10-03 09:00", "2026-10-13 00:30", "2026-10-19 10:00",
                       "2026-10-20 13:00"]}
    ds = make_dataset(tickets=tickets(1), customers=customers, activity=activity, as_of="2026-10-20 12:00")
    df = kt.retention(ds, "2026-10")
    assert (pick(df, "d1_pct").value, pick(df, "d1_pct").n) == (pytest.approx(200 / 3), 3)
    assert (pick(df, "d7_pct").value, pick(df, "d7_pct").n) == (50.0, 2)
    assert pick(df, "d30_pct").n == 0 and math.isnan(pick(df, "d30_pct").value)


def test_activation_within_168_hours():
    # u1 activates exactly 168 h after signup (in); u2 one minute later (out); u3's week is not
    # over at as_of (left out) -> 1 / 2
    customers = {"customer_id": ["u1", "u2", "u3"],
                 "signup_at": ["2026-10-01 10:00", "2026-10-05 10:00", "2026-10-15 10:00"]}
    activity = {"customer_id": ["u1", "u2", "u3"], "event": ["activated", "activated", "activated"],
                "ts": ["2026-10-08 10:00", "2026-10-12 10:01", "2026-10-16 10:00"]}
    ds = make_dataset(tickets=tickets(1), customers=customers, activity=activity, as_of="2026-10-20 12:00",
                      activation_event="activated")
    row = pick(kt.retention(ds, "2026-10"), "activation_pct")
    assert (row.value, row.n) == (50.0, 2)
    no_event = make_dataset(tickets=tickets(1), customers=customers, activity=activity, as_of="2026-10-20 12:00")
    assert "activation_pct" in kt.retention(no_event, "2026-10").attrs["omitted"]


def test_mau_dau_wau_on_a_dst_month_in_berlin():
    # Europe/Berlin, October 2026 (DST ends 10-25), 31 days, as_of in November.
    # a: local days 10-01 (00:30 local = 09-30 UTC) and 10-25 (02:30, the repeated hour);
    # b: 09-28, 10-02 and 10-26 (00:30 local = 10-25 UTC); c: only 11-01 00:30 (10-31 UTC).
    # MAU = {a, b} = 2; DAU sum = 4 customer-days -> 4/31.
    # WAU by day: 10-01 {a, b(09-28)} 2; 10-02..07 2 each = 12; 10-08 {b} 1; 10-09..24 0;
    # 10-25 {a} 1; 10-26..31 {a, b} 2 each = 12 -> 28 -> 28/31.  Stickiness = (4/31)/2.
    activity = {"customer_id": ["a", "a", "b", "b", "b", "c"],
                "ts": ["2026-10-01 00:30", "2026-10-25 02:30", "2026-09-28 12:00", "2026-10-02 12:00",
                       "2026-10-26 00:30", "2026-11-01 00:30"]}
    ds = make_dataset(tickets=tickets(1), activity=activity, timezone="Europe/Berlin", as_of="2026-11-10")
    df = kt.engagement(ds, "2026-10")
    assert (pick(df, "mau").value, pick(df, "mau").n) == (2, 2)
    assert (pick(df, "dau_mean").value, pick(df, "dau_mean").n) == (4 / 31, 31)
    assert (pick(df, "wau_mean").value, pick(df, "wau_mean").n) == (28 / 31, 31)
    assert (pick(df, "stickiness_pct").value, pick(df, "stickiness_pct").n) == (pytest.approx(100 * 4 / 31 / 2), 2)


def test_partial_period_days_run_to_as_of():
    # as_of 10-03 08:00: the days are 10-01..10-03 (3, the partial day included)
    activity = {"customer_id": ["a", "a"], "ts": ["2026-10-01 12:00", "2026-10-03 07:00"]}
    df = kt.engagement(make_dataset(tickets=tickets(1, created="2026-10-01"), activity=activity,
                                    as_of="2026-10-03 08:00"), "2026-10")
    assert (pick(df, "dau_mean").value, pick(df, "dau_mean").n) == (2 / 3, 3)
    assert pick(df, "wau_mean").value == 1.0


def sessions_dataset(**kwargs) -> object:
    # Mon 10-05 10:00 sessions s1 (x) and s2 (y) viewed help; x files a ticket exactly 72 h later
    # (followed), y one minute after the window (deflected); s3 anonymous; s4 (z) on Sunday 10-18
    # is within 72 h of as_of (left out); s5 did not view help.
    sessions = pd.DataFrame({
        "session_id": ["s1", "s2", "s3", "s4", "s5"],
        "started_at": ["2026-10-05 10:00", "2026-10-05 10:00", "2026-10-10 10:00", "2026-10-18 10:00",
                       "2026-10-06 20:00"],
        "customer_id": ["x", "y", None, "z", "x"],
        "converted": [True, False, False, False, False],
        "self_service": [True, True, True, True, False],
        "chat_available": [True, True, False, False, True]})
    t = pd.DataFrame({"ticket_id": ["t1", "t2"], "channel": ["email", "chat"], "customer_id": ["x", "y"],
                      "created_at": ["2026-10-08 10:00", "2026-10-08 10:01"]})
    return make_dataset(tickets=t, sessions=sessions, as_of="2026-10-20 00:00", **kwargs)


def test_sessions_conversion_presence_self_service_coverage():
    hours = BusinessHours(weekly={d: ((540, 1020),) for d in range(5)}, closed_dates=(dt.date(2026, 10, 6),))
    df = kt.kpis(sessions_dataset(business_hours=hours), "2026-10")
    assert (pick(df, "conversion_pct").value, pick(df, "conversion_pct").n) == (20.0, 5)
    assert (pick(df, "presence_pct").value, pick(df, "presence_pct").n) == (60.0, 5)
    assert (pick(df, "self_service_pct").value, pick(df, "self_service_pct").n) == (50.0, 2)
    # coverage: s1, s2 inside (Mon 10:00); s3 Saturday, s4 Sunday, s5 Tue 20:00 outside -> 2/5
    assert (pick(df, "coverage_pct").value, pick(df, "coverage_pct").n) == (40.0, 5)
    assert set(df.loc[df["kpi"].isin(["conversion_pct", "coverage_pct"]), "channel"]) == {"all"}


def test_cpi_per_channel_and_all():
    # chat: 3 non-abandoned (+1 abandoned) for 90 -> 30; email: 2 for 50 -> 25; phone: no cost row
    # -> empty; all: 140 / 6
    t = pd.concat([tickets(4, "chat", abandoned=[False, False, False, True]), tickets(2, "email"),
                   tickets(1, "phone")])
    costs = {"period": ["2026-10", "2026-10", "2026-09"], "channel": ["chat", "email", "chat"],
             "cost": [90.0, 50.0, 1000.0]}
    df = kt.channels(make_dataset(tickets=t, costs=costs, as_of="2026-11-01"), "2026-10")
    assert (pick(df, "cpi", "chat").value, pick(df, "cpi", "chat").n) == (30.0, 3)
    assert pick(df, "cpi", "email").value == 25.0
    assert math.isnan(pick(df, "cpi", "phone").value) and pick(df, "cpi", "phone").n == 1
    assert (pick(df, "cpi").value, pick(df, "cpi").n) == (140 / 6, 6)


def test_spam_customers_leave_every_kpi():
    customers = {"customer_id": ["ok", "spam"], "signup_at": ["2026-01-01", "2026-01-01"],
                 "is_spam": [False, True], "churned_at": None}
    t = tickets(3, customer_id=["ok", "spam", None])
    activity = {"customer_id": ["ok", "spam", "ghost"], "ts": ["2026-10-02"] * 3}
    sessions = {"session_id": ["s1", "s2"], "started_at": ["2026-10-02"] * 2, "customer_id": ["spam", None],
                "converted": [True, False]}
    df = kt.kpis(make_dataset(tickets=t, customers=customers, activity=activity, sessions=sessions,
                              as_of="2026-11-01"), "2026-10")
    assert pick(df, "tickets").value == 2  # the anonymous ticket is kept
    assert pick(df, "crr_pct").n == 1
    assert pick(df, "mau").value == 2  # ok + ghost (not in customers, kept)
    assert (pick(df, "conversion_pct").value, pick(df, "conversion_pct").n) == (0.0, 1)


def test_cohort_table_observable_cells():
    # as_of 2026-11-10: Sep cohort {p, q}; Oct cohort {r}.  p active Sep, Oct, Nov; q active Oct.
    # cells: Sep+0 1/2, Sep+1 2/2, Sep+2 (November, not over) empty; Oct+0 0/1, Oct+1 empty
    customers = {"customer_id": ["p", "q", "r"], "signup_at": ["2026-09-01", "2026-09-15", "2026-10-20"]}
    activity = {"customer_id": ["p", "p", "q", "p"],
                "ts": ["2026-09-02", "2026-10-02", "2026-10-31 23:00", "2026-11-05"]}
    ds = make_dataset(tickets=tickets(1), customers=customers, activity=activity, as_of="2026-11-10")
    table = kt.cohort_table(ds)
    assert table["cohort"].tolist() == ["2026-09"] * 3 + ["2026-10"] * 2
    assert table["months_since_signup"].tolist() == [0, 1, 2, 0, 1]
    assert table["customers"].tolist() == [2, 2, 2, 1, 1]
    assert table["pct"].tolist()[:2] == [50.0, 100.0] and table["pct"].tolist()[3] == 0.0
    assert table["pct"].isna().tolist() == [False, False, True, False, True]
    assert table["active"].isna().tolist() == [False, False, True, False, True]


def test_day_30_is_the_calendar_day_in_the_dataset_timezone():
    # Berlin: u1 signs up 10-01 10:00 and is active 10-31 23:30 local (day 30; 22:30 UTC);
    # u2 signs up 10-02 and is active 11-02 00:30 local (day 31, though 11-01 in UTC) -> 1 / 2
    customers = {"customer_id": ["u1", "u2"], "signup_at": ["2026-10-01 10:00", "2026-10-02 10:00"]}
    activity = {"customer_id": ["u1", "u2"], "ts": ["2026-10-31 23:30", "2026-11-02 00:30"]}
    ds = make_dataset(tickets=tickets(1), customers=customers, activity=activity, timezone="Europe/Berlin",
                      as_of="2026-12-01")
    row = pick(kt.retention(ds, "2026-10"), "d30_pct")
    assert (row.value, row.n) == (50.0, 2)
    assert (row.ci_low, row.ci_high) == pytest.approx(wilson(1, 2))


def test_unknown_churn_and_session_columns_are_omitted_not_zero():
    # SPEC A13: without churned_at churn is unknown, not zero; likewise sessions without their flags
    customers = {"customer_id": ["a", "b"], "signup_at": ["2026-01-01", "2026-01-01"]}
    sessions = {"session_id": ["s1", "s2"], "started_at": ["2026-10-02"] * 2}
    df = kt.kpis(make_dataset(tickets=tickets(1), customers=customers, sessions=sessions, as_of="2026-11-01"),
                 "2026-10")
    omitted = df.attrs["omitted"]
    assert omitted["crr_pct"] == omitted["churn_pct"] == "no churned_at column in customers"
    assert omitted["conversion_pct"] == "no converted column in sessions"
    assert omitted["presence_pct"] == "no chat_available column in sessions"
    assert omitted["self_service_pct"] == "no customer_id column in sessions"
    assert not {"crr_pct", "churn_pct", "conversion_pct", "presence_pct"} & set(df["kpi"])
    assert pick(df, "tickets_per_customer").n == 2  # needs no churn date: S = E = 2 active customers
