"""Known answers for the speed and operations KPIs (SPEC §3, §4, A7–A9)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import kpitools as kt
from kpitools.config import BusinessHours
from tests.factories import make_dataset, pick, tickets

Z = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval in %, written out independently of kpitools.stats."""
    centre = (k + Z * Z / 2) / (n + Z * Z)
    half = Z * math.sqrt(k * (n - k) / n + Z * Z / 4) / (n + Z * Z)
    return 100 * (centre - half), 100 * (centre + half)


def resolved_after(hours: list[float | None], start: str = "2026-10-05 10:00") -> list[str | None]:
    base = pd.Timestamp(start)
    return [None if h is None else str(base + pd.Timedelta(hours=h)) for h in hours]


def test_km_median_midpoint_rule_without_censoring():
    # four resolved tickets after 1, 2, 3, 4 h: S(2) = 0.5 on the flat stretch [2, 3) -> R takes
    # the midpoint 2.5 (the ordinary median); Brookmeyer–Crowley: [1, not reached]
    ds = make_dataset(tickets=tickets(4, resolved_at=resolved_after([1, 2, 3, 4])), as_of="2026-11-01")
    df = kt.speed(ds, "2026-10")
    med = pick(df, "ttr_median_h", "chat")
    assert (med.value, med.n, med.ci_low) == (2.5, 4, 1.0)
    assert math.isnan(med.ci_high)
    assert pick(df, "ttr_mean_h").value == 2.5


def test_open_tickets_change_the_km_median_but_not_the_mean():
    # add two tickets still open at as_of (censored after ~27 days): S(1)=5/6, S(2)=4/6,
    # S(3)=3/6 = 0.5 flat until the next event at 4 -> median (3 + 4) / 2 = 3.5 over n = 6;
    # ttr_mean_h stays the mean of the resolved ones, 2.5 over n = 4
    ds = make_dataset(tickets=tickets(6, resolved_at=resolved_after([1, 2, 3, 4, None, None])),
                      as_of="2026-11-01")
    df = kt.speed(ds, "2026-10")
    assert (pick(df, "ttr_median_h").value, pick(df, "ttr_median_h").n) == (3.5, 6)
    assert (pick(df, "ttr_mean_h").value, pick(df, "ttr_mean_h").n) == (2.5, 4)
    assert pick(df, "open_pct").value == pytest.approx(100 * 2 / 6)


def test_median_not_reached_is_empty():
    # one of four resolved: S stays at 0.75 -> median and upper limit not reached (empty)
    ds = make_dataset(tickets=tickets(4, resolved_at=resolved_after([1, None, None, None])),
                      as_of="2026-11-01")
    med = pick(kt.speed(ds, "2026-10"), "ttr_median_h")
    assert med.n == 4 and math.isnan(med.value) and math.isnan(med.ci_high)
    text = kt.engine.kpis_to_csv(kt.kpis(ds, "2026-10"))
    assert "2026-10,all,ttr_median_h,,4," in text


def test_frt_mean_and_p90_use_answered_tickets_only():
    # answered after 1, 2, 3, 4, 10 h plus one unanswered: mean 20 / 5 = 4;
    # p90 (type 7): position 0.9 * 4 = 3.6 -> 4 + 0.6 * (10 - 4) = 7.6
    t = tickets(6, first_response_at=resolved_after([1, 2, 3, 4, 10, None]))
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    assert (pick(df, "frt_mean_h").value, pick(df, "frt_mean_h").n) == (4.0, 5)
    assert pick(df, "frt_p90_h").value == pytest.approx(7.6, abs=1e-12)
    assert pick(df, "frt_median_h").n == 6
    assert math.isnan(pick(df, "frt_mean_h").ci_low)  # no CI named for means of times


def test_a_ticket_resolved_without_reply_is_unanswered_for_frt():
    t = tickets(2, first_response_at=[None, "2026-10-05 11:00"],
                resolved_at=["2026-10-05 12:00", "2026-10-05 13:00"])
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    assert pick(df, "frt_mean_h").n == 1 and pick(df, "frt_median_h").n == 2


def test_fcr_and_reopen_denominators():
    # a: resolved, 1 contact, never reopened -> FCR;  b: resolved, 2 contacts;  c: resolved,
    # reopened once;  d: unresolved (left out);  e: abandoned (left out)
    t = tickets(5, resolved_at=["2026-10-06", "2026-10-06", "2026-10-06", None, "2026-10-06"],
                contacts=[1, 2, 1, 1, 1], reopened=[0, 0, 1, 0, 0], abandoned=[False] * 4 + [True])
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    fcr, reopen = pick(df, "fcr_pct"), pick(df, "reopen_pct")
    assert (fcr.value, fcr.n) == (pytest.approx(100 / 3), 3)
    assert (fcr.ci_low, fcr.ci_high) == pytest.approx(wilson(1, 3))
    assert (reopen.value, reopen.n) == (pytest.approx(100 / 3), 3)
    assert pick(df, "open_pct").n == 4  # non-abandoned created in period
    assert pick(df, "tickets").value == 5


def sla_dataset(targets: dict) -> pd.DataFrame:
    chat = tickets(5, "chat", created=["2026-10-05 10:00"] * 3 + ["2026-10-05 13:30", "2026-10-05 10:00"],
                   first_response_at=["2026-10-05 10:30", "2026-10-05 11:00", "2026-10-05 12:00", None, None])
    email = tickets(4, "email", created=["2026-10-05 10:00", "2026-10-05 12:00", "2026-10-05 11:00",
                                         "2026-10-05 10:00"],
                    first_response_at=["2026-10-05 11:30", None, None, "2026-10-05 11:00"])
    return make_dataset(tickets=pd.concat([chat, email]), targets=targets, as_of="2026-10-05 14:00")


def test_sla_with_channel_override_and_unanswered_tickets():
    # thresholds: chat 1 h (its own row), email 2 h (the empty-channel row); as_of 14:00.
    # chat: 0.5 h met, 1.0 h met (equal), 2 h missed, unanswered 0.5 h old left out,
    #       unanswered 4 h old missed -> 2 / 4
    # email: 1.5 h met (would miss chat's 1 h), unanswered exactly 2 h old left out (equal),
    #        unanswered 3 h old missed, 1 h met -> 2 / 3;  all: 4 / 7 (each by its own threshold)
    ds = sla_dataset({"kpi": ["frt_h", "frt_h"], "target": [2.0, 1.0], "channel": [None, "chat"]})
    df = kt.speed(ds, "2026-10")
    assert (pick(df, "sla_frt_pct", "chat").value, pick(df, "sla_frt_pct", "chat").n) == (50.0, 4)
    assert pick(df, "sla_frt_pct", "email").n == 3
    assert pick(df, "sla_frt_pct", "email").value == pytest.approx(200 / 3)
    sla = pick(df, "sla_frt_pct")
    assert (sla.value, sla.n) == (pytest.approx(400 / 7), 7)
    assert (sla.ci_low, sla.ci_high) == pytest.approx(wilson(4, 7))


def test_sla_channel_without_threshold_is_left_out():
    # only chat has a threshold: email n = 0 (empty value), all = chat's tickets
    ds = sla_dataset({"kpi": ["frt_h"], "target": [1.0], "channel": ["chat"]})
    df = kt.speed(ds, "2026-10")
    assert pick(df, "sla_frt_pct", "email").n == 0 and math.isnan(pick(df, "sla_frt_pct", "email").value)
    assert (pick(df, "sla_frt_pct").value, pick(df, "sla_frt_pct").n) == (50.0, 4)


def test_sla_omitted_without_frt_threshold():
    ds = sla_dataset({"kpi": ["fcr_pct"], "target": [70.0], "channel": [None]})
    df = kt.kpis(ds, "2026-10")
    assert "sla_frt_pct" not in set(df["kpi"])
    assert df.attrs["omitted"]["sla_frt_pct"] == "no frt_h threshold in targets"


def test_backlog_end_per_period_and_partial_period():
    # b1 created 09-20 open; b2 10-10 resolved 10-20; b3 10-25 resolved 11-03; b4 abandoned open;
    # b5 created 11-02 open.  Sep: t_end = Oct 1 -> {b1} = 1.  Oct: t_end = Nov 1 -> {b1, b3} = 2.
    # Nov (as_of 11-15 inside): t_end = as_of -> {b1, b5} = 2 (b3 resolved before t_end)
    t = pd.DataFrame({
        "ticket_id": ["b1", "b2", "b3", "b4", "b5"], "channel": "chat",
        "created_at": ["2026-09-20", "2026-10-10", "2026-10-25", "2026-10-26", "2026-11-02"],
        "resolved_at": [None, "2026-10-20", "2026-11-03", None, None],
        "abandoned": [False, False, False, True, False]})
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-15"), "2026-09:2026-11")
    assert [pick(df, "backlog_end", "chat", p).value for p in ("2026-09", "2026-10", "2026-11")] == [1, 2, 2]


def test_abandoned_tickets_per_a7():
    # 4 phone tickets, 1 abandoned; 2 chat tickets.  tickets counts abandoned, frt/open/aht do not
    t = pd.concat([tickets(4, "phone", abandoned=[True, False, False, False], handle_seconds=[300.0, 600.0, 1200.0, None],
                           first_response_at=[None, "2026-10-05 11:00", "2026-10-05 12:00", "2026-10-05 13:00"],
                           resolved_at=[None, "2026-10-06", None, None]),
                   tickets(2, "chat", first_response_at="2026-10-05 10:30")])
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    assert pick(df, "tickets", "phone").value == 4
    assert (pick(df, "abandonment_pct", "phone").value, pick(df, "abandonment_pct", "phone").n) == (25.0, 4)
    assert (pick(df, "abandonment_pct", "voice").value, pick(df, "abandonment_pct", "voice").n) == (25.0, 4)
    assert (pick(df, "abandonment_pct", "text").value, pick(df, "abandonment_pct", "text").n) == (0.0, 2)
    assert pick(df, "abandonment_pct", "text").ci_low == 0.0
    assert pick(df, "frt_median_h", "phone").n == 3 and pick(df, "open_pct", "phone").n == 3
    # aht: non-abandoned with a handle time: 600 s and 1200 s -> 15 min, sd 7.07 min, t(1) CI
    aht = pick(df, "aht_min", "phone")
    sd = np.std([10.0, 20.0], ddof=1)
    half = stats.t.ppf(0.975, 1) * sd / math.sqrt(2)
    assert (aht.value, aht.n) == (15.0, 2)
    assert (aht.ci_low, aht.ci_high) == pytest.approx((15 - half, 15 + half))
    # voice/text groups are written for abandonment_pct only
    assert set(df.loc[df["channel"].isin(["voice", "text"]), "kpi"]) == {"abandonment_pct"}


def test_half_open_periods_a_ticket_at_period_end_is_next_month():
    t = tickets(2, created=["2026-10-31 23:59:59", "2026-11-01 00:00"])
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-15"), ["2026-10", "2026-11"])
    assert pick(df, "tickets", "chat", "2026-10").value == 1
    assert pick(df, "tickets", "chat", "2026-11").value == 1


def test_empty_period_counts_zero_values_empty():
    t = tickets(2, resolved_at="2026-10-06", first_response_at="2026-10-05 11:00", abandoned=False, contacts=1,
                reopened=0)
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-01"), "2026-09")
    assert (pick(df, "tickets").value, pick(df, "tickets").n) == (0, 0)
    assert pick(df, "backlog_end").value == 0
    for kpi in ("frt_median_h", "ttr_mean_h", "fcr_pct", "open_pct", "abandonment_pct"):
        row = pick(df, kpi, "chat")
        assert row.n == 0 and math.isnan(row.value), kpi


def test_events_after_as_of_have_not_happened():
    # resolved after as_of -> censored at as_of (open), not resolved
    t = tickets(2, resolved_at=["2026-10-05 12:00", "2026-10-20"])
    df = kt.speed(make_dataset(tickets=t, as_of="2026-10-10"), "2026-10")
    assert pick(df, "open_pct").value == 50.0 and pick(df, "ttr_mean_h").n == 1


def test_segment_by_another_column():
    t = tickets(3, topic=["billing", "billing", None])
    df = kt.speed(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10", by="topic")
    assert list(df.columns[:3]) == ["period", "topic", "kpi"]
    assert pick(df, "tickets", "billing").value == 2
    assert pick(df, "tickets").value == 3  # a ticket without topic counts in all only


BERLIN_HOURS = BusinessHours(
    weekly={d: ((540, 720), (780, 1020)) for d in range(5)} | {6: ((0, 1440),)},
    closed_dates=(dt.date(2026, 10, 21),))


def bh_dataset() -> object:
    # Europe/Berlin; Mon–Fri 09–12 and 13–17, Sundays all day; Wed 2026-10-21 closed.
    #  w: Sat 10-24 12:00 -> Mon 10-26 09:30: Sunday 10-25 lasts 25 h (DST ends) + 0.5 h = 25.5 h
    #     (calendar 45.5 h of wall time + 1 h = 46.5 h)
    #  h: Tue 10-20 16:00 -> Thu 10-22 10:00: 1 h + closed Wednesday + 1 h = 2 h (calendar 42 h)
    #  s: Mon 10-12 11:30 -> 14:00: 0.5 h before lunch + 1 h after = 1.5 h (calendar 2.5 h)
    #  c: Tue 10-13 12:15 -> 12:45, inside the lunch break: 0 h, an event at 0 (calendar 0.5 h)
    created = ["2026-10-24 12:00", "2026-10-20 16:00", "2026-10-12 11:30", "2026-10-13 12:15"]
    answered = ["2026-10-26 09:30", "2026-10-22 10:00", "2026-10-12 14:00", "2026-10-13 12:45"]
    t = pd.DataFrame({"ticket_id": list("whsc"), "channel": "chat", "created_at": created,
                      "first_response_at": answered, "resolved_at": answered})
    return make_dataset(tickets=t, timezone="Europe/Berlin", as_of="2026-11-01", business_hours=BERLIN_HOURS)


def test_business_hours_weekend_holiday_dst_and_split_day():
    df = kt.speed(bh_dataset(), "2026-10")
    # business: [0, 1.5, 2, 25.5] -> median (1.5 + 2) / 2 = 1.75; mean 29 / 4 = 7.25;
    # p90 position 2.7 -> 2 + 0.7 * 23.5 = 18.45
    assert pick(df, "frt_bh_median_h").value == pytest.approx(1.75, abs=1e-12)
    assert pick(df, "frt_bh_mean_h").value == pytest.approx(7.25, abs=1e-12)
    assert pick(df, "frt_bh_p90_h").value == pytest.approx(18.45, abs=1e-12)
    assert pick(df, "ttr_bh_median_h").value == pytest.approx(1.75, abs=1e-12)
    assert pick(df, "ttr_bh_mean_h").value == pytest.approx(7.25, abs=1e-12)
    # calendar: [0.5, 2.5, 42, 46.5] -> median 22.25, mean 91.5 / 4 = 22.875
    assert pick(df, "frt_median_h").value == pytest.approx(22.25, abs=1e-12)
    assert pick(df, "frt_mean_h").value == pytest.approx(22.875, abs=1e-12)


def test_business_hours_censoring_uses_the_same_clock():
    # an unanswered ticket created Fri 10-30 16:00, as_of Sun 11-01 00:00: censored at
    # 1 business hour (Friday 16–17; Saturday closed; Sunday starts at as_of)
    t = pd.DataFrame({"ticket_id": ["x"], "channel": "chat", "created_at": ["2026-10-30 16:00"]})
    ds = make_dataset(tickets=t, timezone="Europe/Berlin", as_of="2026-11-01", business_hours=BERLIN_HOURS)
    curve = kt.survival_curve(ds, "frt", by=None, business_hours=True)
    assert curve[["time_h", "n_censor"]].values.tolist() == [[1.0, 1]]


def test_a_missing_column_omits_its_kpis_and_an_empty_one_does_not():
    # SPEC A13: missing = neither the file nor its mapping provides it; provided but empty = present
    df = kt.kpis(make_dataset(tickets=tickets(2), as_of="2026-11-01"), "2026-10")
    omitted = df.attrs["omitted"]
    assert omitted["ttr_median_h"] == "no resolved_at column in tickets"
    assert omitted["aht_min"] == "no handle_seconds column in tickets"
    assert omitted["abandonment_pct"] == "no abandoned column in tickets"  # not 0 %: unknown
    assert omitted["fcr_pct"] == "no resolved_at column in tickets"
    assert not {"ttr_median_h", "abandonment_pct", "fcr_pct", "reopen_pct"} & set(df["kpi"])
    assert {"tickets", "frt_median_h"} <= set(df["kpi"]) or "frt_median_h" in omitted
    # every column provided, resolved_at all empty: TTR is computed, every ticket censored
    t = tickets(2, resolved_at=None, abandoned=None, handle_seconds=None, first_response_at=None)
    df = kt.kpis(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    assert {"ttr_median_h", "abandonment_pct", "aht_min", "open_pct"} <= set(df["kpi"])
    assert pick(df, "ttr_median_h").n == 2 and math.isnan(pick(df, "ttr_median_h").value)  # not reached
    assert pick(df, "open_pct").value == 100.0 and pick(df, "abandonment_pct").value == 0.0
    assert pick(df, "aht_min").n == 0
    # contacts without reopened: FCR is omitted (one contact tells nothing of reopens), reopen too
    t = tickets(2, resolved_at="2026-10-06", contacts=1)
    omitted = kt.kpis(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10").attrs["omitted"]
    assert omitted["fcr_pct"] == omitted["reopen_pct"] == "no reopened column in tickets"


def test_without_schedule_bh_rows_are_omitted():
    ds = make_dataset(tickets=tickets(2, first_response_at="2026-10-05 11:00"), as_of="2026-11-01")
    df = kt.kpis(ds, "2026-10")
    assert not df["kpi"].str.contains("_bh_").any()
    assert df.attrs["omitted"]["frt_bh_median_h"] == "no business_hours in dataset.toml"
    assert "coverage_pct" in df.attrs["omitted"]


def test_an_unknown_segment_is_a_typed_user_error():
    from kpitools.errors import KpitoolsError, UnknownSegmentError

    ds = make_dataset(tickets=tickets(2), as_of="2026-11-01")
    with pytest.raises(UnknownSegmentError, match=r"by='queue' is not a column of the tickets table") as info:
        kt.speed(ds, "2026-10", by="queue")
    assert isinstance(info.value, KpitoolsError) and isinstance(info.value, KeyError)


def test_km_p90_counts_the_unanswered_as_censored():
    # ten tickets answered after 1..10 h: no censoring, R's quantile(survfit(...), 0.9) takes the
    # midpoint of the flat stretch S = 0.1 on [9, 10) -> 9.5 (type 7 would give 9.1)
    first = resolved_after([float(h) for h in range(1, 11)])
    ds = make_dataset(tickets=tickets(10, first_response_at=first), as_of="2026-11-01")
    df = kt.speed(ds, "2026-10")
    assert pick(df, "frt_km_p90_h").value == 9.5 and pick(df, "frt_km_p90_h").n == 10
    assert pick(df, "frt_p90_h").value == pytest.approx(9.1)
    # two of ten unanswered at as_of (censored after 642 h): the KM curve falls by 1/10 per answer
    # to S = 0.2 at 8 h and stays there -> the 90th percentile is not reached (empty), while the
    # conventional p90 over the eight answered tickets is 7.3 h
    first = resolved_after([float(h) for h in range(1, 9)] + [None, None])
    ds = make_dataset(tickets=tickets(10, first_response_at=first), as_of="2026-11-01")
    df = kt.speed(ds, "2026-10")
    assert math.isnan(pick(df, "frt_km_p90_h").value) and pick(df, "frt_p90_h").value == pytest.approx(7.3)
    # resolution: the same rule on ttr_km_p90_h
    ds = make_dataset(tickets=tickets(10, resolved_at=resolved_after([float(h) for h in range(1, 11)])),
                      as_of="2026-11-01")
    assert pick(kt.speed(ds, "2026-10"), "ttr_km_p90_h").value == 9.5
