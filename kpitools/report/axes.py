"""Axes helpers for the report figures drawn in the notebooks."""

from __future__ import annotations

from typing import Any


def log_hours_axis(ax: Any, low: float = 1 / 60, high: float = 24 * 7, label: str = "Time since creation",
                   axis: str = "x") -> Any:
    """Put a time axis in hours on a log scale (default 1 minute to 1 week), with readable ticks.

    Waiting times span seconds (chat) to days (email); on a linear axis the fast channels are a
    vertical line at 0.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> [t.get_text() for t in log_hours_axis(ax).get_xticklabels()]
    ['1 min', '5 min', '15 min', '1 h', '4 h', '1 day', '1 week']
    >>> plt.close(fig)
    """
    ticks = [(1 / 120, "30 s"), (1 / 60, "1 min"), (5 / 60, "5 min"), (0.25, "15 min"), (1.0, "1 h"), (4.0, "4 h"),
             (24.0, "1 day"), (168.0, "1 week"), (24.0 * 30, "30 days")]
    shown = [(t, text) for t, text in ticks if low <= t <= high]
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', not {axis!r}")
    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"set_{axis}lim")(low, high)
    getattr(ax, f"set_{axis}ticks")([t for t, _ in shown], [text for _, text in shown])
    ax.minorticks_off()
    getattr(ax, f"set_{axis}label")(f"{label} (log scale)")
    return ax
