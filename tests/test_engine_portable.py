"""The engine is portable: no SQL text in it, and the same numbers from every kind of source.

Every query of the engine is an Ibis expression, compiled per dialect by Ibis: there is no SQL
text under ``kpitools/engine``. The expressions are then run over the dataset's DuckDB store,
over Ibis memtables and over Parquet files, and must give identical results.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kpitools as kt
from kpitools.engine import Backend, kpis_to_csv
from tests.test_engine_output import rich_dataset

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "kpitools" / "engine"
#: SQL written by hand: keywords of a query or a clause (as SQL is written, in capitals), or a SQL
#: function call, in a string literal.
SQL_WORDS = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY|UNION|CASE WHEN|PARTITION BY|INSERT INTO|"
                       r"CREATE (TEMP |OR REPLACE )?(TABLE|VIEW)|ASOF|IS (NOT )?NULL|BIGINT|UBIGINT|VARCHAR)\b"
                       r"|(?i:\b(cast|coalesce|greatest|least|read_parquet|hash|count|row_number|floor)\s*\()")
#: Calls that hand a string to a database: raw SQL, or DuckDB's own API under Ibis.
RAW_CALLS = {"sql", "raw_sql", "register", "fetchone", "fetchall", "fetchnumpy", "fetch_arrow_table"}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings (prose, with SQL examples)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_in(path: Path) -> list[str]:
    """Where a module formats or runs SQL text (empty when it does not)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docs = _docstrings(tree)
    problems = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL_WORDS.search(text):
                problems.append(f"{where} formats SQL: f-string {text[:60]!r}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if SQL_WORDS.search(node.value):
                problems.append(f"{where} holds SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str) and SQL_WORDS.search(node.left.value):
            problems.append(f"{where} formats SQL with %")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in RAW_CALLS and getattr(node.func.value, "id", None) != "atexit":  # atexit.register: no SQL
                problems.append(f"{where} calls .{name}(")
            if name == "format" and isinstance(node.func.value, ast.Constant) and SQL_WORDS.search(
                    str(node.func.value.value)):
                problems.append(f"{where} formats SQL with str.format")
        elif isinstance(node, ast.Attribute) and node.attr == "con" and (
                getattr(node.value, "attr", None) == "con" or getattr(node.value, "id", None) == "con"):
            problems.append(f"{where} reaches into the DuckDB connection under Ibis (.con.con)")
    return problems


def test_no_module_under_engine_formats_sql():
    modules = sorted(ENGINE.glob("*.py"))
    assert len(modules) > 10
    problems = [p for m in modules for p in sql_in(m)]
    assert not problems, "\n".join(problems)


def test_the_check_finds_formatted_sql(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('def f(con, t, x):\n    """SELECT in a docstring is prose."""\n'
                   '    con.con.execute(f"SELECT {x} FROM t")\n    return con.sql("select 1 from t")\n')
    found = sql_in(bad)
    assert any(".con.con" in p for p in found) and any("f-string" in p for p in found)
    assert any("calls .sql(" in p for p in found) and any("holds SQL text" in p for p in found)
    assert not any(":2 " in p for p in found)  # the docstring


# ---------------------------------------------------------------- the same numbers from every source

@pytest.fixture(scope="module")
def sample() -> kt.Dataset:
    """The sample: conversations, statuses, a business-hours schedule, SLA policies."""
    return kt.load(ROOT / "data" / "sample")


@pytest.mark.parametrize("storage", ["memory", "parquet"])
def test_memtables_and_parquet_give_identical_numbers(storage):
    ds = rich_dataset()
    store = kt.kpis(ds, "2026-10")
    assert kpis_to_csv(kt.kpis(ds, "2026-10", backend=Backend(storage))) == kpis_to_csv(store)
    for name in ("speed", "satisfaction", "retention", "engagement", "channels"):
        a = getattr(kt, name)(ds, "2026-09:2026-10")
        b = getattr(kt, name)(ds, "2026-09:2026-10", backend=Backend(storage))
        np.testing.assert_allclose(a[["value", "n"]].to_numpy(float), b[["value", "n"]].to_numpy(float),
                                   rtol=1e-9, equal_nan=True)
    pd.testing.assert_frame_equal(kt.cohort_table(ds), kt.cohort_table(ds, backend=Backend(storage)))


@pytest.mark.parametrize("storage", ["memory", "parquet"])
def test_conversations_clock_and_sla_identical_on_every_source(sample, storage):
    from kpitools.engine import backlog_by_age, sla_outcomes, time_in_status

    assert kpis_to_csv(kt.kpis(sample, "2026-10", backend=Backend(storage))) == kpis_to_csv(kt.kpis(sample, "2026-10"))
    for table in (sla_outcomes, time_in_status, backlog_by_age):
        pd.testing.assert_frame_equal(table(sample, "2026-10"), table(sample, "2026-10", backend=Backend(storage)))
