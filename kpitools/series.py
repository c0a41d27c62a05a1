"""Tidy series behind the report figures that are not KPIs of SPEC §4.

* :func:`daily_backlog` — open tickets at the end of each day, per channel (``backlog_end``
  evaluated daily, with the same rules);
* :func:`volume_by_hour` — tickets by local weekday × hour of creation;
* :func:`score_counts` — survey answers per channel and score, the channel resolved as SPEC A6.

All follow the KPI rules: spam customers and everything of theirs are left out (SPEC A5), and
nothing after ``as_of`` has happened yet (SPEC A4). Each returns a new DataFrame ready for the
matching :mod:`kpitools.plot` function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .periods import local_midnight, parse_periods
from .quality import spam_mask
from .schema import ALL

_NEVER = np.iinfo(np.int64).max  # "not resolved by as_of"


def _ns(values: pd.Series) -> np.ndarray:
    """Instants as int64 nanoseconds since the epoch (NaT as the int64 minimum)."""
    return values.array.asi8 if len(values) else np.array([], dtype=np.int64)


def _periods_mask(created: pd.Series, ds: Any, period: Any) -> np.ndarray:
    """Rows created in any of the periods (every row when ``period`` is None) and by as_of."""
    keep = (created <= ds.as_of).to_numpy(bool)
    if period is None:
        return keep
    inside = np.zeros(len(created), bool)
    for p in parse_periods(period, ds.timezone, ds.as_of):  # a handful of months
        inside |= ((created >= p.start) & (created < p.end)).to_numpy(bool)
    return keep & inside


def _channel_filter(values: pd.Series, channels: Sequence[str] | None) -> np.ndarray:
    if channels is None:
        return np.ones(len(values), bool)
    return values.isin(list(channels)).fillna(False).to_numpy(bool)


def backlog_at(created: np.ndarray, resolved: np.ndarray, ends: np.ndarray, t_ends: np.ndarray) -> np.ndarray:
    """Tickets created before each ``ends[i]`` and unresolved at ``t_ends[i]`` (≤ ``ends[i]``).

    All arguments are int64 instants; ``resolved`` holds ``np.iinfo(np.int64).max`` for tickets
    not resolved by as_of, and each ``resolved >= created``. Counted with binary searches:
    created before the end, minus resolved by ``t_end``, plus those resolved by ``t_end`` but
    not created before the end — only tickets created and resolved at the end instant itself.

    Examples
    --------
    >>> never = np.iinfo(np.int64).max
    >>> backlog_at(np.array([0, 5, 10]), np.array([7, never, 10]), np.array([6, 10, 20]), np.array([6, 10, 15]))
    array([2, 1, 1])
    """
    created = np.asarray(created, dtype=np.int64)
    resolved = np.asarray(resolved, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    t_ends = np.asarray(t_ends, dtype=np.int64)
    at_once = np.sort(created[resolved == created])
    count = (np.searchsorted(np.sort(created), ends, side="left")
             - np.searchsorted(np.sort(resolved), t_ends, side="right"))
    same = (np.searchsorted(at_once, ends, side="right") - np.searchsorted(at_once, ends, side="left"))
    return (count + np.where(t_ends == ends, same, 0)).astype(np.int64)


def _days(ds: Any, period: Any) -> list[dt.date]:
    """The local days of the periods up to as_of's day; default the 13 months ending with as_of's."""
    if period is None:
        last = pd.Period(ds.as_of.tz_localize(None), freq="M")
        period = f"{last - 12}:{last}"
    days: list[dt.date] = []
    for p in parse_periods(period, ds.timezone, ds.as_of):  # a handful of months
        days += p.days(ds.as_of)
    return days


def daily_backlog(ds: Any, period: Any = None, channels: Sequence[str] | None = None,
                  total: bool = True) -> pd.DataFrame:
    """Backlog at the end of each day, per channel: ``backlog_end`` evaluated daily.

    A day's backlog counts the non-abandoned, non-spam tickets created before the day's end
    (the next local midnight) and not resolved at ``min(day end, as_of)``; the value on the
    last day of a month is that month's ``backlog_end``.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str or list of str, optional
        Months as :func:`kpitools.kpis` takes them (``"2026-10"``, a list, ``"2025-10:2026-10"``);
        default the 13 months ending with as_of's month. Days after as_of's are left out.
    channels : sequence of str, optional
        Only these channels (default every channel of the tickets).
    total : bool
        Add ``channel = "all"`` (every channel, whatever ``channels`` says).

    Returns
    -------
    DataFrame
        ``date`` (the local day, ``datetime64`` at midnight), ``channel``, ``backlog``; sorted by
        channel (``all`` last) and date.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> b = daily_backlog(example_dataset(), "2026-10")
    >>> b[b.date.dt.day <= 3].values.tolist()[:3]
    [[Timestamp('2026-10-01 00:00:00'), 'chat', 0], [Timestamp('2026-10-02 00:00:00'), 'chat', 0], [Timestamp('2026-10-03 00:00:00'), 'chat', 1]]
    """
    t = ds.tickets
    keep = (~t["abandoned"].to_numpy(bool)) & (t["created_at"] <= ds.as_of).to_numpy(bool) & ~spam_mask(ds, "tickets")
    t = t.loc[keep]
    resolved = t["resolved_at"]
    res = np.where((resolved.notna() & (resolved <= ds.as_of)).to_numpy(bool), _ns(resolved), _NEVER)
    created = _ns(t["created_at"])
    days = _days(ds, period)
    ends = np.array([local_midnight(d + dt.timedelta(days=1), ds.timezone).value for d in days], dtype=np.int64)
    t_ends = np.minimum(ends, ds.as_of.value)
    chan = t["channel"].astype(object).to_numpy()
    names = sorted(set(chan[_channel_filter(t["channel"], channels)]))
    frames = []
    for name in names + ([ALL] if total else []):  # a handful of channels
        mine = np.ones(len(chan), bool) if name == ALL else chan == name
        frames.append(pd.DataFrame({"date": pd.to_datetime(days), "channel": name,
                                    "backlog": backlog_at(created[mine], res[mine], ends, t_ends)}))
    if not frames:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "channel": pd.Series(dtype=object),
                             "backlog": pd.Series(dtype=np.int64)})
    return pd.concat(frames, ignore_index=True)


def volume_by_hour(ds: Any, period: Any = None, channels: Sequence[str] | None = None,
                   per_day: bool = False) -> pd.DataFrame:
    """Tickets by local weekday and hour of creation (abandoned included, as ``tickets``).

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    period : str or list of str, optional
        Months as :func:`kpitools.kpis` takes them; default every ticket up to as_of.
    channels : sequence of str, optional
        Only these channels.
    per_day : bool
        Divide each count by how many times its weekday occurs among the days counted (the
        period's days up to as_of's, or every day from the first ticket), so that a month with
        five Thursdays and four Mondays compares like with like.

    Returns
    -------
    DataFrame
        ``weekday`` (0 = Monday), ``hour`` (0–23, local wall clock), ``tickets`` (a count, or
        with ``per_day`` the mean per day): all 7 × 24 cells, empty ones 0; ready for
        :func:`kpitools.plot.volume_heatmap`.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> v = volume_by_hour(example_dataset(), "2026-10")
    >>> len(v), int(v.tickets.sum()), v.loc[v.tickets > 0, ["weekday", "hour"]].values.tolist()
    (168, 3, [[3, 10], [4, 10], [5, 10]])
    """
    t = ds.tickets
    keep = (_periods_mask(t["created_at"], ds, period) & _channel_filter(t["channel"], channels)
            & ~spam_mask(ds, "tickets"))
    created = t.loc[keep, "created_at"]
    cell = created.dt.weekday.to_numpy(np.int64) * 24 + created.dt.hour.to_numpy(np.int64)
    counts = np.bincount(cell, minlength=7 * 24).astype(np.int64)
    out = pd.DataFrame({"weekday": np.repeat(np.arange(7), 24), "hour": np.tile(np.arange(24), 7), "tickets": counts})
    if per_day:
        if period is None:
            first = t["created_at"].min().tz_localize(None).normalize()
            days = pd.date_range(first, ds.as_of.tz_localize(None).normalize(), freq="D")
        else:
            days = pd.DatetimeIndex(_days(ds, period))
        occurrences = np.bincount(days.weekday, minlength=7)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["tickets"] = np.where(occurrences[out["weekday"]] > 0, counts / occurrences[out["weekday"]], 0.0)
    return out


def survey_channels(ds: Any) -> pd.Series:
    """Each survey's channel (SPEC A6): its own, else its ticket's, else missing.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> survey_channels(example_dataset()).tolist()
    ['chat', 'email']
    """
    s = ds.surveys
    own = s["channel"] if "channel" in s else pd.Series(pd.NA, index=s.index, dtype=object)
    own = own.astype(object).where(own.notna(), None)
    t = ds.tickets
    if t is None or "ticket_id" not in s:
        return own.rename("channel")
    position = pd.Index(t["ticket_id"]).get_indexer(s["ticket_id"])
    found = position >= 0
    theirs = np.full(len(s), None, dtype=object)
    theirs[found] = t["channel"].astype(object).to_numpy()[position[found]]
    return own.where(own.notna(), pd.Series(theirs, index=s.index)).rename("channel")


def score_counts(ds: Any, survey: str = "csat", period: Any = None, channels: Sequence[str] | None = None,
                 total: bool = True) -> pd.DataFrame:
    """Answers of one survey per channel and score, the channel resolved as SPEC A6.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset with surveys.
    survey : {"csat", "nps", "ces"}
        The survey type.
    period : str or list of str, optional
        Months as :func:`kpitools.kpis` takes them (surveys *responded* in them); default every
        answer up to as_of.
    channels : sequence of str, optional
        Only these channels (``all`` still counts every answer).
    total : bool
        Add ``channel = "all"``, which also counts answers without any channel.

    Returns
    -------
    DataFrame
        ``channel, score, count``: every score of the survey's scale for every channel with
        answers (0 where none), sorted by channel (``all`` last) and score; ready for
        :func:`kpitools.plot.score_distribution`.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> c = score_counts(example_dataset(), "csat")
    >>> c[c["count"] > 0].values.tolist()
    [['chat', 5, 1], ['email', 3, 1], ['all', 3, 1], ['all', 5, 1]]
    """
    if survey not in ds.config.scales:
        raise ValueError(f"unknown survey {survey!r}; expected one of {', '.join(ds.config.scales)}")
    low, high = ds.config.scales[survey]
    s = ds.surveys
    keep = ((s["survey"] == survey).fillna(False).to_numpy(bool) & _periods_mask(s["responded_at"], ds, period)
            & ~spam_mask(ds, "surveys"))
    channel = survey_channels(ds)[keep]
    scores = s.loc[keep, "score"].to_numpy(np.int64)
    known = channel.notna().to_numpy(bool) & _channel_filter(channel, channels)
    names = sorted(set(channel[known]))
    frames = []
    size = high - low + 1
    for name in names + ([ALL] if total else []):  # a handful of channels
        mine = np.ones(len(scores), bool) if name == ALL else (channel == name).to_numpy(bool)
        counts = np.bincount(scores[mine] - low, minlength=size)[:size]
        frames.append(pd.DataFrame({"channel": name, "score": np.arange(low, high + 1), "count": counts}))
    if not frames:
        return pd.DataFrame({"channel": pd.Series(dtype=object), "score": pd.Series(dtype=np.int64),
                             "count": pd.Series(dtype=np.int64)})
    out = pd.concat(frames, ignore_index=True)
    out["count"] = out["count"].astype(np.int64)
    return out
