"""changes and laney: known answers on two- and few-month datasets, missing months, the sample."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import kpitools as kt
from kpitools import stats
from kpitools.comparisons import changes, laney
from kpitools.comparisons.change import COLUMNS
from tests.factories import make_dataset, tickets


def monthly(channel: str, month: str, n: int, abandoned: int) -> pd.DataFrame:
    t = tickets(n, channel, created=f"{month}-10 10:00", abandoned=[True] * abandoned + [False] * (n - abandoned))
    return t.assign(ticket_id=[f"{channel}-{month}-{i}" for i in range(n)])


def row(res: pd.DataFrame, channel: str, kind: str) -> pd.Series:
    out = res[(res["channel"] == channel) & (res["kind"] == kind)]
    assert len(out) == 1
    return out.iloc[0]


@pytest.fixture(scope="module")
def two_months():
    # chat only: 10 of 100 abandoned in September, 30 of 100 in October
    t = pd.concat([monthly("chat", "2026-09", 100, 10), monthly("chat", "2026-10", 100, 30)])
    return make_dataset(tickets=t, as_of="2026-11-01")


def test_month_over_month_known_answer(two_months):
    res = changes(two_months, "2026-10", "abandonment_pct")
    assert list(res.columns) == COLUMNS
    mom = row(res, "chat", "mom")
    # pooled p = 0.2, SE = sqrt(0.2 * 0.8 * (1/100 + 1/100)) = 0.056569, z = 0.2 / SE = 3.5355
    z = 0.2 / math.sqrt(0.2 * 0.8 * 0.02)
    assert (mom.value, mom.value_before, mom.n, mom.n_before) == (30, 10, 100, 100)
    assert mom["diff"] == pytest.approx(20) and mom.statistic == pytest.approx(z)
    assert mom.p == pytest.approx(2 * sps.norm.sf(z))
    # the family is chat mom and all mom (same counts, same p): Holm gives both 2p, both significant,
    # so the level used is alpha itself and Mee's score interval is the 95 % one
    ci = stats.proportions.score_diff_ci(30, 100, 10, 100)
    assert (mom.diff_low, mom.diff_high) == pytest.approx((100 * ci.low, 100 * ci.high))
    assert mom.p_adj == pytest.approx(2 * mom.p) and row(res, "all", "mom").p_adj == pytest.approx(2 * mom.p)
    assert mom.level == 0.05 and mom.family == "Holm over the 2 changes of this KPI"
    assert (mom.verdict, mom.improved, mom.compare_to) == ("higher", False, "2026-09")  # lower is better


def test_year_over_year_before_the_data_says_so(two_months):
    # the tickets start in September 2026: October 2025 is not covered (SPEC A15)
    yoy = row(changes(two_months, "2026-10", "abandonment_pct"), "chat", "yoy")
    assert yoy.compare_to == "2025-10" and yoy.verdict == "not enough data"
    assert yoy.reason == "no data for October 2025" and math.isnan(yoy.p_adj) and math.isnan(yoy.value_before)
    assert math.isnan(yoy.n_before) and math.isnan(yoy["diff"]) and yoy.improved is None
    assert (yoy.value, yoy.n) == (30, 100)  # the period itself is covered


def test_a_channel_without_data_in_a_covered_month():
    # chat has tickets both months, email only in October: September is covered, email's n is 0
    t = pd.concat([monthly("chat", "2026-09", 100, 10), monthly("chat", "2026-10", 100, 30),
                   monthly("email", "2026-10", 50, 5)])
    mom = row(changes(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10", "abandonment_pct"), "email", "mom")
    assert mom.reason == "no data for September 2026" and mom.n_before == 0


def test_fewer_than_30_before():
    t = pd.concat([monthly("chat", "2026-09", 20, 2), monthly("chat", "2026-10", 100, 30)])
    mom = row(changes(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10", "abandonment_pct"), "chat", "mom")
    assert mom.verdict == "not enough data" and mom.reason == "n < 30 for September 2026 (n = 20)"


def test_nps_and_mean_changes():
    def answers(survey, month, scores):
        return pd.DataFrame({"response_id": [f"{survey}-{month}-{i}" for i in range(len(scores))],
                             "survey": survey, "score": scores, "responded_at": f"{month}-12 09:00",
                             "channel": "chat"})
    before = [0] * 80 + [8] * 60 + [9] * 60
    now = [3] * 50 + [7] * 50 + [10] * 100
    ces_before, ces_now = [5, 6, 7, 4, 6] * 8, [3, 4, 5, 2, 6] * 8
    s = pd.concat([answers("nps", "2026-09", before), answers("nps", "2026-10", now),
                   answers("ces", "2026-09", ces_before), answers("ces", "2026-10", ces_now)])
    ds = make_dataset(tickets=tickets(1, "chat"), surveys=s, as_of="2026-11-01")
    nps = row(changes(ds, "2026-10", "nps"), "chat", "mom")
    ref = stats.nps_diff((50, 50, 100), (80, 60, 60))  # now − before: 25 − (−10) = 35
    assert (nps["diff"], nps.p, nps.diff_low) == pytest.approx((ref.diff, ref.p, ref.low))
    assert nps.verdict == "higher" and nps.improved is True
    ces = row(changes(ds, "2026-10", "ces_mean"), "chat", "mom")
    a, b = np.array(ces_now), np.array(ces_before)
    mw = sps.mannwhitneyu(a, b, method="asymptotic")
    assert (ces["diff"], ces.statistic, ces.p) == pytest.approx((a.mean() - b.mean(), mw.statistic, mw.pvalue))
    assert ces.test == "mann_whitney" and ces.verdict == "lower" and ces.signal is None
    assert ces.hl_high < 0 or (ces.hl_high == 0 and ces.hl_high_open)  # the shift's interval agrees


def test_median_change_uses_logrank_with_a_hazard_ratio():
    def resolved(month, hours):
        start = pd.Timestamp(f"{month}-05 10:00")
        t = tickets(len(hours), "chat", created=str(start),
                    resolved_at=[str(start + pd.Timedelta(hours=h)) for h in hours])
        return t.assign(ticket_id=[f"{month}-{i}" for i in range(len(hours))])
    before, now = [float(h) for h in range(1, 41)], [float(h) for h in range(5, 45)]
    t = pd.concat([resolved("2026-09", before), resolved("2026-10", now)])
    ds = make_dataset(tickets=t, as_of="2026-11-01")
    mom = row(changes(ds, "2026-10", "ttr_median_h"), "chat", "mom")
    lr = stats.logrank(now + before, [True] * 80, [1] * 40 + [0] * 40)
    assert (mom.value, mom.value_before, mom["diff"]) == (24.5, 20.5, 4.0)
    assert mom.test == "logrank" and mom.p == pytest.approx(lr.p)
    # the difference of the medians has its own (Brookmeyer–Crowley-based) interval; the verdict's
    # interval is the hazard ratio's
    assert mom.diff_low < 4.0 < mom.diff_high and mom.interval_of == "hazard ratio"
    two = stats.survival.logrank_two(now + before, [True] * 80, [True] * 40 + [False] * 40)
    assert mom.hr == pytest.approx(two.hr)


def test_channels_argument_and_errors(two_months):
    res = changes(two_months, "2026-10", "abandonment_pct", channels=["chat"])
    assert res["channel"].tolist() == ["chat", "chat", "all", "all"]
    with pytest.raises(kt.KpitoolsError, match="unknown channel"):
        changes(two_months, "2026-10", "abandonment_pct", channels=["fax"])
    with pytest.raises(kt.KpitoolsError, match="history"):
        changes(two_months, "2026-10", "abandonment_pct", history=0)
    with pytest.raises(kt.KpitoolsError, match="cannot be compared"):
        changes(two_months, "2026-10", "tickets")
    with pytest.raises(kt.KpitoolsError, match="shares"):
        laney(two_months, "2026-10", "aht_min")


def test_laney_chart_matches_the_stats_function():
    sizes = [(200, 20), (220, 25), (210, 21), (230, 24), (215, 22), (205, 19), (225, 23), (210, 21), (240, 60)]
    counts = {f"2026-{m:02d}": c for m, c in zip(range(2, 11), sizes)}
    t = pd.concat([monthly("chat", m, n, k) for m, (n, k) in counts.items()])
    ds = make_dataset(tickets=t, as_of="2026-11-01")
    chart = laney(ds, "2026-10", "abandonment_pct", "chat", history=12)
    # 2025-10 to 2026-01 come before the first data and are left out
    assert chart["period"].tolist() == list(counts)
    # the month judged (October) is left out of its own limits: baseline = the eight months before it
    expected = stats.laney_p_prime([k for _, k in counts.values()], [n for n, _ in counts.values()], list(counts),
                                   baseline=8)
    pd.testing.assert_frame_equal(chart.drop(columns=["kpi", "channel"]), expected)
    assert chart["signal"].tolist() == [False] * 8 + [True]  # about 10 % each month, then 25 %
    res = changes(ds, "2026-10", "abandonment_pct")
    assert row(res, "chat", "mom").signal is True


# ---------------------------------------------------------------- the sample

@pytest.fixture(scope="module")
def sample():
    ds = kt.load("data/sample")
    return ds, kt.kpis(ds, ["2025-10", "2026-09", "2026-10"])


@pytest.mark.parametrize("kpi", ["csat_pct", "nps"])
def test_sample_dip_month(sample, kpi):
    ds, table = sample
    res = changes(ds, "2026-10", kpi)
    assert len(res) == 12  # five channels and all, mom and yoy
    values = table[table["kpi"] == kpi].set_index(["period", "channel"])["value"]
    for r in res.itertuples():
        assert r.value == pytest.approx(values[("2026-10", r.channel)])
        assert r.value_before == pytest.approx(values[(r.compare_to, r.channel)])
    for kind in ("mom", "yoy"):
        assert row(res, "all", kind).verdict == "lower"
    assert res["p_adj"].ge(res["p"]).all()


# ---------------------------------------------------------------- issue #13: channel mix (Simpson)

def test_a_change_of_all_that_is_only_channel_mix():
    """Both channels got slower, yet all got faster: the fast channel's share grew.

    September: chat 40 tickets answered in 1..40 min, email 160 in 10..25 h; October: chat 160 in
    2..80 min (twice as slow), email 40 in 12..30 h (slower). The crude all-channel median falls
    from about 15 h to about 1 h; stratified by channel (R: survdiff(Surv(t, e) ~ period +
    strata(channel))) both strata say "slower".
    """
    def answered(channel, month, hours):
        start = pd.Timestamp(f"{month}-05 10:00")
        t = tickets(len(hours), channel, created=str(start),
                    first_response_at=[str(start + pd.Timedelta(hours=h)) for h in hours])
        return t.assign(ticket_id=[f"{channel}-{month}-{i}" for i in range(len(hours))])
    sep_chat = [k / 60 for k in range(1, 41)]
    sep_email = list(np.linspace(10, 25, 160))
    oct_chat = [k / 60 for k in np.linspace(2, 80, 160)]
    oct_email = list(np.linspace(12, 30, 40))
    t = pd.concat([answered("chat", "2026-09", sep_chat), answered("email", "2026-09", sep_email),
                   answered("chat", "2026-10", oct_chat), answered("email", "2026-10", oct_email)])
    ds = make_dataset(tickets=t, as_of="2026-11-01")
    res = changes(ds, "2026-10", "frt_median_h")
    all_mom = row(res, "all", "mom")
    assert all_mom.value < all_mom.value_before  # crude: faster
    assert all_mom.crude_verdict == "lower" and all_mom.test == "logrank_stratified"
    assert all_mom.verdict == "higher"  # within channels: slower
    # the stratified test is the sum of the two channels' two-group log-rank components
    now = np.r_[oct_chat, oct_email]
    before = np.r_[sep_chat, sep_email]
    strata = ["chat"] * 160 + ["email"] * 40 + ["chat"] * 40 + ["email"] * 160
    ref = stats.survival.logrank_two(np.r_[now, before], np.ones(400, bool), np.arange(400) < 200,
                                     strata=strata)
    assert all_mom.statistic == pytest.approx(ref.chi2) and all_mom.hr == pytest.approx(ref.hr)
    # October at September's mix (20 % chat, 80 % email): mostly email, so hours, not minutes
    assert all_mom.mix_value > 10
    found = kt.findings(ds, "2026-10")
    mix = found[(found["kpi"] == "frt_median_h") & (found["kind"] == "change")]
    assert len(mix) == 1 and "channel mix" in mix.iloc[0]["statement"]
    assert "September 2026's channel mix" in mix.iloc[0]["statement"]


def test_sample_simpson_year_over_year(sample):
    ds, _ = sample
    yoy = row(changes(ds, "2026-10", "frt_median_h"), "all", "yoy")
    # the all-channel median halved (1.12 h -> 0.56 h) while chat, phone and email got slower
    assert yoy.value_before == pytest.approx(1.12, abs=0.01) and yoy.value == pytest.approx(0.56, abs=0.01)
    assert yoy.verdict == "higher" and yoy.crude_verdict != "higher"
    assert yoy.statistic == pytest.approx(303, abs=1) and yoy.mix_value == pytest.approx(1.38, abs=0.01)


def test_sample_laney_october_does_not_widen_its_own_limits(sample):
    ds, _ = sample
    chart = laney(ds, "2026-10", "csat_pct")
    with_october = stats.laney_p_prime(chart["successes"], chart["n"])
    # issue #13: October's fall inflated σ_z from 0.85 to 2.19 when it estimated its own limits
    assert chart["sigma_z"].iloc[-1] == pytest.approx(0.85, abs=0.005)
    assert with_october["sigma_z"].iloc[-1] == pytest.approx(2.19, abs=0.005)
    assert bool(chart["signal"].iloc[-1])
