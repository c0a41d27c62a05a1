"""The start of every report notebook: the dataset, its KPI table, the channels shown, the header."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import format as fmt
from ..errors import UnknownChannelError
from ..schema import ALL, GROUPS
from .display import Text, say
from .selection import read_kpis


@dataclass(frozen=True)
class ReportSetup:
    """What a report notebook works with after :func:`setup`.

    Attributes
    ----------
    ds : Dataset
        The loaded dataset.
    kpis : DataFrame
        The KPI table: the period and the 12 months before (:func:`read_kpis`).
    shown : list of str
        The channels the report shows (the notebook's ``channels``, else every channel).
    view : DataFrame
        ``kpis`` for the shown channels, the groups and ``all``.
    month : str
        The period as "October 2026".
    header : Text
        The line under the title: month, dataset, data cut-off, timezone and channels.
    """

    ds: Any
    kpis: pd.DataFrame
    shown: list[str]
    view: pd.DataFrame
    month: str
    header: Text


def shown_channels(channels: Sequence[str], known: Sequence[str]) -> list[str]:
    """``channels`` when given, else every known channel; an unknown one raises
    :class:`~kpitools.errors.UnknownChannelError` (a ``ValueError``).

    Examples
    --------
    >>> shown_channels([], ["chat", "email"]), shown_channels(["email"], ["chat", "email"])
    (['chat', 'email'], ['email'])
    >>> shown_channels(["fax"], ["chat"])
    Traceback (most recent call last):
    ...
    kpitools.errors.UnknownChannelError: unknown channels ['fax']; the dataset has ['chat']
    """
    shown = list(channels or known)
    unknown = set(shown) - set(known)
    if unknown:
        raise UnknownChannelError(f"unknown channels {sorted(unknown)}; the dataset has {known}")
    return shown


def setup(dataset: str, period: str, channels: Sequence[str] = (), kpis_path: str = "") -> ReportSetup:
    """Load the dataset, set the plot style and read the KPI table, as every report notebook starts.

    Parameters
    ----------
    dataset : str
        The dataset folder (``kt.load``).
    period : str
        The report month ``YYYY-MM``.
    channels : sequence of str
        The channels to show; empty means every channel of the dataset.
    kpis_path : str
        A run's precomputed KPI table; empty: computed here.

    Returns
    -------
    ReportSetup
    """
    from ..loading import load
    from ..plot import set_style

    ds = load(dataset)
    shown = shown_channels(channels, ds.channels)  # before the KPIs: a typo fails fast
    set_style()
    kpis = read_kpis(ds, period, kpis_path)  # the run's precomputed table, else computed here
    view = kpis[kpis["channel"].isin([*shown, *GROUPS, ALL])]
    month = fmt.month(period)
    header = say(f"{month} · dataset {Path(dataset).name} · data up to {fmt.moment(ds.as_of)} ({ds.timezone}) · "
                 f"channels: {', '.join(shown)}")
    return ReportSetup(ds, kpis, shown, view, month, header)
