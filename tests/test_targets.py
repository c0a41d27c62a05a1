"""Targets: SLA thresholds and the scorecard (SPEC §4 "Targets", A9)."""

from __future__ import annotations

import pandas as pd

import kpitools as kt
from kpitools.targets import frt_thresholds
from tests.factories import make_dataset, tickets


def kpi_rows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "channel", "kpi", "value"])


def test_thresholds_channel_row_overrides_the_empty_channel_row():
    t = pd.DataFrame({"kpi": ["frt_h", "frt_h", "fcr_pct"], "target": [8.0, 1.0, 70.0],
                      "channel": [None, "chat", None]})
    assert frt_thresholds(t, ["chat", "email"]) == {"chat": 1.0, "email": 8.0}
    assert frt_thresholds(t[t["channel"] == "chat"], ["chat", "email"]) == {"chat": 1.0}
    assert frt_thresholds(None, ["chat"]) == {}


def test_scorecard_directions_overrides_and_no_data():
    targets = {"kpi": ["fcr_pct", "fcr_pct", "aht_min", "frt_h", "nps"],
               "target": [70.0, 90.0, 10.0, 4.0, 30.0], "channel": [None, "chat", "email", None, None]}
    ds = make_dataset(tickets=tickets(1), targets=targets, as_of="2026-11-01")
    kp = kpi_rows([
        ("2026-10", "all", "fcr_pct", 75.0),     # >= 70 met
        ("2026-10", "chat", "fcr_pct", 80.0),    # chat's own 90 -> missed (the 70 row does not apply)
        ("2026-10", "email", "fcr_pct", 70.0),   # = 70 met
        ("2026-10", "email", "aht_min", 12.5),   # lower is better, 12.5 > 10 missed
        ("2026-10", "all", "nps", float("nan")),  # no data
    ])
    card = kt.targets_scorecard(kp, ds)
    assert list(card.columns) == ["period", "kpi", "channel", "target", "value", "direction", "status"]
    got = {(r.kpi, r.channel): (r.target, r.status) for r in card.itertuples()}
    assert got == {("fcr_pct", "all"): (70.0, "met"), ("fcr_pct", "chat"): (90.0, "missed"),
                   ("fcr_pct", "email"): (70.0, "met"), ("aht_min", "email"): (10.0, "missed"),
                   ("nps", "all"): (30.0, "no data")}
    assert "frt_h" not in set(card["kpi"])  # thresholds are not targets


def test_scorecard_from_a_real_kpis_table():
    t = tickets(4, resolved_at="2026-10-06", contacts=[1, 1, 1, 2], reopened=0)
    ds = make_dataset(tickets=t, targets={"kpi": ["fcr_pct"], "target": [80.0]}, as_of="2026-11-01")
    card = kt.targets_scorecard(kt.kpis(ds, "2026-10"), ds)
    # fcr 3/4 = 75 < 80 for chat and all
    assert card[["channel", "value", "status"]].values.tolist() == [["all", 75.0, "missed"], ["chat", 75.0, "missed"]]


def test_one_lookup_for_reports_thresholds_and_the_scorecard():
    from types import SimpleNamespace

    from kpitools import report
    from kpitools.targets import target_for

    t = pd.DataFrame({"kpi": ["nps", "nps", "frt_h", "frt_h"], "target": [30.0, 10.0, 8.0, 1.0],
                      "channel": [None, "phone", None, "chat"]})
    assert [target_for(t, "nps", c) for c in ("all", "chat", "phone", "voice")] == [30.0, 30.0, 10.0, None]
    assert target_for(t, "csat_pct", "chat") is None and target_for(None, "nps") is None
    assert target_for(t.drop(columns="channel"), "nps", "chat") == 30.0  # no channel column: every row is for all
    assert frt_thresholds(t, ["chat", "email"]) == {c: target_for(t, "frt_h", c) for c in ("chat", "email")}
    ds = SimpleNamespace(targets=t)
    assert report.target(ds, "nps", "phone") == target_for(t, "nps", "phone")
    kp = kpi_rows([("2026-10", c, "nps", 20.0) for c in ("all", "chat", "phone", "voice")])
    card = kt.targets_scorecard(kp, ds)
    assert {r.channel: r.target for r in card.itertuples()} == {c: target_for(t, "nps", c)
                                                                 for c in ("all", "chat", "phone")}
