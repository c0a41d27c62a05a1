"""The benchmark's second contender: a few ticket KPIs as a typical analyst writes them in pandas.

Group-by/apply over the raw tables read with pandas (timestamps as the files hold them: naive
local wall time): per month and channel, the ticket count, abandonment, median first-response
and resolution time over answered/resolved tickets (no censoring, no business hours, no spam
filter: the conventional shortcut), FCR, and CSAT from the surveys (a survey without a channel
takes its ticket's). It computes far less than ``kt.kpis`` and does not follow SPEC's rules; it
stands for the "quick notebook" way the toolkit is meant to replace.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read(dataset: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tickets and surveys as an analyst reads them (untimed setup)."""
    tickets = pd.read_parquet(dataset / "tickets.parquet")
    surveys = pd.read_csv(dataset / "surveys.csv", parse_dates=["responded_at"])
    return tickets, surveys


def ticket_summary(g: pd.DataFrame) -> pd.Series:
    handled = g[~g["abandoned"]]
    answered = handled[handled["first_response_at"].notna()]
    resolved = handled[handled["resolved_at"].notna()]
    first_contact = (resolved["contacts"] == 1) & (resolved["reopened"] == 0)
    return pd.Series({
        "tickets": len(g),
        "abandonment_pct": 100 * g["abandoned"].mean(),
        "frt_median_h": answered["frt_h"].median(),
        "ttr_median_h": resolved["ttr_h"].median(),
        "fcr_pct": 100 * first_contact.mean() if len(resolved) else float("nan"),
    })


def kpis(tickets: pd.DataFrame, surveys: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Ticket KPIs and CSAT per (month, channel) for the ``YYYY-MM`` labels in ``months``."""
    t = tickets.copy()
    t["month"] = t["created_at"].dt.strftime("%Y-%m")
    t = t[t["month"].isin(months)]
    t["frt_h"] = (t["first_response_at"] - t["created_at"]).dt.total_seconds() / 3600
    t["ttr_h"] = (t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600
    per = t.groupby(["month", "channel"]).apply(ticket_summary, include_groups=False)
    s = surveys.copy()
    s["month"] = s["responded_at"].dt.strftime("%Y-%m")
    s = s[(s["month"].isin(months)) & (s["survey"] == "csat")]
    s = s.merge(tickets[["ticket_id", "channel"]], on="ticket_id", how="left", suffixes=("", "_ticket"))
    s["channel"] = s["channel"].fillna(s["channel_ticket"])
    csat = s.groupby(["month", "channel"])["score"].apply(lambda x: 100 * (x >= 4).mean()).rename("csat_pct")
    return per.join(csat, how="outer").reset_index()
