"""Tidy KPI rows: building them from per-(period, group) arrays, sorting, and the ``kpis.csv`` writer.

Every engine family produces frames with the columns of :data:`COLUMNS` (``group`` holds the
channel or segment value) from vectorised arrays indexed by ``(mon, g)``; the public functions
rename ``group`` and order the rows.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ..schema import ALL
from ..stats import t_ci, wilson_ci

COLUMNS = ["period", "group", "kpi", "value", "n", "ci_low", "ci_high"]
CSV_COLUMNS = ["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"]


def grid(months: list[int], groups: list[str]) -> pd.MultiIndex:
    """Every ``(mon, g)`` to write: each period × each group, then ``all``."""
    return pd.MultiIndex.from_product([months, [*groups, ALL]], names=["mon", "g"])


def with_all(frame: pd.DataFrame, keys: list[str], value_cols: list[str]) -> pd.DataFrame:
    """Append ``g = "all"`` rows summing ``value_cols`` over every ``g`` (missing segments included)."""
    total = frame.groupby(keys, dropna=False, sort=False)[value_cols].sum().reset_index()
    total["g"] = ALL
    return pd.concat([frame.dropna(subset=["g"]), total], ignore_index=True)


def counts_on(frame: pd.DataFrame, index: pd.MultiIndex, value_cols: list[str]) -> pd.DataFrame:
    """Integer counts per ``(mon, g)`` on ``index`` (0 where absent), ``all`` summed in."""
    frame = with_all(frame, ["mon"], value_cols)
    out = frame.groupby(["mon", "g"])[value_cols].sum().reindex(index, fill_value=0)
    return out.astype(np.int64)


def rows(index: pd.MultiIndex, labels: dict[int, str], kpi: str, value: Any, n: Any,
         low: Any = None, high: Any = None) -> pd.DataFrame:
    """One tidy frame for ``kpi``: a row per entry of ``index`` (``inf`` limits become empty)."""
    size = len(index)

    def col(x: Any) -> np.ndarray:
        arr = np.full(size, np.nan) if x is None else np.asarray(x, dtype=float).copy()
        arr[~np.isfinite(arr)] = np.nan
        return arr

    return pd.DataFrame({
        "period": [labels[m] for m in index.get_level_values("mon")],
        "group": index.get_level_values("g").astype(object),
        "kpi": kpi,
        "value": col(value),
        "n": col(n),
        "ci_low": col(low),
        "ci_high": col(high),
    })


def pct(k: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    """``100 k / n`` (NaN where ``n = 0``) and ``n`` as floats."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 100 * k / n, np.nan), n


def share_rows(index: pd.MultiIndex, labels: dict[int, str], kpi: str, k: Any, n: Any) -> pd.DataFrame:
    """A share in % with its Wilson CI (SPEC A13: exactly 0 at k = 0, 100 at k = n)."""
    value, n = pct(k, n)
    low, high = wilson_ci(np.asarray(k, dtype=float), n)
    return rows(index, labels, kpi, value, n, 100 * low, 100 * high)


def weighted_moments(values: np.ndarray, counts: np.ndarray) -> tuple[float, float, int]:
    """Mean, sample sd and n of ``values`` repeated ``counts`` times (exact sums, order-free)."""
    n = int(counts.sum())
    if n == 0:
        return math.nan, math.nan, 0
    mean = math.fsum(values * counts) / n
    sd = math.sqrt(math.fsum(counts * (values - mean) ** 2) / (n - 1)) if n > 1 else math.nan
    return mean, sd, n


def mean_rows(index: pd.MultiIndex, labels: dict[int, str], kpi: str, mean: Any, sd: Any, n: Any,
              ci: bool = True) -> pd.DataFrame:
    """A mean with its t CI (``n - 1`` degrees of freedom; none at n = 1)."""
    mean, sd, n = (np.asarray(x, dtype=float) for x in (mean, sd, n))
    low, high = t_ci(mean, sd, n) if ci else (None, None)
    return rows(index, labels, kpi, mean, n, low, high)


# ---------------------------------------------------------------- order and CSV (SPEC A14)

def finish(frames: list[pd.DataFrame], group_name: str) -> pd.DataFrame:
    """Concatenate, sort by (period, kpi, group) in plain string order, name the group column."""
    if frames:
        df = pd.concat(frames, ignore_index=True)
    else:
        df = pd.DataFrame({c: pd.Series(dtype=object if c in ("period", "group", "kpi") else float)
                           for c in COLUMNS})
    keys = list(zip(df["period"], df["kpi"], df["group"].astype(str)))
    order = sorted(range(len(df)), key=keys.__getitem__)
    df = df.iloc[order].reset_index(drop=True)
    return df.rename(columns={"group": group_name})


def format_number(x: Any) -> str:
    """Shortest round-trip text of a number; integral values without ``.0``; null → ``""``.

    Examples
    --------
    >>> [format_number(v) for v in (3.0, 0.1, 2.5, float("nan"), None, -0.0, 1e20)]
    ['3', '0.1', '2.5', '', '', '0', '1e+20']
    """
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return ""
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def kpis_to_csv(df: pd.DataFrame, path_or_buffer: str | Path | IO[str] | None = None) -> str | None:
    """Write a :func:`kpis` table as ``kpis.csv`` (SPEC §7, A14).

    Columns ``period, channel, kpi, value, n, ci_low, ci_high``; rows sorted by (period, kpi,
    channel) in plain string order; null is empty; numbers in shortest round-trip form (integral
    values without ``.0``); text cells starting with ``= + - @`` get a leading single quote;
    ``\\n`` line endings, UTF-8. Identical input gives a byte-identical file.

    Parameters
    ----------
    df : DataFrame
        The output of :func:`kpis` (its ``channel`` column, or a first segment column).
    path_or_buffer : str, Path or text buffer, optional
        Where to write; the text is returned when omitted.

    Examples
    --------
    >>> df = pd.DataFrame({"period": ["2026-10"], "channel": ["all"], "kpi": ["tickets"],
    ...                    "value": [3.0], "n": [3.0], "ci_low": [None], "ci_high": [None]})
    >>> print(kpis_to_csv(df), end="")
    period,channel,kpi,value,n,ci_low,ci_high
    2026-10,all,tickets,3,3,,
    """
    from ..safety import neutralise_csv

    group = "channel" if "channel" in df else df.columns[1]
    text = pd.DataFrame({c: df[src].astype(object).where(df[src].notna(), "").astype(str)
                         for c, src in (("period", "period"), ("channel", group), ("kpi", "kpi"))})
    order = sorted(range(len(df)), key=list(zip(text["period"], text["kpi"], text["channel"])).__getitem__)
    text = neutralise_csv(text)
    numbers = [df[c].map(format_number) for c in ("value", "n", "ci_low", "ci_high")]
    columns = [text[c].to_numpy() for c in ("period", "channel", "kpi")] + [s.to_numpy() for s in numbers]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(zip(*(col[order] for col in columns)))
    out = buffer.getvalue()
    if path_or_buffer is None:
        return out
    if isinstance(path_or_buffer, (str, Path)):
        with open(path_or_buffer, "w", encoding="utf-8", newline="") as fh:
            fh.write(out)
    else:
        path_or_buffer.write(out)
    return None


def omitted_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPIs a table leaves out and why (``kpis.attrs["omitted"]``) as rows ``kpi, reason``,
    in catalogue-independent, sorted order.

    Examples
    --------
    >>> df = pd.DataFrame(); df.attrs["omitted"] = {"fcr_pct": "no reopened column in tickets"}
    >>> omitted_frame(df).values.tolist()
    [['fcr_pct', 'no reopened column in tickets']]
    """
    omitted = kpis.attrs.get("omitted", {})
    return pd.DataFrame(sorted(omitted.items()), columns=["kpi", "reason"])
