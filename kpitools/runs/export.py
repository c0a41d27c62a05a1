"""HTML reports from executed notebooks: no code, no scripts, nothing fetched from elsewhere.

nbconvert's ``lab`` template loads require.js, MathJax and mermaid from a CDN and runs inline
scripts. A report must open offline years later and must not run anything a data value smuggled
into an output, so the template below drops every script and adds a Content-Security-Policy
that forbids scripts and any load other than inline styles and ``data:`` images. Images are
embedded (plots are already ``data:`` PNGs; Markdown images are inlined by ``embed_images``).
Each report gets a header linking back to ``reports/index.html``.

A cell that raised shows as a short box (notebook, section, exception and message) instead of
its traceback: tracebacks show code and local paths to everyone the report is shared with, and
the executed ``.ipynb`` beside the HTML keeps the full traceback for whoever debugs the run.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jinja2
import nbformat

from ..safety import escape_html, href

#: Scripts are off; styles inline; images and fonts only as data: URIs.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")

_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.kpitools.csp }}">
<style type="text/css">
.kt-nav { font: 14px/1.4 system-ui, sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd;
          background: #f6f8fa; }
.kt-nav a { color: #0550ae; }
.kt-failed { color: #b3261e; font-weight: 600; }
.kt-error { font: 14px/1.4 system-ui, sans-serif; border: 1px solid #b3261e; border-left-width: 4px;
            background: #fff5f5; padding: 8px 12px; margin: 4px 0; }
.kt-error-title { color: #b3261e; font-weight: 600; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="kt-nav"><a href="{{ resources.kpitools.index_href }}">&larr; All reports</a>
 &middot; {{ resources.kpitools.caption }}
{%- if resources.kpitools.failed %} &middot; <span class="kt-failed">failed: partial output</span>{% endif %}</nav>
{%- endblock body_header -%}
{%- block data_javascript scoped -%}
<div class="jp-OutputArea-output">[JavaScript output not included in the report]</div>
{%- endblock data_javascript -%}
{%- block data_widget_view scoped -%}
<div class="jp-OutputArea-output">[interactive widget not included in the report]</div>
{%- endblock data_widget_view -%}
"""
_TEMPLATE_NAME = "kpitools_report.html.j2"
#: papermill's "An Exception was encountered at In [n]" cells: meaningless without code cells.
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
#: Longest exception message shown in a report (the .ipynb has all of it).
MESSAGE_CHARS = 300
# an absolute path (POSIX, or Windows with a drive letter) not inside a URL: the last group is its base name
_PATH = re.compile(r"(?<![\w.:/\\])(?:/|[A-Za-z]:\\)(?:[^\s/\\'\"():,;]+[/\\])+([^\s/\\'\"():,;]*)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def public_message(text: str, limit: int = MESSAGE_CHARS) -> str:
    """An exception message fit for a shared report: colour codes and folders of absolute paths
    removed (the file's base name is kept), shortened to ``limit`` characters.

    Examples
    --------
    >>> public_message("[Errno 2] No such file or directory: '/home/ana/data/tickets.csv'")
    "[Errno 2] No such file or directory: 'tickets.csv'"
    >>> public_message("see https://example.org/a/b and /tmp/x/ and 3/4/5")
    'see https://example.org/a/b and x and 3/4/5'
    >>> public_message("x" * 10, limit=4)
    'xxx…'
    """
    text = _PATH.sub(lambda m: m.group(1) or m.group(0).rstrip("/\\").rsplit("/", 1)[-1], _ANSI.sub("", text))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _heading(markdown: str) -> str | None:
    """The last Markdown heading (``# ...``) of a cell, without its ``#`` marks."""
    found = [line.lstrip("#").strip() for line in markdown.splitlines() if re.match(r"#{1,6}\s", line)]
    return found[-1] if found else None


def _error_box(notebook: str, section: str | None, ename: str, evalue: str) -> dict:
    """A ``display_data`` output rendering a failed cell as a short, escaped box."""
    where = f"section “{section}”" if section else "before the first heading"
    error = public_message(f"{ename}: {evalue}" if evalue else ename)
    html = (f'<div class="kt-error"><div class="kt-error-title">This part of the report failed</div>'
            f"<div>Notebook {escape_html(notebook)}, {escape_html(where)}</div>"
            f"<div><code>{escape_html(error)}</code></div></div>")
    return nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": error})


def without_tracebacks(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """A copy of executed notebook ``nb`` (named ``name``) for sharing: each error output replaced
    by :func:`_error_box` naming the nearest preceding Markdown heading, papermill's error
    marker cells dropped."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])]
    section = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            section = _heading(cell.source) or section
        elif cell.cell_type == "code":
            cell.outputs = [_error_box(name, section, o.get("ename", ""), o.get("evalue", ""))
                            if o.get("output_type") == "error" else o for o in cell.outputs]
    return nb


def export_html(notebook: str | Path, out: str | Path, *, resources_dir: str | Path,
                index_href: str, caption: str, failed: bool = False) -> Path:
    """Write the HTML report of an executed notebook, without code cells or prompts.

    Parameters
    ----------
    notebook : str or Path
        The executed ``.ipynb``.
    out : str or Path
        The ``.html`` file to write.
    resources_dir : str or Path
        Folder relative Markdown image paths are resolved against (the notebooks folder).
    index_href : str
        Relative link from the report to ``reports/index.html``.
    caption : str
        Plain text for the report's header (escaped here).
    failed : bool
        Mark the report as the partial output of a failed notebook.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    nb = without_tracebacks(nbformat.read(notebook, as_version=4), Path(notebook).stem)
    resources = {
        "metadata": {"name": Path(out).stem, "path": str(resources_dir)},
        "kpitools": {"csp": CSP, "index_href": href(index_href), "caption": escape_html(caption),
                      "failed": failed},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(out)
    out.write_text(body, encoding="utf-8")
    return out
