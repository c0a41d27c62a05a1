"""The start of every report notebook: its parameters checked, the dataset, its KPI table, the
channels shown, the header.

A notebook's first cell after ``parameters`` (and after the cell papermill injects) is::

    dataset, period, channels, business_hours = report.parameters(dataset, period, channels, business_hours)
    page = report.setup(dataset, period, channels, kpis_path)

so a notebook run by plain papermill, by ``kpitools run`` or in JupyterLab gets the same typed,
checked values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import format as fmt
from ..errors import DatasetError, UnknownChannelError
from ..parameters import REPORT_PARAMETERS, bundled_notebooks, coerce
from ..periods import month_number
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


def dataset_path(dataset: str | os.PathLike[str]) -> str:
    """The dataset folder a notebook parameter names: an absolute path as it is; a relative one
    against the current folder, else against the bundled notebooks' folder.

    A kernel started by JupyterLab or ``kpitools run`` works in the notebook's folder, one started
    by plain papermill in the caller's, so the default ``"../data/sample"`` of a source checkout
    is found either way.

    Raises
    ------
    DatasetError
        When neither folder has it (naming both, and how to write the sample).
    """
    path = Path(dataset).expanduser()
    tried = [path] if path.is_absolute() else [Path.cwd() / path, bundled_notebooks() / path]
    for candidate in tried:
        if candidate.is_dir():
            return str(candidate.resolve())
    raise DatasetError(f"dataset folder {str(dataset)!r} not found (looked in "
                       f"{' and '.join(str(c.parent.resolve() if c.name else c) for c in tried)}); "
                       "pass the dataset's path (papermill: -p dataset PATH), or write the sample "
                       "with `kpitools sample PATH`")


def parameters(dataset: Any, period: Any, channels: Any = (), business_hours: Any = False
               ) -> tuple[str, str, list[str], bool]:
    """The report parameters as their declared types, checked as ``kpitools run --param`` checks them.

    Papermill's ``-p`` hands over what the shell typed: ``-p business_hours false`` is the text
    "false" (truthy), ``-p channels chat`` a string, ``-p period 202609`` a number. Each value is
    read by :func:`kpitools.parameters.coerce` as the type of
    :data:`~kpitools.parameters.REPORT_PARAMETERS`; the period must be ``YYYY-MM``; the dataset
    folder is found by :func:`dataset_path`.

    Returns
    -------
    tuple
        ``(dataset, period, channels, business_hours)``: an absolute folder, ``"YYYY-MM"``, a
        list of channel names, a bool.

    Raises
    ------
    KpitoolsError
        One clear message for a value that cannot be read, a malformed period
        (:class:`~kpitools.errors.PeriodError`) or a dataset folder not found.

    Examples
    --------
    >>> parameters("/tmp", "2026-10", "chat,email", "false")[1:]
    ('2026-10', ['chat', 'email'], False)
    >>> parameters("/tmp", 202609)
    Traceback (most recent call last):
    kpitools.errors.PeriodError: period '202609' is not a month written YYYY-MM (e.g. "2026-10")
    """
    # the rule of `kpitools run --param`, so a shell user's text means the same in both
    given = {"dataset": dataset, "period": period, "channels": channels, "business_hours": business_hours}
    values = {name: coerce(name, value, REPORT_PARAMETERS[name]) for name, value in given.items()}
    month_number(values["period"])
    return dataset_path(values["dataset"]), values["period"].strip(), values["channels"], values["business_hours"]


def setup(dataset: str, period: str, channels: Sequence[str] = (), kpis_path: str = "") -> ReportSetup:
    """Load the dataset, set the plot style and the currency of cost labels, and read the KPI
    table, as every report notebook starts.

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
    fmt.set_currency(ds.config.currency)
    kpis = read_kpis(ds, period, kpis_path)  # the run's precomputed table, else computed here
    view = kpis[kpis["channel"].isin([*shown, *GROUPS, ALL])]
    month = fmt.month(period)
    header = say(f"{month} · dataset {Path(dataset).name} · data up to {fmt.moment(ds.as_of)} ({ds.timezone}) · "
                 f"channels: {', '.join(shown)}")
    return ReportSetup(ds, kpis, shown, view, month, header)
