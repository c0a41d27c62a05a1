"""The report's look: one colour per channel in every figure, and the report style."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import seaborn as sns

#: Okabe & Ito's colour-blind-safe set: orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple, black. Distinguishable with every common colour-vision deficiency.
OKABE_ITO: tuple[str, ...] = (
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
)

#: Channel colours in the order they are handed out: the Okabe–Ito set, yellow (faint on white)
#: and black (near the dark grey of ``all``) last, as they are only needed with 7 or 8 channels.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
)

#: Fixed colours of the known channels (chat and phone blue and orange, a pair every reader can
#: tell apart) and neutral greys for the channel groups and the total.
CHANNEL_COLORS: dict[str, str] = {
    "chat": "#0072B2",
    "phone": "#E69F00",
    "email": "#009E73",
    "social": "#CC79A7",
    "messaging": "#56B4E9",
    "voice": "#666666",
    "text": "#8C8C8C",
    "all": "#333333",
}

#: Name of the element that stands for the channels not drawn one by one, and its light grey.
OTHER = "other"
OTHER_COLOR = "#BBBBBB"

#: Report width at 110 dpi: about 1000 px, readable in JupyterLab and in the HTML report.
FIGSIZE: tuple[float, float] = (9.0, 4.5)
DPI = 110


def channel_palette(channels: Iterable[Any]) -> dict[str, str]:
    """Colour of each channel, the same in every figure.

    Known channels and groups (see :data:`CHANNEL_COLORS`, matched case-insensitively) keep
    their fixed colour, ``other`` (and "other (K channels)") is light grey. Any other name
    starts at the :data:`PALETTE` colour chosen by the CRC-32 of its name (deterministic
    across runs, unlike Python's salted ``hash``) and, in sorted order, takes the first
    colour no earlier channel of the call has, so up to 8 channels never share a colour.
    A colour repeats only when one call names more than 8 channels: figures draw at most
    8 (see ``max_channels``).

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
    >>> channel_palette(["chat", "phone", "all"])
    {'chat': '#0072B2', 'phone': '#E69F00', 'all': '#333333'}
    >>> channel_palette(["kiosk", "web"]) == channel_palette(["web", "kiosk"])
    True
    """
    names = list(dict.fromkeys(str(c) for c in channels))
    colors = {name: CHANNEL_COLORS[name.lower()] for name in names if name.lower() in CHANNEL_COLORS}
    colors.update({name: OTHER_COLOR for name in names
                   if name.lower() == OTHER or name.lower().startswith(f"{OTHER} (")})
    taken = set(colors.values())
    size = len(PALETTE)
    for name in sorted(n for n in names if n not in colors):  # names of one figure
        if taken.issuperset(PALETTE):
            taken = set()  # more than 8 channels in one call: start a second round
        start = zlib.crc32(name.encode("utf-8")) % size
        colors[name] = next(PALETTE[(start + i) % size] for i in range(size)
                            if PALETTE[(start + i) % size] not in taken)
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
