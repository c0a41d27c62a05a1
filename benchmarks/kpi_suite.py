"""KPI benchmark (issue 3): ``kt.kpis`` against hand-written DuckDB SQL and an analyst's pandas.

Run from the repository root::

    python -m benchmarks.kpi_suite                    # 10M tickets, 3 runs
    python -m benchmarks.kpi_suite --quick            # 1M tickets
    python -m benchmarks.kpi_suite --tickets 2000000 --runs 5 --skip-pandas

The canonical dataset (``kpitools.write_sample``, seed 7, about two activity events per ticket)
is generated once per size under ``benchmarks/.data/<tickets>/`` (git-ignored), together with
the SQL baseline's DuckDB copy of the validated tables. Each contender runs in its own
subprocess, interleaved, ``--runs`` times; the table shows medians and each process's peak
RSS. End to end (issue 11), ``kt.load`` + ``kt.kpis`` of one month is timed against the SQL
baseline reading and validating the same files itself (``sql_load.py``) before its KPIs. See
``benchmarks/README.md`` for what each contender does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / ".data"
SEED = 7
USAGE = 0.53  # regular product use scaled so the activity table holds about 2 events per ticket
MONTH = "2026-10"
TREND = "2025-10:2026-10"
TREND_MONTHS = [f"2025-{m}" for m in ("10", "11", "12")] + [f"2026-{m:02d}" for m in range(1, 11)]
TARGETS = {"vs_sql": 1.25, "vs_pandas": 5.0, "peak_gib": 2.0, "scaling": 11.0, "import_s": 0.3,
           "load_s": 20.0, "e2e_vs_sql": 0.35}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def dataset(tickets: int) -> Path:
    """The cached benchmark dataset of this size (generated when missing or stale)."""
    folder = DATA / str(tickets)
    spec = {"seed": SEED, "tickets": tickets, "usage": USAGE}
    marker = folder / "benchmark.json"
    if not marker.exists() or json.loads(marker.read_text()) != spec:
        import kpitools as kt

        print(f"generating the {tickets:,}-ticket dataset in {folder} ...", flush=True)
        marker.unlink(missing_ok=True)
        (folder / "baseline.duckdb").unlink(missing_ok=True)
        kt.write_sample(folder, seed=SEED, tickets=tickets, usage=USAGE)
        marker.write_text(json.dumps(spec))
    db = folder / "baseline.duckdb"
    if not db.exists():
        from benchmarks.sql_baseline import prepare

        print("copying the validated tables into the SQL baseline's DuckDB file ...", flush=True)
        prepare(folder, db)
    return folder


# ---------------------------------------------------------------------------- workers
def _suite(month: Callable[[], Any], trend: Callable[[], Any], out: dict) -> dict:
    """Time the month's table, then the 13-month trend; add both, the row count and the peak."""
    t = time.perf_counter()
    rows = len(month())
    out["month_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rows += len(trend())
    out["trend_s"] = time.perf_counter() - t
    out["rows"] = rows
    out["peak_mib"] = _peak_mib()
    return out


def _loaded(folder: Path) -> tuple[Any, dict]:
    """``kt.load`` timed from the import of kpitools on (a fresh process's whole way to a dataset)."""
    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    import kpitools as kt

    ds = kt.load(folder)
    return ds, {"load_s": time.perf_counter() - t0, "load_peak_mib": _peak_mib(), "load_avg": load_avg}


def work_kpitools(folder: Path) -> dict:
    import kpitools as kt

    ds, out = _loaded(folder)
    return _suite(lambda: kt.kpis(ds, MONTH), lambda: kt.kpis(ds, TREND), out)


def work_kpitools_few(folder: Path) -> dict:
    """Like for like with the pandas contender: only the speed and satisfaction families."""
    import kpitools as kt

    ds, out = _loaded(folder)

    def few(period: str) -> Any:
        return [*kt.speed(ds, period).itertuples(), *kt.satisfaction(ds, period).itertuples()]

    return _suite(lambda: few(MONTH), lambda: few(TREND), out)


def work_sql_e2e(folder: Path) -> dict:
    """The SQL baseline end to end: its own load of the files (``sql_load.py``) into a fresh
    DuckDB file, then one month's KPI table."""
    import tempfile

    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    from benchmarks.sql_baseline import Baseline
    from benchmarks.sql_load import load

    with tempfile.TemporaryDirectory(prefix="kpitools-sql-") as tmp:
        db = Path(tmp) / "loaded.duckdb"
        load(folder, db)
        out = {"load_s": time.perf_counter() - t0, "load_avg": load_avg}
        t = time.perf_counter()
        rows = len(Baseline(folder, db).kpis(MONTH))
        out.update(month_s=time.perf_counter() - t, rows=rows, peak_mib=_peak_mib())
    out["e2e_s"] = out["load_s"] + out["month_s"]
    return out


def work_sql(folder: Path) -> dict:
    from benchmarks.sql_baseline import Baseline

    t = time.perf_counter()
    base = Baseline(folder, folder / "baseline.duckdb")
    return _suite(lambda: base.kpis(MONTH), lambda: base.kpis(TREND), {"setup_s": time.perf_counter() - t})


def work_pandas(folder: Path) -> dict:
    from benchmarks import pandas_baseline as pb

    t = time.perf_counter()
    tickets, surveys = pb.read(folder)
    return _suite(lambda: pb.kpis(tickets, surveys, [MONTH]), lambda: pb.kpis(tickets, surveys, TREND_MONTHS),
                  {"setup_s": time.perf_counter() - t})


def work_kpitools_512mb(folder: Path) -> dict:
    """The kpitools contender with DuckDB's memory limit at 512 MB (issue 16: bigger than memory
    on one machine; the store spills to its folder). :func:`spawn` sets the limit."""
    assert os.environ.get("KPITOOLS_MEMORY_LIMIT") == SMALL_MEMORY
    return work_kpitools(folder)


def work_kpitools_spark(folder: Path) -> dict:
    """The kpitools contender with the KPIs computed on a local PySpark session (``local[2]``):
    the load stays on DuckDB; the engine copies the stored tables it needs into Spark. The
    session starts before the timed calls (:func:`spawn` sets ``KPITOOLS_CONNECTION``)."""
    import kpitools as kt
    from kpitools.engine.connection import connection, default_backend

    assert connection() == "spark"
    ds, out = _loaded(folder)
    t = time.perf_counter()
    default_backend(ds.store).close()  # the JVM and the session, once per process
    out["session_s"] = time.perf_counter() - t
    return _suite(lambda: kt.kpis(ds, MONTH), lambda: kt.kpis(ds, TREND), out)


WORKERS = {"kpitools": work_kpitools, "sql": work_sql, "sql_e2e": work_sql_e2e, "pandas": work_pandas,
           "kpitools_few": work_kpitools_few, "kpitools_512mb": work_kpitools_512mb,
           "kpitools_spark": work_kpitools_spark}
#: The memory limit of the ``kpitools_512mb`` contender (DuckDB's size syntax).
SMALL_MEMORY = "512MB"
#: Contenders run only when asked for (``--also``).
EXTRA = ("kpitools_512mb", "kpitools_spark")
#: Extra environment of a worker.
WORKER_ENV = {"kpitools_512mb": {"KPITOOLS_MEMORY_LIMIT": SMALL_MEMORY},
              "kpitools_spark": {"KPITOOLS_CONNECTION": "spark"}}
_IMPORT = ("import time; t = time.perf_counter(); import {module}; "
           "print(time.perf_counter() - t)")


def import_time(module: str) -> float:
    """Seconds to import ``module`` in a fresh interpreter (nothing else imported before)."""
    done = subprocess.run([sys.executable, "-c", _IMPORT.format(module=module)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def spawn(worker: str, folder: Path) -> dict:
    """Run one worker in a fresh interpreter and return what it measured."""
    cmd = [sys.executable, "-m", "benchmarks.kpi_suite", "--worker", worker, "--folder", str(folder)]
    env = {**os.environ, **WORKER_ENV.get(worker, {})}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{worker} worker failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- report
def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def summarise(results: dict[str, list[dict]], tickets: int) -> dict:
    s: dict = {"tickets": tickets}
    for name, runs in results.items():
        if name == "import":
            s["import_s"] = _median(runs, "import_s")
            s["first_use_s"] = _median(runs, "first_use_s")
            continue
        s[name] = {k: _median(runs, k) for k in runs[0] if k != "rows"}
        s[name]["runs"] = runs
        if "trend_s" in runs[0]:
            s[name]["suite_s"] = statistics.median(r["month_s"] + r["trend_s"] for r in runs)
        if "load_s" in runs[0]:
            s[name]["e2e_s"] = statistics.median(r["load_s"] + r["month_s"] for r in runs)
    return s


def end_to_end(s: dict) -> list[str]:
    """The end-to-end table: each run's load and load + month with the load average at its start,
    then the medians and the targets."""
    k, q = s["kpitools"], s["sql_e2e"]
    lines = ["", "end to end: load the files, then one month's KPIs (each run, then the median)",
             f"{'contender':<14}{'run':>5}{'load avg':>10}{'load s':>9}{'month s':>9}{'load+month s':>14}"]
    for name, r in (("kpitools", k), ("sql_e2e", q)):
        for i, run in enumerate(r["runs"], 1):
            lines.append(f"{name:<14}{i:>5}{run['load_avg']:>10.2f}{run['load_s']:>9.2f}{run['month_s']:>9.2f}"
                         f"{run['load_s'] + run['month_s']:>14.2f}")
        lines.append(f"{name:<14}{'med':>5}{r['load_avg']:>10.2f}{r['load_s']:>9.2f}{r['month_s']:>9.2f}"
                     f"{r['e2e_s']:>14.2f}")
    ratio = k["e2e_s"] / q["e2e_s"]
    gib = k["peak_mib"] / 1024
    checks = [(f"kt.load: {k['load_s']:.2f} s", k["load_s"] <= TARGETS["load_s"], f"<= {TARGETS['load_s']} s"),
              (f"load + month vs SQL end to end: {ratio:.2f}x", ratio <= TARGETS["e2e_vs_sql"],
               f"<= {TARGETS['e2e_vs_sql']}x"),
              (f"kpitools peak (load + kpis): {gib:.2f} GiB", gib <= TARGETS["peak_gib"],
               f"<= {TARGETS['peak_gib']} GiB")]
    width = max(len(c[0]) for c in checks)
    lines += [""] + [f"{text:<{width}}  target {target:<10} {'met' if ok else 'MISSED'}"
                     for text, ok, target in checks]
    lines.append(f"SQL baseline: its load {q['load_s']:.2f} s, month {q['month_s']:.2f} s, peak {q['peak_mib']:.0f} "
                 f"MiB; kpitools load / SQL load = {k['load_s'] / q['load_s']:.2f}x")
    return lines


def _others(s: dict) -> list[str]:
    """The extra contenders: each with its load, month, trend and peak, and its suite time
    relative to the kpitools contender of the same runs."""
    rows = [name for name in EXTRA if name in s]
    if not rows:
        return []
    head = f"{'contender':<16}{'load s':>9}{'month s':>9}{'trend s':>9}{'peak MiB':>10}{'suite vs kpitools':>19}"
    lines = ["", "other engines and limits (same dataset, same runs)", head, "-" * len(head)]
    for name in rows:
        r = s[name]
        lines.append(f"{name:<16}{r['load_s']:>9.2f}{r['month_s']:>9.2f}{r['trend_s']:>9.2f}{r['peak_mib']:>10.0f}"
                     f"{r['suite_s'] / s['kpitools']['suite_s']:>18.2f}x")
    return lines


def report(s: dict, previous: dict | None) -> str:
    lines = [f"KPI suite at {s['tickets']:,} tickets  (median of {s['runs']} interleaved runs; "
             f"load average at start {s['load_avg'][0]:.2f}, at end {s['load_avg_end'][0]:.2f})", ""]
    head = f"{'contender':<14}{'month s':>10}{'trend s':>10}{'suite s':>10}{'peak MiB':>11}"
    lines += [head, "-" * len(head)]
    for name in ("kpitools", "sql", "pandas", "kpitools_few"):
        if name in s:
            r = s[name]
            lines.append(f"{name:<14}{r['month_s']:>10.2f}{r['trend_s']:>10.2f}{r['suite_s']:>10.2f}"
                         f"{r['peak_mib']:>11.0f}")
    k = s["kpitools"]
    lines += ["", f"kt.load: {k['load_s']:.2f} s, peak {k['load_peak_mib']:.0f} MiB after loading",
              f"import kpitools: {s['import_s']:.3f} s (fresh interpreter, median); with the loader and "
              f"engine modules (pandas, pyarrow, Ibis, DuckDB): {s['first_use_s']:.2f} s", ""]
    checks = []
    if "sql" in s:
        ratio = k["suite_s"] / s["sql"]["suite_s"]
        checks.append((f"suite vs SQL baseline: {ratio:.2f}x", ratio <= TARGETS["vs_sql"], f"<= {TARGETS['vs_sql']}x"))
    if "pandas" in s:
        ratio = s["pandas"]["suite_s"] / k["suite_s"]
        checks.append((f"speed-up over analyst pandas: {ratio:.1f}x", ratio >= TARGETS["vs_pandas"],
                       f">= {TARGETS['vs_pandas']}x"))
    gib = k["peak_mib"] / 1024
    checks.append((f"kpitools peak (load + kpis): {gib:.2f} GiB", gib <= TARGETS["peak_gib"],
                   f"<= {TARGETS['peak_gib']} GiB"))
    if previous is not None:
        ratio = k["suite_s"] / previous["kpitools"]["suite_s"]
        checks.append((f"scaling {previous['tickets']:,} -> {s['tickets']:,}: {ratio:.1f}x",
                       ratio <= TARGETS["scaling"], f"<= {TARGETS['scaling']}x"))
    checks.append((f"import kpitools: {s['import_s']:.3f} s", s["import_s"] <= TARGETS["import_s"],
                   f"<= {TARGETS['import_s']} s"))
    width = max(len(c[0]) for c in checks)
    lines += [f"{text:<{width}}  target {target:<10} {'met' if ok else 'MISSED'}" for text, ok, target in checks]
    if "sql_e2e" in s:
        lines += end_to_end(s)
    lines += _others(s)
    if "kpitools_few" in s:
        ratio = s["pandas"]["suite_s"] / s["kpitools_few"]["suite_s"]
        lines += ["", f"like for like (kt.speed + kt.satisfaction, a superset of the pandas contender's KPIs): "
                      f"{ratio:.1f}x faster than the analyst pandas (no target; for reading the ratio above)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000_000, help="dataset size (default 10M)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per contender (default 3)")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the analyst pandas contender")
    parser.add_argument("--quick", action="store_true", help="1M tickets (overrides --tickets)")
    parser.add_argument("--also", default="", help="extra contenders, comma-separated: "
                        f"{', '.join(EXTRA)} (default none)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](Path(args.folder))))
        return 0
    tickets = 1_000_000 if args.quick else args.tickets
    folder = dataset(tickets)
    extra = [n.strip() for n in args.also.split(",") if n.strip()]
    unknown = [n for n in extra if n not in EXTRA]
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; expected some of {', '.join(EXTRA)}")
    names = ["kpitools", "sql", "sql_e2e"] + ([] if args.skip_pandas else ["pandas", "kpitools_few"]) + extra
    results: dict[str, list[dict]] = {n: [] for n in [*names, "import"]}
    load_avg = os.getloadavg()
    for run in range(args.runs):
        for name in names:
            results[name].append(spawn(name, folder))
            print(f"run {run + 1}/{args.runs} {name}: {results[name][-1]}", flush=True)
    for _ in range(max(7, args.runs)):
        results["import"].append({"import_s": import_time("kpitools"),
                                  "first_use_s": import_time("kpitools.loading, kpitools.engine")})
    s = summarise(results, tickets)
    s.update(runs=args.runs, load_avg=load_avg, load_avg_end=os.getloadavg(), cpus=os.cpu_count(),
             python=platform.python_version())
    smaller = DATA / str(tickets // 10) / "results.json"
    previous = json.loads(smaller.read_text()) if tickets >= 10 and smaller.exists() else None
    (folder / "results.json").write_text(json.dumps(s, indent=2))
    print()
    print(report(s, previous))
    return 0


if __name__ == "__main__":
    sys.exit(main())
