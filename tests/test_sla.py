"""[[sla]] policies (SPEC B6, B7.8): configuration, known answers on tiny tickets, properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpitools as kt
from kpitools.config import SlaPolicy, read_config
from kpitools.engine import conversation_kpis, sla_outcomes
from kpitools.engine.context import Context
from kpitools.engine.conversations import policy_cases, sla_elapsed
from kpitools.errors import ConfigError

from .conversation_data import WEEKDAYS, load, sla
from .factories import pick

H_US = 3_600_000_000


def _elapsed(ds: kt.Dataset, metric: str, pauses: bool = True) -> list[tuple[str, bool, float]]:
    """Each timed item's channel, ended flag and elapsed hours (one entry per item)."""
    with Context(ds, "2026-10") as ctx:
        e = sla_elapsed(ctx, metric, pauses)
    return sorted((g, ended, us / H_US) for g, ended, us, n in zip(e["g"], e["ended"], e["elapsed_us"], e["n"])
                  for _ in range(n))


# ---------------------------------------------------------------- configuration

@pytest.mark.parametrize("entry, key", [
    ('metric = "first_response"\ntarget_h = 4', "metric"),
    ('metric = "first_reply"\ntarget_h = 0', "target_h"),
    ('metric = "first_reply"\ntarget_h = "4"', "target_h"),
    ('metric = "first_reply"\ntarget_h = 4\nbusiness_hours = "yes"', "business_hours"),
    ('metric = "first_reply"\ntarget_h = 4\npause_on = ["waiting"]', "pause_on"),
    ('metric = "first_reply"\ntarget_h = 4\npause_on = "pending"', "pause_on"),
    ('metric = "first_reply"\ntarget_h = 4\nchannel = ""', "channel"),
    ('metric = "first_reply"\ntarget_h = 4\ngoal = 1', "goal"),
])
def test_a_malformed_policy_stops_the_load_naming_the_key(tmp_path: Path, entry: str, key: str) -> None:
    (tmp_path / "dataset.toml").write_text(f"[[sla]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"\[\[sla\]\] #1.*{key}"):
        read_config(tmp_path)


def test_policies_are_read_in_file_order(tmp_path: Path) -> None:
    (tmp_path / "dataset.toml").write_text(sla("resolution", 40, channel="email", pause_on=["pending"])
                                           + sla("first_reply", 0.5, business_hours=True), encoding="utf-8")
    assert read_config(tmp_path).sla == (
        SlaPolicy("resolution", 40.0, channel="email", pause_on=("pending",)),
        SlaPolicy("first_reply", 0.5, business_hours=True))


def test_most_specific_policy_wins() -> None:
    policies = [SlaPolicy("first_reply", 10), SlaPolicy("first_reply", 1, channel="email"),
                SlaPolicy("first_reply", 5, priority="high"),
                SlaPolicy("first_reply", 2, channel="email", priority="high"),
                SlaPolicy("first_reply", 3, channel="email")]  # equal to #1, later in the file: never used
    rows = [("email", "high"), ("email", "low"), ("email", None), ("chat", "high"), ("chat", None)]
    t = ibis.memtable(pd.DataFrame(rows, columns=["chan", "prio"]))
    got = ibis.duckdb.connect().execute(t.select(pol=policy_cases(policies, t.chan, t.prio)))["pol"]
    assert got.tolist() == [3, 1, 1, 2, 0]


# ---------------------------------------------------------------- known answers

def test_reply_exactly_at_the_target_is_met_and_outbound_has_no_first_reply_sla(tmp_path: Path) -> None:
    ds = load(tmp_path, tickets=[
        "A,email,2026-10-05 10:00,2026-10-05 11:00,,",     # exactly 1 h: met
        "B,email,2026-10-05 10:00,2026-10-05 11:00:01,,",  # a second late: breached
        "C,email,2026-10-05 10:00,,,",                     # never answered: breached at as_of
        "D,email,2026-11-09 23:30,,,",                     # created in November: not in the period
        "O,email,2026-10-06 09:00,2026-10-06 20:00,,",     # outbound: no first-reply SLA
    ], messages=["o1,2026-10-06 09:00,agent,O,,,a1,email", "o2,2026-10-06 10:00,customer,O,,,,email"],
        toml=sla("first_reply", 1))
    row = pick(conversation_kpis(ds, "2026-10"), "sla_first_reply_pct", "email")
    assert (row.value, row.n) == (pytest.approx(100 / 3), 3)


def test_running_and_not_past_the_target_is_left_out(tmp_path: Path) -> None:
    ds = load(tmp_path, tickets=["A,email,2026-10-31 23:00,,,"], as_of="2026-10-31T23:30:00",
              toml=sla("first_reply", 1))
    out = sla_outcomes(ds, "2026-10")
    assert out.loc[out.channel == "email", ["met", "breached", "running"]].values.tolist() == [[0, 0, 1]]
    assert pick(conversation_kpis(ds, "2026-10"), "sla_first_reply_pct", "email").n == 0


def test_a_pause_that_straddles_the_target(tmp_path: Path) -> None:
    # resolution target 2 h; pending 11:00-13:00 covers the 2 h mark (12:00); resolved 13:30
    ds = load(tmp_path, tickets=["A,email,2026-10-05 10:00,2026-10-05 10:30,2026-10-05 13:30,"],
              statuses=["A,2026-10-05 11:00,pending", "A,2026-10-05 13:00,open", "A,2026-10-05 13:30,solved"],
              toml=sla("resolution", 2, pause_on=["pending"]))
    assert _elapsed(ds, "resolution") == [("email", True, 1.5)]
    assert _elapsed(ds, "resolution", pauses=False) == [("email", True, 3.5)]
    out = sla_outcomes(ds, "2026-10")
    assert out.loc[out.channel == "email", ["met_pct", "met_pct_no_pauses"]].values.tolist() == [[100.0, 0.0]]


def test_a_pause_on_the_business_clock_across_a_weekend_and_a_dst_change(tmp_path: Path) -> None:
    # Berlin, Mon-Fri 09-17; clocks go back on Sun 2026-10-25. Created Fri 23 16:00, pending from
    # 16:30 to Sat 12:00, resolved Mon 26 11:00.
    tickets = ["A,email,2026-10-23 16:00,2026-10-23 16:10,2026-10-26 11:00,"]
    statuses = ["A,2026-10-23 16:30,pending", "A,2026-10-24 12:00,open", "A,2026-10-26 11:00,solved"]
    business = load(tmp_path / "bh", tickets=tickets, statuses=statuses, timezone="Europe/Berlin",
                    toml=sla("resolution", 2.5, business_hours=True, pause_on=["pending"])
                    + "[business_hours.weekly]\n" + WEEKDAYS)
    # open 16:00-17:00 Fri and 09:00-11:00 Mon = 3 h, less the paused 16:30-17:00 = 2.5 h: met
    assert _elapsed(business, "resolution") == [("email", True, 2.5)]
    assert pick(conversation_kpis(business, "2026-10"), "sla_resolution_pct", "email").value == 100.0
    calendar = load(tmp_path / "cal", tickets=tickets, statuses=statuses, timezone="Europe/Berlin",
                    toml=sla("resolution", 48, pause_on=["pending"]))
    # 68 h (the night of the change has 25 hours) less 19.5 h paused: 48.5 h, past 48 h
    assert _elapsed(calendar, "resolution") == [("email", True, 48.5)]
    assert pick(conversation_kpis(calendar, "2026-10"), "sla_resolution_pct", "email").value == 0.0


def test_next_reply_waits_take_their_tickets_policy(tmp_path: Path) -> None:
    ds = load(tmp_path, tickets=[
        "A,email,2026-10-05 09:00,2026-10-05 09:10,2026-10-05 18:00,high",
    ], messages=[
        "a1,2026-10-05 09:00,customer,A,,,,email",
        "a2,2026-10-05 09:10,agent,A,,,x,email",
        "a3,2026-10-05 10:00,customer,A,,,,email",   # answered after 2 h
        "a4,2026-10-05 12:00,agent,A,,,x,email",
        "a5,2026-10-05 13:00,customer,A,,,,email",   # ended by the resolution at 18:00 (5 h): breached
        "a6,2026-10-05 17:30,customer,A,,,,email",   # no new wait: one is open
    ], toml=sla("next_reply", 1) + sla("next_reply", 3, priority="high") + sla("next_reply", 1, channel="chat"))
    assert _elapsed(ds, "next_reply") == [("email", False, 5.0), ("email", True, 2.0)]
    row = pick(conversation_kpis(ds, "2026-10"), "sla_next_reply_pct", "email")
    assert (row.value, row.n) == (50.0, 2)


def test_a_wait_ended_by_a_resolution_before_its_target_is_left_out(tmp_path: Path) -> None:
    ds = load(tmp_path, tickets=["A,email,2026-10-05 09:00,2026-10-05 09:10,2026-10-05 10:30,"], messages=[
        "a1,2026-10-05 09:00,customer,A,,,,email", "a2,2026-10-05 09:10,agent,A,,,x,email",
        "a3,2026-10-05 10:00,customer,A,,,,email"], toml=sla("next_reply", 1))
    out = sla_outcomes(ds, "2026-10")
    assert out.loc[out.channel == "email", ["met", "breached", "running"]].values.tolist() == [[0, 0, 1]]


@pytest.mark.parametrize("toml, reason", [
    (sla("resolution", 4, pause_on=["pending"]), "no status_changes table"),
    (sla("resolution", 4, business_hours=True), "no business_hours"),
])
def test_a_policy_that_cannot_be_evaluated_omits_its_kpi(tmp_path: Path, toml: str, reason: str) -> None:
    ds = load(tmp_path, tickets=["A,email,2026-10-05 10:00,,2026-10-05 12:00,"], toml=toml)
    df = conversation_kpis(ds, "2026-10")
    assert reason in df.attrs["omitted"]["sla_resolution_pct"]
    assert "sla_resolution_pct" not in set(df["kpi"])


# ---------------------------------------------------------------- properties

_hours = st.integers(min_value=0, max_value=200)


def _at(hours: int) -> str:
    """The local time ``hours`` after 2026-10-05 00:00."""
    return (dt.datetime(2026, 10, 5) + dt.timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


@st.composite
def _tickets(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Email tickets created on 2026-10-05, resolved later or never, with status changes at random hours."""
    tickets, statuses = [], []
    for i in range(draw(st.integers(1, 6))):
        created = draw(st.integers(0, 20))
        resolved = draw(st.one_of(st.none(), _hours))
        tickets.append(f"T{i},email,{_at(created)},,{'' if resolved is None else _at(created + resolved)},")
        for h, status in draw(st.lists(st.tuples(_hours, st.sampled_from(["pending", "open", "on_hold", "solved"])),
                                       max_size=4)):
            statuses.append(f"T{i},{_at(h)},{status}")
    return tickets, statuses


_COUNTER = itertools.count()
_SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=_tickets(), business_hours=st.booleans())
def test_paused_time_never_makes_elapsed_time_negative(tmp_path: Path, data: tuple[list[str], list[str]],
                                                       business_hours: bool) -> None:
    tickets, statuses = data
    ds = load(tmp_path / str(next(_COUNTER)), tickets=tickets, statuses=statuses,
              toml=sla("resolution", 1, business_hours=business_hours, pause_on=["pending", "on_hold"])
              + "[business_hours.weekly]\n" + WEEKDAYS)
    paused = _elapsed(ds, "resolution")
    free = _elapsed(ds, "resolution", pauses=False)
    assert all(e >= 0 for _, _, e in paused)
    assert sum(e for *_, e in paused) <= sum(e for *_, e in free) + 1e-9


@_SETTINGS
@given(data=_tickets(), targets=st.tuples(st.floats(0.5, 150), st.floats(0.5, 150)))
def test_an_sla_share_never_rises_when_the_target_shrinks(tmp_path: Path, data: tuple[list[str], list[str]],
                                                          targets: tuple[float, float]) -> None:
    tickets, statuses = data
    ds = load(tmp_path / str(next(_COUNTER)), tickets=tickets, statuses=statuses,
              toml=sla("resolution", 1, pause_on=["pending"]))
    shares = []
    for target in sorted(targets, reverse=True):
        ds.config = dataclasses.replace(ds.config, sla=(SlaPolicy("resolution", target, pause_on=("pending",)),))
        row = pick(conversation_kpis(ds, "2026-10"), "sla_resolution_pct", "email")
        shares.append((row.value if row.n else None, row.n))
    (big, n_big), (small, n_small) = shares
    if big is not None and small is not None:
        assert small <= big + 1e-9
    # a smaller target judges at least as many tickets (running ones pass it sooner)
    assert n_small >= n_big


def test_the_zendesk_example_judges_its_urgent_ticket_by_its_priority_policy() -> None:
    ds = kt.load(Path(__file__).parents[1] / "data" / "examples" / "zendesk_fivetran")
    policies = [(p.priority, p.target_h) for p in ds.config.sla]
    assert policies == [("urgent", 2), ("high", 8), ("normal", 16), ("low", 48)]
    row = pick(conversation_kpis(ds, "2020-08"), "sla_first_reply_pct", "email")
    assert (row.value, row.n) == (0.0, 1)  # ticket 11071 (urgent) has no reply at all: breached


def test_sla_shares_are_compared_as_proportions(tmp_path: Path) -> None:
    rows = [f"E{i},email,2026-10-05 10:00,2026-10-05 {11 + i % 3}:00,," for i in range(40)]
    rows += [f"C{i},chat,2026-10-05 10:00,2026-10-05 10:{i % 50:02d},," for i in range(40)]
    ds = load(tmp_path, tickets=rows, toml=sla("first_reply", 1))
    obs = kt.observations(ds, "2026-10", "sla_first_reply_pct")
    assert obs.set_index("channel")[["successes", "n"]].to_dict("index") == {
        "all": {"successes": 54, "n": 80}, "chat": {"successes": 40, "n": 40}, "email": {"successes": 14, "n": 40}}
    result = kt.compare_channels(ds, "2026-10", "sla_first_reply_pct")
    assert result.loc[result.comparison == "pair", "verdict"].iloc[0] in ("lower", "higher")
