"""Net Promoter Score: interval (Rocks 2016 adjusted Wald, or plain Wald) and two-sample test.

NPS = %promoters − %detractors on −100..100. Its variance per response, on the 0..1 scale, is
p⁺ + p⁻ − (p⁺ − p⁻)² (a response scores +1, 0 or −1).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
from scipy import stats

from ._arrays import as_float_arrays, unwrap, z_value

# Rocks (2016): pseudo-responses added before the Wald interval (3 in all)
_ADJUST_DETRACTORS, _ADJUST_PASSIVES, _ADJUST_PROMOTERS = 0.75, 1.5, 0.75


class NpsCI(NamedTuple):
    """An NPS with its confidence interval, all on −100..100."""

    nps: Any
    low: Any
    high: Any


class NpsDiff(NamedTuple):
    """Result of :func:`nps_diff` (``diff``, ``se``, ``low``, ``high`` in NPS points)."""

    diff: Any
    se: Any
    z: Any
    p: Any
    low: Any
    high: Any


def _score_and_variance(d: np.ndarray, p: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NPS on −1..1 and its per-response variance; NaN where there are no responses."""
    n = d + p + r
    with np.errstate(invalid="ignore", divide="ignore"):
        pos, neg = r / n, d / n
    score = pos - neg
    return score, pos + neg - score**2


def _counts(detractors: Any, passives: Any, promoters: Any) -> tuple[bool, list[np.ndarray]]:
    scalar, arrays = as_float_arrays(detractors, passives, promoters)
    if any(np.any(a < 0) for a in arrays):
        raise ValueError("NPS counts must be non-negative")
    return scalar, arrays


def nps_ci(detractors: Any, passives: Any, promoters: Any, method: str = "adjusted_wald",
           conf: float = 0.95) -> NpsCI:
    """NPS with a confidence interval, vectorised over arrays of counts.

    Parameters
    ----------
    detractors, passives, promoters : int or array_like
        Response counts (broadcast together).
    method : {"adjusted_wald", "wald"}
        ``"adjusted_wald"`` (Rocks 2016, SPEC §4): add 0.75 detractors, 1.5 passives and
        0.75 promoters, then a Wald interval centred on the adjusted NPS with the variance
        over the adjusted n. ``"wald"``: the plain Wald interval.
    conf : float
        Confidence level.

    Returns
    -------
    nps, low, high : float or ndarray
        On −100..100; the point value is never adjusted; limits clipped to [−100, 100];
        all NaN where there are no responses. With very few responses (n = 1) the adjusted
        interval, being centred on the adjusted value, may exclude the point value.

    Examples
    --------
    >>> res = nps_ci(50, 50, 100)
    >>> round(res.nps, 2), round(res.low, 2), round(res.high, 2)
    (25.0, 13.24, 36.02)
    >>> [round(x, 2) for x in nps_ci(50, 50, 100, method="wald")]
    [25.0, 13.51, 36.49]
    """
    if method not in ("adjusted_wald", "wald"):
        raise ValueError(f"method must be 'adjusted_wald' or 'wald', got {method!r}")
    z = z_value(conf)
    scalar, (d, p, r) = _counts(detractors, passives, promoters)
    nps, _ = _score_and_variance(d, p, r)
    if method == "adjusted_wald":
        d, p, r = d + _ADJUST_DETRACTORS, p + _ADJUST_PASSIVES, r + _ADJUST_PROMOTERS
    centre, var = _score_and_variance(d, p, r)
    half = z * np.sqrt(var / (d + p + r))
    empty = np.isnan(nps)
    low = np.where(empty, np.nan, np.clip(centre - half, -1, 1))
    high = np.where(empty, np.nan, np.clip(centre + half, -1, 1))
    return NpsCI(*(unwrap(100 * a, scalar) for a in (nps, low, high)))


def nps_diff(a_counts: Sequence[Any], b_counts: Sequence[Any], conf: float = 0.95) -> NpsDiff:
    """Difference of two independent NPS (a − b) with its Wald standard error and z-test.

    Parameters
    ----------
    a_counts, b_counts : (detractors, passives, promoters)
        Counts of each sample; the entries may be arrays (vectorised over them).
    conf : float
        Confidence level of the interval ``diff ± z·se``.

    Returns
    -------
    NpsDiff
        ``diff``, ``se``, ``low``, ``high`` in NPS points (−200..200), ``z`` and the
        two-sided ``p``. ``se`` is sqrt(var_a / n_a + var_b / n_b) with each sample's
        unadjusted variance p⁺ + p⁻ − (p⁺ − p⁻)². When ``se = 0`` (both samples unanimous),
        ``z`` is 0 and ``p`` 1 if the NPS are equal, else ``z = ±inf`` and ``p = 0``. NaN
        where a sample is empty.

    Examples
    --------
    >>> res = nps_diff((50, 50, 100), (80, 60, 60))
    >>> round(res.diff, 1), round(res.se, 2), round(res.z, 2), f"{res.p:.1e}"
    (35.0, 8.3, 4.22, '2.5e-05')
    """
    z_crit = z_value(conf)
    scalar_a, (da, pa, ra) = _counts(*a_counts)
    scalar_b, (db, pb, rb) = _counts(*b_counts)
    score_a, var_a = _score_and_variance(da, pa, ra)
    score_b, var_b = _score_and_variance(db, pb, rb)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = score_a - score_b
        se = np.sqrt(var_a / (da + pa + ra) + var_b / (db + pb + rb))
        z = np.where(se == 0, np.where(diff == 0, 0.0, np.sign(diff) * np.inf), diff / se)
    p = 2 * stats.norm.sf(np.abs(z))
    scalar = scalar_a and scalar_b
    return NpsDiff(*(unwrap(np.asarray(a, dtype=float), scalar) for a in
                     (100 * diff, 100 * se, z, p, 100 * (diff - z_crit * se),
                      100 * (diff + z_crit * se))))
