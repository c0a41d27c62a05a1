"""The findings of a period in plain words: what a report may claim (SPEC §9), most important first.

Rules:

1. **Which KPIs.** The headline ones, :data:`HEADLINE`: CSAT, NPS, CES, FCR, first-response
   and resolution medians, abandonment and the first-response SLA; a KPI the dataset cannot
   compute is skipped (``attrs["skipped"]`` says why).
2. **One family per page.** Every statement the page tests — each pair of channels of each KPI,
   each change (month over month, year over year; every channel and ``all``), each KPI and
   channel with a target — is one family, adjusted by Benjamini–Hochberg at ``alpha`` (false
   discovery rate); ``attrs["family"]`` states it once, with the level the intervals use.
   Intervals beside verdicts are at that level (:func:`~kpitools.comparisons.contrast.judge`),
   so an interval never contradicts its verdict.
3. **Changes.** A significant change of ``all``; a channel's change only when ``all`` did not
   change significantly the same way. A change of a time KPI of ``all`` is tested within
   channels (log-rank stratified by channel); where the crude (unstratified) verdict differs,
   the statement says the change comes from the channel mix and gives the value at the
   earlier month's mix. Never a change against a month the KPI's tables do not cover.
4. **Targets missed.** A KPI whose ``all`` value (or a channel's) is significantly on the wrong
   side of its target (one-sample score / z / t test; time KPIs have none).
5. **Differences.** Every significant pair of channels, the lower value first; a channel
   significantly lower (or higher) than every other channel (at least three with n ≥ 30) gets
   one statement. *New* when the pair did not differ the same way the month before (Holm over
   that month's pairs of the KPI), else *standing*. Channels whose KPI never occurs (no
   abandoned ticket in their history) are not compared.
6. **No difference.** Per KPI at most one note: the pair with the widest gap that is not
   significant, with the minimum detectable difference at the family's level and 80 % power.
7. **Order** (``group``): changes vs last month, changes vs last year, targets missed, new
   differences, standing differences, notes. Within a group, by KPI in :data:`HEADLINE` order
   (effects on different scales are not comparable), then by the effect on the KPI's own scale
   (``effect``: points for shares and NPS, per cent of the scale for scores, relative change in
   per cent for times) — never by effect-size classes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import catalog, coverage
from ..dataset import Dataset
from ..engine.context import Context
from ..engine.tidy import ALL
from ..stats import t_ci, wilson_ci
from ..targets import targets_for
from .across import MAX_GROUPS, compare, family_name, finish_pairs, largest, pair_rows
from .change import change_rows, finish_changes, shift
from .contrast import _no_mdd, _result, check_options, judge
from .observations import MIN_N, Observations, gather, samples, single_period
from ..format import hazard_ratio as ratio
from ..format import percent
from .wording import difference, interval, label, month, p_value, value

HEADLINE = ("csat_pct", "nps", "ces_mean", "fcr_pct", "frt_median_h", "ttr_median_h", "abandonment_pct",
            "sla_frt_pct")
COLUMNS = ["rank", "kind", "group", "kpi", "channels", "pairs", "compare_to", "statement", "effect", "effect_name",
           "magnitude", "n", "p_adj"]
#: Finding groups in page order (SPEC §9).
GROUPS = ("month over month", "year over year", "target missed", "new difference", "standing difference",
          "no difference")
HISTORY = 12
MAGNITUDES = ("negligible", "small", "medium", "large")
_THRESHOLDS = {"cohens_h": (0.2, 0.5, 0.8), "cohens_d": (0.2, 0.5, 0.8), "rank_biserial": (0.1, 0.3, 0.5)}
_SCALE_UNITS = {"%": "pp", "score": "points"}


def magnitude(effect: float, name: str | None) -> str:
    """Cohen's size class of a standardised effect (shown, never used to rank): ``negligible``,
    ``small``, ``medium`` or ``large``; a hazard ratio by its logarithm against the h classes.

    Examples
    --------
    >>> magnitude(-0.55, "cohens_h"), magnitude(0.35, "rank_biserial"), magnitude(float("nan"), None)
    ('medium', 'medium', 'negligible')
    """
    if name == "hazard_ratio" and effect > 0:
        effect, name = math.log(effect), "cohens_h"
    if name not in _THRESHOLDS or not math.isfinite(effect):
        return MAGNITUDES[0]
    return MAGNITUDES[int(np.searchsorted(_THRESHOLDS[name], abs(effect), side="right"))]


def own_scale(kpi: str, a: float, b: float, scale: tuple[int, int] | None = None) -> tuple[float, str]:
    """The size of the gap between KPI values ``a`` and ``b`` on the KPI's own scale, for ranking.

    Points for percentages and NPS; per cent of the scale's range for mean scores; relative
    change in per cent (of ``b``, the earlier or the reference value) for times.

    Examples
    --------
    >>> own_scale("csat_pct", 53.0, 78.0), own_scale("ttr_median_h", 12.0, 8.0), own_scale("ces_mean", 4.8, 5.7, (1, 7))
    ((25.0, 'pp'), (50.0, '% relative'), (15.0, '% of scale'))
    """
    unit = catalog.get(kpi).unit
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.nan, ""
    if unit == "h":
        return (100 * abs(a / b - 1), "% relative") if b > 0 else (math.nan, "")
    if kpi == "nps":
        return abs(a - b), "points"
    if unit == "score":
        span = (scale[1] - scale[0]) if scale else 1
        return round(100 * abs(a - b) / span, 12), "% of scale"
    return abs(a - b), _SCALE_UNITS.get(unit, unit)


def _finding(kind: str, group: str, kpi: str, channels: tuple[str, ...], statement: str, effect: tuple[float, str],
             size: float, size_name: str | None, n: float, p_adj: float, compare_to: str | None = None,
             pairs: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    return {"kind": kind, "group": group, "kpi": kpi, "channels": channels, "pairs": pairs, "compare_to": compare_to,
            "statement": statement, "effect": effect[0], "effect_name": effect[1],
            "magnitude": magnitude(size, size_name), "n": n, "p_adj": p_adj}


def _comparative(kpi: str, sense: str) -> str:
    """``lower``/``higher``, or ``shorter``/``longer`` for times."""
    if catalog.get(kpi).unit == "h":
        return "shorter" if sense == "lower" else "longer"
    return sense


def _p(p: float) -> str:
    return "adjusted " + p_value(p)


def _shift_text(low: float, high: float, low_open: bool, high_open: bool, kpi: str) -> str:
    ends = [difference(x, kpi) if math.isfinite(x) else ("−∞" if x < 0 else "+∞") for x in (low, high)]
    return f"{'(' if low_open else '['}{ends[0]}, {ends[1]}{')' if high_open else ']'}"


def verdict_size(r: Any, kpi: str, flip: bool = False) -> str:
    """The size of a verdict with the interval that goes with it, for a statement.

    ``flip`` turns a − b into b − a (the hazard ratio into its inverse).
    """
    sign = -1.0 if flip else 1.0
    parts = []
    if r.interval_of == "hazard ratio":
        if math.isfinite(r.diff):
            lo, hi = sorted((sign * r.diff_low, sign * r.diff_high))
            # the medians' own interval only where it agrees with the log-rank verdict
            agrees = (lo > 0 or hi < 0) == (r.verdict in ("higher", "lower"))
            parts.append(" ".join(x for x in (difference(sign * r.diff, kpi),
                                              interval(lo, hi, kpi, of_difference=True) if agrees else "") if x))
        hr, lo, hi = (r.hr, r.hr_low, r.hr_high) if not flip else (1 / r.hr, 1 / r.hr_high, 1 / r.hr_low)
        parts.append(f"hazard ratio {ratio(hr)} [{ratio(lo)}, {ratio(hi)}]")
    elif r.interval_of == "shift":
        parts.append(difference(sign * r.diff, kpi) + " in the mean")
        lo, hi, lo_open, hi_open = r.hl_low, r.hl_high, r.hl_low_open, r.hl_high_open
        if flip:
            lo, hi, lo_open, hi_open = -hi, -lo, hi_open, lo_open
        parts.append(f"shift of scores {_shift_text(lo, hi, lo_open, hi_open, kpi)}")
    else:
        lo, hi = sorted((sign * r.diff_low, sign * r.diff_high))
        parts.append(" ".join(x for x in (difference(sign * r.diff, kpi), interval(lo, hi, kpi, of_difference=True))
                              if x))
    return "; ".join(parts)


# ---------------------------------------------------------------- differences

def _side(row: Any, group: str) -> tuple[float, float]:
    """Estimate and n of ``group`` in a pair row."""
    s = "a" if row.group_a == group else "b"
    return getattr(row, f"estimate_{s}"), getattr(row, f"n_{s}")


def _pair_statement(row: Any, group: str, scale: tuple[int, int] | None) -> dict[str, Any]:
    low, high = (row.group_a, row.group_b) if row.verdict == "lower" else (row.group_b, row.group_a)
    kpi = row.kpi
    statement = (f"{low} {label(kpi)} {value(_side(row, low)[0], kpi)} is {_comparative(kpi, 'lower')} than "
                 f"{high} {value(_side(row, high)[0], kpi)} ({verdict_size(row, kpi, flip=low != row.group_a)}; "
                 f"{_p(row.p_adj)}).")
    return _finding("difference", group, kpi, (low, high), statement,
                    own_scale(kpi, _side(row, high)[0], _side(row, low)[0], scale), row.effect_size, row.effect_name,
                    row.n_a + row.n_b, row.p_adj, pairs=((low, high),))


def _extreme_statement(group_name: str, group: str, sense: str, rows: list[Any],
                       scale: tuple[int, int] | None) -> dict[str, Any]:
    """``group`` is significantly lower (``sense = "lower"``) or higher than every other channel."""
    kpi = rows[0].kpi
    others = [r.group_b if r.group_a == group else r.group_a for r in rows]
    word = _comparative(kpi, sense)
    superlative = {"lower": "lowest", "higher": "highest", "shorter": "shortest", "longer": "longest"}[word]
    worst_p = max(r.p_adj for r in rows)
    p_text = "all adjusted p < 0.001" if worst_p < 0.001 else "all adjusted " + p_value(worst_p).replace("=", "≤")
    listing = ", ".join(f"{h} {value(_side(r, h)[0], kpi)}" for h, r in zip(others, rows))
    own = _side(rows[0], group)[0]
    statement = (f"{group} has the {superlative} {label(kpi)}, {value(own, kpi)}, {word} than every other channel "
                 f"({listing}; {p_text}).")
    nearest = min(rows, key=lambda r: abs(_side(r, r.group_b if r.group_a == group else r.group_a)[0] - own))
    other = nearest.group_b if nearest.group_a == group else nearest.group_a
    n = _side(rows[0], group)[1] + sum(_side(r, h)[1] for h, r in zip(others, rows))
    pairs = tuple((group, h) if sense == "lower" else (h, group) for h in others)
    return _finding("difference", group_name, kpi, (group, *others), statement,
                    own_scale(kpi, *sorted((_side(nearest, other)[0], own), reverse=sense == "lower"), scale),
                    nearest.effect_size, nearest.effect_name, n, worst_p, pairs=pairs)


def _significant(pairs: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """(lower group, higher group) -> row, for the significant pairs of a judged pair frame."""
    rows = pairs[pairs["verdict"].isin(["lower", "higher"])]
    return {(r.group_a, r.group_b) if r.verdict == "lower" else (r.group_b, r.group_a): r for r in rows.itertuples()}


def differences(comp: pd.DataFrame, before: pd.DataFrame | None = None,
                scale: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Statements for the significant pairs of one KPI (rule 5), new or standing against ``before``
    (the previous month's judged pairs; None: every difference is new)."""
    pairs = comp[comp["comparison"] == "pair"] if "comparison" in comp else comp
    rows = list(pairs.itertuples())
    sized = [(r.group_a, r.n_a) for r in rows] + [(r.group_b, r.n_b) for r in rows]
    groups = list(dict.fromkeys(g for g, n in sized if n >= MIN_N))
    below = _significant(pairs)
    known = set(_significant(before[before["comparison"] == "pair"])) if before is not None else set()

    def group_of(keys: list[tuple[str, str]]) -> str:
        return "standing difference" if all(k in known for k in keys) else "new difference"

    out, covered = [], set()
    if len(groups) >= 3:
        for g in groups:  # a handful of channels
            others = [h for h in groups if h != g]
            for sense, keys in (("lower", [(g, h) for h in others]), ("higher", [(h, g) for h in others])):
                if all(k in below for k in keys):
                    out.append(_extreme_statement(group_of(keys), g, sense, [below[k] for k in keys], scale))
                    covered |= set(keys)
    out += [_pair_statement(r, group_of([key]), scale) for key, r in below.items() if key not in covered]
    return out


def no_difference(comp: pd.DataFrame, scale: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """The "no significant difference" note of one KPI's judged pairs (rule 6)."""
    pairs = comp[(comp["verdict"] == "no significant difference") & comp["diff"].notna() & comp["mdd"].notna()]
    if "comparison" in comp:
        pairs = pairs[pairs["comparison"] == "pair"]
    if pairs.empty:
        return []
    row = pairs.loc[pairs["diff"].abs().idxmax()]
    kpi = row["kpi"]
    statement = (f"{row['group_a']} and {row['group_b']} {label(kpi)}: no significant difference "
                 f"({value(row['estimate_a'], kpi)} vs {value(row['estimate_b'], kpi)}; could detect ≥ "
                 f"{difference(row['mdd'], kpi, signed=False)} with 80% power).")
    return [_finding("no difference", "no difference", kpi, (row["group_a"], row["group_b"]), statement,
                     own_scale(kpi, row["estimate_a"], row["estimate_b"], scale), row["effect_size"],
                     row["effect_name"], row["n_a"] + row["n_b"], row["p_adj"])]


# ---------------------------------------------------------------- changes

def _subject(row: Any) -> str:
    name = label(row.kpi)
    return f"{name[0].upper()}{name[1:]} (all channels)" if row.channel == ALL else f"{row.channel} {name}"


def _mix_statement(row: Any) -> str:
    """A change of ``all`` whose crude and within-channel verdicts differ: it comes from the channel mix."""
    kpi = row.kpi
    crude = row.crude_verdict if row.crude_verdict in ("higher", "lower") else None
    moved = {"higher": "rose", "lower": "fell", None: "went"}[crude]
    text = (f"{_subject(row)} {moved} from {value(row.value_before, kpi)} in {month(row.compare_to)} to "
            f"{value(row.value, kpi)} in {month(row.period)}")
    mix = (f"; at {month(row.compare_to)}'s channel mix {month(row.period)} would be {value(row.mix_value, kpi)}."
           if math.isfinite(row.mix_value) else ".")
    hr = f"hazard ratio {ratio(row.hr)} [{ratio(row.hr_low)}, {ratio(row.hr_high)}]"
    if row.verdict in ("higher", "lower"):
        within = "longer" if row.verdict == "higher" else "shorter"
        if crude is None:  # no significant change overall, a significant one within channels
            return (f"{text}, no significant change overall, but within channels times got {within} ({hr}, "
                    f"log-rank stratified by channel; {_p(row.p_adj)}): the channel mix hides it{mix}")
        return (f"{text}, but only through the channel mix: within channels times got {within} ({hr}, log-rank "
                f"stratified by channel; {_p(row.p_adj)}){mix}")
    return (f"{text} only through the channel mix: within channels no significant change (log-rank stratified "
            f"by channel, {_p(row.p_adj)}){mix}")


def change_findings(table: pd.DataFrame, scale: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Statements for the significant changes of a judged change frame (rule 3)."""
    table = table.assign(crude_verdict=table.get("crude_verdict", None))
    mixed = table["crude_verdict"].notna() & (table["crude_verdict"] != table["verdict"]) & (
        table["crude_verdict"].isin(["lower", "higher"]) | table["verdict"].isin(["lower", "higher"]))
    significant = table[table["verdict"].isin(["lower", "higher"]) | mixed]
    overall = {r.kind: r.verdict for r in significant.itertuples() if r.channel == ALL}
    out = []
    for row, is_mix in zip(significant.itertuples(), mixed[significant.index]):  # channels × two kinds
        if row.channel != ALL and overall.get(row.kind) == row.verdict:
            continue
        kpi = row.kpi
        group = "month over month" if row.kind == "mom" else "year over year"
        effect = own_scale(kpi, row.value, row.value_before, scale)
        p_adj = row.p_adj
        if is_mix:
            statement = _mix_statement(row)
            if row.verdict not in ("higher", "lower"):  # the crude change, judged at the page's level
                p_adj = min(1.0, row.crude_p * row.p_adj / row.p) if row.p > 0 else row.crude_p
        else:
            verb = "rose" if row.verdict == "higher" else "fell"
            statement = (f"{_subject(row)} {verb} from {value(row.value_before, kpi)} in {month(row.compare_to)} to "
                         f"{value(row.value, kpi)} in {month(row.period)} ({verdict_size(row, kpi)}; "
                         f"{_p(row.p_adj)}).")
        out.append(_finding("change", group, kpi, (row.channel,), statement, effect, row.effect_size,
                            row.effect_name, row.n + row.n_before, p_adj, row.compare_to))
    return out


# ---------------------------------------------------------------- targets

def target_rows(obs: Observations, period: str, targets: pd.DataFrame | None, alpha: float = 0.05) -> pd.DataFrame:
    """One-sample tests of each group's value against its target (shares: score test, inverted by
    the Wilson interval; NPS: z with the Wald SE; mean scores: t), before any adjustment."""
    rows = []
    groups = [ALL, *(g for g in obs.groups if g not in obs.structural_zeros)]
    ss = samples(obs, period, groups)
    goals = targets_for(targets, obs.kpi, groups)  # one lookup for thousands of channels
    for g, target in zip(groups, goals.tolist()):
        s = ss[g]
        if math.isnan(target) or obs.kind == "time" or s.n < MIN_N:  # NaN: no target
            continue
        diff = s.estimate - target
        if obs.kind == "share":
            p0 = target / 100
            if not 0 < p0 < 1:
                continue
            z = (s.successes / s.n - p0) / math.sqrt(p0 * (1 - p0) / s.n)

            def ci(conf: float, s=s, target=target) -> dict[str, Any]:
                lo, hi = wilson_ci(s.successes, s.n, conf)
                return {"diff_low": 100 * lo - target, "diff_high": 100 * hi - target}
            test = "score"
        elif obs.kind == "nps":
            d, _, r = s.nps_counts
            share_pos, share_neg = r / s.n, d / s.n
            se = 100 * math.sqrt((share_pos + share_neg - (share_pos - share_neg) ** 2) / s.n)
            if se == 0:
                continue
            z = diff / se

            def ci(conf: float, diff=diff, se=se) -> dict[str, Any]:
                half = float(stats.norm.ppf(1 - (1 - conf) / 2)) * se
                return {"diff_low": diff - half, "diff_high": diff + half}
            test = "z"
        else:
            if not s.sd > 0:
                continue
            z = diff / (s.sd / math.sqrt(s.n))

            def ci(conf: float, s=s, target=target) -> dict[str, Any]:
                lo, hi = t_ci(s.mean, s.sd, s.n, conf)
                return {"diff_low": lo - target, "diff_high": hi - target}
            test = "t"
        p = float(2 * (stats.norm.sf(abs(z)) if test != "t" else stats.t.sf(abs(z), s.n - 1)))
        res = _result(diff=diff, test=test, statistic=z, p=p, sign=float(np.sign(diff)), interval_of="difference",
                      _ci=ci, _mdd=_no_mdd)
        res.update(ci(1 - alpha))
        rows.append({"kpi": obs.kpi, "channel": g, "value": s.estimate, "target": target, "n": s.n, **res})
    return pd.DataFrame(rows)


def target_findings(judged: pd.DataFrame, scale: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """One statement per KPI whose value (``all`` or a channel's) significantly misses its target."""
    out = []
    for kpi, part in judged.groupby("kpi", sort=False):
        direction = catalog.get(kpi).direction
        worse = "lower" if direction == "higher" else "higher"
        missed = part[part["verdict"] == worse]
        if missed.empty:
            continue
        word = "below" if worse == "lower" else "above"
        items = [f"{'all channels' if r.channel == ALL else r.channel} {value(r.value, kpi)} "
                 f"(target {value(r.target, kpi)}; {verdict_size(r, kpi)})" for r in missed.itertuples()]
        worst_p = float(missed["p_adj"].max())
        p_text = _p(worst_p) if len(missed) == 1 else ("all adjusted p < 0.001" if worst_p < 0.001 else
                                                        "all adjusted " + p_value(worst_p).replace("=", "≤"))
        name = label(kpi)
        statement = f"{name[0].upper()}{name[1:]} is {word} its target: {', '.join(items)} ({p_text})."
        lead = missed.iloc[0]
        out.append(_finding("target", "target missed", kpi, tuple(missed["channel"]), statement,
                            own_scale(kpi, lead["value"], lead["target"], scale), math.nan, None,
                            float(missed["n"].sum()), worst_p))
    return out


# ---------------------------------------------------------------- ranking and the page

def rank(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Order findings by rule 7 and number them from 1 (no findings: no rows, the same columns)."""
    # numbers typed even without rows, so a quiet month's frame filters and sorts like any other
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "rank"]).astype(
        {"effect": float, "n": float, "p_adj": float})
    order_kpi = {k: i for i, k in enumerate(HEADLINE)}
    keys = pd.DataFrame({"group": df["group"].map(lambda g: GROUPS.index(g) if g in GROUPS else len(GROUPS)),
                         "kpi": df["kpi"].map(lambda k: order_kpi.get(k, len(order_kpi))),
                         "effect": -df["effect"].astype(float).fillna(-np.inf)})
    order = keys.sort_values(["group", "kpi", "effect"], kind="stable").index
    df = df.loc[order].reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def findings(ds: Dataset, period: str, alpha: float = 0.05) -> pd.DataFrame:
    """The period's significant changes, missed targets and differences, in plain words, most
    important first (SPEC §9).

    See the module notes for which KPIs, which results become statements, the one adjustment
    family of the page and the order. Nothing that is not significant (after Benjamini–Hochberg
    over the page) and adequately powered (n ≥ 30 per group, expected counts ≥ 5) is called a
    difference or a change. Channel names are written as the data gives them (escaping them is
    the report's job).

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str
        One month, ``"2026-10"``.
    alpha : float
        False discovery rate of the page.

    Returns
    -------
    DataFrame
        ``rank``, ``kind`` (``"change"``, ``"target"``, ``"difference"``, ``"no difference"``),
        ``group`` (see :data:`GROUPS`), ``kpi``, ``channels`` (tuple of the channels named, the
        subject first; for a change the channel or ``all``), ``pairs`` (the significant
        differences a difference statement asserts, as ``(lower, higher)`` channel pairs),
        ``compare_to`` (the earlier month of a change), ``statement``, ``effect`` and
        ``effect_name`` (the size on the KPI's own scale used for ranking: ``"pp"``,
        ``"points"``, ``"% of scale"``, ``"% relative"``), ``magnitude`` (Cohen's class of the
        standardised effect, for information), ``n`` (observations behind the statement),
        ``p_adj``; these columns also in a quiet month without any finding (then no rows).
        ``attrs["family"]`` states the page's adjustment family and level once;
        ``attrs["skipped"]`` maps the headline KPIs left out to the reason.

    Examples
    --------
    >>> from kpitools.engine.example import dataset_from_frames
    >>> t = pd.DataFrame({"ticket_id": range(200), "channel": ["chat"] * 100 + ["phone"] * 100,
    ...                   "created_at": "2026-10-05", "abandoned": [True] * 5 + [False] * 95
    ...                   + [True] * 30 + [False] * 70})
    >>> res = findings(dataset_from_frames({"tickets": t}, as_of="2026-11-01"), "2026-10")
    >>> res.loc[0, "statement"]
    'chat abandonment 5% is lower than phone 30% (−25 pts [−35, −15]; adjusted p < 0.001).'
    >>> res.attrs["family"].split(";")[0]
    'Benjamini–Hochberg over the 1 statement tested on this page (false discovery rate 5%)'
    """
    check_options("bh", alpha)
    label_ = single_period(ds, period)
    previous = shift(label_, -1)
    # one engine context for every KPI: the period and the year before it (changes, Laney)
    months = [shift(label_, -m) for m in range(HISTORY, 0, -1)] + [label_]
    ctx = Context(ds, months)
    parts: list[pd.DataFrame] = []
    before: dict[str, pd.DataFrame] = {}
    scales: dict[str, tuple[int, int] | None] = {}
    skipped: dict[str, str] = {}
    for kpi in HEADLINE:  # a handful of KPIs
        reason = ctx.missing(kpi)
        if reason is not None:
            skipped[kpi] = reason
            continue
        obs = gather(ctx, kpi)
        scales[kpi] = obs.scale
        groups = [*(g for g in obs.groups if g not in obs.structural_zeros), ALL]
        before[kpi] = compare(obs, previous, "channel", "holm", alpha)
        eligible = groups[:-1]  # pairs of the largest channels only: thousands would make millions
        parts.append(pair_rows(obs, label_, alpha, largest(samples(obs, label_), eligible, MAX_GROUPS))
                     .assign(source="pair"))
        # a change against a month the KPI's tables do not cover gets no verdict, so no statement
        parts.append(change_rows(obs, label_, groups, alpha, coverage.uncovered(ds, kpi, months))
                     .assign(source="change"))
        parts.append(target_rows(obs, label_, ds.targets, alpha).assign(source="target"))
    parts = [p for p in parts if len(p)]
    rows: list[dict[str, Any]] = []
    family = 0
    level = alpha
    if parts:
        judged = judge(pd.concat(parts, ignore_index=True), "bh", alpha)
        family, level = judged.attrs["family"], judged.attrs["level"]
        for kpi in dict.fromkeys(judged["kpi"]):
            mine = judged[judged["kpi"] == kpi]
            pairs = finish_pairs(mine[mine["source"] == "pair"]) \
                if (mine["source"] == "pair").any() else None
            if pairs is not None:
                rows += differences(pairs, before.get(kpi), scales.get(kpi))
                rows += no_difference(pairs, scales.get(kpi))
            change = mine[mine["source"] == "change"]
            if len(change):
                rows += change_findings(finish_changes(change), scales.get(kpi))
            target = mine[mine["source"] == "target"]
            if len(target):
                rows += target_findings(target, scales.get(kpi))
    out = rank(rows)
    out.attrs["family"] = (f"{family_name('bh', family, 'statements tested on this page')} (false discovery rate "
                           f"{alpha:.0%}); intervals at the {percent(1 - level)} level.")
    out.attrs["level"] = level
    out.attrs["skipped"] = skipped
    return out
