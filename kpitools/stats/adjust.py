"""Multiple-comparison adjustment of p-values."""

from __future__ import annotations

from typing import Any

import numpy as np

_METHODS = ("holm", "bh", "none")


def _holm(p: np.ndarray) -> np.ndarray:
    # statsmodels' Holm calls gc.collect() on every use (~0.2 s in a busy process), so the
    # step-down is done here: sorted p times (m, m-1, ..., 1), running maximum, capped at 1.
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    # R p.adjust(method = "BH"): sorted p times m / i, running minimum from the largest, capped at 1
    m = len(p)
    order = np.argsort(p, kind="stable")[::-1]
    stepped = np.minimum.accumulate(p[order] * m / np.arange(m, 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def p_adjust(pvalues: Any, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons.

    Parameters
    ----------
    pvalues : array_like
        Raw p-values; NaN entries are left out of the family and stay NaN.
    method : {"holm", "bh", "none"}
        Holm's step-down (family-wise error), Benjamini–Hochberg (false discovery rate), or
        no adjustment.

    Returns
    -------
    ndarray
        Adjusted p-values in the input order, never below the raw ones and at most 1.

    Examples
    --------
    >>> p_adjust([0.01, 0.04, 0.03]).round(2)
    array([0.03, 0.06, 0.06])
    >>> p_adjust([0.01, 0.04, 0.03], "bh").round(2)
    array([0.03, 0.04, 0.04])
    """
    p = np.asarray(pvalues, dtype=float)
    if method not in _METHODS:
        raise ValueError(f"p_adjust method must be one of 'holm', 'bh', 'none', got {method!r}")
    out = p.copy()
    valid = ~np.isnan(p)
    if method == "holm" and valid.any():
        out[valid] = _holm(p[valid])
    elif method == "bh" and valid.any():
        out[valid] = _bh(p[valid])
    return out


def level_used(p_adj: Any, method: str = "holm", alpha: float = 0.05) -> float:
    """The raw level a family's verdicts used: a test is significant (adjusted p < ``alpha``)
    exactly when its raw p is below this level.

    With m tests of which R are significant: Holm's step-down ``alpha / (m − R)``, Benjamini–
    Hochberg ``alpha · (R + 1) / m`` (both ``alpha`` when R = m), none ``alpha``. Every significant
    raw p lies below it and every other one at or above it (Holm: p₍ᵢ₎ ≤ α/(m − i + 1) for
    i ≤ R and (m − R)·p₍R+1₎ ≥ α; BH: p₍R₎ < αR/m and p₍ₖ₎ ≥ αk/m for k > R), so an interval
    at confidence 1 − level excludes the null value exactly when the adjusted verdict is
    significant — for BH these are Benjamini and Yekutieli's (2005) false-coverage-rate
    intervals — and a minimum detectable difference at this level is the one the verdict
    could actually reach. NaN adjusted p-values are not counted; an empty family gives
    ``alpha / 1`` for Holm and BH alike.

    Examples
    --------
    >>> level_used([0.03, 0.06, 0.06], "holm")      # p = 0.01, 0.04, 0.03: one significant of 3
    0.025
    >>> level_used([0.03, 0.04, 0.04], "bh")        # all three significant
    0.05
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of 'holm', 'bh', 'none', got {method!r}")
    q = np.asarray(p_adj, dtype=float)
    q = q[~np.isnan(q)]
    m, r = len(q), int(np.sum(q < alpha))
    if method == "none" or r >= m:
        return float(alpha)
    return float(alpha / (m - r)) if method == "holm" else float(alpha * (r + 1) / m)
