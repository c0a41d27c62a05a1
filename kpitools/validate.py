"""Row rules of SPEC A3 on a pandas frame, and the text conventions readers and mappings share.

The rules themselves are written once, as SQL built through Ibis, in :mod:`kpitools.rules`; the
loader runs them on its store. :func:`check_table` runs them on a frame in an in-memory DuckDB
for code that builds a table in pandas (tickets derived from conversations).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

TEXT = pd.StringDtype("pyarrow")
_NUMBER_TEXT = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
PERIOD_TEXT = r"^\d{4}-(?:0[1-9]|1[0-2])$"


@dataclass
class Checked:
    """A validated table: typed frame (all rows) and, per row, the first failing rule."""

    frame: pd.DataFrame
    reason: pd.Series  # object: None = kept
    column: pd.Series  # object: the column the reason is about


def clean_text(s: pd.Series) -> pd.Series:
    """Trim text; an empty string is null (SPEC A3)."""
    s = s.astype(TEXT).str.strip()
    return s.mask(s == "")


@dataclass(frozen=True)
class NumberText:
    """How numbers are written in a text file: the decimal mark and an optional thousands
    separator (``[tables.<name>] decimal`` and ``thousands`` in dataset.toml).

    >>> form = NumberText(",", ".")
    >>> text = pd.Series(["1.234,5", "12,25", "1.5", "12.34"], dtype="string")
    >>> text.str.fullmatch(form.pattern).tolist()
    [True, True, False, False]
    """

    decimal: str = "."
    thousands: str | None = None

    @property
    def pattern(self) -> str:
        if (self.decimal, self.thousands) == (".", None):
            return _NUMBER_TEXT
        point = re.escape(self.decimal)
        digits = rf"(?:\d{{1,3}}(?:{re.escape(self.thousands)}\d{{3}})+|\d+)" if self.thousands else r"\d+"
        return rf"^[+-]?(?:{digits}(?:{point}\d*)?|{point}\d+)(?:[eE][+-]?\d+)?$"


def check_table(
    table: str,
    raw: pd.DataFrame,
    *,
    tz: str,
    scales: dict[str, tuple[int, int]],
    channels: frozenset[str] = frozenset(),
    kpi_ids: frozenset[str] = frozenset(),
    dedupe: bool = True,
    numbers: NumberText = NumberText(),
    unreadable: Mapping[str, tuple[np.ndarray, str, np.ndarray]] | None = None,
    statuses: Mapping[str, str] | None = None,
) -> Checked:
    """Type every canonical column of ``raw`` and judge each row (SPEC A3) by the rules of
    :mod:`kpitools.rules`, run in an in-memory DuckDB.

    ``raw`` holds the canonical columns (text or typed) plus extras (kept as trimmed text);
    ``channels`` are the known channels (for costs and targets), ``kpi_ids`` the valid KPI ids
    (for targets); ``dedupe=False`` leaves duplicate keys to the caller; ``numbers`` is how text
    writes numbers; ``unreadable`` gives, per column, the cells a reader could not represent and
    why; ``statuses`` is dataset.toml's ``[statuses]``. Timestamps come back in ``tz``.
    """
    import duckdb
    import ibis

    from .dataset import ROW
    from .rules import CHECKED, COLUMN, REASON, Rules, duplicates
    from .schema import KEYS

    rules = Rules(table, tz=tz, scales=scales, statuses=statuses, channels=channels, kpi_ids=kpi_ids, numbers=numbers)
    positions = raw.set_axis(pd.RangeIndex(len(raw)))  # row numbers for the rules: the rows' positions
    with duckdb.connect() as con:
        checked = rules.check(con, positions, unreadable or {})
        reason = checked[REASON]
        if dedupe and table in KEYS:  # the checked rows are read twice: the rules run once, into a table
            con.execute(f"CREATE TEMP TABLE kpitools_judged AS SELECT * FROM {CHECKED}")
            checked = ibis.table(checked.schema(), name="kpitools_judged")
            passing = checked.filter(checked[REASON].isnull())
            repeated = duplicates(passing, KEYS[table], ROW).select(ROW).distinct()
            reason = ibis.ifelse(checked[ROW].isin(repeated[ROW]),
                                 f"duplicate {' + '.join(KEYS[table])} (the first row is kept)", checked[REASON])
            column = ibis.ifelse(checked[ROW].isin(repeated[ROW]), KEYS[table][0], checked[COLUMN])
            checked = checked.mutate(**{REASON: reason, COLUMN: column})
        result = con.execute(ibis.to_sql(checked.order_by(ROW), dialect="duckdb")).to_arrow_table()
    out = {}
    for name, dtype in rules.dtypes.items():
        values = result.column(name)
        if isinstance(dtype, pd.DatetimeTZDtype):  # int64 ns since the epoch; the minimum is NaT
            ns = pc.fill_null(values, np.iinfo(np.int64).min).to_numpy()
            out[name] = pd.Series(pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(dtype.tz),
                                  index=raw.index)
        else:
            out[name] = pd.Series(values.to_pandas().to_numpy(), index=raw.index).astype(dtype)
    return Checked(pd.DataFrame(out, index=raw.index),
                   pd.Series(result.column(REASON).to_numpy(zero_copy_only=False), index=raw.index, dtype=object),
                   pd.Series(result.column(COLUMN).to_numpy(zero_copy_only=False), index=raw.index, dtype=object))
