"""kpitools.report: number formats, KPI tables, the scorecard, escaping and deterministic output."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpitools as kt
from kpitools import report
from tests.factories import make_dataset

XSS = "<script>alert(1)</script>"
NAN = math.nan


@pytest.mark.parametrize("value, kpi, n, expected", [
    (71.234, "csat_pct", None, "71.2"),
    (-18.46, "nps", None, "\u221218.5"),
    (4.126, "csat_mean", None, "4.13"),
    (0.0125, "frt_median_h", None, "45 s"),        # 0.0125 h = 45 s
    (0.5, "frt_median_h", None, "30.0 min"),
    (15.25, "frt_median_h", None, "15.2 h"),       # round half to even at one decimal
    (250.0, "ttr_mean_h", None, "250 h"),
    (NAN, "ttr_median_h", 12, "not reached"),      # a KM median with data but NaN
    (NAN, "ttr_median_h", 0, "\u2013"),            # no data at all
    (NAN, "fcr_pct", 50, "\u2013"),
    (12345.0, "tickets", None, "12,345"),
    (298.13, "dau_mean", None, "298.1"),
    (3.2824, "cpi", None, "3.28"),
    (6.76, "aht_min", None, "6.8"),
    (-0.01, "csat_pct", None, "0.0"),              # no "−0.0"
])
def test_format_value(value, kpi, n, expected):
    assert report.format_value(value, kpi, n) == expected


@pytest.mark.parametrize("args, expected", [
    ((71.23, 68.07, 74.01, "csat_pct"), "71.2 [68.1, 74.0]"),
    ((0.04, 0.037, 0.044, "frt_median_h"), "2.4 min [2.2, 2.6]"),  # limits in the value's unit
    ((5.2, 4.1, NAN, "ttr_median_h"), "5.2 h [4.1, \u221e]"),        # upper limit not reached
    ((3.0, NAN, NAN, "aht_min"), "3.0"),                              # no CI (n = 1)
    ((-5.07, -17.4, 7.5, "nps"), "\u22125.1 [\u221217.4, 7.5]"),
])
def test_format_ci(args, expected):
    assert report.format_ci(*args) == expected


@pytest.mark.parametrize("diff, kpi, expected", [
    (-25.34, "csat_pct", "\u25bc \u221225.3 pp"),
    (2.0, "nps", "\u25b2 +2.0"),
    (0.5, "frt_median_h", "\u25b2 +30.0 min"),
    (0.03, "csat_pct", "= 0.0 pp"),   # rounds to zero: no arrow
    (NAN, "csat_pct", "\u2013"),
])
def test_format_change(diff, kpi, expected):
    assert report.format_change(diff, kpi) == expected


def _kp(rows):
    cols = ["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def test_kpi_table_cells_labels_and_columns():
    kp = _kp([
        ("2026-10", "email", "csat_pct", 70.0, 100, 60.4, 78.0), ("2026-10", "chat", "csat_pct", 80.0, 100, 71.1, 86.7),
        ("2026-10", "all", "csat_pct", 75.0, 200, 68.6, 80.5), ("2026-10", "all", "crr_pct", 97.5, 1000, 96.3, 98.3),
        ("2026-10", "voice", "csat_pct", 1.0, 1, NAN, NAN), ("2026-09", "chat", "csat_pct", 1.0, 1, NAN, NAN),
        ("2026-10", "chat", "frt_median_h", NAN, 40, 2.0, NAN),
    ])
    t = report.kpi_table(kp, ["crr_pct", "csat_pct", "frt_median_h", "nps"], channels=["email", "chat"])
    assert list(t.frame.columns) == ["all", "email", "chat"]  # all first (stays in view), the given order, no groups
    assert list(t.frame.index) == ["Customer retention rate [%]", "CSAT (top two) [%]", "First response time, median"]
    assert t.frame.loc["CSAT (top two) [%]"].tolist() == ["75.0 [68.6, 80.5]", "70.0 [60.4, 78.0]", "80.0 [71.1, 86.7]"]
    assert t.frame.loc["Customer retention rate [%]"].tolist() == ["97.5 [96.3, 98.3]", "", ""]
    assert t.frame.loc["First response time, median", "chat"] == "not reached"
    with_n = report.kpi_table(kp, ["csat_pct"], groups=True, n=True)
    assert list(with_n.frame.columns) == ["all", "voice", "chat", "email"]
    # non-breaking spaces keep the value and its n together; the cell may wrap between them
    assert with_n.frame.iloc[0]["all"] == "75.0\u00a0[68.6,\u00a080.5] n\u00a0=\u00a0200"
    flipped = report.kpi_table(kp, ["csat_pct", "crr_pct"], transpose=True)
    assert list(flipped.frame.index) == ["all", "chat", "email"]
    assert flipped.frame.loc["all"].tolist() == ["75.0 [68.6, 80.5]", "97.5 [96.3, 98.3]"]


def test_kpi_table_from_the_engine():
    tickets = {"ticket_id": ["t1", "t2", "t3"], "channel": ["chat", "chat", "email"],
               "created_at": "2026-10-05 10:00", "resolved_at": "2026-10-05 12:00", "contacts": [1, 2, 1],
               "reopened": 0}
    kp = kt.kpis(make_dataset(tickets=tickets, as_of="2026-11-01"), "2026-10")
    t = report.kpi_table(kp, ["tickets", "fcr_pct"])
    # chat: 1 of 2 resolved at first contact; Wilson 95 % CI of 1/2 is [9.5, 90.5]
    assert t.frame.to_dict("list") == {"chat": ["2", "50.0 [9.5, 90.5]"], "email": ["1", "100.0 [20.7, 100.0]"],
                                       "all": ["3", "66.7 [20.8, 93.9]"]}


def test_every_display_escapes_data_text():
    kp = _kp([("2026-10", XSS, "csat_pct", 80.0, 10, 50.0, 95.0), ("2026-10", "all", "csat_pct", 80.0, 10, 50.0, 95.0)])
    for shown in (report.kpi_table(kp, ["csat_pct"], caption=f"CSAT {XSS}"),
                  report.table(pd.DataFrame({XSS: [XSS]}, index=[XSS]), caption=XSS, index=True),
                  report.say(f"{XSS} is best"), report.bullets([XSS])):
        html = shown._repr_html_()
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert XSS in repr(shown)  # the plain text shows the name as it is


def test_escaping_from_a_dataset_with_a_hostile_channel_and_topic():
    tickets = {"ticket_id": ["t1", "t2"], "channel": [XSS, "chat"], "topic": [XSS, "billing"],
               "created_at": "2026-10-05 10:00", "first_response_at": "2026-10-05 11:00",
               "resolved_at": "2026-10-05 12:00", "contacts": 1, "reopened": 0}
    ds = make_dataset(tickets=tickets, targets={"kpi": ["tickets"], "target": [1.0], "channel": [XSS]},
                      as_of="2026-11-01")
    kp = kt.kpis(ds, "2026-10")
    html = report.kpi_table(kp, ["tickets"]).html + report.scorecard_table(report.scorecard(kp, ds)).html
    html += report.table(kt.speed(ds, "2026-10", by="topic")).html
    assert "<script" not in html and html.count("&lt;script&gt;") >= 4


def test_table_html_is_deterministic_and_ids_differ_between_tables():
    frame = pd.DataFrame({"a": [1.5, None], "b": ["x", "y"]})
    one, two = report.table(frame, caption="A"), report.table(frame, caption="A")
    assert one.html == two.html and "0x" not in repr(one)
    other = report.table(frame, caption="B")
    ids = [h[h.index('id="T_'):][:20] for h in (one.html, other.html)]
    assert ids[0] != ids[1]
    assert one.frame["a"].tolist() == ["1.5", ""]  # missing values shown empty


def test_scorecard_statuses_changes_and_order():
    kp = _kp([
        ("2025-10", "all", "csat_pct", 80.0, 100, NAN, NAN), ("2026-09", "all", "csat_pct", 78.0, 100, NAN, NAN),
        ("2026-10", "all", "csat_pct", 53.0, 100, NAN, NAN), ("2026-10", "chat", "csat_pct", 85.0, 50, NAN, NAN),
        ("2026-09", "chat", "csat_pct", 85.0, 50, NAN, NAN),
        ("2026-09", "all", "reopen_pct", 9.0, 100, NAN, NAN), ("2026-10", "all", "reopen_pct", 7.0, 100, NAN, NAN),
        ("2026-10", "all", "tickets", 500.0, 500, NAN, NAN),
    ])
    targets = pd.DataFrame({"kpi": ["csat_pct", "reopen_pct", "tickets", "frt_h", "nps"],
                            "target": [80.0, 8.0, 100.0, 4.0, 30.0], "channel": [None, None, None, None, None]})
    card = report.scorecard(kp, SimpleNamespace(targets=targets))
    got = card[["kpi", "channel", "status", "change_month", "better_month", "change_year", "better_year"]]
    # catalogue order: tickets, reopen_pct, csat_pct, nps; "all" first within a KPI; frt_h is a threshold
    assert _nan_equal(got.values.tolist(), [
        ["tickets", "all", "n/a", NAN, None, NAN, None],
        ["reopen_pct", "all", "met", -2.0, True, NAN, None],      # lower is better: a fall is good
        ["csat_pct", "all", "missed", -25.0, False, -27.0, False],
        ["csat_pct", "chat", "met", 0.0, None, NAN, None],         # no change: neither better nor worse
        ["nps", "all", "no data", NAN, None, NAN, None],
    ])
    only_all = report.scorecard(kp, SimpleNamespace(targets=targets), channels=["email"])
    assert "chat" not in set(only_all["channel"])


def _nan_equal(a, b):
    def same(x, y):
        return (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)) or x == y
    return len(a) == len(b) and all(len(r) == len(s) and all(same(x, y) for x, y in zip(r, s)) for r, s in zip(a, b))


def test_scorecard_table_colours_by_improvement_not_by_sign():
    card = pd.DataFrame({"kpi": ["reopen_pct", "csat_pct", "tickets"], "channel": ["all"] * 3,
                         "value": [7.0, 53.0, 500.0], "target": [8.0, 80.0, 100.0],
                         "status": ["met", "missed", "n/a"], "change_month": [-2.0, -25.0, 20.0],
                         "change_year": [NAN, 0.01, 5.0], "better_month": [True, False, None],
                         "better_year": [None, True, None]})
    t = report.scorecard_table(card, caption="Targets")
    assert t.frame["status"].tolist() == ["\u2714 met", "\u2718 missed", "n/a"]
    assert t.frame["vs last month"].tolist() == ["\u25bc \u22122.0 pp", "\u25bc \u221225.0 pp", "\u25b2 +20"]
    assert t.frame["vs last year"].tolist() == ["\u2013", "= 0.0 pp", "\u25b2 +5"]
    html = t.html
    assert report.GOOD in html and report.BAD in html  # a fall of reopens is green, of CSAT red
    assert repr(t).startswith("Targets\n")


def test_pick_and_ranking():
    kp = _kp([("2026-10", "chat", "frt_median_h", 0.02, 10, NAN, NAN), ("2026-10", "phone", "frt_median_h", 0.05, 10, NAN, NAN),
              ("2026-10", "email", "frt_median_h", NAN, 10, NAN, NAN), ("2026-10", "all", "frt_median_h", 0.03, 30, NAN, NAN),
              ("2026-10", "chat", "csat_pct", 80.0, 10, NAN, NAN), ("2026-10", "phone", "csat_pct", 60.0, 10, NAN, NAN),
              ("2026-09", "chat", "csat_pct", 10.0, 10, NAN, NAN)])
    assert report.ranking(kp, "frt_median_h")["channel"].tolist() == ["chat", "phone"]  # lower is better, NaN out
    assert report.ranking(kp, "csat_pct")["channel"].tolist() == ["chat", "phone"]      # higher is better
    assert report.ranking(kp, "csat_pct", channels=["phone"])["channel"].tolist() == ["phone"]
    assert report.pick(kp, "csat_pct", "chat", "2026-09") == 10.0
    assert math.isnan(report.pick(kp, "nps"))


def test_read_kpis_prefers_the_runs_table(tmp_path):
    tickets = {"ticket_id": ["t1", "t2"], "channel": "chat", "created_at": ["2025-10-05", "2026-10-05"]}
    ds = make_dataset(tickets=tickets, as_of="2026-11-01")
    computed = report.read_kpis(ds, "2026-10")
    # 13 months: 2025-10 .. 2026-10
    assert sorted(set(computed["period"])) == [str(p) for p in pd.period_range("2025-10", "2026-10", freq="M")]
    path = tmp_path / "kpis.parquet"
    computed.iloc[:3].to_parquet(path, index=False)
    assert len(report.read_kpis(ds, "2026-10", str(path))) == 3


@settings(max_examples=80, deadline=None)
@given(st.floats(-1e4, 1e4), st.sampled_from(["csat_pct", "nps", "ces_mean", "aht_min", "cpi", "frt_median_h",
                                                  "ttr_mean_h", "tickets_per_customer"]))
def test_format_value_is_plain_text_with_a_proper_minus(value, kpi):
    text = report.format_value(value, kpi)
    assert "-" not in text and "nan" not in text.lower()
    assert text.startswith("\u2212") == (float(text.split()[0].replace("\u2212", "-").replace(",", "")) < 0)


def _comparison_world():
    # chat: 60 resolved tickets, 50 at first contact; XSS channel: 60 resolved, 30 at first contact
    tickets = {"ticket_id": [f"t{i}" for i in range(120)], "channel": ["chat"] * 60 + [XSS] * 60,
               "created_at": "2026-10-05 10:00", "resolved_at": "2026-10-05 12:00",
               "contacts": [1] * 50 + [2] * 10 + [1] * 30 + [2] * 30, "reopened": 0}
    return make_dataset(tickets=tickets, as_of="2026-11-01")


def test_comparison_tables_from_compare_channels():
    ds = _comparison_world()
    results = {"fcr_pct": kt.compare_channels(ds, "2026-10", "fcr_pct")}
    omni = report.omnibus_table(results)
    assert omni.frame[["KPI", "verdict", "pairs that differ"]].values.tolist() == [
        ["First contact resolution [%]", "difference", "1 of 1"]]
    pairs = report.pairs_table(results)
    # channels in sorted order ("<" sorts before "c"): a = the XSS channel, 30/60 = 50.0 %; b = chat,
    # 50/60 = 83.3 %; a − b = −33.3 points
    row = pairs.frame.iloc[0]
    assert row["pair (a − b)"] == f"{XSS} \u2212 chat"
    assert row["a"].startswith("50.0 [") and row["b"].startswith("83.3 [")
    assert row["difference [CI]"].startswith("\u221233.3 pp [") and row["verdict"] == "lower"
    assert "KPI" not in pairs.frame  # one KPI: the caption names it
    # each comparison table names its adjustment family (SPEC §9)
    assert pairs.caption == "p-values adjusted: Holm over the 1 pair of this KPI"
    assert omni.frame["adjustment family"].tolist() == ["Holm over the 1 pair of this KPI"]
    assert list(report.pairs_table(results, channels=["chat"]).frame.index) == []  # no pair left
    html = omni.html + pairs.html
    assert "<script" not in html and "&lt;script&gt;" in html


def test_changes_table_words_and_colours():
    tickets = {"ticket_id": [f"t{i}" for i in range(200)], "channel": "chat",
               "created_at": ["2026-09-10"] * 100 + ["2026-10-10"] * 100,
               "abandoned": [True] * 10 + [False] * 90 + [True] * 30 + [False] * 70}
    ds = make_dataset(tickets=tickets, as_of="2026-11-01")
    t = report.changes_table([kt.changes(ds, "2026-10", "abandonment_pct")])
    mom = t.frame[(t.frame["channel"] == "all") & (t.frame["compared"] == "vs 2026-09")].iloc[0]
    # 10 % -> 30 % abandonment: up 20 points, and up is worse for abandonment
    assert (mom["before"], mom["now"], mom["verdict"]) == ("10.0", "30.0", "higher (worse)")
    assert mom["change [CI]"].startswith("+20.0 pp [")
    assert t.caption == "p-values adjusted: Holm over the 2 changes of this KPI"  # October 2025: no data
    yoy = t.frame[t.frame["compared"] == "vs 2025-10"].iloc[0]
    assert yoy["verdict"] == "not enough data (no data for October 2025)"
    assert report.BAD in t.html


def test_headline_and_its_table():
    kp = _kp([("2025-10", "all", "csat_pct", 78.0, 700, 75.0, 81.0), ("2026-09", "all", "csat_pct", 77.8, 990, 75.1, 80.3),
              ("2026-10", "all", "csat_pct", 52.5, 1140, 49.6, 55.4), ("2026-10", "all", "tickets", 5172.0, 5172, NAN, NAN),
              ("2026-09", "all", "tickets", 4191.0, 4191, NAN, NAN)])
    card = report.headline(kp, ["tickets", "nps", "csat_pct"])
    assert card["kpi"].tolist() == ["tickets", "csat_pct"]  # the order asked for; nps has no row
    assert card["change_month"].tolist() == pytest.approx([981.0, -25.3])
    assert card["better_month"].tolist() == [None, False]  # tickets have no direction
    t = report.headline_table(card)
    assert t.frame["value [95 % CI]"].tolist() == ["5,172", "52.5 [49.6, 55.4]"]
    assert t.frame["vs last year"].tolist() == ["\u2013", "\u25bc \u221225.5 pp"]


def test_small_helpers():
    assert report.trend_range("2026-01", 3) == "2025-11:2026-01"
    assert report.previous("2026-03", 12) == "2025-03"
    assert report.month_name("2025-12") == "December 2025"
    assert report.format_p(0.04999) == "0.050" and report.format_p(0.1) == "0.10"
    assert report.format_effect(0.2, "cramers_v") == "Cram\u00e9r's V 0.20"
    assert report.format_diff(0.5, 0.25, 0.75, "frt_median_h") == "+30.0 min [+15.0, +45.0]"
    targets = SimpleNamespace(targets=pd.DataFrame({"kpi": ["nps", "nps"], "target": [30.0, 10.0],
                                                    "channel": [None, "phone"]}))
    assert (report.target(targets, "nps", "chat"), report.target(targets, "nps", "phone")) == (30.0, 10.0)
    assert report.target(SimpleNamespace(targets=None), "nps") is None


def test_log_hours_axis_on_either_axis():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    report.log_hours_axis(ax, low=1 / 120, high=48, label="Median", axis="y")
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "Median (log scale)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["30 s", "1 min", "5 min", "15 min", "1 h", "4 h", "1 day"]
    with pytest.raises(ValueError, match="axis"):
        report.log_hours_axis(ax, axis="z")
    plt.close(fig)


def test_setup_does_what_the_first_cells_of_a_notebook_did(monkeypatch):
    from kpitools import loading

    ds = make_dataset(tickets={"ticket_id": ["a", "b", "c"], "channel": ["chat", "email", "chat"],
                               "created_at": ["2026-10-05 10:00"] * 3}, as_of="2026-11-15 12:00")
    monkeypatch.setattr(loading, "load", lambda path: ds)
    got = report.setup("data/<my set>", "2026-10", ["email"])
    assert got.ds is ds and got.shown == ["email"] and got.month == "October 2026"
    assert set(got.view["channel"]) <= {"email", "voice", "text", "all"}
    assert got.kpis["period"].astype(str).min() == "2025-10"  # the 13-month trend
    assert repr(got.header) == ("October 2026 · dataset <my set> · data up to 15 November 2026, 12:00 (UTC) · "
                                "channels: email")
    assert "&lt;my set&gt;" in got.header._repr_html_()
    assert report.setup("x", "2026-10", []).shown == ["chat", "email"]
    with pytest.raises(kt.KpitoolsError, match=r"unknown channels \['fax'\]; the dataset has \['chat', 'email'\]"):
        report.setup("x", "2026-10", ["fax", "chat"])
    with pytest.raises(ValueError):  # what the notebooks raised before
        report.shown_channels(["fax"], ["chat"])


def test_every_name_the_notebooks_call_exists():
    import re
    from pathlib import Path

    used = set()
    for path in (Path(__file__).parents[1] / "notebooks").glob("*.ipynb"):
        used |= set(re.findall(r"report\.([A-Za-z_]+)", path.read_text(encoding="utf-8")))
    assert used and not [name for name in sorted(used) if not hasattr(report, name)]
