"""Report figures: one style, one colour per channel, labels and units from the KPI catalogue.

Every function takes tidy DataFrames (never modified) and an optional ``ax``, and returns the
Axes it drew on; without ``ax`` it draws a new figure in the report style (:func:`style`).
Titles state the finding when the caller passes ``title=``, otherwise they describe the figure.
A figure with one element per channel draws the ``max_channels`` largest one by one (see
:func:`top_channels`): the rest are summed into "other (K channels)" for counts, or left to the
table (the legend says how many) for every other KPI, as a rate or median cannot be combined.

>>> import kpitools as kt
>>> kt.plot.channel_palette(["phone", "all"])
{'phone': '#E69F00', 'all': '#333333'}
"""

from __future__ import annotations

from .channels import channel_mix, comparison_forest, kpi_by_channel
from .heatmaps import cohort_heatmap, volume_heatmap
from .satisfaction import score_distribution
from ._helpers import MAX_CHANNELS, top_channels
from .theme import CHANNEL_COLORS, OKABE_ITO, OTHER_COLOR, PALETTE, channel_palette, report_rc, set_style, style
from .survival import km_curves
from .trends import backlog, kpi_trend, laney_chart

__all__ = [
    "CHANNEL_COLORS", "MAX_CHANNELS", "OKABE_ITO", "OTHER_COLOR", "PALETTE", "backlog", "channel_mix",
    "channel_palette", "cohort_heatmap", "comparison_forest", "km_curves", "kpi_by_channel", "kpi_trend",
    "laney_chart", "report_rc", "score_distribution", "set_style", "style", "top_channels", "volume_heatmap",
]
