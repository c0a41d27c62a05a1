"""Two samples of one KPI compared: the test, the interval that goes with its verdict, an effect
size, the minimum detectable difference and the honesty checks (SPEC §5, §9).

The same contrast serves two channels in one period (:func:`~kpitools.comparisons.compare_channels`)
and one channel in two periods (:func:`~kpitools.comparisons.changes`). Per kind:

========  ========================  =============================  ==============  =====================
kind      test                      interval beside the verdict    effect size     MDD (80 % power)
========  ========================  =============================  ==============  =====================
share     pooled two-proportion z   a − b, Mee's score interval    Cohen's h       R power.prop.test
          (Fisher where an          (inverts the same z-test)                      solved for p2
          expected count < 5)
nps       z-test of the NPS         a − b ± z·SE (Wald)            standardised d  normal, pooled var.
          difference
score     Mann–Whitney (ties,       Hodges–Lehmann shift with its  rank-biserial   normal, pooled var.
          continuity corrected)     interval (``hl_*``)            r               (of the mean)
mean      Welch's t-test            a − b, Welch interval          —               normal, pooled var.
time      log-rank (for ``all``     Peto hazard ratio a/b with     hazard ratio    from the KM median
          changes: stratified by    its interval (``hr_*``); the                   intervals
          channel)                  difference of the KM medians
                                    with a Brookmeyer–Crowley-
                                    based interval beside it
========  ========================  =============================  ==============  =====================

**Intervals agree with verdicts.** A verdict is judged on adjusted p-values (:func:`judge`); the
interval beside it is computed at the level the family actually used
(:func:`kpitools.stats.adjust.level_used`), so it excludes 0 (a hazard ratio: 1) exactly when the
adjusted p is below ``alpha``. The minimum detectable difference uses that level too. The
difference of two KM medians is a different estimand than the log-rank test's: its interval is
shown at the same level, and a flag says when it disagrees with the verdict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..errors import KpitoolsError
from ..stats import (
    chi2_independence,
    min_detectable_difference,
    nps_diff,
    p_adjust as adjust_p,
    two_proportion_ztest,
    welch_diff,
)
from ..stats.adjust import level_used
from ..stats.proportions import score_diff_ci
from ..stats.ranks import rank_shift
from ..stats.survival import LogRankTwo, logrank_two
from .observations import MIN_EVENTS, MIN_EXPECTED, MIN_N, Sample

POWER = 0.8
NAN = math.nan
Z95 = float(norm.ppf(0.975))
#: Interval columns a contrast fills at the level of its verdict (see :func:`judge`).
INTERVAL_COLUMNS = ["diff_low", "diff_high", "hl_low", "hl_high", "hl_low_open", "hl_high_open", "hr_low",
                    "hr_high"]
#: What the interval beside a verdict is, per kind (the ``interval_of`` column).
INTERVAL_OF = {"share": "difference", "nps": "difference", "mean": "difference", "score": "shift",
               "time": "hazard ratio"}


def _z_sum(level: float) -> float:
    """z₁₋ₗ/₂ + z_power: the distance, in standard errors, a detectable difference must cover."""
    return float(norm.ppf(1 - level / 2) + norm.ppf(POWER))


def min_expected(table: np.ndarray) -> float:
    """Smallest expected count of a contingency table under independence (NaN when empty).

    Examples
    --------
    >>> min_expected(np.array([[3, 7], [5, 5]]))
    4.0
    """
    table = np.asarray(table, dtype=float)
    total = table.sum()
    if total == 0:
        return NAN
    return float((table.sum(axis=1, keepdims=True) * table.sum(axis=0) / total).min())


def used_columns(table: np.ndarray) -> np.ndarray:
    """The table without its empty columns (a category nobody chose, e.g. no passives), as long
    as two remain: such a column adds nothing to a test of independence.

    Examples
    --------
    >>> used_columns(np.array([[3, 0, 7], [5, 0, 5]])).tolist()
    [[3, 7], [5, 5]]
    """
    used = table[:, table.sum(axis=0) > 0]
    return used if used.shape[1] >= 2 else table


def thin_reason(a: Sample, b: Sample, label_a: str, label_b: str) -> str | None:
    """Why the pair gets no verdict for lack of data (n = 0 or n < MIN_N), or None.

    Examples
    --------
    >>> s = Sample("share", 12.0, 50.0, 25.0, 75.0, successes=6.0)
    >>> thin_reason(s, Sample("share", 0.0, NAN, NAN, NAN), "chat", "2025-10")
    'no data for 2025-10'
    >>> thin_reason(s, s, "chat", "email")
    'n < 30 for chat (n = 12)'
    """
    pairs = ((a, label_a), (b, label_b))
    for s, label in pairs:
        if s.n == 0:
            return f"no data for {label}"
    for s, label in pairs:
        if s.n < MIN_N:
            return f"n < {MIN_N} for {label} (n = {s.n:g})"
    return None


def _no_interval(conf: float) -> dict[str, Any]:
    return {}


def _no_mdd(level: float) -> float:
    return NAN


def _result(**values: Any) -> dict[str, Any]:
    out = {"diff": NAN, "diff_low": NAN, "diff_high": NAN, "test": "none", "statistic": NAN, "p": NAN,
           "effect_size": NAN, "effect_name": None, "mdd": NAN, "hl_shift": NAN, "hl_low": NAN, "hl_high": NAN,
           "hl_low_open": False, "hl_high_open": False, "hr": NAN, "hr_low": NAN, "hr_high": NAN,
           "interval_of": None, "sign": NAN, "reason": None, "flags": "", "_ci": _no_interval, "_mdd": _no_mdd}
    out.update(values)
    return out


def _share(a: Sample, b: Sample) -> dict[str, Any]:
    k1, n1, k2, n2 = a.successes, a.n, b.successes, b.n
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    smallest = min_expected(table)
    h = 2 * math.asin(math.sqrt(k1 / n1)) - 2 * math.asin(math.sqrt(k2 / n2))
    pooled = (k1 + k2) / (n1 + n2)

    def ci(conf: float) -> dict[str, Any]:
        res = score_diff_ci(k1, n1, k2, n2, conf)
        return {"diff_low": 100 * res.low, "diff_high": 100 * res.high}

    def mdd(level: float) -> float:
        # with no successes (or no failures) anywhere there is no variance to size a difference by
        return 100 * min_detectable_difference(pooled, n1, level, POWER, n2=n2) if 0 < pooled < 1 else NAN

    out = _result(diff=100 * (k1 / n1 - k2 / n2), effect_size=h, effect_name="cohens_h",
                  sign=float(np.sign(k1 / n1 - k2 / n2)), interval_of="difference", _ci=ci, _mdd=mdd)
    if smallest < MIN_EXPECTED:
        res = chi2_independence(table)  # Fisher's exact test on a 2 x 2 table
        out.update(test=res.test, statistic=res.statistic, p=res.p,
                   reason=f"an expected count is below {MIN_EXPECTED} ({smallest:.1f})")
    else:
        z, p = two_proportion_ztest(k1, n1, k2, n2)
        out.update(test="z", statistic=z, p=p)
    return out


def _nps(a: Sample, b: Sample) -> dict[str, Any]:
    ca, cb = np.array(a.nps_counts), np.array(b.nps_counts)
    res = nps_diff(tuple(ca), tuple(cb))

    def variance(c: np.ndarray) -> float:  # per response, on the −1..1 scale (SPEC §4)
        pos, neg = c[2] / c.sum(), c[0] / c.sum()
        return pos + neg - (pos - neg) ** 2

    spread = math.sqrt((variance(ca) + variance(cb)) / 2)
    pooled = variance(ca + cb)

    def ci(conf: float) -> dict[str, Any]:
        half = float(norm.ppf(1 - (1 - conf) / 2)) * res.se
        return {"diff_low": res.diff - half, "diff_high": res.diff + half}

    def mdd(level: float) -> float:
        return 100 * _z_sum(level) * math.sqrt(pooled * (1 / a.n + 1 / b.n)) if pooled > 0 else NAN

    out = _result(diff=res.diff, test="z", statistic=res.z, p=res.p,
                  effect_size=res.diff / 100 / spread if spread > 0 else NAN, effect_name="cohens_d",
                  sign=float(np.sign(res.diff)), interval_of="difference", _ci=ci, _mdd=mdd)
    smallest = min_expected(used_columns(np.vstack([ca, cb])))
    if smallest < MIN_EXPECTED:
        out["reason"] = f"an expected count is below {MIN_EXPECTED} ({smallest:.1f})"
    return out


def _pooled_sd_mdd(a: Sample, b: Sample) -> Any:
    pooled_var = ((a.n - 1) * a.sd ** 2 + (b.n - 1) * b.sd ** 2) / (a.n + b.n - 2)
    return lambda level: _z_sum(level) * math.sqrt(pooled_var * (1 / a.n + 1 / b.n))


def _mean(a: Sample, b: Sample) -> dict[str, Any]:
    res = welch_diff(a.mean, a.sd, a.n, b.mean, b.sd, b.n)

    def ci(conf: float) -> dict[str, Any]:
        at = welch_diff(a.mean, a.sd, a.n, b.mean, b.sd, b.n, conf=conf)
        return {"diff_low": at.low, "diff_high": at.high}

    return _result(diff=res.diff, test="welch", statistic=res.t, p=res.p, sign=float(np.sign(res.diff)),
                   interval_of="difference", _ci=ci, _mdd=_pooled_sd_mdd(a, b))


def _score(a: Sample, b: Sample) -> dict[str, Any]:
    """Ordinal scores: Mann–Whitney with the Hodges–Lehmann shift and its agreeing interval."""
    res = rank_shift(a.values, b.values, a.weights, b.weights)

    def ci(conf: float) -> dict[str, Any]:
        low, high, low_open, high_open = res.interval(conf)
        return {"hl_low": low, "hl_high": high, "hl_low_open": low_open, "hl_high_open": high_open}

    # the direction of a rank test is that of U: which sample tends to score higher
    return _result(diff=a.mean - b.mean, test="mann_whitney", statistic=res.u, p=res.p,
                   effect_size=res.rank_biserial, effect_name="rank_biserial", hl_shift=res.hodges_lehmann,
                   sign=float(np.sign(res.rank_biserial)), interval_of="shift", _ci=ci,
                   _mdd=_pooled_sd_mdd(a, b))


def _median_se(s: Sample) -> float:
    """The standard error of a KM median implied by its 95 % Brookmeyer–Crowley interval."""
    return (s.ci_high - s.ci_low) / (2 * Z95)


def time_result(a: Sample, b: Sample, label_a: str, label_b: str, res: LogRankTwo,
                test: str = "logrank") -> dict[str, Any]:
    """The contrast of two time samples from a (possibly stratified) two-group log-rank result."""
    ma, mb = a.median, b.median
    diff = ma - mb if math.isfinite(ma) and math.isfinite(mb) else NAN
    se = math.hypot(_median_se(a), _median_se(b))
    log_hr = math.log(res.hr) if res.hr > 0 else NAN  # NaN without information

    def ci(conf: float) -> dict[str, Any]:
        z = float(norm.ppf(1 - (1 - conf) / 2))
        half = z / math.sqrt(res.variance) if res.variance > 0 else NAN
        return {"diff_low": diff - z * se, "diff_high": diff + z * se,
                "hr_low": math.exp(log_hr - half), "hr_high": math.exp(log_hr + half)}

    def mdd(level: float) -> float:
        return _z_sum(level) * se

    flags = [f"fewer than {MIN_EVENTS} events for {label} ({s.n_events:g})"
             for s, label in ((a, label_a), (b, label_b)) if s.n_events < MIN_EVENTS]
    flags += [f"median not reached for {label}" for s, label in ((a, label_a), (b, label_b))
              if math.isinf(s.median)]
    # fewer events than expected in a: a has the event later, its times are longer (its value higher)
    sign = float(np.sign(res.expected - res.observed)) if res.df else NAN
    out = _result(diff=diff, test=test, statistic=res.chi2, p=res.p, sign=sign, effect_size=res.hr,
                  effect_name="hazard_ratio", hr=res.hr, interval_of="hazard ratio", flags="; ".join(flags),
                  _ci=ci, _mdd=mdd)
    if math.isinf(ma) and math.isinf(mb):
        out["reason"] = "median not reached for either group"
    elif res.df == 0:
        out["reason"] = "no test possible: no event in either group"
    return out


def _time(a: Sample, b: Sample, label_a: str, label_b: str) -> dict[str, Any]:
    res = logrank_two(np.r_[a.values, b.values], np.r_[a.events, b.events],
                      np.r_[np.ones(len(a.values), bool), np.zeros(len(b.values), bool)],
                      np.r_[a.weights, b.weights])
    return time_result(a, b, label_a, label_b, res)


def contrast(a: Sample, b: Sample, label_a: str, label_b: str, alpha: float = 0.05) -> dict[str, Any]:
    """Compare sample ``a`` with sample ``b`` of the same KPI (``diff`` = a − b).

    Parameters
    ----------
    a, b : Sample
        The two samples (same kind).
    label_a, label_b : str
        Their names (a channel, a period), used in ``reason`` and ``flags``.
    alpha : float
        Level of the interval and minimum detectable difference filled here (a lone contrast);
        :func:`judge` recomputes both at the level its family used.

    Returns
    -------
    dict
        ``diff`` (a − b of the KPI values, in points for shares and NPS), the interval of the
        kind (``diff_low``/``diff_high``; ``hl_*`` for scores; ``hr_*`` for times, with
        ``diff_*`` the interval of the difference of medians), ``interval_of``, ``test``,
        ``statistic``, ``p`` (raw, two-sided), ``effect_size``, ``effect_name``, ``mdd``,
        ``hl_shift``, ``hr``, ``sign`` (+1 when a's KPI value is higher by the test's direction,
        −1 lower, 0 equal, NaN unknown), ``reason`` (why no verdict may be given: no data,
        n < 30, an expected count < 5, medians not reached, no events; None when a verdict may
        be given), ``flags`` (text) and the private ``_ci`` / ``_mdd`` (interval and MDD at any
        level). A pair with no data or n < 30 is not tested.

    Examples
    --------
    >>> a = Sample("share", 70.0, 80.0, 0, 0, successes=56.0)
    >>> b = Sample("share", 80.0, 60.0, 0, 0, successes=48.0)
    >>> res = contrast(a, b, "chat", "phone")
    >>> round(res["diff"], 1), round(res["diff_low"], 2), round(res["p"], 4), res["reason"]
    (20.0, 5.33, 0.008, None)
    """
    thin = thin_reason(a, b, label_a, label_b)
    if thin is not None:
        return _result(reason=thin)
    if a.kind == "share":
        out = _share(a, b)
    elif a.kind == "nps":
        out = _nps(a, b)
    elif a.kind == "score":
        out = _score(a, b)
    elif a.kind == "mean":
        out = _mean(a, b)
    else:
        out = _time(a, b, label_a, label_b)
    return at_level(out, alpha)


def at_level(result: dict[str, Any], level: float) -> dict[str, Any]:
    """``result`` with its interval at confidence 1 − ``level`` and its MDD at ``level``."""
    result.update(result["_ci"](1 - level))
    result["mdd"] = result["_mdd"](level)
    return result


ADJUST_METHODS = ("holm", "bh", "none")


def check_options(p_adjust: str, alpha: float) -> None:
    """Reject an unknown adjustment method or a level outside (0, 1) with a KpitoolsError."""
    if p_adjust not in ADJUST_METHODS:
        raise KpitoolsError(f"p_adjust must be one of {', '.join(ADJUST_METHODS)}, got {p_adjust!r}")
    if not 0 < alpha < 1:
        raise KpitoolsError(f"alpha must be strictly between 0 and 1, got {alpha!r}")


def judge(rows: pd.DataFrame, p_adjust: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Adjust the p-values of a family of contrasts and give each its verdict.

    The family is the rows that may get a verdict (``reason`` empty) and have a p-value; the
    others get ``p_adj`` NaN. Verdicts: ``"higher"`` / ``"lower"`` (the first sample's KPI value
    is higher / lower; significant at ``p_adj < alpha``), ``"no significant difference"`` (with
    the adjusted p in ``reason``), ``"not enough data"`` (``reason`` says why).

    Parameters
    ----------
    rows : DataFrame
        Columns ``p``, ``sign`` and ``reason`` of :func:`contrast`.
    p_adjust : {"holm", "bh", "none"}
        Holm (family-wise error), Benjamini–Hochberg (false discovery rate) or none.
    alpha : float
        Two-sided level.

    Returns
    -------
    DataFrame
        A copy with ``p_adj``, ``verdict`` and ``level`` added and ``reason`` completed. ``level``
        is the raw level the family's verdicts used (:func:`kpitools.stats.adjust.level_used`):
        where the rows carry the private ``_ci`` / ``_mdd`` of :func:`contrast`, the intervals
        and minimum detectable differences of the family's rows are recomputed at it, so that
        an interval excludes 0 exactly when the adjusted p is below ``alpha``. Rows outside the
        family keep theirs (at ``alpha``). ``attrs["family"]`` gives the family's size and
        ``attrs["level"]`` the level.

    Examples
    --------
    >>> rows = pd.DataFrame({"p": [0.01, 0.04, 0.3], "sign": [1.0, -1.0, 1.0], "reason": None})
    >>> judge(rows)[["p_adj", "verdict"]].round(2).values.tolist()
    [[0.03, 'higher'], [0.08, 'no significant difference'], [0.3, 'no significant difference']]
    """
    out = rows.copy()
    p = out["p"].to_numpy(dtype=float)
    sign = out["sign"].to_numpy(dtype=float)
    given = out["reason"].notna().to_numpy()  # thin data or small expected counts: no verdict
    family = ~given & np.isfinite(p)
    untested = ~given & ~family
    p_adj = np.full(len(out), NAN)
    p_adj[family] = adjust_p(p[family], p_adjust)
    significant = family & (p_adj < alpha)
    verdict = np.select([given | untested, significant & (sign > 0), significant & (sign < 0)],
                        ["not enough data", "higher", "lower"], "no significant difference")
    reason = out["reason"].to_numpy(dtype=object).copy()
    reason[untested] = "no test possible: nothing varies"
    reason[significant & (sign == 0)] = "the values are equal"
    reason[significant & np.isnan(sign)] = "the direction is unknown"
    for i in np.flatnonzero(family & ~significant):  # a handful of rows
        reason[i] = f"adjusted p = {p_adj[i]:.2g} ≥ {alpha:g}"
    level = level_used(p_adj[family], p_adjust, alpha)
    out["p_adj"] = p_adj
    out["verdict"] = verdict.astype(object)
    out["reason"] = reason
    out["level"] = np.where(family, level, NAN)
    if "_ci" in out:
        for i in np.flatnonzero(family):  # one call per contrast of the family
            at = out.index[i]
            for col, v in out.at[at, "_ci"](1 - level).items():
                out.at[at, col] = v
            out.at[at, "mdd"] = out.at[at, "_mdd"](level)
        if "interval_of" in out:
            out["flags"] = _median_flags(out)
    out.attrs["family"] = int(family.sum())
    out.attrs["level"] = level
    return out


def _median_flags(rows: pd.DataFrame) -> list[str]:
    """Each row's flags, plus a note where a difference of KM medians and the log-rank verdict disagree."""
    flags = []
    for r in rows.itertuples():  # a handful of rows
        text = r.flags if isinstance(r.flags, str) else ""
        if r.interval_of == "hazard ratio" and math.isfinite(r.diff_low) and math.isfinite(r.diff_high):
            covers = r.diff_low <= 0 <= r.diff_high
            if covers == (r.verdict in ("higher", "lower")):
                note = ("the difference of the medians alone is not significant (the log-rank test "
                        "compares whole curves)" if covers else
                        "the difference of the medians alone would be significant")
                text = f"{text}; {note}" if text else note
        flags.append(text)
    return flags


def better_of(verdict: str, direction: str | None) -> int:
    """Which sample is better given the KPI's direction: 1 (the first), 2 (the second), 0 (none).

    Examples
    --------
    >>> better_of("lower", "lower"), better_of("lower", "higher"), better_of("not enough data", "higher")
    (1, 2, 0)
    """
    if verdict not in ("higher", "lower") or direction not in ("higher", "lower"):
        return 0
    return 1 if verdict == direction else 2
