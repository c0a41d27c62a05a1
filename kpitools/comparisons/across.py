"""One KPI compared across channels (or any segment) in one period: an omnibus test, then every
pair with adjusted p-values, effect sizes and honest verdicts (SPEC §5)."""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .. import catalog
from ..dataset import Dataset
from ..engine.context import Context
from ..stats import chi2_independence, kruskal, logrank
from .contrast import better_of, check_options, contrast, judge, used_columns
from .observations import MIN_EXPECTED, MIN_N, Observations, Sample, gather, resolve_kpi, samples, single_period

COLUMNS = [
    "kpi", "period", "by", "comparison", "group_a", "group_b",
    "estimate_a", "ci_low_a", "ci_high_a", "n_a", "estimate_b", "ci_low_b", "ci_high_b", "n_b",
    "diff", "diff_low", "diff_high", "test", "statistic", "p", "p_adj", "effect_size", "effect_name",
    "mdd", "verdict", "better", "reason", "flags", "hl_shift", "hl_low", "hl_high", "hl_low_open",
    "hl_high_open", "hr", "hr_low", "hr_high", "interval_of", "level", "family",
]
_PAIR_COLUMNS = ["group_a", "group_b", "diff", "diff_low", "diff_high", "test", "statistic", "p", "effect_size",
                 "effect_name", "mdd", "hl_shift", "hl_low", "hl_high", "hl_low_open", "hl_high_open", "hr",
                 "hr_low", "hr_high", "interval_of", "sign", "reason", "flags", "_ci", "_mdd"]
METHOD_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg", "none": "no adjustment"}
NAN = math.nan
#: Pairs grow with the square of the groups (5,000 channels: 12.5 million): beyond this many only
#: the largest groups by n are compared, and the omnibus row says so.
MAX_GROUPS = 10


def _rank_data(tested: dict[str, Sample]) -> tuple[np.ndarray, pd.Categorical]:
    """Every observation of the tested groups with its group (in the groups' order)."""
    labels = list(tested)
    values = np.concatenate([s.expanded() for s in tested.values()])
    sizes = [int(s.weights.sum()) for s in tested.values()]
    groups = pd.Categorical(np.repeat(np.array(labels, dtype=object), sizes), categories=labels)
    return values, groups


def _omnibus(kind: str, tested: dict[str, Sample]) -> dict[str, Any]:
    """The k-group test of the groups with enough data (NaN statistics with fewer than two)."""
    out = {"test": "none", "statistic": NAN, "p": NAN, "effect_size": NAN, "effect_name": None,
           "reason": None}
    if len(tested) < 2:
        out["reason"] = f"fewer than 2 groups with n ≥ {MIN_N}"
        return out
    if kind in ("share", "nps"):
        table = np.array([[s.successes, s.n - s.successes] if kind == "share" else s.nps_counts
                          for s in tested.values()])
        res = chi2_independence(used_columns(table) if kind == "nps" else table)
        out.update(test=res.test, statistic=res.statistic, p=res.p, effect_size=res.cramers_v,
                   effect_name="cramers_v")
        if res.min_expected < MIN_EXPECTED:
            out["reason"] = f"an expected count is below {MIN_EXPECTED} ({res.min_expected:.1f})"
    elif kind in ("score", "mean"):
        res = kruskal(*_rank_data(tested))
        out.update(test="kruskal", statistic=res.statistic, p=res.p, effect_size=res.epsilon_squared,
                   effect_name="epsilon_squared")
    else:
        sizes = [len(s.values) for s in tested.values()]
        res = logrank(np.concatenate([s.values for s in tested.values()]),
                      np.concatenate([s.events for s in tested.values()]),
                      np.repeat(np.arange(len(tested)), sizes),
                      np.concatenate([s.weights for s in tested.values()]))
        out.update(test="logrank", statistic=res.chi2, p=res.p)
    return out


def _omnibus_row(obs: Observations, ss: dict[str, Sample], alpha: float) -> dict[str, Any]:
    tested = {g: s for g, s in ss.items() if s.n >= MIN_N}
    res = _omnibus(obs.kind, tested)
    if res["reason"] is not None or not math.isfinite(res["p"]):
        verdict = "not enough data"
        res["reason"] = res["reason"] or "no test possible: nothing varies"
    elif res["p"] < alpha:
        verdict = "difference"
    else:
        verdict = "no significant difference"
        res["reason"] = f"p = {res['p']:.2g} ≥ {alpha:g}"
    left_out = [g for g in ss if g not in tested]
    flags = f"left out (n < {MIN_N}): {', '.join(left_out)}" if left_out and len(tested) >= 2 else ""
    return {**res, "comparison": "omnibus", "group_a": None, "group_b": None,
            "n_a": float(sum(s.n for s in tested.values())), "p_adj": res["p"], "verdict": verdict,
            "flags": flags}


def largest(ss: dict[str, Sample], groups: list[str], top: int | None) -> list[str]:
    """The ``top`` groups with the most observations (ties by name), in their original order;
    every group when ``top`` is None or not exceeded.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> largest({"a": S(n=5), "b": S(n=50), "c": S(n=50)}, ["a", "b", "c"], 2)
    ['b', 'c']
    """
    if top is None or len(groups) <= top:
        return list(groups)
    keep = set(sorted(groups, key=lambda g: (-ss[g].n, g))[:top])
    return [g for g in groups if g in keep]


def pair_rows(obs: Observations, period: str, alpha: float = 0.05, groups: list[str] | None = None) -> pd.DataFrame:
    """Every pair of ``groups`` (default: every group but the structural zeros of SPEC §9) in
    ``period`` with its contrast, before any adjustment.

    Besides the contrast's columns (private ``_ci`` / ``_mdd`` included), each row has the groups'
    ``estimate``, ``ci_low``, ``ci_high`` and ``n`` and the ``kpi``.
    """
    if groups is None:
        groups = [g for g in obs.groups if g not in obs.structural_zeros]
    ss = samples(obs, period, groups)  # only the groups compared: a few of thousands
    rows = [{"group_a": a, "group_b": b, **contrast(ss[a], ss[b], a, b, alpha)}
            for a, b in combinations(groups, 2)]  # at most MAX_GROUPS groups: 45 pairs
    out = pd.DataFrame(rows, columns=_PAIR_COLUMNS)
    for side in ("a", "b"):
        chosen = [ss[g] for g in out[f"group_{side}"]]
        for col in ("estimate", "ci_low", "ci_high", "n"):
            out[f"{col}_{side}"] = np.array([getattr(s, col) for s in chosen], dtype=float)
    out["kpi"], out["comparison"] = obs.kpi, "pair"
    return out


def finish_pairs(judged: pd.DataFrame) -> pd.DataFrame:
    """``better`` from the verdicts and each KPI's direction; the private columns dropped."""
    out = judged.copy()
    better = []
    for v, a, b, kpi in zip(out["verdict"], out["group_a"], out["group_b"], out["kpi"]):
        which = better_of(v, catalog.get(kpi).direction)
        better.append(None if which == 0 else (a if which == 1 else b))
    out["better"] = pd.Series(better, index=out.index, dtype=object)
    return out.drop(columns=[c for c in ("_ci", "_mdd", "sign") if c in out])


def family_name(p_adjust: str, family: int, what: str = "pairs of this KPI") -> str:
    """The adjustment family of a table: ``"Holm over the 10 pairs of this KPI"``.

    Examples
    --------
    >>> family_name("holm", 10)
    'Holm over the 10 pairs of this KPI'
    """
    if family == 1:
        what = what.replace("pairs", "pair").replace("statements", "statement").replace("changes", "change")
    if p_adjust == "none":
        return f"no adjustment ({family} {what})"
    return f"{METHOD_NAMES[p_adjust]} over the {family} {what}"


def compare(obs: Observations, period: str, by: str = "channel", p_adjust: str = "holm",
            alpha: float = 0.05, top: int | None = MAX_GROUPS) -> pd.DataFrame:
    """:func:`compare_channels` on gathered observations (see there for the output)."""
    check_options(p_adjust, alpha)
    ss = samples(obs, period)
    eligible = [g for g in obs.groups if g not in obs.structural_zeros]
    compared = largest(ss, eligible, top)
    judged = judge(pair_rows(obs, period, alpha, compared), p_adjust, alpha)
    family = family_name(p_adjust, judged.attrs["family"])
    pair_frame = finish_pairs(judged)
    omni = _omnibus_row(obs, {g: ss[g] for g in compared}, alpha)
    notes = [omni["flags"]] if omni["flags"] else []
    if obs.structural_zeros:
        notes.append(f"not compared (the KPI never occurs in their history): {', '.join(sorted(obs.structural_zeros))}")
    if len(compared) < len(eligible):
        notes.append(f"compared: the {len(compared)} largest of {len(eligible)} {by} values by n; "
                     f"the other {len(eligible) - len(compared)} are not compared")
    omni["flags"] = "; ".join(notes)
    out = pd.concat([pd.DataFrame([omni]), pair_frame], ignore_index=True)
    out["kpi"], out["period"], out["by"] = obs.kpi, period, by
    out["family"] = [None] + [family] * len(pair_frame)
    for col in ("estimate_a", "ci_low_a", "ci_high_a", "estimate_b", "ci_low_b", "ci_high_b", "n_b", "diff",
                "diff_low", "diff_high", "mdd", "hl_shift", "hl_low", "hl_high", "hr", "hr_low", "hr_high",
                "level"):
        out[col] = out[col].astype(float)
    for col in ("hl_low_open", "hl_high_open"):
        out[col] = [bool(v) if isinstance(v, (bool, np.bool_)) else False for v in out[col]]
    out["better"] = out["better"].astype(object).where(out["better"].notna(), None)
    out.attrs["family"] = family
    return out[COLUMNS]


def compare_channels(ds: Dataset, period: str, kpi: str, by: str = "channel", p_adjust: str = "holm",
                     alpha: float = 0.05, business_hours: bool = False, top: int | None = MAX_GROUPS) -> pd.DataFrame:
    """Compare one KPI across channels (or any segment) in one period, with honest verdicts.

    The test is chosen by the KPI's kind (SPEC §5):

    * shares (``fcr_pct``, ``reopen_pct``, ``open_pct``, ``sla_frt_pct``, ``abandonment_pct``,
      ``csat_pct``, ``ces_easy_pct``): chi-square test of independence on the k × 2 table
      (Fisher's exact test or a seeded Monte-Carlo test when an expected count is < 5) with
      Cramér's V; pairs: pooled two-proportion z-test (Fisher where an expected count < 5),
      Mee's score interval of the difference in points (it inverts the same z-test), Cohen's h;
    * ``nps``: chi-square test on the k × 3 detractor/passive/promoter table (the NPS differ only
      if those mixes do) with Cramér's V; pairs: z-test of the NPS difference with its Wald SE
      and CI, standardised difference d;
    * mean scores (``csat_mean``, ``ces_mean``): Kruskal–Wallis (tie-corrected) with epsilon²;
      pairs: Mann–Whitney (tie-corrected) with rank-biserial r, and the Hodges–Lehmann shift
      (``hl_shift``) with the interval ``hl_low``/``hl_high`` (ends open where ``hl_*_open``)
      that agrees with the test; ``diff`` is the difference of the means (no interval: the
      verdict is the rank test's);
    * ``aht_min``: Kruskal–Wallis; pairs: Welch's t-test with its interval of the mean difference;
    * times (``frt_median_h``, ``ttr_median_h`` and the ``_bh_`` twins): k-sample log-rank
      (censoring-aware); pairs: log-rank with the Peto hazard ratio ``hr`` of a over b and its
      interval (the verdict's), and the difference of the Kaplan–Meier medians with a
      Brookmeyer–Crowley-based interval (``flags`` says when it disagrees with the log-rank).

    Honesty rules: a group with n < 30 (n as :func:`kpitools.kpis` counts it) is left out of
    the omnibus test and its pairs are not tested ("not enough data", ``reason`` says why);
    where an expected count is < 5 the exact/Monte-Carlo test is shown but no verdict given;
    a log-rank pair without events has no test (``reason`` says so); a channel whose KPI never
    occurs in its history (no abandoned ticket ever: SPEC §9 structural zeros) is not compared;
    Kaplan–Meier medians on fewer than 10 events (or not reached) are named in ``flags``. The
    pairs with a verdict form the adjustment family (Holm by default), named in the ``family``
    column (``"Holm over the 10 pairs of this KPI"``); every interval beside a verdict is at
    the level the family used (``level``: an interval excludes 0 exactly when the adjusted p is
    below ``alpha``), and so is the minimum detectable difference (``mdd``, 80 % power; for
    shares R's ``power.prop.test`` solved for the second proportion). The pairwise tests do
    not wait on the omnibus one.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str
        One month, ``"2026-10"``.
    kpi : str
        A comparable KPI id (above). Counts, costs and customer KPIs raise a KpitoolsError.
    by : str
        ``"channel"`` (every channel of SPEC A6, also those without data), or any ticket or
        survey column (``agent_id``, ``topic``...): the values seen in the period.
    p_adjust : {"holm", "bh", "none"}
        Adjustment of the pairwise p-values.
    alpha : float
        Two-sided level.
    business_hours : bool
        For ``frt_median_h`` / ``ttr_median_h``: compare on the business-hours clock.

    Returns
    -------
    DataFrame
        One ``comparison = "omnibus"`` row, then one ``"pair"`` row per pair ``(group_a,
        group_b)`` in group order. Columns: ``kpi``, ``period``, ``by``, ``comparison``,
        ``group_a``, ``group_b``; ``estimate_*``, ``ci_low_*``, ``ci_high_*``, ``n_*`` of each
        group — the values of :func:`kpitools.kpis` (a median not reached is NaN; ``open_pct``
        gets a Wilson CI here); ``n_a`` of the omnibus row is the total of the tested groups;
        ``diff``, ``diff_low``, ``diff_high`` (a − b, in points for shares and NPS, else in the
        KPI's unit; for times the difference of the medians); ``test``, ``statistic``, ``p``,
        ``p_adj`` (omnibus: the single test's p);
        ``effect_size``, ``effect_name``; ``mdd``; ``verdict`` — pairs: ``"lower"`` /
        ``"higher"`` (a's value is lower/higher than b's, whatever is better), ``"no significant
        difference"`` or ``"not enough data"``; omnibus: ``"difference"``, ``"no significant
        difference"`` or ``"not enough data"``; ``better`` (the better group by the catalog's
        direction, for a significant pair); ``reason`` (why there is no verdict, or the adjusted
        p when not significant); ``flags``; ``hl_shift``, ``hl_low``, ``hl_high``,
        ``hl_low_open``, ``hl_high_open``; ``hr``, ``hr_low``, ``hr_high``; ``interval_of``
        (``"difference"``, ``"shift"`` or ``"hazard ratio"``: which interval goes with the
        verdict); ``level`` (the raw level the family's verdicts used); ``family`` (its name).
        ``attrs["family"]`` holds the name too.

    ``top`` (default :data:`MAX_GROUPS`) caps the groups compared to the largest by n; the
    omnibus row's ``flags`` names how many were left out. None compares every group.

    Raises
    ------
    KpitoolsError
        Unknown or non-comparable KPI id, a KPI the dataset cannot compute, ``by`` not a column,
        a period that is not one month, a bad ``p_adjust`` or ``alpha``.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": range(120), "channel": ["chat"] * 60 + ["email"] * 60,
    ...                   "created_at": "2026-10-05", "resolved_at": "2026-10-06",
    ...                   "reopened": [0] * 50 + [1] * 10 + [0] * 30 + [1] * 30})
    >>> res = compare_channels(dataset_from_frames({"tickets": t}), "2026-10", "reopen_pct")
    >>> res[["comparison", "group_a", "group_b", "diff", "verdict", "better"]].round(1)
      comparison group_a group_b  diff          verdict better
    0    omnibus    None    None   NaN       difference   None
    1       pair    chat   email -33.3            lower   chat
    """
    kpi = resolve_kpi(kpi, business_hours)
    check_options(p_adjust, alpha)
    label = single_period(ds, period)
    return compare(gather(Context(ds, label), kpi, by), label, by, p_adjust, alpha, top)
