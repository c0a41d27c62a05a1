"""Period parsing and bounds (SPEC §3, A4)."""

from __future__ import annotations

import pandas as pd
import pytest

from kpitools.errors import PeriodError
from kpitools.periods import month_period, parse_periods

AS_OF = pd.Timestamp("2026-11-15 12:00", tz="Europe/Berlin")


def test_month_bounds_are_local_half_open_and_dst_aware():
    p = month_period("2026-10", "Europe/Berlin")
    assert p.start == pd.Timestamp("2026-10-01 00:00", tz="Europe/Berlin")
    assert p.end == pd.Timestamp("2026-11-01 00:00", tz="Europe/Berlin")
    assert (p.end - p.start) == pd.Timedelta(days=31, hours=1)  # October has the extra DST hour
    assert len(p.days(AS_OF)) == 31
    assert p.t_end(AS_OF) == p.end and month_period("2026-11", "Europe/Berlin").t_end(AS_OF) == AS_OF


def test_parse_single_list_and_range():
    assert [p.label for p in parse_periods("2026-10", "UTC", AS_OF)] == ["2026-10"]
    assert [p.label for p in parse_periods(["2026-10", "2026-09", "2026-10"], "UTC", AS_OF)] == ["2026-09", "2026-10"]
    labels = [p.label for p in parse_periods("2025-11:2026-11", "UTC", AS_OF)]
    assert len(labels) == 13 and labels[0] == "2025-11" and labels[-1] == "2026-11"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "oct", "2026-10:2026-01", "2026-12", []])
def test_bad_periods_raise_period_error(bad):
    with pytest.raises(PeriodError):
        parse_periods(bad, "UTC", AS_OF)


def test_month_arithmetic():
    from kpitools.periods import month_label, month_number, previous, shift, trend_periods, trend_range

    assert shift("2026-01", -1) == previous("2026-01") == "2025-12"
    assert shift("2026-12", 1) == "2027-01" and previous("2026-10", 12) == "2025-10"
    assert trend_periods("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert trend_range("2026-10") == "2025-10:2026-10" and len(trend_periods("2026-10")) == 13
    assert all(month_label(month_number(p)) == p for p in ("1999-12", "2026-01", "2100-07"))
    with pytest.raises(PeriodError):
        previous("2026-13")
