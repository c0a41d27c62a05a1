"""kpitools.stats.nps: NPS intervals (Rocks 2016 adjusted Wald, Wald) and the two-sample z-test."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from kpitools.stats import nps_ci, nps_diff


def test_known_example_both_methods():
    # D = 50, P = 50, R = 100 (n = 200): NPS 25. Wald: var = 0.5 + 0.25 − 0.25² = 0.6875,
    # half = 1.959964·sqrt(0.6875/200) = 0.114913 -> [13.51, 36.49].
    # Adjusted: 50.75, 51.5, 100.75 of 203: centre = 50/203 = 0.24630542,
    # var = 151.5/203 − centre² = 0.68563905, half = 1.959964·sqrt(var/203) = 0.11390633
    # -> [13.24, 36.02] (centred on the adjusted NPS; the point stays 25).
    wald = nps_ci(50, 50, 100, method="wald")
    adjusted = nps_ci(50, 50, 100)
    assert wald.nps == adjusted.nps == 25.0
    assert (wald.low, wald.high) == pytest.approx((25 - 11.4913, 25 + 11.4913), abs=1e-4)
    assert (round(wald.low, 2), round(wald.high, 2)) == (13.51, 36.49)
    assert (adjusted.low, adjusted.high) == pytest.approx((24.630542 - 11.390633, 24.630542 + 11.390633), abs=1e-5)
    assert (round(adjusted.low, 2), round(adjusted.high, 2)) == (13.24, 36.02)
    assert type(adjusted.low) is float


def test_clipped_to_the_scale():
    # 100 promoters: adjusted centre = (100.75 − 0.75)/103 = 0.970874, var = 0.042840,
    # half = 0.039974 -> upper 101.08 clipped to 100; lower 93.09.
    res = nps_ci(0, 0, 100)
    assert res.nps == 100.0 and res.high == 100.0
    assert res.low == pytest.approx(100 * (0.970874 - 0.039974), abs=1e-3)
    assert nps_ci(100, 0, 0, method="wald") == (-100.0, -100.0, -100.0)  # unanimous: no spread


def test_vectorised_and_empty():
    d, p, r = np.array([50, 0, 10, 3]), np.array([50, 0, 0, 4]), np.array([100, 0, 5, 9])
    res = nps_ci(d, p, r)
    for i in (0, 2, 3):
        single = nps_ci(int(d[i]), int(p[i]), int(r[i]))
        assert (res.nps[i], res.low[i], res.high[i]) == pytest.approx(tuple(single))
    assert all(math.isnan(v[1]) for v in res)  # no responses
    np.testing.assert_array_equal(d, [50, 0, 10, 3])  # inputs untouched


def test_confidence_level_and_bad_input():
    narrow = nps_ci(50, 50, 100, method="wald", conf=0.8)
    # z(0.9) = 1.281552: half = 1.281552·sqrt(0.6875/200)·100 = 7.5137
    assert narrow.high - narrow.nps == pytest.approx(7.5137, abs=1e-4)
    with pytest.raises(ValueError):
        nps_ci(1, 2, 3, method="exact")
    with pytest.raises(ValueError):
        nps_ci(-1, 2, 3)


def test_scales_to_1e5_entries():
    d, p, r = np.random.default_rng(1).integers(0, 200, (3, 100_000))
    start = time.perf_counter()
    nps_ci(d, p, r)
    assert time.perf_counter() - start < 0.25


def test_nps_diff_by_hand():
    # a = (50, 50, 100): NPS 0.25, var 0.6875, n 200; b = (80, 60, 60): NPS −0.1,
    # var = 0.3 + 0.4 − 0.01 = 0.69, n 200. se = sqrt(0.6875/200 + 0.69/200) = 0.0829910;
    # z = 0.35 / 0.0829910 = 4.21733; p = 2·Φ(−4.21733) = 2.4722e-5.
    res = nps_diff((50, 50, 100), (80, 60, 60))
    assert res.diff == pytest.approx(35.0)
    assert res.se == pytest.approx(8.29910, abs=1e-5)
    assert res.z == pytest.approx(4.21733, abs=1e-5)
    assert res.p == pytest.approx(2.4722e-5, rel=1e-4)
    assert (res.low, res.high) == pytest.approx((35 - 1.959964 * 8.29910, 35 + 1.959964 * 8.29910), abs=1e-4)


def test_nps_diff_is_antisymmetric_and_vectorised():
    ab = nps_diff((np.array([5, 20]), np.array([10, 30]), np.array([25, 40])), (12, 10, 18))
    ba = nps_diff((12, 10, 18), (np.array([5, 20]), np.array([10, 30]), np.array([25, 40])))
    np.testing.assert_allclose(ab.diff, -ba.diff)
    np.testing.assert_allclose(ab.p, ba.p)
    one = nps_diff((20, 30, 40), (12, 10, 18))
    assert (ab.diff[1], ab.se[1], ab.p[1]) == pytest.approx((one.diff, one.se, one.p))


def test_nps_diff_degenerate_samples():
    same = nps_diff((0, 0, 10), (0, 0, 30))          # both all promoters: nothing differs
    assert (same.diff, same.z, same.p) == (0.0, 0.0, 1.0)
    apart = nps_diff((0, 0, 10), (30, 0, 0))         # unanimous and opposite
    assert apart.diff == 200.0 and apart.z == math.inf and apart.p == 0.0
    empty = nps_diff((0, 0, 0), (1, 2, 3))
    assert math.isnan(empty.diff) and math.isnan(empty.p)
