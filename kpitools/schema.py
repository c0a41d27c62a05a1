"""The dataset contract (SPEC §2): the one place that defines the tables and their columns.

Each table is a tuple of :class:`Column` in schema order; that order is also the order in which
row rules are checked (SPEC A3: the first failing reason wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "timestamp", "bool", "int", "float", "score", "survey", "period", "channel", "author",
               "status"]


@dataclass(frozen=True)
class Column:
    """One canonical column. Kinds beyond plain types: ``survey`` and ``author`` are one of a few
    words (any case, stored lower-case); ``status`` is a source status name that dataset.toml's
    ``[statuses]`` maps onto :data:`STATUSES` (stored as the canonical name)."""

    name: str
    kind: Kind
    required: bool = False
    doc: str = ""


C = Column

TABLES: dict[str, tuple[Column, ...]] = {
    "tickets": (
        C("ticket_id", "text", True, "unique ticket id"),
        C("channel", "text", True, "email, chat, phone, ... (case-sensitive)"),
        C("created_at", "timestamp", True, "when the customer first got in touch"),
        C("customer_id", "text", False, "empty for anonymous contacts"),
        C("first_response_at", "timestamp", False, "first agent reply; empty = unanswered"),
        C("resolved_at", "timestamp", False, "empty = unresolved"),
        C("abandoned", "bool", False, "customer gave up before an agent answered (calls, chats)"),
        C("contacts", "int", False, "customer contacts needed, >= 1 (empty = 1)"),
        C("reopened", "int", False, "times reopened, >= 0 (empty = 0)"),
        C("agent_id", "text", False, "agent who handled the ticket"),
        C("handle_seconds", "float", False, "agent handling time in seconds, >= 0"),
        C("wait_seconds", "float", False, "customer waiting time in seconds, >= 0"),
        C("topic", "text", False, "free segment"),
        C("priority", "text", False, "free segment"),
    ),
    "surveys": (
        C("response_id", "text", True, "unique response id"),
        C("survey", "survey", True, "csat, nps or ces (any case)"),
        C("score", "score", True, "an integer on the survey's scale"),
        C("responded_at", "timestamp", True, "when the survey was answered"),
        C("ticket_id", "text", False, "the ticket surveyed"),
        C("customer_id", "text", False, "the respondent"),
        C("channel", "text", False, "empty = the ticket's channel"),
    ),
    "customers": (
        C("customer_id", "text", True, "unique customer id"),
        C("signup_at", "timestamp", True, "when the customer became a customer"),
        C("churned_at", "timestamp", False, "empty = still a customer"),
        C("segment", "text", False, "free segment"),
        C("is_spam", "bool", False, "spam sign-up: excluded from every KPI"),
    ),
    "activity": (
        C("customer_id", "text", True, "who was active"),
        C("ts", "timestamp", True, "when"),
        C("event", "text", False, "event name; dataset.toml's activation_event names activation"),
    ),
    "sessions": (
        C("session_id", "text", True, "unique session id"),
        C("started_at", "timestamp", True, "when the web/app session started"),
        C("customer_id", "text", False, "empty = anonymous"),
        C("converted", "bool", False, "the session converted"),
        C("self_service", "bool", False, "help content was viewed"),
        C("chat_available", "bool", False, "live chat was shown as online"),
    ),
    "costs": (
        C("period", "period", True, "YYYY-MM"),
        C("channel", "channel", True, "a channel used by the tickets"),
        C("cost", "float", True, "total cost of running the channel that month, >= 0"),
    ),
    "targets": (
        C("kpi", "text", True, "a KPI id, or frt_h (first-response SLA threshold in hours)"),
        C("target", "float", True, "the target value"),
        C("channel", "channel", False, "empty = every channel"),
    ),
    "messages": (
        C("message_id", "text", True, "unique message id"),
        C("sent_at", "timestamp", True, "when the message was sent"),
        C("author", "author", True, "customer, agent (a person) or bot (automation), any case"),
        C("ticket_id", "text", False, "the ticket (conversation); empty = that of the message replied to"),
        C("in_reply_to", "text", False, "the message_id this message answers"),
        C("customer_id", "text", False, "the customer writing or written to"),
        C("agent_id", "text", False, "the agent who wrote it"),
        C("channel", "text", False, "email, chat, ... (case-sensitive)"),
    ),
    "status_changes": (
        C("ticket_id", "text", True, "the ticket whose status changed"),
        C("changed_at", "timestamp", True, "when the status changed"),
        C("status", "status", True, "the new status, as the source names it ([statuses] maps it)"),
    ),
}

#: Unique keys (SPEC A3); activity is never de-duplicated.
KEYS: dict[str, tuple[str, ...]] = {
    "tickets": ("ticket_id",),
    "surveys": ("response_id",),
    "customers": ("customer_id",),
    "sessions": ("session_id",),
    "costs": ("period", "channel"),
    "targets": ("kpi", "channel"),
    "messages": ("message_id",),
}

#: Tables load in this order: the tables of conversations first (tickets may be derived from
#: messages and status changes, SPEC §8), costs and targets last (they are checked against the
#: kept tickets' channels).
TABLE_ORDER: tuple[str, ...] = (
    "tickets", "messages", "status_changes", "surveys", "customers", "activity", "sessions", "costs", "targets",
)

SURVEY_TYPES = ("csat", "nps", "ces")
AUTHORS = ("customer", "agent", "bot")
#: The canonical statuses (SPEC B5); these names need no ``[statuses]`` entry.
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
#: The statuses that resolve a ticket.
SOLVED = ("solved", "closed")
DEFAULT_SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
TRUE_WORDS = frozenset({"true", "t", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n"})

#: The ``channel`` of rows over every channel.
ALL = "all"
#: The channel groups written besides the channels (``voice`` and ``text``, SPEC A6).
GROUPS: tuple[str, ...] = ("voice", "text")


def columns(table: str) -> tuple[str, ...]:
    """Canonical column names of ``table`` in schema order."""
    return tuple(c.name for c in TABLES[table])


def required(table: str) -> tuple[str, ...]:
    """Required column names of ``table``."""
    return tuple(c.name for c in TABLES[table] if c.required)
