"""One engine run: the dataset, its periods and the narrow, spam-free tables registered in Ibis.

The narrow tables are SQL over the dataset's stored tables (see :class:`~kpitools.dataset.Store`),
so nothing of size passes through pandas: instants become ``int64`` microseconds since the epoch
(``_us``), local dates day numbers since 1970-01-01 (``_day``) and local months month numbers
since 1970-01 (``_mon``, the key :class:`~kpitools.periods.Period` carries). Local time uses the
dataset timezone's UTC offsets as pandas knows them (:func:`~kpitools.timeparse.utc_offsets`),
so the engine buckets exactly as the loader parses; business hours come from
:class:`~kpitools.business_hours.BusinessClock`'s open intervals. After that the Ibis expressions
only compare and subtract integers (customers too: ``customer_id`` in the narrow tables is the
store's integer key of the id), so they are exact and backend-independent, and every
aggregate the engine pulls back is an integer count; floating-point sums are exact
(``math.fsum`` or integer arithmetic) over distinct values in numpy, so results do not depend on
DuckDB's thread scheduling and identical input gives identical bytes.

SPEC A4/A5 are applied here: spam customers and everything of theirs are dropped; first
responses, resolutions and churn after ``as_of`` are blanked.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..catalog import get as get_kpi
from ..dataset import KEY, Dataset, group_channels
from ..errors import UnknownSegmentError
from ..periods import Period, parse_periods
from ..timeparse import utc_offsets
from .backend import Backend, ibis_module

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
FOLLOW_H = 72  # self-service: a ticket within 72 h of the session counts as a follow-up (SPEC A11)
MAX_CLOCK_BUCKETS = 20_000_000  # beyond this the business clock is an ASOF join on its intervals


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def floor_div(x: str, d: int) -> str:
    """SQL for ``floor(x / d)`` of a BIGINT ``x`` (DuckDB's ``//`` truncates towards zero)."""
    return f"(({x}) // {d} - CAST(({x}) % {d} < 0 AS BIGINT))"


def steps(x: str, bounds: Any, values: Any) -> str:
    """SQL for a step function of ``x``: ``values[0]`` below ``bounds[0]``, ``values[i]`` from
    ``bounds[i - 1]`` on (``bounds`` ascending, one value more than bounds).

    A balanced tree of CASEs, so a row takes about log2(len(bounds)) comparisons.

    Examples
    --------
    >>> steps("x", [10, 20], [1, 2, 3])
    'CASE WHEN x < 20 THEN CASE WHEN x < 10 THEN 1 ELSE 2 END ELSE 3 END'
    """
    if len(bounds) == 0:
        return str(int(values[0]))
    mid = len(bounds) // 2
    return (f"CASE WHEN {x} < {int(bounds[mid])} THEN {steps(x, bounds[:mid], values[:mid + 1])} "
            f"ELSE {steps(x, bounds[mid + 1:], values[mid + 1:])} END")


class Context:
    """The inputs of one engine run.

    Parameters
    ----------
    ds : Dataset
        The loaded dataset.
    period : str, list of str or None
        As :func:`kpitools.periods.parse_periods` reads it; None = no period (whole history).
    backend : Backend, optional
        Where to run the Ibis expressions (by default a connection to the dataset's own store).
    """

    def __init__(self, ds: Dataset, period: Any, backend: Backend | None = None):
        self.ds = ds
        self.tz = ds.timezone
        self.as_of = ds.as_of.tz_convert(self.tz)
        self.periods: list[Period] = [] if period is None else parse_periods(period, self.tz, self.as_of)
        ds.store.customer_keys()
        self._own_backend = backend is None
        self.backend = backend or Backend.on_store(ds.store)
        self.as_of_us = int(self.as_of.value // 1000)
        self.as_of_ns_int = int(self.as_of.value)
        self.asof_day = int(np.datetime64(self.as_of.tz_localize(None), "D").view("i8"))
        self.as_of_ns = np.datetime64(self.as_of_us, "us").astype("datetime64[ns]")
        self._tables: dict[tuple[str, str], Any] = {}
        self._memo: dict[str, Any] = {}
        self._segments: dict[str, np.ndarray] = {}
        self.channel_codes: dict[str, dict[str, int]] = {}

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the run's temporary tables (when the run opened its own connection)."""
        if self._own_backend:
            self.backend.close()

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

    # ---------------------------------------------------------------- the stored tables
    def _has(self, table: str, column: str) -> bool:
        cols = self.ds.columns(table)
        return cols is not None and column in cols

    def _base(self, table: str) -> str:
        """The SQL name under which this run's backend sees a stored table."""
        return self.backend.base(self.ds.store, table)

    def _text(self, table: str, column: str, alias: str = "") -> str:
        """SQL for a column as text (see :meth:`~kpitools.dataset.Store.text`)."""
        return self.ds.store.text(table, column, alias)

    def _customer(self, table: str, alias: str = "") -> str:
        """SQL for the row's customer key (the store's integer per customer id; null without one)."""
        if not self._has(table, "customer_id"):
            return "CAST(NULL AS UBIGINT)"
        return f"{alias}{q(KEY)}"

    def _sql_table(self, key: tuple[str, str], query: str, cache: bool) -> Any:
        table = self.backend.sql(query)
        if cache:
            table = self.backend.cache(table)
        self._tables[key] = table
        return table

    # ---------------------------------------------------------------- availability (SPEC A13)
    def missing(self, kpi_id: str) -> str | None:
        """Why ``kpi_id`` cannot be computed on this dataset, or None when it can."""
        kpi = get_kpi(kpi_id)
        for table in kpi.tables.split(","):
            if table not in self.ds.tables:
                return f"no {table} table"
        cfg = self.ds.config
        for need in kpi.needs:
            kind, _, what = need.partition(":") if need.startswith("config:") else ("", "", need)
            if kind == "config":
                if getattr(cfg, what) is None:
                    return f"no {what} in dataset.toml"
            elif what.startswith("sla:"):
                reason = self.sla_missing(what[4:])
                if reason is not None:
                    return reason
            elif what == "targets.frt_h":
                targets = self.ds.targets
                if targets is None or not (targets["kpi"] == "frt_h").any():
                    return "no frt_h threshold in targets"
            else:  # a provided column whose values are all empty is present (SPEC A13)
                table, _, column = what.partition(".")
                if column not in self.ds.provided(table):
                    return f"no {column} column in {table}"
        return None

    def sla_missing(self, metric: str) -> str | None:
        """Why the ``[[sla]]`` policies of ``metric`` cannot be evaluated (SPEC B7.8), or None."""
        policies = [p for p in self.ds.config.sla if p.metric == metric]
        if not policies:
            return f"no [[sla]] policy for {metric} in dataset.toml"
        if any(p.pause_on for p in policies) and "status_changes" not in self.ds.tables:
            return f"an [[sla]] {metric} policy pauses on statuses but there is no status_changes table"
        if any(p.business_hours for p in policies) and self.ds.config.business_hours is None:
            return f"an [[sla]] {metric} policy counts business hours but there is no business_hours in dataset.toml"
        return None

    # ---------------------------------------------------------------- time (SPEC A2, A8)
    @cached_property
    def _span(self) -> tuple[int, int]:
        """The instants (ns) local time is needed between: every stored one, as_of, the periods."""
        lo, hi = self.ds.store.span()
        lo = min(lo, self.as_of_ns_int, *(p.start.value for p in self.periods))
        hi = max(hi, self.as_of_ns_int, *(p.end.value for p in self.periods))
        return lo, hi

    @cached_property
    def _offsets(self) -> tuple[np.ndarray, np.ndarray]:
        return utc_offsets(self.tz, *self._span)

    @cached_property
    def _month_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """The instants (ns) at which the local month changes over the span, and the month
        number in force before the first and from each on: a month is then a step lookup on the
        instant (cheaper than deriving it from the local date). An offset change moving the wall
        clock across a month start (back or forth) is a step like any other."""
        bounds, offsets = self._offsets
        lo, hi = self._span
        starts = np.r_[min([lo, *bounds[:1].tolist()]), bounds]
        ends = np.r_[bounds, max([hi, *bounds[-1:].tolist()]) + 1]
        points, months = [], []
        for start, end, offset in zip(starts.tolist(), ends.tolist(), offsets.tolist()):
            month = int(np.datetime64(start + offset, "ns").astype("datetime64[M]").view("i8"))
            points.append(start)
            months.append(month)
            while (wall := int(np.datetime64(month + 1, "M").astype("datetime64[ns]").view("i8"))) < end + offset:
                month += 1
                points.append(wall - offset)
                months.append(month)
        keep = np.r_[True, np.diff(months) != 0]
        return np.asarray(points, np.int64)[keep][1:], np.asarray(months, np.int64)[keep]

    def _us(self, ns: str) -> str:
        return floor_div(ns, 1000)

    def _local_us(self, us: str, ns: str | None = None) -> str:
        """SQL: local wall time (µs since the epoch) of the instant ``us`` (µs), or of ``ns``
        (its nanoseconds, which the offset lookup then compares: one evaluation of ``us``)."""
        bounds, offsets = self._offsets
        offsets_us = offsets // 1000
        if not len(bounds):
            return f"({us} + {int(offsets_us[0])})"
        if ns is None:  # instants are whole µs: t < bound exactly when t_us < ceil(bound / 1000)
            ns, bounds = us, -(-bounds // 1000)
        return f"({us} + {steps(ns, bounds, offsets_us)})"

    def _day(self, us: str, ns: str | None = None) -> str:
        return floor_div(self._local_us(us, ns), DAY_US)

    def _mon(self, us: str, ns: str | None = None) -> str:
        points, months = self._month_steps
        if ns is None:
            ns, points = us, -(-points // 1000)
        return steps(ns, points, months)

    def _local_range(self, ns: str, lo: pd.Timestamp, hi: pd.Timestamp | None) -> str:
        """SQL condition: the local wall time of the instant ``ns`` is in ``[lo, hi)`` (naive).

        Where each bound is an unambiguous wall time this is a plain range of instants (cheap, and
        it lets DuckDB skip row groups); a bound in an autumn's repeated hour falls back to
        comparing computed wall times.
        """
        try:
            bounds = [None if b is None else b.tz_localize(self.tz, ambiguous="raise", nonexistent="shift_forward")
                      for b in (lo, hi)]
        except Exception:  # pytz/pandas raise AmbiguousTimeError: compare wall times instead
            local = self._local_us(self._us(ns))
            cond = f"{local} >= {lo.value // 1000}"
            return cond if hi is None else f"({cond} AND {local} < {hi.value // 1000})"
        cond = f"{ns} >= {bounds[0].value}"
        return cond if hi is None else f"({cond} AND {ns} < {bounds[1].value})"

    def _in_periods(self, ns: str) -> str:
        """SQL condition: the instant ``ns`` falls in one of the periods (local months)."""
        months = sorted(set(self.months))
        runs = np.split(np.asarray(months), np.flatnonzero(np.diff(months) > 1) + 1)

        def wall(month: int) -> pd.Timestamp:
            return pd.Timestamp(np.datetime64(int(month), "M").astype("datetime64[ns]"))

        parts = [self._local_range(ns, wall(r[0]), wall(r[-1] + 1)) for r in runs]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def clock_for(self, *instants: np.ndarray) -> Any:
        from ..business_hours import BusinessClock

        return BusinessClock.for_instants(self.ds.config.business_hours, self.tz, *instants)

    @cached_property
    def _clock(self) -> dict[str, Any]:
        """The business clock laid out for SQL, from the first instant a KPI reads to as_of.

        The open intervals (ns) start and end on whole minutes in practice, so time is cut into
        buckets of the largest length ``G`` (at most an hour) that no interval boundary falls
        inside: each bucket is wholly open or closed, and a reading is an equi-join on
        ``t // G`` (``k``) to the bucket's start reading ``r`` and open flag ``o``. Boundaries
        off that grid (historic offsets) fall back to an ASOF join on the intervals.
        """
        from ..business_hours import BusinessClock

        first = self._first_instant
        start = pd.Timestamp(first, tz="UTC").tz_convert(self.tz).date()
        clock = BusinessClock(self.ds.config.business_hours, self.tz, min(start, self.as_of.date()),
                              self.as_of.date())
        iv = clock.intervals
        s = pd.DatetimeIndex(iv["start"]).as_unit("ns").asi8
        e = pd.DatetimeIndex(iv["end"]).as_unit("ns").asi8
        c = np.cumsum(e - s) - (e - s)  # open time before each interval
        size = int(np.gcd.reduce(np.concatenate([s, e, [3_600_000_000_000]])))
        lo, hi = min(first, *s[:1]) // size, self.as_of_ns_int // size + 1
        if hi - lo > MAX_CLOCK_BUCKETS:
            data = pa.table({"s": pa.array(s, pa.int64()), "e": pa.array(e, pa.int64()), "c": pa.array(c, pa.int64())})
            return {"asof": True, "name": self.backend.register("intervals", data)}
        k = np.arange(lo, hi + 1, dtype=np.int64)
        at = k * size
        i = np.searchsorted(s, at, side="right") - 1
        j = np.maximum(i, 0)
        opened = (i >= 0) & (at < e[j]) if len(s) else np.zeros(len(k), bool)
        reading = np.where(i >= 0, c[j] + np.minimum(at, e[j]) - s[j], 0) if len(s) else np.zeros(len(k), np.int64)
        data = pa.table({"k": pa.array(k), "r": pa.array(reading, pa.int64()), "o": pa.array(opened)})
        return {"asof": False, "name": self.backend.register("clock", data), "size": size}

    @cached_property
    def _first_instant(self) -> int:
        """The earliest instant (ns) a business-hours reading is taken at."""
        if self.periods:
            return int(self.period_frame()["start_us"].min()) * 1000
        found = [self.ds.store.bounds(t, col)[0] for t, col in (("tickets", "created_at"), ("sessions", "started_at"))
                 if self._has(t, col)]
        return int(min((x for x in found if x is not None), default=self.as_of_ns_int))

    def _clock_join(self, alias: str, at: str) -> tuple[str, str, str]:
        """SQL to join the business clock at instant ``at`` (ns) as ``alias``: the join, the
        reading there (business ns since the clock's origin) and whether it is open."""
        clock = self._clock
        if clock["asof"]:
            join = f" ASOF LEFT JOIN {clock['name']} AS {alias} ON {at} >= {alias}.s"
            reading = f"coalesce({alias}.c + least({at}, {alias}.e) - {alias}.s, 0)"
            return join, reading, f"coalesce({at} < {alias}.e, FALSE)"  # open at start, closed at end
        size = clock["size"]
        join = f" LEFT JOIN {clock['name']} AS {alias} ON {alias}.k = {floor_div(at, size)}"
        reading = f"({alias}.r + CASE WHEN {alias}.o THEN {at} - {alias}.k * {size} ELSE 0 END)"
        return join, reading, f"coalesce({alias}.o, FALSE)"

    # ---------------------------------------------------------------- spam (SPEC A5)
    @cached_property
    def _spam_sql(self) -> str | None:
        """SQL of the spam customer ids, or None when there are none."""
        if not self._has("customers", "is_spam"):
            return None
        base = self._base("customers")
        n = self.backend.con.con.execute(f"SELECT count(*) FROM {base} WHERE is_spam").fetchone()[0]
        if not n:
            return None
        return f"SELECT {self._customer('customers')} AS id FROM {base} WHERE is_spam"

    def _not_spam(self, table: str, alias: str = "") -> str:
        """SQL condition: the row's customer is not a spam customer (an empty one never is)."""
        if self._spam_sql is None or not self._has(table, "customer_id"):
            return "TRUE"
        cid = self._customer(table, alias)
        return f"({cid} IS NULL OR {cid} NOT IN ({self._spam_sql}))"

    # ---------------------------------------------------------------- tables
    @cached_property
    def channels(self) -> list[str]:
        """The channels of the tickets plus any explicit survey channel, sorted (SPEC A6; as
        ``Dataset.channels``)."""
        return self.segment_values("channel", ("tickets", "surveys"))

    def segment_values(self, by: str, tables: tuple[str, ...]) -> list[str]:
        """Sorted distinct non-empty values (as text) of column ``by`` over the named tables.

        Raises :class:`~kpitools.errors.UnknownSegmentError` (a ``KeyError``) when no named table has
        the column.
        """
        found = [t for t in tables if self._has(t, by)]
        if not found:
            if by == "channel":  # a dataset without tickets or surveys has no channels
                return []
            raise UnknownSegmentError(f"by={by!r} is not a column of the {' or '.join(tables)} table")
        return sorted({v for t in found for v in self.ds.store.distinct(t, by)})

    @cached_property
    def channel_groups(self) -> dict[str, list[str]]:
        """``voice`` and ``text`` resolved against the channels (as ``Dataset.channel_groups``)."""
        return group_channels(self.channels, self.ds.config)

    def _window(self) -> tuple[int, int, int]:
        """Earliest period start, latest period end and earliest ``t_end`` (µs)."""
        frame = self.period_frame()
        return int(frame["start_us"].min()), int(frame["end_us"].max()), int(frame["tend_us"].min())

    def _codes(self, by: str) -> str:
        """Register the ticket values of ``by`` with their integer codes; return the table's name."""
        values = self.segment_values(by, ("tickets",))
        self._segments[by] = np.array([*values, None], dtype=object)
        data = pa.table({"v": pa.array(values, pa.string()), "code": pa.array(np.arange(len(values)), pa.int32())})
        return self.backend.register(f"codes_{by}", data)

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
        tickets created in a period). Materialised once per run and ``by``.
        """
        if ("tickets", by) in self._tables:
            return self._tables[("tickets", by)]
        if not self._has("tickets", by):
            raise UnknownSegmentError(f"by={by!r} is not a column of the tickets table")
        base = self._base("tickets")
        as_of = self.as_of_ns_int
        codes_g = self._codes(by)
        codes_ch = None if by == "channel" else self._codes("channel")  # else ch is g
        self.channel_codes[by] = {v: i for i, v in enumerate(self._segments["channel"][:-1])}

        def stamp(column: str) -> str:  # an instant (ns) blanked after as_of
            if not self._has("tickets", column):
                return "CAST(NULL AS BIGINT)"
            return f"CASE WHEN {q(column)} <= {as_of} THEN {q(column)} END"

        def col(column: str, default: str) -> str:
            return f"coalesce({q(column)}, {default})" if self._has("tickets", column) else default

        created_mon = self._mon(self._us("created_at"), "created_at")
        in_period = "TRUE"
        wanted = "TRUE"
        if self.periods:
            first_start, last_end, first_tend = self._window()
            in_period = self._in_periods("created_at")
            backlog = (f"(NOT {col('abandoned', 'FALSE')} AND created_at < {last_end * 1000} AND "
                       f"(res_ns IS NULL OR res_ns > {first_tend * 1000}))")
            wanted = f"({in_period} OR {backlog}"
            if "sessions" in self.ds.tables and self._has("tickets", "customer_id"):
                follow = (last_end + FOLLOW_H * HOUR_US) * 1000
                wanted += f" OR (created_at >= {first_start * 1000} AND created_at <= {follow})"
            wanted += ")"
        contacts, reopened = col("contacts", "1"), col("reopened", "0")
        handle = f"CAST({q('handle_seconds')} AS DOUBLE)" if self._has("tickets", "handle_seconds") \
            else "CAST(NULL AS DOUBLE)"
        customer = self._customer("tickets")
        rows = f"""
            SELECT {self._text('tickets', by, 't.')} AS seg, {self._text('tickets', 'channel', 't.')} AS chan,
                   created_at, {stamp('first_response_at')} AS fr_ns, {stamp('resolved_at')} AS res_ns,
                   {col('abandoned', 'FALSE')} AS abandoned, {contacts} AS contacts, {reopened} AS reopened,
                   {handle} AS handle_s, {customer} AS customer_id, {created_mon} AS created_mon
            FROM {base} AS t
            WHERE created_at <= {as_of} AND {self._not_spam('tickets', 't.')}"""
        rows = f"SELECT *, {in_period} AS in_period FROM ({rows}) WHERE {wanted}"
        select = f"""
            SELECT cg.code AS g, {'cg' if codes_ch is None else 'cc'}.code AS ch, {self._us('r.created_at')} AS created_us,
                   r.created_mon,
                   {self._us('r.fr_ns')} AS fr_us, {self._us('r.res_ns')} AS res_us, r.abandoned,
                   r.contacts = 1 AND r.reopened = 0 AS first_contact, r.reopened > 0 AS was_reopened,
                   r.handle_s, r.customer_id"""
        joins = f"""
            FROM ({rows}) AS r
            LEFT JOIN {codes_g} AS cg ON r.seg = cg.v"""
        if codes_ch is not None:
            joins += f" LEFT JOIN {codes_ch} AS cc ON r.chan = cc.v"
        if self.ds.config.business_hours is not None:
            select, joins = self._with_bh(select, joins)
        return self._sql_table(("tickets", by), select + joins, cache=True)

    def _with_bh(self, select: str, joins: str) -> tuple[str, str]:
        """Add ``frt_bh_us``/``ttr_bh_us`` to the tickets query: business µs from creation to the
        reply/resolution (to as_of when there is none), for tickets created in a period."""
        as_of = self.as_of_ns_int
        reading = {}
        for name, at in (("b0", "r.created_at"), ("b1", f"coalesce(r.fr_ns, {as_of})"),
                         ("b2", f"coalesce(r.res_ns, {as_of})")):
            join, reading[name], _ = self._clock_join(name, f"(CASE WHEN r.in_period THEN {at} END)")
            joins += join
        for out, end in (("frt_bh_us", "b1"), ("ttr_bh_us", "b2")):
            select += (f",\n CASE WHEN r.in_period THEN "
                       f"CAST(round(({reading[end]} - {reading['b0']}) / 1000.0) AS BIGINT) END AS {out}")
        return select, joins

    def surveys(self, by: str = "channel") -> Any:
        """Non-spam surveys answered by as_of in the periods: ``g`` (the ``by`` segment: the
        survey's own column, else its ticket's — SPEC A6 for channel), ``survey``, ``score``,
        ``responded_mon``."""
        if ("surveys", by) in self._tables:
            return self._tables[("surveys", by)]
        responded_mon = self._mon(self._us("s.responded_at"), "s.responded_at")
        keep = [f"s.responded_at <= {self.as_of_ns_int}", self._not_spam("surveys", "s.")]
        if self.periods:
            keep.append(self._in_periods("s.responded_at"))
        own = self._text("surveys", by, "s.") if self._has("surveys", by) else "CAST(NULL AS VARCHAR)"
        from_ = f"{self._base('surveys')} AS s"
        linked = self._has("surveys", "ticket_id")
        fill = linked and self._has("tickets", by)
        if fill or (linked and self._has("tickets", "customer_id")):
            # one join to the survey's ticket fills in its segment and drops spam customers' tickets
            from_ += (f" LEFT JOIN {self._base('tickets')} AS t ON "
                      f"{self._text('surveys', 'ticket_id', 's.')} = {self._text('tickets', 'ticket_id', 't.')}")
            keep.append(self._not_spam("tickets", "t."))
        g = f"coalesce({own}, {self._text('tickets', by, 't.')})" if fill else own
        query = f"""
            SELECT {g} AS g, s.survey, CAST(s.score AS BIGINT) AS score, {responded_mon} AS responded_mon
            FROM {from_} WHERE {' AND '.join(keep)}"""
        if linked and not fill:
            unfilled = self.backend.con.con.execute(
                f"SELECT count(*) FROM {from_} WHERE {' AND '.join(keep)} AND {own} IS NULL "
                f"AND s.ticket_id IS NOT NULL").fetchone()[0]
            if unfilled:
                raise UnknownSegmentError(f"by={by!r} is not a column of the surveys or tickets table")
        return self._sql_table(("surveys", by), query, cache=False)

    def customers(self) -> Any:
        """Non-spam customers: ``customer_id``, ``signup_us``, ``signup_day``, ``signup_mon``,
        ``churn_us`` (empty when after as_of)."""
        if ("customers", "") in self._tables:
            return self._tables[("customers", "")]
        signup = self._us("signup_at")
        churn = (f"CASE WHEN churned_at <= {self.as_of_ns_int} THEN {self._us('churned_at')} END"
                 if self._has("customers", "churned_at") else "CAST(NULL AS BIGINT)")
        spam = "NOT coalesce(is_spam, FALSE)" if self._has("customers", "is_spam") else "TRUE"
        query = f"""
            SELECT {self._customer('customers')} AS customer_id, {signup} AS signup_us,
                   {self._day(signup, 'signup_at')} AS signup_day, {self._mon(signup, 'signup_at')} AS signup_mon, {churn} AS churn_us
            FROM {self._base('customers')} WHERE {spam}"""
        return self._sql_table(("customers", ""), query, cache=True)

    def activity(self) -> Any:
        """Non-spam activity up to as_of: ``customer_id``, ``ts_us``, ``ts_day``, ``ts_mon``,
        ``is_activation``."""
        if ("activity", "") in self._tables:
            return self._tables[("activity", "")]
        event = self.ds.config.activation_event
        ts = self._us("a.ts")
        day = self._day(ts, "a.ts")
        keep = [f"a.ts <= {self.as_of_ns_int}", self._not_spam("activity", "a.")]
        if self.periods:  # WAU reaches 6 days before the first period; D-N and activation come later
            first = int(self.period_frame()["first_day"].min()) - 6
            wall = pd.Timestamp(np.datetime64(first, "D").astype("datetime64[ns]"))
            keep.append(self._local_range("a.ts", wall, None))
        if event is not None and self._has("activity", "event"):
            literal = "'" + event.replace("'", "''") + "'"
            is_act = f"coalesce({self._text('activity', 'event', 'a.')} = {literal}, FALSE)"
        else:
            is_act = "FALSE"
        query = f"""
            SELECT {self._customer('activity', 'a.')} AS customer_id, {ts} AS ts_us, {day} AS ts_day,
                   {self._mon(ts, 'a.ts')} AS ts_mon, {is_act} AS is_activation
            FROM {self._base('activity')} AS a WHERE {' AND '.join(keep)}"""
        return self._sql_table(("activity", ""), query, cache=False)

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

    def sessions(self, business_hours: bool = True) -> Any:
        """Non-spam sessions started by as_of: ``customer_id``, ``started_us``, ``started_mon``,
        ``converted``, ``self_service``, ``chat_available``, ``in_bh`` (with a schedule and
        ``business_hours``; a query that does not need it skips the clock join)."""
        key = ("sessions", "bh" if business_hours else "")
        if key in self._tables:
            return self._tables[key]
        started_mon = self._mon(self._us("s.started_at"), "s.started_at")
        keep = [f"s.started_at <= {self.as_of_ns_int}", self._not_spam("sessions", "s.")]
        if self.periods:
            keep.append(self._in_periods("s.started_at"))

        def flag(column: str) -> str:
            return f"coalesce(s.{q(column)}, FALSE)" if self._has("sessions", column) else "FALSE"

        customer = self._customer("sessions", "s.")
        select = f"""
            SELECT {customer} AS customer_id, {self._us('s.started_at')} AS started_us,
                   {started_mon} AS started_mon, {flag('converted')} AS converted,
                   {flag('self_service')} AS self_service, {flag('chat_available')} AS chat_available"""
        joins = f" FROM {self._base('sessions')} AS s"
        if business_hours and self.ds.config.business_hours is not None:
            join, _, opened = self._clock_join("b", "s.started_at")
            joins += join
            select += f", {opened} AS in_bh"
        return self._sql_table(key, f"{select} {joins} WHERE {' AND '.join(keep)}", cache=False)

    def period_table(self) -> Any:
        """One row per period: ``mon``, ``start_us``, ``end_us``, ``tend_us`` (min(end, as_of)),
        ``first_day``, ``last_day`` (capped at as_of's local date)."""
        if ("periods", "") in self._tables:
            return self._tables[("periods", "")]
        rows = self.period_frame()
        cols = {c: pa.array(rows[c].to_numpy(dtype=np.int64)) for c in rows.columns}
        table = self.backend.table("periods", pa.table(cols))
        self._tables[("periods", "")] = table
        return table

    def period_frame(self) -> pd.DataFrame:
        """The periods as a pandas frame (columns as :meth:`period_table`, plus ``days``)."""
        def day(d: dt.date) -> int:
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
