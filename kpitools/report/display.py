"""Display objects for notebooks: escaped tables and text, deterministic in HTML and plain text.

Everything shown here is escaped: a channel, topic or KPI value that reads
``<script>alert(1)</script>`` appears as that text in JupyterLab and in the HTML reports.
(pandas' ``Styler`` does not escape by default; :func:`table` always asks it to.) Each display
object renders as HTML in a notebook and as plain text elsewhere, and both renderings are
deterministic — no random element ids, no memory addresses — so the stored notebook outputs
can be compared by nbval.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import pandas as pd

from ..format import with_minus
from ..safety import escape_html

#: Colours of an improvement, a deterioration and no verdict.
GOOD = "#1a7f37"
BAD = "#b3261e"
NEUTRAL = "#57606a"

_TABLE_STYLES = [
    {"selector": "", "props": "border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.5em 0;"},
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: 600; padding: 4px 0;"},
    {"selector": "th.row_heading", "props": "white-space: nowrap;"},
    {"selector": "th", "props": "text-align: left; padding: 4px 10px; border-bottom: 1px solid #d0d7de;"},
    {"selector": "td", "props": "padding: 4px 10px; border-bottom: 1px solid #eaeef2;"},
    # a wide table scrolls inside its box (see :func:`table`) with its first column kept in view
    {"selector": "tbody th, thead th:first-child, tbody td:first-child", "props": "position: sticky; left: 0; background: #fff;"},
]


class Table:
    """A table for notebooks: escaped HTML in JupyterLab and reports, plain text in a terminal.

    Attributes
    ----------
    frame : DataFrame
        The displayed text, cell by cell.
    html : str
        The escaped HTML.
    caption : str or None
        The caption, also the first line of the plain text.
    """

    def __init__(self, frame: pd.DataFrame, html: str, caption: str | None = None):
        self.frame = frame
        self.html = html
        self.caption = caption

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        body = self.frame.to_string()
        return f"{self.caption}\n{body}" if self.caption else body


class Text:
    """Escaped narrative computed from the data: a paragraph, or a list of items."""

    def __init__(self, items: Sequence[str], ordered: bool | None = None):
        self.items = [str(i) for i in items]
        self.ordered = ordered

    def _repr_html_(self) -> str:
        if self.ordered is None:
            return "".join(f"<p>{escape_html(i)}</p>" for i in self.items)
        tag = "ol" if self.ordered else "ul"
        return f"<{tag}>" + "".join(f"<li>{escape_html(i)}</li>" for i in self.items) + f"</{tag}>"

    def __repr__(self) -> str:
        if self.ordered is None:
            return "\n".join(self.items)
        return "\n".join(f"{k + 1}. {i}" if self.ordered else f"- {i}" for k, i in enumerate(self.items))


def say(text: str) -> Text:
    """A paragraph of text built from the data, escaped when shown.

    Examples
    --------
    >>> say("<b>chat</b> is fastest")._repr_html_()
    '<p>&lt;b&gt;chat&lt;/b&gt; is fastest</p>'
    """
    return Text([text])


def bullets(items: Iterable[str], ordered: bool = False) -> Text:
    """A list of statements (numbered when ``ordered``), escaped when shown.

    Examples
    --------
    >>> bullets(["a < b", "c"], ordered=True)
    1. a < b
    2. c
    """
    return Text(list(items), ordered=ordered)


def table(frame: pd.DataFrame, caption: str | None = None, index: bool = False,
          styles: pd.DataFrame | None = None, formats: dict[str, str] | None = None,
          right: Sequence[str] | None = None, wrap: bool = False) -> Table:
    """Any DataFrame as an escaped :class:`Table` (cells, index, column names and caption).

    Parameters
    ----------
    frame : DataFrame
        What to show (values are shown as ``str()`` of them; format numbers first).
    caption : str, optional
        A caption above the table.
    index : bool
        Show the index as row headers.
    styles : DataFrame, optional
        CSS declarations per cell (same shape and labels as ``frame``; "" for none).
    formats : dict, optional
        Column -> ``str.format`` pattern for its non-missing values (``{"rows": "{:,}"}``).
    right : sequence of str, optional
        Columns to right-align (default: the numeric ones); the others are left-aligned.
    wrap : bool
        Let right-aligned cells wrap at spaces (by default they stay on one line; use
        non-breaking spaces to keep parts of a wrapping cell together).

    Returns
    -------
    Table

    Examples
    --------
    >>> t = table(pd.DataFrame({"topic": ["<script>alert(1)</script>"], "tickets": [3]}))
    >>> "<script>" in t.html, "&lt;script&gt;alert(1)&lt;/script&gt;" in t.html
    (False, True)
    """
    numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    shown = frame.copy()
    for column, pattern in (formats or {}).items():
        shown[column] = [with_minus(pattern.format(v)) if not pd.isna(v) else "" for v in frame[column]]
    shown = shown.astype(object).where(shown.notna(), "")
    shown = shown.map(str)
    shown.columns = [str(c) for c in shown.columns]
    right = [str(c) for c in (right if right is not None else numeric)]
    aligned = pd.DataFrame("text-align: left", index=shown.index, columns=shown.columns)
    for column in right:
        aligned[column] = "text-align: right" + ("" if wrap else "; white-space: nowrap")
    if index:
        shown.index = [str(i) for i in shown.index]
    # the element id is a hash of the content: stable across runs, distinct between tables
    key = f"{caption}|{shown.to_json(orient='split')}".encode("utf-8")
    styler = shown.style.set_uuid(f"kt{zlib.crc32(key):08x}")
    styler = styler.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    headers = [{"selector": f"th.col_heading.col{j}", "props": "text-align: right;"}
               for j, c in enumerate(shown.columns) if c in right]
    styler = styler.set_table_styles(_TABLE_STYLES + headers)
    css = aligned
    if styles is not None:
        extra = styles.fillna("").astype(str)
        extra.columns, extra.index = shown.columns, shown.index
        css = (aligned + "; " + extra).where(extra != "", aligned).map(lambda c: c.strip("; "))
    styler = styler.apply(lambda _: css, axis=None)
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(escape_html(caption))
    html = f'<div style="overflow-x: auto; max-width: 100%;">{styler.to_html()}</div>'
    return Table(shown if index else shown.reset_index(drop=True), html, caption)
