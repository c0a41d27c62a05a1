"""kpitools.stats.survival.km_quantiles: every group's Kaplan–Meier quantiles in one pass.

The grouped pass is the one home of the curve and quantile rules (km_curve, km_median and
km_quantile are it for one group), so the checks here are that each group's numbers are bit for
bit those of the one-group functions on its rows alone, whatever the groups look like: ties,
censoring, zero weights, single rows, groups without rows, rows in any order.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitools.stats import km_curve, km_median
from kpitools.stats.survival import (
    KM_COLUMNS,
    _accumulate,
    _km_groups,
    _prepare,
    km_quantile,
    km_quantiles,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same(a, b) -> bool:
    """Equal to the bit, NaN equal to NaN."""
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


@st.composite
def grouped_survival(draw, max_rows=80, max_groups=6):
    """Rows (time, event, weight, group) with many ties; some groups get no rows at all."""
    n_groups = draw(st.integers(1, max_groups))
    scale = draw(st.sampled_from([1.0, 7.0, 0.001]))  # integer times, fractions, tiny steps
    rows = draw(st.lists(st.tuples(st.integers(0, 25), st.booleans(), st.integers(0, 4),
                                   st.integers(0, n_groups - 1)), max_size=max_rows))
    t, e, w, g = (np.array(x) for x in zip(*rows)) if rows else (np.zeros(0), np.zeros(0, bool),
                                                                 np.zeros(0, int), np.zeros(0, int))
    return t.astype(float) / scale, e.astype(bool), w.astype(np.int64), g.astype(np.int64), n_groups


@SETTINGS
@given(grouped_survival(), st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 0.99]), min_size=1,
                                    max_size=3, unique=True), st.sampled_from([0.8, 0.95, 0.99]))
def test_each_group_is_km_quantile_of_its_rows(data, qs, conf):
    t, e, w, g, n_groups = data
    groups = pd.Categorical.from_codes(g, categories=[f"g{i}" for i in range(n_groups)])
    res = km_quantiles(t, e, groups, w, q=qs, conf=conf)
    assert list(res.index) == list(groups.categories)  # groups without rows keep their row
    for code, name in enumerate(groups.categories):
        rows = g == code
        for q in qs:
            alone = km_quantile(t[rows], e[rows], w[rows], q, conf)
            assert same(tuple(res.loc[name, q]), alone), (name, q, tuple(res.loc[name, q]), alone)


@SETTINGS
@given(grouped_survival())
def test_each_group_curve_is_km_curve_of_its_rows(data):
    t, e, w, g, n_groups = data
    tt, ee, ww, gg = _prepare(t, e, w, pd.Categorical.from_codes(g, categories=range(n_groups)))
    curve, bounds = _km_groups(tt, ee, ww, np.asarray(gg.codes, dtype=np.intp), n_groups, 0.95)
    for code in range(n_groups):
        rows = g == code
        alone = km_curve(t[rows], e[rows], w[rows])
        part = slice(bounds[code], bounds[code + 1])
        for col in KM_COLUMNS:
            np.testing.assert_array_equal(curve[col][part], alone[col].to_numpy(float), err_msg=col, strict=False)


@SETTINGS
@given(st.lists(st.integers(0, 40), min_size=1, max_size=30), st.integers(0, 2**32 - 1), st.booleans())
def test_segmented_accumulate_is_one_accumulate_per_segment(lengths, seed, reverse):
    rng = np.random.default_rng(seed)
    x = rng.random(sum(lengths)) * rng.choice([1e-3, 1.0, 1e6])
    starts = np.cumsum([0, *lengths[:-1]])
    for ufunc in (np.add, np.multiply):
        got = _accumulate(ufunc, x, starts, reverse=reverse)
        for a, n in zip(starts, lengths):
            part = x[a:a + n]
            want = ufunc.accumulate(part[::-1])[::-1] if reverse else ufunc.accumulate(part)
            assert np.array_equal(got[a:a + n], want)  # bit for bit, not approximately


def test_rows_in_any_order_give_the_same_answer():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 50, 3000) / 4
    e = rng.random(3000) < 0.7
    w = rng.integers(1, 4, 3000)
    g = rng.integers(0, 200, 3000)
    order = np.lexsort((t, g))
    shuffled = km_quantiles(t, e, g, w, q=[0.5, 0.9])
    in_order = km_quantiles(t[order], e[order], g[order], w[order], q=[0.5, 0.9])
    pd.testing.assert_frame_equal(shuffled, in_order, check_exact=True)


def test_published_medians_per_group():
    # Gehan (1965): 6-MP median 23 [16, not reached], placebo 8 [4, 12], as km_median gives each
    mp = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    mp_event = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    placebo = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
    res = km_quantiles(mp + placebo, mp_event + [1] * 21, ["6-MP"] * 21 + ["placebo"] * 21)
    assert tuple(res.loc["6-MP", 0.5]) == (23.0, 16.0, math.inf) == tuple(km_median(mp, mp_event))
    assert tuple(res.loc["placebo", 0.5]) == (8.0, 4.0, 12.0)


def test_bad_input():
    with pytest.raises(ValueError, match="q must be"):
        km_quantiles([1, 2], [1, 1], ["a", "b"], q=[0.5, 1.0])
    with pytest.raises(ValueError, match="missing"):
        km_quantiles([1, 2], [1, 1], ["a", None])
    with pytest.raises(ValueError, match="same length"):
        km_quantiles([1, 2], [1, 1], ["a"])
    empty = km_quantiles([], [], pd.Categorical([], categories=["a"]))
    assert empty.index.tolist() == ["a"] and empty.isna().all().all()


def test_ten_thousand_groups_in_one_pass():
    # 10,000 groups of ~20 rows: one vectorised pass, not 10,000 curves (≈ 0.1 s; a loop took ≈ 3 s)
    import time

    rng = np.random.default_rng(0)
    n = 200_000
    g = np.sort(rng.integers(0, 10_000, n))
    t = rng.exponential(5, n).round(2)
    e = rng.random(n) < 0.8
    w = rng.integers(1, 5, n)
    start = time.perf_counter()
    res = km_quantiles(t, e, g, w, q=[0.5, 0.9])
    assert time.perf_counter() - start < 3
    assert len(res) == 10_000
    rows = g == 1234
    assert same(tuple(res.loc[1234, 0.9]), km_quantile(t[rows], e[rows], w[rows], 0.9))
