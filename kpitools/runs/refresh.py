"""``kpitools notebooks --refresh``: re-execute the committed notebooks in place.

nbclient runs them (not papermill, whose metadata would store wall-clock times in the committed
files) with their default parameters, from the notebooks folder, without timing metadata, so
that a refresh of unchanged code and data rewrites identical files and nbval can compare the
stored outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from .execute import KERNEL
from .params import find_notebooks


def refresh_notebook(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL, record_timing=False, timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL}
    nbformat.write(nb, path)


def refresh_notebooks(notebooks_dir: str | Path | None = None, names: Sequence[str] | None = None, *,
                      progress: Callable[[str], None] = lambda _msg: None) -> list[str]:
    """Re-execute each notebook in place (default: the bundled ones, in a source checkout the
    repository's notebooks/); returns the names that failed (their files untouched)."""
    from nbclient.exceptions import CellExecutionError

    failed = []
    for path in find_notebooks(None if notebooks_dir is None else Path(notebooks_dir).resolve(), names):
        progress(f"{path.stem}: executing")
        try:
            refresh_notebook(path)
        except CellExecutionError as exc:
            failed.append(path.stem)
            progress(f"{path.stem}: FAILED — {str(exc).splitlines()[-1] if str(exc) else exc}")
            continue
        progress(f"{path.stem}: done")
    return failed
