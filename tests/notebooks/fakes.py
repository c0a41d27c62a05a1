"""Shared by tests/test_runs.py and tests/test_browser.py: a tiny dataset, a stand-in KPI engine.

Loaded by path (``importlib``) because the tests folder is not a package.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent

DATASET_TOML = 'timezone = "UTC"\nas_of = "2026-11-15T12:00:00"\n'
# six tickets; row 6 (t5) and row 7 (t6) are rejected by the loader: a formula in `contacts`
# and a negative handle time, so rejects.csv has a value to neutralise and a number to keep
TICKETS_CSV = """\
ticket_id,channel,created_at,first_response_at,resolved_at,contacts,handle_seconds,topic
t1,email,2026-08-03 09:00,2026-08-03 10:00,2026-08-04 09:00,1,300,billing
t2,chat,2026-09-10 12:00,2026-09-10 12:05,2026-09-10 12:30,1,200,<script>alert(1)</script>
t3,email,2026-10-01 08:00,2026-10-01 09:30,,1,,billing
t4,chat,2026-10-15 14:00,2026-10-15 14:02,2026-10-15 14:20,2,100,login
t5,email,2026-10-20 10:00,,,"=HYPERLINK(""http://x"")",,billing
t6,chat,2026-10-21 10:00,,,1,-5,billing
"""


def write_dataset(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.toml").write_text(DATASET_TOML)
    (folder / "tickets.csv").write_text(TICKETS_CSV)
    return folder


def _png(width: int = 8, height: int = 4) -> bytes:
    # a solid blue PNG, built by hand so the test needs no image library
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def copy_notebooks(folder: Path) -> Path:
    """The test notebooks plus ``logo.png`` (the Markdown image the HTML must embed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for nb in HERE.glob("*.ipynb"):
        shutil.copy(nb, folder / nb.name)
    (folder / "logo.png").write_bytes(_png())
    return folder


class FakeEngine:
    """Stands in for kpitools.engine: ``tickets`` and ``frt_median_h`` per channel and ``all``.

    Oct 2026 of the tiny dataset keeps t3 (email, answered after 1.5 h) and t4 (chat, after
    2 min): tickets all = 2; frt_median_h all = median(1.5, 0.0333) = 0.7667.
    """

    def kpis(self, ds, period, channels=None) -> pd.DataFrame:
        periods = [period] if isinstance(period, str) else list(period)
        t = ds.tickets.assign(
            period=ds.tickets["created_at"].dt.strftime("%Y-%m"),
            frt_h=(ds.tickets["first_response_at"] - ds.tickets["created_at"]).dt.total_seconds() / 3600)
        t = t[t["period"].isin(periods)]
        grid = pd.MultiIndex.from_product([periods, ["all", *ds.channels]], names=["period", "channel"])
        both = pd.concat([t, t.assign(channel="all")])
        g = both.groupby(["period", "channel"])
        stats = pd.DataFrame({"tickets": g.size(), "frt_median_h": g["frt_h"].median()}).reindex(grid)
        stats["tickets"] = stats["tickets"].fillna(0)
        out = stats.reset_index().melt(["period", "channel"], var_name="kpi", value_name="value")
        out["n"] = out["value"].where(out["kpi"].eq("tickets"))
        out["ci_low"] = out["ci_high"] = float("nan")
        return out.sort_values(["period", "kpi", "channel"], ignore_index=True)[
            ["period", "channel", "kpi", "value", "n", "ci_low", "ci_high"]]

    def kpis_to_csv(self, df: pd.DataFrame, path) -> None:
        df.to_csv(path, index=False, lineterminator="\n")
