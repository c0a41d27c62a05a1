"""SQL text for code outside the engine that still writes SQL for the DuckDB store
(:mod:`kpitools.flags`): built as sqlglot trees and rendered for a dialect, never formatted.

The engine's own queries are Ibis expressions and use none of this (see :mod:`.arith` for
their integer helpers).

Examples
--------
>>> q('odd"name')
'"odd""name"'
>>> floor_div(q("t"), 1000)
'(("t") // 1000 - CAST(("t") % 1000 < 0 AS BIGINT))'
>>> steps("x", [10, 20], [1, 2, 3])
'CASE WHEN x < 20 THEN CASE WHEN x < 10 THEN 1 ELSE 2 END ELSE 3 END'
"""

from __future__ import annotations

from typing import Any

DIALECT = "duckdb"


def _exp() -> Any:
    from sqlglot import exp

    return exp


def _parse(sql: str, dialect: str) -> Any:
    import sqlglot

    return sqlglot.parse_one(sql, read=dialect)


def _number(value: Any) -> Any:
    return _exp().Literal.number(int(value))


def q(name: str, dialect: str = DIALECT) -> str:
    """A quoted SQL identifier."""
    return _exp().to_identifier(name, quoted=True).sql(dialect=dialect)


def floor_div(x: str, d: int, dialect: str = DIALECT) -> str:
    """SQL for ``floor(x / d)`` of an integer SQL expression ``x`` (DuckDB's ``//`` truncates
    towards zero, so the quotient is lowered by one where the remainder is negative)."""
    exp = _exp()
    node = _parse(x, dialect)
    below = exp.Cast(this=exp.LT(this=exp.Mod(this=exp.Paren(this=node.copy()), expression=_number(d)),
                                 expression=_number(0)),
                     to=exp.DataType(this=exp.DataType.Type.BIGINT))
    tree = exp.Sub(this=exp.IntDiv(this=exp.Paren(this=node.copy()), expression=_number(d)), expression=below)
    return exp.Paren(this=tree).sql(dialect=dialect)


def steps(x: str, bounds: Any, values: Any, dialect: str = DIALECT) -> str:
    """SQL for a step function of ``x``: ``values[0]`` below ``bounds[0]``, ``values[i]`` from
    ``bounds[i - 1]`` on (``bounds`` ascending, one value more than bounds); a balanced tree of
    CASEs, so a row takes about log2(len(bounds)) comparisons."""
    exp = _exp()
    node = _parse(x, dialect)

    def tree(bounds: Any, values: Any) -> Any:
        if len(bounds) == 0:
            return _number(values[0])
        mid = len(bounds) // 2
        below = exp.LT(this=node.copy(), expression=_number(bounds[mid]))
        return exp.Case(ifs=[exp.If(this=below, true=tree(bounds[:mid], values[:mid + 1]))],
                        default=tree(bounds[mid + 1:], values[mid + 1:]))

    return tree(bounds, values).sql(dialect=dialect)
