"""The bundled sample dataset: a deterministic generator with known, documented effects.

``kpitools sample OUT`` calls :func:`write_sample`; tests call :func:`generate`. Everything is
drawn with seeded :class:`numpy.random.Generator` streams and vectorised over rows, so one seed
gives byte-identical files and ten million tickets fit in a couple of GB.

Instants are generated as int64 UTC seconds on an hourly grid whose slots know their local
hour, day and opening status; they are written as naive local wall-clock values (SPEC A2).
Arrivals never fall into the first pass of the autumn's repeated hour and derived instants that
do are moved to the second pass, so every written value reads back as the instant generated.
The built-in effects are listed in ``data/sample/README.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import KpitoolsError

TIMEZONE = "Europe/Berlin"
AS_OF = "2026-11-15T12:00:00"
WINDOW_START = "2025-10-01"
HISTORY_START = "2022-01-01"  # customers who signed up before the window start here
COUNTRY, SUBDIVISION = "DE", "BE"
CLOSED_DATES = ("2025-12-24", "2025-12-31", "2026-12-24", "2026-12-31")
#: weekday (0 = Monday) -> opening intervals in whole local hours
BUSINESS_HOURS: dict[int, tuple[tuple[int, int], ...]] = {
    0: ((8, 12), (13, 18)), 1: ((8, 12), (13, 18)), 2: ((8, 12), (13, 18)),
    3: ((8, 12), (13, 18)), 4: ((8, 12), (13, 18)), 5: ((10, 14),),
}
#: live chat is staffed through lunch and into the evening on weekdays
CHAT_HOURS: dict[int, tuple[tuple[int, int], ...]] = {
    **{d: ((8, 20),) for d in range(5)}, 5: ((10, 14),),
}
#: the social/messaging team works 08:00-20:00 every day, holidays included
TEAM_HOURS: dict[int, tuple[tuple[int, int], ...]] = {d: ((8, 20),) for d in range(7)}

DIP_MONTH = "2026-10"
INCIDENT = ("2026-10-05", "2026-11-01")  # billing incident: more tickets, slower answers
SPAM_DAY = "2026-06-14"

CHANNELS = ("email", "chat", "phone", "messaging", "social")
EMAIL, CHAT, PHONE, MESSAGING, SOCIAL = range(5)
SHARES = np.array([0.35, 0.25, 0.20, 0.12, 0.08])
TOPICS = ("billing", "technical", "account", "delivery", "other")
PRIORITIES = ("low", "normal", "high", "urgent")
SEGMENTS = ("smb", "mid", "enterprise")
EVENTS = ("activated", "login", "view", "order")
N_AGENTS = 25
FILES = {"tickets": "parquet", "messages": "parquet", "status_changes": "parquet", "activity": "parquet",
         "sessions": "parquet", "surveys": "csv", "customers": "csv", "costs": "csv", "targets": "csv"}

MISSING = np.iinfo(np.int64).max  # "no instant" in int64 seconds; sorts after every real one
HOUR = 3600
DAY = 86400
_ROWS_PER_GROUP = 1_000_000
#: Parquet writer options of the conversation tables: ids and instants sorted by ticket shrink by
#: half as deltas (the other tables keep the defaults, and so their bytes)
_ENCODINGS = {
    "messages": {"use_dictionary": ["author", "agent_id", "channel"],
                 "column_encoding": {"sent_at": "DELTA_BINARY_PACKED", **dict.fromkeys(
                     ("message_id", "ticket_id", "in_reply_to", "customer_id"), "DELTA_BYTE_ARRAY")}},
    "status_changes": {"use_dictionary": ["status"],
                       "column_encoding": {"changed_at": "DELTA_BINARY_PACKED", "ticket_id": "DELTA_BYTE_ARRAY"}},
}

# Hourly arrival shapes (local hour 0..23); phone and chat are further masked by their hours.
_EMAIL_HOURS = [.2, .12, .08, .06, .06, .12, .3, .65, 1, 1.2, 1.25, 1.2,
                1, 1.05, 1.1, 1.05, .95, .85, .7, .6, .55, .5, .42, .3]
_LIVE_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 1.2, 1.35, 1.3, 1.15,
               .9, 1, 1.05, 1, .95, .85, .75, .65, 0, 0, 0, 0]
_SOCIAL_HOURS = [.3, .2, .12, .08, .07, .1, .2, .35, .55, .7, .8, .85,
                 .9, .9, .9, .9, .95, 1, 1.1, 1.2, 1.25, 1.15, .9, .55]
_WEB_HOURS = [.15, .08, .05, .04, .05, .1, .25, .5, .8, 1, 1.05, 1.05,
              1, 1, 1, 1, 1, 1.05, 1.1, 1.15, 1.2, 1.1, .8, .4]
_TICKET_WEEKDAYS = [1.18, 1.10, 1.05, 1.02, 0.95, 0.55, 0.45]
_WEB_WEEKDAYS = [1.05, 1.05, 1.0, 1.0, 0.95, 0.85, 0.9]

# Satisfaction: one latent score per ticket, cut into each survey's scale. Social and messaging
# share every parameter that reaches a score, so their distributions are equal by construction.
_SAT_MEAN = np.array([0.82, 1.33, 0.56, 1.04, 1.04])  # by channel code
_SAT_FCR_MISS = 0.30  # multi-contact or reopened tickets are rated lower
_SAT_DIP = 0.80       # every channel, surveys answered in DIP_MONTH
_CUTS = {  # latent cut points -> scale value = scale min + number of cuts below the latent
    "csat": (1, np.array([-1.6, -0.85, 0.0, 1.0])),
    "nps": (0, np.array([-2.6, -2.2, -1.8, -1.4, -1.0, -0.6, -0.2, 0.35, 0.95, 1.75])),
    "ces": (1, np.array([-1.9, -1.3, -0.7, -0.2, 0.45, 1.25])),
}
_SURVEY_RATE = {"csat": np.array([.22, .30, .18, .26, .26]),
                "nps": np.array([.12, .12, .12, .15, .15]),
                "ces": np.array([.10, .10, .10, .10, .10])}

# Ticket process, by channel code (email, chat, phone, messaging, social).
_ANONYMOUS = np.array([.03, .20, .10, .06, .06])
_ONE_CONTACT = np.array([.62, .78, .72, .68, .68])
_REOPEN = np.array([.09, .05, .06, .07, .07])
_HANDLE_MEDIAN_S = np.array([300., 450., 280., 240., 240.])
_TOPIC_MIX = np.array([[.28, .22, .20, .20, .10], [.18, .40, .17, .17, .08],
                       [.32, .25, .22, .13, .08], [.20, .25, .15, .30, .10],
                       [.15, .25, .10, .35, .15]])
_PRIORITY_MIX = np.array([.20, .60, .15, .05])
_PRIORITY_SPEED = np.array([1.4, 1.0, 0.6, 0.3])  # multiplies the text channels' reply time
_AGENT_POOLS = {EMAIL: range(12, 21), CHAT: range(6, 15), PHONE: range(0, 9),
                MESSAGING: range(19, 25), SOCIAL: range(19, 25)}
_UNIT_COST = np.array([3.8, 2.9, 6.5, 2.4, 3.4])  # per handled ticket, before fixed costs


# Conversations (text channels only: a call is no message), by channel code.
AUTHORS = ("customer", "agent", "bot")
CUSTOMER, AGENT, BOT = range(3)
STATUS_NAMES = ("Open", "Pending", "On_Hold", "Solved", "Closed")  # the canonical names, as a tool writes them
OPEN, PENDING, ON_HOLD, SOLVED, CLOSED = range(5)
_FOLLOW_UPS = np.array([0.8, 2.0, 0.0, 1.5, 1.0])        # customer follow-ups after the first reply
_NEXT_REPLY_H = np.array([4.0, 0.03, 0.0, 0.5, 1.0])     # median next reply (email, messaging, social: open hours)
_NEXT_REPLY_CLOCK = {EMAIL: "business", MESSAGING: "team", SOCIAL: "team"}
_WRITES_AGAIN = 0.25    # the customer writes again before the first reply
_BOT_CONTAINS = 0.30    # chats the bot resolves without an agent
_PENDING_P = 0.50       # an agent reply that waits on the customer
_ON_HOLD_P = np.array([0.10, 0.02, 0.05, 0.04, 0.04])    # tickets put on hold (waiting on a third party)
_AUTO_CLOSE = 4 * 86400  # solved tickets close after four days


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Calendar:
    """Hourly UTC slots from HISTORY_START to well past as_of, with their local facts."""

    start: int              # UTC seconds of slot 0
    as_of: int              # UTC seconds
    window: int             # first slot of the 14-month window
    now: int                # slots before this one lie before as_of
    offset: np.ndarray      # local minus UTC seconds, per slot
    fold: np.ndarray        # seconds to add so a naive read-back gives the same instant
    hour: np.ndarray
    weekday: np.ndarray
    day: np.ndarray         # local day number of the slot
    yday: np.ndarray        # local day of the year of the slot
    closed: np.ndarray      # public holiday or closed date
    day_start: np.ndarray   # UTC seconds of each local midnight
    month_start: np.ndarray  # UTC seconds of each local month start, HISTORY_START on
    months: tuple[str, ...]
    open: dict[str, np.ndarray]
    cum: dict[str, np.ndarray]  # open seconds before each slot (length slots + 1)

    @property
    def slots(self) -> int:
        return self.offset.size

    def slot(self, t: np.ndarray) -> np.ndarray:
        return np.clip((t - self.start) // HOUR, 0, self.slots - 1)


def _schedule(hours: np.ndarray, weekday: np.ndarray,
              weekly: dict[int, tuple[tuple[int, int], ...]]) -> np.ndarray:
    out = np.zeros(hours.size, bool)
    for day, spans in weekly.items():
        for lo, hi in spans:
            out |= (weekday == day) & (hours >= lo) & (hours < hi)
    return out


def _calendar() -> _Calendar:
    import holidays

    tz = TIMEZONE
    first = pd.Timestamp(HISTORY_START, tz=tz)
    as_of = pd.Timestamp(AS_OF, tz=tz)
    utc = pd.date_range(first.tz_convert("UTC"), as_of.tz_convert("UTC") + pd.Timedelta(days=60),
                        freq="h", inclusive="left")
    local = utc.tz_convert(tz)
    wall = local.tz_localize(None)
    # A2 reads a repeated wall time as its later pass; `fold` is how far that moves the instant.
    back = wall.tz_localize(tz, ambiguous=np.zeros(len(wall), bool), nonexistent="shift_forward")
    utc_s = utc.as_unit("s").asi8
    fold = back.as_unit("s").asi8 - utc_s
    offset = wall.as_unit("s").asi8 - utc_s
    dates = wall.normalize()
    day = ((dates - first.tz_localize(None)) // pd.Timedelta(days=1)).to_numpy().astype(np.int32)
    years = range(first.year, as_of.year + 2)
    shut = set(holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=years))
    shut |= {dt.date.fromisoformat(d) for d in CLOSED_DATES}
    closed = np.isin(dates.date, np.array(sorted(shut), dtype=object))
    hour = np.asarray(local.hour, np.int8)
    weekday = np.asarray(local.weekday, np.int8)
    days = pd.date_range(first.tz_localize(None), periods=int(day.max()) + 2, freq="D")
    day_start = days.tz_localize(tz).as_unit("s").asi8
    months = pd.period_range(first.tz_localize(None), as_of.tz_localize(None), freq="M")
    month_start = pd.period_range(months[0], months[-1] + 1, freq="M").to_timestamp()
    month_start = month_start.tz_localize(tz).as_unit("s").asi8
    opened = {
        "business": _schedule(hour, weekday, BUSINESS_HOURS) & ~closed,
        "chat": _schedule(hour, weekday, CHAT_HOURS) & ~closed,
        "team": _schedule(hour, weekday, TEAM_HOURS),
    }
    cum = {k: np.concatenate([[0], np.cumsum(v.astype(np.int64) * HOUR)]) for k, v in opened.items()}
    start = int(utc_s[0])
    window = (int(pd.Timestamp(WINDOW_START, tz=tz).timestamp()) - start) // HOUR
    as_of_s = int(as_of.timestamp())
    return _Calendar(
        start=start, as_of=as_of_s, window=window, now=(as_of_s - start) // HOUR,
        offset=offset, fold=fold, hour=hour, weekday=weekday, day=day,
        yday=np.asarray(local.dayofyear, np.int16), closed=closed,
        day_start=day_start, month_start=month_start,
        months=tuple(str(m) for m in months), open=opened, cum=cum,
    )


def _settle(cal: _Calendar, t: np.ndarray) -> np.ndarray:
    """Move instants out of the autumn's first repeated hour (no-op for MISSING)."""
    real = t != MISSING
    return np.where(real, t + cal.fold[cal.slot(np.where(real, t, cal.start))], t)


def _after(cal: _Calendar, later: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``later`` settled, never before ``base``, and MISSING when after as_of."""
    out = np.maximum(_settle(cal, later), base)
    return np.where(out > cal.as_of, MISSING, out)


def _open_add(cal: _Calendar, schedule: str, t: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """The instant ``seconds`` of open time after ``t`` (clock starts at the next opening)."""
    opened, cum = cal.open[schedule], cal.cum[schedule]
    grid_end = cal.start + cal.slots * HOUR
    real = t < grid_end
    k = cal.slot(np.where(real, t, cal.start))
    spent = cum[k] + np.where(opened[k], t - (cal.start + k * HOUR), 0) + seconds
    j = np.searchsorted(cum[1:], spent, side="right")
    jj = np.minimum(j, cal.slots - 1)
    out = cal.start + jj * HOUR + (spent - cum[jj])
    return np.where(real & (j < cal.slots), out, MISSING)


def _day_factor(cal: _Calendar, growth: float, weekdays: list[float]) -> np.ndarray:
    """Per-slot day weight: growth over the window, a winter peak and the weekly rhythm."""
    days = (cal.day - cal.day[cal.window]).astype(float)
    span = float(cal.day[cal.now] - cal.day[cal.window])
    trend = 1 + growth * np.clip(days / span, 0, 1) - growth / 2
    season = 1 + 0.10 * np.cos(2 * np.pi * (cal.yday - 350) / 365.25)  # peaks mid-December
    return trend * season * np.asarray(weekdays)[cal.weekday]


def _live(cal: _Calendar) -> np.ndarray:
    """Slots that can receive new rows: inside the window, before as_of, not a repeated hour."""
    out = np.zeros(cal.slots, bool)
    out[cal.window:cal.now] = True
    return out & (cal.fold == 0)


def _in_dates(cal: _Calendar, first: str, end: str) -> np.ndarray:
    day0 = pd.Timestamp(HISTORY_START)
    lo = (pd.Timestamp(first) - day0).days
    hi = (pd.Timestamp(end) - day0).days
    return (cal.day >= lo) & (cal.day < hi)


def _slot_times(rng: np.random.Generator, cal: _Calendar, slots: np.ndarray) -> np.ndarray:
    return cal.start + slots.astype(np.int64) * HOUR + rng.integers(0, HOUR, slots.size)


def _draw_in_range(rng: np.random.Generator, cal: _Calendar, cumw: np.ndarray,
                   lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One instant per row in ``[lo, hi)`` with density proportional to the slot weights."""
    def weight_at(t: np.ndarray) -> np.ndarray:
        x = (t - cal.start) / HOUR
        k = np.clip(x.astype(np.int64), 0, cal.slots - 1)
        return cumw[k] + (cumw[k + 1] - cumw[k]) * (x - k)

    a, b = weight_at(lo), weight_at(hi)
    u = a + rng.random(lo.size) * (b - a)
    j = np.clip(np.searchsorted(cumw[1:], u, side="right"), 0, cal.slots - 1)
    width = np.maximum(cumw[j + 1] - cumw[j], 1e-300)
    t = cal.start + ((j + np.clip((u - cumw[j]) / width, 0, 1)) * HOUR).astype(np.int64)
    flat = b <= a  # no weight in the range: uniform instead
    t = np.where(flat, lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64), t)
    return np.clip(t, lo, np.maximum(lo, hi - 1))


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def _pick_alive(rng: np.random.Generator, cumw: np.ndarray, signup: np.ndarray,
                churn: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A customer per instant, drawn by weight among those active then (-1 if none found)."""
    out = np.full(t.size, -1, np.int32)
    todo = np.arange(t.size)
    for _ in range(80):  # rejection sampling; each round keeps a fixed share of the remainder
        if todo.size == 0:
            break
        cand = np.searchsorted(cumw, rng.random(todo.size) * cumw[-1], side="right")
        ok = (signup[cand] <= t[todo]) & (t[todo] < churn[cand])
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return out


# --------------------------------------------------------------------------- customers


@dataclass(frozen=True)
class _Customers:
    signup: np.ndarray
    churn: np.ndarray      # MISSING = still a customer at as_of
    segment: np.ndarray
    spam: np.ndarray
    burst: np.ndarray      # part of the spam sign-up spike
    listed: np.ndarray     # present in the customers table (a few were erased)
    ticket_w: np.ndarray   # cumulative weights for picking who writes a ticket
    engage: np.ndarray     # active days per 30 days
    engage_w: np.ndarray   # cumulative weights for picking who starts a session


def _customers(rng: np.random.Generator, cal: _Calendar, n_tickets: int) -> _Customers:
    live = _live(cal)
    n_new = max(1, round(0.20 * n_tickets))
    n_old = max(1, round(0.24 * n_tickets))
    n_burst = round(0.006 * n_tickets)
    n_scattered = round(0.0004 * n_tickets)
    w = _day_factor(cal, 0.5, _WEB_WEEKDAYS) * np.asarray(_WEB_HOURS)[cal.hour] * live
    counts = rng.multinomial(n_new + n_scattered, w / w.sum())
    new = _slot_times(rng, cal, np.repeat(np.arange(cal.slots), counts))
    window_start = cal.start + cal.window * HOUR
    # older customers: density rising linearly towards the window start
    old = cal.start + (np.sqrt(rng.random(n_old)) * (window_start - cal.start)).astype(np.int64)
    old = _settle(cal, old)
    spam_day = cal.day_start[(pd.Timestamp(SPAM_DAY) - pd.Timestamp(HISTORY_START)).days]
    burst = spam_day + rng.integers(2 * HOUR, 6 * HOUR, n_burst)
    signup = np.concatenate([old, new, burst])
    is_burst = np.zeros(signup.size, bool)
    is_burst[n_old + n_new + n_scattered:] = True
    spam = is_burst.copy()
    spam[rng.choice(np.arange(n_old, n_old + n_new + n_scattered), n_scattered, replace=False)] = True
    order = np.argsort(signup, kind="stable")
    signup, spam, is_burst = signup[order], spam[order], is_burst[order]
    n = signup.size
    segment = rng.choice(3, n, p=[0.70, 0.22, 0.08]).astype(np.int8)
    segment[spam] = 0
    monthly_churn = np.array([0.030, 0.018, 0.008])[segment]
    life = rng.exponential(30.44 * DAY / monthly_churn)
    churn = np.where(spam, MISSING, signup + life.astype(np.int64))
    churn = np.where(churn > cal.as_of, MISSING, _settle(cal, np.minimum(churn, cal.as_of)))
    churn = np.where(churn != MISSING, np.maximum(churn, signup + 1), MISSING)
    listed = spam | (rng.random(n) >= 0.003)  # a few erased accounts; spam stays flagged
    ticket_w = np.array([1.0, 2.5, 6.0])[segment] * rng.gamma(0.8, 1.25, n) * ~spam
    engage = rng.gamma(0.25, 1.6, n) * ~spam  # heavy-tailed: a few customers use it daily
    return _Customers(
        signup=signup, churn=churn, segment=segment, spam=spam, burst=is_burst, listed=listed,
        ticket_w=np.cumsum(ticket_w), engage=engage, engage_w=np.cumsum(engage),
    )


def _customers_table(cal: _Calendar, cust: _Customers, ids: np.ndarray) -> pa.Table:
    keep = np.flatnonzero(cust.listed)
    return pa.table({
        "customer_id": _texts(ids, keep),
        "signup_at": _stamps(cal, cust.signup[keep]),
        "churned_at": _stamps(cal, cust.churn[keep]),
        "segment": _labels(cust.segment[keep], SEGMENTS),
        "is_spam": pa.array(cust.spam[keep]),
    })


# --------------------------------------------------------------------------- tickets


@dataclass
class _Tickets:
    created: np.ndarray
    channel: np.ndarray
    customer: np.ndarray
    first: np.ndarray
    resolved: np.ndarray
    abandoned: np.ndarray
    contacts: np.ndarray
    reopened: np.ndarray
    agent: np.ndarray
    handle: np.ndarray
    wait: np.ndarray
    topic: np.ndarray
    priority: np.ndarray
    spam: np.ndarray


def _arrivals(cal: _Calendar) -> np.ndarray:
    """Expected ticket arrivals per (channel, slot), each channel summing to its share."""
    live = _live(cal)
    day = _day_factor(cal, 0.35, _TICKET_WEEKDAYS)
    day = day * np.where(cal.closed, 0.35, 1.0)
    day = day * np.where(_in_dates(cal, *INCIDENT), 1.2, 1.0)
    frac = np.clip((cal.day - cal.day[cal.window]) / (cal.day[cal.now] - cal.day[cal.window]), 0, 1)
    drift = {EMAIL: 1.12 - 0.24 * frac, CHAT: 0.85 + 0.30 * frac}
    hours = {EMAIL: _EMAIL_HOURS, CHAT: _LIVE_HOURS, PHONE: _LIVE_HOURS,
             MESSAGING: _SOCIAL_HOURS, SOCIAL: _SOCIAL_HOURS}
    gates = {CHAT: cal.open["chat"], PHONE: cal.open["business"]}
    cells = np.zeros((len(CHANNELS), cal.slots))
    for c in range(len(CHANNELS)):
        w = day * np.asarray(hours[c])[cal.hour] * live * drift.get(c, 1.0)
        w = w * gates.get(c, True)
        cells[c] = SHARES[c] * w / w.sum()
    return cells


def _tickets(rng: np.random.Generator, cal: _Calendar, cust: _Customers, n: int) -> _Tickets:
    burst = np.flatnonzero(cust.burst)
    spam_writers = burst[rng.random(burst.size) < 0.10][:n]
    cells = _arrivals(cal)
    counts = rng.multinomial(n - spam_writers.size, (cells / cells.sum()).ravel())
    chan = np.repeat(np.repeat(np.arange(len(CHANNELS), dtype=np.int8), cal.slots), counts)
    slot = np.repeat(np.tile(np.arange(cal.slots, dtype=np.int32), len(CHANNELS)), counts)
    created = _slot_times(rng, cal, slot)
    order = np.argsort(created, kind="stable")
    created, chan, slot = created[order], chan[order], slot[order]
    del order
    customer = np.where(rng.random(created.size) < _ANONYMOUS[chan], -1,
                        _pick_alive(rng, cust.ticket_w, cust.signup, cust.churn, created))
    # agents: each channel's pool with uneven shares, each agent with their own pace
    pools = {c: (np.asarray(p), rng.gamma(4.0, 1.0, len(p))) for c, p in _AGENT_POOLS.items()}
    pace = np.exp(0.12 * rng.standard_normal(N_AGENTS))
    step = _ROWS_PER_GROUP
    bounds = range(0, created.size, step)
    parts = [_ticket_process(r, cal, cells, created[i:i + step], chan[i:i + step],
                             slot[i:i + step], pools, pace)
             for r, i in zip(rng.spawn(len(bounds)), bounds)]
    del slot
    # spam sign-ups writing junk mail, closed unanswered by the spam filter
    k = spam_writers.size
    s_created = np.sort(cust.signup[spam_writers] + rng.integers(60, HOUR, k))
    spam = {
        "first": np.full(k, MISSING),
        "resolved": _after(cal, s_created + rng.integers(300, HOUR, k), s_created),
        "abandoned": np.zeros(k, bool), "contacts": np.ones(k, np.int16),
        "reopened": np.zeros(k, np.int16), "agent": np.full(k, -1, np.int16),
        "handle": np.full(k, np.nan, np.float32), "wait": np.full(k, np.nan, np.float32),
        "topic": np.full(k, TOPICS.index("other"), np.int8), "priority": np.zeros(k, np.int8),
    }
    # merge the few spam tickets into time order, one column at a time to bound memory
    at = np.searchsorted(created, s_created, side="right")
    cols = {"created": np.insert(created, at, s_created),
            "channel": np.insert(chan, at, EMAIL),
            "customer": np.insert(customer.astype(np.int32), at, np.sort(spam_writers)),
            "spam": np.insert(np.zeros(created.size, bool), at, True)}
    del created, chan, customer
    for name, tail in spam.items():
        cols[name] = np.insert(np.concatenate([p[name] for p in parts]), at, tail)
        for p in parts:
            del p[name]
    return _Tickets(**cols)


def _ticket_process(rng: np.random.Generator, cal: _Calendar, cells: np.ndarray,
                    created: np.ndarray, chan: np.ndarray, slot: np.ndarray,
                    pools: dict[int, tuple[np.ndarray, np.ndarray]],
                    pace: np.ndarray) -> dict[str, np.ndarray]:
    """Everything that happens to tickets after they arrive (rows are independent)."""
    m = created.size
    # topic mix: delivery peaks in Nov-Dec, billing during the incident
    topic = np.empty(m, np.int8)
    peak = np.array([mo[5:] in ("11", "12") for mo in cal.months])[_month_index(cal, created)]
    incident = _in_dates(cal, *INCIDENT)[slot]
    for c in range(len(CHANNELS)):
        for sel, boost, factor in ((~incident & ~peak, 0, 1.0), (~incident & peak, 3, 1.6),
                                   (incident, 0, 2.5)):
            sel = sel & (chan == c)
            p = _TOPIC_MIX[c].copy()
            p[boost] *= factor
            topic[sel] = rng.choice(len(TOPICS), int(sel.sum()), p=p / p.sum())
    priority = rng.choice(len(PRIORITIES), m, p=_PRIORITY_MIX).astype(np.int8)

    # phone and chat: queue wait grows with load; callers and chatters give up
    load = cells / np.where(cells > 0, cells, np.nan).mean(axis=1, keepdims=True)
    busy = np.clip(np.nan_to_num(load[chan, slot], nan=1.0), 0.5, 3.0) ** 0.8
    slow = np.where(incident, 2.5, 1.0)
    wait = _lognormal(rng, np.where(chan == PHONE, 150.0, 45.0) * busy * slow, 0.9, m)
    patience = rng.exponential(np.where(chan == PHONE, 2200.0, 900.0))
    live = (chan == PHONE) | (chan == CHAT)
    abandoned = live & (patience < wait)
    wait_s = np.where(live, np.maximum(1, np.round(np.where(abandoned, patience, wait))), np.nan)

    # text channels: replies take open time of the answering team
    reply_h = np.select([chan == EMAIL, chan == MESSAGING, chan == SOCIAL], [3.5, 0.75, 1.5], 1.0)
    reply_h = reply_h * _PRIORITY_SPEED[priority] * np.where(incident & (chan == EMAIL), 1.6, 1.0)
    reply = (_lognormal(rng, reply_h, 1.0, m) * HOUR).astype(np.int64)
    email = chan == EMAIL
    team = (chan == MESSAGING) | (chan == SOCIAL)
    first = np.where(live, created + np.round(wait).astype(np.int64), MISSING)
    first = np.where(email, _open_add(cal, "business", created, reply), first)
    first = np.where(team, _open_add(cal, "team", created, reply), first)
    u = rng.random(m)
    neglected = ~live & (u < 0.003)                # fell through the cracks: never answered
    no_reply = email & (u >= 0.003) & (u < 0.013)  # closed without a reply (duplicates etc.)
    first = np.where(abandoned | neglected | no_reply, MISSING, first)

    contacts = np.where(abandoned, 1, 1 + (rng.random(m) >= _ONE_CONTACT[chan]) * rng.geometric(0.55, m))
    reopened = np.where(abandoned, 0, (rng.random(m) < _REOPEN[chan]) * (1 + (rng.random(m) < 0.15)))
    agent = np.full(m, -1, np.int16)
    for c, (pool, share) in pools.items():
        sel = chan == c
        agent[sel] = rng.choice(pool, int(sel.sum()), p=share / share.sum())
    handle = _lognormal(rng, _HANDLE_MEDIAN_S[chan] * contacts ** 0.8, 0.45, m)
    handle = np.round(handle * pace[np.maximum(agent, 0)])

    # resolution: live contacts mostly end solved; the rest wait for follow-ups and reopen
    fcr = (contacts == 1) & (reopened == 0)
    on_call = live & fcr & (rng.random(m) < np.where(chan == PHONE, 0.85, 0.80))
    done = np.where(first == MISSING, created, first + np.where(live, handle.astype(np.int64), 0))
    follow_h = _lognormal(rng, 0.4, 1.0, m) + (contacts - 1) * _lognormal(rng, 6.0, 0.8, m)
    follow = (follow_h * HOUR).astype(np.int64)
    resolved = np.where(team, _open_add(cal, "team", done, follow),
                        _open_add(cal, "business", done, follow))
    resolved = np.where(on_call, done + rng.integers(0, 120, m), resolved)
    reopen_s = reopened * (_lognormal(rng, 40.0, 0.8, m) * HOUR).astype(np.int64)
    stuck = ~on_call & (rng.random(m) < 0.004)
    resolved = np.where(abandoned | neglected | stuck | (resolved == MISSING), MISSING,
                        resolved + reopen_s)
    first = _after(cal, first, created)
    resolved = np.where(resolved == MISSING, MISSING,
                        _after(cal, resolved, np.where(first == MISSING, created, first)))
    worked = (first != MISSING) | (no_reply & (resolved != MISSING))
    return {
        "first": first, "resolved": resolved, "abandoned": abandoned,
        "contacts": contacts.astype(np.int16),
        "reopened": np.where(resolved == MISSING, 0, reopened).astype(np.int16),
        "agent": np.where(worked, agent, -1).astype(np.int16),
        "handle": np.where(worked, np.where(no_reply, 30.0, handle), np.nan).astype(np.float32),
        "wait": wait_s.astype(np.float32), "topic": topic, "priority": priority,
    }


# --------------------------------------------------------------------------- messages, statuses


def _conversation(rng: np.random.Generator, cal: _Calendar, tk: _Tickets, rows: slice
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The messages and status changes of the tickets ``rows`` (ticket indices, instants, codes).

    A text ticket starts with its customer's message at ``created_at`` (a chat first meets the
    bot, which resolves a share of chats alone); some customers write again before the first
    reply, which is the ticket's ``first_response_at``; then follow-ups (more for chat, one per
    extra contact) each get an agent's next reply on the channel's clock, all inside the ticket's
    life (up to its resolution, else ``as_of``). Status changes: open at the first reply, pending
    while a reply waits on the customer, on hold for a share of tickets, solved (and reopened as
    often as the ticket was) and closed four days after the resolution.
    """
    idx = np.arange(rows.start, rows.stop)
    created, chan, first, resolved = tk.created[idx], tk.channel[idx], tk.first[idx], tk.resolved[idx]
    end = np.where(resolved == MISSING, cal.as_of, resolved)
    m = idx.size
    text = chan != PHONE
    chat = chan == CHAT
    contained = chat & ~tk.abandoned[idx] & (resolved != MISSING) & (rng.random(m) < _BOT_CONTAINS)
    answered = text & (first != MISSING) & ~contained
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []  # (ticket positions, instants, author)
    t_text = np.flatnonzero(text)
    parts.append((t_text, created[t_text], CUSTOMER))
    bot = np.flatnonzero(chat)
    greet = created[bot] + rng.integers(2, 15, bot.size)
    parts.append((bot, greet, BOT))
    solo = np.flatnonzero(contained)
    parts.append((solo, np.minimum(created[solo] + rng.integers(20, 240, solo.size), end[solo]), BOT))
    again = np.flatnonzero(answered & (rng.random(m) < _WRITES_AGAIN))
    parts.append((again, created[again] + (rng.random(again.size) * (first[again] - created[again])).astype(np.int64),
                  CUSTOMER))
    ans = np.flatnonzero(answered)
    parts.append((ans, first[ans], AGENT))
    # follow-ups inside (first reply, end): each answered on the channel's clock, never after the end
    n_follow = rng.poisson(_FOLLOW_UPS[chan[ans]]) + (tk.contacts[idx][ans] - 1)
    who = np.repeat(ans, n_follow)
    asked = first[who] + (rng.random(who.size) * (end[who] - first[who])).astype(np.int64)
    delay = (_lognormal(rng, _NEXT_REPLY_H[chan[who]], 0.9, who.size) * HOUR).astype(np.int64)
    reply = asked + delay
    for c, clock in _NEXT_REPLY_CLOCK.items():
        sel = chan[who] == c
        reply[sel] = _open_add(cal, clock, asked[sel], delay[sel])
    parts.append((who, asked, CUSTOMER))
    parts.append((who, np.minimum(reply, end[who]), AGENT))
    pos = np.concatenate([p[0] for p in parts])
    at = _settle(cal, np.concatenate([p[1] for p in parts]))
    author = np.concatenate([np.full(p[0].size, p[2], np.int8) for p in parts])
    keep = at <= cal.as_of
    pos, at, author = pos[keep], at[keep], author[keep]
    order = np.lexsort((author, at, pos))  # by ticket, then time; at one instant the customer first
    messages = {"ticket": idx[pos[order]], "at": at[order], "author": author[order]}

    # status changes of every ticket that was worked (abandoned ones never were)
    worked = ~tk.abandoned[idx]
    s_parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    opened = np.flatnonzero(worked & (first != MISSING))
    s_parts.append((opened, first[opened], OPEN))
    waits = (messages["author"] == AGENT) & (rng.random(messages["at"].size) < _PENDING_P)
    nxt = np.flatnonzero(waits[:-1] & (messages["author"][1:] == CUSTOMER)
                         & (messages["ticket"][1:] == messages["ticket"][:-1]))
    s_parts.append((messages["ticket"][nxt] - rows.start, messages["at"][nxt], PENDING))
    s_parts.append((messages["ticket"][nxt + 1] - rows.start, messages["at"][nxt + 1], OPEN))
    hold = np.flatnonzero(worked & (first != MISSING) & (end > first) & (rng.random(m) < _ON_HOLD_P[chan]))
    span = end[hold] - first[hold]
    h_on = first[hold] + (rng.random(hold.size) * 0.3 * span).astype(np.int64)
    s_parts.append((hold, h_on, ON_HOLD))
    s_parts.append((hold, h_on + (rng.random(hold.size) * 0.4 * span).astype(np.int64), OPEN))
    done = np.flatnonzero(worked & (resolved != MISSING))
    reopen = np.repeat(done, tk.reopened[idx][done])
    lo = np.where(first[reopen] == MISSING, created[reopen], first[reopen])
    early = lo + (rng.random(reopen.size) * 0.6 * (end[reopen] - lo)).astype(np.int64)
    s_parts.append((reopen, early, SOLVED))
    s_parts.append((reopen, early + (rng.random(reopen.size) * 0.3 * (end[reopen] - lo)).astype(np.int64), OPEN))
    s_parts.append((done, resolved[done], SOLVED))
    s_parts.append((done, resolved[done] + _AUTO_CLOSE, CLOSED))
    pos = np.concatenate([p[0] for p in s_parts])
    at = _settle(cal, np.concatenate([p[1] for p in s_parts]))
    status = np.concatenate([np.full(p[0].size, p[2], np.int8) for p in s_parts])
    keep = at <= cal.as_of
    pos, at, status = pos[keep], at[keep], status[keep]
    order = np.lexsort((status, at, pos))
    return messages, {"ticket": idx[pos[order]], "at": at[order], "status": status[order]}


def _conversations(rng: np.random.Generator, cal: _Calendar, tk: _Tickets, cust_ids: np.ndarray
                   ) -> tuple[list[pa.Table], list[pa.Table]]:
    """The messages and status_changes tables, one chunk per group of tickets."""
    n = tk.created.size
    width = max(7, len(str(n)))
    agents = tuple(f"A{i + 1:02d}" for i in range(N_AGENTS))
    messages, statuses = [], []
    next_id = 1
    step = _ROWS_PER_GROUP
    bounds = range(0, n, step)
    for r, i in zip(rng.spawn(len(bounds)), bounds):
        msg, st = _conversation(r, cal, tk, slice(i, min(i + step, n)))
        t, k, author = msg["ticket"], msg["at"].size, msg["author"]
        ids = _id_bytes("M", np.arange(next_id, next_id + k), max(8, len(str(12 * n))))
        # email keeps the thread: each message replies to the one before it in its ticket
        threaded = (tk.channel[t] == EMAIL) & (np.r_[-1, t[:-1]] == t)
        messages.append(pa.table({
            "message_id": _texts(ids),
            "sent_at": _stamps(cal, msg["at"]),
            "author": _labels(author, AUTHORS),
            "ticket_id": _texts(_id_bytes("T", t + 1, width)),
            "in_reply_to": _texts(ids, np.where(threaded, np.arange(k) - 1, -1)),
            "customer_id": _texts(cust_ids, np.where(author == CUSTOMER, tk.customer[t], -1)),
            "agent_id": _labels(np.where(author == AGENT, tk.agent[t], -1), agents),
            "channel": _labels(tk.channel[t], CHANNELS),
        }))
        next_id += k
        statuses.append(pa.table({
            "ticket_id": _texts(_id_bytes("T", st["ticket"] + 1, width)),
            "changed_at": _stamps(cal, st["at"]),
            "status": _labels(st["status"], STATUS_NAMES),
        }))
    return messages, statuses


def _month_index(cal: _Calendar, t: np.ndarray) -> np.ndarray:
    """Index into ``cal.months`` of each instant's local month."""
    return np.searchsorted(cal.month_start, t, side="right") - 1


def _first_month(cal: _Calendar) -> int:
    """Index into ``cal.months`` of the window's first month."""
    return int(_month_index(cal, np.array([cal.start + cal.window * HOUR]))[0])


def _tickets_table(cal: _Calendar, tk: _Tickets, cust_ids: np.ndarray,
                   rows: slice) -> pa.Table:
    n = tk.created.size
    width = max(7, len(str(n)))
    ids = _id_bytes("T", np.arange(rows.start + 1, rows.stop + 1), width)
    agents = tuple(f"A{i + 1:02d}" for i in range(N_AGENTS))
    customer = tk.customer[rows]
    return pa.table({
        "ticket_id": _texts(ids),
        "channel": _labels(tk.channel[rows], CHANNELS),
        "created_at": _stamps(cal, tk.created[rows]),
        "customer_id": _texts(cust_ids, customer),
        "first_response_at": _stamps(cal, tk.first[rows]),
        "resolved_at": _stamps(cal, tk.resolved[rows]),
        "abandoned": pa.array(tk.abandoned[rows]),
        "contacts": pa.array(tk.contacts[rows].astype(np.int64)),
        "reopened": pa.array(tk.reopened[rows].astype(np.int64)),
        "agent_id": _labels(tk.agent[rows], agents),
        "handle_seconds": pa.array(tk.handle[rows].astype(np.float64), from_pandas=True),
        "wait_seconds": pa.array(tk.wait[rows].astype(np.float64), from_pandas=True),
        "topic": _labels(tk.topic[rows], TOPICS),
        "priority": _labels(tk.priority[rows], PRIORITIES),
    })


# --------------------------------------------------------------------------- surveys


def _surveys_table(rng: np.random.Generator, cal: _Calendar, tk: _Tickets,
                   cust: _Customers, cust_ids: np.ndarray) -> pa.Table:
    spam = tk.spam | ((tk.customer >= 0) & cust.spam[np.maximum(tk.customer, 0)])
    rated = np.flatnonzero((tk.resolved != MISSING) & ~spam)
    chan = tk.channel[rated]
    miss = (tk.contacts[rated] > 1) | (tk.reopened[rated] > 0)
    mood = _SAT_MEAN[chan] - _SAT_FCR_MISS * miss + rng.standard_normal(rated.size)
    dip = cal.months.index(DIP_MONTH)
    parts = []
    for kind, (lowest, cuts) in _CUTS.items():
        sel = rng.random(rated.size) < _SURVEY_RATE[kind][chan]
        idx = rated[sel]
        delay_h = _lognormal(rng, 3.0 if kind != "nps" else 20.0, 1.3, idx.size)
        at = _after(cal, tk.resolved[idx] + (delay_h * HOUR).astype(np.int64), tk.resolved[idx])
        latent = mood[sel] + 0.4 * rng.standard_normal(idx.size)
        latent = latent - _SAT_DIP * (_month_index(cal, at) == dip)
        score = lowest + np.searchsorted(cuts, latent)
        keep = at != MISSING
        parts.append((at[keep], idx[keep], np.full(keep.sum(), list(_CUTS).index(kind), np.int8),
                      score[keep]))
    at, ticket, kind, score = (np.concatenate(p) for p in zip(*parts))
    order = np.lexsort((ticket, at))
    at, ticket, kind, score = at[order], ticket[order], kind[order], score[order]
    n = at.size
    u = rng.random(n)
    lost = u < 0.01        # the survey tool lost the ticket link but kept the channel
    own_channel = u < 0.10
    width = max(7, len(str(n)))
    tickets_w = max(7, len(str(tk.created.size)))
    ticket_ids = _id_bytes("T", ticket + 1, tickets_w)
    return pa.table({
        "response_id": _texts(_id_bytes("S", np.arange(1, n + 1), width)),
        "survey": _labels(kind, tuple(_CUTS)),
        "score": pa.array(score.astype(np.int64)),
        "responded_at": _stamps(cal, at),
        "ticket_id": _texts(ticket_ids, np.where(lost, -1, np.arange(n))),
        "customer_id": _texts(cust_ids, tk.customer[ticket]),
        "channel": _labels(np.where(own_channel, tk.channel[ticket], -1), CHANNELS),
    })


# --------------------------------------------------------------------------- sessions


def _help_before_ticket(rng: np.random.Generator, cal: _Calendar, cust: _Customers,
                        tk: _Tickets) -> tuple[np.ndarray, np.ndarray]:
    """Self-service sessions of customers who then wrote a ticket within 72 h (not deflected)."""
    linked = np.flatnonzero((tk.customer >= 0) & ~tk.spam & (rng.random(tk.created.size) < 0.03))
    start = tk.created[linked] - rng.integers(300, 72 * HOUR, linked.size)
    who = tk.customer[linked]
    ok = (start >= cust.signup[who]) & (start >= cal.start + cal.window * HOUR)
    start = start[ok]
    return np.minimum(_settle(cal, start), tk.created[linked][ok]), who[ok]


def _sessions(rng: np.random.Generator, cal: _Calendar, cust: _Customers,
              helped: tuple[np.ndarray, np.ndarray], n_sessions: int,
              cust_ids: np.ndarray) -> Iterator[pa.Table]:
    """Web sessions, one table per month in time order."""
    live = _live(cal)
    w = _day_factor(cal, 0.35, _WEB_WEEKDAYS) * np.asarray(_WEB_HOURS)[cal.hour] * live
    counts = rng.multinomial(n_sessions, w / w.sum())
    l_start, l_cust = helped
    # spam bots browse once before signing up
    bots = np.flatnonzero(cust.burst)
    b_start = cust.signup[bots] - rng.integers(30, 600, bots.size)
    months = range(_first_month(cal), len(cal.months))
    seeds = rng.spawn(len(months))
    next_id = 1
    width = max(7, len(str(n_sessions + l_start.size + bots.size)))
    for r, mi in zip(seeds, months):
        lo_t, hi_t = cal.month_start[mi], cal.month_start[mi + 1]
        lo_s, hi_s = (lo_t - cal.start) // HOUR, (hi_t - cal.start) // HOUR
        slots = np.repeat(np.arange(lo_s, hi_s), counts[lo_s:hi_s])
        start = _slot_times(r, cal, slots)
        who = np.where(r.random(start.size) < 0.45,
                       _pick_alive(r, cust.engage_w, cust.signup, cust.churn, start), -1)
        self_service = r.random(start.size) < 0.15
        converted = r.random(start.size) < np.where(who >= 0, 0.04, 0.025)
        ml = (l_start >= lo_t) & (l_start < hi_t)
        mb = (b_start >= lo_t) & (b_start < hi_t)
        start = np.concatenate([start, l_start[ml], b_start[mb]])
        who = np.concatenate([who, l_cust[ml], bots[mb]]).astype(np.int32)
        self_service = np.concatenate([self_service, np.ones(ml.sum(), bool), np.zeros(mb.sum(), bool)])
        converted = np.concatenate([converted, np.zeros(ml.sum() + mb.sum(), bool)])
        chat_on = cal.open["chat"][cal.slot(start)] & (r.random(start.size) >= 0.04)
        order = np.lexsort((who, start))
        n = start.size
        yield pa.table({
            "session_id": _texts(_id_bytes("W", np.arange(next_id, next_id + n), width)),
            "started_at": _stamps(cal, start[order]),
            "customer_id": _texts(cust_ids, who[order]),
            "converted": pa.array(converted[order]),
            "self_service": pa.array(self_service[order]),
            "chat_available": pa.array(chat_on[order]),
        })
        next_id += n


# --------------------------------------------------------------------------- activity


def _activity(rng: np.random.Generator, cal: _Calendar, cust: _Customers,
              cust_ids: np.ndarray, usage: float = 1.0) -> Iterator[pa.Table]:
    """Product events, one table per month in time order (``usage`` scales the regular use)."""
    window_start = cal.start + cal.window * HOUR
    w = _day_factor(cal, 0.0, _WEB_WEEKDAYS) * np.asarray(_WEB_HOURS)[cal.hour]
    cumw = np.concatenate([[0.0], np.cumsum(w)])
    hour_p = np.asarray(_WEB_HOURS) / np.sum(_WEB_HOURS)
    newbies = np.flatnonzero(~cust.spam & (cust.signup >= window_start))
    # sign-up day: a first login, and activation for most within days
    s = cust.signup[newbies]
    first_login = s + rng.integers(0, 1800, newbies.size)
    delay = np.select(
        [rng.random(newbies.size) < 0.65, rng.random(newbies.size) < 0.60],
        [rng.integers(60, 2 * HOUR, newbies.size), rng.integers(DAY, 7 * DAY, newbies.size)],
        rng.integers(8 * DAY, 21 * DAY, newbies.size))
    activates = rng.random(newbies.size) < 0.90
    act_at = np.where(activates, s + delay, MISSING)
    bots = np.flatnonzero(cust.burst)
    bot_at = cust.signup[bots] + rng.integers(5, 300, bots.size)
    fixed_t = np.concatenate([first_login, act_at, bot_at])
    fixed_c = np.concatenate([newbies, newbies, bots]).astype(np.int32)
    fixed_e = np.concatenate([np.full(newbies.size, 1), np.full(newbies.size, 0), np.full(bots.size, 1)])
    alive = fixed_t < np.where(cust.churn[fixed_c] == MISSING, cal.as_of, cust.churn[fixed_c])
    fixed_t, fixed_c, fixed_e = fixed_t[alive], fixed_c[alive], fixed_e[alive].astype(np.int8)
    fixed_t = _settle(cal, fixed_t)
    end = np.minimum(np.where(cust.churn == MISSING, cal.as_of, cust.churn), cal.as_of)
    months = range(_first_month(cal), len(cal.months))
    seeds = rng.spawn(len(months))
    s_day = cal.day[cal.slot(cust.signup)]
    for r, mi in zip(seeds, months):
        lo_t, hi_t = cal.month_start[mi], min(cal.month_start[mi + 1], cal.as_of)
        # regular use: Poisson active days within the customer's life in this month
        lo = np.maximum(cust.signup, lo_t)
        hi = np.minimum(end, hi_t)
        who = np.flatnonzero((hi > lo) & (cust.engage > 0))
        exposure = (hi[who] - lo[who]) / (30 * DAY)
        days = r.poisson(cust.engage[who] * exposure * usage)
        who = np.repeat(who, days)
        t_day = _draw_in_range(r, cal, cumw, lo[who], hi[who])
        # early life: a decaying chance to come back on each of the first 30 days
        early_t, early_c = [], []
        for k in range(1, 31):
            d = s_day[newbies] + k
            day_lo = cal.day_start[np.minimum(d, cal.day_start.size - 2)]
            back = r.random(newbies.size) < 0.30 * math.exp(-(k - 1) / 4) + 0.04
            sel = (day_lo >= lo_t) & (day_lo < hi_t) & back
            c = newbies[sel]
            t = day_lo[sel] + r.choice(24, c.size, p=hour_p) * HOUR + r.integers(0, HOUR, c.size)
            t = np.minimum(t, cal.day_start[d[sel] + 1] - 1)
            keep = (t < end[c]) & (t < hi_t)
            early_t.append(t[keep])
            early_c.append(c[keep])
        t_day = np.concatenate([t_day, *early_t])
        who = np.concatenate([who, *early_c]).astype(np.int32)
        # each active day is a login followed by a few views and orders minutes apart
        extra = r.poisson(0.4, who.size)
        day_of = np.repeat(np.arange(who.size), 1 + extra)
        first_of_day = np.diff(day_of, prepend=-1) != 0
        step = np.where(first_of_day, 0, r.integers(30, 1200, day_of.size))
        t = t_day[day_of] + _group_cumsum(step, first_of_day)
        event = np.where(first_of_day, 1, np.where(r.random(day_of.size) < 0.75, 2, 3)).astype(np.int8)
        c = who[day_of]
        keep = t < np.minimum(end[c], hi_t)
        t, c, event = _settle(cal, t[keep]), c[keep], event[keep]
        fm = (fixed_t >= lo_t) & (fixed_t < hi_t)
        t = np.concatenate([t, fixed_t[fm]])
        c = np.concatenate([c, fixed_c[fm]])
        event = np.concatenate([event, fixed_e[fm]])
        order = np.lexsort((event, c, t))
        yield pa.table({
            "customer_id": _texts(cust_ids, c[order]),
            "ts": _stamps(cal, t[order]),
            "event": _labels(event[order], EVENTS),
        })


def _group_cumsum(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``x`` restarting where ``starts`` is true."""
    total = np.cumsum(x)
    base = np.maximum.accumulate(np.where(starts, total - x, 0))
    return total - base


# --------------------------------------------------------------------------- costs, targets


def _handled_volume(cal: _Calendar, tk: _Tickets) -> np.ndarray:
    """Non-abandoned tickets per (window month, channel)."""
    first_month = _first_month(cal)
    handled = ~tk.abandoned
    month = _month_index(cal, tk.created[handled]) - first_month
    volume = np.zeros((len(cal.months) - first_month, len(CHANNELS)))
    np.add.at(volume, (month, tk.channel[handled]), 1)
    return volume


def _costs_table(rng: np.random.Generator, cal: _Calendar, volume: np.ndarray) -> pa.Table:
    first_month = _first_month(cal)
    n_months = volume.shape[0]
    # fixed costs (licences, team leads) are sized on the channel's typical month; the last
    # month is half over at as_of and so far carries half of them
    fixed = 0.25 * _UNIT_COST * volume[:-1].mean(axis=0)
    elapsed = np.r_[np.ones(n_months - 1), 0.5][:, None]
    noise = 1 + 0.04 * rng.standard_normal(volume.shape)
    cost = np.round(volume * _UNIT_COST * noise + fixed * elapsed, 2)
    periods = np.repeat(np.asarray(cal.months[first_month:]), len(CHANNELS))
    return pa.table({
        "period": pa.array(periods.astype(str)),
        "channel": pa.array(np.tile(np.asarray(CHANNELS), n_months).astype(str)),
        "cost": pa.array(cost.ravel()),
    })


_TARGETS = (
    ("frt_h", 8.0, None), ("frt_h", 24.0, "email"), ("frt_h", 0.1, "chat"),
    ("frt_h", 0.05, "phone"), ("frt_h", 4.0, "social"), ("frt_h", 2.0, "messaging"),
    ("csat_pct", 80.0, None), ("csat_pct", 70.0, "phone"), ("nps", 30.0, None),
    ("ces_easy_pct", 70.0, None), ("fcr_pct", 70.0, None), ("reopen_pct", 8.0, None),
    ("abandonment_pct", 10.0, None), ("abandonment_pct", 8.0, "phone"),
    ("sla_frt_pct", 90.0, None), ("aht_min", 7.0, "phone"), ("churn_pct", 3.0, None),
    ("activation_pct", 75.0, None), ("self_service_pct", 80.0, None),
    # met only because the email resolution policy pauses while waiting on the customer (SPEC B6)
    ("sla_resolution_pct", 50.0, "email"),
)


def _targets_table() -> pa.Table:
    kpi, target, channel = zip(*_TARGETS)
    return pa.table({"kpi": list(kpi), "target": list(target),
                     "channel": pa.array(list(channel), pa.string())})


#: The [[sla]] policies of the sample (SPEC B6): (metric, target_h, channel, priority, business_hours,
#: pause_on). Chosen so the planted effects show: chat's and email's next replies against targets
#: of their own pace; email's resolution clock, paused while the ticket waits on the customer or a
#: third party, has most tickets within 40 h, and without the pauses it would not.
_SLA = (
    ("first_reply", 8, None, None, True, ()),
    ("first_reply", 0.1, "chat", None, False, ()),
    ("first_reply", 1, None, "urgent", True, ()),
    ("next_reply", 8, None, None, True, ()),
    ("next_reply", 0.25, "chat", None, False, ()),
    ("next_reply", 4, "email", None, True, ()),
    ("resolution", 72, None, None, False, ("pending", "on_hold")),
    ("resolution", 40, "email", None, False, ("pending", "on_hold")),
)


def _sla_toml() -> str:
    """The ``[[sla]]`` entries of :data:`_SLA` as TOML."""
    out = []
    for metric, target, channel, priority, bh, pause in _SLA:
        lines = ["[[sla]]", f'metric = "{metric}"', f"target_h = {target}"]
        lines += [f'channel = "{channel}"'] if channel else []
        lines += [f'priority = "{priority}"'] if priority else []
        lines += ["business_hours = true"] if bh else []
        lines += [f"pause_on = {_toml_list(pause)}"] if pause else []
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _toml_list(items) -> str:
    return "[" + ", ".join(f'"{s}"' for s in items) + "]"


def dataset_toml() -> str:
    """The ``dataset.toml`` written next to the sample tables.

    Examples
    --------
    >>> print(dataset_toml().splitlines()[0])
    timezone = "Europe/Berlin"
    """
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    weekly = "\n".join(f"{days[d]} = {_toml_list(f'{a:02d}:00-{b:02d}:00' for a, b in spans)}"
                       for d, spans in BUSINESS_HOURS.items())
    return (
        f'timezone = "{TIMEZONE}"\n'
        f'as_of = "{AS_OF}"\n'
        'activation_event = "activated"\n\n'
        "[scales]\n"
        + "".join(f"{k} = [{lo}, {lo + len(c)}]\n" for k, (lo, c) in _CUTS.items())
        + "\n[channel_groups]\n"
        'voice = ["phone"]\n\n'
        "[business_hours]\n"
        f'country = "{COUNTRY}"\n'
        f'subdivision = "{SUBDIVISION}"\n'
        f"closed_dates = {_toml_list(CLOSED_DATES)}\n\n"
        "[business_hours.weekly]\n"
        f"{weekly}\n\n"
        + _sla_toml()
    )


# --------------------------------------------------------------------------- arrow helpers


def _id_bytes(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Fixed-width ids like ``T0000042`` as an (n, len) uint8 matrix, built digit by digit."""
    out = np.empty((numbers.size, len(prefix) + width), np.uint8)
    out[:, :len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    rest = numbers.astype(np.int64)
    for k in range(width - 1, -1, -1):
        out[:, len(prefix) + k] = 48 + rest % 10
        rest = rest // 10
    return out


def _texts(ids: np.ndarray, index: np.ndarray | None = None) -> pa.Array:
    """Arrow strings from an id matrix, optionally gathered by ``index`` (-1 = null)."""
    if index is None:
        index = np.arange(ids.shape[0])
    valid = index >= 0
    rows = ids[np.where(valid, index, 0)]
    width = ids.shape[1]
    offsets = np.arange(0, (index.size + 1) * width, width, dtype=np.int32)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(index.size, pa.py_buffer(offsets),
                                       pa.py_buffer(np.ascontiguousarray(rows)), bitmap)


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    codes = np.asarray(codes)
    return pa.array(labels, pa.string()).take(pa.array(codes.astype(np.int32), mask=codes < 0))


def _stamps(cal: _Calendar, t: np.ndarray) -> pa.Array:
    """Naive local wall-clock timestamps (microseconds); MISSING becomes null."""
    real = t != MISSING
    safe = np.where(real, t, cal.start)
    wall = (safe + cal.offset[cal.slot(safe)]).astype("datetime64[s]").astype("datetime64[us]")
    return pa.array(wall, pa.timestamp("us"), mask=~real)


# --------------------------------------------------------------------------- public API


def _build(seed: int, tickets: int, progress: Callable[[str], None] | None = None, usage: float = 1.0
           ) -> Iterator[tuple[str, Iterator[pa.Table]]]:
    """Yield ``(table, chunks)`` in schema order; consume each table's chunks before the next."""
    if tickets < 1:
        raise KpitoolsError(f"tickets must be at least 1, got {tickets}")
    if usage <= 0:
        raise KpitoolsError(f"usage must be positive, got {usage}")
    say = progress or (lambda _msg: None)
    # the conversation tables draw from a seventh stream, so the other tables are what they were
    # before those tables existed (the stored report notebooks are compared against them)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    cal = _calendar()
    cust = _customers(streams[0], cal, tickets)
    n_cust = cust.signup.size
    cust_ids = _id_bytes("C", np.arange(1, n_cust + 1), max(7, len(str(n_cust))))
    tk = _tickets(streams[1], cal, cust, tickets)
    say(f"tickets: {tickets:,} generated")
    step = _ROWS_PER_GROUP
    yield "tickets", (_tickets_table(cal, tk, cust_ids, slice(i, min(i + step, tickets)))
                      for i in range(0, tickets, step))
    messages, statuses = _conversations(streams[6], cal, tk, cust_ids)
    yield "messages", iter(messages)
    yield "status_changes", iter(statuses)
    yield "surveys", iter([_surveys_table(streams[2], cal, tk, cust, cust_ids)])
    yield "customers", iter([_customers_table(cal, cust, cust_ids)])
    helped = _help_before_ticket(streams[3], cal, cust, tk)
    volume = _handled_volume(cal, tk)
    del tk  # the largest arrays; what follows needs only the digests above
    yield "activity", _activity(streams[4], cal, cust, cust_ids, usage)
    yield "sessions", _sessions(streams[3], cal, cust, helped, 2 * tickets, cust_ids)
    yield "costs", iter([_costs_table(streams[5], cal, volume)])
    yield "targets", iter([_targets_table()])


def generate(seed: int = 7, tickets: int = 50_000) -> dict[str, pd.DataFrame]:
    """Generate the sample tables in memory (what :func:`write_sample` writes).

    Parameters
    ----------
    seed : int
        Seed of every random stream; the same seed gives the same tables.
    tickets : int
        Number of tickets; the other tables scale with it.

    Returns
    -------
    dict[str, pandas.DataFrame]
        The nine tables with their canonical columns; timestamps are naive local wall-clock
        values in ``Europe/Berlin``, empty values are null.

    Examples
    --------
    >>> tables = generate(seed=1, tickets=2_000)
    >>> sorted(tables)
    ['activity', 'costs', 'customers', 'messages', 'sessions', 'status_changes', 'surveys', 'targets', 'tickets']
    >>> len(tables["tickets"]), tables["tickets"]["ticket_id"].iloc[0]
    (2000, 'T0000001')
    """
    return {name: pa.concat_tables(list(chunks)).to_pandas()
            for name, chunks in _build(seed, tickets)}


def _write_csv(table: pa.Table, path: Path) -> None:
    cast = table
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            cast = cast.set_column(i, field.name, table.column(i).cast(pa.timestamp("s")))
    with path.open("wb") as fh:
        fh.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(cast, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))


def write_sample(out: str | Path, seed: int = 7, tickets: int = 50_000, *,
                 progress: Callable[[str], None] | None = None, usage: float = 1.0) -> Path:
    """Write the sample dataset folder: nine tables plus ``dataset.toml``.

    Tickets, messages, status changes, activity and sessions are Parquet (naive TIMESTAMP = local time, zstd, no
    pandas/arrow schema metadata); the smaller tables are CSV with ``YYYY-MM-DD HH:MM:SS``
    timestamps. Existing files of the same names are replaced; other files are left alone.

    Parameters
    ----------
    out : str or Path
        The dataset folder (created if needed).
    seed : int
        Seed of every random stream; the same seed writes byte-identical files.
    tickets : int
        Number of tickets; the other tables scale with it.
    progress : callable, optional
        Called with a short message as each table is written.
    usage : float
        Multiplies the customers' regular product use, and so the size of the activity table
        (1 = the default; the early-life events after sign-up are not scaled).

    Returns
    -------
    Path
        The dataset folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(p.name for p in write_sample(tmp, seed=1, tickets=2_000).iterdir())
    ['activity.parquet', 'costs.csv', 'customers.csv', 'dataset.toml', 'messages.parquet',
     'sessions.parquet', 'status_changes.parquet', 'surveys.csv', 'targets.csv', 'tickets.parquet']
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    for name, chunks in _build(seed, tickets, progress, usage):
        path = out / f"{name}.{FILES[name]}"
        rows = 0
        if FILES[name] == "csv":
            table = pa.concat_tables(list(chunks))
            _write_csv(table, path)
            rows = table.num_rows
        else:
            writer = None
            try:
                for chunk in chunks:
                    if writer is None:
                        writer = pq.ParquetWriter(path, chunk.schema, compression="zstd", compression_level=3,
                                                  store_schema=False, **_ENCODINGS.get(name, {}))
                    writer.write_table(chunk, row_group_size=_ROWS_PER_GROUP)
                    rows += chunk.num_rows
            finally:
                if writer is not None:
                    writer.close()
        say(f"{path.name}: {rows:,} rows")
    (out / "dataset.toml").write_text(dataset_toml(), encoding="utf-8")
    return out
