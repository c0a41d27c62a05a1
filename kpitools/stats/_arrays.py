"""Shared plumbing for the vectorised statistics: broadcasting, scalar round-trip, z values."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm


def z_value(conf: float) -> float:
    """Two-sided standard-normal quantile for confidence level ``conf`` (1.959963984540054 at 0.95)."""
    check_conf(conf)
    # a float level is remembered: per-channel statistics would otherwise call scipy thousands of times
    return _z_of_float(float(conf)) if isinstance(conf, float) else _z(conf)


def _z(conf: Any) -> float:
    return float(norm.ppf(1 - (1 - conf) / 2))


@functools.lru_cache(maxsize=64)
def _z_of_float(conf: float) -> float:
    return _z(conf)


def as_float_arrays(*values: Any) -> tuple[bool, list[np.ndarray]]:
    """Broadcast ``values`` to float arrays; also say whether every input was a scalar."""
    scalar = all(np.ndim(v) == 0 for v in values)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
    return scalar, [np.array(a, dtype=float) for a in arrays]  # writable copies: inputs stay untouched


def unwrap(array: np.ndarray, scalar: bool) -> Any:
    """A Python float when the inputs were scalars, else the array itself."""
    return float(array) if scalar else array


def check_conf(conf: float) -> None:
    """Reject a confidence level outside (0, 1)."""
    if not 0 < conf < 1:
        raise ValueError(f"conf must be strictly between 0 and 1, got {conf!r}")


def group_codes(groups: Any) -> tuple[list[Any], np.ndarray]:
    """Group labels and integer codes; labels sorted, or in category order for a Categorical."""
    cat = pd.Categorical(np.asarray(groups).ravel() if np.ndim(groups) > 1 else groups)
    cat = cat.remove_unused_categories()
    if np.any(cat.codes < 0):
        raise ValueError("groups must not contain missing values")
    return list(cat.categories), np.asarray(cat.codes, dtype=np.intp)
