"""Power: the smallest difference a comparison of proportions could have detected."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import norm

from ._arrays import as_float_arrays, unwrap


def min_detectable_difference(p: Any, n: Any, alpha: float = 0.05, power: float = 0.8,
                              n2: Any = None) -> Any:
    """Minimum detectable difference of a two-sided two-proportion test (normal approximation).

    Δ = (z₁₋α/₂ + z_power) · sqrt(p(1 − p)(1/n + 1/n2)): the difference that a test at level
    ``alpha`` would detect with probability ``power``, taking the variance at the common
    proportion ``p`` in both groups. Shown beside "no significant difference" (SPEC §5).

    Parameters
    ----------
    p : float or array_like
        Proportion (0..1) around which the difference is judged, e.g. the pooled one.
    n : float or array_like
        Size of the first group (and of the second unless ``n2`` is given).
    alpha, power : float
        Two-sided level and power.
    n2 : float or array_like, optional
        Size of the second group.

    Returns
    -------
    float or ndarray
        Δ on the proportion scale (0..1); NaN where a group is empty.

    Examples
    --------
    >>> round(min_detectable_difference(0.5, 400), 4)
    0.0991
    >>> round(min_detectable_difference(0.5, 400, n2=100), 4)
    0.1566
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be strictly between 0 and 1")
    scalar, (p, n, n2) = as_float_arrays(p, n, n if n2 is None else n2)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must be a proportion in [0, 1]")
    z_sum = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = z_sum * np.sqrt(p * (1 - p) * (1 / n + 1 / n2))
    delta = np.where((n <= 0) | (n2 <= 0), np.nan, delta)
    return unwrap(delta, scalar)
