"""Notebook parameters as a shell user types them (issue #14): one rule for `kpitools run --param`
and for notebooks executed by plain papermill, and the dataset found from either folder."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

import kpitools
from kpitools import report
from kpitools.errors import DatasetError, KpitoolsError, PeriodError
from kpitools.parameters import REPORT_PARAMETERS, bundled_notebooks, coerce
from kpitools.runs.params import find_notebooks, inspect_parameters

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("value", "kind", "expected"), [
    ("false", "bool", False), ("False", "bool", False), ("yes", "bool", True), (0, "bool", False),
    (1, "bool", True), (True, "bool", True),
    ("chat", "list[str]", ["chat"]), ("chat,email", "list[str]", ["chat", "email"]), ("", "list[str]", []),
    ('["chat", "email"]', "list[str]", ["chat", "email"]), (("chat",), "list[str]", ["chat"]),
    (202609, "str", "202609"), ("2026-10", "str", "2026-10"), ("3", "int", 3), ("2.5", "float", 2.5),
    ("[1, 2]", None, [1, 2]), ("text", None, "text"),
])
def test_coerce_reads_values_as_typed_in_a_shell(value, kind, expected):
    assert coerce("x", value, kind) == expected


@pytest.mark.parametrize(("value", "kind"), [("maybe", "bool"), (2, "bool"), ("x", "int"), (None, "str"),
                                             ({"a": 1}, "list[str]")])
def test_coerce_refuses_what_cannot_be_read(value, kind):
    with pytest.raises(KpitoolsError, match="parameter"):
        coerce("x", value, kind)


def test_every_bundled_notebook_declares_the_report_parameters_with_their_types():
    """REPORT_PARAMETERS is what report.parameters reads; the parameters cells must agree with it."""
    for path in find_notebooks(None):
        assert inspect_parameters(path).types == REPORT_PARAMETERS, path.name


def test_every_bundled_notebook_checks_its_parameters_before_setup():
    for path in find_notebooks(None):
        nb = nbformat.read(path, as_version=4)
        params = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        first = nb.cells[params + 1].source
        assert first.index("report.parameters(") < first.index("report.setup("), path.name


def test_bundled_notebooks_of_a_source_checkout_are_the_repository_folder():
    assert bundled_notebooks() == REPO / "notebooks"


def test_parameters_reads_what_papermill_hands_over(tmp_path):
    (tmp_path / "data").mkdir()
    dataset, period, channels, business_hours = report.parameters(str(tmp_path / "data"), "2026-10", "chat", "false")
    assert (dataset, period, channels, business_hours) == (str(tmp_path / "data"), "2026-10", ["chat"], False)


def test_a_malformed_period_is_one_clear_error(tmp_path):
    with pytest.raises(PeriodError, match="'202609' is not a month written YYYY-MM"):
        report.parameters(str(tmp_path), 202609)


def test_the_dataset_is_found_from_the_callers_folder_or_the_notebooks_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    assert report.dataset_path("mine") == str(tmp_path / "mine")
    # the notebooks' default, from a folder where it does not resolve: the notebooks' folder has it
    assert report.dataset_path("../data/sample") == str(REPO / "data" / "sample")
    with pytest.raises(DatasetError, match="kpitools sample"):
        report.dataset_path("nowhere")


def test_the_type_checking_imports_match_the_lazy_exports():
    """mypy reads the TYPE_CHECKING imports, the interpreter _EXPORTS: they must name the same things."""
    tree = ast.parse(Path(kpitools.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    imported = {alias.asname or alias.name for node in block.body for alias in node.names}
    assert imported == set(kpitools.__all__)
    for name in kpitools.__all__:
        assert getattr(kpitools, name) is not None
