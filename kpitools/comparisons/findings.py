"""The findings of a period in plain words: significant differences between channels and
significant changes, ranked, plus a few honest "no significant difference" notes (SPEC §5).

Rules, in order:

1. **Which KPIs.** The headline ones, :data:`HEADLINE`: CSAT, NPS, CES, FCR, first-response
   and resolution medians, abandonment and the first-response SLA; a KPI the dataset cannot
   compute is skipped (``attrs["skipped"]`` says why).
2. **Differences.** Every pair of channels with a verdict of :func:`compare_channels`
   (significant after Holm at ``alpha``, both n ≥ 30, expected counts ≥ 5) — one statement,
   the lower value first; a channel significantly lower (or higher) than every other channel
   with n ≥ 30 (at least three of them) gets one statement for all its pairs.
3. **Changes.** Every significant change of :func:`changes` (month over month, year over
   year; Holm over the call) for ``all``; a channel's change only when ``all`` did not
   change significantly the same way (so the dip of one month is one line per comparison, not
   one per channel, while a movement hidden in the total still shows). Never a change against a
   month the KPI's tables do not cover (SPEC A15: :func:`changes` gives it no verdict).
4. **No difference.** Per KPI, at most one: the pair of channels with the widest observed gap
   that is not significant, stated with its minimum detectable difference — the gap a reader
   is most likely to over-read.
5. **Rank.** Differences and changes first, "no difference" notes last; within each, by
   effect-size class (large, medium, small, negligible — Cohen's thresholds: 0.2 / 0.5 / 0.8
   for h and d, 0.1 / 0.3 / 0.5 for the rank-biserial r), then by volume (observations behind
   the statement), then by the size of the effect.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import catalog, coverage
from ..dataset import Dataset
from ..engine.context import Context
from ..engine.tidy import ALL
from .across import compare
from .change import change_table, shift
from .contrast import check_options
from .observations import MIN_N, gather, single_period
from .wording import difference, interval, label, month, p_value, value

HEADLINE = ("csat_pct", "nps", "ces_mean", "fcr_pct", "frt_median_h", "ttr_median_h", "abandonment_pct",
            "sla_frt_pct")
COLUMNS = ["rank", "kind", "kpi", "channels", "pairs", "compare_to", "statement", "effect", "effect_name",
           "magnitude", "n", "p_adj"]
HISTORY = 12
MAGNITUDES = ("negligible", "small", "medium", "large")
_THRESHOLDS = {"cohens_h": (0.2, 0.5, 0.8), "cohens_d": (0.2, 0.5, 0.8), "rank_biserial": (0.1, 0.3, 0.5)}


def magnitude(effect: float, name: str | None) -> str:
    """Cohen's size class of an effect: ``negligible``, ``small``, ``medium`` or ``large``.

    Examples
    --------
    >>> magnitude(-0.55, "cohens_h"), magnitude(0.35, "rank_biserial"), magnitude(float("nan"), None)
    ('medium', 'medium', 'negligible')
    """
    if name not in _THRESHOLDS or not math.isfinite(effect):
        return MAGNITUDES[0]
    return MAGNITUDES[int(np.searchsorted(_THRESHOLDS[name], abs(effect), side="right"))]


def _finding(kind: str, kpi: str, channels: tuple[str, ...], statement: str, effect: float,
             effect_name: str | None, n: float, p_adj: float, compare_to: str | None = None,
             pairs: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    return {"kind": kind, "kpi": kpi, "channels": channels, "pairs": pairs, "compare_to": compare_to,
            "statement": statement, "effect": abs(effect), "effect_name": effect_name,
            "magnitude": magnitude(effect, effect_name), "n": n, "p_adj": p_adj}


def _quoted(name: str, estimate: float, low: float, high: float, kpi: str) -> str:
    """``name value [low, high]`` (the interval left out when a limit is missing)."""
    ci = interval(low, high, kpi)
    return f"{name} {value(estimate, kpi)}" + (f" {ci}" if ci else "")


def _comparative(kpi: str, sense: str) -> str:
    """``lower``/``higher``, or ``shorter``/``longer`` for times."""
    if catalog.get(kpi).unit == "h":
        return "shorter" if sense == "lower" else "longer"
    return sense


def _side(row: Any, group: str) -> tuple[float, float, float, float]:
    """Estimate, CI and n of ``group`` in a pair row."""
    s = "a" if row.group_a == group else "b"
    return tuple(getattr(row, f"{c}_{s}") for c in ("estimate", "ci_low", "ci_high", "n"))


def _pair_statement(row: Any) -> dict[str, Any]:
    low, high = (row.group_a, row.group_b) if row.verdict == "lower" else (row.group_b, row.group_a)
    kpi = row.kpi
    statement = (f"{_quoted(f'{low} {label(kpi)}', *_side(row, low)[:3], kpi)} is "
                 f"{_comparative(kpi, 'lower')} than {_quoted(high, *_side(row, high)[:3], kpi)} "
                 f"({p_value(row.p_adj)}, Holm).")
    return _finding("difference", kpi, (low, high), statement, row.effect_size, row.effect_name,
                    row.n_a + row.n_b, row.p_adj, pairs=((low, high),))


def _extreme_statement(group: str, sense: str, rows: list[Any]) -> dict[str, Any]:
    """``group`` is significantly lower (``sense = "lower"``) or higher than every other channel."""
    kpi = rows[0].kpi
    others = [r.group_b if r.group_a == group else r.group_a for r in rows]
    word = _comparative(kpi, sense)
    superlative = {"lower": "lowest", "higher": "highest", "shorter": "shortest", "longer": "longest"}[word]
    worst_p = max(r.p_adj for r in rows)
    p_text = "all p < 0.001" if worst_p < 0.001 else "all " + p_value(worst_p).replace("=", "≤")
    listing = ", ".join(f"{h} {value(_side(r, h)[0], kpi)}" for h, r in zip(others, rows))
    statement = (f"{_quoted(f'{group} has the {superlative} {label(kpi)},', *_side(rows[0], group)[:3], kpi)}"
                 f", {word} than every other channel ({listing}; {p_text}, Holm).")
    weakest = min(rows, key=lambda r: abs(r.effect_size))  # the class of the least clear-cut pair
    n = _side(rows[0], group)[3] + sum(_side(r, h)[3] for h, r in zip(others, rows))
    pairs = tuple((group, h) if sense == "lower" else (h, group) for h in others)
    return _finding("difference", kpi, (group, *others), statement, weakest.effect_size, weakest.effect_name,
                    n, worst_p, pairs=pairs)


def differences(comp: pd.DataFrame) -> list[dict[str, Any]]:
    """Statements for the significant pairs of a :func:`compare_channels` table (rule 2).

    A channel significantly lower (or higher) than every other channel with enough data, when
    there are at least three, gets one statement instead of one per pair.
    """
    pairs = comp[comp["comparison"] == "pair"]
    rows = list(pairs.itertuples())
    sized = [(r.group_a, r.n_a) for r in rows] + [(r.group_b, r.n_b) for r in rows]
    groups = list(dict.fromkeys(g for g, n in sized if n >= MIN_N))
    below = {(r.group_a, r.group_b) if r.verdict == "lower" else (r.group_b, r.group_a): r
             for r in rows if r.verdict in ("lower", "higher")}  # (lower group, higher group) -> row
    out, covered = [], set()
    if len(groups) >= 3:
        for g in groups:  # a handful of channels
            others = [h for h in groups if h != g]
            for sense, keys in (("lower", [(g, h) for h in others]), ("higher", [(h, g) for h in others])):
                if all(k in below for k in keys):
                    out.append(_extreme_statement(g, sense, [below[k] for k in keys]))
                    covered |= set(keys)
    out += [_pair_statement(r) for key, r in below.items() if key not in covered]
    return out


def change_findings(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Statements for the significant changes of a :func:`changes` table (rule 3)."""
    significant = table[table["verdict"].isin(["lower", "higher"])]
    overall = {r.kind: r.verdict for r in significant.itertuples() if r.channel == ALL}
    out = []
    for row in significant.itertuples():  # a handful of channels × two kinds
        if row.channel != ALL and overall.get(row.kind) == row.verdict:
            continue
        kpi = row.kpi
        name = label(kpi)
        subject = f"{name[0].upper()}{name[1:]} (all channels)" if row.channel == ALL else f"{row.channel} {name}"
        verb = "rose" if row.verdict == "higher" else "fell"
        # the size of the change with its CI (none for medians; no size when one is not reached)
        size = " ".join(x for x in (difference(row.diff, kpi) if math.isfinite(row.diff) else "",
                                    interval(row.diff_low, row.diff_high, kpi, of_difference=True)) if x)
        statement = (f"{subject} {verb} from {value(row.value_before, kpi)} in {month(row.compare_to)} to "
                     f"{value(row.value, kpi)} in {month(row.period)} ({size + ', ' if size else ''}"
                     f"{p_value(row.p_adj)}, Holm).")
        out.append(_finding("change", kpi, (row.channel,), statement, row.effect_size, row.effect_name,
                            row.n + row.n_before, row.p_adj, row.compare_to))
    return out


def no_difference(comp: pd.DataFrame) -> list[dict[str, Any]]:
    """The "no significant difference" note of a :func:`compare_channels` table (rule 4)."""
    pairs = comp[(comp["comparison"] == "pair") & (comp["verdict"] == "no significant difference")
                 & comp["diff"].notna() & comp["mdd"].notna()]
    if pairs.empty:
        return []
    row = pairs.loc[pairs["diff"].abs().idxmax()]
    kpi = row["kpi"]
    statement = (f"{row['group_a']} and {row['group_b']} {label(kpi)}: no significant difference "
                 f"({value(row['estimate_a'], kpi)} vs {value(row['estimate_b'], kpi)}; could detect ≥ "
                 f"{difference(row['mdd'], kpi, signed=False)}).")
    return [_finding("no difference", kpi, (row["group_a"], row["group_b"]), statement, row["effect_size"],
                     row["effect_name"], row["n_a"] + row["n_b"], row["p_adj"])]


def rank(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Order findings by rule 5 and number them from 1 (no findings: no rows, the same columns)."""
    # numbers typed even without rows, so a quiet month's frame filters and sorts like any other
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "rank"]).astype(
        {"effect": float, "n": float, "p_adj": float})
    keys = pd.DataFrame({"last": df["kind"] == "no difference",
                         "size": -df["magnitude"].map(MAGNITUDES.index).astype(int),
                         "n": -df["n"].astype(float), "effect": -df["effect"].astype(float)})
    order = keys.sort_values(["last", "size", "n", "effect"], kind="stable").index
    df = df.loc[order].reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def findings(ds: Dataset, period: str, alpha: float = 0.05) -> pd.DataFrame:
    """The period's significant differences and changes, in plain words, most important first.

    See the module notes for which KPIs, which results become statements and how they are
    ranked. Nothing that is not significant (after Holm) and adequately powered (n ≥ 30 per
    group, expected counts ≥ 5) is called a difference or a change. Channel names are written
    as the data gives them (escaping them is the report's job).

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str
        One month, ``"2026-10"``.
    alpha : float
        Two-sided level (after Holm).

    Returns
    -------
    DataFrame
        ``rank``, ``kind`` (``"difference"``, ``"change"``, ``"no difference"``), ``kpi``,
        ``channels`` (tuple of the channels named, the subject first; for a change the channel
        or ``all``), ``pairs`` (the significant differences the statement asserts, as
        ``(lower, higher)`` channel pairs; empty for changes and notes), ``compare_to`` (the
        earlier month of a change), ``statement``, ``effect`` (absolute effect size),
        ``effect_name``, ``magnitude``, ``n`` (observations behind the statement), ``p_adj``;
        these columns also in a quiet month without any finding (then no rows).
        ``attrs["skipped"]`` maps the headline KPIs left out to the reason.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": range(200), "channel": ["chat"] * 100 + ["phone"] * 100,
    ...                   "created_at": "2026-10-05", "abandoned": [True] * 5 + [False] * 95
    ...                   + [True] * 30 + [False] * 70})
    >>> res = findings(dataset_from_frames({"tickets": t}, as_of="2026-11-01"), "2026-10")
    >>> res.loc[0, "statement"]
    'chat abandonment 5% [2.2, 11] is lower than phone 30% [22, 40] (p < 0.001, Holm).'
    """
    check_options("holm", alpha)
    label_ = single_period(ds, period)
    # one engine context for every KPI: the period and the year before it (changes, Laney)
    months = [shift(label_, -m) for m in range(HISTORY, 0, -1)] + [label_]
    ctx = Context(ds, months)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for kpi in HEADLINE:  # a handful of KPIs
        reason = ctx.missing(kpi)
        if reason is not None:
            skipped[kpi] = reason
            continue
        obs = gather(ctx, kpi)
        comp = compare(obs, label_, "channel", "holm", alpha)
        rows += differences(comp) + no_difference(comp)
        # a change against a month the KPI's tables do not cover gets no verdict, so no statement
        rows += change_findings(change_table(obs, label_, [*obs.groups, ALL], "holm", alpha, HISTORY,
                                             coverage.uncovered(ds, kpi, months)))
    out = rank(rows)
    out.attrs["skipped"] = skipped
    return out
