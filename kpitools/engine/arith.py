"""Integer arithmetic as Ibis expressions that every backend evaluates alike.

Ibis compiles ``x // d`` as ``FLOOR(x / d)`` in floating point: exact while ``|x| < 2**53``, but
nanosecond instants are about ``1.8e18``, where a double is off by up to 128. :func:`floor_div`
corrects that estimate with integer arithmetic, so the engine depends neither on a backend's
integer division (DuckDB's ``//`` truncates, Spark's ``div`` is not in Ibis) nor on float rounding.

Examples
--------
>>> import ibis
>>> t = ibis.memtable({"x": [1_700_000_000_000_001_999, -1, 7, -1_500]})
>>> out = ibis.duckdb.connect().execute(t.select(us=floor_div(t.x, 1000), r=round_div(t.x, 1000)))
>>> out["us"].tolist(), out["r"].tolist()
([1700000000000001, -1, 0, -2], [1700000000000002, 0, 0, -2])
"""

from __future__ import annotations

from typing import Any


def _ibis() -> Any:
    import ibis

    return ibis


def floor_div(x: Any, d: int) -> Any:
    """``floor(x / d)`` of an integer expression ``x`` for a positive integer ``d``, exactly.

    The float estimate ``q`` is within 3 of the truth for any int64 ``x``, so ``x - q·d`` is a
    small integer whose own float division is exact.
    """
    q = x // d
    return q + (x - q * d) // d


def round_div(x: Any, d: int) -> Any:
    """``x / d`` rounded half away from zero: SQL ``round`` of the floating-point quotient, as the
    engine has always rounded nanosecond durations to microseconds (exact while ``|x| < 2**53``,
    about 104 days in ns, and beyond that for durations between whole microseconds)."""
    return (x / d).round().cast("int64")
