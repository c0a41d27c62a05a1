"""Tests of kpitools.plot: artists drawn, palette, catalogue labels, NaN/inf, no mutation, channel cap."""

from __future__ import annotations

import inspect
import io
import itertools
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kpitools import catalog  # noqa: E402
from kpitools import plot as kp  # noqa: E402
from kpitools.stats.control import laney_p_prime  # noqa: E402
from kpitools.stats.proportions import compare_proportions  # noqa: E402

INF = np.inf


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def render(ax):
    """Draw the figure fully: many matplotlib errors only surface at draw time."""
    ax.figure.savefig(io.BytesIO(), format="png")
    return ax


def hexcolor(color) -> str:
    return mcolors.to_hex(color).upper()


def kpi_frame(kpi="csat_pct", channels=("chat", "email", "all"), periods=("2026-08", "2026-09", "2026-10")):
    """A tidy KPI table whose values are distinct and whose CIs are ±5 around them."""
    rows = [(p, c, kpi, 50.0 + 10 * i + j, 100 + j, 45.0 + 10 * i + j, 55.0 + 10 * i + j)
            for i, c in enumerate(channels) for j, p in enumerate(periods)]
    return pd.DataFrame(rows, columns=["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"])


def km_frame():
    # chat: S = 0.75, 0.5, 0.25 at 1, 2, 3 h: flat at exactly 0.5 on [2, 3), so R's median is the
    # midpoint 2.5 h; email never falls to 0.5: "median not reached".
    return pd.DataFrame({
        "group": ["chat"] * 3 + ["email"] * 2,
        "time_h": [1.0, 2.0, 3.0, 4.0, 8.0],
        "survival": [0.75, 0.5, 0.25, 0.9, 0.8],
        "ci_low": [0.4, 0.2, 0.05, 0.7, 0.6],
        "ci_high": [1.0, 0.9, 0.7, 1.0, 1.0],
        "n_risk": [4, 3, 2, 10, 9], "n_event": [1, 1, 1, 1, 1], "n_censor": [0, 0, 1, 0, 8],
    })


# --- palette and style ------------------------------------------------------------------------

def test_known_channels_have_fixed_colours_and_all_is_dark_grey():
    # updated for the Okabe–Ito palette: chat and phone are blue and orange, not green and red
    palette = kp.channel_palette(["phone", "all", "Email", "chat", "other (3 channels)"])
    assert palette == {"phone": "#E69F00", "all": "#333333", "Email": "#009E73", "chat": "#0072B2",
                       "other (3 channels)": kp.OTHER_COLOR}
    r, g, b = mcolors.to_rgb(palette["all"])
    assert r == g == b and r < 0.3
    r, g, b = mcolors.to_rgb(kp.OTHER_COLOR)
    assert r == g == b and r > 0.7


OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
# Machado, Oliveira & Fernandes (2009), full deuteranopia, on linear RGB
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])


def deuteranope_lab(color) -> np.ndarray:
    """CIELAB (D65) of a colour as a deuteranope sees it."""
    srgb = np.asarray(mcolors.to_rgb(color))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(DEUTERANOPIA @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ seen
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_palette_is_okabe_ito_and_no_two_colours_are_confusable_for_deuteranopes():
    assert set(kp.PALETTE) == set(kp.OKABE_ITO) == OKABE_ITO and len(kp.PALETTE) == 8
    # the first 8 channels of a figure get the 8 colours; the set's closest pair for a
    # deuteranope (orange and yellow) is 17 apart in CIELAB; 2.3 is a just-noticeable difference
    for a, b in itertools.combinations(kp.PALETTE, 2):
        assert np.linalg.norm(deuteranope_lab(a) - deuteranope_lab(b)) > 15, (a, b)
    for neutral in (kp.CHANNEL_COLORS["all"], kp.OTHER_COLOR):
        assert all(np.linalg.norm(deuteranope_lab(neutral) - deuteranope_lab(c)) > 10 for c in kp.PALETTE)
    names = [f"queue {i}" for i in range(8)]
    assert sorted(kp.channel_palette(names).values()) == sorted(kp.PALETTE)


def test_unknown_channel_colour_is_stable_across_calls_and_companions():
    first = kp.channel_palette(["kiosk", "web"])
    assert first == kp.channel_palette(["kiosk", "web"])
    assert first["kiosk"] == kp.channel_palette(["email", "kiosk"])["kiosk"]
    # crc32 % 8: kiosk -> 0, web -> 1
    assert first == {"kiosk": kp.PALETTE[0], "web": kp.PALETTE[1]}


def test_colliding_unknown_channels_get_the_next_free_colour_in_sorted_order():
    # kiosk and fax both hash to slot 0: fax (first in sorted order) keeps it, kiosk takes slot 1
    assert kp.channel_palette(["kiosk", "fax"]) == {"kiosk": kp.PALETTE[1], "fax": kp.PALETTE[0]}
    # a known channel keeps its colour and an unknown one moves off it (chat is slot 0)
    assert kp.channel_palette(["kiosk", "chat"]) == {"kiosk": kp.PALETTE[1], "chat": kp.PALETTE[0]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8, unique_by=str.lower))
def test_palette_is_deterministic_total_and_distinct_up_to_eight_channels(names):
    palette = kp.channel_palette(names)
    assert list(palette) == names
    assert palette == kp.channel_palette(list(reversed(names)))  # input order does not matter
    plain = [n for n in names if n.lower() not in kp.CHANNEL_COLORS and not n.lower().startswith("other")]
    assert all(palette[n] in kp.PALETTE for n in plain)
    channels = [n for n in names if n.lower() not in ("voice", "text", "all") and not n.lower().startswith("other")]
    assert len({palette[n] for n in channels}) == len(channels)  # at most 8 channels: all distinct


def test_same_channel_same_colour_across_figures():
    kpis = kpi_frame(kpi="frt_median_h")
    trend = render(kp.kpi_trend(kpis, "frt_median_h"))
    by_channel = render(kp.kpi_by_channel(kpis, "frt_median_h"))
    trend_colours = {line.get_label(): hexcolor(line.get_color()) for line in trend.lines}
    bar_colours = {c: hexcolor(container.lines[0].get_color())
                   for c, container in zip(["chat", "email", "all"], by_channel.containers)}
    assert trend_colours["chat"] == bar_colours["chat"] == kp.channel_palette(["chat"])["chat"]
    assert trend_colours["all"] == bar_colours["all"] == "#333333"


def test_style_is_scoped_and_new_figures_use_it():
    before = dict(matplotlib.rcParams)
    with kp.style():
        assert matplotlib.rcParams["figure.dpi"] == 110
    assert matplotlib.rcParams["figure.dpi"] == before["figure.dpi"]
    ax = kp.kpi_trend(kpi_frame(), "csat_pct")
    assert tuple(ax.figure.get_size_inches()) == (9.0, 4.5) and ax.figure.dpi == 110
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


def test_given_axes_is_used_and_no_figure_created():
    fig, ax = plt.subplots()
    assert kp.kpi_trend(kpi_frame(), "csat_pct", ax=ax) is ax
    assert plt.get_fignums() == [fig.number]


# --- time figures -----------------------------------------------------------------------------

def test_kpi_trend_lines_bands_target_and_unit():
    ax = render(kp.kpi_trend(kpi_frame(), "csat_pct", channels=["email", "chat"], target=70))
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["email", "chat", "target"]  # the order given, then the target line
    assert len(ax.collections) == 2  # one CI band per channel
    assert catalog.get("csat_pct").unit in ax.get_ylabel()
    assert ax.get_title(loc="left") == "CSAT (top two) by period"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-08", "2026-09", "2026-10"]
    # periods are positions 0..2 and email's values are 60, 61, 62 (see kpi_frame)
    np.testing.assert_allclose(ax.lines[0].get_xydata(), [[0, 60], [1, 61], [2, 62]])


def test_kpi_trend_title_states_finding_when_given():
    ax = kp.kpi_trend(kpi_frame(), "csat_pct", title="Chat CSAT is rising")
    assert ax.get_title(loc="left") == "Chat CSAT is rising"


def test_kpi_trend_not_reached_and_nan_are_drawn_without_error():
    kpis = kpi_frame(kpi="ttr_median_h", channels=("chat",))
    kpis.loc[1, ["value", "ci_high"]] = INF  # median not reached in 2026-09
    kpis.loc[2, ["value", "ci_low", "ci_high"]] = np.nan  # nothing computed in 2026-10
    ax = render(kp.kpi_trend(kpis, "ttr_median_h"))
    chat = ax.lines[0].get_ydata()
    assert chat[0] == 50 and np.isnan(chat[1:]).all()
    # values and finite CIs span 45..55: +inf is drawn 15 % of the span above the top, at 56.5
    triangle = ax.lines[1]
    assert triangle.get_marker() == "^" and list(triangle.get_ydata()) == [56.5]
    assert "not reached" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_kpi_trend_without_rows_says_no_data_and_unknown_kpi_fails():
    ax = kp.kpi_trend(kpi_frame(), "nps")
    assert [t.get_text() for t in ax.texts] == ["no data"]
    with pytest.raises(KeyError, match="unknown KPI id"):
        kp.kpi_trend(kpi_frame(), "csat")


def test_backlog_from_kpi_table_and_from_daily_series():
    kpis = pd.concat([kpi_frame(kpi="backlog_end"), kpi_frame(kpi="csat_pct")])
    ax = render(kp.backlog(kpis, channels=["chat", "email"]))
    assert [line.get_label() for line in ax.lines] == ["chat", "email"]
    assert catalog.get("backlog_end").unit in ax.get_ylabel()
    daily = pd.DataFrame({"date": pd.date_range("2026-10-01", periods=4).repeat(2),
                          "channel": ["chat", "phone"] * 4, "backlog": [3, 8, 4, 7, 6, 9, np.nan, 10]})
    ax = render(kp.backlog(daily))
    assert len(ax.lines) == 2 and ax.get_ylim()[0] == 0


def test_laney_chart_lines_signals_and_percent_scale():
    # six stable periods near 50 % and a jump to 75 %: the p′ limits are 39.2..68.5 %, a signal
    chart = laney_p_prime([50, 51, 49, 50, 52, 50, 75], [100] * 7, [f"2026-{m:02d}" for m in range(1, 8)])
    ax = render(kp.laney_chart(chart, kpi="fcr_pct"))
    assert len(ax.lines) == 6  # p, centre, p′ limits ×2, p-chart limits ×2
    assert len(ax.collections) == 1 and ax.collections[0].get_offsets().tolist() == [[6.0, 75.0]]
    assert ax.lines[0].get_ydata()[6] == pytest.approx(75.0)
    assert "%" in ax.get_ylabel()
    quiet = render(kp.laney_chart(chart.iloc[:6]))
    assert len(quiet.collections) == 0 and quiet.get_ylabel() == "Proportion [%]"


def test_laney_chart_with_an_empty_period():
    chart = laney_p_prime([50, 0, 49, 52], [100, 0, 100, 100])
    render(kp.laney_chart(chart))


# --- survival ---------------------------------------------------------------------------------

def test_km_curves_steps_bands_and_medians():
    ax = render(kp.km_curves(km_frame(), kpi="frt_median_h", max_hours=6))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["chat: median 2.5 h", "email: median not reached"]
    # chat: step + median drop line + median dot; email: step only; plus the 50 % line
    assert len(ax.lines) == 5 and len(ax.collections) == 2
    step = ax.lines[0]
    assert step.get_drawstyle() == "steps-post"
    np.testing.assert_allclose(step.get_ydata(), [100, 75, 50, 25])  # starts at S(0) = 1
    assert ax.lines[2].get_xydata().tolist() == [[2.5, 50.0]]
    assert ax.get_xlim() == (0, 6)
    assert ax.get_title(loc="left").startswith(catalog.get("frt_median_h").title)


def test_km_curves_cumulative_is_one_minus_survival():
    ax = render(kp.km_curves(km_frame(), kind="cumulative"))
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 25, 50, 75])
    with pytest.raises(ValueError, match="kind"):
        kp.km_curves(km_frame(), kind="hazard")


def test_km_curves_with_nan_bands_at_zero_survival():
    curves = pd.DataFrame({"group": "phone", "time_h": [1.0, 2.0], "survival": [0.5, 0.0],
                           "ci_low": [0.2, np.nan], "ci_high": [1.0, np.nan]})
    ax = render(kp.km_curves(curves))
    # R's rule: S = 0.5 on [1, 2) then 0, so the median is the midpoint 1.5
    assert ax.get_legend().get_texts()[0].get_text() == "phone: median 1.5 h"


def test_km_median_under_an_hour_is_given_in_minutes():
    curves = pd.DataFrame({"group": "chat", "time_h": [0.2, 0.3], "survival": [0.4, 0.0],
                           "ci_low": [0.1, np.nan], "ci_high": [0.8, np.nan]})
    # S drops below 0.5 at 0.2 h: median 12 minutes
    assert kp.km_curves(curves).get_legend().get_texts()[0].get_text() == "chat: median 12 min"


# --- channels ---------------------------------------------------------------------------------

def frt_by_channel():
    return pd.DataFrame({
        "period": "2026-10", "channel": ["email", "all", "chat", "phone", "kiosk"], "kpi": "frt_median_h",
        "value": [6.0, 2.0, 0.5, INF, np.nan], "n": [80, 260, 120, 60, np.nan],
        "ci_low": [4.0, 1.5, 0.4, 3.0, np.nan], "ci_high": [INF, 2.6, 0.7, INF, np.nan],
    })


def test_kpi_by_channel_sorted_best_first_with_n_and_unit():
    ax = render(kp.kpi_by_channel(frt_by_channel(), "frt_median_h"))
    # frt is lower-is-better: chat 0.5 before email 6; not reached and NaN after; the group last
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "chat (n = 120)", "email (n = 80)", "phone (n = 60)", "kiosk (n = \u2013)", "all (n = 260)"]
    assert len(ax.containers) == 3  # chat, email, all have a finite value
    assert sorted(t.get_text() for t in ax.texts) == ["n/a", "not reached"]
    assert ax.get_xlabel() == "First response time, median [h]"
    # email's upper bound is +inf: drawn to 6.6 (finite values 0.4..6 plus 15 % of the span)
    arrow = [line for line in ax.lines if line.get_marker() == ">"]
    assert len(arrow) == 1 and arrow[0].get_xdata() == pytest.approx([6.0 + 0.15 * 5.6])


def test_kpi_by_channel_accepts_nullable_dtypes():
    nullable = frt_by_channel().astype({c: "Float64" for c in ("value", "n", "ci_low", "ci_high")})
    nullable.loc[4, "value"] = pd.NA
    ax = render(kp.kpi_by_channel(nullable, "frt_median_h"))
    assert len(ax.containers) == 3 and sorted(t.get_text() for t in ax.texts) == ["n/a", "not reached"]


def test_kpi_by_channel_higher_is_better_sorts_descending_and_picks_latest_period():
    kpis = kpi_frame(channels=("all", "chat", "text", "email", "phone", "voice"))
    ax = kp.kpi_by_channel(kpis, "csat_pct")
    # channels by value (phone 92 > email 82 > chat 62), then the groups as voice, text, all
    assert [t.get_text().split()[0] for t in ax.get_yticklabels()] == [
        "phone", "email", "chat", "voice", "text", "all"]
    assert ax.get_title(loc="left") == "CSAT (top two) by channel, 2026-10"


def test_kpi_by_channel_targets_from_table_number_or_mapping():
    kpis = kpi_frame(channels=("chat", "email"))
    table = pd.DataFrame({"kpi": ["csat_pct", "csat_pct", "nps"], "target": [80.0, 65.0, 30.0],
                          "channel": [None, "email", None]})
    ax = render(kp.kpi_by_channel(kpis, "csat_pct", targets=table))
    target = [line for line in ax.lines if line.get_label() == "target"][0]
    # rows: email (62) above chat (52); email's own target wins over the general one
    assert target.get_xydata().tolist() == [[65.0, 0.0], [80.0, 1.0]]
    for targets, expected in ((75, [[75.0, 0.0], [75.0, 1.0]]), ({"chat": 90}, [[90.0, 1.0]])):
        ax = kp.kpi_by_channel(kpis, "csat_pct", targets=targets)
        target = [line for line in ax.lines if line.get_label() == "target"][0]
        assert target.get_xydata().tolist() == expected


def test_channel_mix_shares_sum_to_100_without_groups():
    kpis = pd.concat([kpi_frame(kpi="tickets", channels=("chat", "email", "phone", "voice", "all")),
                      kpi_frame(kpi="csat_pct")])
    ax = render(kp.channel_mix(kpis, "2026-09"))
    widths = [p.get_width() for p in ax.patches]
    # 2026-09 tickets: chat 51, email 61, phone 71 -> largest first
    np.testing.assert_allclose(widths, np.array([71, 61, 51]) / 183 * 100)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["phone", "email", "chat"]
    assert ax.get_xlabel() == "Share of tickets [%]"


def test_comparison_forest_emphasises_significant_pairs():
    res = compare_proportions([80, 78, 40], [100, 100, 100], ["chat", "email", "phone"])
    ax = render(kp.comparison_forest(res, kpi="csat_pct", scale=100))
    assert len(ax.containers) == 3  # the omnibus row is left out
    weights = [t.get_fontweight() for t in ax.get_yticklabels()]
    assert weights == ["normal", "bold", "bold"]  # chat vs email (80 vs 78 %) is not significant
    assert ax.containers[0].lines[0].get_xdata()[0] == pytest.approx(2.0)  # 0.80 − 0.78 in pp
    assert any(line.get_xdata()[0] == 0 for line in ax.lines)  # the zero line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "not significant", "significant (adjusted p < 0.05)"]


def test_comparison_forest_nan_pair():
    res = pd.DataFrame({"group_a": ["chat", "chat"], "group_b": ["email", "phone"], "diff": [0.1, np.nan],
                        "diff_low": [0.05, np.nan], "diff_high": [0.15, np.nan], "p_adj": [0.01, np.nan]})
    ax = render(kp.comparison_forest(res))
    assert len(ax.containers) == 1 and [t.get_text() for t in ax.texts] == ["n/a"]
    assert ax.get_xlabel() == "Difference (a \u2212 b)"


# --- satisfaction and heatmaps ----------------------------------------------------------------

def test_score_distribution_bars_sum_to_100_over_the_full_scale():
    responses = pd.DataFrame({"survey": ["csat"] * 6 + ["nps"],
                              "channel": ["chat"] * 4 + ["email"] * 2 + ["chat"],
                              "score": [5, 5, 4, 1, 2, 3, 9]})
    ax = render(kp.score_distribution(responses))
    assert len(ax.patches) == 2 * 5  # two channels × scores 1..5 (no one scored 2 in chat: width 0)
    totals = np.zeros(2)
    for patch in ax.patches:
        totals[round(patch.get_y() + patch.get_height() / 2)] += patch.get_width()
    np.testing.assert_allclose(totals, [100, 100])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1", "2", "3", "4", "5"]
    # counts give the same figure as the responses they summarise
    counts = responses.loc[responses["survey"] == "csat"].groupby(["channel", "score"]).size().rename("count")
    again = kp.score_distribution(counts.reset_index())
    assert [p.get_width() for p in again.patches] == [p.get_width() for p in ax.patches]


def test_score_distribution_empty_channel_is_shown_as_unknown():
    responses = pd.DataFrame({"channel": ["chat", None, None], "score": [5, 4, 4]})
    ax = render(kp.score_distribution(responses))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["chat (n = 1)", "unknown (n = 2)"]


def test_empty_inputs_say_no_data():
    no_rows = pd.DataFrame(columns=["period", "channel", "kpi", "value"])
    no_pairs = pd.DataFrame(columns=["group_a", "group_b", "diff", "diff_low", "diff_high", "p_adj"])
    no_responses = pd.DataFrame({"survey": ["nps"], "channel": ["chat"], "score": [9]})  # no csat at all
    for ax in (kp.kpi_by_channel(no_rows, "nps"), kp.channel_mix(no_rows), kp.backlog(no_rows),
               kp.comparison_forest(no_pairs), kp.score_distribution(no_responses)):
        assert [t.get_text() for t in render(ax).texts] == ["no data"]


def test_score_distribution_empty_group_has_no_bar():
    counts = pd.DataFrame({"channel": ["chat", "email"], "score": [7, 7], "count": [3, 0]})
    ax = render(kp.score_distribution(counts, survey="ces"))
    assert len(ax.patches) == 2 * 7 and [t.get_text() for t in ax.get_yticklabels()][1] == "email (n = 0)"


def test_cohort_heatmap_blank_cells_are_not_annotated():
    cohorts = pd.DataFrame({"cohort": ["2026-09"] * 3 + ["2026-08"] * 3, "months_since_signup": [0, 1, 2] * 2,
                            "customers": 10, "active": [10, 6, np.nan, 10, 5, 4],
                            "pct": [100.0, 60.0, np.nan, 100.0, 50.0, 40.0]})
    ax = render(kp.cohort_heatmap(cohorts))
    # cohort 2026-08 first; 2026-09's month 2 is not observable yet: blank, no text
    assert [t.get_text() for t in ax.texts] == ["100", "50", "40", "100", "60"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2026-08", "2026-09"]
    mesh = ax.collections[0].get_array()
    assert np.ma.count_masked(mesh) == 1
    ax = kp.cohort_heatmap(cohorts, value="active")
    assert ax.figure.axes[-1].get_ylabel() == "Active customers [customers]"


def test_cohort_heatmap_shows_the_last_cohorts_and_annotates_only_small_tables():
    months = pd.period_range("2024-01", periods=30, freq="M").astype(str)
    rows = [(c, k, 100.0 * 0.9 ** k) for i, c in enumerate(months) for k in range(30 - i)]
    cohorts = pd.DataFrame(rows, columns=["cohort", "months_since_signup", "pct"])
    ax = kp.cohort_heatmap(cohorts)
    # the last 12 cohorts (2025-07 .. 2026-06) reach months 0..11: 12 + 11 + ... + 1 = 78 cells
    assert ax.collections[0].get_array().shape == (12, 12) and len(ax.texts) == 78
    everything = kp.cohort_heatmap(cohorts, last=None)
    assert everything.collections[0].get_array().shape == (30, 30) and len(everything.texts) == 0


def test_volume_heatmap_from_counts_names_or_tickets_agree():
    created = pd.Series(pd.to_datetime(["2026-10-05 09:10", "2026-10-05 09:50", "2026-10-09 16:00"]))
    # 2026-10-05 is a Monday, 2026-10-09 a Friday
    from_tickets = kp.volume_heatmap(pd.DataFrame({"created_at": created})).collections[0].get_array()
    counts = pd.DataFrame({"weekday": [0, 4], "hour": [9, 16], "tickets": [2, 1]})
    from_counts = kp.volume_heatmap(counts).collections[0].get_array()
    named = kp.volume_heatmap(counts.assign(weekday=["Monday", "fri"])).collections[0].get_array()
    grid = np.zeros((7, 24))
    grid[0, 9], grid[4, 16] = 2, 1
    for array in (from_tickets, from_counts, named):
        np.testing.assert_array_equal(np.asarray(array).reshape(7, 24), grid)


# --- inputs are never modified ----------------------------------------------------------------

CALLS = {
    "kpi_trend": (lambda d: kp.kpi_trend(d, "frt_median_h"), frt_by_channel),
    "kpi_by_channel": (lambda d: kp.kpi_by_channel(d, "frt_median_h", targets=2.0), frt_by_channel),
    "backlog": (lambda d: kp.backlog(d), lambda: kpi_frame(kpi="backlog_end")),
    "channel_mix": (lambda d: kp.channel_mix(d), lambda: kpi_frame(kpi="tickets")),
    "km_curves": (lambda d: kp.km_curves(d, kind="cumulative"), km_frame),
    "laney_chart": (lambda d: kp.laney_chart(d),
                    lambda: laney_p_prime([5, 9, 4], [10, 12, 10], ["a", "b", "c"])),
    "comparison_forest": (lambda d: kp.comparison_forest(d),
                          lambda: compare_proportions([8, 5], [10, 10], ["chat", "email"])),
    "score_distribution": (lambda d: kp.score_distribution(d),
                           lambda: pd.DataFrame({"channel": ["chat", "email"], "score": [5, 1],
                                                 "count": [2, 3]})),
    "cohort_heatmap": (lambda d: kp.cohort_heatmap(d),
                       lambda: pd.DataFrame({"cohort": ["2026-09", "2026-09"], "months_since_signup": [1, 0],
                                             "pct": [np.nan, 100.0]})),
    "volume_heatmap": (lambda d: kp.volume_heatmap(d),
                       lambda: pd.DataFrame({"weekday": ["Tue"], "hour": [3], "tickets": [4]})),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_inputs_are_not_mutated_and_an_axes_is_returned(name):
    call, make = CALLS[name]
    data = make()
    before = data.copy(deep=True)
    ax = render(call(data))
    assert isinstance(ax, matplotlib.axes.Axes)
    pd.testing.assert_frame_equal(data, before)


# --- many channels: the cap, "other", no warnings ---------------------------------------------

SIZES = (1, 8, 60, 100)
PERIODS = ("2026-08", "2026-09", "2026-10")


def channel_names(k: int) -> list[str]:
    """``k`` channels; every seventh has a name longer than a label shows."""
    return [f"regional-support-queue-{i:03d}" if i % 7 == 3 else f"ch{i:03d}" for i in range(k)]


def many_channels(k: int) -> pd.DataFrame:
    """Tidy KPIs of ``k`` channels and ``all``: counts, a rate and a time, with tied volumes."""
    rows = []
    for i, channel in enumerate([*channel_names(k), "all"]):
        for j, period in enumerate(PERIODS):
            tickets = float((i * 37 + j * 11) % 97 // 2)  # ties, so the tie rule matters
            rows += [(period, channel, "tickets", tickets, tickets, np.nan, np.nan),
                     (period, channel, "backlog_end", float((i + j) % 13), tickets, np.nan, np.nan),
                     (period, channel, "csat_pct", 50.0 + i % 40, tickets, 40.0 + i % 40, 60.0 + i % 40),
                     (period, channel, "frt_median_h", 0.5 + i % 9, tickets, 0.2, np.inf)]
    return pd.DataFrame(rows, columns=["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"])


def expected_rest(kpis: pd.DataFrame, period: str | None = None) -> list[str]:
    """Channels past the 8 largest by tickets (ties by name), computed here independently."""
    tickets = kpis.loc[(kpis["kpi"] == "tickets") & (kpis["channel"] != "all")]
    if period is not None:
        tickets = tickets.loc[tickets["period"] == period]
    volume = tickets.groupby("channel")["value"].sum().reset_index()
    return volume.sort_values(["value", "channel"], ascending=[False, True])["channel"].iloc[8:].tolist()


def many_curves(k: int) -> pd.DataFrame:
    rows = [(c, t, s, s - 0.1, min(1.0, s + 0.1), 10 + i % 5, 1, 0)
            for i, c in enumerate(channel_names(k)) for t, s in ((1.0, 0.8), (2.0, 0.5), (3.0, 0.2))]
    return pd.DataFrame(rows, columns=["group", "time_h", "survival", "ci_low", "ci_high", "n_risk", "n_event",
                                       "n_censor"])


def many_responses(k: int) -> pd.DataFrame:
    return pd.DataFrame([(c, score, 1 + (i + score) % 4) for i, c in enumerate(channel_names(k))
                         for score in range(1, 6)], columns=["channel", "score", "count"])


def legend_channels(ax) -> list[str]:
    """Legend entries that stand for a channel (not the total, a target or the left-out note)."""
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in texts if t not in ("all", "target", "not reached") and "in the table below" not in t]


def tick_channels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels() if not t.get_text().startswith("all ")]


#: figure -> (draw it from k channels, the channel elements drawn, whether the rest is summed)
MANY = {
    "kpi_trend rate": (lambda k: kp.kpi_trend(many_channels(k), "csat_pct"), legend_channels, False),
    "kpi_trend count": (lambda k: kp.kpi_trend(many_channels(k), "tickets"), legend_channels, True),
    "kpi_by_channel time": (lambda k: kp.kpi_by_channel(many_channels(k), "frt_median_h", targets=2.0),
                            tick_channels, False),
    "kpi_by_channel count": (lambda k: kp.kpi_by_channel(many_channels(k), "tickets"), tick_channels, True),
    "channel_mix": (lambda k: kp.channel_mix(many_channels(k)),
                    lambda ax: [t.get_text() for t in ax.get_yticklabels()], True),
    "backlog": (lambda k: kp.backlog(many_channels(k)), legend_channels, True),
    "km_curves": (lambda k: kp.km_curves(many_curves(k)), legend_channels, False),
    "score_distribution": (lambda k: kp.score_distribution(many_responses(k)), tick_channels, False),
}


def strict(draw):
    """Draw and render with every warning an error: figures must not print warnings into reports."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return render(draw())


def element_colours(ax) -> list[str]:
    return [hexcolor(a.get_color()) for a in ax.lines] + [hexcolor(p.get_facecolor()) for p in ax.patches]


@pytest.mark.parametrize("k", SIZES)
@pytest.mark.parametrize("name", sorted(MANY))
def test_many_channels_are_capped_without_warnings_and_deterministic(name, k):
    draw, channels_of, summed = MANY[name]
    ax = strict(lambda: draw(k))
    assert isinstance(ax, matplotlib.axes.Axes)
    drawn = channels_of(ax)
    assert len(drawn) == min(k, 8) + (summed and k > 8) <= 8 + 1
    assert all(len(label.split(" (n = ")[0].split(": median")[0]) <= 20 for label in drawn)
    assert not any(c in label for c in channel_names(k) if len(c) > 20 for label in drawn)  # labels shortened
    if k > 8:
        note = f"{k - 8} smaller channels in the table below"
        assert (f"other ({k - 8} channels)" in " ".join(drawn)) == summed
        assert (ax.get_legend() is not None and note in [t.get_text() for t in ax.get_legend().get_texts()]) \
            == (not summed)
    again = strict(lambda: draw(k))
    assert channels_of(again) == drawn and element_colours(again) == element_colours(ax)


@pytest.mark.parametrize("k", SIZES)
def test_other_is_the_exact_sum_of_the_smaller_channels_tickets(k):
    kpis = many_channels(k)
    tickets = kpis.loc[kpis["kpi"] == "tickets"].set_index(["period", "channel"])["value"]
    rest = expected_rest(kpis, "2026-10")
    ax = kp.kpi_by_channel(kpis, "tickets")
    other = [c for c in ax.containers if hexcolor(c.lines[0].get_color()) == kp.OTHER_COLOR]
    assert len(other) == len(rest[:1]) == (k > 8)
    if rest:
        assert other[0].lines[0].get_xdata()[0] == tickets.loc["2026-10"].loc[rest].sum()
        mix = kp.channel_mix(kpis)
        total = tickets.loc["2026-10"].drop("all").sum()
        assert mix.patches[-1].get_width() == pytest.approx(100 * tickets.loc["2026-10"].loc[rest].sum() / total)
        assert sum(p.get_width() for p in mix.patches) == pytest.approx(100)
        # over periods the volume is the tickets of all periods, so the rest may differ from October's
        trend = kp.kpi_trend(kpis, "tickets")
        rest_all = expected_rest(kpis)
        line = [ln for ln in trend.lines if ln.get_label() == f"other ({len(rest_all)} channels)"][0]
        expected = [tickets.loc[p].loc[rest_all].sum() for p in PERIODS]
        np.testing.assert_array_equal(line.get_ydata(), expected)


def test_other_is_empty_where_a_smaller_channel_has_no_value():
    kpis = many_channels(10)
    rest = expected_rest(kpis)
    kpis.loc[(kpis["kpi"] == "backlog_end") & (kpis["channel"] == rest[0]) & (kpis["period"] == "2026-09"),
             "value"] = np.nan
    line = [ln for ln in kp.backlog(kpis).lines if ln.get_label().startswith("other")][0]
    assert np.isnan(line.get_ydata()[1]) and not np.isnan(line.get_ydata()[[0, 2]]).any()


def test_long_names_are_shortened_in_labels_only():
    kpis = many_channels(4)  # channel 3 is "regional-support-queue-003"
    trend = render(kp.kpi_trend(kpis, "csat_pct"))
    by_channel = render(kp.kpi_by_channel(kpis, "csat_pct"))
    assert "regional-supp\u2026ue-003" in legend_channels(trend)
    assert "regional-supp\u2026ue-003 (n = 18)" in tick_channels(by_channel)
    assert kp.channel_palette(["regional-support-queue-003"])  # colours stay keyed by the full name


def test_comparison_forest_keeps_pairs_of_the_largest_groups():
    names = channel_names(60)
    res = compare_proportions([40 + i % 20 for i in range(60)], [100 + i for i in range(60)], names)
    ax = strict(lambda: kp.comparison_forest(res, max_channels=4))
    # n = 100 + i: the four largest are the last four channels, 6 pairs among them
    assert len(ax.get_yticklabels()) == 6
    assert all(label.get_text().startswith(("ch05", "regional-supp")) for label in ax.get_yticklabels())
    assert "56 smaller channels in the table below" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(strict(lambda: kp.comparison_forest(res)).get_yticklabels()) == 28  # 8 choose 2


def test_every_figure_per_channel_takes_max_channels_eight():
    for function in (kp.kpi_trend, kp.kpi_by_channel, kp.channel_mix, kp.backlog, kp.km_curves,
                     kp.score_distribution, kp.comparison_forest):
        assert inspect.signature(function).parameters["max_channels"].default == 8 == kp.MAX_CHANNELS


def test_max_channels_is_honoured_and_long_legends_take_two_columns():
    kpis = many_channels(60)
    ax = render(kp.kpi_trend(kpis, "csat_pct", max_channels=20))
    assert len(legend_channels(ax)) == 20 and ax.get_legend()._ncols == 2
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1  # outside the axes
    assert len(legend_channels(render(kp.kpi_trend(kpis, "csat_pct", max_channels=3)))) == 3
    assert len(render(kp.channel_mix(kpis, max_channels=0)).patches) == 1  # everything is "other"


def test_top_channels_ranks_by_tickets_then_n_then_value_with_ties_by_name():
    kpis = pd.DataFrame({"period": "2026-10", "channel": ["b", "a", "c", "all"], "kpi": "tickets",
                         "value": [5.0, 5.0, 9.0, 19.0]})
    assert kp.top_channels(kpis, ["c", "b", "a", "all"], 2) == (["c", "a", "all"], ["b"])
    rates = pd.DataFrame({"channel": ["b", "a", "c"], "kpi": "csat_pct", "value": [90.0, 10.0, 50.0],
                          "n": [1.0, 7.0, np.nan]})
    assert kp.top_channels(rates, ["a", "b", "c"], 1, kpi="csat_pct") == (["a"], ["b", "c"])
    assert kp.top_channels(rates.drop(columns="n"), ["a", "b", "c"], 1, kpi="csat_pct") == (["b"], ["c", "a"])
    assert kp.top_channels(rates, ["a", "b"], 8) == (["a", "b"], [])
    with pytest.raises(ValueError, match="max_channels"):
        kp.top_channels(rates, ["a"], -1)


EMPTY = {
    "kpi_trend": lambda: kp.kpi_trend(pd.DataFrame(columns=["period", "channel", "kpi", "value"]), "csat_pct"),
    "kpi_trend all NaN": lambda: kp.kpi_trend(many_channels(3).assign(value=np.nan), "csat_pct"),
    "kpi_by_channel all NaN": lambda: kp.kpi_by_channel(many_channels(3).assign(value=np.nan), "csat_pct"),
    "backlog daily": lambda: kp.backlog(pd.DataFrame(columns=["date", "channel", "backlog"])),
    "km_curves": lambda: kp.km_curves(pd.DataFrame(columns=["group", "time_h", "survival", "ci_low", "ci_high"])),
    "score_distribution": lambda: kp.score_distribution(pd.DataFrame(columns=["channel", "score"])),
    "laney_chart": lambda: kp.laney_chart(laney_p_prime([], [], [])),
    "cohort_heatmap": lambda: kp.cohort_heatmap(pd.DataFrame(columns=["cohort", "months_since_signup", "pct"])),
    "cohort_heatmap all NaN": lambda: kp.cohort_heatmap(
        pd.DataFrame({"cohort": ["2026-09"], "months_since_signup": [0], "pct": [np.nan]})),
    "volume_heatmap": lambda: kp.volume_heatmap(pd.DataFrame(columns=["weekday", "hour", "tickets"])),
}


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_no_values_draw_a_no_data_panel_without_warnings(name):
    assert [t.get_text() for t in strict(EMPTY[name]).texts] == ["no data"]


def test_a_point_outside_its_adjusted_interval_is_drawn():
    # NPS keeps the unadjusted point while its adjusted-Wald interval may not contain it (SPEC §4)
    rows = pd.DataFrame({"period": "2026-10", "channel": ["chat", "all"], "kpi": "nps", "value": [-100.0, -100.0],
                         "n": [2.0, 2.0], "ci_low": [-90.0, -90.0], "ci_high": [-20.0, -20.0]})
    ax = kp.kpi_by_channel(rows, "nps", "2026-10")
    assert any(list(line.get_xdata()) == [-90.0, -20.0] for line in ax.lines)
    plt.close(ax.figure)
