"""kpitools.stats.adjust: Holm and Benjamini–Hochberg adjustment."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from kpitools.stats import p_adjust


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04; running max -> 0.03, 0.06, 0.06
    np.testing.assert_allclose(p_adjust([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


def test_bh_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3/1, 3/2, 3/3 -> 0.03, 0.045, 0.04; running min from the top
    np.testing.assert_allclose(p_adjust([0.01, 0.04, 0.03], "bh"), [0.03, 0.04, 0.04])


def test_none_is_identity_and_holm_caps_at_one():
    np.testing.assert_array_equal(p_adjust([0.2, 0.7], "none"), [0.2, 0.7])
    np.testing.assert_array_equal(p_adjust([0.6, 0.7]), [1.0, 1.0])


@pytest.mark.parametrize("ours, theirs", [("holm", "holm"), ("bh", "fdr_bh")])
def test_agrees_with_statsmodels_including_ties(ours, theirs):
    p = np.random.default_rng(3).uniform(size=40) ** 3
    p[[4, 9, 17]] = p[2]  # ties
    np.testing.assert_allclose(p_adjust(p, ours), multipletests(p, method=theirs)[1], rtol=1e-12)


def test_nan_is_left_out_of_the_family():
    # the family is the two real p-values: Holm gives 0.01·2 and max(0.02, 0.04)
    out = p_adjust(np.array([0.01, np.nan, 0.04]))
    np.testing.assert_allclose(out, [0.02, np.nan, 0.04])
    assert np.isnan(p_adjust([np.nan, np.nan])).all()


def test_unknown_method_and_inputs_untouched():
    p = np.array([0.04, 0.01])
    p_adjust(p)
    np.testing.assert_array_equal(p, [0.04, 0.01])
    with pytest.raises(ValueError):
        p_adjust(p, "bonferroni")


# ---------------------------------------------------------------- issue #13: BH by hand, the level used

def test_bh_against_r_p_adjust_hand_case():
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5), method = "BH")
    #    sorted p * 6 / i = 0.06, 0.06, 0.06, 0.06, 0.06, 0.5 (running minimum from the top)
    # R: p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205), "BH")
    #    = 0.0080000 0.0320000 0.0672000 0.0672000 0.0672000 0.0800000 0.0845714 0.2050000
    from kpitools.stats import p_adjust
    assert p_adjust([0.01, 0.02, 0.03, 0.04, 0.05, 0.5], "bh") == pytest.approx([0.06] * 5 + [0.5])
    got = p_adjust([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205], "bh")
    assert got == pytest.approx([0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0845714, 0.205], abs=1e-7)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_level_used_separates_significant_from_the_rest(method):
    from kpitools.stats import p_adjust
    from kpitools.stats.adjust import level_used
    rng = np.random.default_rng(13)
    for _ in range(200):
        p = np.concatenate([rng.uniform(0, 0.01, rng.integers(0, 6)), rng.uniform(0, 1, rng.integers(1, 20))])
        adj = p_adjust(p, method)
        level = level_used(adj, method)
        assert np.array_equal(adj < 0.05, p < level)


def test_level_used_by_hand():
    from kpitools.stats.adjust import level_used
    # Holm: 3 tests, 1 significant -> alpha / 2; BH: 4 tests, 1 significant -> alpha * 2 / 4
    assert level_used([0.03, 0.06, 0.06], "holm") == 0.025
    assert level_used([0.01, 0.2, 0.3, 0.4], "bh") == 0.025
    assert level_used([0.2, 0.3], "none") == 0.05 and level_used([0.01, 0.02], "bh") == 0.05
