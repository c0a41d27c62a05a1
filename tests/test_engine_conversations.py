"""Known answers for the conversation KPIs (SPEC §8 B3–B5, B7.3, B7.6, B7.7) on tiny conversations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt
from kpitools.engine import backlog_by_age, conversation_kpis, time_in_status
from kpitools.engine.context import Context
from kpitools.engine.conversations import waits

from .conversation_data import WEEKDAYS, load
from .factories import pick

H = 3_600_000_000_000  # an hour in ns


def _ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


@pytest.fixture
def world(tmp_path: Path) -> kt.Dataset:
    return load(tmp_path, tickets=[
        # a wait closed by an agent after a bot message (the bot does not close it), then a wait
        # censored by the resolution, then a customer message after the final resolution (no wait)
        "E1,email,2026-10-05 10:00,2026-10-05 11:00,2026-10-05 16:00,",
        "C1,chat,2026-10-06 10:00,2026-10-06 10:05,,",           # a wait still open: censored at as_of
        "O1,email,2026-10-07 09:00,,2026-10-07 12:00,",  # outbound (no first response of its own)
        "R1,email,2026-10-08 09:00,2026-10-08 10:00,,",           # solved, reopened, solved (statuses)
        "B1,chat,2026-10-09 10:00,,2026-10-09 10:10,",            # the bot contains it
        "B2,chat,2026-10-09 11:00,2026-10-09 11:20,2026-10-09 12:00,",  # the bot hands off
    ], messages=[
        "e1,2026-10-05 10:00,customer,E1,,,,email",
        "e2,2026-10-05 10:30,customer,E1,,,,email",   # before the first reply: part of the first wait
        "e3,2026-10-05 11:00,agent,E1,,,a1,email",
        "e4,2026-10-05 12:00,customer,E1,,,,email",   # opens a wait
        "e5,2026-10-05 12:30,bot,E1,,,,email",
        "e6,2026-10-05 12:45,customer,E1,,,,email",   # a wait is open: opens none
        "e7,2026-10-05 14:00,agent,E1,,,a1,email",    # closes it: 2 h
        "e8,2026-10-05 15:00,customer,E1,,,,email",   # censored by the resolution at 16:00: 1 h
        "e9,2026-10-05 17:00,customer,E1,,,,email",   # after the final resolution: no wait
        "c1,2026-10-06 10:00,customer,C1,,,,chat",
        "c2,2026-10-06 10:05,agent,C1,,,a2,chat",
        "c3,2026-10-06 11:00,customer,C1,,,,chat",    # never answered: censored at as_of
        "o1,2026-10-07 09:00,agent,O1,,,a1,email",    # an agent writes first: outbound
        "o2,2026-10-07 10:00,customer,O1,,,,email",   # a next-reply wait, not a first response
        "o3,2026-10-07 10:30,agent,O1,,,a1,email",
        "r1,2026-10-08 09:00,customer,R1,,,,email",
        "r2,2026-10-08 10:00,agent,R1,,,a1,email",
        "r3,2026-10-08 12:00,customer,R1,,,,email",   # after a resolution that a reopen follows: a wait
        "r4,2026-10-08 13:00,agent,R1,,,a1,email",
        "b1,2026-10-09 10:00,customer,B1,,,,chat",
        "b2,2026-10-09 10:01,bot,B1,,,,chat",
        "b3,2026-10-09 11:00,customer,B2,,,,chat",
        "b4,2026-10-09 11:01,bot,B2,,,,chat",
        "b5,2026-10-09 11:20,agent,B2,,,a2,chat",
    ], statuses=[
        "R1,2026-10-08 11:00,solved",
        "R1,2026-10-08 12:10,open",
        "R1,2026-10-08 14:00,solved",
    ], toml="[business_hours.weekly]\n" + WEEKDAYS)


def _waits(ds: kt.Dataset) -> list[tuple[str, int, int, bool]]:
    with Context(ds, "2026-10") as ctx:
        w = ctx.execute(waits(ctx))
    return sorted(zip(w["chan"], w["start_ns"], w["end_ns"], w["closed"]))


def test_waits_follow_b3(world: kt.Dataset) -> None:
    assert _waits(world) == sorted([
        ("email", _ns("2026-10-05 12:00"), _ns("2026-10-05 14:00"), True),   # the bot did not close it
        ("email", _ns("2026-10-05 15:00"), _ns("2026-10-05 16:00"), False),  # censored by the resolution
        ("chat", _ns("2026-10-06 11:00"), _ns("2026-11-10 00:00"), False),   # censored at as_of
        ("email", _ns("2026-10-07 10:00"), _ns("2026-10-07 10:30"), True),   # outbound: a next reply
        ("email", _ns("2026-10-08 12:00"), _ns("2026-10-08 13:00"), True),   # between solved and reopen
    ])


def test_message_kpis(world: kt.Dataset) -> None:
    df = conversation_kpis(world, "2026-10")
    # email waits: 2 h (event), 1 h (censored), 0.5 h, 1 h (events): KM S = 3/4 after 0.5 h, then at
    # 1 h one event among 3 at risk (the censored one is still at risk at the tie): 1/2 -> median
    # is the midpoint of 1 h and the next event time, 2 h
    nrt = pick(df, "nrt_median_h", "email")
    assert (nrt.value, nrt.n) == (1.5, 4)
    assert pick(df, "nrt_mean_h", "email").value == pytest.approx((2 + 0.5 + 1) / 3)
    assert pick(df, "nrt_mean_h", "email").n == 3
    assert pd.isna(pick(df, "nrt_median_h", "chat").value)  # one wait, censored: not reached
    assert pick(df, "nrt_median_h", "all").n == 5
    # business hours (Mon-Fri 09-17): every email wait lies inside opening hours
    assert pick(df, "nrt_bh_median_h", "email").value == 1.5
    # agent messages of the resolved tickets (R1's resolved_at is empty: a provided column keeps it)
    replies = pick(df, "replies_mean", "all")
    assert (replies.value, replies.n) == (pytest.approx(5 / 4), 4)  # E1 2, O1 2, B1 0, B2 1
    touch = pick(df, "one_touch_pct", "all")
    assert (touch.value, touch.n) == (pytest.approx(100 / 3), 3)  # B2 of E1, O1, B2
    contained = pick(df, "bot_resolved_pct", "chat")
    assert (contained.value, contained.n) == (50.0, 2)  # B1 of B1, B2 (E1's bot message: email)
    handoff = pick(df, "handoff_pct", "all")
    assert (handoff.value, handoff.n) == (pytest.approx(200 / 3), 3)  # E1 and B2 of E1, B1, B2


def test_time_in_status(world: kt.Dataset) -> None:
    # R1: new 09:00-11:00 (2 h), solved; only tickets whose history reaches solved count
    df = conversation_kpis(world, "2026-10")
    row = pick(df, "requester_wait_median_h", "email")
    assert (row.value, row.n) == (2.0, 1)
    assert pick(df, "agent_wait_median_h", "email").value == 0.0
    t = time_in_status(world, "2026-10")
    assert t.loc[(t.channel == "email") & (t.status == "new"), ["tickets", "median_h"]].values.tolist() == [[1, 2.0]]


def test_backlog_age_at_exactly_168_hours_is_not_aged(tmp_path: Path) -> None:
    ds = load(tmp_path, tickets=[
        "A,email,2026-10-25 00:00,,,",      # 168 h before the period end exactly: not aged
        "B,email,2026-10-24 23:59:59,,,",   # a second more: aged
        "C,chat,2026-10-31 12:00,,,",       # half a day
    ], messages=[])
    df = conversation_kpis(ds, "2026-10")
    row = pick(df, "backlog_aged_7d_pct", "all")
    assert (row.value, row.n) == (pytest.approx(100 / 3), 3)
    assert pick(df, "backlog_aged_7d_pct", "email").value == 50.0
    bands = backlog_by_age(ds, "2026-10")
    last = bands[(bands.date == "2026-10-31") & (bands.channel == "all")].set_index("band")["tickets"]
    assert last.to_dict() == {"under 1 day": 1, "1–3 days": 0, "3–7 days": 1, "7–30 days": 1, "over 30 days": 0}


def test_missing_tables_omit_with_a_reason(tmp_path: Path) -> None:
    ds = load(tmp_path, tickets=["A,email,2026-10-05 10:00,,,"])
    df = kt.kpis(ds, "2026-10")
    omitted = df.attrs["omitted"]
    assert omitted["nrt_median_h"] == "no messages table"
    assert omitted["requester_wait_median_h"] == "no status_changes table"
    assert omitted["sla_resolution_pct"] == "no [[sla]] policy for resolution in dataset.toml"
    assert "backlog_aged_7d_pct" in set(df["kpi"])
    assert not {"voice", "text"} & set(df.loc[df.kpi == "backlog_aged_7d_pct", "channel"])


def test_nrt_survival_curve(world: kt.Dataset) -> None:
    curve = kt.survival_curve(world, "nrt", "channel", "2026-10")
    email = curve[curve.group == "email"]
    assert email[["time_h", "survival"]].values.tolist() == [[0.5, 0.75], [1.0, 0.5], [2.0, 0.0]]


def test_next_reply_observations_match_the_kpi_and_are_compared_by_log_rank(world: kt.Dataset) -> None:
    obs = kt.observations(world, "2026-10", "nrt_median_h")
    email = obs[obs.channel == "email"].sort_values("hours")
    assert email[["hours", "event", "count"]].values.tolist() == [[0.5, True, 1], [1.0, False, 1], [1.0, True, 1],
                                                                  [2.0, True, 1]]
    with pytest.raises(kt.KpitoolsError, match="compare nrt_median_h"):
        kt.observations(world, "2026-10", "nrt_mean_h")
    with pytest.raises(kt.KpitoolsError, match="across channels only"):
        kt.observations(world, "2026-10", "handoff_pct", by="priority")
    result = kt.compare_channels(world, "2026-10", "nrt_median_h")
    assert set(result["test"]) <= {"logrank", "none"}
