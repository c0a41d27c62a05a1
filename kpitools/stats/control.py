"""Control charts for proportions: Laney p′ chart, with the plain p-chart limits beside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: d2 for moving ranges of two points: E|Z1 − Z2| / σ for independent normals.
D2 = 1.128
#: The columns of a chart besides ``period`` and ``signal``.
COLUMNS = ["successes", "n", "p", "centre", "sigma_p", "z", "sigma_z", "lcl", "ucl", "p_lcl", "p_ucl"]


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
    if baseline is None:
        base = np.ones(len(k), dtype=bool)
    elif np.ndim(baseline) == 0:
        base = np.arange(len(k)) < int(baseline)
    else:
        base = np.asarray(baseline, dtype=bool).ravel()
        if len(base) != len(k):
            raise ValueError("a baseline mask needs one entry per period")
    chart = _laney(k[None, :], n[None, :], base[None, :])
    out = pd.DataFrame({col: chart[col][0] for col in COLUMNS})
    out["signal"] = (out["p"] < out["lcl"]) | (out["p"] > out["ucl"])
    if periods is not None:
        out.insert(0, "period", list(periods))
    return out


def laney_last(successes: Any, totals: Any, baseline: Any = None) -> pd.DataFrame:
    """The last period of the Laney p′ chart of many groups at once.

    Row i is the last row of ``laney_p_prime(successes[i], totals[i], baseline=baseline[i])``,
    to the bit: thousands of channels' charts in a few array operations rather than a chart each.

    Parameters
    ----------
    successes, totals : array_like, 2-D
        Per-group (rows) and per-period (columns, in time order) counts.
    baseline : array_like of bool, 2-D, optional
        Each group's baseline mask (see :func:`laney_p_prime`); default every period but the last,
        so the last period is judged against limits from the periods before it (SPEC §9).

    Returns
    -------
    DataFrame
        One row per group with the columns of :func:`laney_p_prime` (without ``period``).

    Examples
    --------
    >>> k = [[50, 55, 48, 70], [50, 55, 48, 50]]
    >>> laney_last(k, [[100] * 4] * 2)[["p", "ucl", "signal"]].round(4)
         p     ucl  signal
    0  0.7  0.6696    True
    1  0.5  0.6696   False
    """
    k, n = (np.atleast_2d(np.asarray(x, dtype=float)) for x in (successes, totals))
    if k.shape != n.shape or k.shape[1] == 0:
        raise ValueError("successes and totals need the same shape, with at least one period")
    base = np.arange(k.shape[1]) < k.shape[1] - 1 if baseline is None else np.asarray(baseline, dtype=bool)
    chart = _laney(k, n, np.broadcast_to(base, k.shape))
    out = pd.DataFrame({col: chart[col][:, -1] for col in COLUMNS})
    out["signal"] = (out["p"] < out["lcl"]) | (out["p"] > out["ucl"])
    return out


def _row_sums(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the sum of ``values[mask]`` and how many: bit for bit what summing each row's
    selection alone gives (numpy sums pairwise; rows of one length are summed together along
    the contiguous axis, which sums each row exactly as a 1-D sum of it)."""
    count = mask.sum(axis=1)
    packed = np.take_along_axis(values, np.argsort(~mask, axis=1, kind="stable"), axis=1)  # selection first
    sums = np.zeros(len(values))
    for c in np.unique(count[count > 0]):  # at most one per period
        rows = count == c
        sums[rows] = np.add.reduce(packed[rows, :c], axis=1)
    return sums, count


def _laney(k: np.ndarray, n: np.ndarray, base: np.ndarray) -> dict[str, np.ndarray]:
    """The Laney p′ chart of every row of ``k`` / ``n`` (groups × periods) with baseline mask
    ``base``: the one home of the chart's rule (columns of :func:`laney_p_prime` but ``signal``)."""
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("counts must satisfy 0 <= successes <= totals")
    k_base, _ = _row_sums(k, base)
    n_base, _ = _row_sums(n, base)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = np.where(n_base > 0, k_base / n_base, np.nan)[:, None]
        sigma_p = np.sqrt(centre * (1 - centre) / n)
        z = (p - centre) / sigma_p
    sigma_p[n == 0] = np.nan
    # σ_z: the mean moving range of the finite baseline z (in time order), over d2
    seen = np.isfinite(z) & base
    z_seen = np.take_along_axis(z, np.argsort(~seen, axis=1, kind="stable"), axis=1)  # seen ones first
    with np.errstate(invalid="ignore", divide="ignore"):
        ranges = np.abs(np.diff(z_seen, axis=1))
        total, count = _row_sums(ranges, np.arange(ranges.shape[1]) < seen.sum(axis=1)[:, None] - 1)
        sigma_z = np.where(count >= 1, total / count, np.nan) / D2
    flat = (centre[:, 0] == 0) | (centre[:, 0] == 1)  # no variation possible: limits on the centre line
    sigma_z[flat] = np.nan
    width_prime, width_plain = 3 * sigma_p * sigma_z[:, None], 3 * sigma_p
    width_prime[flat] = width_plain[flat] = np.where(n[flat] > 0, 0.0, np.nan)
    width_prime[np.isnan(centre[:, 0])] = width_plain[np.isnan(centre[:, 0])] = np.nan  # no baseline data
    shape = k.shape
    return {"successes": k, "n": n, "p": p, "centre": np.broadcast_to(centre, shape), "sigma_p": sigma_p, "z": z,
            "sigma_z": np.broadcast_to(sigma_z[:, None], shape),
            "lcl": np.clip(centre - width_prime, 0, 1), "ucl": np.clip(centre + width_prime, 0, 1),
            "p_lcl": np.clip(centre - width_plain, 0, 1), "p_ucl": np.clip(centre + width_plain, 0, 1)}
