"""The ``kpitools`` command line. User mistakes print one clear message and exit 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import KpitoolsError

if TYPE_CHECKING:
    import pandas as pd


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
    _print_flags(ds.flags)
    return 0


def _print_flags(flags: pd.DataFrame) -> None:
    """One line per sanity flag (SPEC A16): where, which flag, how many rows, what it means."""
    if flags.empty:
        print("\nno sanity flags")
        return
    print("\nsanity flags:")
    for f in flags.itertuples():
        where = "+".join(f"{t}.{c}" for t, c in zip(f.table.split("+"), f.column.split("+")))
        print(f"  {where}: {f.flag}, {f.rows:,} rows — {f.note}")


def _sample(args: argparse.Namespace) -> int:
    from .sample import write_sample

    out = write_sample(args.out, seed=args.seed, tickets=args.tickets,
                       progress=lambda msg: print(msg, file=sys.stderr))
    print(f"wrote sample dataset to {out}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runs import parse_params, run
    from .runs.execute import RunStopped
    from .runs.monthly import RunFailedError

    params = parse_params(args.param, notebooks=args.notebooks, notebooks_dir=args.notebooks_dir)
    try:
        result = run(args.dataset, period=args.period, notebooks=args.notebooks, jobs=args.jobs, params=params,
                     reports_dir=args.reports_dir, notebooks_dir=args.notebooks_dir, progress=not args.quiet,
                     include_identifiers=args.include_identifiers)
    except RunFailedError as exc:
        print(f"kpitools: run failed: {exc}", file=sys.stderr)
        return 1
    except RunStopped as exc:  # one line, the shell's exit code for "killed by this signal"
        print(f"kpitools: {exc}", file=sys.stderr)
        return 128 + exc.signum
    print(f"report {result.period} {result.version}: {result.status} -> {result.path}")
    return 0


def _runs(args: argparse.Namespace) -> int:
    from .runs.index import write_index
    from .runs.manifest import repair_interrupted

    if not args.repair:
        print("nothing to do: pass --repair to mark interrupted runs failed", file=sys.stderr)
        return 2
    fixed = repair_interrupted(args.reports_dir)
    for folder in fixed:
        print(f"marked failed (interrupted): {folder}")
    write_index(args.reports_dir)
    print(f"{len(fixed)} interrupted version(s) repaired in {args.reports_dir}")
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from .runs.refresh import refresh_notebooks

    if not args.refresh:
        print("nothing to do: pass --refresh to re-execute the notebooks in place", file=sys.stderr)
        return 2
    failed = refresh_notebooks(args.notebooks_dir, args.notebooks,
                               progress=lambda msg: print(msg, file=sys.stderr))
    return 1 if failed else 0


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

    p = sub.add_parser("run", help="run every report notebook for one period into reports/<period>/v<N>/")
    p.add_argument("--dataset", default="data/sample", help="dataset folder (default data/sample)")
    p.add_argument("--period", help="YYYY-MM (default: the latest complete month before the dataset's as_of)")
    p.add_argument("--notebooks", nargs="+", metavar="NAME", help="only these notebooks (default: all)")
    p.add_argument("--jobs", type=int, help="notebooks run at once (default: the number of cores)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a notebook parameter, e.g. --param business_hours=false --param channels=chat,email")
    p.add_argument("--reports-dir", default="reports", help="where versions go (default reports)")
    p.add_argument("--notebooks-dir", default="notebooks", help="where the notebooks are (default notebooks)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument("--include-identifiers", action="store_true",
                   help="keep ticket, response, customer and session ids in rejects.csv (private use only: "
                        "never share such a report)")
    p.set_defaults(func=_run)

    p = sub.add_parser("runs", help="maintain the report versions")
    p.add_argument("--repair", action="store_true",
                   help="mark failed the versions left 'running' by a process that no longer exists, "
                        "and rebuild the index")
    p.add_argument("--reports-dir", default="reports", help="the reports folder (default reports)")
    p.set_defaults(func=_runs)

    p = sub.add_parser("notebooks", help="maintain the committed report notebooks")
    p.add_argument("--refresh", action="store_true",
                   help="re-execute the notebooks in place with their default parameters (for nbval)")
    p.add_argument("--notebooks", nargs="+", metavar="NAME", help="only these notebooks (default: all)")
    p.add_argument("--notebooks-dir", default="notebooks", help="where the notebooks are (default notebooks)")
    p.set_defaults(func=_notebooks)
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
