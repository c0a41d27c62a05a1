"""The business clock as a small table and an Ibis join: business time at any instant.

A *reading* is the business time (ns) that has passed on the clock from its origin to an
instant; the business duration between two instants is the difference of their readings
(SPEC A8). :class:`~kpitools.business_hours.BusinessClock` gives the open intervals; this module
lays them out so that a query reads the clock with an ordinary join, on any backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .arith import floor_div
from .backend import ibis_module

MAX_CLOCK_BUCKETS = 20_000_000  # beyond this the clock is a range join on its intervals
_HOUR_NS = 3_600_000_000_000
_NEVER = np.iinfo(np.int64).max


class Clock:
    """The business clock of ``hours`` in ``tz`` from the instant ``first`` (ns) to ``as_of``.

    The open intervals (ns) start and end on whole minutes in practice, so time is cut into
    buckets of the largest length ``G`` (at most an hour) that no interval boundary falls
    inside: each bucket is wholly open or closed, and a reading is an equi-join on ``t // G``
    (``k``) to the bucket's start reading ``r`` and open flag ``o``. Boundaries off that grid
    (historic offsets) would make too many buckets; then each instant is joined to the interval
    starting last at or before it (a range join on ``[s, next s)``).
    """

    def __init__(self, backend: Any, hours: Any, tz: str, first: int, as_of: int):
        from ..business_hours import BusinessClock

        start = pd.Timestamp(first, tz="UTC").tz_convert(tz).date()
        end = pd.Timestamp(as_of, tz="UTC").tz_convert(tz).date()
        iv = BusinessClock(hours, tz, min(start, end), end).intervals
        s = pd.DatetimeIndex(iv["start"]).as_unit("ns").asi8
        e = pd.DatetimeIndex(iv["end"]).as_unit("ns").asi8
        c = np.cumsum(e - s) - (e - s)  # open time before each interval
        size = int(np.gcd.reduce(np.concatenate([s, e, [_HOUR_NS]])))
        lo, hi = min(first, *s[:1]) // size, as_of // size + 1
        self.by_interval = hi - lo > MAX_CLOCK_BUCKETS
        if self.by_interval:
            nxt = np.r_[s[1:], _NEVER]
            data = pa.table({"s": pa.array(s, pa.int64()), "nxt": pa.array(nxt, pa.int64()),
                             "e": pa.array(e, pa.int64()), "c": pa.array(c, pa.int64())})
            self.table = backend.table("intervals", data)
            return
        k = np.arange(lo, hi + 1, dtype=np.int64)
        at = k * size
        i = np.searchsorted(s, at, side="right") - 1
        j = np.maximum(i, 0)
        opened = (i >= 0) & (at < e[j]) if len(s) else np.zeros(len(k), bool)
        reading = np.where(i >= 0, c[j] + np.minimum(at, e[j]) - s[j], 0) if len(s) else np.zeros(len(k), np.int64)
        self.size = size
        self.table = backend.table("clock", pa.table({"k": pa.array(k), "r": pa.array(reading, pa.int64()),
                                                      "o": pa.array(opened)}))

    def read(self, rel: Any, at: Any, name: str) -> Any:
        """``rel`` with two columns added: ``name``, the reading (ns) at the instant ``at`` (an
        expression on ``rel``; null when ``at`` is), and ``name + "_open"``, whether the clock is
        open then (closed at an interval's end)."""
        ibis = ibis_module()
        cols, c = rel.columns, self.table
        if self.by_interval:
            iv = c.select(**{f"{name}__{x}": c[x] for x in ("s", "nxt", "e", "c")})
            j = rel.left_join(iv, [at >= iv[f"{name}__s"], at < iv[f"{name}__nxt"]])
            s, e, before = j[f"{name}__s"], j[f"{name}__e"], j[f"{name}__c"]
            reading = (before + ibis.least(at, e) - s).coalesce(0)
            opened = (at < e).coalesce(False)
        else:
            b = c.select(**{f"{name}__{x}": c[x] for x in ("k", "r", "o")})
            j = rel.left_join(b, floor_div(at, self.size) == b[f"{name}__k"])
            k, r, o = j[f"{name}__k"], j[f"{name}__r"], j[f"{name}__o"]
            reading = r + ibis.ifelse(o, at - k * self.size, 0)
            opened = o.coalesce(False)
        return j.select(*cols, **{name: reading, f"{name}_open": opened})
