"""Tidy series behind the report figures that are not KPIs of SPEC §4.

* :func:`daily_backlog` — open tickets at the end of each day, per channel (``backlog_end``
  evaluated daily: the engine's backlog rule with the day's end for the period's);
* :func:`volume_by_hour` — tickets by local weekday × hour of creation;
* :func:`score_counts` — survey answers per channel and score, the channel resolved as SPEC A6.

Each is a handful of counts from the engine's observations (:mod:`.observe`) over its narrow
tables, so spam customers and everything of theirs are left out (SPEC A5), nothing after
``as_of`` has happened yet (SPEC A4), and the rules are the KPIs' own. Each returns a new
DataFrame ready for the matching :mod:`kpitools.plot` function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import ROW
from ..schema import ALL
from . import observe
from .context import Context
from .narrow import survey_segments


def _default_period(ds: Any) -> str:
    """The 13 months ending with as_of's month."""
    last = pd.Period(ds.as_of.tz_localize(None), freq="M")
    return f"{last - 12}:{last}"


def _dates(days: Sequence[int]) -> pd.DatetimeIndex:
    """Local day numbers as naive midnights."""
    return pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]"))


def _per_day(days: list[int], counts: pd.DataFrame) -> np.ndarray:
    """``counts`` (``day, tickets``) summed per day of ``days`` (0 where none)."""
    return counts.groupby("day")["tickets"].sum().reindex(days, fill_value=0).to_numpy(np.int64)


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
        Only these channels (default every channel with a ticket that can be open: non-abandoned,
        created by as_of, at any time).
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
    with Context(ds, _default_period(ds) if period is None else period) as ctx:
        names = observe.channels_with_backlog(ctx)
        counts = observe.daily_backlog(ctx)
        days = observe.days(ctx)
    if channels is not None:
        wanted = set(channels)
        names = [n for n in names if n in wanted]
    dates = _dates(days)
    frames = [pd.DataFrame({"date": dates, "channel": name, "backlog": _per_day(days, counts[counts["g"] == name])})
              for name in names]
    if total:
        frames.append(pd.DataFrame({"date": dates, "channel": ALL, "backlog": _per_day(days, counts)}))
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
    with Context(ds, period) as ctx:
        cells = observe.hourly_volume(ctx)
        days = observe.days(ctx) if period is not None else None
    if channels is not None:
        cells = cells[cells["g"].isin(list(channels))]
    counts = np.zeros(7 * 24, dtype=np.int64)
    np.add.at(counts, cells["weekday"].to_numpy(np.int64) * 24 + cells["hour"].to_numpy(np.int64),
              cells["n"].to_numpy(np.int64))
    out = pd.DataFrame({"weekday": np.repeat(np.arange(7), 24), "hour": np.tile(np.arange(24), 7), "tickets": counts})
    if per_day:
        if days is None:  # every day from the first ticket's (spam and all) to as_of's
            first = pd.Timestamp(ds.store.bounds("tickets", "created_at")[0], tz="UTC").tz_convert(ds.timezone)
            dates = pd.date_range(first.tz_localize(None).normalize(), ds.as_of.tz_localize(None).normalize(), freq="D")
        else:
            dates = _dates(days)
        occurrences = np.bincount(dates.weekday, minlength=7)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["tickets"] = np.where(occurrences[out["weekday"]] > 0, counts / occurrences[out["weekday"]], 0.0)
    return out


def survey_channels(ds: Any) -> pd.Series:
    """Each survey's channel (SPEC A6): its own, else its ticket's, else missing — for every
    survey row in input order, spam included.

    Examples
    --------
    >>> from kpitools.engine.example import example_dataset
    >>> survey_channels(example_dataset()).tolist()
    ['chat', 'email']
    """
    with Context(ds, None) as ctx:
        r = survey_segments(ctx, ctx.stored("surveys"), "channel")
        out = ctx.execute(r.select(row=r[ROW], channel=r.g).order_by("row"))
    return pd.Series(out["channel"].to_numpy(dtype=object), name="channel")


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
    with Context(ds, period) as ctx:
        counts = observe.score_counts(ctx, "channel")
    counts = counts[counts["survey"] == survey]
    known = counts[counts["g"] != ALL]
    names = sorted(set(known["g"]) if channels is None else set(known["g"]) & set(channels))
    size = high - low + 1

    def per_score(part: pd.DataFrame) -> np.ndarray:
        index = part["score"].to_numpy(np.int64) - low
        inside = (index >= 0) & (index < size)
        return np.bincount(index[inside], weights=part["n"].to_numpy(np.int64)[inside], minlength=size)[:size]

    frames = [pd.DataFrame({"channel": name, "score": np.arange(low, high + 1),
                            "count": per_score(counts[counts["g"] == name])})
              for name in names + ([ALL] if total else [])]
    if not frames:
        return pd.DataFrame({"channel": pd.Series(dtype=object), "score": pd.Series(dtype=np.int64),
                             "count": pd.Series(dtype=np.int64)})
    out = pd.concat(frames, ignore_index=True)
    out["count"] = out["count"].astype(np.int64)
    return out
