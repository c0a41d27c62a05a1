"""One engine run: the dataset, its periods, its backend, and what the run shares between queries.

The narrow tables the KPIs read (:mod:`.narrow`, :mod:`.conversation_tables`) are Ibis
expressions over the dataset's stored tables (see :class:`~kpitools.dataset.Store`), so nothing
of size passes through pandas: instants become ``int64`` microseconds since the epoch (``_us``),
local dates day numbers since 1970-01-01 (``_day``) and local months month numbers since 1970-01
(``_mon``, the key :class:`~kpitools.periods.Period` carries), by :mod:`.localtime`; business
hours are read through :mod:`.clock`. After that the expressions only compare and subtract
integers (customers too: ``customer_id`` in the narrow tables is the store's integer key of the
id), so they are exact and backend-independent, and every aggregate the engine pulls back is an
integer count; floating-point sums are exact (``math.fsum`` or integer arithmetic) over distinct
values in numpy, so results do not depend on a backend's thread scheduling and identical input
gives identical bytes.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..catalog import get as get_kpi
from ..dataset import Dataset, group_channels
from ..errors import UnknownSegmentError
from ..periods import Period, parse_periods
from ..validate import TEXT
from . import narrow
from .backend import Backend, ibis_module
from .connection import default_backend
from .clock import Clock
from .localtime import DAY_US, HOUR_US, LocalTime
from .narrow import FOLLOW_H

__all__ = ["DAY_US", "FOLLOW_H", "HOUR_US", "Context", "floor_div", "q", "steps"]


class Context:
    """The inputs of one engine run.

    Parameters
    ----------
    ds : Dataset
        The loaded dataset.
    period : str, list of str or None
        As :func:`kpitools.periods.parse_periods` reads it; None = no period (whole history).
    backend : Backend, optional
        Where to run the Ibis expressions (by default the process's engine, see
        :func:`~kpitools.engine.connection.default_backend`: the dataset's own store on DuckDB).
    """

    def __init__(self, ds: Dataset, period: Any, backend: Backend | None = None):
        self.ds = ds
        self.tz = ds.timezone
        self.as_of = ds.as_of.tz_convert(self.tz)
        self.periods: list[Period] = [] if period is None else parse_periods(period, self.tz, self.as_of)
        ds.store.customer_keys()
        self._own_backend = backend is None
        self.backend = backend or default_backend(ds.store)
        self.as_of_us = int(self.as_of.value // 1000)
        self.as_of_ns_int = int(self.as_of.value)
        self.asof_day = int(np.datetime64(self.as_of.tz_localize(None), "D").view("i8"))
        self.as_of_ns = np.datetime64(self.as_of_us, "us").astype("datetime64[ns]")
        self._memo: dict[Any, Any] = {}
        self._segments: dict[str, np.ndarray] = {}
        self.channel_codes: dict[str, dict[str, int]] = {}

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the run's cached tables (and its connection when the run opened its own)."""
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

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()`` once per run (tables and results shared by several KPI families)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # ---------------------------------------------------------------- the stored tables
    def has(self, table: str, column: str) -> bool:
        cols = self.ds.columns(table)
        return cols is not None and column in cols

    def stored(self, table: str) -> Any:
        """The stored table as this run's backend sees it (an Ibis table, stored form)."""
        return self.backend.stored(self.ds.store, table)

    def span(self, table: str, column: str) -> tuple[int, int] | None:
        """The earliest and latest stored instant (ns) of a timestamp column (None when empty):
        local time over it needs only the steps inside."""
        lo, hi = self.ds.store.bounds(table, column)
        return None if lo is None or hi is None else (int(lo), int(hi))

    def text(self, table: str, rel: Any, column: str) -> Any:
        """Column ``column`` of the stored table ``table`` (in relation ``rel``) as text."""
        col = rel[column]
        return col if self.ds.store.dtypes[table][column] == TEXT else col.cast("string")

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
    def time(self) -> LocalTime:
        """Local time over every stored instant, as_of and the periods."""
        lo, hi = self.ds.store.span()
        lo = min(lo, self.as_of_ns_int, *(p.start.value for p in self.periods))
        hi = max(hi, self.as_of_ns_int, *(p.end.value for p in self.periods))
        return LocalTime(self.tz, lo, hi)

    @cached_property
    def clock(self) -> Clock:
        """The business clock from the first instant a KPI reads to as_of."""
        return Clock(self.backend, self.ds.config.business_hours, self.tz, self._first_instant, self.as_of_ns_int)

    @cached_property
    def _first_instant(self) -> int:
        """The earliest instant (ns) a business-hours reading is taken at."""
        if self.periods:
            return int(self.period_frame()["start_us"].min()) * 1000
        found = [self.ds.store.bounds(t, col)[0] for t, col in (("tickets", "created_at"), ("sessions", "started_at"))
                 if self.has(t, col)]
        return int(min((x for x in found if x is not None), default=self.as_of_ns_int))

    # ---------------------------------------------------------------- segments
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
        found = [t for t in tables if self.has(t, by)]
        if not found:
            if by == "channel":  # a dataset without tickets or surveys has no channels
                return []
            raise UnknownSegmentError(f"by={by!r} is not a column of the {' or '.join(tables)} table")
        return sorted({v for t in found for v in self.ds.store.distinct(t, by)})

    @cached_property
    def channel_groups(self) -> dict[str, list[str]]:
        """``voice`` and ``text`` resolved against the channels (as ``Dataset.channel_groups``)."""
        return group_channels(self.channels, self.ds.config)

    def codes(self, by: str) -> Any:
        """The ticket values of ``by`` with their integer codes (``v``, ``code``), as a table."""
        def build() -> Any:
            values = self.segment_values(by, ("tickets",))
            self._segments[by] = np.array([*values, None], dtype=object)
            data = pa.table({"v": pa.array(values, pa.string()),
                             "code": pa.array(np.arange(len(values)), pa.int32())})
            return self.backend.table(f"codes_{by}", data)
        return self.memo(("codes", by), build)

    # ---------------------------------------------------------------- the narrow tables
    def tickets(self, by: str = "channel") -> Any:
        """See :func:`.narrow.tickets` (materialised once per run and ``by``)."""
        return self.memo(("tickets", by), lambda: narrow.tickets(self, by))

    def surveys(self, by: str = "channel") -> Any:
        """See :func:`.narrow.surveys`."""
        return self.memo(("surveys", by), lambda: narrow.surveys(self, by))

    def customers(self) -> Any:
        """See :func:`.narrow.customers` (materialised once per run)."""
        return self.memo(("customers",), lambda: narrow.customers(self))

    def activity(self) -> Any:
        """See :func:`.narrow.activity`."""
        return self.memo(("activity",), lambda: narrow.activity(self))

    def customer_days(self) -> Any:
        """Distinct ``(customer_id, ts_day)`` of the activity, materialised once per run."""
        a = self.activity()
        return self.memo(("customer_days",), lambda: self.backend.cache(a.select("customer_id", "ts_day").distinct()))

    def customer_months(self) -> Any:
        """Distinct ``(customer_id, ts_mon)`` of the activity, materialised once per run."""
        a = self.activity()
        return self.memo(("customer_months",), lambda: self.backend.cache(a.select("customer_id", "ts_mon").distinct()))

    def sessions(self, business_hours: bool = True) -> Any:
        """See :func:`.narrow.sessions`."""
        return self.memo(("sessions", business_hours), lambda: narrow.sessions(self, business_hours))

    # ---------------------------------------------------------------- periods
    def period_table(self) -> Any:
        """One row per period: ``mon``, ``start_us``, ``end_us``, ``tend_us`` (min(end, as_of)),
        ``first_day``, ``last_day`` (capped at as_of's local date)."""
        def build() -> Any:
            rows = self.period_frame()
            cols = {c: pa.array(rows[c].to_numpy(dtype=np.int64)) for c in rows.columns}
            return self.backend.table("periods", pa.table(cols))
        return self.memo(("periods",), build)

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
