"""Data sanity flags (SPEC A16): valid rows and columns that are implausible.

Loading rejects rows that break a rule (A3); the flags point at what passes every rule and is
still probably wrong, so that an analyst checks it before trusting the KPIs built on it. A flag
never changes a KPI. Each flag is one row of :func:`sanity_flags`:

* ``resolved_before_response`` — tickets.resolved_at before first_response_at;
* ``implausible_duration`` — a first response (or resolution) more than 365 days after
  created_at, one row per column;
* ``date_only`` — every value of a timestamp column is a local midnight;
* ``after_as_of`` — rows whose first date (``FIRST_DATE``) is after ``as_of`` (A4 ignores them);
* ``no_overlap`` — two dated tables without a common month (see :func:`sanity_flags` for the
  months of a table); the row names both: ``table`` = ``"tickets+surveys"``, ``column`` =
  ``"created_at+responded_at"``, ``rows`` = the rows of both tables, no example rows;
* ``constant`` — an optional column the file provides that holds one value on every row (empty
  on every row counts as one value: A3 fills it with the same default);
* ``signup_spike`` — customers.signup_at on the spike days of
  :func:`kpitools.quality.signup_spikes`; ``rows`` = the sign-ups on those days.

Everything runs as Ibis expressions over the store's tables (``store.table``: reads only, so a
read-only snapshot works, and any store's backend compiles them): one aggregate query per table
for its flags, a small query for the example rows of each flag that fires. Local time uses the
engine's UTC offsets, so a local day here is the engine's local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .dataset import ROW
from .engine.arith import floor_div
from .quality import SPIKE_THRESHOLD, signup_spikes
from .rules import steps
from .schema import TABLE_ORDER, TABLES
from .timeparse import utc_offsets

COLUMNS = ["table", "column", "flag", "rows", "example_rows", "note"]
#: The date that places a row in time (SPEC A15's first dates), per table.
FIRST_DATE = {"tickets": "created_at", "surveys": "responded_at", "customers": "signup_at", "activity": "ts",
              "sessions": "started_at", "messages": "sent_at", "status_changes": "changed_at"}
MAX_DAYS = 365  # a first response or resolution later than this after creation is implausible
EXAMPLES = 3  # example row numbers per flag
_DAY_NS = 86_400_000_000_000


@dataclass(frozen=True)
class _Probe:
    """One candidate flag of a table as Ibis aggregates over its rows: whether it fires and how
    many rows it affects; ``where`` picks the affected rows for the examples (None: every row)."""

    column: str
    flag: str
    fires: Any
    rows: Any
    note: str
    where: Any = None


def _count(cond: Any) -> Any:
    """The rows where ``cond`` is true (a null condition does not count, as in SQL's FILTER);
    0 on an empty table, where a sum is null."""
    import ibis

    return ibis.ifelse(cond.fill_null(False), 1, 0).cast("int64").sum().fill_null(0)


def _row_rule(column: str, flag: str, cond: Any, note: str) -> _Probe:
    """A flag that fires when some row meets ``cond``."""
    rows = _count(cond)
    return _Probe(column, flag, rows > 0, rows, note, cond)


def _examples(t: Any, where: Any = None) -> str:
    """The smallest row numbers of the rows of ``t`` that meet ``where``."""
    rows = (t if where is None else t.filter(where)).order_by(ROW).limit(EXAMPLES)[ROW]
    return ", ".join(str(r) for r in rows.to_pyarrow().to_pylist())


def sanity_flags(ds: Any) -> pd.DataFrame:
    """The sanity flags of a dataset (SPEC A16; the rules are in the module notes).

    The months of a dated table are the local months of its rows dated up to ``as_of``; for
    customers every month from the first sign-up to ``as_of``, since a customer stays in the
    customer base after signing up (so customers who all signed up before the tickets are fine).

    Returns
    -------
    DataFrame
        ``table, column, flag, rows, example_rows, note``: one row per flag that fires, sorted by
        table (schema order), flag, column. ``example_rows`` lists up to three row numbers of
        affected rows (spreadsheet rows for loaded files, positions from 0 for datasets built from
        frames), never their values.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> ds = dataset_from_frames({"tickets": pd.DataFrame({
    ...     "ticket_id": ["t1", "t2", "t3"], "channel": ["chat", "email", "chat"],
    ...     "created_at": ["2026-10-01", "2026-10-02", "2026-10-05"],
    ...     "first_response_at": ["2026-10-03", None, "2026-10-05"],
    ...     "resolved_at": ["2026-10-01", None, "2026-10-06"]})}, as_of="2026-10-04")
    >>> sanity_flags(ds)[["column", "flag", "rows", "example_rows"]]
                  column                      flag  rows example_rows
    0         created_at               after_as_of     1            2
    1         created_at                 date_only     3      0, 1, 2
    2  first_response_at                 date_only     2         0, 2
    3        resolved_at                 date_only     2         0, 2
    4        resolved_at  resolved_before_response     1            0
    """
    store = ds.store
    as_of = int(ds.as_of.value)
    lo, hi = store.span()
    bounds, offsets = utc_offsets(ds.timezone, min(lo, as_of), max(hi, as_of))

    def local(x: Any) -> Any:  # the local wall time (ns) of the instants (ns) of Ibis column ``x``
        return x + steps(x, bounds, offsets)

    names = [t for t in ds.tables if t in store.dtypes]
    found = [f for t in names for f in _table_flags(ds, t, local, as_of)]
    found += _no_overlap(ds, names, local, as_of)
    found += _signup_spike(ds, local)
    order = {t: i for i, t in enumerate(TABLE_ORDER)}
    out = pd.DataFrame(found, columns=COLUMNS)
    out["_t"] = out["table"].map(lambda t: tuple(order.get(p, len(order)) for p in t.split("+")))
    out = out.sort_values(["_t", "flag", "column"], kind="stable").drop(columns="_t")
    return out.astype({"rows": np.int64}).reset_index(drop=True)


def _table_flags(ds: Any, table: str, local: Any, as_of: int) -> list[tuple]:
    """The flags of one table, from one aggregate query over it."""
    store = ds.store
    dtypes = store.dtypes[table]
    t = store.table(table)
    probes: list[_Probe] = []
    if table == "tickets":
        if {"resolved_at", "first_response_at"} <= set(dtypes):
            probes.append(_row_rule(
                "resolved_at", "resolved_before_response", t.resolved_at < t.first_response_at,
                "resolved before the first response: one of the two times is wrong, so FRT and TTR of "
                "these tickets are unreliable"))
        for col, what in (("first_response_at", "first response"), ("resolved_at", "resolution")):
            if col in dtypes:
                probes.append(_row_rule(
                    col, "implausible_duration", t[col] - t.created_at > MAX_DAYS * _DAY_NS,
                    f"{what} more than {MAX_DAYS} days after creation: probably a wrong date, which "
                    "inflates the mean times"))
    for col in dtypes:
        if store.is_timestamp(table, col):
            probes.append(_Probe(
                col, "date_only", (t[col].count() > 0) & (_count(local(t[col]) % _DAY_NS != 0) == 0),
                t[col].count(),
                "every value is a local midnight: times are probably missing, so hour-level KPIs are unreliable",
                t[col].notnull()))
    first = FIRST_DATE.get(table)
    if first in dtypes:
        probes.append(_row_rule(
            first, "after_as_of", t[first] > as_of,
            f"dated after as_of ({ds.as_of:%Y-%m-%d %H:%M}): ignored by the KPIs (SPEC A4)"))
    provided = ds.provided(table)
    for column in TABLES.get(table, ()):
        if not column.required and column.name in provided and column.name in dtypes:
            col = t[column.name]
            # an empty value on some row is one more value (A3 fills it with the same default)
            values = col.nunique() + (col.count() < t.count()).cast("int64")
            probes.append(_Probe(
                column.name, "constant", (t.count() > 1) & (values == 1), t.count(),
                "one value on every row: probably an export default, so the KPIs that use it "
                "cannot tell rows apart"))
    if not probes:
        return []
    aggs = {f"{k}{i}": getattr(p, k) for i, p in enumerate(probes) for k in ("fires", "rows")}
    got = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    return [(table, p.column, p.flag, int(got[f"rows{i}"]), _examples(t, p.where), p.note)
            for i, p in enumerate(probes) if got[f"fires{i}"]]


def _months(ds: Any, table: str, local: Any, as_of: int) -> np.ndarray:
    """The local months (``datetime64[M]``, sorted) of a dated table's rows up to ``as_of``."""
    t = ds.store.table(table)
    col = t[FIRST_DATE[table]]
    query = t.filter(col.notnull() & (col <= as_of)).select(day=floor_div(local(col), _DAY_NS)).distinct()
    days = query.to_pyarrow().column("day").to_numpy()
    months = np.unique(days.astype("datetime64[D]").astype("datetime64[M]"))
    if table == "customers" and len(months):
        last = np.datetime64(ds.as_of.tz_localize(None), "M")
        months = np.arange(months[0], last + 1)
    return months


def _no_overlap(ds: Any, names: list[str], local: Any, as_of: int) -> list[tuple]:
    dated = [t for t in sorted(names, key=lambda t: TABLE_ORDER.index(t) if t in TABLE_ORDER else len(TABLE_ORDER))
             if FIRST_DATE.get(t) in ds.store.dtypes[t]]
    months = {t: _months(ds, t, local, as_of) for t in dated}
    dated = [t for t in dated if len(months[t])]

    def span(t: str) -> str:
        return f"{t} {months[t][0]}" + (f" to {months[t][-1]}" if len(months[t]) > 1 else "")

    return [(f"{a}+{b}", f"{FIRST_DATE[a]}+{FIRST_DATE[b]}", "no_overlap", ds.rows(a) + ds.rows(b), "",
             f"{span(a)} and {span(b)} share no month: KPIs that combine them compare different times")
            for i, a in enumerate(dated) for b in dated[i + 1:]
            if not np.intersect1d(months[a], months[b]).size]


def _signup_spike(ds: Any, local: Any) -> list[tuple]:
    if "customers" not in ds.tables:
        return []
    spikes = signup_spikes(ds)
    if spikes.empty:
        return []
    spike_days = spikes["date"].to_numpy("datetime64[D]").view("i8").tolist()
    t = ds.store.table("customers")
    on_spike_days = (t.signup_at <= int(ds.as_of.value)) & floor_div(local(t.signup_at), _DAY_NS).isin(spike_days)
    shown = ", ".join(f"{d:%Y-%m-%d}" for d in spikes["date"][:EXAMPLES]) + (", ..." if len(spikes) > EXAMPLES else "")
    days = f"{len(spikes)} day{'s' if len(spikes) > 1 else ''}"
    return [("customers", "signup_at", "signup_spike", int(spikes["signups"].sum()), _examples(t, on_spike_days),
             f"sign-ups spike on {days} ({shown}; robust z > {SPIKE_THRESHOLD}): check for spam or an import "
             "before trusting customer KPIs")]
