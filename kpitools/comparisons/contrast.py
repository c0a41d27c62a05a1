"""Two samples of one KPI compared: the test, the difference with its CI, an effect size, the
minimum detectable difference and the honesty checks (SPEC §5).

The same contrast serves two channels in one period (:func:`~kpitools.comparisons.compare_channels`)
and one channel in two periods (:func:`~kpitools.comparisons.changes`). Per kind:

========  ==========================  ======================  =================  ===============
kind      test                        difference and CI       effect size        MDD
========  ==========================  ======================  =================  ===============
share     pooled two-proportion z;    a − b in points,        Cohen's h          normal approx.
          Fisher's exact test where   Newcombe hybrid score                      at the pooled p
          an expected count < 5
nps       z-test of the NPS           a − b with its Wald SE  standardised d     at the pooled
          difference                                                             variance
score,    Welch's t-test              a − b, Welch interval   rank-biserial r    at the pooled
mean                                                          (Mann–Whitney)     variance
time      log-rank                    difference of the KM    rank-biserial r    from the KM
                                      medians, no CI          on event times     median CIs
========  ==========================  ======================  =================  ===============

The minimum detectable difference (MDD) is the difference a two-sided test at level ``alpha``
would detect with 80 % power (normal approximation; for medians a rough one from the widths of
their Brookmeyer–Crowley intervals, NaN when a limit is not reached). It uses the unadjusted
level, so it is a lower bound when the verdict is judged after Holm or BH.
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
    logrank,
    mann_whitney,
    min_detectable_difference,
    newcombe_diff_ci,
    nps_diff,
    p_adjust as adjust_p,
    two_proportion_ztest,
    welch_diff,
)
from .observations import MIN_EVENTS, MIN_EXPECTED, MIN_N, Sample

POWER = 0.8
NAN = math.nan


def _z_sum(alpha: float) -> float:
    """z₁₋α/₂ + z_power: the distance, in standard errors, a detectable difference must cover."""
    return float(norm.ppf(1 - alpha / 2) + norm.ppf(POWER))


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


def _result(**values: Any) -> dict[str, Any]:
    out = {"diff": NAN, "diff_low": NAN, "diff_high": NAN, "test": "none", "statistic": NAN, "p": NAN,
           "effect_size": NAN, "effect_name": None, "mdd": NAN, "hl_shift": NAN, "mw_p": NAN,
           "sign": NAN, "reason": None, "flags": ""}
    out.update(values)
    return out


def _share(a: Sample, b: Sample, alpha: float) -> dict[str, Any]:
    k1, n1, k2, n2 = a.successes, a.n, b.successes, b.n
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    smallest = min_expected(table)
    ci = newcombe_diff_ci(k1, n1, k2, n2)
    h = 2 * math.asin(math.sqrt(k1 / n1)) - 2 * math.asin(math.sqrt(k2 / n2))
    pooled = (k1 + k2) / (n1 + n2)
    # with no successes (or no failures) anywhere there is no variance to size a difference by
    mdd = 100 * min_detectable_difference(pooled, n1, alpha, POWER, n2=n2) if 0 < pooled < 1 else NAN
    out = _result(diff=100 * ci.diff, diff_low=100 * ci.low, diff_high=100 * ci.high, effect_size=h,
                  effect_name="cohens_h", sign=float(np.sign(ci.diff)), mdd=mdd)
    if smallest < MIN_EXPECTED:
        res = chi2_independence(table)  # Fisher's exact test on a 2 x 2 table
        out.update(test=res.test, statistic=res.statistic, p=res.p,
                   reason=f"an expected count is below {MIN_EXPECTED} ({smallest:.1f})")
    else:
        z, p = two_proportion_ztest(k1, n1, k2, n2)
        out.update(test="z", statistic=z, p=p)
    return out


def _nps(a: Sample, b: Sample, alpha: float) -> dict[str, Any]:
    ca, cb = np.array(a.nps_counts), np.array(b.nps_counts)
    res = nps_diff(tuple(ca), tuple(cb))

    def variance(c: np.ndarray) -> float:  # per response, on the −1..1 scale (SPEC §4)
        pos, neg = c[2] / c.sum(), c[0] / c.sum()
        return pos + neg - (pos - neg) ** 2

    spread = math.sqrt((variance(ca) + variance(cb)) / 2)
    pooled = variance(ca + cb)
    out = _result(diff=res.diff, diff_low=res.low, diff_high=res.high, test="z", statistic=res.z, p=res.p,
                  effect_size=res.diff / 100 / spread if spread > 0 else NAN, effect_name="cohens_d",
                  sign=float(np.sign(res.diff)),
                  mdd=100 * _z_sum(alpha) * math.sqrt(pooled * (1 / a.n + 1 / b.n)) if pooled > 0 else NAN)
    smallest = min_expected(used_columns(np.vstack([ca, cb])))
    if smallest < MIN_EXPECTED:
        out["reason"] = f"an expected count is below {MIN_EXPECTED} ({smallest:.1f})"
    return out


def _ranks(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Mann–Whitney p, rank-biserial r and Hodges–Lehmann shift (NaN when a sample is empty)."""
    mw = mann_whitney(x, y)
    return {"effect_size": mw.rank_biserial, "effect_name": "rank_biserial", "hl_shift": mw.hodges_lehmann,
            "mw_p": mw.p}


def _mean(a: Sample, b: Sample, alpha: float) -> dict[str, Any]:
    res = welch_diff(a.mean, a.sd, a.n, b.mean, b.sd, b.n)
    pooled_var = ((a.n - 1) * a.sd ** 2 + (b.n - 1) * b.sd ** 2) / (a.n + b.n - 2)
    return _result(diff=res.diff, diff_low=res.low, diff_high=res.high, test="welch", statistic=res.t,
                   p=res.p, sign=float(np.sign(res.diff)),
                   mdd=_z_sum(alpha) * math.sqrt(pooled_var * (1 / a.n + 1 / b.n)),
                   **_ranks(a.expanded(), b.expanded()))


def _time(a: Sample, b: Sample, label_a: str, label_b: str, alpha: float) -> dict[str, Any]:
    ma, mb = a.median, b.median
    diff = ma - mb if math.isfinite(ma) and math.isfinite(mb) else NAN
    # a median not reached lies beyond every finite one
    sign = float(np.sign(diff)) if math.isfinite(diff) else (
        1.0 if math.isfinite(mb) else -1.0 if math.isfinite(ma) else NAN)
    res = logrank(np.r_[a.values, b.values], np.r_[a.events, b.events],
                  np.r_[np.zeros(len(a.values), int), np.ones(len(b.values), int)],
                  np.r_[a.weights, b.weights])
    ses = [(s.ci_high - s.ci_low) / (2 * norm.ppf(0.975)) for s in (a, b)]  # SE from the CI width
    mdd = _z_sum(alpha) * math.hypot(*ses)
    flags = [f"fewer than {MIN_EVENTS} events for {label} ({s.n_events:g})"
             for s, label in ((a, label_a), (b, label_b)) if s.n_events < MIN_EVENTS]
    flags += [f"median not reached for {label}" for s, label in ((a, label_a), (b, label_b))
              if math.isinf(s.median)]
    out = _result(diff=diff, test="logrank", statistic=res.chi2, p=res.p, sign=sign, mdd=mdd,
                  flags="; ".join(flags), **_ranks(a.expanded(True), b.expanded(True)))
    if math.isinf(ma) and math.isinf(mb):
        out["reason"] = "median not reached for either group"
    return out


def contrast(a: Sample, b: Sample, label_a: str, label_b: str, alpha: float = 0.05) -> dict[str, Any]:
    """Compare sample ``a`` with sample ``b`` of the same KPI (``diff`` = a − b).

    Parameters
    ----------
    a, b : Sample
        The two samples (same kind).
    label_a, label_b : str
        Their names (a channel, a period), used in ``reason`` and ``flags``.
    alpha : float
        Level of the minimum detectable difference.

    Returns
    -------
    dict
        ``diff``, ``diff_low``, ``diff_high`` (in the KPI's unit: points for shares and NPS),
        ``test``, ``statistic``, ``p`` (raw, two-sided), ``effect_size``, ``effect_name``,
        ``mdd``, ``hl_shift`` and ``mw_p`` (Mann–Whitney, for score/mean/time kinds), ``sign``
        (+1 when a's KPI value is higher, −1 lower, 0 equal, NaN unknown), ``reason`` (why no
        verdict may be given: no data, n < 30, an expected count < 5, medians not reached;
        None when a verdict may be given) and ``flags`` (text; Kaplan–Meier medians on fewer
        than 10 events or not reached). A pair with no data or n < 30 is not tested.

    Examples
    --------
    >>> a = Sample("share", 70.0, 80.0, 0, 0, successes=56.0)
    >>> b = Sample("share", 80.0, 60.0, 0, 0, successes=48.0)
    >>> res = contrast(a, b, "chat", "phone")
    >>> round(res["diff"], 1), round(res["diff_low"], 2), round(res["p"], 4), res["reason"]
    (20.0, 5.24, 0.008, None)
    """
    thin = thin_reason(a, b, label_a, label_b)
    if thin is not None:
        return _result(reason=thin)
    if a.kind == "share":
        return _share(a, b, alpha)
    if a.kind == "nps":
        return _nps(a, b, alpha)
    if a.kind in ("score", "mean"):
        return _mean(a, b, alpha)
    return _time(a, b, label_a, label_b, alpha)


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
        A copy with ``p_adj`` and ``verdict`` added and ``reason`` completed.

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
    out["p_adj"] = p_adj
    out["verdict"] = verdict.astype(object)
    out["reason"] = reason
    return out


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
