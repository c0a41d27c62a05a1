"""Wall time of the monthly run: ``kpitools run`` (all notebooks) with --jobs 1 and --jobs 2.

    python -m benchmarks.run_suite                 # the sample, then 1M tickets
    python -m benchmarks.run_suite --skip-1m       # the sample only
    python -m benchmarks.run_suite --skip-1m --channels 5000 --runs 1   # and 5,000 channels (issue 15)

Each run is a fresh ``kpitools run`` process writing into a temporary reports folder (the
command a scheduler would call), median of ``--runs``. The 1M dataset is generated once into
``benchmarks/.data/1000000/`` (shared with ``kpi_suite``). Target: the sample run ≤ 30 s (the dataset is validated once per run; kernels reopen its snapshot).

``--channels N`` adds a dataset of N channel names: a 6,000-ticket sample whose tickets are
spread over the names as ``tests/test_scale.py`` does (every name gets a ticket up to 6,000),
generated once into ``benchmarks/.data/channels-N/``. It times what grows with the channel
count (per-channel tables, comparisons, findings, scorecards), not ticket volume.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KPITOOLS = [sys.executable, "-m", "kpitools.cli"]


def one_run(dataset: Path, jobs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="kpitools-run-") as reports:
        t0 = time.perf_counter()
        subprocess.run([*KPITOOLS, "run", "--dataset", str(dataset), "--period", "2026-10", "--jobs", str(jobs),
                        "--reports-dir", reports, "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def million() -> Path:
    folder = ROOT / "benchmarks" / ".data" / "1000000"
    if not (folder / "dataset.toml").exists():
        from kpitools.sample import write_sample

        print("generating the 1M-ticket dataset ...", file=sys.stderr)
        write_sample(folder, seed=7, tickets=1_000_000)
    return folder


def many_channels(channels: int) -> Path:
    folder = ROOT / "benchmarks" / ".data" / f"channels-{channels}"
    if not (folder / "dataset.toml").exists():
        from kpitools.sample import write_sample
        from tests.test_scale import spread_channels  # the one home of the spreading rule

        print(f"generating the {channels:,}-channel dataset ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="kpitools-channels-") as tmp:
            spread_channels(write_sample(Path(tmp) / "base", tickets=6000), folder, channels)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (median; default 3)")
    parser.add_argument("--skip-1m", action="store_true", help="only the bundled sample")
    parser.add_argument("--channels", type=int, metavar="N",
                        help="also a 6,000-ticket dataset spread over N channel names (e.g. 5000)")
    args = parser.parse_args()
    datasets = [("sample (50k)", ROOT / "data" / "sample")]
    if not args.skip_1m:
        datasets.append(("1M tickets", million()))
    if args.channels:
        datasets.append((f"{args.channels:,} channels", many_channels(args.channels)))
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'dataset':<16}{'jobs 1 (s)':>12}{'jobs 2 (s)':>12}{'speed-up':>10}")
    for label, folder in datasets:
        times = {jobs: [] for jobs in (1, 2)}
        for _ in range(args.runs):  # interleaved, so machine noise hits both alike
            for jobs in (1, 2):
                times[jobs].append(one_run(folder, jobs))
        one, two = (statistics.median(times[j]) for j in (1, 2))
        print(f"{label:<16}{one:>12.1f}{two:>12.1f}{one / two:>9.2f}×")


if __name__ == "__main__":
    main()
