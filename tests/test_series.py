"""kpitools.series: daily backlog, weekday × hour volume, survey score counts (known answers)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpitools as kt
from kpitools import series
from tests.factories import make_dataset

_ORIGIN = pd.Timestamp("2026-09-25", tz="UTC")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40 * 24), st.one_of(st.integers(0, 20 * 24), st.none()), st.booleans(),
                          st.sampled_from(["chat", "email"])), min_size=1, max_size=30),
       st.integers(10 * 24, 50 * 24))
def test_daily_backlog_matches_a_direct_count(rows, as_of_h):
    # each ticket: created c hours after the origin, resolved d hours later (or never), abandoned or
    # not; a day's backlog = non-abandoned, created by as_of and before the day's end, not resolved
    # by min(day end, as_of)
    hour = pd.Timedelta(hours=1)
    made = [(_ORIGIN + c * hour, None if d is None else _ORIGIN + (c + d) * hour, a, ch) for c, d, a, ch in rows]
    as_of = _ORIGIN + as_of_h * hour

    def wall(t):
        return None if t is None else t.tz_localize(None).isoformat()

    ds = make_dataset(tickets={"ticket_id": [f"t{i}" for i in range(len(rows))], "channel": [m[3] for m in made],
                               "created_at": [wall(m[0]) for m in made], "resolved_at": [wall(m[1]) for m in made],
                               "abandoned": [m[2] for m in made]}, as_of=wall(as_of))
    got = series.daily_backlog(ds, "2026-10")
    assert len(got) > 0
    for day, channel, backlog in got.itertuples(index=False):
        end = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)
        t_end = min(end, as_of)
        expected = sum(1 for created, resolved, abandoned, ch in made
                       if not abandoned and created <= as_of and created < end
                       and (resolved is None or resolved > t_end) and channel in (ch, "all"))
        assert backlog == expected, (day, channel)


def _backlog_world():
    # Berlin; as_of in the middle of November. Ticket by ticket (local wall time):
    #   a1 chat  created 10-30 10:00, resolved 11-02 09:00    open at the ends of 10-30 .. 11-01
    #   a2 chat  created 10-31 23:00, never resolved           open from the end of 10-31 on
    #   a3 chat  created 10-31 12:00, abandoned                never counts
    #   a4 email created 10-31 08:00, resolved 10-31 09:00     never open at a day's end
    #   a5 email created 11-01 00:00 (exactly the end of 10-31), resolved 11-20 (after as_of)
    #   a6 email created 10-30 10:00 by a spam customer        never counts
    tickets = {
        "ticket_id": ["a1", "a2", "a3", "a4", "a5", "a6"],
        "channel": ["chat", "chat", "chat", "email", "email", "email"],
        "created_at": ["2026-10-30 10:00", "2026-10-31 23:00", "2026-10-31 12:00", "2026-10-31 08:00",
                       "2026-11-01 00:00", "2026-10-30 10:00"],
        "resolved_at": ["2026-11-02 09:00", None, None, "2026-10-31 09:00", "2026-11-20 10:00", None],
        "abandoned": [False, False, True, False, False, False],
        "customer_id": ["c1", "c1", "c1", None, "c2", "spam"],
    }
    customers = {"customer_id": ["c1", "c2", "spam"], "signup_at": "2026-01-01", "is_spam": [False, False, True]}
    return make_dataset(tickets=tickets, customers=customers, timezone="Europe/Berlin", as_of="2026-11-03 12:00")


def test_daily_backlog_known_answer():
    ds = _backlog_world()
    b = series.daily_backlog(ds, "2026-10:2026-11")
    wide = b.pivot(index="date", columns="channel", values="backlog")
    # 61 possible days, cut at as_of's day 11-03
    assert wide.index.min() == pd.Timestamp("2026-10-01") and wide.index.max() == pd.Timestamp("2026-11-03")
    got = wide.loc["2026-10-29":"2026-11-03"].to_dict("list")
    assert got == {"chat": [0, 1, 2, 2, 1, 1], "email": [0, 0, 0, 1, 1, 1], "all": [0, 1, 2, 3, 2, 2]}
    assert list(b["channel"].unique()) == ["chat", "email", "all"]


def test_daily_backlog_ends_each_month_at_backlog_end():
    ds = _backlog_world()
    b = series.daily_backlog(ds, "2026-10:2026-11")
    month_end = b.assign(period=b["date"].dt.strftime("%Y-%m")).groupby(["period", "channel"]).tail(1)
    kp = kt.kpis(ds, "2026-10:2026-11")
    engine = kp[kp.kpi == "backlog_end"].set_index(["period", "channel"])["value"]
    mine = month_end.set_index(["period", "channel"])["backlog"]
    assert mine.to_dict() == engine.reindex(mine.index).astype(int).to_dict()


def test_daily_backlog_channel_filter_keeps_all_complete():
    ds = _backlog_world()
    b = series.daily_backlog(ds, "2026-10", channels=["email"])
    assert list(b["channel"].unique()) == ["email", "all"]
    # at the end of 10-31 email has none open, all still counts the two open chats
    assert b.groupby("channel")["backlog"].last().to_dict() == {"email": 0, "all": 2}
    assert list(series.daily_backlog(ds, "2026-10", total=False)["channel"].unique()) == ["chat", "email"]


def test_volume_by_hour_uses_the_local_clock():
    # Berlin. 2026-10-25 02:30 happens twice (DST ends); read as standard time, still hour 2 on a
    # Sunday; 2026-10-26 23:59 Monday hour 23; one ticket in September and one of a spam customer
    tickets = {
        "ticket_id": ["t1", "t2", "t3", "t4", "t5"],
        "channel": ["phone", "chat", "chat", "chat", "chat"],
        "created_at": ["2026-10-25 02:30", "2026-10-26 23:59", "2026-10-26 23:10", "2026-09-30 10:00",
                       "2026-10-26 23:20"],
        "abandoned": [True, False, False, False, False],
        "customer_id": [None, None, None, None, "spam"],
    }
    customers = {"customer_id": ["spam"], "signup_at": "2026-01-01", "is_spam": [True]}
    ds = make_dataset(tickets=tickets, customers=customers, timezone="Europe/Berlin", as_of="2026-11-01")
    v = series.volume_by_hour(ds, "2026-10")
    assert len(v) == 7 * 24 and v["tickets"].sum() == 3  # abandoned counted, spam and September not
    cells = v[v.tickets > 0].set_index(["weekday", "hour"])["tickets"].to_dict()
    assert cells == {(0, 23): 2, (6, 2): 1}
    assert series.volume_by_hour(ds, "2026-10", channels=["phone"])["tickets"].sum() == 1
    assert series.volume_by_hour(ds)["tickets"].sum() == 4  # every month


def test_volume_by_hour_total_matches_the_tickets_kpi():
    ds = _backlog_world()
    kp = kt.kpis(ds, "2026-10")
    tickets = kp[(kp.kpi == "tickets") & (kp.channel == "all")]["value"].item()
    assert series.volume_by_hour(ds, "2026-10")["tickets"].sum() == tickets == 4


def _survey_world():
    tickets = {"ticket_id": ["t1", "t2", "t3"], "channel": ["chat", "email", "email"],
               "created_at": "2026-10-01", "customer_id": ["c1", "c2", "spam"]}
    # r1 own channel phone; r2 chat via its ticket; r3 no channel at all (all only);
    # r4 about a spam ticket; r5 in September; r6 an nps answer; r7 email via its ticket
    surveys = {"response_id": [f"r{i}" for i in range(1, 8)],
               "survey": ["csat", "csat", "csat", "csat", "csat", "nps", "csat"],
               "score": [1, 5, 4, 5, 5, 9, 5],
               "responded_at": ["2026-10-02"] * 4 + ["2026-09-20"] + ["2026-10-02"] * 2,
               "ticket_id": ["t1", "t1", None, "t3", "t1", "t1", "t2"],
               "channel": ["phone", None, None, None, None, None, None]}
    customers = {"customer_id": ["c1", "c2", "spam"], "signup_at": "2026-01-01", "is_spam": [False, False, True]}
    return make_dataset(tickets=tickets, surveys=surveys, customers=customers, as_of="2026-11-01")


def test_survey_channels_follow_spec_a6():
    assert series.survey_channels(_survey_world()).tolist() == ["phone", "chat", None, "email", "chat", "chat",
                                                                "email"]


def test_score_counts_known_answer():
    ds = _survey_world()
    c = series.score_counts(ds, "csat", "2026-10")
    assert len(c) == 4 * 5  # chat, email, phone, all × scores 1..5
    nonzero = c[c["count"] > 0].values.tolist()
    assert nonzero == [["chat", 5, 1], ["email", 5, 1], ["phone", 1, 1], ["all", 1, 1], ["all", 4, 1], ["all", 5, 2]]
    # the engine's csat n per channel is the same count
    kp = kt.kpis(ds, "2026-10")
    n = kp[kp.kpi == "csat_pct"].set_index("channel")["n"].to_dict()
    assert c.groupby("channel")["count"].sum().to_dict() == {k: int(v) for k, v in n.items() if v > 0}


def test_score_counts_scale_channels_and_errors():
    ds = _survey_world()
    nps = series.score_counts(ds, "nps", total=False)
    assert nps["score"].tolist() == list(range(11)) and nps["count"].sum() == 1
    only = series.score_counts(ds, "csat", "2026-10", channels=["phone"])
    assert list(only["channel"].unique()) == ["phone", "all"] and only.loc[only.channel == "all", "count"].sum() == 4
    with pytest.raises(ValueError, match="unknown survey"):
        series.score_counts(ds, "ces5")


def test_volume_by_hour_per_day_divides_by_weekday_occurrences():
    # October 2026 has four Mondays and four Sundays (and five Thursdays, Fridays, Saturdays)
    tickets = {"ticket_id": ["t1", "t2", "t3"], "channel": "chat",
               "created_at": ["2026-10-25 02:30", "2026-10-26 23:59", "2026-10-26 23:10"]}
    ds = make_dataset(tickets=tickets, timezone="Europe/Berlin", as_of="2026-11-01")
    v = series.volume_by_hour(ds, "2026-10", per_day=True).set_index(["weekday", "hour"])["tickets"]
    assert v[(0, 23)] == 2 / 4 and v[(6, 2)] == 1 / 4 and v.sum() == 0.75
    # as_of on 2026-10-15: only two Mondays (5th, 12th) have happened
    early = make_dataset(tickets={"ticket_id": ["t1"], "channel": "chat", "created_at": ["2026-10-12 09:00"]},
                         as_of="2026-10-15 12:00")
    assert series.volume_by_hour(early, "2026-10", per_day=True).set_index(["weekday", "hour"])["tickets"][(0, 9)] == 0.5
