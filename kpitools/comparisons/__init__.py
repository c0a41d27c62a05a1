"""The analyst layer of the statistics (SPEC §5): compare channels, detect real change, flag thin
data, and state findings in plain words.

* :func:`compare_channels` — one KPI across channels (or any segment) in one period;
* :func:`changes` — month over month and year over year per channel, with a Laney p′ signal;
* :func:`laney` — the Laney p′ chart of a share KPI over the last months;
* :func:`findings` — the significant differences and changes of a period, ranked, in words;
* :func:`observations` — the per-group inputs of those tests (the rows behind each KPI value).
"""

from __future__ import annotations

from .across import compare_channels
from .change import changes, laney
from .findings import findings
from .observations import observations

__all__ = ["changes", "compare_channels", "findings", "laney", "observations"]
