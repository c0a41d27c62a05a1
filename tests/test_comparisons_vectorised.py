"""The comparisons' per-group work done for every group at once gives each group's numbers to the
bit: samples (against make_sample's rule stated for one group) and the Laney signals of changes
(against one chart per group)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools.comparisons.change import laney_chart, laney_signals
from kpitools.comparisons.observations import Observations, Sample, samples
from kpitools.engine.tidy import weighted_moments
from kpitools.stats import km_median, laney_p_prime, nps_ci, t_ci, wilson_ci

GROUPS = ["chat", "email", "phone", "all"]
SCALES = {"nps": (0, 10), "score": (1, 5)}


def one_group(obs: Observations, rows: pd.DataFrame) -> Sample:
    """The sample rule for one group's rows, stated on its own (the estimates kpitools.kpis writes)."""
    kind, nan = obs.kind, math.nan
    finite = lambda x: float(x) if math.isfinite(x) else nan  # noqa: E731
    if kind == "share":
        k, n = float(rows["successes"].sum()), float(rows["n"].sum())
        if n == 0:
            return Sample(kind, 0.0, nan, nan, nan, successes=0.0)
        low, high = wilson_ci(k, n)
        return Sample(kind, n, 100 * k / n, 100 * low, 100 * high, successes=k)
    if kind == "time":
        values, events = rows["hours"].to_numpy(float), rows["event"].to_numpy(bool)
        weights = rows["count"].to_numpy(np.int64)
        n = float(weights.sum())
        if n == 0:
            return Sample(kind, 0.0, nan, nan, nan, n_events=0.0)
        med = km_median(values, events, weights)
        return Sample(kind, n, finite(med.median), finite(med.low), finite(med.high), values=values, weights=weights,
                      events=events, n_events=float(weights[events].sum()), median=med.median)
    column = "handle_seconds" if kind == "mean" else "score"
    values, weights = rows[column].to_numpy(float), rows["count"].to_numpy(np.int64)
    mean, sd, n = weighted_moments(values, weights)
    if kind == "mean":
        mean, sd, values = mean / 60, sd / 60, values / 60
    if kind == "nps":
        top = obs.scale[1]
        d, r = float(weights[values <= top - 4].sum()), float(weights[values >= top - 1].sum())
        counts = (d, float(weights.sum()) - d - r, r)
        return Sample(kind, float(n), *nps_ci(*counts), nps_counts=counts, values=values, weights=weights)
    low, high = t_ci(mean, sd, n)
    return Sample(kind, float(n), mean, low, high, values=values, weights=weights, mean=mean, sd=sd)


def same(x: object, y: object) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype == np.asarray(y).dtype and np.array_equal(x, y)
    if isinstance(x, tuple):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y))
    return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))


def rows_of(kind: str, draw_rows: list[tuple]) -> pd.DataFrame:
    columns = {"share": ["successes", "n"], "time": ["hours", "event", "count"], "mean": ["handle_seconds", "count"],
               "nps": ["score", "count"], "score": ["score", "count"]}[kind]
    out = []
    for period, group, a, b, c in draw_rows:
        if kind == "share":
            values = (min(a, b), b)
        elif kind == "time":
            values = (a / 4, c % 2 == 0, b)
        elif kind == "mean":
            values = (float(a * 37), b)
        else:
            low, high = SCALES[kind]
            values = (low + a % (high - low + 1), b)
        out.append((period, group, *values))
    frame = pd.DataFrame(out, columns=["period", "group", *columns])
    if kind == "share":  # one row per period and group, as gather gives shares
        frame = frame.drop_duplicates(["period", "group"])
    return frame.reset_index(drop=True)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["share", "time", "mean", "nps", "score"]),
       st.lists(st.tuples(st.sampled_from(["2026-09", "2026-10"]), st.sampled_from(GROUPS[:3] + ["other"]),
                          st.integers(0, 40), st.integers(0, 6), st.integers(0, 3)), max_size=40),
       st.lists(st.sampled_from(GROUPS + ["other"]), min_size=1, max_size=5, unique=True))
def test_samples_equal_the_rule_per_group(kind, drawn, groups):
    data = rows_of(kind, drawn)
    obs = Observations("kpi", kind, data, GROUPS[:3], SCALES.get(kind))
    got = samples(obs, "2026-10", groups)
    assert list(got) == groups
    part = data[data["period"] == "2026-10"]
    for g in groups:
        expected = one_group(obs, part[part["group"] == g])
        for field in Sample.__dataclass_fields__:
            assert same(getattr(got[g], field), getattr(expected, field)), (g, field)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 14), st.sampled_from(GROUPS), st.integers(0, 60), st.integers(0, 60)),
                max_size=60),
       st.sets(st.integers(0, 14), max_size=4), st.integers(1, 14))
def test_laney_signals_equal_one_chart_per_group(drawn, uncovered_back, history):
    months = [f"2025-{m:02d}" for m in range(8, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]  # ends 2026-10
    rows = pd.DataFrame([(months[-1 - back], g, min(a, b), b) for back, g, a, b in drawn],
                        columns=["period", "group", "successes", "n"]).drop_duplicates(["period", "group"])
    obs = Observations("csat_pct", "share", rows.reset_index(drop=True), GROUPS[:3])
    uncovered = {months[-1 - b] for b in uncovered_back}
    got = laney_signals(obs, "2026-10", GROUPS, history, uncovered)
    labels = [m for m in months[-1 - history:] if m not in uncovered]
    for g in GROUPS:  # the chart of one group, as laney_chart draws it
        own = obs.data[obs.data["group"] == g].set_index("period")
        k = own["successes"].reindex(labels, fill_value=0).to_numpy(float)
        n = own["n"].reindex(labels, fill_value=0).to_numpy(float)
        start = int(np.argmax(n > 0)) if (n > 0).any() else len(n)
        chart = laney_p_prime(k[start:], n[start:], labels[start:], baseline=max(len(labels) - start - 1, 0))
        if g == "chat":
            pd.testing.assert_frame_equal(laney_chart(obs, "2026-10", g, history, uncovered).iloc[:, 2:], chart)
        at = chart[chart["period"] == "2026-10"]
        judged = len(at) and at["n"].iloc[0] > 0 and pd.notna(at["ucl"].iloc[0])
        assert got[g] is (bool(at["signal"].iloc[0]) if judged else None)
