"""Which months the data covers (SPEC A15): a change is computed only between covered months.

A table *covers* a month when it has at least one kept row dated in that month or an earlier
one, and the month starts before ``as_of``. A row's date is its table's first date column in
schema order (``tickets.created_at``, ``surveys.responded_at``, ``customers.signup_at``,
``activity.ts``, ``sessions.started_at``, ``messages.sent_at``, ``status_changes.changed_at``,
the month of ``costs.period``); months are local
calendar months in the dataset timezone. ``targets`` holds no dates: a target applies to
whatever month it is read against, so a targets table covers every month before ``as_of``
(it never makes a month "no data"). A KPI covers a month when every table the catalogue says it
needs covers it. Kept rows include those of spam customers, as for ``as_of`` (SPEC A4).

A month a KPI does not cover has no data, not zero: compare against it and the answer is
"no data for September 2025", never a change from zero.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from . import catalog
# month names stay in wording until the formatting module takes them over
from .comparisons.wording import month
from .dataset import Dataset
from .periods import month_period
from .schema import TABLES, Column

#: The first date column of each dated table: its first timestamp or month column in schema order.
DATED: dict[str, Column] = {name: next(c for c in cols if c.kind in ("timestamp", "period"))
                            for name, cols in TABLES.items() if any(c.kind in ("timestamp", "period") for c in cols)}


def first_month(ds: Dataset, table: str) -> str | None:
    """The month (``YYYY-MM``) of ``table``'s earliest kept row in the dataset timezone: the first
    month it covers when that month starts before ``as_of``. None when the table is absent,
    empty or holds no dates (``targets``).

    Read from the DuckDB store's bounds (no pass over the rows in pandas).

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": ["a", "b"], "channel": "chat",
    ...                   "created_at": pd.to_datetime(["2026-03-31T23:30Z", "2026-05-02T08:00Z"])})
    >>> ds = dataset_from_frames({"tickets": t}, timezone="Europe/Berlin")
    >>> first_month(ds, "tickets"), first_month(ds, "surveys")   # 01:30 on 1 April in Berlin
    ('2026-04', None)
    """
    column = DATED.get(table)
    if column is None or table not in ds.tables:
        return None
    if column.kind == "period":
        labels = ds.store.distinct(table, column.name)  # a handful of months, distinct in DuckDB
        return min(labels) if labels else None
    earliest = ds.store.bounds(table, column.name)[0]  # ns since the epoch, UTC
    if earliest is None:
        return None
    return pd.Timestamp(earliest, tz="UTC").tz_convert(ds.timezone).strftime("%Y-%m")


def table_covers(ds: Dataset, table: str, period: str) -> bool:
    """Whether ``table`` covers the month ``period`` (``YYYY-MM``).

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": ["a"], "channel": "chat", "created_at": ["2026-09-20"]})
    >>> ds = dataset_from_frames({"tickets": t}, as_of="2026-11-01")
    >>> [table_covers(ds, "tickets", p) for p in ("2026-08", "2026-09", "2026-10", "2026-11")]
    [False, True, True, False]
    """
    label = month_period(period, ds.timezone)
    if label.start >= ds.as_of or table not in ds.tables:
        return False
    if table not in DATED:
        return True
    first = first_month(ds, table)
    return first is not None and first <= label.label


def tables_of(kpi: str) -> list[str]:
    """The tables a KPI needs, from the catalogue.

    Examples
    --------
    >>> tables_of("tickets_per_customer")
    ['tickets', 'customers']
    """
    return [t.strip() for t in catalog.get(kpi).tables.split(",")]


def covers(ds: Dataset, kpi: str, period: str) -> bool:
    """Whether every table ``kpi`` needs covers the month ``period``.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": ["a", "b"], "channel": "chat", "created_at": ["2026-08-03", "2026-10-03"]})
    >>> c = pd.DataFrame({"customer_id": ["x"], "signup_at": ["2026-10-01"]})
    >>> ds = dataset_from_frames({"tickets": t, "customers": c}, as_of="2026-11-01")
    >>> covers(ds, "tickets", "2026-09"), covers(ds, "tickets_per_customer", "2026-09")
    (True, False)
    """
    return all(table_covers(ds, table, period) for table in tables_of(kpi))


def uncovered(ds: Dataset, kpi: str, periods: Iterable[str]) -> list[str]:
    """The months of ``periods`` that ``kpi`` does not cover, in the order given.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": ["a"], "channel": "chat", "created_at": ["2026-10-03"]})
    >>> ds = dataset_from_frames({"tickets": t}, as_of="2026-11-01")
    >>> uncovered(ds, "abandonment_pct", ["2025-10", "2026-09", "2026-10"])
    ['2025-10', '2026-09']
    """
    return [p for p in periods if not covers(ds, kpi, p)]


def no_data(period: str) -> str:
    """The reason a change against an uncovered month is not computed.

    Examples
    --------
    >>> no_data("2025-09")
    'no data for September 2025'
    """
    return f"no data for {month(period)}"
