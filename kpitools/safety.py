"""Keeping data-derived text harmless in what kpitools writes for people to open.

Two hazards come from data that a customer or an agent typed:

* **HTML**: a topic, agent or channel named ``<script>alert(1)</script>`` must show as text
  in ``reports/index.html`` and the HTML reports, never run. :func:`escape_html` is the one
  escaping rule; :func:`href` builds a safe relative link.
* **CSV formula injection**: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or
  ``@`` as a formula (``=HYPERLINK(...)``, ``=cmd|...``). :func:`neutralise_csv` prefixes such
  text with a single quote, which spreadsheets read as "this is text"; tab and carriage return
  are treated the same way (OWASP's list), and numbers, real or written as text, are never
  changed (``-5`` is harmless and must stay ``-5``).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from urllib.parse import quote

import pandas as pd

FORMULA_STARTS = "=+-@\t\r"
_FORMULA_START = f"[{re.escape(FORMULA_STARTS)}]"
# a plain decimal number, as a spreadsheet would read it: harmless, so left alone
_NUMBER = r"(?i)[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|inf|infinity|nan)"


def escape_html(value: object) -> str:
    """Text safe inside HTML element content and quoted attribute values.

    ``None`` and missing values (NaN, NA, NaT) become the empty string; anything else is
    ``str()``-ed and has ``& < > " '`` replaced by entities.

    Examples
    --------
    >>> escape_html("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> escape_html('say "hi" & bye')
    'say &quot;hi&quot; &amp; bye'
    >>> escape_html(None), escape_html(float("nan")), escape_html(3)
    ('', '', '3')
    """
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def href(path: str | os.PathLike[str]) -> str:
    """A relative link to ``path`` (``/``-separated), percent-encoded and HTML-escaped.

    Percent-encoding keeps odd file names (spaces, ``#``, ``?``, quotes) pointing at the file;
    a ``:`` is encoded too, so a crafted name can never become a ``javascript:`` URL.

    Examples
    --------
    >>> href("2026-10/v1/01 speed & ops.html")
    '2026-10/v1/01%20speed%20%26%20ops.html'
    >>> href("javascript:alert(1)")
    'javascript%3Aalert%281%29'
    """
    return escape_html(quote(Path(path).as_posix(), safe="/"))


def neutralise_cell(value: object) -> object:
    """One value as :func:`neutralise_csv` writes it (text formula-starts quoted).

    Examples
    --------
    >>> neutralise_cell("=SUM(A1)")
    "'=SUM(A1)"
    >>> neutralise_cell(-5), neutralise_cell("-5"), neutralise_cell("-x")
    (-5, '-5', "'-x")
    """
    return neutralise_csv(pd.DataFrame({"v": pd.Series([value], dtype=object)}))["v"].iloc[0]


def neutralise_csv(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot be run as spreadsheet formulas.

    Text starting with ``= + - @``, tab or carriage return gets a leading ``'``, unless the
    whole cell is a plain number (``-5``, ``+1.5e3``). Numeric, boolean and datetime columns,
    and non-text values inside object columns, are returned unchanged. ``df`` is not modified.

    Examples
    --------
    >>> df = pd.DataFrame({"value": ["=SUM(A1)", "-5", "@cmd", "ok", None],
    ...                    "n": [-5, 2, 3, 4, 5]})
    >>> neutralise_csv(df)
           value  n
    0  '=SUM(A1) -5
    1         -5  2
    2      '@cmd  3
    3         ok  4
    4       None  5
    """
    out = df.copy()
    for col in out.columns:  # loop over columns, not rows
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        # non-text objects in an object column (ints, floats) print as numbers, so they never match
        text = s.astype("string")
        risky = (text.str.match(_FORMULA_START, na=False).astype(bool)
                 & ~text.str.fullmatch(_NUMBER, na=False).astype(bool))
        if risky.any():
            out[col] = s.where(~risky, "'" + text[risky])
    return out


def write_safe_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to ``path`` as UTF-8 CSV (no index, ``\\n`` line ends) after :func:`neutralise_csv`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_safe_csv(pd.DataFrame({"value": ["=1+1", "-5"]}), Path(tmp) / "x.csv")
    ...     p.read_text()
    "value\\n'=1+1\\n-5\\n"
    """
    path = Path(path)
    neutralise_csv(df).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path
