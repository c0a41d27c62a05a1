"""kpitools.stats.means: the t interval and Welch's difference of means."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from kpitools.stats import t_ci, welch_diff


def test_t_ci_by_hand():
    # t(0.975, 24 df) = 2.063899; half width = 2.063899 · 1.1 / sqrt(25) = 0.454058
    low, high = t_ci(4.2, 1.1, 25)
    assert (low, high) == pytest.approx((4.2 - 0.454058, 4.2 + 0.454058), abs=1e-6)
    assert type(low) is float


def test_t_ci_edges():
    low, high = t_ci(np.array([3.0, 3.0, 3.0, 2.0]), np.array([1.0, 0.0, 0.0, 1.0]),
                     np.array([1, 1, 10, 0]))
    assert np.isnan(low[0]) and np.isnan(high[0])  # n = 1: no interval
    assert np.isnan(low[1]) and np.isnan(high[1])  # n = 1 even with sd = 0
    assert (low[2], high[2]) == (3.0, 3.0)         # sd = 0: [mean, mean]
    assert np.isnan(low[3])                         # n = 0


def test_t_ci_vectorised_matches_scipy():
    rng = np.random.default_rng(11)
    mean, sd, n = rng.normal(size=300), rng.uniform(0.1, 3, 300), rng.integers(2, 200, 300)
    low, high = t_ci(mean, sd, n, conf=0.9)
    ref_low, ref_high = stats.t.interval(0.9, n - 1, loc=mean, scale=sd / np.sqrt(n))
    # scipy takes the lower limit from ppf(0.05), not −ppf(0.95): equal to ~1e-11
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-9)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-9)


def test_t_ci_scales_to_1e5_entries():
    n = np.arange(100_000) % 2000 + 2  # the t quantile is evaluated once per distinct n
    start = time.perf_counter()
    t_ci(np.ones(100_000), np.ones(100_000), n)
    assert time.perf_counter() - start < 0.25


def test_welch_matches_scipy_on_raw_samples():
    rng = np.random.default_rng(5)
    a, b = rng.normal(4.2, 1.1, 25), rng.normal(3.8, 1.9, 40)
    res = welch_diff(a.mean(), a.std(ddof=1), 25, b.mean(), b.std(ddof=1), 40)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (res.t, res.p, res.df) == pytest.approx((ref.statistic, ref.pvalue, ref.df), rel=1e-10)
    assert (res.low, res.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert res.diff == pytest.approx(a.mean() - b.mean())


def test_welch_edges():
    res = welch_diff(np.array([5.0, 5.0]), np.array([0.0, 1.0]), np.array([10, 1]), 4.0, 0.0, 10)
    assert res.diff[0] == 1.0 and res.low[0] == res.high[0] == 1.0  # both sd 0: no spread
    assert np.isnan(res.t[0]) and np.isnan(res.p[0])                  # ... and no test
    assert np.isnan(res.diff[1]) and np.isnan(res.p[1])               # n = 1
