"""HTML reports from executed notebooks: no code, no scripts, nothing fetched from elsewhere.

nbconvert's ``lab`` template loads require.js, MathJax and mermaid from a CDN and runs inline
scripts. A report must open offline years later and must not run anything a data value smuggled
into an output, so the template below drops every script and adds a Content-Security-Policy
that forbids scripts and any load other than inline styles and ``data:`` images. Images are
embedded (plots are already ``data:`` PNGs; Markdown images are inlined by ``embed_images``).
Each report gets a header linking back to ``reports/index.html``.
"""

from __future__ import annotations

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
    nb = nbformat.read(notebook, as_version=4)
    resources = {
        "metadata": {"name": Path(out).stem, "path": str(resources_dir)},
        "kpitools": {"csp": CSP, "index_href": href(index_href), "caption": escape_html(caption),
                      "failed": failed},
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(out)
    out.write_text(body, encoding="utf-8")
    return out
