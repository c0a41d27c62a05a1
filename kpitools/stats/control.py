"""Control charts for proportions: Laney p′ chart, with the plain p-chart limits beside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: d2 for moving ranges of two points: E|Z1 − Z2| / σ for independent normals.
D2 = 1.128


def laney_p_prime(successes: Any, totals: Any, periods: Any = None, baseline: Any = None) -> pd.DataFrame:
    """Laney p′ chart: p-chart limits widened by the between-period variation of z-scores.

    With p̄ = Σk / Σn and σ_pi = sqrt(p̄(1 − p̄) / n_i), the z-scores z_i = (p_i − p̄) / σ_pi
    give σ_z = mean moving range of z / 1.128; the p′ limits are p̄ ± 3·σ_pi·σ_z and the
    plain p-chart limits p̄ ± 3·σ_pi, all clipped to [0, 1]. At large n plain p-charts flag
    nearly every period; σ_z rescales the limits to the variation actually seen.

    Parameters
    ----------
    successes, totals : array_like
        Per-period counts, in time order.
    periods : array_like, optional
        Period labels, written as a ``period`` column.
    baseline : int or array_like of bool, optional
        The periods that estimate p̄ and σ_z (phase I): the first ``baseline`` periods, or a
        mask. Default every period. A month is judged against limits from the months before
        it (SPEC §9) with ``baseline = len(k) − 1``: otherwise the month judged widens its own
        limits (a jump adds two large moving ranges to σ_z) and pulls the centre line.

    Returns
    -------
    DataFrame
        One row per period: (``period``), ``successes``, ``n``, ``p``, ``centre``, ``sigma_p``
        (σ_pi), ``z``, ``sigma_z`` (the same on every row), ``lcl``, ``ucl`` (p′ limits),
        ``p_lcl``, ``p_ucl`` (p-chart limits), ``signal`` (p outside the p′ limits).
        Periods with ``n = 0`` have NaN p, z and limits, never signal, and are skipped by
        the moving ranges. With fewer than two such periods σ_z is NaN and nothing signals;
        when p̄ is 0 or 1 every period sits on the centre line: limits equal p̄, no signal.

    Examples
    --------
    >>> k = [2510, 2440, 2580, 2470, 2530, 2490, 2560, 2450, 2520, 2850]
    >>> chart = laney_p_prime(k, [5000] * 10)
    >>> chart.loc[[0, 9], ["p", "lcl", "ucl", "p_lcl", "p_ucl", "signal"]].round(3)
           p    lcl    ucl  p_lcl  p_ucl  signal
    0  0.502  0.449  0.567  0.487  0.529   False
    9  0.570  0.449  0.567  0.487  0.529    True
    >>> int(chart["signal"].sum()), int(((chart.p < chart.p_lcl) | (chart.p > chart.p_ucl)).sum())
    (1, 1)
    >>> judged = laney_p_prime(k, [5000] * 10, baseline=9)   # limits from the nine months before
    >>> [round(float(judged.loc[9, c]), 3) for c in ("centre", "sigma_z", "ucl")], bool(judged.loc[9, "signal"])
    ([0.501, 2.1, 0.546], True)
    """
    k = np.asarray(successes, dtype=float).ravel()
    n = np.asarray(totals, dtype=float).ravel()
    if len(k) != len(n):
        raise ValueError("successes and totals need the same length")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("counts must satisfy 0 <= successes <= totals")
    if baseline is None:
        base = np.ones(len(k), dtype=bool)
    elif np.ndim(baseline) == 0:
        base = np.arange(len(k)) < int(baseline)
    else:
        base = np.asarray(baseline, dtype=bool).ravel()
        if len(base) != len(k):
            raise ValueError("a baseline mask needs one entry per period")
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = k[base].sum() / n[base].sum() if n[base].sum() > 0 else np.nan
        sigma_p = np.sqrt(centre * (1 - centre) / n)
        z = (p - centre) / sigma_p
    sigma_p[n == 0] = np.nan
    z_seen = z[np.isfinite(z) & base]
    sigma_z = np.mean(np.abs(np.diff(z_seen))) / D2 if len(z_seen) >= 2 else np.nan
    if np.isnan(centre):  # no baseline data: no limits
        width_prime = width_plain = np.full(len(k), np.nan)
    elif centre in (0.0, 1.0):  # no variation possible: limits collapse onto the centre line
        sigma_z = np.nan
        width_prime = width_plain = np.where(n > 0, 0.0, np.nan)
    else:
        width_prime, width_plain = 3 * sigma_p * sigma_z, 3 * sigma_p
    out = pd.DataFrame({
        "successes": k, "n": n, "p": p, "centre": centre, "sigma_p": sigma_p, "z": z,
        "sigma_z": sigma_z,
        "lcl": np.clip(centre - width_prime, 0, 1), "ucl": np.clip(centre + width_prime, 0, 1),
        "p_lcl": np.clip(centre - width_plain, 0, 1), "p_ucl": np.clip(centre + width_plain, 0, 1),
    })
    out["signal"] = (out["p"] < out["lcl"]) | (out["p"] > out["ucl"])
    if periods is not None:
        out.insert(0, "period", list(periods))
    return out
