"""kpitools.format: the two styles (table, sentence), the rules they share, and locale independence."""

from __future__ import annotations

import locale
import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpitools import format as fmt
from kpitools.comparisons import wording

NAN = math.nan


@pytest.mark.parametrize("x, kpi, table, sentence", [
    (62.4, "csat_pct", "62.4", "62%"),
    (7.04, "csat_pct", "7.0", "7%"),              # one decimal under 10 points, no trailing .0
    (7.25, "csat_pct", "7.2", "7.2%"),
    (-19.2, "nps", "\u221219.2", "\u221219"),
    (12.0, "nps", "12.0", "+12"),                 # NPS is signed in sentences
    (4.126, "csat_mean", "4.13", "4.13"),
    (4.56, "aht_min", "4.6", "4.6 min"),
    (0.0125, "frt_median_h", "45 s", "45 s"),
    (0.25, "frt_median_h", "15.0 min", "15 min"),  # minutes whole from 10 in sentences
    (0.1, "frt_median_h", "6.0 min", "6.0 min"),
    (1234.5, "ttr_mean_h", "1,234 h", "1234 h"),   # thousands separators in tables only
])
def test_value_in_both_styles(x, kpi, table, sentence):
    assert fmt.value(x, kpi) == table
    assert fmt.value(x, kpi, style="sentence") == sentence


@pytest.mark.parametrize("x, kpi, table, sentence", [
    (-25.34, "csat_pct", "\u221225.3 pp", "\u221225 pts"),
    (6.2, "nps", "+6.2", "+6.2 pts"),
    (0.5, "frt_median_h", "+30.0 min", "+30 min"),
    (1.25, "aht_min", "+1.2", "+1.2 min"),
    (-0.004, "csat_pct", "0.0 pp", "0 pts"),       # rounds to zero: no sign
])
def test_difference_in_both_styles(x, kpi, table, sentence):
    assert fmt.difference(x, kpi) == table
    assert fmt.difference(x, kpi, style="sentence") == sentence


def test_missing_and_open_values():
    assert fmt.value(None, "csat_pct") == fmt.value(pd.NA, "csat_pct") == "\u2013"
    assert fmt.value(NAN, "ttr_median_h", n=3) == "not reached" and fmt.value(NAN, "ttr_median_h", n=0) == "\u2013"
    assert fmt.value(math.inf, "ttr_median_h") == "not reached" and fmt.value(math.inf, "tickets") == "\u221e"
    assert fmt.value(NAN, "ttr_median_h", style="sentence") == "not reached"
    assert fmt.value(NAN, "csat_pct", style="sentence") == "n/a"
    assert fmt.with_ci(5.2, NAN, NAN, "ttr_median_h") == "5.2 h"
    assert fmt.with_ci(50.0, NAN, 60.0, "csat_pct") == "50.0 [\u2013, 60.0]"
    assert fmt.difference(NAN, "csat_pct") == fmt.change(None, "nps") == fmt.p_value(NAN) == "\u2013"
    assert fmt.interval(NAN, 3.0, "csat_pct") == ""


def test_p_values_share_one_rule():
    for p, table in [(2e-9, "< 0.001"), (0.001, "0.001"), (0.04999, "0.050"), (0.0999, "0.100"), (0.1, "0.10")]:
        assert fmt.p_value(p) == table
        assert fmt.p_value(p, style="sentence") == "p " + (table if table.startswith("<") else "= " + table)


def test_labels_in_both_styles():
    assert fmt.label("fcr_pct") == "First contact resolution [%]"
    assert fmt.label("fcr_pct", style="sentence") == "FCR"
    assert fmt.label("mau", style="sentence") == fmt.title("mau")


def test_month_names_do_not_follow_the_locale():
    before = locale.setlocale(locale.LC_TIME)
    for name in ("de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8"):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        try:
            assert fmt.month("2026-03") == "March 2026"
            assert fmt.moment(pd.Timestamp("2026-03-07 09:05", tz="UTC")) == "07 March 2026, 09:05"
        finally:
            locale.setlocale(locale.LC_TIME, before)
    assert [fmt.month(f"2026-{m:02d}") for m in (1, 12)] == ["January 2026", "December 2026"]


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
       st.sampled_from(["csat_pct", "nps", "csat_mean", "aht_min", "frt_median_h", "tickets", "cpi"]),
       st.sampled_from(["table", "sentence"]))
def test_negative_numbers_use_the_minus_sign(x, kpi, style):
    for text in (fmt.value(x, kpi, style=style), fmt.difference(x, kpi, style=style)):
        assert "-" not in text
        assert text.startswith(fmt.MINUS) == (x < 0 and any(c in "123456789" for c in text))


def test_wording_is_the_sentence_style():
    assert wording.value(62.4, "csat_pct") == fmt.value(62.4, "csat_pct", style="sentence")
    assert wording.difference(6.2, "nps", signed=False) == "6.2 pts"
    assert wording.p_value(0.031) == "p = 0.031" and wording.month("2026-10") == "October 2026"
    assert wording.label("aht_min") == "AHT"
