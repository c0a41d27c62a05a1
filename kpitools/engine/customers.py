"""Customer KPIs (SPEC §4, A10): retention S/E/N, tickets per customer, D1/D7/D30, activation,
and the monthly cohort table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .context import HOUR_US, Context
from .tidy import ALL, grid, rows, share_rows

ACTIVATION_US = 168 * HOUR_US
DAYS_N = (1, 7, 30)


def start_end(ctx: Context) -> pd.DataFrame:
    """``S``, ``E`` and ``both`` (= E − N) per period month (SPEC A10)."""
    c = ctx.customers()

    def active(t: int) -> object:
        return (c.signup_us <= t) & (c.churn_us.isnull() | (c.churn_us > t))

    # one scan with three counts per period (the periods are few; a cross join would copy the
    # customers once per period)
    metrics = {}
    for p in ctx.period_frame().itertuples():
        start, tend = int(p.start_us), int(p.tend_us)
        metrics.update({f"S_{p.mon}": c.count(where=active(start)), f"E_{p.mon}": c.count(where=active(tend)),
                        f"both_{p.mon}": c.count(where=active(start) & active(tend))})
    row = ctx.execute(c.aggregate(**metrics)).iloc[0]
    return pd.DataFrame({k: [int(row[f"{k}_{m}"]) for m in ctx.months] for k in ("S", "E", "both")},
                        index=pd.Index(ctx.months, name="mon"), dtype=np.int64)


def _cohort(ctx: Context) -> object:
    c = ctx.customers()
    return c.filter(c.signup_mon.isin(ctx.months), c.signup_us <= ctx.as_of_us)


def _day_n(ctx: Context) -> pd.DataFrame:
    """Eligible (``eN``) and active (``aN``) cohort customers per period for N in 1, 7, 30."""
    c = _cohort(ctx)
    cd = ctx.customer_days()
    eligible = ctx.execute(c.group_by(mon=c.signup_mon).aggregate(
        **{f"e{n}": c.count(where=c.signup_day + n <= ctx.asof_day) for n in DAYS_N}))
    j = c.join(cd, c.customer_id == cd.customer_id)
    j = j.select(mon=j.signup_mon, k=j.ts_day - j.signup_day)
    j = j.filter(j.k.isin(list(DAYS_N)))
    active = ctx.execute(j.group_by("mon").aggregate(
        **{f"a{n}": j.count(where=j.k == n) for n in DAYS_N}))
    cols_e, cols_a = [f"e{n}" for n in DAYS_N], [f"a{n}" for n in DAYS_N]
    return pd.concat([ctx.by_month(eligible, cols_e), ctx.by_month(active, cols_a)], axis=1)


def _activation(ctx: Context) -> pd.DataFrame:
    """Customers past their first 168 h (``eligible``) and those who activated within them."""
    c = _cohort(ctx)
    c = c.filter(c.signup_us + ACTIVATION_US <= ctx.as_of_us)
    a = ctx.activity()
    a = a.filter(a.is_activation).select(aid=a.customer_id, ts_us=a.ts_us)
    eligible = ctx.execute(c.group_by(mon=c.signup_mon).aggregate(eligible=c.count()))
    j = c.join(a, [c.customer_id == a.aid, a.ts_us >= c.signup_us, a.ts_us <= c.signup_us + ACTIVATION_US])
    j = j.select(mon=j.signup_mon, customer_id=j.customer_id).distinct()
    activated = ctx.execute(j.group_by("mon").aggregate(activated=j.count()))
    return pd.concat([ctx.by_month(eligible, ["eligible"]), ctx.by_month(activated, ["activated"])], axis=1)


def ticket_counts(ctx: Context) -> pd.DataFrame:
    """Tickets (abandoned included) and non-abandoned tickets per ``(mon, g = channel)``."""
    def run() -> pd.DataFrame:
        t = ctx.tickets()
        t = t.filter(t.created_mon.isin(ctx.months))
        out = ctx.execute(t.group_by(mon=t.created_mon, g=t.ch).aggregate(
            tickets=t.count(), na=t.count(where=~t.abandoned)))
        out["g"] = ctx.segment_labels(out["g"], "channel")
        return out

    return ctx.memo("ticket_counts", run)


def compute(ctx: Context, want: set[str]) -> list[pd.DataFrame]:
    """Tidy frames for the retention KPI ids in ``want`` (``tickets_per_customer`` per channel)."""
    labels = ctx.labels
    only_all = grid(ctx.months, [])
    frames = []
    if want & {"crr_pct", "churn_pct", "tickets_per_customer"}:
        se = start_end(ctx)
        if want & {"crr_pct", "churn_pct"}:
            crr = share_rows(only_all, labels, "crr_pct", se["both"], se["S"])
            if "crr_pct" in want:
                frames.append(crr)
            if "churn_pct" in want:
                frames.append(crr.assign(kpi="churn_pct", value=100 - crr["value"],
                                         ci_low=100 - crr["ci_high"], ci_high=100 - crr["ci_low"]))
        if "tickets_per_customer" in want:
            index = grid(ctx.months, ctx.channels)
            counts = ticket_counts(ctx)
            per = counts.groupby(["mon", "g"])["tickets"].sum()
            total = counts.groupby("mon")["tickets"].sum()
            per = pd.concat([per, pd.concat({ALL: total}, names=["g"]).swaplevel()]).reindex(index, fill_value=0)
            avg = ((se["S"] + se["E"]) / 2).reindex(index.get_level_values("mon")).to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where(avg > 0, per.to_numpy() / avg, np.nan)
            frames.append(rows(index, labels, "tickets_per_customer", value, avg))
    if want & {f"d{n}_pct" for n in DAYS_N}:
        dn = _day_n(ctx)
        for n in DAYS_N:
            if f"d{n}_pct" in want:
                frames.append(share_rows(only_all, labels, f"d{n}_pct", dn[f"a{n}"], dn[f"e{n}"]))
    if "activation_pct" in want:
        act = _activation(ctx)
        frames.append(share_rows(only_all, labels, "activation_pct", act["activated"], act["eligible"]))
    return frames


def cohort_table(ctx: Context) -> pd.DataFrame:
    """Signup month × months since signup: cohort size, active customers and their share.

    A cell is observable when its calendar month is over at ``as_of`` (month end ≤ as_of); the
    cells of as_of's own month are listed with ``active`` and ``pct`` empty.
    """
    c = ctx.customers()
    c = c.filter(c.signup_us <= ctx.as_of_us)
    cm = ctx.customer_months()
    sizes = ctx.execute(c.group_by(cohort=c.signup_mon).aggregate(customers=c.count()))
    j = c.join(cm, c.customer_id == cm.customer_id)
    j = j.select(cohort=j.signup_mon, k=j.ts_mon - j.signup_mon).filter(lambda t: t.k >= 0)
    active = ctx.execute(j.group_by(["cohort", "k"]).aggregate(active=j.count()))
    cols = ["cohort", "months_since_signup", "customers", "active", "pct"]
    if sizes.empty:
        dtypes = [object, "int64", "int64", "Int64", float]
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(cols, dtypes)})
    asof_mon = int(np.datetime64(ctx.as_of.tz_localize(None), "M").view("i8"))
    sizes = sizes.sort_values("cohort")
    cohort = np.repeat(sizes["cohort"].to_numpy(np.int64), asof_mon - sizes["cohort"].to_numpy(np.int64) + 1)
    k = np.concatenate([np.arange(asof_mon - m + 1) for m in sizes["cohort"]])
    cells = pd.DataFrame({"cohort": cohort, "k": k})
    cells = cells.merge(sizes, on="cohort").merge(active, on=["cohort", "k"], how="left")
    observable = cells["cohort"] + cells["k"] < asof_mon
    act = cells["active"].fillna(0).astype("Int64").where(observable, pd.NA)
    pct = (100 * act.astype(float) / cells["customers"]).where(observable, np.nan)
    months = cells["cohort"].to_numpy(np.int64).astype("datetime64[M]").astype(str)
    return pd.DataFrame({"cohort": months, "months_since_signup": cells["k"].to_numpy(np.int64),
                         "customers": cells["customers"].to_numpy(np.int64), "active": act.to_numpy(),
                         "pct": pct.to_numpy(dtype=float)})
