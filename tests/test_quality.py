"""kpitools.quality: load accounting, spam rows, sign-up spikes, missing tables (known answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpitools as kt
from kpitools import quality
from tests.factories import make_dataset


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def loaded(tmp_path):
    """Six ticket rows: two unparseable created_at, one duplicate id, one negative handle time."""
    _write(tmp_path, "dataset.toml", 'timezone = "UTC"\nas_of = "2026-11-01T00:00:00"\n')
    _write(tmp_path, "tickets.csv",
           "ticket_id,channel,created_at,handle_seconds\n"
           "t1,chat,2026-10-01 10:00,60\n"
           "t2,chat,yesterday,60\n"
           "t3,chat,10/01/2026,60\n"
           "t1,chat,2026-10-02 10:00,60\n"
           "t4,email,2026-10-03 10:00,-5\n"
           "t5,email,2026-10-04 10:00,\n")
    return kt.load(tmp_path)


def test_load_summary_counts_every_row_and_names_top_reasons(loaded):
    summary = quality.load_summary(loaded, top=2).set_index("table")
    row = summary.loc["tickets"]
    # 6 rows in: t1, t5 kept ... plus none else: 2 bad timestamps, 1 duplicate, 1 negative -> 4 rejected
    assert (row["rows_in"], row["rows_kept"], row["rows_rejected"]) == (6, 2, 4)
    assert row["rows_in"] == row["rows_kept"] + row["rows_rejected"]
    assert row["rejected_pct"] == pytest.approx(100 * 4 / 6)
    reasons = quality.reject_reasons(loaded)
    top = reasons.loc[0]
    assert top["rows"] == 2 and "unparseable timestamp" in top["reason"]  # the most frequent first
    assert row["top_reasons"].startswith(f"{top['reason']} (2); ")
    assert row["top_reasons"].count(";") == 1  # top=2 names two reasons out of three
    assert reasons["rows"].sum() == 4


def test_load_summary_has_no_rejected_values(loaded):
    # the reasons describe the rule, never the offending value (which may be personal data)
    text = " ".join(quality.load_summary(loaded)["top_reasons"])
    assert "yesterday" not in text and "10/01/2026" not in text


def _spam_world():
    customers = {"customer_id": ["c1", "c2", "c3"], "signup_at": ["2026-09-01"] * 3,
                 "is_spam": [True, False, False]}
    tickets = {"ticket_id": ["t1", "t2", "t3", "t4"], "channel": "email",
               "created_at": "2026-10-01 10:00", "customer_id": ["c1", "c1", "c2", None]}
    # r1: by the spam customer; r2: about a spam ticket, no customer; r3, r4: clean; r5: unknown ticket
    surveys = {"response_id": ["r1", "r2", "r3", "r4", "r5"], "survey": "csat", "score": 5,
               "responded_at": "2026-10-02", "ticket_id": [None, "t2", "t3", "t4", "t9"],
               "customer_id": ["c1", None, "c2", None, None]}
    activity = {"customer_id": ["c1", "c1", "c1", "c2", "c9"], "ts": "2026-10-03"}
    sessions = {"session_id": ["s1", "s2", "s3"], "started_at": "2026-10-03", "customer_id": ["c1", None, "c3"]}
    return make_dataset(tickets=tickets, surveys=surveys, customers=customers, activity=activity,
                        sessions=sessions)


def test_spam_summary_counts_every_table():
    ds = _spam_world()
    summary = quality.spam_summary(ds).set_index("table")
    # customers: c1; tickets: t1, t2; surveys: r1 (customer) + r2 (its ticket); activity: 3 of c1;
    # sessions: s1
    assert summary["spam_rows"].to_dict() == {"customers": 1, "tickets": 2, "surveys": 2, "activity": 3,
                                              "sessions": 1}
    assert summary["rows_kept"].to_dict() == {"customers": 3, "tickets": 4, "surveys": 5, "activity": 5,
                                              "sessions": 3}
    assert summary.loc["activity", "spam_pct"] == pytest.approx(60.0)
    assert quality.spam_mask(ds, "surveys").tolist() == [True, True, False, False, False]


def test_spam_mask_matches_what_the_engine_leaves_out():
    ds = _spam_world()
    kp = kt.kpis(ds, "2026-10")
    tickets = kp[(kp.kpi == "tickets") & (kp.channel == "all")]["value"].item()
    assert tickets == (~quality.spam_mask(ds, "tickets")).sum() == 2
    csat_n = kp[(kp.kpi == "csat_pct") & (kp.channel == "all")]["n"].item()
    assert csat_n == (~quality.spam_mask(ds, "surveys")).sum() == 3


def test_spam_summary_without_customers_has_no_spam():
    ds = make_dataset(tickets={"ticket_id": ["t1"], "channel": "chat", "created_at": "2026-10-01"})
    assert quality.spam_summary(ds).to_dict("list") == {"table": ["tickets"], "rows_kept": [1], "spam_rows": [0],
                                                        "spam_pct": [0.0]}


def test_robust_z_known_answer():
    # median 10.5, |x - median| = 0.5 1.5 0.5 1.5 0.5 89.5 -> MAD 1.0; z = 0.6745 (x - 10.5)
    z = quality.robust_z(np.array([10, 12, 11, 9, 10, 100]))
    assert z == pytest.approx(0.6745 * (np.array([10, 12, 11, 9, 10, 100]) - 10.5))


def test_robust_z_floor_and_degenerate_scale():
    assert quality.robust_z(np.array([3, 3, 3, 7]), min_mad=1.0).tolist() == pytest.approx([0, 0, 0, 0.6745 * 4])
    z = quality.robust_z(np.array([3, 3, 3, 7, 1]))
    assert z.tolist() == [0.0, 0.0, 0.0, np.inf, -np.inf]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 500), min_size=3, max_size=40), st.floats(0.5, 20), st.floats(-100, 100))
def test_robust_z_ignores_location_and_scale(values, scale, shift):
    x = np.array(values, dtype=float)
    if np.median(np.abs(x - np.median(x))) == 0:
        return  # the unscaled rule needs a spread
    assert quality.robust_z(x * scale + shift) == pytest.approx(quality.robust_z(x), abs=1e-9)


def _signup_world(extra_day_counts):
    """Two weeks of 4 to 6 sign-ups a day, plus the given {day: (normal, spam)} sign-ups."""
    days, spam = [], []
    base = pd.date_range("2026-06-01", "2026-06-14", freq="D")
    for i, day in enumerate(base):
        n = 4 + i % 3
        days += [day + pd.Timedelta(hours=9)] * n
        spam += [False] * n
    for day, (normal, junk) in extra_day_counts.items():
        days += [pd.Timestamp(day)] * (normal + junk)
        spam += [False] * normal + [True] * junk
    customers = {"customer_id": [f"c{i}" for i in range(len(days))], "signup_at": [str(d) for d in days],
                 "is_spam": spam}
    tickets = {"ticket_id": ["t1"], "channel": "email", "created_at": "2026-06-01"}
    return make_dataset(tickets=tickets, customers=customers, timezone="Europe/Berlin", as_of="2026-07-01")


def test_signup_spike_is_flagged_with_its_spam_count():
    ds = _signup_world({"2026-06-10 03:00": (0, 60), "2026-06-20 12:00": (1, 0)})
    days = quality.daily_signups(ds)
    # 2026-06-01 .. 2026-06-20: every day listed, the empty ones 15..19 with 0
    assert len(days) == 20 and days.loc[days.date == "2026-06-17", "signups"].item() == 0
    spikes = quality.signup_spikes(ds)
    assert spikes["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-06-10"]
    assert spikes[["weekday", "signups", "spam_signups"]].values.tolist() == [["Wednesday", 64, 60]]
    # 20 days: five 0s, one 1, four 4s, five 5s, four 6s and 64 -> median 4.5, MAD 1.5,
    # z(64) = 0.6745 * 59.5 / 1.5 = 26.8; the busiest ordinary day (6) scores 0.67
    assert spikes["robust_z"].item() == pytest.approx(0.6745 * 59.5 / 1.5)


def test_signups_use_local_days_and_ignore_after_as_of():
    # 00:30 on 06-10 in Berlin is 22:30 UTC on 06-09: it counts on the local day 06-10;
    # a sign-up after as_of is not counted (and does not stretch the days)
    ds = _signup_world({"2026-06-10 00:30": (1, 0), "2026-08-01 10:00": (50, 0)})
    days = quality.daily_signups(ds).set_index("date")
    assert days.loc["2026-06-10", "signups"] == 4 + 1 and days.loc["2026-06-09", "signups"] == 6
    assert days.index.max() == pd.Timestamp("2026-06-14")
    assert quality.signup_spikes(ds).empty


def test_small_bursts_are_not_spikes_thanks_to_the_mad_floor():
    # mostly-zero days: the raw MAD is 0, so without the floor one day with 2 sign-ups would be a "spike"
    ds = make_dataset(tickets={"ticket_id": ["t1"], "channel": "chat", "created_at": "2026-10-01"},
                      customers={"customer_id": ["a", "b", "c"],
                                 "signup_at": ["2026-10-01", "2026-10-09", "2026-10-09"]})
    assert quality.signup_spikes(ds).empty


def test_missing_tables_lists_what_the_engine_omits():
    ds = make_dataset(tickets={"ticket_id": ["t1"], "channel": "chat", "created_at": "2026-10-01 10:00",
                               "resolved_at": "2026-10-01 11:00"},
                      surveys={"response_id": ["r1"], "survey": "csat", "score": 5, "responded_at": "2026-10-02",
                               "ticket_id": ["t1"]})
    table = quality.missing_tables(ds).set_index("table")
    assert table["present"].to_dict() == {"tickets": True, "surveys": True, "customers": False, "activity": False,
                                          "sessions": False, "costs": False, "targets": False,
                                          "messages": False, "status_changes": False}
    assert table.loc["tickets", "disabled"] == "" and table.loc["tickets", "rows"] == 1
    assert table.loc["costs", "disabled"] == "cpi"
    disabled = {k for text in table["disabled"] if text for k in text.split(", ")}
    df = kt.kpis(ds, "2026-10")
    computed, omitted = set(df["kpi"]), df.attrs["omitted"]
    assert disabled.isdisjoint(computed)
    # every KPI of the catalogue is computed, disabled by a missing table, or omitted for a missing
    # column or setting (SPEC A13: no abandoned, contacts or reopened column here)
    assert set(kt.catalog()["id"]) - computed - disabled == {k for k, why in omitted.items() if "table" not in why}
    assert {"abandonment_pct", "fcr_pct", "reopen_pct", "aht_min", "frt_median_h"} <= set(omitted)
