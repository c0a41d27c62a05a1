"""The report's look: one colour per channel in every figure, and the report style."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import seaborn as sns

#: Fixed colours of the known channels and channel groups (seaborn "deep" hues; ``all`` dark grey).
CHANNEL_COLORS: dict[str, str] = {
    "email": "#4C72B0",
    "chat": "#55A868",
    "phone": "#C44E52",
    "social": "#8172B3",
    "messaging": "#CCB974",
    "voice": "#DD8452",
    "text": "#64B5CD",
    "all": "#333333",
}

#: Colours for other channels: distinct from the fixed ones and never grey (grey means ``all``).
EXTRA_COLORS: tuple[str, ...] = (
    "#937860", "#DA8BC3", "#001C7F", "#B1400D", "#12711C", "#8C0800",
    "#591E71", "#A23582", "#B8850A", "#006374", "#592F0D",
)

#: Report width at 110 dpi: about 1000 px, readable in JupyterLab and in the HTML report.
FIGSIZE: tuple[float, float] = (9.0, 4.5)
DPI = 110


def channel_palette(channels: Iterable[Any]) -> dict[str, str]:
    """Colour of each channel, the same in every figure.

    Known channels and groups (see :data:`CHANNEL_COLORS`, matched case-insensitively) keep
    their fixed colour. Any other name gets a colour of :data:`EXTRA_COLORS` chosen by the
    CRC-32 of its name (deterministic across runs, unlike Python's salted ``hash``), so a
    channel keeps its colour whatever other channels a figure shows; when two such names
    in one call land on the same colour, the later one in sorted order takes the next free one.

    Parameters
    ----------
    channels : iterable
        Channel names (duplicates ignored).

    Returns
    -------
    dict
        Channel name (as a string, in first-seen order) -> hex colour.

    Examples
    --------
    >>> channel_palette(["email", "all"])
    {'email': '#4C72B0', 'all': '#333333'}
    >>> channel_palette(["kiosk"])["kiosk"] == channel_palette(["email", "kiosk"])["kiosk"]
    True
    """
    names = list(dict.fromkeys(str(c) for c in channels))
    colors = {name: CHANNEL_COLORS[name.lower()] for name in names if name.lower() in CHANNEL_COLORS}
    taken: set[str] = set()
    size = len(EXTRA_COLORS)
    for name in sorted(n for n in names if n not in colors):  # a handful of channels
        start = zlib.crc32(name.encode("utf-8")) % size
        free = [EXTRA_COLORS[(start + i) % size] for i in range(size)
                if EXTRA_COLORS[(start + i) % size] not in taken]
        colors[name] = free[0] if free else EXTRA_COLORS[start]
        taken.add(colors[name])
    return {name: colors[name] for name in names}


def report_rc() -> dict[str, Any]:
    """Matplotlib rc parameters of the report style.

    seaborn's ``whitegrid`` at ``notebook`` scale, 9 × 4.5 in at 110 dpi, no top or right
    spine, left-aligned bold titles (they state the finding), frameless legends and
    constrained layout so that long channel labels are never cut.

    Examples
    --------
    >>> report_rc()["figure.figsize"], report_rc()["axes.spines.top"]
    ((9.0, 4.5), False)
    """
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook")}
    rc.update({
        "figure.figsize": FIGSIZE,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "savefig.bbox": "tight",
        "figure.constrained_layout.use": True,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlelocation": "left",
        "axes.titleweight": "bold",
        "axes.titlesize": 13,
        "legend.frameon": False,
    })
    return rc


@contextmanager
def style() -> Iterator[None]:
    """Apply the report style inside a ``with`` block only.

    Every plotting function of :mod:`kpitools.plot` that creates its own figure already
    draws inside this block; use it around ``plt.subplots`` to style a grid of axes that
    you pass in as ``ax``.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with style():
    ...     mpl.rcParams["figure.dpi"]
    110.0
    """
    with mpl.rc_context(report_rc()):
        yield


def set_style() -> None:
    """Apply the report style to every figure made from now on (e.g. at the top of a notebook).

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with mpl.rc_context():
    ...     set_style()
    ...     mpl.rcParams["axes.spines.right"]
    False
    """
    mpl.rcParams.update(report_rc())
