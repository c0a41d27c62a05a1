"""One engine run: the dataset, its periods and the narrow, spam-free tables registered in Ibis.

Everything that needs the dataset timezone or the business-hours clock is done here, at the
pandas edge, on narrow columns: instants become ``int64`` microseconds since the epoch (``_us``),
local dates become day numbers since 1970-01-01 (``_day``) and local months month numbers since
1970-01 (``_mon``, the key :class:`~kpitools.periods.Period` carries). After that the Ibis
expressions only compare and subtract integers, so they are exact and backend-independent, and
every aggregate the engine pulls back is an integer count; floating-point sums are exact
(``math.fsum`` or integer arithmetic) over distinct values in numpy, so results do not depend on
DuckDB's thread scheduling and identical input gives identical bytes.

SPEC A4/A5 are applied here: spam customers and everything of theirs are dropped before
registration; first responses, resolutions and churn after ``as_of`` are blanked.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import get as get_kpi
from ..dataset import Dataset
from ..periods import Period, parse_periods
from .backend import Backend, ibis_module

HOUR_US = 3_600_000_000
FOLLOW_H = 72  # self-service: a ticket within 72 h of the session counts as a follow-up (SPEC A11)
TEXT = pd.StringDtype("pyarrow")  # how the loader stores text


def _ns(series: pd.Series) -> np.ndarray:
    """UTC ``datetime64[ns]`` values of a tz-aware series (NaT kept)."""
    return np.asarray(series.array.as_unit("ns").asi8).view("datetime64[ns]")


def us_array(ns: np.ndarray) -> pa.Array:
    """Microseconds since the epoch as a nullable Arrow ``int64``."""
    return pa.array(ns.astype("datetime64[us]").view("i8"), type=pa.int64(), mask=np.isnat(ns))


def local_wall(series: pd.Series, tz: str) -> np.ndarray:
    """Naive local wall times (``datetime64[ns]``) of tz-aware instants."""
    return series.dt.tz_convert(tz).dt.tz_localize(None).to_numpy()


def local_numbers(wall: np.ndarray, unit: str) -> pa.Array:
    """Local dates (``unit="D"``) or months (``"M"``) of wall times as day/month numbers since 1970
    (nullable int32)."""
    return pa.array(wall.astype(f"datetime64[{unit}]").view("i8").astype(np.int32), type=pa.int32(),
                    mask=np.isnat(wall))


def _text(series: pd.Series, idx: np.ndarray | None = None) -> pa.Array:
    """Text as Arrow (zero copy for the loader's pyarrow-backed strings), rows ``idx`` only."""
    if series.dtype != TEXT:
        series = series.astype(TEXT)
    arr = pa.array(series)
    return arr if idx is None or len(idx) == len(arr) else arr.take(pa.array(idx))


def _unique_text(series: pd.Series) -> list[str]:
    return [x for x in pc.unique(_text(series)).to_pylist() if x is not None]


def _present(table: pd.DataFrame | None, column: str) -> bool:
    """A column counts as present when the table has it and it is not entirely empty."""
    return table is not None and column in table and bool(table[column].notna().any())


class Context:
    """The inputs of one engine run.

    Parameters
    ----------
    ds : Dataset
        The loaded dataset.
    period : str, list of str or None
        As :func:`kpitools.periods.parse_periods` reads it; None = no period (whole history).
    backend : Backend, optional
        Where to run the Ibis expressions (a fresh in-memory DuckDB by default).
    """

    def __init__(self, ds: Dataset, period: Any, backend: Backend | None = None):
        self.ds = ds
        self.tz = ds.timezone
        self.as_of = ds.as_of.tz_convert(self.tz)
        self.periods: list[Period] = [] if period is None else parse_periods(period, self.tz, self.as_of)
        self.backend = backend or Backend()
        self.as_of_us = int(self.as_of.value // 1000)
        self.asof_day = int(np.datetime64(self.as_of.tz_localize(None), "D").view("i8"))
        self.as_of_ns = np.datetime64(self.as_of_us, "us").astype("datetime64[ns]")
        self._tables: dict[tuple[str, str], Any] = {}
        self._memo: dict[str, Any] = {}
        self._segments: dict[str, np.ndarray] = {}
        self.channel_codes: dict[str, dict[str, int]] = {}

    @property
    def ibis(self) -> Any:
        return ibis_module()

    @property
    def months(self) -> list[int]:
        return [p.month for p in self.periods]

    @property
    def labels(self) -> dict[int, str]:
        """Month number → period label."""
        return {p.month: p.label for p in self.periods}

    def execute(self, expr: Any) -> pd.DataFrame:
        return self.backend.execute(expr)

    def by_month(self, frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        """Integer ``cols`` of a per-``mon`` query result, one row per period (0 where absent)."""
        return frame.set_index("mon")[cols].reindex(self.months, fill_value=0).astype(np.int64)

    def segment_labels(self, codes: Any, by: str) -> np.ndarray:
        """The segment values of the integer codes of ``tickets(by).g`` (None for a missing value)."""
        labels = self._segments[by]
        codes = pd.to_numeric(pd.Series(codes), errors="coerce").fillna(len(labels) - 1)
        return labels[codes.to_numpy(dtype=np.int64)]

    def memo(self, key: str, compute: Any) -> Any:
        """``compute()`` once per run (results shared by several KPI families)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # ---------------------------------------------------------------- availability (SPEC A13)
    def missing(self, kpi_id: str) -> str | None:
        """Why ``kpi_id`` cannot be computed on this dataset, or None when it can."""
        kpi = get_kpi(kpi_id)
        for table in kpi.tables.split(","):
            if self.ds.tables.get(table) is None:
                return f"no {table} table"
        cfg = self.ds.config
        for need in kpi.needs:
            kind, _, what = need.partition(":") if need.startswith("config:") else ("", "", need)
            if kind == "config":
                if getattr(cfg, what) is None:
                    return f"no {what} in dataset.toml"
            elif what == "targets.frt_h":
                targets = self.ds.targets
                if targets is None or not (targets["kpi"] == "frt_h").any():
                    return "no frt_h threshold in targets"
            else:
                table, _, column = what.partition(".")
                if not _present(self.ds.tables.get(table), column):
                    return f"{table}.{column} is empty"
        return None

    # ---------------------------------------------------------------- spam (SPEC A5)
    @cached_property
    def spam_ids(self) -> pa.Array:
        """Customer ids flagged ``is_spam``."""
        customers = self.ds.customers
        if customers is None or "is_spam" not in customers:
            return pa.array([], pa.string())
        return pc.unique(_text(customers["customer_id"]).filter(pa.array(customers["is_spam"].to_numpy(bool))))

    @staticmethod
    def _outside(values: pd.Series, ids: pa.Array) -> np.ndarray:
        """Rows whose value is not one of ``ids`` (an empty value is never one)."""
        inside = pc.is_in(_text(values), value_set=ids.cast(pa.large_string()))
        return ~pc.fill_null(inside, False).to_numpy(zero_copy_only=False)

    def _not_spam(self, customer_ids: pd.Series | None) -> np.ndarray | None:
        """Rows not belonging to a spam customer (None when there is nothing to drop)."""
        if customer_ids is None or len(self.spam_ids) == 0:
            return None
        return self._outside(customer_ids, self.spam_ids)

    @cached_property
    def spam_tickets(self) -> pa.Array:
        """Ticket ids of spam customers' tickets (their surveys leave too, SPEC A5)."""
        tickets = self.ds.tickets
        keep = self._not_spam(tickets["customer_id"]) if "customer_id" in tickets else None
        if keep is None:
            return pa.array([], pa.string())
        return _text(tickets["ticket_id"]).filter(pa.array(~keep))

    def _register(self, name: str, key: str, columns: dict[str, pa.Array], keep: np.ndarray | None) -> Any:
        data = pa.table(columns)
        if keep is not None:
            data = data.filter(pa.array(keep))
        table = self.backend.table(name, data)
        self._tables[(name, key)] = table
        return table

    # ---------------------------------------------------------------- clocks (SPEC A8)
    def clock_for(self, *instants: np.ndarray) -> Any:
        from ..business_hours import BusinessClock

        return BusinessClock.for_instants(self.ds.config.business_hours, self.tz, *instants)

    def _bh_durations(self, created: np.ndarray, ends: list[np.ndarray], rows: np.ndarray) -> list[pa.Array]:
        """Business microseconds from ``created`` to each end (or to as_of where the end is
        empty), for the ``rows`` selected (null elsewhere)."""
        created = created[rows]
        ends = [np.where(np.isnat(e[rows]), self.as_of_ns, e[rows]) for e in ends]
        out = []
        if rows.any():
            clock = self.clock_for(created, np.array([self.as_of_ns]), *ends)
            start = clock.seconds(created)
        for end in ends:
            full = np.zeros(len(rows), dtype=np.int64)
            if rows.any():
                full[rows] = np.round((clock.seconds(end) - start) * 1e6).astype(np.int64)
            out.append(pa.array(full, mask=~rows))
        return out

    # ---------------------------------------------------------------- tables
    @cached_property
    def channels(self) -> list[str]:
        """The channels of the tickets plus any explicit survey channel, sorted (SPEC A6; as
        ``Dataset.channels``, computed once per run with Arrow)."""
        found: set[str] = set()
        for name in ("tickets", "surveys"):
            table = self.ds.tables.get(name)
            if table is not None and "channel" in table:
                found.update(_unique_text(table["channel"]))
        return sorted(found)

    @cached_property
    def channel_groups(self) -> dict[str, list[str]]:
        """``voice`` and ``text`` resolved against the channels (as ``Dataset.channel_groups``)."""
        cfg = self.ds.config
        voice = [c for c in self.channels if c in cfg.voice_channels]
        text = [c for c in self.channels if (c not in voice if cfg.text_channels is None
                                             else c in cfg.text_channels)]
        return {"voice": voice, "text": text}

    def _window(self) -> tuple[int, int, int]:
        """Earliest period start, latest period end and earliest ``t_end`` (µs)."""
        frame = self.period_frame()
        return int(frame["start_us"].min()), int(frame["end_us"].max()), int(frame["tend_us"].min())

    def tickets(self, by: str = "channel") -> Any:
        """Non-spam tickets created by as_of that some KPI of the periods can use.

        Kept rows: created in a period; or, for the backlog, non-abandoned, created before the
        last period end and not resolved before the first ``t_end``; or, for self-service, with
        a customer and created from the first period start to 72 h after the last period end.
        Without periods every ticket created by as_of is kept.

        Columns: ``g`` and ``ch`` (the ``by`` segment and the channel as integer codes, see
        :meth:`segment_labels` and ``channel_codes``), ``created_us``, ``created_mon``, ``fr_us``
        and ``res_us`` (empty after as_of), ``abandoned``, ``first_contact`` (one contact, never
        reopened), ``was_reopened``,
        ``handle_s``, ``customer_id``, and with a schedule ``frt_bh_us``/``ttr_bh_us`` (business
        microseconds to the reply/resolution, or to as_of when there is none; filled for
        tickets created in a period).
        """
        if ("tickets", by) in self._tables:
            return self._tables[("tickets", by)]
        t = self.ds.tickets
        if by not in t:
            raise KeyError(f"by={by!r} is not a column of the tickets table")
        n = len(t)
        nat = np.datetime64("NaT")
        created = _ns(t["created_at"])
        created_mon = local_numbers(local_wall(t["created_at"], self.tz), "M")

        def before_as_of(column: str) -> np.ndarray:
            if column not in t:
                return np.full(n, nat, "datetime64[ns]")
            values = _ns(t[column])
            return np.where(values > self.as_of_ns, nat, values)

        fr, res = before_as_of("first_response_at"), before_as_of("resolved_at")
        abandoned = self._column(t, "abandoned", False, bool)
        keep = created <= self.as_of_ns
        in_period = np.ones(n, dtype=bool)
        if self.periods:
            first_start, last_end, first_tend = (np.datetime64(x, "us") for x in self._window())
            in_period = np.isin(created_mon.to_numpy(zero_copy_only=False), self.months)
            wanted = in_period | (~abandoned & (created < last_end) & (np.isnat(res) | (res > first_tend)))
            if self.ds.sessions is not None and "customer_id" in t:
                follow = np.timedelta64(FOLLOW_H, "h")
                wanted |= (created >= first_start) & (created <= last_end + follow)
            keep &= wanted
        not_spam = self._not_spam(t["customer_id"]) if "customer_id" in t else None
        if not_spam is not None:
            keep &= not_spam
        idx = np.flatnonzero(keep)

        def text(column: str) -> pa.Array:
            return _text(t[column], idx) if column in t else pa.nulls(len(idx), pa.string())

        # segment and channel travel as small integer codes (see segment_labels): narrow tables,
        # narrow results
        segment = pc.dictionary_encode(text(by))
        self._segments[by] = np.array(segment.dictionary.to_pylist() + [None], dtype=object)
        channel = segment if by == "channel" else pc.dictionary_encode(text("channel"))
        self.channel_codes[by] = {c: i for i, c in enumerate(channel.dictionary.to_pylist())}
        contacts = self._column(t, "contacts", 1, np.int64)[idx]
        reopened = self._column(t, "reopened", 0, np.int64)[idx]
        cols: dict[str, pa.Array] = {
            "g": segment.indices,
            "ch": channel.indices,
            "created_us": us_array(created[idx]),
            "created_mon": created_mon.take(pa.array(idx)),
            "fr_us": us_array(fr[idx]),
            "res_us": us_array(res[idx]),
            "abandoned": pa.array(abandoned[idx]),
            "first_contact": pa.array((contacts == 1) & (reopened == 0)),
            "was_reopened": pa.array(reopened > 0),
            "handle_s": pa.array(self._column(t, "handle_seconds", np.nan, float)[idx], from_pandas=True),
            "customer_id": text("customer_id"),
        }
        if self.ds.config.business_hours is not None:
            cols["frt_bh_us"], cols["ttr_bh_us"] = self._bh_durations(
                created[idx], [fr[idx], res[idx]], in_period[idx])
        return self._register("tickets", by, cols, None)

    @staticmethod
    def _column(t: pd.DataFrame, name: str, default: Any, dtype: Any) -> np.ndarray:
        if name not in t:
            return np.full(len(t), default, dtype=dtype)
        return t[name].to_numpy(dtype=dtype, na_value=default)

    def surveys(self, by: str = "channel") -> Any:
        """Non-spam surveys answered by as_of in the periods: ``g`` (the ``by`` segment: the
        survey's own column, else its ticket's — SPEC A6 for channel), ``survey``, ``score``,
        ``responded_mon``."""
        if ("surveys", by) in self._tables:
            return self._tables[("surveys", by)]
        s = self.ds.surveys
        responded_mon = local_numbers(local_wall(s["responded_at"], self.tz), "M")
        keep = _ns(s["responded_at"]) <= self.as_of_ns
        if self.periods:
            keep &= np.isin(responded_mon.to_numpy(zero_copy_only=False), self.months)
        if len(self.spam_ids) and "customer_id" in s:
            keep &= self._outside(s["customer_id"], self.spam_ids)
        if len(self.spam_tickets) and "ticket_id" in s:
            keep &= self._outside(s["ticket_id"], self.spam_tickets)
        idx = np.flatnonzero(keep)
        own = _text(s[by], idx) if by in s else pa.nulls(len(idx), pa.string())
        ticket_id = _text(s["ticket_id"], idx) if "ticket_id" in s else pa.nulls(len(idx), pa.string())
        cols = {
            "own": own,
            "ticket_id": ticket_id,
            "survey": _text(s["survey"], idx),
            "score": pa.array(s["score"].to_numpy(dtype=np.int64)[idx]),
            "responded_mon": responded_mon.take(pa.array(idx)),
        }
        raw = self._register("surveys_raw", by, cols, None)
        if not pc.any(pc.and_(pc.is_null(own), pc.is_valid(ticket_id))).as_py():
            table = raw.rename(g="own").drop("ticket_id")
        else:
            # the ticket's value fills in
            lookup = self._ticket_column("channel" if by == "channel" else by)
            joined = raw.left_join(lookup, raw.ticket_id == lookup.tid)
            table = joined.select(g=joined.own.coalesce(joined.tv), survey=joined.survey,
                                  score=joined.score, responded_mon=joined.responded_mon)
        self._tables[("surveys", by)] = table
        return table

    def _ticket_column(self, column: str) -> Any:
        """``tid`` (ticket_id) and ``tv`` (``column``) of every ticket (surveys of spam tickets are
        already dropped, so the lookup needs no spam filter and stays zero-copy)."""
        t = self.ds.tickets
        if t is None or column not in t:
            raise KeyError(f"by={column!r} is not a column of the surveys or tickets table")
        return self._register(f"ticket_{column}", column,
                              {"tid": _text(t["ticket_id"]), "tv": _text(t[column])}, None)

    def customers(self) -> Any:
        """Non-spam customers: ``customer_id``, ``signup_us``, ``signup_day``, ``signup_mon``,
        ``churn_us`` (empty when after as_of)."""
        if ("customers", "") in self._tables:
            return self._tables[("customers", "")]
        c = self.ds.customers
        as_of_ns = self.as_of_ns
        churn = (_ns(c["churned_at"]) if "churned_at" in c
                 else np.full(len(c), np.datetime64("NaT"), "datetime64[ns]"))
        churn = np.where(churn > as_of_ns, np.datetime64("NaT"), churn)
        signup_wall = local_wall(c["signup_at"], self.tz)
        cols = {
            "customer_id": _text(c["customer_id"]),
            "signup_us": us_array(_ns(c["signup_at"])),
            "signup_day": local_numbers(signup_wall, "D"),
            "signup_mon": local_numbers(signup_wall, "M"),
            "churn_us": us_array(churn),
        }
        keep = ~c["is_spam"].to_numpy(dtype=bool) if "is_spam" in c else None
        return self._register("customers", "", cols, keep)

    def activity(self) -> Any:
        """Non-spam activity up to as_of: ``customer_id``, ``ts_us``, ``ts_day``, ``ts_mon``,
        ``is_activation``."""
        if ("activity", "") in self._tables:
            return self._tables[("activity", "")]
        a = self.ds.activity
        event = self.ds.config.activation_event
        ts = _ns(a["ts"])
        wall = local_wall(a["ts"], self.tz)
        ts_day = local_numbers(wall, "D")
        keep = ts <= self.as_of_ns
        if self.periods:  # WAU reaches 6 days before the first period; D-N and activation come later
            first = int(self.period_frame()["first_day"].min()) - 6
            keep &= ts_day.to_numpy(zero_copy_only=False) >= first
        not_spam = self._not_spam(a["customer_id"])
        if not_spam is not None:
            keep &= not_spam
        idx = np.flatnonzero(keep)
        take = pa.array(idx)
        is_act = (pc.fill_null(pc.equal(_text(a["event"], idx), event), False)
                  if event is not None and "event" in a else pa.array(np.zeros(len(idx), dtype=bool)))
        cols = {
            "customer_id": _text(a["customer_id"], idx),
            "ts_us": us_array(ts[idx]),
            "ts_day": ts_day.take(take),
            "ts_mon": local_numbers(wall[idx], "M"),
            "is_activation": is_act,
        }
        return self._register("activity", "", cols, None)

    def customer_days(self) -> Any:
        """Distinct ``(customer_id, ts_day)`` of the activity, materialised once per run."""
        if ("customer_days", "") not in self._tables:
            a = self.activity()
            self._tables[("customer_days", "")] = self.backend.cache(a.select("customer_id", "ts_day").distinct())
        return self._tables[("customer_days", "")]

    def customer_months(self) -> Any:
        """Distinct ``(customer_id, ts_mon)`` of the activity, materialised once per run."""
        if ("customer_months", "") not in self._tables:
            a = self.activity()
            months = a.select("customer_id", "ts_mon").distinct()
            self._tables[("customer_months", "")] = self.backend.cache(months)
        return self._tables[("customer_months", "")]

    def sessions(self) -> Any:
        """Non-spam sessions started by as_of: ``customer_id``, ``started_us``, ``started_mon``,
        ``converted``, ``self_service``, ``chat_available``, ``in_bh`` (with a schedule)."""
        if ("sessions", "") in self._tables:
            return self._tables[("sessions", "")]
        s = self.ds.sessions
        started = _ns(s["started_at"])
        started_mon = local_numbers(local_wall(s["started_at"], self.tz), "M")
        keep = started <= self.as_of_ns
        if self.periods:
            keep &= np.isin(started_mon.to_numpy(zero_copy_only=False), self.months)
        not_spam = self._not_spam(s["customer_id"]) if "customer_id" in s else None
        if not_spam is not None:
            keep &= not_spam
        idx = np.flatnonzero(keep)
        cols = {
            "customer_id": _text(s["customer_id"], idx) if "customer_id" in s
            else pa.nulls(len(idx), pa.string()),
            "started_us": us_array(started[idx]),
            "started_mon": started_mon.take(pa.array(idx)),
            "converted": pa.array(self._column(s, "converted", False, bool)[idx]),
            "self_service": pa.array(self._column(s, "self_service", False, bool)[idx]),
            "chat_available": pa.array(self._column(s, "chat_available", False, bool)[idx]),
        }
        if self.ds.config.business_hours is not None and len(idx):
            cols["in_bh"] = pa.array(self.clock_for(started[idx]).is_open(started[idx]))
        elif self.ds.config.business_hours is not None:
            cols["in_bh"] = pa.array(np.zeros(0, dtype=bool))
        return self._register("sessions", "", cols, None)

    def period_table(self) -> Any:
        """One row per period: ``mon``, ``start_us``, ``end_us``, ``tend_us`` (min(end, as_of)),
        ``first_day``, ``last_day`` (capped at as_of's local date)."""
        if ("periods", "") in self._tables:
            return self._tables[("periods", "")]
        rows = self.period_frame()
        cols = {c: pa.array(rows[c].to_numpy(dtype=np.int64)) for c in rows.columns}
        return self._register("periods", "", cols, None)

    def period_frame(self) -> pd.DataFrame:
        """The periods as a pandas frame (columns as :meth:`period_table`, plus ``days``)."""
        def day(d: Any) -> int:
            return int(np.datetime64(d, "D").view("i8"))

        frame = pd.DataFrame({
            "mon": [p.month for p in self.periods],
            "start_us": [p.start.value // 1000 for p in self.periods],
            "end_us": [p.end.value // 1000 for p in self.periods],
            "tend_us": [p.t_end(self.as_of).value // 1000 for p in self.periods],
            "first_day": [day(p.first_day) for p in self.periods],
            "last_day": [min(day(p.last_day), self.asof_day) for p in self.periods],
        })
        frame["days"] = frame["last_day"] - frame["first_day"] + 1
        return frame
