"""Every test gets its own temporary folder (``TMPDIR`` and :data:`tempfile.tempdir`).

Runs, snapshots and kernels put their files in the temporary folder, and a run removes the
folders of dead runs it finds there. Sharing the machine-wide one would let these tests see (and
be seen by) other kpitools processes on the same machine; with a folder per test the suite
passes whatever else runs. Module-scoped fixtures use :func:`private_tmpdir` directly.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def private_tmpdir(folder: Path) -> Iterator[Path]:
    """Make ``folder`` (created) the temporary folder of this process and of the processes it starts."""
    folder.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(folder))  # kernels and subprocesses
        mp.setattr(tempfile, "tempdir", str(folder))  # this process (gettempdir caches its answer)
        yield folder


@pytest.fixture(autouse=True)
def own_tmpdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test's private temporary folder (outside ``tmp_path``, which the test owns)."""
    with private_tmpdir(tmp_path_factory.mktemp("tmpdir")) as folder:
        yield folder


@pytest.fixture(scope="module")
def module_tmpdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private temporary folder for a module's shared fixtures (e.g. runs made once per module)."""
    with private_tmpdir(tmp_path_factory.mktemp("module-tmpdir")) as folder:
        yield folder
