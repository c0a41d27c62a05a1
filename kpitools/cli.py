"""The ``kpitools`` command line.

Exit codes, for scripts and schedulers: 0 done; 1 the work ran and failed (a notebook of a run,
``validate --strict`` on rejected rows or sanity flags, a notebook of a refresh); 2 a user
mistake (bad argument, dataset or configuration: one clear message, no traceback unless ``-v``);
128 + N stopped by signal N. Every command takes ``-q`` (no progress lines) and ``-v`` (more
detail); progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import KpitoolsError

if TYPE_CHECKING:
    import pandas as pd

#: ``kpitools run`` without ``--dataset`` (the sample of a source checkout, or one written by
#: ``kpitools sample data/sample``).
DEFAULT_DATASET = "data/sample"
#: The notebook whose page a finished run names first.
SUMMARY_NOTEBOOK = "10_monthly_summary"


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    """Progress lines on stderr, silent with ``-q``."""
    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)
    return say


def _validate(args: argparse.Namespace) -> int:
    from .loading import load

    _progress(args)(f"kpitools validate: loading {args.path}")
    ds = load(args.path)
    counts = ds.counts.copy()
    print(f"dataset {ds.path}  (timezone {ds.timezone}, as_of {ds.as_of.isoformat()})")
    print(counts.to_string(index=False))
    total_in, total_kept, total_rej = (int(counts[c].sum()) for c in ("rows_in", "rows_kept", "rows_rejected"))
    print(f"total: {total_in:,} rows in = {total_kept:,} kept + {total_rej:,} rejected")
    if not ds.rejects.empty:
        top = (ds.rejects.groupby(["table", "reason"], sort=False).size().rename("rows")
               .reset_index().sort_values(["rows", "table", "reason"], ascending=[False, True, True],
                                          kind="stable"))
        top = top if args.verbose else top.head(args.top)
        print("\ntop reject reasons:")
        print(top.to_string(index=False))
    _print_flags(ds.flags)
    if args.strict and (total_rej or not ds.flags.empty):
        print(f"\nstrict: {total_rej:,} rejected row(s), {len(ds.flags):,} sanity flag(s)", file=sys.stderr)
        return 1
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

    out = write_sample(args.out, seed=args.seed, tickets=args.tickets, progress=_progress(args))
    print(f"wrote sample dataset to {out}")
    return 0


def _shown(path: Path) -> str:
    """A path as the user can type it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive
        return str(path)


def _run(args: argparse.Namespace) -> int:
    from .runs import parse_params, run
    from .runs.execute import RunStopped
    from .runs.monthly import RunFailedError

    _progress(args)("kpitools run: checking the notebooks and parameters")
    if args.dataset == DEFAULT_DATASET and not Path(DEFAULT_DATASET).is_dir():
        raise KpitoolsError(f"no dataset folder {DEFAULT_DATASET} here ({Path.cwd()}): pass --dataset PATH, "
                            f"or write the sample with `kpitools sample {DEFAULT_DATASET}`")
    params = parse_params(args.param, notebooks=args.notebooks, notebooks_dir=args.notebooks_dir)
    try:
        result = run(args.dataset, period=args.period, notebooks=args.notebooks, jobs=args.jobs, params=params,
                     reports_dir=args.reports_dir, notebooks_dir=args.notebooks_dir, progress=not args.quiet,
                     include_identifiers=args.include_identifiers, connection=args.connection)
    except RunFailedError as exc:
        print(f"kpitools: run failed: {exc}", file=sys.stderr)
        print(f"open {_shown(Path(args.reports_dir) / 'index.html')} to see the failed version")
        return 1
    except RunStopped as exc:  # one line, the shell's exit code for "killed by this signal"
        print(f"kpitools: {exc}", file=sys.stderr)
        return 128 + exc.signum
    pages = sorted(result.path.glob("*.html"))
    page = next((p for p in pages if p.stem == SUMMARY_NOTEBOOK), pages[0] if pages else result.path)
    print(f"report {result.period} {result.version} {result.status}"
          + (f" (reproduces {result.reproduces})" if result.reproduces else ""))
    print(f"open {_shown(page)} (every report: {_shown(Path(args.reports_dir) / 'index.html')})")
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
    from .runs.params import find_notebooks
    from .runs.refresh import refresh_notebooks

    if args.copy:
        sources = find_notebooks(args.notebooks_dir, args.notebooks)
        target = Path(args.copy)
        existing = [p.name for p in sources if (target / p.name).exists()]
        if existing:
            raise KpitoolsError(f"{target} already has {', '.join(existing)}; choose an empty folder "
                                "(customised notebooks are never overwritten)")
        target.mkdir(parents=True, exist_ok=True)
        for path in sources:
            shutil.copy2(path, target / path.name)
        readme = sources[0].parent / "README.md"
        if readme.is_file() and not (target / readme.name).exists():
            shutil.copy2(readme, target / readme.name)
        print(f"copied {len(sources)} notebooks to {target}; run them with "
              f"`kpitools run --dataset PATH --notebooks-dir {target}`")
        return 0
    if not args.refresh:
        print("nothing to do: pass --refresh to re-execute the notebooks in place, or --copy DIR",
              file=sys.stderr)
        return 2
    failed = refresh_notebooks(args.notebooks_dir, args.notebooks, progress=_progress(args))
    return 1 if failed else 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose epilog can be computed when help is shown (``run --help`` reads
    the notebooks' parameters, which costs a second that other commands should not pay)."""

    def __init__(self, *args: Any, epilog_from: Callable[[], str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._epilog_from = epilog_from

    def format_help(self) -> str:
        if self._epilog_from is not None:
            self.epilog = self._epilog_from()
        return super().format_help()


def _parameters_help() -> str:
    """The ``run --help`` epilog: every parameter of the bundled notebooks with type, default and meaning."""
    from .runs.params import RUN_SET, describe_parameters

    try:
        rows = describe_parameters()
    except KpitoolsError as exc:
        return f"notebook parameters: cannot be read ({exc})"
    width = max(len(name) for name, *_ in rows)
    kinds = max(len(kind) for _, kind, *_ in rows)
    lines = ["notebook parameters (pass with --param NAME=VALUE; lists as a,b; booleans as true/false):"]
    for name, kind, default, meaning in rows:
        how = f"set by --{name}" if name in ("dataset", "period") else "set by the run" if name in RUN_SET else ""
        lines.append(f"  {name:<{width}}  {kind:<{kinds}}  {meaning}" + (f" ({how})" if how
                                                                          else f" (default {default})"))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kpitools", description="Customer-service KPIs computed right: load, validate, report.",
        epilog="exit codes: 0 done, 1 the work failed (a notebook; validate --strict), 2 a user mistake, "
               "128+N stopped by signal N")
    parser.add_argument("--version", action="version", version=f"kpitools {__version__}")
    # -q and -v on every command, after its name (`kpitools run -q`)
    common = argparse.ArgumentParser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    loudness.add_argument("-v", "--verbose", action="store_true",
                          help="more detail (tracebacks of errors; validate: every reject reason)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("validate", parents=[common],
                       help="load a dataset folder and print rows in/kept/rejected and top reasons")
    p.add_argument("path", type=Path, help="dataset folder (tables + dataset.toml)")
    p.add_argument("--top", type=int, default=10, help="how many reject reasons to list (default 10)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when any row is rejected or any sanity flag is raised (for pipelines)")
    p.set_defaults(func=_validate)

    p = sub.add_parser("sample", parents=[common], help="write the deterministic sample dataset")
    p.add_argument("out", type=Path, help="output folder")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed = byte-identical files; default 7)")
    p.add_argument("--tickets", type=int, default=50_000, help="number of tickets (default 50000)")
    p.set_defaults(func=_sample)

    p = sub.add_parser("run", parents=[common], epilog_from=_parameters_help,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="run every report notebook for one period into reports/<period>/v<N>/")
    p.add_argument("--dataset", default=DEFAULT_DATASET, help=f"dataset folder (default {DEFAULT_DATASET})")
    p.add_argument("--period", help="YYYY-MM (default: the latest complete month before the dataset's as_of)")
    p.add_argument("--notebooks", nargs="+", metavar="NAME", help="only these notebooks (default: all)")
    p.add_argument("--jobs", type=int, help="notebooks run at once (default: the number of cores)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a notebook parameter, e.g. --param business_hours=false --param channels=chat,email")
    p.add_argument("--reports-dir", default="reports", help="where versions go (default ./reports)")
    p.add_argument("--notebooks-dir", help="a folder of customised notebooks (see `kpitools notebooks --copy`; "
                                           "default: the notebooks that come with kpitools)")
    p.add_argument("--include-identifiers", action="store_true",
                   help="keep ticket, response, customer and session ids in rejects.csv (private use only: "
                        "never share such a report)")
    p.add_argument("--connection", choices=("duckdb", "spark"), default="duckdb",
                   help="the engine that computes the KPIs: embedded DuckDB (default) or a local Spark session "
                        "(needs `pip install 'kpitools[spark]'` and Java 17)")
    p.set_defaults(func=_run)

    p = sub.add_parser("runs", parents=[common], help="maintain the report versions")
    p.add_argument("--repair", action="store_true",
                   help="mark failed the versions left 'running' by a process that no longer exists, "
                        "and rebuild the index")
    p.add_argument("--reports-dir", default="reports", help="the reports folder (default reports)")
    p.set_defaults(func=_runs)

    p = sub.add_parser("notebooks", parents=[common], help="copy or refresh the report notebooks")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--copy", metavar="DIR",
                        help="copy the notebooks into DIR to start a customised set (never overwrites)")
    action.add_argument("--refresh", action="store_true",
                        help="re-execute the notebooks in place with their default parameters (for nbval)")
    p.add_argument("--notebooks", nargs="+", metavar="NAME", help="only these notebooks (default: all)")
    p.add_argument("--notebooks-dir", help="where the notebooks are (default: the ones that come with kpitools; "
                                           "in a source checkout the repository's notebooks/)")
    p.set_defaults(func=_notebooks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KpitoolsError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"kpitools: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # out of memory anywhere (pandas, Arrow, DuckDB): one line naming the knob, not a traceback
        from .memory import as_error

        clear = as_error(exc, f"in kpitools {args.command}")
        if clear is None:
            raise
        if args.verbose:
            traceback.print_exc()
        print(f"kpitools: error: {clear}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
