"""findings: statements on tiny datasets (exact wording), the selection and ranking rules, the sample."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats as sps

import kpitools as kt
from kpitools.comparisons import findings
from kpitools.comparisons.findings import COLUMNS, magnitude, rank
from tests.factories import make_dataset, tickets

Z_MDD = 1.959963984540054 + sps.norm.ppf(0.8)


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


def test_difference_statement(tiny):
    diff = tiny[(tiny["kind"] == "difference")]
    assert diff["kpi"].tolist() == ["abandonment_pct"]
    # Wilson 5/100 = [2.2, 11.2] %, 30/100 = [22.0, 39.6] %; z = 0.25 / sqrt(.175 * .825 * .02) = 4.66
    assert diff.iloc[0]["statement"] == ("chat abandonment 5% [2.2, 11] is lower than phone 30% [22, 40] "
                                         "(p < 0.001, Holm).")
    assert diff.iloc[0]["pairs"] == (("chat", "phone"),) and diff.iloc[0]["n"] == 200


def test_change_statements(tiny):
    # CSAT: chat 90/100 -> 60/100 (−30 pts); all channels 90/100 -> 114/200 (−33 pts)
    change = tiny[tiny["kind"] == "change"].set_index(tiny.loc[tiny["kind"] == "change", "channels"].str[0])
    assert list(change.index) == ["all"]  # chat fell the same way as all: not repeated
    statement = change.loc["all", "statement"]
    assert statement.startswith("CSAT (all channels) fell from 90% in September 2026 to 57% in October 2026 "
                                "(−33 pts [")
    assert statement.endswith("p < 0.001, Holm).") and change.loc["all", "compare_to"] == "2026-09"


def test_no_difference_note_gives_the_detectable_difference(tiny):
    note = tiny[tiny["kind"] == "no difference"]
    assert note["kpi"].tolist() == ["csat_pct"] and tiny.iloc[-1]["kind"] == "no difference"
    pooled = 114 / 200
    mdd = 100 * Z_MDD * math.sqrt(pooled * (1 - pooled) * (2 / 100))  # 19.6 pts
    assert note.iloc[0]["statement"] == (f"chat and phone CSAT: no significant difference (60% vs 54%; could "
                                         f"detect ≥ {mdd:.0f} pts).")


def test_missing_inputs_are_skipped_with_a_reason(tiny):
    assert tiny.attrs["skipped"]["frt_median_h"] == "no first_response_at column in tickets"
    assert tiny.attrs["skipped"]["sla_frt_pct"] == "no targets table"
    assert tiny["rank"].tolist() == list(range(1, len(tiny) + 1))


def test_a_channel_below_every_other_gets_one_statement():
    t = pd.concat([abandoning("chat", 100, 5), abandoning("email", 100, 30), abandoning("phone", 100, 35)])
    res = findings(make_dataset(tickets=t, as_of="2026-11-01"), "2026-10")
    diff = res[res["kind"] == "difference"]
    assert len(diff) == 1
    assert diff.iloc[0]["statement"] == ("chat has the lowest abandonment, 5% [2.2, 11], lower than every other "
                                         "channel (email 30%, phone 35%; all p < 0.001, Holm).")
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


def test_rank_by_class_then_volume_notes_last():
    rows = [
        {"kind": "no difference", "kpi": "nps", "effect": 0.9, "effect_name": "cohens_d", "magnitude": "large",
         "n": 9000},
        {"kind": "difference", "kpi": "csat_pct", "effect": 0.3, "effect_name": "cohens_h", "magnitude": "small",
         "n": 5000},
        {"kind": "change", "kpi": "nps", "effect": 0.6, "effect_name": "cohens_d", "magnitude": "medium",
         "n": 100},
        {"kind": "difference", "kpi": "fcr_pct", "effect": 0.25, "effect_name": "cohens_h", "magnitude": "small",
         "n": 8000},
    ]
    ranked = rank(rows)
    assert ranked["kpi"].tolist() == ["nps", "fcr_pct", "csat_pct", "nps"]
    assert ranked["kind"].tolist()[-1] == "no difference" and ranked["rank"].tolist() == [1, 2, 3, 4]


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
