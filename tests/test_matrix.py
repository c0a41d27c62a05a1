"""Every dataset the contract allows gets a report, and no KPI is invented (SPEC §2, A13, A15).

The fast part loads every variant of the dataset matrix (tests/matrix.py) and checks the KPI table
against the catalogue: a KPI whose table or column the variant lacks has no row and is listed as
omitted, the others are computed. The slow part runs the full monthly report (every notebook) on a
selection of variants and on every worked example of data/examples/.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import kpitools as kt
from kpitools import catalog
from kpitools.runs import RunFailedError
from kpitools.schema import TABLES

from tests.matrix import OPTIONAL_TICKET_COLUMNS, VARIANTS, variant

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (REPO / "data" / "examples").iterdir() if (p / "dataset.toml").exists())
#: the variants whose full report runs in the suite (every variant runs in the fast KPI check)
RUN_VARIANTS = ("bare_tickets", "tickets_only", "no_ticket_first_response_at", "no_ticket_resolved_at",
                "one_channel", "sixty_channels", "empty_month", "first_month")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix")


def _lacks(ds, kpi: catalog.Kpi) -> bool:
    """Whether the dataset lacks a table or column the catalogue says ``kpi`` needs."""
    if any(t not in ds.tables for t in kpi.tables.split(",")):
        return True
    for need in kpi.needs:
        table, _, column = need.partition(".")
        if table in TABLES and column in {c.name for c in TABLES[table]} and column not in ds.provided(table):
            return True
    return False


@pytest.mark.parametrize("name", list(VARIANTS))
def test_no_value_for_a_missing_table_or_column(root, name):
    folder, period = variant(root, name)
    ds = kt.load(folder)
    df = kt.kpis(ds, period)
    omitted = df.attrs["omitted"]
    computed = set(df["kpi"])
    for kpi in catalog.KPIS:
        if _lacks(ds, kpi):
            assert kpi.id in omitted and kpi.id not in computed, kpi.id
        elif not any(n.startswith(("config:", "sla:")) or n == "targets.frt_h" for n in kpi.needs):
            assert kpi.id in computed, (kpi.id, omitted.get(kpi.id))
    assert set(omitted).isdisjoint(computed)


def test_variants_lack_what_they_say(root):
    bare = kt.load(variant(root, "bare_tickets")[0])
    assert list(bare.tables) == ["tickets"]
    assert not set(OPTIONAL_TICKET_COLUMNS) & bare.provided("tickets")
    omitted = kt.kpis(bare, "2026-10").attrs["omitted"]
    assert omitted["abandonment_pct"] == "no abandoned column in tickets"
    assert omitted["fcr_pct"] == "no resolved_at column in tickets"
    assert omitted["csat_pct"] == "no surveys table"
    assert len(kt.load(variant(root, "sixty_channels")[0]).channels) == 60


def _run(folder: Path, period: str | None, reports: Path):
    try:
        return kt.run(folder, period=period, jobs=2, reports_dir=reports, progress=False)
    except RunFailedError as exc:
        pytest.fail(str(exc))


def _check_report(result) -> None:
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert [nb["status"] for nb in manifest["notebooks"]] == ["succeeded"] * len(manifest["notebooks"])
    for page in result.path.glob("*.html"):
        html = page.read_text()
        assert "Traceback" not in html, page.name
        assert "/tmp/" not in html and "/work/" not in html, page.name
    for executed in result.path.glob("*.ipynb"):  # no error and no warning text in any output
        outputs = [o for c in nbformat.read(executed, 4).cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"], executed.name
    assert (result.path / "omitted.csv").exists()


@pytest.mark.parametrize("name", RUN_VARIANTS)
def test_the_monthly_report_renders_on_the_variant(root, tmp_path, name):
    folder, period = variant(root, name)
    _check_report(_run(folder, period, tmp_path / "reports"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_monthly_report_renders_on_every_worked_example(tmp_path, name):
    result = _run(REPO / "data" / "examples" / name, None, tmp_path / "reports")
    _check_report(result)
    summary = (result.path / "10_monthly_summary.html").read_text()
    if name == "call_center":  # generated-looking data: a quiet month, and no change against 2020
        assert "No significant differences or changes this month." in summary
        assert "no data for February 2020" in summary
