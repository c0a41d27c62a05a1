"""kpitools.stats.control: Laney p′ chart beside the plain p-chart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools.stats import laney_p_prime
from kpitools.stats.control import laney_last


def test_by_hand():
    # k = 50, 55, 48, 70 of 100 each: p̄ = 223/400 = 0.5575,
    # σ_p = sqrt(0.5575·0.4425/100) = 0.0496683; z = (p − p̄)/σ_p = −1.157681, −0.151002,
    # −1.560352, 2.869035; moving ranges 1.006679, 1.409350, 4.429387, mean 2.281805,
    # σ_z = 2.281805/1.128 = 2.022877. With equal n, σ_p·σ_z is just the mean moving range of
    # p over 1.128: p′ limits p̄ ± 3·(0.05 + 0.07 + 0.22)/3/1.128 = p̄ ± 0.301418;
    # p-chart limits p̄ ± 3·0.0496683 = p̄ ± 0.149005.
    chart = laney_p_prime([50, 55, 48, 70], [100, 100, 100, 100])
    assert chart["centre"].unique().tolist() == [0.5575]
    assert chart["z"].tolist() == pytest.approx([-1.157681, -0.151002, -1.560352, 2.869035], abs=1e-6)
    assert chart["sigma_z"].iloc[0] == pytest.approx(2.022877, abs=1e-6)
    assert chart["lcl"].iloc[0] == pytest.approx(0.5575 - 0.301418, abs=1e-6)
    assert chart["ucl"].iloc[0] == pytest.approx(0.5575 + 0.301418, abs=1e-6)
    assert chart["p_ucl"].iloc[0] == pytest.approx(0.5575 + 0.149005, abs=1e-6)
    assert not chart["signal"].any()  # 0.70 < 0.8589


def test_large_n_plain_chart_flags_everything_laney_only_the_outlier():
    # 12 months of 50 000 contacts whose share wanders slowly between 49.4 % and 51.2 %,
    # then jumps to 55 %. Binomial σ_p is only 0.22 points, so the plain chart flags three
    # months of ordinary wander besides the jump; σ_z (≈ 3.1) widens the limits to the
    # wander actually seen and only the jump signals.
    k = [25000, 25200, 25400, 25600, 25500, 25300, 25100, 24900, 24700, 24800, 25000, 27500]
    chart = laney_p_prime(k, [50_000] * 12)
    plain = (chart["p"] < chart["p_lcl"]) | (chart["p"] > chart["p_ucl"])
    assert plain.tolist() == [False] * 7 + [True, True, True, False, True]
    assert chart["signal"].tolist() == [False] * 11 + [True]
    assert chart["sigma_z"].iloc[0] == pytest.approx(3.1, abs=0.01)


def test_unequal_n_gives_per_period_limits_and_clipping():
    chart = laney_p_prime([2, 30, 4, 45], [5, 100, 10, 100], periods=["2026-01", "2026-02", "2026-03", "2026-04"])
    assert chart.columns[0] == "period" and chart["period"].tolist()[0] == "2026-01"
    # σ_pi ∝ 1/sqrt(n_i): the n = 5 period has limits sqrt(20) times as wide as n = 100,
    # which runs past 1 and is clipped
    assert chart["sigma_p"].iloc[0] / chart["sigma_p"].iloc[1] == pytest.approx(math.sqrt(20))
    assert chart["ucl"].iloc[0] == 1.0 and chart["p_lcl"].iloc[0] == 0.0
    assert chart["ucl"].iloc[1] == chart["ucl"].iloc[3] < 1


def test_empty_period_is_skipped_by_the_moving_ranges():
    with_gap = laney_p_prime([50, 0, 55, 48, 70], [100, 0, 100, 100, 100])
    without = laney_p_prime([50, 55, 48, 70], [100, 100, 100, 100])
    assert with_gap["sigma_z"].iloc[0] == pytest.approx(without["sigma_z"].iloc[0])
    gap = with_gap.iloc[1]
    assert math.isnan(gap["p"]) and math.isnan(gap["lcl"]) and not gap["signal"]


def test_degenerate_charts():
    zero = laney_p_prime([0, 0, 0], [10, 20, 30])  # p̄ = 0: everything on the centre line
    assert zero["lcl"].tolist() == [0.0] * 3 and zero["ucl"].tolist() == [0.0] * 3
    assert not zero["signal"].any()
    single = laney_p_prime([5], [10])  # one period: no moving range
    assert math.isnan(single["sigma_z"].iloc[0]) and not single["signal"].any()
    with pytest.raises(ValueError):
        laney_p_prime([5, 11], [10, 10])


def test_inputs_untouched_and_series_accepted():
    k = pd.Series([50, 55, 48, 70])
    laney_p_prime(k, pd.Series([100] * 4))
    assert k.tolist() == [50, 55, 48, 70]


def test_a_month_is_judged_against_limits_from_the_months_before_it():
    # k = 50, 55, 48 then 70 of 100: with the judged month in, p̄ = 0.5575 and σ_z = 2.02 (above);
    # from the three months before it: p̄ = 153/300 = 0.51, z = −0.2, 0.8, −0.6 (σ_p = 0.04999),
    # moving ranges of z 1.0, 1.4 (of p: 0.05, 0.07) -> σ_z = 1.2/1.128 · 0.5/σ(0.51) = 1.0641;
    # UCL = 0.51 + 3 · (0.06 / 1.128) = 0.6696
    chart = laney_p_prime([50, 55, 48, 70], [100] * 4, baseline=3)
    assert chart["centre"].iloc[0] == pytest.approx(0.51)
    assert chart["sigma_z"].iloc[0] == pytest.approx(1.2 / 1.128 * 0.5 / math.sqrt(0.51 * 0.49), rel=1e-9)
    assert chart["ucl"].iloc[3] == pytest.approx(0.51 + 3 * 0.06 / 1.128)  # σ_p · σ_z = mean MR of p / d2
    assert chart["signal"].tolist() == [False, False, False, True]  # 0.70 > 0.6695; judged with itself: no
    mask = laney_p_prime([50, 55, 48, 70], [100] * 4, baseline=[True, True, True, False])
    pd.testing.assert_frame_equal(mask, chart)


def chart_of_one(k: np.ndarray, n: np.ndarray, base: np.ndarray) -> dict[str, np.ndarray]:
    """The Laney p′ rule for one chart, step by step as the docstring states it."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = k[base].sum() / n[base].sum() if n[base].sum() > 0 else np.nan
        sigma_p = np.sqrt(centre * (1 - centre) / n)
        z = (p - centre) / sigma_p
    sigma_p[n == 0] = np.nan
    z_seen = z[np.isfinite(z) & base]
    sigma_z = np.mean(np.abs(np.diff(z_seen))) / 1.128 if len(z_seen) >= 2 else np.nan
    if np.isnan(centre):
        wide = plain = np.full(len(k), np.nan)
    elif centre in (0.0, 1.0):
        sigma_z, wide = np.nan, np.where(n > 0, 0.0, np.nan)
        plain = wide
    else:
        wide, plain = 3 * sigma_p * sigma_z, 3 * sigma_p
    lcl, ucl = np.clip(centre - wide, 0, 1), np.clip(centre + wide, 0, 1)
    return {"successes": k, "n": n, "p": p, "centre": np.full(len(k), centre), "sigma_p": sigma_p, "z": z,
            "sigma_z": np.full(len(k), sigma_z), "lcl": lcl, "ucl": ucl, "p_lcl": np.clip(centre - plain, 0, 1),
            "p_ucl": np.clip(centre + plain, 0, 1), "signal": (p < lcl) | (p > ucl)}


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5), st.integers(1, 14), st.data())
def test_laney_last_is_each_groups_chart_to_the_bit(groups, periods, data):
    # counts with empty periods, all-zero and all-success groups; fractional counts too, whose
    # sums depend on the order of summation
    n = np.array(data.draw(st.lists(st.lists(st.sampled_from([0.0, 1.0, 7.0, 40.0, 1e4, 12.5, 0.3]),
                                             min_size=periods, max_size=periods),
                                    min_size=groups, max_size=groups)), dtype=float).reshape(groups, periods)
    share = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.1, 0.37, 0.5, 0.9, 1.0]),
                                        min_size=groups * periods, max_size=groups * periods))).reshape(n.shape)
    k = np.floor(n * share) if data.draw(st.booleans()) else n * share
    base = np.array(data.draw(st.lists(st.booleans(), min_size=groups * periods, max_size=groups * periods)),
                    dtype=bool).reshape(n.shape)
    for mask in (None, base):
        last = laney_last(k, n, mask)
        assert len(last) == groups
        for i in range(groups):
            row_base = (np.arange(periods) < periods - 1) if mask is None else mask[i]
            expected = pd.DataFrame(chart_of_one(k[i], n[i], row_base))
            pd.testing.assert_frame_equal(laney_p_prime(k[i], n[i], baseline=row_base), expected, check_exact=True)
            pd.testing.assert_series_equal(last.iloc[i], expected.iloc[-1], check_names=False, check_exact=True)
    with pytest.raises(ValueError):
        laney_last(np.zeros((groups, 0)), np.zeros((groups, 0)))
