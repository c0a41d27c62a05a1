"""``reports/index.html``: every period and version, its status, headline KPIs and reports.

Rebuilt from the version folders after every run, so it is always consistent with them. One
self-contained file: inline CSS, no scripts, nothing loaded from elsewhere, relative links (the
``reports`` folder can be moved, zipped or served anywhere). Every string that comes from data
or files goes through :func:`kpitools.safety.escape_html`.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..safety import escape_html, href
from .export import CSP, public_message
from .versions import FAILED, atomic_write_text, list_versions, read_latest, read_manifest

INDEX = "index.html"
#: (kpi id, column title, decimals) shown for channel ``all``.
HEADLINE = (("tickets", "Tickets", 0), ("frt_median_h", "FRT median (h)", 1),
            ("csat_pct", "CSAT %", 1), ("nps", "NPS", 1))
_PERIOD = re.compile(r"^\d{4}-\d{2}$")

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 68rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; }
.succeeded { color: #1a7f37; }
.failed, .incomplete { color: #b3261e; }
.latest { background: #ddf4ff; border-radius: 3px; padding: 0 .3rem; font-size: .8rem; }
.note { color: #59636e; font-size: .85rem; }
ul.reports { margin: 0; padding-left: 1rem; }
"""


def _headline(version_dir: Path, period: str) -> dict[str, float]:
    try:
        kpis = pd.read_csv(version_dir / "kpis.csv", dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return {}
    if not {"period", "channel", "kpi", "value"} <= set(kpis.columns):
        return {}
    rows = kpis[(kpis["period"] == period) & (kpis["channel"] == "all")
                & kpis["kpi"].isin([k for k, _, _ in HEADLINE])]
    values = pd.to_numeric(rows["value"], errors="coerce")
    return dict(zip(rows["kpi"], values))


def _fmt(value: float | None, decimals: int) -> str:
    if value is None or pd.isna(value):
        return "&ndash;"
    return escape_html(f"{value:,.{decimals}f}")


def _when(iso: str | None) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC") if iso else ""
    except (TypeError, ValueError):
        return iso or ""


def _reports(version_dir: Path, manifest: dict | None, rel: str) -> str:
    names = [nb.get("html") for nb in (manifest or {}).get("notebooks", []) if nb.get("html")]
    if not manifest:
        names = sorted(p.name for p in version_dir.glob("*.html"))
    items = "".join(f'<li><a href="{href(f"{rel}/{name}")}">{escape_html(Path(name).stem)}</a></li>'
                    for name in names)
    return f'<ul class="reports">{items}</ul>' if items else ""


def _version_row(period_dir: Path, version_dir: Path, latest: str | None) -> str:
    manifest = read_manifest(version_dir)
    status = (manifest or {}).get("status") or "incomplete"
    values = _headline(version_dir, period_dir.name)
    notes = []
    if version_dir.name == latest:
        notes.append('<span class="latest">LATEST</span>')
    if manifest and manifest.get("reproduces"):
        notes.append(f'<span class="note">reproduces {escape_html(manifest["reproduces"])}</span>')
    for nb in (manifest or {}).get("notebooks", []):
        if nb.get("status") == FAILED:
            cell = nb.get("failed_cell_index")
            where = f" at cell index {cell}" if cell is not None else ""
            # the index is shared: no local paths (the manifest keeps the full message)
            error = public_message(": ".join(str(x) for x in (nb.get("error_name"), nb.get("error_value")) if x))
            notes.append(f'<span class="note failed">{escape_html(nb.get("name"))}{escape_html(where)}: '
                         f'{escape_html(error)}</span>')
    if manifest and manifest.get("error"):
        notes.append(f'<span class="note failed">{escape_html(public_message(manifest["error"]))}</span>')
    if manifest is None:
        notes.append('<span class="note">no manifest: still running, or interrupted</span>')
    rel = f"{period_dir.name}/{version_dir.name}"
    cells = "".join(f'<td class="num">{_fmt(values.get(k), d)}</td>' for k, _, d in HEADLINE)
    return (f'<tr><td>{escape_html(version_dir.name)}</td>'
            f'<td class="status {escape_html(status)}">{escape_html(status)}</td>'
            f'<td>{escape_html(_when((manifest or {}).get("started_at")))}</td>{cells}'
            f'<td>{_reports(version_dir, manifest, rel)}</td><td>{"<br>".join(notes)}</td></tr>')


def render_index(reports_dir: str | Path) -> str:
    """The HTML of the reports index for ``reports_dir`` (periods newest first, versions newest first).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     "No reports yet" in render_index(tmp)
    True
    """
    root = Path(reports_dir)
    periods = sorted((p for p in root.iterdir() if p.is_dir() and _PERIOD.match(p.name)),
                     key=lambda p: p.name, reverse=True) if root.is_dir() else []
    head = "".join(f"<th>{escape_html(title)}</th>" for _, title, _ in HEADLINE)
    sections = []
    for period_dir in periods:
        versions = list_versions(period_dir)
        if not versions:
            continue
        latest = read_latest(period_dir)
        rows = "".join(_version_row(period_dir, v, latest) for v in reversed(versions))
        sections.append(
            f'<h2 id="p{escape_html(period_dir.name)}">{escape_html(period_dir.name)}</h2>\n'
            f'<table><thead><tr><th>Version</th><th>Status</th><th>Started</th>{head}'
            f'<th>Reports</th><th>Notes</th></tr></thead>\n<tbody>{rows}</tbody></table>')
    body = "\n".join(sections) or "<p>No reports yet.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kpitools reports</title>
<style>{_CSS}</style>
</head>
<body>
<h1>kpitools reports</h1>
<p class="note">Every monthly run is kept as its own version; LATEST marks the newest version that
succeeded. Headline KPIs are for all channels.</p>
{body}
</body>
</html>
"""


def write_index(reports_dir: str | Path) -> Path:
    """Rebuild ``reports_dir/index.html`` (atomically) and return its path."""
    root = Path(reports_dir)
    root.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(root / INDEX, render_index(root))
