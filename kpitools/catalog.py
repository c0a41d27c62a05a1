"""The KPI catalog (SPEC §4, §8): every KPI id with its family, title, unit, direction and definition.

The single source for labels in notebooks and reports; the engine takes its id lists, the rows it
writes per id (``scope``) and what each id needs (``needs``) from here.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pandas as pd

from .errors import UnknownKpiError

Scope = str  # "channel": every channel and all; "groups": also voice/text; "all": all only


@dataclass(frozen=True)
class Kpi:
    """One KPI of SPEC §4.

    ``api`` names the engine function computing it; ``needs`` lists the ``table.column`` inputs
    and ``config:key`` settings without which the KPI is omitted (SPEC A13).
    """

    id: str
    family: str
    title: str
    unit: str
    direction: str | None
    tables: str
    definition: str
    api: str
    scope: Scope = "channel"
    needs: tuple[str, ...] = ()


_FRT = ("tickets.first_response_at",)
_TTR = ("tickets.resolved_at",)
_BH = ("config:business_hours",)
_CENSOR = "Tickets not answered by as_of are right-censored at as_of (Kaplan–Meier)."

KPIS: tuple[Kpi, ...] = (
    Kpi("tickets", "operational", "Tickets", "tickets", None, "tickets",
        "Tickets created in the period, abandoned ones included.", "speed"),
    Kpi("frt_median_h", "operational", "First response time, median", "h", "lower", "tickets",
        "Kaplan–Meier median of calendar hours from creation to the first reply over non-abandoned "
        f"tickets created in the period. {_CENSOR}", "speed", needs=_FRT),
    Kpi("frt_bh_median_h", "operational", "First response time, median (business hours)", "h", "lower",
        "tickets", "As frt_median_h, counting only open business hours between the two instants.",
        "speed", needs=_FRT + _BH),
    Kpi("frt_mean_h", "operational", "First response time, mean (answered only)", "h", "lower", "tickets",
        "Mean calendar hours to the first reply over tickets answered by as_of (the conventional "
        "figure: unanswered tickets are left out).", "speed", needs=_FRT),
    Kpi("frt_bh_mean_h", "operational", "First response time, mean (answered only, business hours)", "h",
        "lower", "tickets", "As frt_mean_h in business hours.", "speed", needs=_FRT + _BH),
    Kpi("frt_p90_h", "operational", "First response time, 90th percentile (answered only)", "h", "lower",
        "tickets", "90th percentile (linear interpolation, R type 7) of calendar hours to the first reply "
        "over tickets answered by as_of.", "speed", needs=_FRT),
    Kpi("frt_bh_p90_h", "operational", "First response time, 90th percentile (answered only, business hours)",
        "h", "lower", "tickets", "As frt_p90_h in business hours.", "speed", needs=_FRT + _BH),
    Kpi("frt_km_p90_h", "operational", "First response time, 90th percentile (Kaplan–Meier)", "h", "lower",
        "tickets", "Kaplan–Meier 90th percentile of calendar hours from creation to the first reply over "
        "non-abandoned tickets created in the period (R's quantile rule; Brookmeyer–Crowley CI); not reached "
        f"(empty) while more than 10 % are unanswered. {_CENSOR}", "speed", needs=_FRT),
    Kpi("ttr_median_h", "operational", "Time to resolution, median", "h", "lower", "tickets",
        "Kaplan–Meier median of calendar hours from creation to resolution over non-abandoned tickets "
        "created in the period; tickets unresolved at as_of are right-censored at as_of.", "speed",
        needs=_TTR),
    Kpi("ttr_bh_median_h", "operational", "Time to resolution, median (business hours)", "h", "lower",
        "tickets", "As ttr_median_h, counting only open business hours.", "speed", needs=_TTR + _BH),
    Kpi("ttr_mean_h", "operational", "Time to resolution, mean (resolved only)", "h", "lower", "tickets",
        "Mean calendar hours to resolution over tickets resolved by as_of (Zendesk-style; shown beside "
        "the Kaplan–Meier median).", "speed", needs=_TTR),
    Kpi("ttr_bh_mean_h", "operational", "Time to resolution, mean (resolved only, business hours)", "h",
        "lower", "tickets", "As ttr_mean_h in business hours.", "speed", needs=_TTR + _BH),
    Kpi("ttr_km_p90_h", "operational", "Time to resolution, 90th percentile (Kaplan–Meier)", "h", "lower",
        "tickets", "Kaplan–Meier 90th percentile of calendar hours from creation to resolution over "
        "non-abandoned tickets created in the period; tickets unresolved at as_of are right-censored at "
        "as_of (R's quantile rule; Brookmeyer–Crowley CI); not reached (empty) while more than 10 % are "
        "unresolved.", "speed", needs=_TTR),
    Kpi("open_pct", "operational", "Open tickets", "%", "lower", "tickets",
        "Share of non-abandoned tickets created in the period still unresolved at as_of.", "speed",
        needs=_TTR),
    Kpi("fcr_pct", "operational", "First contact resolution", "%", "higher", "tickets",
        "Among non-abandoned tickets created in the period and resolved by as_of, the share resolved "
        "with one contact and never reopened. Wilson CI.", "speed",
        needs=_TTR + ("tickets.contacts", "tickets.reopened")),
    Kpi("reopen_pct", "operational", "Reopened", "%", "lower", "tickets",
        "Among non-abandoned tickets created in the period and resolved by as_of, the share reopened "
        "at least once. Wilson CI.", "speed", needs=_TTR + ("tickets.reopened",)),
    Kpi("sla_frt_pct", "operational", "First-response SLA met", "%", "higher", "tickets,targets",
        "Share of non-abandoned tickets meeting their channel's frt_h threshold: answered within it = "
        "met; answered late or unanswered past it = missed; unanswered and not yet past it = left "
        "out. Wilson CI.", "speed", needs=_FRT + ("targets.frt_h",)),
    Kpi("aht_min", "operational", "Average handle time", "min", "lower", "tickets",
        "Mean handle_seconds / 60 over non-abandoned tickets created in the period that have one. "
        "t CI.", "speed", needs=("tickets.handle_seconds",)),
    Kpi("backlog_end", "operational", "Backlog at period end", "tickets", "lower", "tickets",
        "Non-abandoned tickets created before the period end and unresolved at min(period end, as_of).",
        "speed", needs=_TTR),
    Kpi("abandonment_pct", "operational", "Abandonment", "%", "lower", "tickets",
        "Abandoned tickets / tickets created in the period, per channel and channel group (voice, "
        "text). Wilson CI.", "speed", scope="groups", needs=("tickets.abandoned",)),
    Kpi("csat_pct", "perceptual", "CSAT (top two)", "%", "higher", "surveys",
        "Share of csat responses in the period scoring in the top two of the scale (4–5 of 1–5). "
        "Wilson CI.", "satisfaction"),
    Kpi("csat_mean", "perceptual", "CSAT mean score", "score", "higher", "surveys",
        "Mean csat score of the responses in the period. t CI.", "satisfaction"),
    Kpi("nps", "perceptual", "Net Promoter Score", "score", "higher", "surveys",
        "% promoters (9–10) − % detractors (0–6) among nps responses in the period, on −100..100. "
        "Adjusted-Wald CI (Rocks 2016).", "satisfaction"),
    Kpi("ces_mean", "perceptual", "Customer effort, mean score", "score", "higher", "surveys",
        "Mean ces score of the responses in the period (1–7, higher = easier). t CI.", "satisfaction"),
    Kpi("ces_easy_pct", "perceptual", "Customer effort, easy", "%", "higher", "surveys",
        "Share of ces responses in the period scoring ≥ max − 2 (≥ 5 of 1–7). Wilson CI.",
        "satisfaction"),
    Kpi("crr_pct", "outcome", "Customer retention rate", "%", "higher", "customers",
        "(E − N) / S × 100: the share of customers active at the period start still active at its "
        "end (min(period end, as_of)). Wilson CI.", "retention", scope="all",
        needs=("customers.churned_at",)),
    Kpi("churn_pct", "outcome", "Customer churn rate", "%", "lower", "customers",
        "100 − crr_pct; its CI is 100 minus CRR's.", "retention", scope="all",
        needs=("customers.churned_at",)),
    Kpi("tickets_per_customer", "outcome", "Tickets per customer", "tickets/customer", "lower",
        "tickets,customers", "Tickets created in the period (abandoned included) / ((S + E) / 2), the "
        "mean number of active customers.", "retention"),
    Kpi("d1_pct", "outcome", "Day-1 retention", "%", "higher", "customers,activity",
        "Among customers who signed up in the period, the share active on the local day after "
        "signup; customers whose day 1 is after as_of are left out. Wilson CI.", "retention",
        scope="all"),
    Kpi("d7_pct", "outcome", "Day-7 retention", "%", "higher", "customers,activity",
        "As d1_pct on day 7 after the signup day.", "retention", scope="all"),
    Kpi("d30_pct", "outcome", "Day-30 retention", "%", "higher", "customers,activity",
        "As d1_pct on day 30 after the signup day.", "retention", scope="all"),
    Kpi("activation_pct", "outcome", "Activation", "%", "higher", "customers,activity",
        "Among customers who signed up in the period and whose first 168 hours are over at as_of, "
        "the share logging the activation event within them. Wilson CI.", "retention", scope="all",
        needs=("activity.event", "config:activation_event")),
    Kpi("mau", "outcome", "Monthly active customers", "customers", "higher", "activity",
        "Distinct customers with activity in the period.", "engagement", scope="all"),
    Kpi("dau_mean", "outcome", "Daily active customers, mean", "customers", "higher", "activity",
        "Mean over the period's days (up to as_of's day) of distinct customers active that day.",
        "engagement", scope="all"),
    Kpi("wau_mean", "outcome", "Weekly active customers, mean", "customers", "higher", "activity",
        "Mean over the period's days of distinct customers active in the 7 days ending that day.",
        "engagement", scope="all"),
    Kpi("stickiness_pct", "outcome", "Stickiness", "%", "higher", "activity",
        "dau_mean / mau × 100.", "engagement", scope="all"),
    Kpi("conversion_pct", "outcome", "Session conversion", "%", "higher", "sessions",
        "Converted sessions / sessions started in the period. Wilson CI.", "engagement", scope="all",
        needs=("sessions.converted",)),
    Kpi("cpi", "operational", "Cost per interaction", "currency", "lower", "tickets,costs",
        "The channel's cost for the period / its non-abandoned tickets created in the period; for "
        "all, the period's total cost / all non-abandoned tickets.", "channels"),
    Kpi("self_service_pct", "operational", "Self-service deflection", "%", "higher", "sessions,tickets",
        "Among sessions in the period that viewed help content by a known customer, the share not "
        "followed by a ticket of that customer within 72 hours. Wilson CI.", "channels", scope="all",
        needs=("sessions.customer_id", "sessions.self_service")),
    Kpi("coverage_pct", "operational", "Business-hours coverage", "%", "higher", "sessions",
        "Share of sessions in the period started inside business hours. Wilson CI.", "channels",
        scope="all", needs=_BH),
    Kpi("presence_pct", "operational", "Live-chat presence", "%", "higher", "sessions",
        "Share of sessions in the period with live chat shown as online. Wilson CI.", "channels",
        scope="all", needs=("sessions.chat_available",)),
    Kpi("nrt_median_h", "operational", "Next reply time, median", "h", "lower", "tickets,messages",
        "Kaplan–Meier median of calendar hours from a customer message that opens a wait (after the first "
        "reply; any message of an outbound conversation) to the next agent message, over waits started in "
        "the period; a wait still open is censored at the ticket's next resolution, else at as_of.",
        "conversations"),
    Kpi("nrt_bh_median_h", "operational", "Next reply time, median (business hours)", "h", "lower",
        "tickets,messages", "As nrt_median_h, counting only open business hours.", "conversations",
        needs=_BH),
    Kpi("nrt_mean_h", "operational", "Next reply time, mean (replied waits only)", "h", "lower",
        "tickets,messages", "Mean calendar hours of the next-reply waits started in the period and closed by "
        "an agent message by as_of (the conventional figure: open waits are left out).", "conversations"),
    Kpi("replies_mean", "operational", "Agent replies per resolved ticket", "replies", "lower",
        "tickets,messages", "Mean number of agent messages (by as_of, reopens included) over non-abandoned "
        "tickets created in the period, resolved by as_of, with at least one message. t CI.", "conversations",
        needs=_TTR),
    Kpi("one_touch_pct", "operational", "One-touch resolution", "%", "higher", "tickets,messages",
        "Among tickets created in the period, resolved by as_of and with at least one agent message, the "
        "share with exactly one. Wilson CI.", "conversations", needs=_TTR),
    Kpi("bot_resolved_pct", "operational", "Bot containment", "%", "higher", "tickets,messages",
        "Among tickets created in the period with a bot message and resolved by as_of, the share with no "
        "agent message by as_of. Wilson CI.", "conversations", needs=_TTR),
    Kpi("handoff_pct", "operational", "Bot handoff", "%", "lower", "tickets,messages",
        "Among tickets created in the period with a bot message, the share with an agent message after the "
        "first bot message. Wilson CI.", "conversations"),
    Kpi("requester_wait_median_h", "operational", "Requester wait, median", "h", "lower",
        "tickets,status_changes", "Median calendar hours in new, open and on_hold before the first "
        "solved/closed, over tickets created in the period whose status history reaches solved/closed by "
        "as_of (conventional median; no CI).", "conversations"),
    Kpi("agent_wait_median_h", "operational", "Agent wait (pending), median", "h", "lower",
        "tickets,status_changes", "As requester_wait_median_h for the time in pending (waiting on the "
        "customer).", "conversations"),
    Kpi("on_hold_median_h", "operational", "On-hold time, median", "h", "lower", "tickets,status_changes",
        "As requester_wait_median_h for the time in on_hold (waiting on a third party).", "conversations"),
    Kpi("backlog_aged_7d_pct", "operational", "Backlog older than 7 days", "%", "lower", "tickets",
        "Among the backlog_end tickets, the share created more than 168 hours before min(period end, "
        "as_of). Wilson CI.", "conversations", needs=_TTR),
    Kpi("sla_first_reply_pct", "operational", "First-reply SLA policy met", "%", "higher", "tickets",
        "Share of non-abandoned inbound tickets created in the period meeting their [[sla]] first_reply "
        "policy (most specific match; clock less paused statuses): replied within target = met; replied "
        "later, or still unreplied past it at as_of = breached; unreplied and not past it = left out. "
        "Wilson CI.", "conversations", needs=_FRT + ("sla:first_reply",)),
    Kpi("sla_next_reply_pct", "operational", "Next-reply SLA policy met", "%", "higher", "tickets,messages",
        "As sla_first_reply_pct for each next-reply wait started in the period, under its ticket's "
        "next_reply policy; a wait ended by a resolution without a reply is breached if past its target "
        "then, else left out.", "conversations", needs=("sla:next_reply",)),
    Kpi("sla_resolution_pct", "operational", "Resolution SLA policy met", "%", "higher", "tickets",
        "As sla_first_reply_pct for the time from creation to resolution under the resolution policy.",
        "conversations", needs=_TTR + ("sla:resolution",)),
)

_BY_ID = {k.id: k for k in KPIS}
COLUMNS = ["id", "family", "title", "unit", "direction", "tables", "definition"]


def catalog() -> pd.DataFrame:
    """Every KPI id of SPEC §4 with its family, title, unit, direction, tables and definition.

    Examples
    --------
    >>> cat = catalog()
    >>> cat.loc[cat["id"] == "fcr_pct", ["family", "unit", "direction"]].values.tolist()
    [['operational', '%', 'higher']]
    """
    return pd.DataFrame([[getattr(k, c) for c in COLUMNS] for k in KPIS], columns=COLUMNS)


def get(kpi_id: str) -> Kpi:
    """The :class:`Kpi` of one id (:class:`~kpitools.errors.UnknownKpiError`, a ``KeyError`` naming
    the known ids, otherwise).

    Examples
    --------
    >>> get("nps").title
    'Net Promoter Score'
    """
    try:
        return _BY_ID[kpi_id]
    except KeyError:
        raise UnknownKpiError(f"unknown KPI id {kpi_id!r}; known: {', '.join(_BY_ID)}") from None


def ids(api: str | None = None) -> list[str]:
    """KPI ids in catalog order, optionally only those computed by engine function ``api``.

    Examples
    --------
    >>> ids("channels")
    ['cpi', 'self_service_pct', 'coverage_pct', 'presence_pct']
    """
    return [k.id for k in KPIS if api is None or k.api == api]


class _CallableModule(types.ModuleType):
    """Importing ``kpitools.catalog`` binds the module over the lazy ``kt.catalog`` function, so the
    module itself answers ``kt.catalog()``."""

    def __call__(self) -> pd.DataFrame:
        return catalog()


sys.modules[__name__].__class__ = _CallableModule
