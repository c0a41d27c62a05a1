"""Tiny dataset folders with messages and status changes for the §8 tests (loaded by kt.load)."""

from __future__ import annotations

from pathlib import Path

import kpitools as kt

MESSAGES = "message_id,sent_at,author,ticket_id,in_reply_to,customer_id,agent_id,channel"
TICKETS = "ticket_id,channel,created_at,first_response_at,resolved_at,priority"
STATUSES = "ticket_id,changed_at,status"
WEEKDAYS = "\n".join(f'{d} = ["09:00-17:00"]' for d in ("mon", "tue", "wed", "thu", "fri"))


def load(folder: Path, *, tickets: list[str], messages: list[str] | None = None, statuses: list[str] | None = None,
         toml: str = "", timezone: str = "UTC", as_of: str = "2026-11-10T00:00:00") -> kt.Dataset:
    """Write the tables (CSV rows without their header) and ``dataset.toml``, then load them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.toml").write_text(f'timezone = "{timezone}"\nas_of = "{as_of}"\n{toml}\n', encoding="utf-8")
    for name, header, rows in (("tickets", TICKETS, tickets), ("messages", MESSAGES, messages),
                               ("status_changes", STATUSES, statuses)):
        if rows is not None:
            (folder / f"{name}.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return kt.load(folder)


def sla(metric: str, target_h: float, **keys: object) -> str:
    """One ``[[sla]]`` entry as TOML."""
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(f'"{x}"' for x in v) + "]"
        return f'"{v}"' if isinstance(v, str) else str(v)

    lines = ["[[sla]]", f'metric = "{metric}"', f"target_h = {target_h}"]
    lines += [f"{k} = {value(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"
