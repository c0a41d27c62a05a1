"""The KPI catalog: exactly the ids of SPEC §4, each fully described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kpitools as kt
from kpitools import catalog

SPEC = Path(__file__).resolve().parents[2] / "shared" / "SPEC.md"
SECTION_4_IDS = [
    "tickets", "frt_median_h", "frt_bh_median_h", "frt_mean_h", "frt_bh_mean_h", "frt_p90_h", "frt_bh_p90_h",
    "frt_km_p90_h", "ttr_median_h", "ttr_bh_median_h", "ttr_mean_h", "ttr_bh_mean_h", "ttr_km_p90_h", "open_pct",
    "fcr_pct", "reopen_pct",
    "sla_frt_pct", "aht_min", "backlog_end", "abandonment_pct", "csat_pct", "csat_mean", "nps", "ces_mean",
    "ces_easy_pct", "crr_pct", "churn_pct", "tickets_per_customer", "d1_pct", "d7_pct", "d30_pct",
    "activation_pct", "mau", "dau_mean", "wau_mean", "stickiness_pct", "conversion_pct", "cpi",
    "self_service_pct", "coverage_pct", "presence_pct",
]
SECTION_8_IDS = [
    "nrt_median_h", "nrt_bh_median_h", "nrt_mean_h", "replies_mean", "one_touch_pct", "bot_resolved_pct",
    "handoff_pct", "requester_wait_median_h", "agent_wait_median_h", "on_hold_median_h", "backlog_aged_7d_pct",
    "sla_first_reply_pct", "sla_next_reply_pct", "sla_resolution_pct",
]


def test_catalog_lists_the_section_4_then_section_8_ids_in_order():
    cat = kt.catalog()
    assert cat["id"].tolist() == SECTION_4_IDS + SECTION_8_IDS
    assert list(cat.columns) == ["id", "family", "title", "unit", "direction", "tables", "definition"]


@pytest.mark.skipif(not SPEC.exists(), reason="shared/SPEC.md is not beside the repository")
def test_every_backquoted_kpi_of_the_spec_is_in_the_catalog():
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 4. KPIs"):text.index("## 5.")]
    found = set(re.findall(r"`([a-z0-9_]+)`", section)) - {"frt_h"}  # frt_h: the SLA threshold
    ids = set(catalog.ids())
    assert {f for f in found if f.endswith(("_pct", "_h", "_min", "_mean")) or f in ("nps", "cpi", "mau")} <= ids


def test_descriptions_are_complete_and_consistent():
    cat = kt.catalog()
    assert set(cat["family"]) == {"operational", "perceptual", "outcome"}
    assert cat["title"].str.len().gt(0).all() and cat["definition"].str.len().gt(20).all()
    assert set(cat["direction"].dropna()) <= {"higher", "lower"}
    assert cat.loc[cat["direction"].isna(), "id"].tolist() == ["tickets"]
    assert (cat.loc[cat["id"].str.endswith("_pct"), "unit"] == "%").all()
    assert (cat.loc[cat["id"].str.endswith("_h"), "unit"] == "h").all()
    known = {"tickets", "surveys", "customers", "activity", "sessions", "costs", "targets", "messages",
             "status_changes"}
    assert all(set(t.split(",")) <= known for t in cat["tables"])
    assert catalog.get("sla_frt_pct").tables == "tickets,targets"


def test_get_unknown_id_names_the_known_ones():
    with pytest.raises(KeyError, match="fcr_pct"):
        catalog.get("fcr")


def test_module_and_function_both_work():
    import kpitools.catalog as module

    assert module.get("nps").family == "perceptual"
    assert kt.catalog().shape == (55, 7)


def test_an_unknown_kpi_id_is_a_typed_user_error():
    from kpitools.catalog import get
    from kpitools.errors import KpitoolsError, UnknownKpiError

    with pytest.raises(UnknownKpiError) as info:
        get("fcr")
    assert isinstance(info.value, KpitoolsError) and isinstance(info.value, KeyError)
    assert str(info.value).startswith("unknown KPI id 'fcr'; known: tickets, ")  # not quoted as a KeyError
