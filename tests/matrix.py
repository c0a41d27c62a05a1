"""The dataset matrix: variants of a small sample that the data contract allows (SPEC §2, A13).

Each variant is a folder written from one small generated sample (3,000 tickets, seed 7): tables
removed, optional ticket columns removed, one channel, 60 channels, a report month without
tickets. The report must render on every one of them, and no KPI may get a value from a table or
column the variant lacks.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from kpitools.sample import write_sample
from kpitools.schema import TABLES

OPTIONAL_TABLES = ("surveys", "customers", "activity", "sessions", "costs", "targets", "messages", "status_changes")
OPTIONAL_TICKET_COLUMNS = tuple(c.name for c in TABLES["tickets"] if not c.required)
PERIOD = "2026-10"


def _file(folder: Path, table: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        if (folder / f"{table}{suffix}").exists():
            return folder / f"{table}{suffix}"
    return None


def read(folder: Path, table: str) -> pd.DataFrame:
    """A table of a variant as text (what a file holds), or an empty frame when absent."""
    file = _file(folder, table)
    if file is None:
        return pd.DataFrame()
    if file.suffix == ".parquet":
        return pd.read_parquet(file)
    return pd.read_csv(file, dtype=str, keep_default_na=False)


def write(folder: Path, table: str, frame: pd.DataFrame) -> None:
    """Replace a table of a variant (keeping its file format)."""
    file = _file(folder, table)
    if file.suffix == ".parquet":
        frame.to_parquet(file, index=False)
    else:
        frame.to_csv(file, index=False)


def _drop_tables(*tables: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        for table in tables:
            _file(folder, table).unlink()
    return edit


def _drop_ticket_columns(*columns: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        write(folder, "tickets", read(folder, "tickets").drop(columns=list(columns)))
    return edit


def _channels(count: int) -> Callable[[Path], None]:
    """Tickets spread over ``count`` channels (``ch00`` ...); costs and targets follow the first."""
    def edit(folder: Path) -> None:
        tickets = read(folder, "tickets")
        names = np.array([f"ch{i:02d}" for i in range(count)])
        tickets["channel"] = names[np.arange(len(tickets)) % count]
        write(folder, "tickets", tickets)
        surveys = read(folder, "surveys")
        surveys["channel"] = ""  # a survey takes its ticket's channel
        write(folder, "surveys", surveys)
        for table in ("costs", "targets"):
            frame = read(folder, table)
            frame = frame[frame["channel"].isin(["", "chat"])].copy()
            frame.loc[frame["channel"] == "chat", "channel"] = names[0]
            write(folder, table, frame)
    return edit


def _no_tickets_in(period: str) -> Callable[[Path], None]:
    """No ticket created in ``period`` (nor surveys answered in it)."""
    def edit(folder: Path) -> None:
        for table, column in (("tickets", "created_at"), ("surveys", "responded_at")):
            frame = read(folder, table)
            write(folder, table, frame[~frame[column].astype(str).str.startswith(period)])
    return edit


#: name -> (edit of the sample folder, the report month)
VARIANTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "tickets_only": (_drop_tables(*OPTIONAL_TABLES), PERIOD),
    "bare_tickets": (lambda f: (_drop_tables(*OPTIONAL_TABLES)(f), _drop_ticket_columns(*OPTIONAL_TICKET_COLUMNS)(f)),
                     PERIOD),
    **{f"no_{t}": (_drop_tables(t), PERIOD) for t in OPTIONAL_TABLES},
    **{f"no_ticket_{c}": (_drop_ticket_columns(c), PERIOD) for c in OPTIONAL_TICKET_COLUMNS},
    "one_channel": (_channels(1), PERIOD),
    "sixty_channels": (_channels(60), PERIOD),
    "empty_month": (_no_tickets_in(PERIOD), PERIOD),
    "first_month": (lambda f: None, "2025-10"),
}


def sample(root: Path) -> Path:
    """The small sample every variant starts from (written once under ``root``)."""
    folder = root / "sample"
    if not folder.exists():
        write_sample(folder, tickets=3_000, seed=7)
    return folder


def variant(root: Path, name: str) -> tuple[Path, str]:
    """The folder of variant ``name`` under ``root`` and its report month."""
    edit, period = VARIANTS[name]
    folder = root / name
    if not folder.exists():
        shutil.copytree(sample(root), folder)
        edit(folder)
    return folder, period
