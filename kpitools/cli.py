"""The ``kpitools`` command line. User mistakes print one clear message and exit 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import KpitoolsError


def _validate(args: argparse.Namespace) -> int:
    from .loading import load

    ds = load(args.path)
    counts = ds.counts.copy()
    print(f"dataset {ds.path}  (timezone {ds.timezone}, as_of {ds.as_of.isoformat()})")
    print(counts.to_string(index=False))
    total_in, total_kept, total_rej = (int(counts[c].sum()) for c in ("rows_in", "rows_kept", "rows_rejected"))
    print(f"total: {total_in:,} rows in = {total_kept:,} kept + {total_rej:,} rejected")
    if not ds.rejects.empty:
        top = (ds.rejects.groupby(["table", "reason"], sort=False).size().rename("rows")
               .reset_index().sort_values(["rows", "table", "reason"], ascending=[False, True, True],
                                          kind="stable").head(args.top))
        print("\ntop reject reasons:")
        print(top.to_string(index=False))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .sample import write_sample

    out = write_sample(args.out, seed=args.seed, tickets=args.tickets,
                       progress=lambda msg: print(msg, file=sys.stderr))
    print(f"wrote sample dataset to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpitools", description="Customer-service KPIs computed right: load, validate, report.")
    parser.add_argument("--version", action="version", version=f"kpitools {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="load a dataset folder and print rows in/kept/rejected and top reasons")
    p.add_argument("path", type=Path, help="dataset folder (tables + dataset.toml)")
    p.add_argument("--top", type=int, default=10, help="how many reject reasons to list (default 10)")
    p.set_defaults(func=_validate)

    p = sub.add_parser("sample", help="write the deterministic sample dataset")
    p.add_argument("out", type=Path, help="output folder")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed = byte-identical files; default 7)")
    p.add_argument("--tickets", type=int, default=50_000, help="number of tickets (default 50000)")
    p.set_defaults(func=_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KpitoolsError as exc:
        print(f"kpitools: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
