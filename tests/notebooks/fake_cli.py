"""``kpitools`` command line with the stand-in KPI engine of fakes.py, for tests that must run
the real CLI in a subprocess (signals, exit codes) without the cost of the real engine.

Usage: ``python fake_cli.py run --dataset ... --reports-dir ... --notebooks-dir ...``
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import kpitools.runs
from kpitools.cli import main

_spec = importlib.util.spec_from_file_location("kpitools_test_fakes", Path(__file__).parent / "fakes.py")
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

if __name__ == "__main__":
    # the CLI looks run up in kpitools.runs when called, so this is the run it calls
    kpitools.runs.run = functools.partial(kpitools.runs.run, engine=fakes.FakeEngine())
    sys.exit(main(sys.argv[1:]))
