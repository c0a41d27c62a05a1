"""kpitools.stats.power: minimum detectable difference of two proportions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower

from kpitools.stats import min_detectable_difference


def test_by_hand():
    # z(0.975) + z(0.8) = 1.959964 + 0.841621 = 2.801585; sqrt(0.25 · 2 / 400) = 0.0353553
    assert min_detectable_difference(0.5, 400) == pytest.approx(2.801585 * 0.0353553, abs=1e-6)
    # unequal groups: sqrt(0.25 · (1/400 + 1/100)) = 0.0559017
    assert min_detectable_difference(0.5, 400, n2=100) == pytest.approx(2.801585 * 0.0559017, abs=1e-6)


@pytest.mark.parametrize("p, n, n2", [(0.3, 250, None), (0.8, 1000, 300), (0.05, 5000, None)])
def test_the_difference_has_the_requested_power(p, n, n2):
    delta = min_detectable_difference(p, n, n2=n2)
    effect = delta / math.sqrt(p * (1 - p))
    power = NormalIndPower().power(effect, nobs1=n, alpha=0.05, ratio=(n2 or n) / n)
    # two-sided power adds the far tail's probability (tiny here) to 0.8
    assert power == pytest.approx(0.8, abs=1e-4)


def test_vectorised_and_edges():
    out = min_detectable_difference(np.array([0.5, 0.5, 0.0]), np.array([400, 0, 50]))
    assert out[0] == pytest.approx(min_detectable_difference(0.5, 400))
    assert np.isnan(out[1]) and out[2] == 0.0
    assert min_detectable_difference(0.5, 400, power=0.9) > min_detectable_difference(0.5, 400)
    with pytest.raises(ValueError):
        min_detectable_difference(1.5, 100)
    with pytest.raises(ValueError):
        min_detectable_difference(0.5, 100, alpha=0)
