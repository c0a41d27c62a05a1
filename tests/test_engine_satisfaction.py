"""Known answers for the satisfaction KPIs (SPEC §4, A6, A12)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import kpitools as kt
from tests.factories import make_dataset, pick, tickets


def surveys(kind: str, scores: list[int], channel: str | None = "chat", ticket_id: str | None = None,
            at: str = "2026-10-10 12:00") -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame({"response_id": [f"{kind}-{channel}-{ticket_id}-{i}" for i in range(n)],
                         "survey": kind, "score": scores, "responded_at": at,
                         "ticket_id": ticket_id, "channel": channel})


def dataset(*frames: pd.DataFrame, **kwargs) -> object:
    return make_dataset(tickets=tickets(2, "chat") if "tickets" not in kwargs else kwargs.pop("tickets"),
                        surveys=pd.concat(frames, ignore_index=True), as_of="2026-11-01", **kwargs)


def test_nps_adjusted_wald_published_example():
    # 50 detractors, 50 passives, 100 promoters: NPS = (100 - 50) / 200 = 25;
    # Rocks (2016) adjusted Wald: [13.24, 36.02]
    s = surveys("nps", [3] * 50 + [7] * 50 + [10] * 100)
    row = pick(kt.kpis(dataset(s), "2026-10"), "nps", "chat")
    assert (row.value, row.n) == (25.0, 200)
    assert (round(row.ci_low, 2), round(row.ci_high, 2)) == (13.24, 36.02)


def test_csat_wilson_published_example_flows_through_kpis():
    # 81 of 263 in the top two (4-5 of 1-5): 30.80 %, Wilson [25.53, 36.62]
    s = surveys("csat", [5] * 40 + [4] * 41 + [3] * 182)
    row = pick(kt.kpis(dataset(s), "2026-10"), "csat_pct")
    assert row.n == 263 and round(row.value, 2) == 30.80
    assert (round(row.ci_low, 2), round(row.ci_high, 2)) == (25.53, 36.62)


def test_csat_and_ces_means_with_t_ci_and_easy_share():
    # csat [5, 4, 2]: mean 11/3; ces [7, 5, 4, 1]: mean 4.25, easy (>= 5) 2 of 4
    s = pd.concat([surveys("csat", [5, 4, 2]), surveys("ces", [7, 5, 4, 1])])
    df = kt.satisfaction(dataset(s), "2026-10")
    for kpi, xs in (("csat_mean", [5, 4, 2]), ("ces_mean", [7, 5, 4, 1])):
        row = pick(df, kpi, "chat")
        mean, sd, n = np.mean(xs), np.std(xs, ddof=1), len(xs)
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        assert (row.value, row.n) == (pytest.approx(mean, rel=1e-15), n)
        assert (row.ci_low, row.ci_high) == pytest.approx((mean - half, mean + half), rel=1e-12)
    assert (pick(df, "ces_easy_pct").value, pick(df, "ces_easy_pct").n) == (50.0, 4)


def test_scales_from_config():
    # csat on 1-10: top two = 9-10; nps on 1-10: promoters >= 9, detractors <= 6
    s = pd.concat([surveys("csat", [10, 9, 8, 1]), surveys("nps", [10, 9, 7, 6])])
    df = kt.satisfaction(dataset(s, scales={"csat": (1, 10), "nps": (1, 10)}), "2026-10")
    assert pick(df, "csat_pct").value == 50.0
    assert pick(df, "nps").value == 25.0  # 2 promoters - 1 detractor of 4


def test_t_ci_single_and_constant_observations():
    s = pd.concat([surveys("csat", [4], channel="chat"), surveys("csat", [3, 3], channel="email")])
    df = kt.satisfaction(dataset(s), "2026-10")
    one = pick(df, "csat_mean", "chat")
    assert one.value == 4 and math.isnan(one.ci_low)  # none at n = 1
    flat = pick(df, "csat_mean", "email")
    assert (flat.ci_low, flat.ci_high) == (3.0, 3.0)  # [mean, mean] when sd = 0


def test_survey_channel_falls_back_to_ticket_then_all_only():
    # r1 has its own channel (phone, no ticket uses it: still a channel, A6); r2 takes its
    # ticket's (email); r3 has an unknown ticket and no channel: all only
    t = pd.concat([tickets(1, "chat"), tickets(1, "email")])
    s = pd.concat([surveys("csat", [5], channel="phone"), surveys("csat", [1], channel=None, ticket_id="email-0"),
                   surveys("csat", [4], channel=None, ticket_id="nope")])
    df = kt.satisfaction(dataset(s, tickets=t), "2026-10")
    assert pick(df, "csat_pct", "phone").n == 1 and pick(df, "csat_pct", "email").n == 1
    assert pick(df, "csat_pct", "chat").n == 0
    assert (pick(df, "csat_pct").n, pick(df, "csat_pct").value) == (3, pytest.approx(200 / 3))
    speed = kt.speed(dataset(s, tickets=t), "2026-10")
    assert pick(speed, "tickets", "phone").value == 0  # a survey-only channel gets ticket rows too


def test_surveys_by_responded_at_and_as_of():
    # as_of 11-01 12:00: the 11-01 06:00 response counts for November, the 11-02 one not yet
    s = pd.concat([surveys("csat", [5], at="2026-09-30 23:59"), surveys("csat", [5], at="2026-10-31 23:59"),
                   surveys("csat", [1], at="2026-11-01 06:00"), surveys("csat", [1], at="2026-11-02")])
    ds = make_dataset(tickets=tickets(1), surveys=s.assign(response_id=list("abcd")), as_of="2026-11-01 12:00")
    df = kt.satisfaction(ds, ["2026-10", "2026-11"])
    assert pick(df, "csat_pct", period="2026-10").n == 1
    assert (pick(df, "csat_pct", period="2026-11").n, pick(df, "csat_pct", period="2026-11").value) == (1, 0.0)


def test_spam_surveys_excluded_by_respondent_or_ticket():
    t = tickets(2, "chat", customer_id=["spammer", "ok"])
    s = pd.concat([surveys("csat", [5], ticket_id="chat-0"), surveys("csat", [5], ticket_id="chat-1"),
                   surveys("csat", [1], channel="chat").assign(customer_id="spammer", response_id="x")])
    customers = {"customer_id": ["spammer", "ok"], "signup_at": ["2026-01-01"] * 2, "is_spam": [True, False]}
    df = kt.satisfaction(dataset(s, tickets=t, customers=customers), "2026-10")
    assert (pick(df, "csat_pct").n, pick(df, "csat_pct").value) == (1, 100.0)


def test_segment_surveys_by_ticket_column():
    t = tickets(2, "chat", topic=["billing", "login"])
    s = pd.concat([surveys("csat", [5], ticket_id="chat-0"), surveys("csat", [1], ticket_id="chat-1")])
    df = kt.satisfaction(dataset(s, tickets=t), "2026-10", by="topic")
    assert pick(df, "csat_pct", "billing").value == 100.0 and pick(df, "csat_pct", "login").value == 0.0
