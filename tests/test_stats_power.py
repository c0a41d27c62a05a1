"""kpitools.stats.power: R's power.prop.test equation, solved for the second proportion."""

from __future__ import annotations

import numpy as np
import pytest

from kpitools.stats import min_detectable_difference
from kpitools.stats.power import prop_test_power


@pytest.mark.parametrize("n, power", [(50, 0.7401659), (76.7069, 0.9)])
def test_r_power_prop_test_known_answers(n, power):
    # R: power.prop.test(n = 50, p1 = 0.5, p2 = 0.75)$power = 0.7401659 and
    #    power.prop.test(p1 = 0.5, p2 = 0.75, power = 0.9)$n = 76.7069 (R's own examples):
    #    power.prop.test(n = n, p1 = 0.5, power = power)$p2 = 0.75, so the MDD is 0.25
    assert min_detectable_difference(0.5, n, power=power) == pytest.approx(0.25, abs=1e-5)
    assert prop_test_power(0.5, 0.75, n) == pytest.approx(power, abs=1e-6)


def test_the_old_common_variance_approximation_overstated_power():
    # (z(0.975) + z(power)) * sqrt(0.25 * 2 / 50) = 0.2604 (issue #13) against R's 0.25
    assert min_detectable_difference(0.5, 50, power=0.7401659) < 0.2501


def test_the_level_actually_used_widens_it():
    at_5 = min_detectable_difference(0.3, 400)
    at_holm = min_detectable_difference(0.3, 400, alpha=0.05 / 10)
    assert at_holm > at_5
    assert prop_test_power(0.3, 0.3 + at_holm, 400, alpha=0.005) == pytest.approx(0.8, abs=1e-9)


def test_unequal_groups_use_the_weighted_pooled_proportion():
    delta = min_detectable_difference(0.4, 400, n2=100)
    p2 = 0.4 + delta
    pbar = (400 * 0.4 + 100 * p2) / 500
    z = (delta - 1.959963984540054 * np.sqrt(pbar * (1 - pbar) * (1 / 400 + 1 / 100))) / np.sqrt(
        0.4 * 0.6 / 400 + p2 * (1 - p2) / 100)
    assert z == pytest.approx(0.8416212335729143, abs=1e-8)  # qnorm(0.8)


def test_near_one_the_difference_downwards_is_given():
    # R finds no p2 in (0.97, 1) with 80 % power at n = 40; the equation is symmetric in p -> 1 - p
    assert min_detectable_difference(0.97, 40) == pytest.approx(min_detectable_difference(0.03, 40))


def test_vectorised_and_edges():
    out = min_detectable_difference(np.array([0.5, 0.5, 0.0]), np.array([400, 0, 50]))
    assert out[0] == pytest.approx(min_detectable_difference(0.5, 400))
    assert np.isnan(out[1]) and np.isnan(out[2])  # no group, no variance
    assert min_detectable_difference(0.5, 400, power=0.9) > min_detectable_difference(0.5, 400)
    with pytest.raises(ValueError):
        min_detectable_difference(1.5, 100)
    with pytest.raises(ValueError):
        min_detectable_difference(0.5, 100, alpha=0)
