"""Means: Student t interval and Welch's difference of two means (from summary statistics)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import special, stats

from ._arrays import as_float_arrays, check_conf, unwrap


class MeanDiff(NamedTuple):
    """Result of :func:`welch_diff`."""

    diff: Any
    se: Any
    df: Any
    t: Any
    p: Any
    low: Any
    high: Any


def _t_quantile(q: float, df: np.ndarray) -> np.ndarray:
    """Student t quantile, evaluated once per distinct df (each costs microseconds)."""
    distinct, inverse = np.unique(df, return_inverse=True)
    return special.stdtrit(distinct, q)[inverse].reshape(df.shape)


def t_ci(mean: Any, sd: Any, n: Any, conf: float = 0.95) -> tuple[Any, Any]:
    """Student t confidence interval for a mean, from its summary statistics.

    Parameters
    ----------
    mean, sd, n : float or array_like
        Sample mean, sample standard deviation (ddof = 1) and size; broadcast together.
    conf : float
        Confidence level; t quantile with ``n - 1`` degrees of freedom (computed once per
        distinct ``n``: 10⁵ intervals over a few thousand distinct sizes take milliseconds).

    Returns
    -------
    low, high : float or ndarray
        NaN where ``n <= 1``; ``[mean, mean]`` where ``sd = 0``.

    Examples
    --------
    >>> low, high = t_ci(4.2, 1.1, 25)
    >>> round(low, 3), round(high, 3)
    (3.746, 4.654)
    """
    check_conf(conf)
    scalar, (mean, sd, n) = as_float_arrays(mean, sd, n)
    ok = n > 1
    tq = _t_quantile(1 - (1 - conf) / 2, np.where(ok, n - 1, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(ok, np.where(sd == 0, 0.0, tq * sd / np.sqrt(n)), np.nan)
    return unwrap(mean - half, scalar), unwrap(mean + half, scalar)


def welch_diff(mean1: Any, sd1: Any, n1: Any, mean2: Any, sd2: Any, n2: Any,
               conf: float = 0.95) -> MeanDiff:
    """Welch's t-test and interval for ``mean1 - mean2`` (unequal variances), vectorised.

    Welch–Satterthwaite degrees of freedom. NaN where either ``n <= 1``; when both
    standard deviations are 0 the test is undefined and ``t``, ``p``, ``df`` are NaN while the
    interval collapses to the difference.

    Examples
    --------
    >>> res = welch_diff(4.2, 1.1, 25, 3.8, 1.3, 30)
    >>> round(res.diff, 2), round(res.t, 3), round(res.df, 1), round(res.p, 3)
    (0.4, 1.236, 53.0, 0.222)
    """
    check_conf(conf)
    scalar, (m1, s1, n1, m2, s2, n2) = as_float_arrays(mean1, sd1, n1, mean2, sd2, n2)
    ok = (n1 > 1) & (n2 > 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v1, v2 = s1**2 / n1, s2**2 / n2
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        diff = m1 - m2
        t = diff / se
    untestable = ~ok | (se == 0)
    df = np.where(untestable, np.nan, df)
    t = np.where(untestable, np.nan, t)
    p = 2 * stats.t.sf(np.abs(t), df)
    with np.errstate(invalid="ignore"):
        half = np.where(se == 0, 0.0, _t_quantile(1 - (1 - conf) / 2, df) * se)
    half, se, diff = (np.where(ok, a, np.nan) for a in (half, se, diff))
    return MeanDiff(*(unwrap(a, scalar) for a in (diff, se, df, t, p, diff - half, diff + half)))
