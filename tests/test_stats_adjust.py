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
