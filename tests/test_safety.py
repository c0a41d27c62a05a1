"""kpitools.safety: HTML escaping of data strings and CSV formula-injection neutralisation."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from kpitools.safety import escape_html, href, neutralise_cell, neutralise_csv, write_safe_csv


def test_escape_html_renders_markup_as_text():
    assert escape_html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    # attribute breakout: both quote kinds are escaped
    assert escape_html('x" onload="alert(1)') == "x&quot; onload=&quot;alert(1)"
    assert escape_html("it's") == "it&#x27;s"
    assert escape_html("a & b") == "a &amp; b"


def test_escape_html_missing_values_and_numbers():
    assert [escape_html(v) for v in (None, np.nan, pd.NA, pd.NaT, 0, -1.5)] == ["", "", "", "", "0", "-1.5"]


@given(st.text())
def test_escape_html_is_lossless_and_leaves_no_markup(s):
    out = escape_html(s)
    assert not set("<>\"'") & set(out)
    assert html.unescape(out) == s


def test_href_encodes_names_and_cannot_become_a_script_url():
    assert href("2026-10/v1/01 speed.html") == "2026-10/v1/01%20speed.html"
    assert href('a"><script>.html') == "a%22%3E%3Cscript%3E.html"
    assert not href("javascript:alert(1)").startswith("javascript:")


def test_formula_cells_get_a_quote():
    assert neutralise_cell("=SUM(A1)") == "'=SUM(A1)"
    assert neutralise_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert neutralise_cell("@SUM(1)") == "'@SUM(1)"
    assert neutralise_cell("-x") == "'-x"
    assert neutralise_cell("-2+3") == "'-2+3"  # not a plain number: a formula
    assert neutralise_cell("\t=1") == "'\t=1"


def test_numbers_and_harmless_text_are_unchanged():
    assert neutralise_cell(-5) == -5 and isinstance(neutralise_cell(-5), int)
    for text in ("-5", "+1.5", "-1e3", "-.5", "a=b", "email", "", "'=already quoted"):
        assert neutralise_cell(text) == text
    assert neutralise_cell(None) is None


def test_frame_numeric_columns_and_input_untouched():
    df = pd.DataFrame({
        "value": pd.Series(["=1+1", "-5", "ok", None], dtype=object),
        "mixed": pd.Series([-5, "-x", 2.5, "@a"], dtype=object),
        "text": pd.Series(["=A1", pd.NA, "b", "-3"], dtype="string"),
        "n": [-5, -1, 0, 3],
        "x": [-0.5, np.nan, 1.0, -2.0],
    })
    before = df.copy()
    out = neutralise_csv(df)
    pd.testing.assert_frame_equal(df, before)  # input not mutated
    assert out["value"].tolist() == ["'=1+1", "-5", "ok", None]
    assert out["mixed"].tolist() == [-5, "'-x", 2.5, "'@a"]
    assert out["text"].tolist() == ["'=A1", pd.NA, "b", "-3"] and out["text"].dtype == "string"
    pd.testing.assert_series_equal(out["n"], df["n"])
    pd.testing.assert_series_equal(out["x"], df["x"])


@given(st.lists(st.text(max_size=12), max_size=20))
def test_each_cell_is_kept_or_quoted_and_never_starts_a_formula(cells):
    out = neutralise_csv(pd.DataFrame({"c": pd.Series(cells, dtype=object)}))["c"].tolist()
    for before, after in zip(cells, out):
        assert after in (before, "'" + before)
        if after == before and before[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(before)  # only a plain number may keep a formula-like first character


def test_write_safe_csv_round_trip(tmp_path):
    df = pd.DataFrame({"value": ["=HYPERLINK(\"http://x\")", "-5"], "row": [6, 7]})
    path = write_safe_csv(df, tmp_path / "rejects.csv")
    assert path.read_text() == "value,row\n\"'=HYPERLINK(\"\"http://x\"\")\",6\n-5,7\n"
    back = pd.read_csv(path)
    assert back["row"].tolist() == [6, 7] and back["value"].tolist() == ["'=HYPERLINK(\"http://x\")", "-5"]
