"""compare_channels: known answers on tiny datasets, the honesty rules, properties, the sample."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import kpitools as kt
from kpitools import stats
from kpitools.comparisons import observations
from kpitools.comparisons.across import COLUMNS, compare
from kpitools.comparisons.observations import Observations
from kpitools.config import BusinessHours
from tests.factories import make_dataset, tickets

Z95 = 1.959963984540054
Z_MDD = Z95 + sps.norm.ppf(0.8)  # two-sided 5 % and 80 % power


def csat(channel: str, top: int, total: int, month: str = "2026-10") -> pd.DataFrame:
    """``total`` csat answers of one channel, ``top`` of them 5 (top two) and the rest 2."""
    return pd.DataFrame({"response_id": [f"{channel}-{month}-{i}" for i in range(total)], "survey": "csat",
                         "score": [5] * top + [2] * (total - top), "responded_at": f"{month}-10 12:00",
                         "channel": channel})


def survey_rows(channel: str, survey: str, scores: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"response_id": [f"{channel}-{survey}-{i}" for i in range(len(scores))],
                         "survey": survey, "score": scores, "responded_at": "2026-10-10 12:00",
                         "channel": channel})


def survey_dataset(*parts: pd.DataFrame):
    """The surveys given, beside one ticket (a dataset always has tickets)."""
    surveys = pd.concat(parts, ignore_index=True)
    return make_dataset(tickets=tickets(1, "chat"), surveys=surveys, as_of="2026-11-01")


def pairs(res: pd.DataFrame) -> pd.DataFrame:
    return res[res["comparison"] == "pair"].set_index(["group_a", "group_b"])


# ---------------------------------------------------------------- shares

def test_two_shares_known_answer():
    # Newcombe (1998), example (a): 56/70 vs 48/80 -> difference 0.2, Mee's score interval
    # [0.0533, 0.3377] (Table II, method 5: it inverts the pooled z-test beside it);
    # pooled z = 0.2 / sqrt(.6933 * .3067 * (1/70 + 1/80)) = 2.650, p = 0.008
    res = kt.compare_channels(survey_dataset(csat("chat", 56, 70), csat("email", 48, 80)), "2026-10", "csat_pct")
    assert list(res.columns) == COLUMNS
    pair = pairs(res).loc[("chat", "email")]
    assert (pair.estimate_a, pair.n_a, pair.estimate_b, pair.n_b) == pytest.approx((80, 70, 60, 80))
    assert (pair["diff"], pair.diff_low, pair.diff_high) == pytest.approx((20, 5.33, 33.77), abs=0.005)
    assert pair.test == "z" and pair.statistic == pytest.approx(2.650, abs=5e-4)
    assert pair.p == pytest.approx(0.00805, abs=5e-5) and pair.p_adj == pair.p  # a single pair
    # Cohen's h = 2 asin(sqrt .8) - 2 asin(sqrt .6) = 2.2143 - 1.7722
    assert pair.effect_size == pytest.approx(0.4421, abs=1e-4) and pair.effect_name == "cohens_h"
    # one pair, significant: the level used is alpha itself; R's power.prop.test equation for the MDD
    assert pair.level == 0.05 and pair.family == "Holm over the 1 pair of this KPI"
    assert pair.mdd == pytest.approx(100 * stats.min_detectable_difference(104 / 150, 70, 0.05, n2=80))
    assert (pair.verdict, pair.better, pair.reason, pair.interval_of) == ("higher", "chat", None, "difference")
    # with two groups the omnibus chi-square is the square of the pair's z (no continuity correction)
    omni = res.iloc[0]
    assert omni.comparison == "omnibus" and omni.test == "chi2"
    assert omni.statistic == pytest.approx(pair.statistic ** 2) and omni.p == pytest.approx(pair.p)
    assert omni.effect_size == pytest.approx(abs(pair.statistic) / math.sqrt(150))  # Cramér's V
    assert (omni.verdict, omni.n_a) == ("difference", 150)


def holm(p: list[float]) -> list[float]:
    """Holm's step-down, written out: sorted p times (m, ..., 1), running maximum, capped at 1."""
    order = sorted(range(len(p)), key=p.__getitem__)
    out, running = [0.0] * len(p), 0.0
    for step, i in enumerate(order):
        running = max(running, (len(p) - step) * p[i])
        out[i] = min(1.0, running)
    return out


def test_holm_by_default_and_bh_on_request():
    ds = survey_dataset(csat("chat", 69, 100), csat("email", 54, 100), csat("phone", 44, 100))
    raw = [stats.two_proportion_ztest(*c).p for c in ((69, 100, 54, 100), (69, 100, 44, 100), (54, 100, 44, 100))]
    keys = [("chat", "email"), ("chat", "phone"), ("email", "phone")]
    res_holm = pairs(kt.compare_channels(ds, "2026-10", "csat_pct"))
    assert res_holm.loc[keys, "p"].tolist() == pytest.approx(raw)
    assert res_holm.loc[keys, "p_adj"].tolist() == pytest.approx(holm(raw))
    # BH by hand: sorted p_(i) * m / i, running minimum from the top
    s = sorted(raw)
    bh_sorted = [min(s[i] * 3 / (i + 1) for i in range(j, 3)) for j in range(3)]
    res_bh = pairs(kt.compare_channels(ds, "2026-10", "csat_pct", p_adjust="bh"))
    assert res_bh.loc[keys, "p_adj"].tolist() == pytest.approx([bh_sorted[s.index(p)] for p in raw])
    # chat-email: raw p 0.029 -> Holm 2p = 0.059 (not significant), BH 3p/2 = 0.044 (significant)
    assert res_holm.loc[("chat", "email"), "verdict"] == "no significant difference"
    assert res_bh.loc[("chat", "email"), "verdict"] == "higher"
    # the minimum detectable difference stands beside every "no significant difference"
    no_diff = res_holm[res_holm["verdict"] == "no significant difference"]
    assert len(no_diff) and no_diff["mdd"].gt(0).all()
    assert res_holm.loc[("email", "phone"), "reason"].startswith("adjusted p = ")


def test_fewer_than_30_means_no_verdict_and_no_test():
    res = kt.compare_channels(survey_dataset(csat("chat", 20, 20), csat("email", 10, 100)), "2026-10", "csat_pct")
    pair = pairs(res).loc[("chat", "email")]
    assert pair.verdict == "not enough data" and pair.reason == "n < 30 for chat (n = 20)"
    assert math.isnan(pair.p) and math.isnan(pair.p_adj) and pair.test == "none"
    assert pair.estimate_a == 100 and pair.n_a == 20  # the estimates are still shown
    omni = res.iloc[0]
    assert omni.verdict == "not enough data" and omni.reason == "fewer than 2 groups with n ≥ 30"


def test_small_expected_count_uses_fisher_and_gives_no_verdict():
    # 2/40 vs 9/40: expected successes 5.5 each -> z-test; 1/40 vs 5/40: expected 3 < 5 -> Fisher
    res = kt.compare_channels(survey_dataset(csat("chat", 1, 40), csat("email", 5, 40)), "2026-10", "csat_pct")
    pair = pairs(res).loc[("chat", "email")]
    assert pair.test == "fisher"
    assert pair.p == pytest.approx(sps.fisher_exact([[1, 39], [5, 35]]).pvalue)
    assert pair.verdict == "not enough data" and pair.reason == "an expected count is below 5 (3.0)"
    assert res.iloc[0].test == "fisher" and res.iloc[0].verdict == "not enough data"
    ok = pairs(kt.compare_channels(survey_dataset(csat("chat", 2, 40), csat("email", 9, 40)), "2026-10",
                                   "csat_pct")).loc[("chat", "email")]
    assert ok.test == "z" and ok.reason is None


def test_by_agent_id():
    # tickets of two agents (and one without agent, left out of the groups but not of "all")
    t = pd.concat([tickets(50, "chat", agent_id="A1", resolved_at="2026-10-06", reopened=[1] * 5 + [0] * 45),
                   tickets(60, "email", agent_id="A2", resolved_at="2026-10-06", reopened=[1] * 24 + [0] * 36),
                   tickets(3, "phone", resolved_at="2026-10-06")], ignore_index=True)
    res = kt.compare_channels(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10", "reopen_pct", by="agent_id")
    assert res["by"].eq("agent_id").all()
    pair = pairs(res).loc[("A1", "A2")]
    z, p = stats.two_proportion_ztest(5, 50, 24, 60)
    assert (pair.estimate_a, pair.estimate_b, pair.statistic, pair.p) == pytest.approx((10, 40, z, p))
    assert pair.verdict == "lower" and pair.better == "A1"  # fewer reopens is better
    assert res.iloc[0].n_a == 110


# ---------------------------------------------------------------- NPS, scores, handle and response times

def test_nps_known_answer():
    # kpitools.stats.nps_diff docstring: (50, 50, 100) vs (80, 60, 60): diff 35, SE 8.3, z 4.22, p 2.5e-5
    s = pd.concat([survey_rows("chat", "nps", [3] * 50 + [7] * 50 + [10] * 100),
                   survey_rows("email", "nps", [0] * 80 + [8] * 60 + [9] * 60)])
    res = kt.compare_channels(survey_dataset(s), "2026-10", "nps")
    pair = pairs(res).loc[("chat", "email")]
    assert (pair.estimate_a, pair.estimate_b, pair["diff"]) == pytest.approx((25, -10, 35))
    assert pair.statistic == pytest.approx(4.22, abs=0.005) and pair.p == pytest.approx(2.5e-5, rel=0.02)
    assert pair.diff_high - pair["diff"] == pytest.approx(Z95 * 8.3, abs=0.01)
    assert pair.verdict == "higher"
    omni = res.iloc[0]
    chi2 = sps.chi2_contingency([[50, 50, 100], [80, 60, 60]], correction=False)
    assert omni.test == "chi2" and (omni.statistic, omni.p) == pytest.approx((chi2.statistic, chi2.pvalue))


def test_mean_scores_use_kruskal_and_mann_whitney_with_the_shift():
    scores = {"chat": [7, 6, 6, 5, 7] * 8, "email": [5, 4, 6, 5, 3] * 8, "phone": [2, 4, 5, 3, 6, 1] * 6}
    s = pd.concat([survey_rows(c, "ces", v) for c, v in scores.items()])
    res = kt.compare_channels(survey_dataset(s), "2026-10", "ces_mean")
    values = np.concatenate(list(scores.values()))
    groups = np.repeat(list(scores), [len(v) for v in scores.values()])
    kw = stats.kruskal(values, groups)
    omni = res.iloc[0]
    assert (omni.test, omni.statistic, omni.p, omni.effect_size) == (
        "kruskal", pytest.approx(kw.statistic), pytest.approx(kw.p), pytest.approx(kw.epsilon_squared))
    got = pairs(res)
    assert got["test"].eq("mann_whitney").all() and got["interval_of"].eq("shift").all()
    chat, email = np.array(scores["chat"]), np.array(scores["email"])
    pair = got.loc[("chat", "email")]
    mw = sps.mannwhitneyu(chat, email, method="asymptotic")  # R: wilcox.test(chat, email, exact = FALSE)
    assert (pair.statistic, pair.p) == pytest.approx((mw.statistic, mw.pvalue))
    assert pair["diff"] == pytest.approx(chat.mean() - email.mean()) and math.isnan(pair.diff_low)
    ref = stats.mann_whitney(chat, email)
    assert (pair.effect_size, pair.hl_shift) == pytest.approx((ref.rank_biserial, ref.hodges_lehmann))
    # the shift's interval is at the level the Holm family used, and excludes 0 with the verdict
    from kpitools.stats.ranks import covers, rank_shift
    level = pair.level
    shift = (pair.hl_low, pair.hl_high, pair.hl_low_open, pair.hl_high_open)
    assert shift == rank_shift(chat, email).interval(1 - level)
    for r in got.itertuples():
        assert covers(r.hl_low, r.hl_high, r.hl_low_open, r.hl_high_open) == (r.verdict == "no significant difference")


def test_aht_compares_handle_minutes_by_welch():
    chat = [600.0, 660, 720, 540, 900] * 8
    phone = [300.0, 360, 420, 480, 240] * 8
    t = pd.concat([tickets(40, "chat", handle_seconds=chat), tickets(40, "phone", handle_seconds=phone)])
    res = kt.compare_channels(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10", "aht_min")
    pair = pairs(res).loc[("chat", "phone")]
    a, b = np.array(chat) / 60, np.array(phone) / 60
    assert (pair.estimate_a, pair.estimate_b) == pytest.approx((a.mean(), b.mean()))
    welch = stats.welch_diff(a.mean(), a.std(ddof=1), 40, b.mean(), b.std(ddof=1), 40)
    assert pair.test == "welch" and (pair.p, pair.diff_low, pair.diff_high) == pytest.approx(
        (welch.p, welch.low, welch.high))
    assert pair.verdict == "higher" and pair.better == "phone"


def hours_after(hours: list[float | None], start: str = "2026-10-05 10:00") -> list[str | None]:
    base = pd.Timestamp(start)
    return [None if h is None else str(base + pd.Timedelta(hours=h)) for h in hours]


def test_times_use_logrank_and_flag_few_events():
    # chat: 40 tickets resolved after 1..40 h; email: 8 of 40 resolved (after 10..80 h), 32 open
    chat_h = [float(h) for h in range(1, 41)]
    email_h = [10.0 * k for k in range(1, 9)] + [None] * 32
    t = pd.concat([tickets(40, "chat", resolved_at=hours_after(chat_h)),
                   tickets(40, "email", resolved_at=hours_after(email_h))])
    ds = make_dataset(tickets=t, as_of="2026-11-01")
    res = kt.compare_channels(ds, "2026-10", "ttr_median_h")
    pair = pairs(res).loc[("chat", "email")]
    censored = (pd.Timestamp("2026-11-01") - pd.Timestamp("2026-10-05 10:00")) / pd.Timedelta(hours=1)
    durations = np.array(chat_h + [h if h is not None else censored for h in email_h])
    observed = np.array([True] * 48 + [False] * 32)
    lr = stats.logrank(durations, observed, ["chat"] * 40 + ["email"] * 40)
    assert pair.test == "logrank" and (pair.statistic, pair.p) == pytest.approx((lr.chi2, lr.p))
    assert pair.estimate_a == 20.5 and math.isnan(pair.estimate_b)  # email's median is not reached
    assert math.isnan(pair["diff"]) and pair.verdict == "lower" and pair.better == "chat"
    assert "fewer than 10 events for email (8)" in pair["flags"]
    assert "median not reached for email" in pair["flags"]
    # censoring-aware effect size: the Peto hazard ratio of the log-rank test (chat resolves sooner)
    two = stats.survival.logrank_two(durations, observed, np.arange(80) < 40)
    assert (pair.effect_name, pair.hr) == ("hazard_ratio", pytest.approx(two.hr)) and pair.hr > 1
    assert pair.hr_low > 1 and pair.interval_of == "hazard ratio"
    omni = res.iloc[0]
    assert (omni.test, omni.p) == ("logrank", pytest.approx(lr.p))


def test_business_hours_selects_the_bh_twin():
    weekly = {d: ((9 * 60, 17 * 60),) for d in range(5)}
    t = pd.concat([tickets(30, "chat", resolved_at="2026-10-05 11:00"),
                   tickets(30, "email", resolved_at="2026-10-06 10:00")])
    ds = make_dataset(tickets=t, as_of="2026-11-01", business_hours=BusinessHours(weekly))
    res = kt.compare_channels(ds, "2026-10", "ttr_median_h", business_hours=True)
    pair = pairs(res).loc[("chat", "email")]
    # Monday 10:00 -> 11:00 is 1 open hour; -> Tuesday 10:00 is 7 + 1 = 8 open hours
    assert res["kpi"].eq("ttr_bh_median_h").all() and (pair.estimate_a, pair.estimate_b) == (1.0, 8.0)
    no_schedule = make_dataset(tickets=t, as_of="2026-11-01")
    with pytest.raises(kt.KpitoolsError, match="business_hours"):
        kt.compare_channels(no_schedule, "2026-10", "ttr_bh_median_h")


@pytest.mark.parametrize("kpi, message", [
    ("nope", "unknown KPI id"),
    ("tickets", "count"),
    ("backlog_end", "count"),
    ("cpi", "cost"),
    ("crr_pct", "all channels only"),
    ("frt_mean_h", "compare frt_median_h"),
])
def test_kpis_that_cannot_be_compared(kpi, message):
    ds = survey_dataset(csat("chat", 5, 10))
    with pytest.raises(kt.KpitoolsError, match=message):
        kt.compare_channels(ds, "2026-10", kpi)


@pytest.mark.parametrize("kwargs, message", [
    ({"kpi": "csat_pct", "business_hours": True}, "time KPIs"),
    ({"kpi": "csat_pct", "p_adjust": "bonferroni"}, "p_adjust"),
    ({"kpi": "csat_pct", "alpha": 1.5}, "alpha"),
    ({"kpi": "csat_pct", "by": "region"}, "region"),
    ({"kpi": "csat_pct", "period": "2026-09:2026-10"}, "one month"),
])
def test_bad_arguments(kwargs, message):
    ds = survey_dataset(csat("chat", 5, 10))
    with pytest.raises(kt.KpitoolsError, match=message):
        kt.compare_channels(ds, **{"period": "2026-10", **kwargs})


# ---------------------------------------------------------------- properties (no engine: observations by hand)

def share_observations(counts: list[tuple[int, int]]) -> Observations:
    groups = [f"g{i}" for i in range(len(counts))]
    data = pd.DataFrame({"period": "2026-10", "group": groups, "successes": [k for k, _ in counts],
                         "n": [n for _, n in counts]})
    return Observations("csat_pct", "share", data, groups)


def score_observations(kind: str, kpi: str, scores: list[list[int]]) -> Observations:
    groups = [f"g{i}" for i in range(len(scores))]
    frames = [pd.Series(s).value_counts().rename_axis("score").reset_index(name="count").assign(group=g)
              for g, s in zip(groups, scores)]
    data = pd.concat(frames, ignore_index=True).assign(period="2026-10")
    return Observations(kpi, kind, data, groups, (0, 10) if kind == "nps" else (1, 7))


def check_invariants(res: pd.DataFrame) -> None:
    p, p_adj = res["p"].to_numpy(float), res["p_adj"].to_numpy(float)
    assert np.all((p[~np.isnan(p)] >= 0) & (p[~np.isnan(p)] <= 1))
    both = ~np.isnan(p_adj)
    assert np.all(p_adj[both] >= p[both] - 1e-12) and np.all(p_adj[both] <= 1)
    for side in ("a", "b"):
        est, low, high, n = (res[f"{c}_{side}"].to_numpy(float) for c in ("estimate", "ci_low", "ci_high", "n"))
        high = np.where(np.isnan(high), np.inf, high)  # a KM limit not reached is empty
        ok = ~np.isnan(low) & ~np.isnan(est) & (n >= 2)  # n = 1: the adjusted-Wald NPS CI may miss (nps_ci)
        assert np.all((low[ok] <= est[ok] + 1e-9) & (est[ok] <= high[ok] + 1e-9))
    d, lo, hi = (res[c].to_numpy(float) for c in ("diff", "diff_low", "diff_high"))
    ok = ~np.isnan(lo)
    assert np.all((lo[ok] <= d[ok] + 1e-9) & (d[ok] <= hi[ok] + 1e-9))
    pair = res[res["comparison"] == "pair"]
    assert pair["verdict"].isin(["lower", "higher", "no significant difference", "not enough data"]).all()
    assert pair.loc[pair["verdict"] != "not enough data", "n_a"].ge(30).all()
    assert pair.loc[pair["verdict"] == "no significant difference", "mdd"].notna().all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
                min_size=2, max_size=5),
       st.sampled_from(["holm", "bh"]))
def test_share_comparison_invariants(counts, method):
    check_invariants(compare(share_observations(counts), "2026-10", p_adjust=method))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10), min_size=1, max_size=80), min_size=2, max_size=4),
       st.sampled_from([("nps", "nps"), ("score", "ces_mean")]))
def test_score_and_nps_comparison_invariants(scores, kind):
    if kind[0] == "score":
        scores = [[1 + s % 7 for s in group] for group in scores]
    check_invariants(compare(score_observations(*kind, scores), "2026-10"))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 50), st.booleans()), min_size=1, max_size=60),
                min_size=2, max_size=4))
def test_time_comparison_invariants(groups):
    names = [f"g{i}" for i in range(len(groups))]
    data = pd.DataFrame([{"period": "2026-10", "group": g, "hours": float(h), "event": e, "count": 1}
                         for g, rows in zip(names, groups) for h, e in rows])
    res = compare(Observations("ttr_median_h", "time", data, names), "2026-10")
    check_invariants(res)
    flagged = res.loc[res["comparison"] == "pair", "flags"]
    events = {g: sum(e for _, e in rows) for g, rows in zip(names, groups)}
    for (a, b), text in zip(res.loc[res["comparison"] == "pair", ["group_a", "group_b"]].values, flagged):
        if min(len(groups[names.index(a)]), len(groups[names.index(b)])) >= 30:
            assert ("fewer than 10 events" in text) == (min(events[a], events[b]) < 10)


# ---------------------------------------------------------------- the sample

@pytest.fixture(scope="module")
def sample():
    ds = kt.load("data/sample")
    return ds, kt.kpis(ds, "2026-10")


@pytest.mark.parametrize("kpi", ["csat_pct", "nps", "ces_mean", "csat_mean", "aht_min", "fcr_pct", "open_pct",
                                 "abandonment_pct", "sla_frt_pct", "frt_median_h", "ttr_bh_median_h"])
def test_sample_estimates_equal_kpis(sample, kpi):
    ds, table = sample
    res = kt.compare_channels(ds, "2026-10", kpi)
    cols = ["channel", "value", "ci_low", "ci_high", "n"]
    sides = [res[[f"{c}_{s}" for c in ("group", "estimate", "ci_low", "ci_high", "n")]].set_axis(cols, axis=1)
             for s in "ab"]
    got = pd.concat(sides).dropna(subset=["channel"]).drop_duplicates("channel").set_index("channel").sort_index()
    want = table[(table["kpi"] == kpi) & table["channel"].isin(got.index)].set_index("channel").sort_index()
    # email, messaging and social never abandon a ticket: not compared on abandonment (SPEC §9)
    assert len(got) == (2 if kpi == "abandonment_pct" else 5)
    assert got["value"].tolist() == pytest.approx(want["value"].tolist(), rel=1e-12)
    assert got["n"].tolist() == want["n"].tolist()
    if kpi != "open_pct":  # kpis.csv gives open_pct no CI; compare_channels adds a Wilson one
        assert got["ci_low"].tolist() == pytest.approx(want["ci_low"].tolist(), rel=1e-9, nan_ok=True)
        assert got["ci_high"].tolist() == pytest.approx(want["ci_high"].tolist(), rel=1e-9, nan_ok=True)


def test_sample_observations_rebuild_the_shares(sample):
    ds, table = sample
    obs = observations(ds, "2026-10", "fcr_pct")
    want = table[table["kpi"] == "fcr_pct"].set_index("channel")
    rebuilt = obs.set_index("channel")
    assert (100 * rebuilt["successes"] / rebuilt["n"]).sort_index().tolist() == pytest.approx(
        want.loc[rebuilt.index, "value"].sort_index().tolist())


def test_sample_chat_answers_fastest_and_social_matches_messaging(sample):
    ds, _ = sample
    frt = pairs(kt.compare_channels(ds, "2026-10", "frt_median_h"))
    chat = frt[(frt.index.get_level_values(0) == "chat") | (frt.index.get_level_values(1) == "chat")]
    assert len(chat) == 4 and chat["better"].eq("chat").all()
    for kpi in ("csat_pct", "nps", "ces_mean"):
        pair = pairs(kt.compare_channels(ds, "2026-10", kpi)).loc[("messaging", "social")]
        assert pair.verdict == "no significant difference" and pair.mdd > 0


# ---------------------------------------------------------------- issue #13: intervals agree with verdicts

def excludes_null(row) -> bool:
    """Whether the interval beside the row's verdict excludes "no difference"."""
    from kpitools.stats.ranks import covers
    if row.interval_of == "hazard ratio":
        return not (row.hr_low <= 1 <= row.hr_high)
    if row.interval_of == "shift":
        return not covers(row.hl_low, row.hl_high, row.hl_low_open, row.hl_high_open)
    return not (row.diff_low <= 0 <= row.diff_high)


def check_agreement(res: pd.DataFrame) -> None:
    judged = res[(res["comparison"] == "pair") & res["verdict"].isin(["lower", "higher", "no significant difference"])]
    for r in judged.itertuples():
        assert excludes_null(r) == (r.p_adj < 0.05), (r.kpi, r.p, r.p_adj, r.level)
        assert (r.verdict != "no significant difference") == (r.p_adj < 0.05)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(30, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
                min_size=2, max_size=5), st.sampled_from(["holm", "bh"]))
def test_adjusted_share_interval_excludes_0_exactly_when_adjusted_p_below_alpha(counts, method):
    check_agreement(compare(share_observations(counts), "2026-10", p_adjust=method))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10), min_size=30, max_size=120), min_size=2, max_size=4),
       st.sampled_from([("nps", "nps"), ("score", "ces_mean")]), st.sampled_from(["holm", "bh"]))
def test_adjusted_nps_and_shift_intervals_agree_with_verdicts(scores, kind, method):
    if kind[0] == "score":
        scores = [[1 + s % 7 for s in group] for group in scores]
    check_agreement(compare(score_observations(*kind, scores), "2026-10", p_adjust=method))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 50), st.booleans()), min_size=30, max_size=80),
                min_size=2, max_size=4), st.sampled_from(["holm", "bh"]))
def test_adjusted_hazard_ratio_interval_agrees_with_the_logrank_verdict(groups, method):
    names = [f"g{i}" for i in range(len(groups))]
    data = pd.DataFrame([{"period": "2026-10", "group": g, "hours": float(h), "event": e, "count": 1}
                         for g, rows in zip(names, groups) for h, e in rows])
    check_agreement(compare(Observations("ttr_median_h", "time", data, names), "2026-10", p_adjust=method))


def test_no_events_means_no_test_and_says_so():
    data = pd.DataFrame({"period": "2026-10", "group": ["a"] * 40 + ["b"] * 40, "hours": 5.0, "event": False,
                         "count": 1})
    pair = pairs(compare(Observations("ttr_median_h", "time", data, ["a", "b"]), "2026-10")).iloc[0]
    assert pair.verdict == "not enough data" and pair.reason.startswith("median not reached")


def test_a_channel_that_never_abandons_is_not_compared():
    t = pd.concat([tickets(100, "chat", abandoned=[True] * 10 + [False] * 90),
                   tickets(100, "phone", abandoned=[True] * 30 + [False] * 70),
                   tickets(100, "email")])  # email: no abandoned ticket ever
    res = kt.compare_channels(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10", "abandonment_pct")
    assert list(pairs(res).index) == [("chat", "phone")]
    assert "not compared (the KPI never occurs in their history): email" in res.iloc[0]["flags"]
    assert res.attrs["family"] == "Holm over the 1 pair of this KPI"


def test_sample_abandonment_compares_only_channels_that_abandon(sample):
    ds, _ = sample
    res = pairs(kt.compare_channels(ds, "2026-10", "abandonment_pct"))
    assert list(res.index) == [("chat", "phone")]
    check_agreement(kt.compare_channels(ds, "2026-10", "csat_pct"))


def test_many_channels_compare_only_the_largest():
    # 12 channels of 40 + k tickets: the 10 largest (ch02..ch11) are compared, 45 pairs, and the
    # omnibus row names the two left out; 5,000 channels would otherwise make 12.5 million pairs
    frames = [tickets(40 + k, channel=f"ch{k:02d}", resolved_at="2026-10-06", reopened=[0, 1] * 20 + [0] * k)
              for k in range(12)]
    ds = make_dataset(tickets=pd.concat(frames, ignore_index=True), as_of="2026-11-01")
    res = kt.compare_channels(ds, "2026-10", "reopen_pct")
    pairs = res[res["comparison"] == "pair"]
    assert len(pairs) == 45 and not {"ch00", "ch01"} & (set(pairs["group_a"]) | set(pairs["group_b"]))
    assert "the 10 largest of 12 channel values by n; the other 2 are not compared" in res["flags"].iloc[0]
    assert len(kt.compare_channels(ds, "2026-10", "reopen_pct", top=None).query("comparison == 'pair'")) == 66
