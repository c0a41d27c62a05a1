"""The vectorised target lookup (targets_for) against the rule stated per pair."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kpitools.targets import frt_limits, target_for, targets_for

KPIS = ["csat_pct", "nps", "frt_h"]
CHANNELS = ["all", "chat", "phone", "voice", "text", "email"]


def rule(targets: pd.DataFrame, kpi: str, channel: str) -> float | None:
    """The rule as SPEC A9 states it, one pair at a time: the first row for the KPI naming the
    channel, else the first row with an empty channel unless the channel is a group."""
    rows = targets[targets["kpi"] == kpi]
    named = rows["channel"] if "channel" in rows else pd.Series(None, index=rows.index, dtype=object)
    own = [t for t, c in zip(rows["target"], named) if not pd.isna(c) and c == channel]
    if own:
        return float(own[0])
    every = [t for t, c in zip(rows["target"], named) if pd.isna(c)]
    return float(every[0]) if every and channel not in ("voice", "text") else None


targets_tables = st.lists(
    st.tuples(st.sampled_from(KPIS), st.sampled_from([None, *CHANNELS]),
              st.floats(0, 100, allow_nan=False)), max_size=12,
).map(lambda rows: pd.DataFrame(rows, columns=["kpi", "channel", "target"]))


@settings(max_examples=200, deadline=None)
@given(targets_tables, st.lists(st.tuples(st.sampled_from([*KPIS, "ces_mean"]), st.sampled_from(CHANNELS)),
                                min_size=1, max_size=30),
       st.sampled_from(["object", "string[pyarrow]", "no channel column"]))
def test_targets_for_equals_the_rule_per_pair(targets, pairs, storage):
    if storage == "no channel column":
        targets = targets.drop(columns="channel")
    elif storage != "object":
        targets = targets.astype({"kpi": storage, "channel": storage})
    kpis, channels = zip(*pairs)
    got = targets_for(targets, list(kpis), list(channels))
    expected = [rule(targets, k, c) for k, c in pairs]
    assert [None if math.isnan(x) else x for x in got.tolist()] == expected
    assert [target_for(targets, k, c) for k, c in pairs] == expected
    own, every = frt_limits(targets)
    assert every == rule(targets, "frt_h", "a channel without a row")
    named = [c for c in CHANNELS if c not in ("voice", "text")]
    assert {c: own.get(c, every) for c in named} == {c: rule(targets, "frt_h", c) for c in named}


def test_targets_for_broadcasts_and_handles_no_table():
    t = pd.DataFrame({"kpi": ["nps", "nps"], "target": [30.0, 10.0], "channel": [None, "phone"]})
    assert targets_for(t, "nps", np.array(["chat", "phone"])).tolist() == [30.0, 10.0]
    assert targets_for(t, ["nps", "csat_pct"], "chat")[1] != targets_for(t, ["nps", "csat_pct"], "chat")[1]  # NaN
    assert np.isnan(targets_for(None, "nps", ["chat", "all"])).all()
    assert len(targets_for(t.iloc[:0], ["nps"] * 3, "chat")) == 3
