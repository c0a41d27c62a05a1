"""kpitools.stats._arrays: the remembered z value is scipy's, and levels are still checked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from kpitools.stats._arrays import z_value


@given(st.floats(1e-9, 1 - 1e-9))
def test_z_value_equals_scipy_at_every_level_first_and_second_time(conf):
    expected = float(norm.ppf(1 - (1 - conf) / 2))
    assert z_value(conf) == expected and z_value(conf) == expected
    assert z_value(np.float64(conf)) == expected and z_value(np.array(conf)) == expected


@pytest.mark.parametrize("conf", [0.0, 1.0, 1.5, -0.1])
def test_a_level_outside_the_unit_interval_is_rejected_every_time(conf):
    for _ in range(2):  # a rejection is never remembered as a value
        with pytest.raises(ValueError):
            z_value(conf)
