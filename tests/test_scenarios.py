"""kpitools.scenarios: the channel-shift savings scenario (SPEC §4) — known answers and properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpitools as kt
from kpitools.scenarios import channel_shift
from tests.factories import make_dataset


def _kpis(cpi: dict[str, float], volume: dict[str, float], period: str = "2026-10") -> pd.DataFrame:
    names = list(cpi)
    return pd.DataFrame({"period": period, "channel": names + ["all", "voice"], "kpi": "cpi",
                         "value": [cpi[c] for c in names] + [99.0, 99.0],
                         "n": [volume[c] for c in names] + [1.0, 1.0]})


def test_known_answer_both_directions():
    kp = _kpis({"phone": 8.0, "chat": 3.0}, {"phone": 1000.0, "chat": 2000.0})
    out = channel_shift(kp, shifts=[10, 20])
    # phone -> chat, 10 %: 100 tickets move, each 8 - 3 = 5 cheaper: 500 saved; 20 %: 1000.
    # chat -> phone, 10 %: 200 tickets each 5 dearer: -1000. Groups and "all" are not channels.
    assert out[["from_channel", "to_channel", "shift_pct", "tickets_moved", "saving"]].values.tolist() == [
        ["chat", "phone", 10.0, 200.0, -1000.0], ["chat", "phone", 20.0, 400.0, -2000.0],
        ["phone", "chat", 10.0, 100.0, 500.0], ["phone", "chat", 20.0, 200.0, 1000.0]]
    assert set(out["period"]) == {"2026-10"}


def test_defaults_latest_period_and_chosen_pairs():
    kp = pd.concat([_kpis({"a": 1.0, "b": 2.0}, {"a": 10.0, "b": 10.0}, "2026-09"),
                    _kpis({"a": 4.0, "b": 2.0, "c": 1.0}, {"a": 50.0, "b": 10.0, "c": 5.0}, "2026-10")])
    out = channel_shift(kp, pairs=[("a", "c")])
    assert out["shift_pct"].tolist() == [5.0, 10.0, 20.0]
    # 2026-10: 5 % of 50 = 2.5 tickets × (4 - 1) = 7.5
    assert out["saving"].tolist() == pytest.approx([7.5, 15.0, 30.0])
    assert len(channel_shift(kp, period="2026-09", shifts=[10])) == 2


def test_errors_name_the_problem():
    kp = _kpis({"a": 1.0, "b": 2.0}, {"a": 10.0, "b": 10.0})
    with pytest.raises(ValueError, match="between 0 and 100"):
        channel_shift(kp, shifts=[150])
    with pytest.raises(ValueError, match=r"no cpi for channel\(s\) \['z'\]"):
        channel_shift(kp, pairs=[("a", "z")])
    assert channel_shift(kp, shifts=[]).empty


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 50), st.floats(0.1, 50), st.floats(1, 1e5), st.floats(1, 1e5), st.floats(0, 100))
def test_saving_is_linear_and_antisymmetric_per_ticket(cpi_a, cpi_b, vol_a, vol_b, pct):
    kp = _kpis({"a": cpi_a, "b": cpi_b}, {"a": vol_a, "b": vol_b})
    out = channel_shift(kp, shifts=[pct]).set_index(["from_channel", "to_channel"])
    ab, ba = out.loc[("a", "b")], out.loc[("b", "a")]
    assert ab["saving"] == pytest.approx(pct / 100 * vol_a * (cpi_a - cpi_b))
    # each ticket moved saves the cpi gap, with opposite signs in the two directions
    assert ab["saving"] == pytest.approx(ab["tickets_moved"] * (cpi_a - cpi_b))
    assert ba["saving"] == pytest.approx(-ba["tickets_moved"] * (cpi_a - cpi_b))


def test_uses_the_engines_cpi_and_volume():
    # chat: 4 non-abandoned tickets (1 abandoned left out), cost 20 -> cpi 5; email: 2 tickets, cost 20 -> 10
    tickets = {"ticket_id": [f"t{i}" for i in range(7)], "channel": ["chat"] * 5 + ["email"] * 2,
               "created_at": "2026-10-05 10:00", "abandoned": [True] + [False] * 6}
    costs = {"period": ["2026-10", "2026-10"], "channel": ["chat", "email"], "cost": [20.0, 20.0]}
    ds = make_dataset(tickets=tickets, costs=costs, as_of="2026-11-01")
    out = channel_shift(kt.kpis(ds, "2026-10"), shifts=[50], pairs=[("email", "chat")])
    # 50 % of email's 2 tickets = 1 ticket, 10 - 5 = 5 saved
    assert out[["volume", "cpi_from", "cpi_to", "saving"]].values.tolist() == [[2.0, 10.0, 5.0, 5.0]]
