"""The worked examples in data/examples load with every row accounted for (SPEC §6, §8)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import kpitools as kt

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def counts(ds: kt.Dataset) -> dict[str, list[int]]:
    c = ds.counts.set_index("table")
    return {t: c.loc[t, ["rows_in", "rows_kept", "rows_rejected"]].astype(int).tolist() for t in c.index}


def test_call_center_workbook_loads_like_its_csv_export() -> None:
    xlsx, csv = kt.load(EXAMPLES / "call_center_xlsx"), kt.load(EXAMPLES / "call_center")
    assert counts(xlsx) == counts(csv) == {"tickets": [5000, 5000, 0], "surveys": [4054, 4054, 0]}
    for table in ("tickets", "surveys"):
        pd.testing.assert_frame_equal(xlsx.tables[table], csv.tables[table])
    assert int(xlsx.tickets["abandoned"].sum()) == 946


def test_zendesk_fivetran() -> None:
    ds = kt.load(EXAMPLES / "zendesk_fivetran")
    assert counts(ds) == {"tickets": [10, 10, 0], "messages": [20, 0, 20], "status_changes": [30, 30, 0]}
    # explained in data/examples/README.md: the comments' authors are not in user_data.csv
    assert ds.rejects.groupby(["table", "reason"]).size().to_dict() == {
        ("messages", "empty required column author"): 20}
    assert "8 source rows left out by where" in ds.counts.set_index("table").loc["status_changes", "note"]
    t = ds.tickets.set_index("ticket_id")
    assert t["resolved_at"].notna().sum() == 1
    assert t.loc["11071", "resolved_at"] == pd.Timestamp("2020-11-14 11:01:27", tz="UTC")
    assert t.loc["11071", "reopened"] == 0  # solved -> closed is no reopen
    assert t.loc["11071", "channel"] == "email" and t.loc["11071", "priority"] == "urgent"
    assert {"first_response_at", "resolved_at", "reopened"} <= ds.provided("tickets")
    statuses = ds.tables["status_changes"]
    assert statuses.loc[statuses["ticket_id"] == "11071", "status"].value_counts().to_dict() == {
        "pending": 4, "open": 4, "on_hold": 3, "solved": 1, "closed": 1}


def test_message_log_chains_become_tickets() -> None:
    ds = kt.load(EXAMPLES / "message_log")
    assert counts(ds) == {"tickets": [634, 634, 0], "messages": [3640, 3640, 0]}
    assert ds.rejects.empty
    assert "1,244 source rows left out by where" in ds.counts.set_index("table").loc["messages", "note"]
    assert ds.channels == ["chat", "email"]
    # the derived tickets are the sample's tickets of that week, named by their first message
    sample = pd.read_parquet(EXAMPLES.parent / "sample" / "tickets.parquet")
    messages = pd.read_parquet(EXAMPLES.parent / "sample" / "messages.parquet", columns=["message_id", "ticket_id"])
    week = sample[sample["created_at"].between("2026-10-01", "2026-10-08", inclusive="left")
                  & sample["channel"].isin(["email", "chat"]) & sample["ticket_id"].isin(messages["ticket_id"])]
    first = messages.groupby("ticket_id")["message_id"].first()
    got = ds.tickets.set_index("ticket_id").loc[first[week["ticket_id"]].to_numpy()]
    assert (got["created_at"].dt.tz_localize(None).to_numpy() == week["created_at"].to_numpy()).all()
    assert (got["channel"].to_numpy() == week["channel"].to_numpy()).all()


@pytest.mark.parametrize("name", ["call_center", "call_center_xlsx", "relay_foods", "telco_churn",
                                  "zendesk_fivetran", "message_log"])
def test_every_example_is_documented(name: str) -> None:
    assert f"`{name}/`" in (EXAMPLES / "README.md").read_text(encoding="utf-8")
