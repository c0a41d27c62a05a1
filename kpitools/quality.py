"""Data-quality summaries for the report (SPEC §2 "Loading is strict and accountable", A5).

What the data-quality notebook shows, as tidy DataFrames:

* :func:`load_summary` — rows in / kept / rejected per table with the most frequent reasons;
* :func:`spam_summary` — spam customers and the rows of theirs that every KPI leaves out
  (:func:`spam_mask` marks them);
* :func:`daily_signups` / :func:`signup_spikes` — days with a suspicious spike of sign-ups;
* :func:`missing_tables` — which tables are absent and which KPIs that disables.

Spike rule (documented here because the report quotes it): each local day from the first to the
last sign-up (days without any count as 0; sign-ups after ``as_of`` are ignored) gets the
*modified z-score* of Iglewicz & Hoaglin (1993), ``z = 0.6745 (x − median) / MAD``, over every
day's count of sign-ups, spam included (a spike is what spam sign-ups look like before anyone
has flagged them). A day with ``z > 3.5`` (their recommended cut-off) is a spike; only upward
spikes are flagged. The median and MAD ignore the spikes themselves, so one burst of hundreds of
sign-ups cannot hide itself the way it would inflate a mean and standard deviation. The MAD is
floored at 1 sign-up: counts are whole numbers, and when more than half of the days have the
same count (MAD = 0, typical of a small or young customer base) any other day would otherwise be
infinitely unusual; with the floor a day needs at least 6 sign-ups above the median to count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .catalog import catalog
from .schema import TABLE_ORDER

#: Modified z-score above which a day of sign-ups is a spike (Iglewicz & Hoaglin 1993).
SPIKE_THRESHOLD = 3.5
#: Smallest MAD used for daily sign-up counts (see the module notes).
MIN_MAD = 1.0
_MAD_TO_Z = 0.6745  # the 0.75 quantile of the standard normal: makes the MAD comparable to a sd

_CUSTOMER_TABLES = ("tickets", "surveys", "activity", "sessions")


def load_summary(ds: Any, top: int = 3) -> pd.DataFrame:
    """Rows in, kept and rejected per table, with the ``top`` most frequent reject reasons.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset (its ``counts`` and ``rejects``).
    top : int
        How many reasons to name per table.

    Returns
    -------
    DataFrame
        ``table, rows_in, rows_kept, rows_rejected, rejected_pct, top_reasons`` in load order;
        ``top_reasons`` reads ``"reason (rows); reason (rows)"``, most frequent first (ties by
        reason), empty when nothing was rejected. Reasons never quote the rejected values.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> counts = pd.DataFrame({"table": ["tickets"], "rows_in": [4], "rows_kept": [2], "rows_rejected": [2]})
    >>> rejects = pd.DataFrame({"table": ["tickets"] * 2, "reason": ["bad boolean", "bad boolean"]})
    >>> load_summary(SimpleNamespace(counts=counts, rejects=rejects))[["table", "rejected_pct", "top_reasons"]]
         table  rejected_pct      top_reasons
    0  tickets          50.0  bad boolean (2)
    """
    counts = ds.counts.loc[:, ["table", "rows_in", "rows_kept", "rows_rejected"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        counts["rejected_pct"] = np.where(counts["rows_in"] > 0,
                                          100 * counts["rows_rejected"] / counts["rows_in"], np.nan)
    reasons = reject_reasons(ds)
    reasons = reasons.groupby("table", sort=False).head(top)
    text = (reasons["reason"] + " (" + reasons["rows"].map("{:,}".format) + ")").groupby(reasons["table"]).agg("; ".join)
    counts["top_reasons"] = counts["table"].map(text).fillna("")
    return counts.reset_index(drop=True)


def reject_reasons(ds: Any) -> pd.DataFrame:
    """Rejected rows per table and reason, most frequent first.

    Returns
    -------
    DataFrame
        ``table, reason, rows``; tables in load order, within a table by rows (descending),
        then reason.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> rejects = pd.DataFrame({"table": ["surveys", "tickets", "tickets"], "reason": ["x", "y", "y"]})
    >>> reject_reasons(SimpleNamespace(rejects=rejects)).values.tolist()
    [['tickets', 'y', 2], ['surveys', 'x', 1]]
    """
    rejects = ds.rejects
    if rejects is None or rejects.empty:
        return pd.DataFrame({"table": pd.Series(dtype=object), "reason": pd.Series(dtype=object),
                             "rows": pd.Series(dtype=np.int64)})
    out = rejects.groupby(["table", "reason"]).size().rename("rows").reset_index()
    order = {t: i for i, t in enumerate(TABLE_ORDER)}
    out = out.assign(_t=out["table"].map(order).fillna(len(order)), _r=-out["rows"])
    out = out.sort_values(["_t", "_r", "reason"], kind="stable").drop(columns=["_t", "_r"])
    out["rows"] = out["rows"].astype(np.int64)
    return out.reset_index(drop=True)


def spam_customer_ids(ds: Any) -> pd.Index:
    """Ids of the customers flagged ``is_spam`` (empty without a customers table).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "is_spam": [False, True, True]})
    >>> spam_customer_ids(SimpleNamespace(customers=c)).tolist()
    ['b', 'c']
    """
    c = ds.customers
    if c is None or "is_spam" not in c:
        return pd.Index([], dtype=object)
    return pd.Index(c.loc[c["is_spam"].to_numpy(bool), "customer_id"].dropna().unique())


def spam_mask(ds: Any, table: str) -> np.ndarray:
    """Boolean mask of the rows of ``table`` that belong to spam customers (SPEC A5).

    ``customers``: the flagged rows; ``tickets``, ``activity``, ``sessions``: rows of a spam
    customer; ``surveys``: answered by a spam customer or about a spam customer's ticket.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> ds = dataset_from_frames({
    ...     "tickets": pd.DataFrame({"ticket_id": ["t1", "t2"], "channel": "email",
    ...                              "created_at": "2026-10-01", "customer_id": ["c1", "c2"]}),
    ...     "surveys": pd.DataFrame({"response_id": ["r1", "r2", "r3"], "survey": "csat", "score": 5,
    ...                              "responded_at": "2026-10-02", "ticket_id": ["t1", "t2", None],
    ...                              "customer_id": [None, None, "c2"]}),
    ...     "customers": pd.DataFrame({"customer_id": ["c1", "c2"], "signup_at": "2026-09-01",
    ...                                "is_spam": [False, True]})})
    >>> spam_mask(ds, "surveys").tolist()
    [False, True, True]
    """
    frame = ds.tables.get(table)
    if frame is None:
        raise ValueError(f"the dataset has no {table} table")
    ids = spam_customer_ids(ds)
    if len(ids) == 0 or "customer_id" not in frame:
        mask = np.zeros(len(frame), bool)
    else:
        mask = frame["customer_id"].isin(ids).fillna(False).to_numpy(bool)
    if table == "surveys" and len(ids) and ds.tickets is not None and "ticket_id" in frame:
        spam_tickets = ds.tickets.loc[spam_mask(ds, "tickets"), "ticket_id"]
        mask |= frame["ticket_id"].isin(spam_tickets).fillna(False).to_numpy(bool)
    return mask


def spam_summary(ds: Any) -> pd.DataFrame:
    """Spam customers and the rows of theirs that every KPI leaves out (SPEC A5).

    Returns
    -------
    DataFrame
        ``table, rows_kept, spam_rows, spam_pct`` for ``customers`` (the spam accounts) and for
        each of ``tickets``, ``surveys``, ``activity``, ``sessions`` that is present.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> ds = dataset_from_frames({
    ...     "tickets": pd.DataFrame({"ticket_id": ["t1", "t2"], "channel": "email",
    ...                              "created_at": "2026-10-01", "customer_id": ["c1", "c2"]}),
    ...     "customers": pd.DataFrame({"customer_id": ["c1", "c2"], "signup_at": "2026-09-01",
    ...                                "is_spam": [False, True]})})
    >>> spam_summary(ds).values.tolist()
    [['customers', 2, 1, 50.0], ['tickets', 2, 1, 50.0]]
    """
    names = [n for n in ("customers", *_CUSTOMER_TABLES) if ds.tables.get(n) is not None]
    masks = {n: spam_mask(ds, n) for n in names}
    kept = np.array([len(masks[n]) for n in names], dtype=np.int64)
    spam = np.array([int(masks[n].sum()) for n in names], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(kept > 0, 100 * spam / np.maximum(kept, 1), np.nan)
    return pd.DataFrame({"table": names, "rows_kept": kept, "spam_rows": spam, "spam_pct": pct})


def robust_z(values: np.ndarray, min_mad: float = 0.0) -> np.ndarray:
    """Modified z-scores ``0.6745 (x − median) / max(MAD, min_mad)`` (Iglewicz & Hoaglin 1993).

    With a scale of 0 (MAD = 0 and no floor) a value equal to the median scores 0 and any other
    ±inf.

    Examples
    --------
    >>> robust_z(np.array([10, 12, 11, 9, 10, 100])).round(1).tolist()
    [-0.3, 1.0, 0.3, -1.0, -0.3, 60.4]
    >>> robust_z(np.array([0, 0, 0, 1, 9]), min_mad=1).round(2).tolist()   # MAD = 0: the floor
    [0.0, 0.0, 0.0, 0.67, 6.07]
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return x.copy()
    med = np.median(x)
    scale = max(float(np.median(np.abs(x - med))), min_mad)
    if scale == 0:
        return np.where(x > med, np.inf, np.where(x < med, -np.inf, 0.0))
    return _MAD_TO_Z * (x - med) / scale


def daily_signups(ds: Any, threshold: float = SPIKE_THRESHOLD) -> pd.DataFrame:
    """Sign-ups per local day with their robust z-score and spike flag (rule in the module notes).

    Parameters
    ----------
    ds : Dataset
        A dataset with a customers table.
    threshold : float
        A day with a modified z-score above this is a spike.

    Returns
    -------
    DataFrame
        ``date`` (local date, ``datetime64`` at midnight), ``signups`` (spam included),
        ``spam_signups``, ``robust_z``, ``spike``; one row per day from the first to the last
        sign-up up to ``as_of`` (empty without customers).

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> days = ["2026-10-01"] * 2 + ["2026-10-02"] * 3 + ["2026-10-03"] * 2 + ["2026-10-05"] * 2 + ["2026-10-06"] * 20
    >>> ds = dataset_from_frames({"tickets": pd.DataFrame({"ticket_id": ["t"], "channel": "x",
    ...     "created_at": "2026-10-01"}), "customers": pd.DataFrame({"customer_id": range(len(days)),
    ...     "signup_at": days, "is_spam": [False] * 9 + [True] * 20})})
    >>> daily_signups(ds)[["signups", "spam_signups", "spike"]].values.tolist()
    [[2, 0, False], [3, 0, False], [2, 0, False], [0, 0, False], [2, 0, False], [20, 20, True]]
    """
    columns = ["date", "signups", "spam_signups", "robust_z", "spike"]
    c = ds.customers
    if c is None:
        return pd.DataFrame(columns=columns)
    c = c.loc[(c["signup_at"] <= ds.as_of).to_numpy(bool)]
    if c.empty:
        return pd.DataFrame(columns=columns)
    day = c["signup_at"].dt.tz_localize(None).dt.normalize()
    spam = c["is_spam"].to_numpy(bool) if "is_spam" in c else np.zeros(len(c), bool)
    days = pd.date_range(day.min(), day.max(), freq="D")
    signups = day.value_counts().reindex(days, fill_value=0).to_numpy(np.int64)
    spam_signups = day[spam].value_counts().reindex(days, fill_value=0).to_numpy(np.int64)
    z = robust_z(signups, min_mad=MIN_MAD)
    return pd.DataFrame({"date": days, "signups": signups, "spam_signups": spam_signups,
                         "robust_z": z, "spike": z > threshold})


def signup_spikes(ds: Any, threshold: float = SPIKE_THRESHOLD) -> pd.DataFrame:
    """Only the spike days of :func:`daily_signups`, with their weekday name.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> signup_spikes(example_dataset()).empty
    True
    """
    days = daily_signups(ds, threshold)
    spikes = days.loc[days["spike"].astype(bool)].drop(columns="spike")
    spikes.insert(1, "weekday", spikes["date"].dt.day_name())
    return spikes.reset_index(drop=True)


def missing_tables(ds: Any) -> pd.DataFrame:
    """Each table of the contract: present or not, and the KPIs that need it (from the catalogue).

    Returns
    -------
    DataFrame
        ``table, present, rows, needed_by, disabled``: ``needed_by`` lists the KPI ids whose
        catalogue ``tables`` include the table; ``disabled`` repeats them when the table is
        missing (empty otherwise). KPIs left out for a missing column or setting are listed in
        ``kt.kpis(...).attrs["omitted"]`` instead.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> m = missing_tables(example_dataset()).set_index("table")
    >>> bool(m.loc["sessions", "present"]), m.loc["sessions", "disabled"]
    (False, 'conversion_pct, self_service_pct, coverage_pct, presence_pct')
    """
    cat = catalog()
    needs = cat["tables"].str.split(",")
    rows = []
    for table in TABLE_ORDER:  # the seven tables of the contract
        frame = ds.tables.get(table)
        ids = ", ".join(cat.loc[needs.map(lambda ts, t=table: t in ts), "id"])
        present = frame is not None
        rows.append((table, present, len(frame) if present else 0, ids, "" if present else ids))
    return pd.DataFrame(rows, columns=["table", "present", "rows", "needed_by", "disabled"])
