"""findings: statements on tiny datasets (exact wording), the selection and ranking rules, the sample."""

from __future__ import annotations

import pandas as pd
import pytest

import kpitools as kt
from kpitools import stats
from kpitools.comparisons import findings
from kpitools.comparisons.findings import COLUMNS, GROUPS, magnitude, rank
from tests.factories import make_dataset, tickets


def abandoning(channel: str, n: int, abandoned: int) -> pd.DataFrame:
    return tickets(n, channel, abandoned=[True] * abandoned + [False] * (n - abandoned))


def csat(channel: str, month: str, top: int, total: int) -> pd.DataFrame:
    return pd.DataFrame({"response_id": [f"{channel}-{month}-{i}" for i in range(total)], "survey": "csat",
                         "score": [5] * top + [1] * (total - top), "responded_at": f"{month}-12 09:00",
                         "channel": channel})


@pytest.fixture(scope="module")
def tiny():
    """October 2026: chat abandons 5 %, phone 30 %; CSAT chat 60 %, phone 54 %, chat 90 % in September."""
    t = pd.concat([abandoning("chat", 100, 5), abandoning("phone", 100, 30)])
    s = pd.concat([csat("chat", "2026-10", 60, 100), csat("phone", "2026-10", 54, 100),
                   csat("chat", "2026-09", 90, 100)])
    return findings(make_dataset(tickets=t, surveys=s, as_of="2026-11-01"), "2026-10")


def test_one_family_for_the_page(tiny):
    # the page tests 4 statements: abandonment chat–phone, CSAT chat–phone, CSAT chat and all
    # September -> October (no September data for phone; no October 2025 at all); 3 are
    # significant, so BH's level is 0.05 · (3 + 1) / 4 = 0.05 and the intervals are 95 % ones
    assert tiny.attrs["family"] == ("Benjamini–Hochberg over the 4 statements tested on this page (false "
                                    "discovery rate 5%); intervals at the 95% level.")


def test_difference_statement(tiny):
    diff = tiny[(tiny["kind"] == "difference")]
    assert diff["kpi"].tolist() == ["abandonment_pct"]
    # z = 0.25 / sqrt(.175 * .825 * .02) = 4.66; Mee's interval of 5/100 − 30/100: [−35, −15] pts
    ci = stats.score_diff_ci(5, 100, 30, 100)
    assert (round(100 * ci.low), round(100 * ci.high)) == (-35, -15)
    assert diff.iloc[0]["statement"] == ("chat abandonment 5% is lower than phone 30% (−25 pts [−35, −15]; "
                                         "adjusted p < 0.001).")
    assert diff.iloc[0]["pairs"] == (("chat", "phone"),) and diff.iloc[0]["n"] == 200
    assert diff.iloc[0]["group"] == "new difference"  # no September data: nothing to stand on


def test_change_statements(tiny):
    # CSAT: chat 90/100 -> 60/100 (−30 pts); all channels 90/100 -> 114/200 (−33 pts)
    change = tiny[tiny["kind"] == "change"].set_index(tiny.loc[tiny["kind"] == "change", "channels"].str[0])
    assert list(change.index) == ["all"]  # chat fell the same way as all: not repeated
    statement = change.loc["all", "statement"]
    assert statement.startswith("CSAT (all channels) fell from 90% in September 2026 to 57% in October 2026 "
                                "(−33 pts [")
    assert statement.endswith("; adjusted p < 0.001).") and change.loc["all", "compare_to"] == "2026-09"
    assert change.loc["all", "group"] == "month over month" and tiny.iloc[0]["kind"] == "change"


def test_no_difference_note_gives_the_detectable_difference(tiny):
    note = tiny[tiny["kind"] == "no difference"]
    assert note["kpi"].tolist() == ["csat_pct"] and tiny.iloc[-1]["kind"] == "no difference"
    # R: power.prop.test(n = 100, p1 = 0.57, power = 0.8)$p2 − 0.57 = 0.19 (at the page's 5 % level)
    mdd = 100 * stats.min_detectable_difference(114 / 200, 100)
    assert round(mdd) == 19
    assert note.iloc[0]["statement"] == ("chat and phone CSAT: no significant difference (60% vs 54%; could "
                                         "detect ≥ 19 pts with 80% power).")


def test_missing_inputs_are_skipped_with_a_reason(tiny):
    assert tiny.attrs["skipped"]["frt_median_h"] == "no first_response_at column in tickets"
    assert tiny.attrs["skipped"]["sla_frt_pct"] == "no targets table"
    assert tiny["rank"].tolist() == list(range(1, len(tiny) + 1))


def test_a_channel_below_every_other_gets_one_statement():
    t = pd.concat([abandoning("chat", 100, 5), abandoning("email", 100, 30), abandoning("phone", 100, 35)])
    res = findings(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    diff = res[res["kind"] == "difference"]
    assert len(diff) == 1
    assert diff.iloc[0]["statement"] == ("chat has the lowest abandonment, 5%, lower than every other "
                                         "channel (email 30%, phone 35%; all adjusted p < 0.001).")
    assert diff.iloc[0]["pairs"] == (("chat", "email"), ("chat", "phone"))
    assert res.iloc[-1]["statement"].startswith("email and phone abandonment: no significant difference")


def test_a_quiet_month_keeps_the_columns():
    # 20 tickets per channel: too few for any verdict, so no finding at all
    t = pd.concat([abandoning("chat", 20, 2), abandoning("phone", 20, 3)])
    res = findings(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    assert res.empty and list(res.columns) == COLUMNS
    assert res["p_adj"].dtype == float and res["n"].dtype == float
    # the monthly summary's channel filter: an empty mask must still select rows, not columns
    shown = res[res["channels"].map(lambda cs: set(cs) <= {"chat", "all"}).astype(bool)]
    assert shown["statement"].tolist() == []


def test_magnitude_classes():
    assert [magnitude(x, "cohens_h") for x in (0.1, 0.2, 0.6, -0.9)] == ["negligible", "small", "medium", "large"]
    assert [magnitude(x, "rank_biserial") for x in (0.05, 0.2, 0.3, 0.7)] == [
        "negligible", "small", "medium", "large"]


def test_rank_by_group_then_kpi_then_effect_on_its_own_scale():
    def row(kind, group, kpi, effect, magnitude="negligible"):
        return {"kind": kind, "group": group, "kpi": kpi, "effect": effect, "effect_name": "pp",
                "magnitude": magnitude, "n": 100}
    rows = [
        row("no difference", "no difference", "nps", 30, "large"),
        row("difference", "standing difference", "csat_pct", 30, "large"),
        row("difference", "new difference", "fcr_pct", 2),
        row("change", "year over year", "csat_pct", 25),
        row("target", "target missed", "csat_pct", 27),
        row("change", "month over month", "abandonment_pct", 3.9),  # "negligible" by Cohen: still news
        row("change", "month over month", "csat_pct", 10),
        row("change", "month over month", "csat_pct", 25),
    ]
    ranked = rank(rows)
    assert ranked["group"].tolist() == ["month over month"] * 3 + ["year over year", "target missed",
                                                                   "new difference", "standing difference",
                                                                   "no difference"]
    assert ranked["kpi"].tolist()[:3] == ["csat_pct", "csat_pct", "abandonment_pct"]
    assert ranked["effect"].tolist()[:2] == [25, 10] and ranked["rank"].tolist() == list(range(1, 9))
    assert set(ranked["group"]) <= set(GROUPS)


# ---------------------------------------------------------------- the sample

@pytest.fixture(scope="module")
def sample_findings():
    return findings(kt.load("data/sample"), "2026-10")


def asserted(res: pd.DataFrame, kpi: str) -> set[tuple[str, str]]:
    rows = res[(res["kind"] == "difference") & (res["kpi"] == kpi)]
    return {pair for pairs in rows["pairs"] for pair in pairs}


def test_sample_phone_csat_below_chat(sample_findings):
    assert ("phone", "chat") in asserted(sample_findings, "csat_pct")


def test_sample_chat_answers_fastest(sample_findings):
    frt = sample_findings[(sample_findings["kind"] == "difference") & (sample_findings["kpi"] == "frt_median_h")]
    fastest = frt[frt["statement"].str.startswith("chat has the shortest")]
    assert len(fastest) == 1
    assert set(fastest.iloc[0]["pairs"]) == {("chat", c) for c in ("email", "messaging", "phone", "social")}


@pytest.mark.parametrize("kpi", ["csat_pct", "nps"])
@pytest.mark.parametrize("before", ["2026-09", "2025-10"])
def test_sample_dip_month(sample_findings, kpi, before):
    hit = sample_findings[(sample_findings["kind"] == "change") & (sample_findings["kpi"] == kpi)
                          & (sample_findings["compare_to"] == before)]
    assert len(hit) == 1 and hit.iloc[0]["channels"] == ("all",) and " fell from " in hit.iloc[0]["statement"]


@pytest.mark.parametrize("kpi", ["csat_pct", "nps", "ces_mean"])
def test_sample_social_and_messaging_not_called_different(sample_findings, kpi):
    pairs = asserted(sample_findings, kpi)
    assert ("social", "messaging") not in pairs and ("messaging", "social") not in pairs


def test_sample_only_significant_results_are_stated(sample_findings):
    stated = sample_findings[sample_findings["kind"] != "no difference"]
    assert len(stated) and stated["p_adj"].lt(0.05).all()
    assert sample_findings["kind"].tolist() == sorted(sample_findings["kind"], key=lambda k: k == "no difference")
    assert not sample_findings.attrs["skipped"]
    assert sample_findings.attrs["family"].startswith("Benjamini–Hochberg over the ")


def test_sample_the_months_news_comes_first(sample_findings):
    # issue #13: October's billing incident — CSAT 78 % -> 53 %, NPS +31 -> −18 — leads the page
    first, second = sample_findings.iloc[0], sample_findings.iloc[1]
    assert (first["kpi"], second["kpi"]) == ("csat_pct", "nps")
    for f in (first, second):
        assert f["kind"] == "change" and f["compare_to"] == "2026-09" and " fell from " in f["statement"]
    assert sample_findings["group"].tolist() == sorted(sample_findings["group"], key=GROUPS.index)
    # abandonment doubling (4.2 % -> 8.1 %) is month-over-month news, not a "negligible" #37
    abandonment = sample_findings[(sample_findings["kpi"] == "abandonment_pct")
                                  & (sample_findings["group"] == "month over month")]
    assert len(abandonment) == 1 and abandonment.index[0] < 10


def test_sample_never_compares_abandonment_of_a_channel_that_never_abandons(sample_findings):
    rows = sample_findings[(sample_findings["kpi"] == "abandonment_pct")
                           & sample_findings["kind"].isin(["difference", "no difference"])]
    named = {c for cs in rows["channels"] for c in cs}
    assert named and not named & {"email", "messaging", "social"}


def test_sample_simpson_is_named_as_channel_mix(sample_findings):
    frt = sample_findings[(sample_findings["kpi"] == "frt_median_h") & (sample_findings["compare_to"] == "2025-10")]
    assert len(frt) == 1
    statement = frt.iloc[0]["statement"]
    assert "channel mix" in statement and "within channels times got longer" in statement
    assert "at October 2025's channel mix October 2026 would be 1.4 h" in statement
