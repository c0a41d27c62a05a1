"""The benchmark's first contender: the KPI table written by hand in DuckDB SQL.

The same definitions as SPEC §4 and Appendix A (spam excluded, as_of censoring, Kaplan–Meier
medians of first-response and resolution times in both clocks, business hours, SLA, backlog,
D-N retention, WAU, self-service deflection, cpi), as a SQL author who knows DuckDB would write
them: every row-level step runs in SQL over the tables as stored (timestamps are ``BIGINT``
nanoseconds since the epoch, as kpitools stores them), and only per-group counts come back to
Python, where the confidence intervals and the Kaplan–Meier medians (``kpitools.stats``, on
the SQL-compacted ``(group, duration) → events, censored`` counts) are computed in numpy.

Local months and days use the dataset timezone's UTC offsets as a ``CASE`` over its
transitions; business hours are a bucket table of the open intervals joined on ``t // G``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kpitools.business_hours import BusinessClock
from kpitools.config import read_config
from kpitools.periods import parse_periods
from kpitools.stats import km_median, nps_ci, t_ci, wilson_ci
from kpitools.timeparse import utc_offsets

TABLES = ("tickets", "surveys", "customers", "activity", "sessions", "costs", "targets")
HOUR_NS = 3_600_000_000_000
DAY_NS = 24 * HOUR_NS
ALL = "all"


def prepare(dataset: Path, db: Path) -> None:
    """Copy the validated tables of ``dataset`` into the DuckDB file ``db`` (untimed setup)."""
    import kpitools as kt

    ds = kt.load(dataset)
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = ds.store.con
    con.execute(f"ATTACH '{tmp}' AS b")
    for name in TABLES:
        if name in ds.tables:
            hidden = ", ".join(ds.store.hidden(name))  # kpitools' own columns: the tables as users give them
            con.execute(f'CREATE TABLE b."{name}" AS SELECT * EXCLUDE ({hidden}) FROM "{name}"')
    con.execute("DETACH b")
    tmp.rename(db)


class Baseline:
    """One connection to the baseline database and the dataset's configuration."""

    def __init__(self, dataset: Path, db: Path):
        self.cfg = read_config(dataset)
        self.con = duckdb.connect(str(db), read_only=True)
        self.con.execute("SET enable_progress_bar = false")
        self.tz = self.cfg.timezone
        self.as_of = self.cfg.as_of.tz_convert(self.tz)
        self.A = int(self.as_of.value)
        lo, hi = self.con.execute(
            "SELECT min(created_at), max(created_at) FROM tickets").fetchone()
        bounds, offsets = utc_offsets(self.tz, min(lo, self.A - 400 * DAY_NS), max(hi, self.A))
        cases = " ".join(f"WHEN x < {int(b)} THEN {int(o)}" for b, o in zip(bounds, offsets))
        local = f"(x + CASE {cases} ELSE {int(offsets[-1])} END)" if len(bounds) else f"(x + {int(offsets[0])})"
        # local day and month numbers of an instant x (ns); macros are inlined by DuckDB
        self.con.execute(f"CREATE TEMP MACRO lday(x) AS {local} // {DAY_NS} - CAST({local} % {DAY_NS} < 0 AS BIGINT)")
        self.con.execute("CREATE TEMP MACRO lmon(x) AS datediff('month', DATE '1970-01-01', "
                         "DATE '1970-01-01' + CAST(lday(x) AS INTEGER))")
        spam = self.con.execute("SELECT count(*) FROM customers WHERE is_spam").fetchone()[0]
        self.con.execute("CREATE TEMP TABLE spam AS SELECT customer_id FROM customers WHERE is_spam" if spam else
                         "CREATE TEMP TABLE spam (customer_id VARCHAR)")
        ch = self.con.execute("SELECT DISTINCT channel FROM tickets UNION SELECT DISTINCT channel FROM surveys "
                              "WHERE channel IS NOT NULL").fetchall()
        self.channels = sorted(c[0] for c in ch)
        voice = [c for c in self.channels if c in self.cfg.voice_channels]
        self.groups = {"voice": voice, "text": [c for c in self.channels if c not in voice]}
        self._clock()

    def _clock(self) -> None:
        """Buckets of G ns (G divides every open-interval boundary): start reading r, open o."""
        lo = self.con.execute("SELECT least((SELECT min(created_at) FROM tickets), "
                              "(SELECT min(started_at) FROM sessions))").fetchone()[0]
        first = pd.Timestamp(min(lo, self.A), tz="UTC").tz_convert(self.tz).date()
        iv = BusinessClock(self.cfg.business_hours, self.tz, first, self.as_of.date()).intervals
        s = pd.DatetimeIndex(iv["start"]).as_unit("ns").asi8
        e = pd.DatetimeIndex(iv["end"]).as_unit("ns").asi8
        c = np.concatenate([[0], np.cumsum(e - s)[:-1]])
        self.G = int(np.gcd.reduce(np.concatenate([s, e, [HOUR_NS]])))
        k = np.arange(s[0] // self.G - 1, self.A // self.G + 2)
        at = k * self.G
        i = np.searchsorted(s, at, side="right") - 1
        j = np.maximum(i, 0)
        clock = pa.table({"k": k, "r": np.where(i >= 0, c[j] + np.minimum(at, e[j]) - s[j], 0),
                          "o": (i >= 0) & (at < e[j])})
        self.con.register("clock_arrow", clock)
        self.con.execute("CREATE TEMP TABLE clock AS SELECT * FROM clock_arrow")

    # ------------------------------------------------------------------ helpers
    def q(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def kpis(self, period: str) -> pd.DataFrame:
        """The KPI table for ``period`` (a month or an inclusive range of months)."""
        periods = parse_periods(period, self.tz, self.as_of)
        self.months = [p.month for p in periods]
        if self.months != list(range(self.months[0], self.months[-1] + 1)):
            raise ValueError("the SQL baseline handles one month or a range of consecutive months")
        self.label = {p.month: p.label for p in periods}
        self.P = pd.DataFrame({
            "mon": self.months,
            "s": [p.start.value for p in periods], "e": [p.end.value for p in periods],
            "tend": [min(p.end, self.as_of).value for p in periods],
            "d0": [int(np.datetime64(p.first_day, "D").view("i8")) for p in periods],
            "d1": [min(int(np.datetime64(p.last_day, "D").view("i8")),
                       int(np.datetime64(self.as_of.tz_localize(None), "D").view("i8"))) for p in periods]})
        self._register_periods()
        # the periods are contiguous months and the timezone's midnights unambiguous, so "local
        # month in the periods" is exactly this range of instants (no per-row month filter)
        self.lo, self.hi = int(self.P["s"].min()), int(self.P["e"].max())
        self.rows: list[dict[str, Any]] = []
        self._tickets()
        self._surveys()
        self._customers()
        self._engagement()
        self._sessions()
        out = pd.DataFrame(self.rows, columns=["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"])
        return out.sort_values(["period", "kpi", "channel"], kind="stable").reset_index(drop=True)

    def _register_periods(self) -> None:
        self.con.register("periods_arrow", pa.Table.from_pandas(self.P, preserve_index=False))
        self.con.execute("CREATE OR REPLACE TEMP TABLE periods AS SELECT * FROM periods_arrow")

    def add(self, mon: int, channel: str, kpi: str, value: float, n: float,
            low: float = math.nan, high: float = math.nan) -> None:
        clean = [x if x is not None and math.isfinite(x) else math.nan for x in (value, n, low, high)]
        self.rows.append(dict(zip(["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"],
                                  [self.label[mon], channel, kpi, *clean])))

    def share(self, mon: int, channel: str, kpi: str, k: float, n: float) -> None:
        lo, hi = wilson_ci(float(k), float(n))
        self.add(mon, channel, kpi, 100 * k / n if n else math.nan, n, 100 * lo, 100 * hi)

    def mean(self, mon: int, channel: str, kpi: str, mean: float, sd: float, n: float) -> None:
        lo, hi = t_ci(mean, sd, n) if n else (math.nan, math.nan)
        self.add(mon, channel, kpi, mean if n else math.nan, n, lo, hi)

    def cells(self, frame: pd.DataFrame, groups: list[str]) -> dict[tuple[int, str], pd.Series]:
        """Rows of a GROUPING SETS result keyed by (mon, channel or ``all``); zeros where absent."""
        frame = frame.assign(channel=frame["channel"].astype(object).where(frame["channel"].notna(), ALL))
        zero = pd.Series(0.0, index=frame.columns.drop(["mon", "channel"]))
        found = {(int(r.mon), r.channel): r for r in frame.itertuples(index=False)}
        return {(m, g): pd.Series(found[(m, g)]._asdict()).drop(["mon", "channel"]) if (m, g) in found else zero
                for m in self.months for g in [*groups, ALL]}

    # ------------------------------------------------------------------ tickets
    def _tickets(self) -> None:
        A, G = self.A, self.G
        thresholds = self._thresholds()
        bh = """
            CASE WHEN NOT abandoned THEN b1.r + CASE WHEN b1.o THEN coalesce(fr, {A}) - b1.k * {G} ELSE 0 END
                 - b0.r - CASE WHEN b0.o THEN c - b0.k * {G} ELSE 0 END END AS frt_bh,
            CASE WHEN NOT abandoned THEN b2.r + CASE WHEN b2.o THEN coalesce(res, {A}) - b2.k * {G} ELSE 0 END
                 - b0.r - CASE WHEN b0.o THEN c - b0.k * {G} ELSE 0 END END AS ttr_bh""".format(A=A, G=G)
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE tk AS
            WITH t AS (
                SELECT channel, lmon(created_at) AS mon, created_at AS c,
                       CASE WHEN first_response_at <= {A} THEN first_response_at END AS fr,
                       CASE WHEN resolved_at <= {A} THEN resolved_at END AS res,
                       abandoned, contacts, reopened, handle_seconds AS h
                FROM tickets
                WHERE created_at >= {self.lo} AND created_at < {self.hi} AND created_at <= {A}
                  AND (customer_id IS NULL OR customer_id NOT IN (SELECT customer_id FROM spam)))
            SELECT t.*, {bh}
            FROM t
            JOIN clock b0 ON b0.k = c // {G}
            JOIN clock b1 ON b1.k = coalesce(fr, {A}) // {G}
            JOIN clock b2 ON b2.k = coalesce(res, {A}) // {G}
            """)
        thr = pa.table({"channel": list(thresholds), "thr": [h * HOUR_NS for h in thresholds.values()]})
        self.con.register("thr_arrow", thr)
        self.con.execute("CREATE OR REPLACE TEMP TABLE thr AS SELECT * FROM thr_arrow")
        na = "NOT abandoned"
        per = self.q(f"""
            SELECT mon, tk.channel,
                   count(*) AS tickets, count_if(abandoned) AS ab, count_if({na}) AS na,
                   count_if({na} AND res IS NULL) AS open, count_if({na} AND res IS NOT NULL) AS resolved,
                   count_if({na} AND res IS NOT NULL AND contacts = 1 AND reopened = 0) AS fcr,
                   count_if({na} AND res IS NOT NULL AND reopened > 0) AS reopen,
                   count_if({na} AND fr IS NOT NULL AND fr - c <= thr) AS sla_met,
                   count_if({na} AND ((fr IS NOT NULL AND fr - c > thr) OR (fr IS NULL AND {A} - c > thr))) AS sla_missed,
                   count(h) FILTER ({na}) AS aht_n, avg(h) FILTER ({na}) AS aht_mean,
                   stddev_samp(h) FILTER ({na}) AS aht_sd,
                   count(fr) FILTER ({na}) AS frt_n, avg(fr - c) FILTER ({na}) AS frt_mean,
                   quantile_cont(fr - c, 0.9) FILTER ({na}) AS frt_p90,
                   avg(frt_bh) FILTER ({na} AND fr IS NOT NULL) AS frt_bh_mean,
                   quantile_cont(frt_bh, 0.9) FILTER ({na} AND fr IS NOT NULL) AS frt_bh_p90,
                   count(res) FILTER ({na}) AS ttr_n, avg(res - c) FILTER ({na}) AS ttr_mean,
                   avg(ttr_bh) FILTER ({na} AND res IS NOT NULL) AS ttr_bh_mean
            FROM tk LEFT JOIN thr ON tk.channel = thr.channel
            GROUP BY GROUPING SETS ((mon, tk.channel), (mon))""")
        cells = self.cells(per, self.channels)
        backlog = self.cells(self.q(f"""
            SELECT p.mon, t.channel, count(*) AS backlog
            FROM (SELECT channel, created_at AS c, CASE WHEN resolved_at <= {A} THEN resolved_at END AS res
                  FROM tickets
                  WHERE NOT abandoned AND created_at < {self.hi} AND created_at <= {A}
                    AND (resolved_at IS NULL OR resolved_at > {int(self.P['tend'].min())})
                    AND (customer_id IS NULL OR customer_id NOT IN (SELECT customer_id FROM spam))) t
            JOIN periods p ON t.c < p.e AND (t.res IS NULL OR t.res > p.tend)
            GROUP BY GROUPING SETS ((p.mon, t.channel), (p.mon))"""), self.channels)
        h = HOUR_NS
        for (m, g), r in cells.items():
            self.add(m, g, "tickets", r.tickets, r.tickets)
            self.add(m, g, "open_pct", 100 * r.open / r.na if r.na else math.nan, r.na)
            self.share(m, g, "fcr_pct", r.fcr, r.resolved)
            self.share(m, g, "reopen_pct", r.reopen, r.resolved)
            self.share(m, g, "sla_frt_pct", r.sla_met, r.sla_met + r.sla_missed)
            self.share(m, g, "abandonment_pct", r.ab, r.tickets)
            self.mean(m, g, "aht_min", r.aht_mean / 60, r.aht_sd / 60, r.aht_n)
            self.add(m, g, "backlog_end", backlog[(m, g)].backlog, backlog[(m, g)].backlog)
            self.add(m, g, "frt_mean_h", r.frt_mean / h, r.frt_n)
            self.add(m, g, "frt_p90_h", r.frt_p90 / h, r.frt_n)
            self.add(m, g, "frt_bh_mean_h", r.frt_bh_mean / h, r.frt_n)
            self.add(m, g, "frt_bh_p90_h", r.frt_bh_p90 / h, r.frt_n)
            self.add(m, g, "ttr_mean_h", r.ttr_mean / h, r.ttr_n)
            self.add(m, g, "ttr_bh_mean_h", r.ttr_bh_mean / h, r.ttr_n)
            self.add(m, g, "cpi", math.nan, r.na)  # value filled in by _costs
        for m in self.months:
            for name, members in self.groups.items():
                k = sum(cells[(m, c)].ab for c in members)
                n = sum(cells[(m, c)].tickets for c in members)
                self.share(m, name, "abandonment_pct", k, n)
        self._costs(cells)
        for kpi, dur, ev in (("frt_median_h", f"coalesce(fr, {A}) - c", "fr IS NOT NULL"),
                             ("ttr_median_h", f"coalesce(res, {A}) - c", "res IS NOT NULL"),
                             ("frt_bh_median_h", "frt_bh", "fr IS NOT NULL"),
                             ("ttr_bh_median_h", "ttr_bh", "res IS NOT NULL")):
            self._km(kpi, dur, ev)

    def _thresholds(self) -> dict[str, float]:
        t = self.q("SELECT kpi, target, channel FROM targets WHERE kpi = 'frt_h'")
        default = t.loc[t["channel"].isna(), "target"]
        own = dict(zip(t.loc[t["channel"].notna(), "channel"], t.loc[t["channel"].notna(), "target"]))
        return {c: float(own[c]) if c in own else float(default.iloc[0])
                for c in self.channels if c in own or len(default)}

    def _km(self, kpi: str, dur: str, ev: str) -> None:
        c = self.con.execute(f"""
            SELECT mon, channel, {dur} AS dur, count_if({ev}) AS d, count_if(NOT ({ev})) AS z
            FROM tk WHERE NOT abandoned GROUP BY ALL""").fetchnumpy()
        code = np.searchsorted(self.channels, np.asarray(c["channel"], dtype=object))
        key = np.asarray(c["mon"], dtype=np.int64) * len(self.channels) + code
        order = np.argsort(key, kind="stable")
        key, hours = key[order], c["dur"][order].astype(np.float64) / HOUR_NS
        d, z = c["d"][order].astype(np.int64), c["z"][order].astype(np.int64)

        def median(lo: int, hi: int) -> tuple[Any, float]:
            t = np.concatenate([hours[lo:hi], hours[lo:hi]])
            w = np.concatenate([d[lo:hi], z[lo:hi]])
            e = np.repeat([True, False], hi - lo)
            return km_median(t[w > 0], e[w > 0], w[w > 0]), float(w.sum())

        k = len(self.channels)
        for m in self.months:
            for i, g in enumerate([*self.channels, ALL]):
                lo, hi = ((np.searchsorted(key, m * k), np.searchsorted(key, m * k + k)) if g == ALL else
                          (np.searchsorted(key, m * k + i), np.searchsorted(key, m * k + i + 1)))
                if hi == lo:
                    self.add(m, g, kpi, math.nan, 0)
                    continue
                med, n = median(lo, hi)
                self.add(m, g, kpi, med.median, n, med.low, med.high)

    def _costs(self, cells: dict) -> None:
        costs = self.q("SELECT period, channel, cost FROM costs")
        rows = {(r["period"], r["channel"]): i for i, r in enumerate(self.rows) if r["kpi"] == "cpi"}
        for m in self.months:
            label = self.label[m]
            mine = costs[costs["period"] == label]
            for g in [*self.channels, ALL]:
                na = cells[(m, g)].na
                cost = math.fsum(mine["cost"]) if g == ALL and len(mine) else (
                    float(mine.loc[mine["channel"] == g, "cost"].sum()) if (mine["channel"] == g).any() else math.nan)
                self.rows[rows[(label, g)]]["value"] = cost / na if na else math.nan

    # ------------------------------------------------------------------ surveys
    def _surveys(self) -> None:
        A = self.A
        counts = self.q(f"""
            WITH s AS (
                SELECT s.channel, s.ticket_id, s.survey, s.score, lmon(s.responded_at) AS mon
                FROM surveys s
                WHERE s.responded_at >= {self.lo} AND s.responded_at < {self.hi} AND s.responded_at <= {A}
                  AND (s.customer_id IS NULL OR s.customer_id NOT IN (SELECT customer_id FROM spam))
                  AND (s.ticket_id IS NULL OR s.ticket_id NOT IN (
                       SELECT ticket_id FROM tickets WHERE customer_id IN (SELECT customer_id FROM spam))))
            SELECT mon, coalesce(s.channel, t.channel) AS channel, survey, score, count(*) AS n,
                   grouping(coalesce(s.channel, t.channel)) = 1 AS is_all
            FROM s LEFT JOIN (SELECT ticket_id, channel FROM tickets
                              WHERE ticket_id IN (SELECT ticket_id FROM s WHERE channel IS NULL)) t
                 ON s.ticket_id = t.ticket_id
            GROUP BY GROUPING SETS ((mon, coalesce(s.channel, t.channel), survey, score), (mon, survey, score))""")
        # the second grouping set is "all"; a survey without a channel counts in "all" only
        counts["grp"] = np.where(counts["is_all"], ALL, counts["channel"].astype(object))
        scales = self.cfg.scales
        for m in self.months:
            for g in [*self.channels, ALL]:
                part = counts[(counts["mon"] == m) & (counts["grp"] == g)]
                for survey in ("csat", "nps", "ces"):
                    s = part[part["survey"] == survey]
                    x, w = s["score"].to_numpy(np.float64), s["n"].to_numpy(np.float64)
                    n = w.sum()
                    top = scales[survey][1]
                    mean = float((x * w).sum() / n) if n else math.nan
                    sd = float(math.sqrt(((x - mean) ** 2 * w).sum() / (n - 1))) if n > 1 else math.nan
                    if survey == "csat":
                        self.share(m, g, "csat_pct", w[x >= top - 1].sum(), n)
                        self.mean(m, g, "csat_mean", mean, sd, n)
                    elif survey == "ces":
                        self.share(m, g, "ces_easy_pct", w[x >= top - 2].sum(), n)
                        self.mean(m, g, "ces_mean", mean, sd, n)
                    else:
                        d, p = w[x <= top - 4].sum(), w[x >= top - 1].sum()
                        res = nps_ci(d, n - d - p, p)
                        self.add(m, g, "nps", float(res.nps) if n else math.nan, n, float(res.low), float(res.high))

    # ------------------------------------------------------------------ customers
    def _customers(self) -> None:
        A = self.A
        se = self.q(f"""
            SELECT p.mon,
                   count_if(signup_at <= p.s AND (churn IS NULL OR churn > p.s)) AS S,
                   count_if(signup_at <= p.tend AND (churn IS NULL OR churn > p.tend)) AS E,
                   count_if(signup_at <= p.s AND (churn IS NULL OR churn > p.tend)) AS both_
            FROM (SELECT signup_at, CASE WHEN churned_at <= {A} THEN churned_at END AS churn
                  FROM customers WHERE NOT is_spam) c, periods p
            GROUP BY p.mon""").set_index("mon").reindex(self.months, fill_value=0)
        tickets = {(r["period"], r["channel"]): r["value"] for r in self.rows if r["kpi"] == "tickets"}
        asof_day = int(np.datetime64(self.as_of.tz_localize(None), "D").view("i8"))
        for m in self.months:
            S, E, both = (int(se.loc[m, c]) for c in ("S", "E", "both_"))
            lo, hi = wilson_ci(float(both), float(S))
            self.add(m, ALL, "crr_pct", 100 * both / S if S else math.nan, S, 100 * lo, 100 * hi)
            self.add(m, ALL, "churn_pct", 100 - 100 * both / S if S else math.nan, S, 100 - 100 * hi, 100 - 100 * lo)
            avg = (S + E) / 2
            for g in [*self.channels, ALL]:
                self.add(m, g, "tickets_per_customer", tickets[(self.label[m], g)] / avg if avg else math.nan, avg)
        dn = self.q(f"""
            WITH c AS (SELECT customer_id, signup_at, lday(signup_at) AS sd, lmon(signup_at) AS mon
                       FROM customers
                       WHERE NOT is_spam AND signup_at <= {A} AND signup_at >= {self.lo} AND signup_at < {self.hi}),
                 c2 AS (SELECT * FROM c),
                 a AS (SELECT DISTINCT c2.customer_id, c2.mon, lday(a.ts) - c2.sd AS k
                       FROM activity a JOIN c2 ON a.customer_id = c2.customer_id
                       WHERE a.ts <= {A} AND a.ts >= {self.lo} AND lday(a.ts) - c2.sd IN (1, 7, 30))
            SELECT mon, 'e' AS what, count_if(sd + 1 <= {asof_day}) AS n1, count_if(sd + 7 <= {asof_day}) AS n7,
                   count_if(sd + 30 <= {asof_day}) AS n30 FROM c2 GROUP BY mon
            UNION ALL
            SELECT mon, 'a', count_if(k = 1), count_if(k = 7), count_if(k = 30) FROM a GROUP BY mon""")
        act = self.q(f"""
            WITH c AS (SELECT customer_id, signup_at, lmon(signup_at) AS mon FROM customers
                       WHERE NOT is_spam AND signup_at >= {self.lo} AND signup_at < {self.hi}
                         AND signup_at + {168 * HOUR_NS} <= {A}),
                 c2 AS (SELECT * FROM c)
            SELECT mon, count(*) AS eligible,
                   count_if(EXISTS (SELECT 1 FROM activity a WHERE a.customer_id = c2.customer_id
                        AND a.event = '{self.cfg.activation_event}' AND a.ts >= c2.signup_at
                        AND a.ts <= c2.signup_at + {168 * HOUR_NS} AND a.ts <= {A})) AS activated
            FROM c2 GROUP BY mon""").set_index("mon").reindex(self.months, fill_value=0)
        for m in self.months:
            e = dn[(dn["mon"] == m) & (dn["what"] == "e")]
            a = dn[(dn["mon"] == m) & (dn["what"] == "a")]
            for n in (1, 7, 30):
                self.share(m, ALL, f"d{n}_pct", float(a[f"n{n}"].sum()), float(e[f"n{n}"].sum()))
            self.share(m, ALL, "activation_pct", float(act.loc[m, "activated"]), float(act.loc[m, "eligible"]))

    # ------------------------------------------------------------------ engagement and sessions
    def _engagement(self) -> None:
        A = self.A
        first = int(self.P["d0"].min()) - 6
        last = int(self.P["d1"].max())
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE cd AS
            SELECT DISTINCT customer_id, lday(ts) AS d FROM activity
            WHERE ts <= {A} AND ts >= {self.lo - 8 * DAY_NS}
              AND customer_id NOT IN (SELECT customer_id FROM spam)""")
        daily = self.q(f"""
            SELECT p.mon, count(DISTINCT customer_id) AS mau, count(*) AS dau_sum
            FROM cd JOIN periods p ON cd.d BETWEEN p.d0 AND p.d1 GROUP BY p.mon""").set_index("mon")
        weekly = self.q(f"""
            WITH w AS (SELECT d AS s, least(d + 6, coalesce(lead(d) OVER (PARTITION BY customer_id ORDER BY d),
                                                             {2**40}) - 1) AS e
                       FROM cd WHERE d >= {first} AND d <= {last})
            SELECT p.mon, sum(least(w.e, p.d1) - greatest(w.s, p.d0) + 1) AS wau_sum
            FROM w JOIN periods p ON w.s <= p.d1 AND w.e >= p.d0 GROUP BY p.mon""").set_index("mon")
        for m in self.months:
            days = float(self.P.set_index("mon").loc[m, "d1"] - self.P.set_index("mon").loc[m, "d0"] + 1)
            mau = float(daily["mau"].get(m, 0))
            dau = float(daily["dau_sum"].get(m, 0)) / days
            self.add(m, ALL, "mau", mau, mau)
            self.add(m, ALL, "dau_mean", dau, days)
            self.add(m, ALL, "wau_mean", float(weekly["wau_sum"].get(m, 0)) / days, days)
            self.add(m, ALL, "stickiness_pct", 100 * dau / mau if mau else math.nan, mau)

    def _sessions(self) -> None:
        A, G = self.A, self.G
        follow = 72 * HOUR_NS
        s = self.q(f"""
            WITH s AS (SELECT lmon(started_at) AS mon, started_at, customer_id, converted, self_service,
                              chat_available, b.o AS in_bh
                       FROM sessions JOIN clock b ON b.k = started_at // {G}
                       WHERE started_at >= {self.lo} AND started_at < {self.hi} AND started_at <= {A}
                         AND (customer_id IS NULL OR customer_id NOT IN (SELECT customer_id FROM spam)))
            SELECT mon, count(*) AS n, count_if(converted) AS conv, count_if(chat_available) AS chat,
                   count_if(in_bh) AS bh,
                   count_if(self_service AND customer_id IS NOT NULL AND started_at + {follow} <= {A}) AS elig
            FROM s GROUP BY mon""").set_index("mon")
        followed = self.q(f"""
            WITH s AS (SELECT lmon(started_at) AS mon, started_at, customer_id FROM sessions
                       WHERE started_at >= {self.lo} AND started_at < {self.hi} AND self_service
                         AND customer_id IS NOT NULL AND started_at + {follow} <= {A}
                         AND customer_id NOT IN (SELECT customer_id FROM spam))
            SELECT mon, count(*) AS followed FROM s
            WHERE EXISTS (
                SELECT 1 FROM tickets t WHERE t.customer_id = s.customer_id
                  AND t.created_at >= s.started_at AND t.created_at <= s.started_at + {follow})
            GROUP BY mon""").set_index("mon")
        for m in self.months:
            r = s.loc[m] if m in s.index else pd.Series(0, index=s.columns)
            self.share(m, ALL, "conversion_pct", float(r["conv"]), float(r["n"]))
            self.share(m, ALL, "presence_pct", float(r["chat"]), float(r["n"]))
            self.share(m, ALL, "coverage_pct", float(r["bh"]), float(r["n"]))
            elig = float(r["elig"])
            self.share(m, ALL, "self_service_pct", elig - float(followed["followed"].get(m, 0)), elig)
