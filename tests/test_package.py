"""`pip install kpitools` works anywhere (issue #14): the wheel, installed into a fresh virtual
environment outside the repository, writes a sample and runs the monthly report from an empty
folder; its notebooks run under plain papermill with shell-typed parameters.

How the fresh environment gets its dependencies: installing them from an index would take
minutes and a network, so the wheel is installed with ``--no-deps`` into a new venv and a
``.pth`` file appends this environment's site-packages (the exact pins of requirements.txt) to
its path. ``kpitools`` itself, its data files and its console script come from the wheel alone:
a ``.pth`` line adds a folder to the path but runs none of that folder's own ``.pth`` files, so the
editable install of the checkout stays out of sight (the test asserts where kpitools is imported
from); ``JUPYTER_PATH`` does the same for the dependencies' data files (nbconvert's templates). That the declared dependencies are the right ones is checked separately: every import of
the package is covered by a ``Requires-Dist``, and the pins of requirements.txt satisfy each range.
"""

from __future__ import annotations

import ast
import os
import shutil
import site
import subprocess
import sys
import time
import zipfile
from email.parser import Parser
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "kpitools", "notebooks")
#: Import names that differ from their distribution's name.
DISTRIBUTION = {"ibis": "ibis-framework", "jinja2": "jinja2", "jupyter_client": "jupyter-client"}
#: Dependencies of an extra that kpitools imports only where they are used: distribution -> extra.
OPTIONAL = {"pyspark": "spark"}


def _sh(*args: object, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (a build in place would leave build/ behind)."""
    root = tmp_path_factory.mktemp("build")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.pyc")}
                                         if (REPO / name).is_dir() else {}))
    done = _sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", root / "dist", "./src", cwd=root)
    assert done.returncode == 0, done.stderr
    (built,) = (root / "dist").glob("kpitools-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A new venv outside the repository with the wheel installed (see the module notes)."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    t0 = time.perf_counter()
    made = _sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _sh(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet",
               wheel, cwd=root)
    assert done.returncode == 0, done.stderr
    purelib = Path(_sh(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=root).stdout.strip())
    (purelib / "kpitools_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # the dependencies' data files (nbconvert's HTML templates) are where their install put them
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return {"venv": venv, "python": python, "env": env, "install_s": time.perf_counter() - t0}


@pytest.fixture(scope="module")
def sample(fresh: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kpitools sample data`` (the default 50,000 tickets), run by the installed console script
    in an empty folder."""
    folder = tmp_path_factory.mktemp("empty")
    made = _sh(Path(fresh["venv"]) / "bin" / "kpitools", "sample", "data", "-q", cwd=folder, env=fresh["env"])
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["data"]
    return folder / "data"


def test_the_wheel_ships_notebooks_types_and_license(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    notebooks = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    assert {f"kpitools/notebooks/{n}" for n in notebooks} <= names
    assert "kpitools/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "notebooks/", "data/")) for n in names)


def test_the_wheel_declares_what_the_package_imports_and_the_pins_satisfy_it(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
    assert meta["License-Expression"] == "MIT"
    required = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    runtime = {r.name.lower().replace("_", "-"): r for r in required if r.marker is None}
    assert {"spark", "jupyter", "dev"} <= set(meta.get_all("Provides-Extra"))
    assert any(r.name == "pyspark" and r.specifier.contains("4.0.5") and not r.specifier.contains("4.1.0")
               for r in required)
    # every third-party module imported by the package is a declared runtime dependency
    imported = set()
    for path in (REPO / "kpitools").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"kpitools", "__future__"}
    # ... or, imported only inside the function that needs it, the dependency of an extra
    extras = {r.name.lower(): str(r.marker) for r in required if r.marker is not None}
    for module in third_party:
        name = DISTRIBUTION.get(module, module).lower().replace("_", "-")
        if name in OPTIONAL:
            assert f'extra == "{OPTIONAL[name]}"' in extras.get(name, ""), f"{name} is not in the {OPTIONAL[name]} extra"
            continue
        assert name in runtime, f"kpitools imports {module} but the wheel does not require {name}"
    # the exact pins of requirements.txt lie inside every declared range
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    for name, req in runtime.items():
        assert name in pins, f"{name} is required but not pinned in requirements.txt"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req.specifier}"


def test_run_from_an_empty_folder(fresh: dict, sample: Path):
    python, env, folder = fresh["python"], fresh["env"], sample.parent
    where = _sh(python, "-c", "import kpitools; print(kpitools.__file__)", cwd=folder, env=env)
    assert Path(where.stdout.strip()).is_relative_to(fresh["venv"]), where.stdout + where.stderr
    t0 = time.perf_counter()
    ran = _sh(Path(fresh["venv"]) / "bin" / "kpitools", "run", "--dataset", "data", "--jobs", "2", cwd=folder, env=env)
    elapsed = time.perf_counter() - t0
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stderr.splitlines()[0].startswith("kpitools run: checking")  # progress from the start
    last = ran.stdout.strip().splitlines()[-1]
    assert last == "open reports/2026-10/v1/10_monthly_summary.html (every report: reports/index.html)", last
    version = folder / "reports" / "2026-10" / "v1"
    assert (version / "10_monthly_summary.html").is_file() and (version / "kpis.csv").is_file()
    assert len(list(version.glob("*.html"))) == len(list((REPO / "notebooks").glob("*.ipynb")))
    assert (folder / "reports" / "index.html").is_file()
    print(f"fresh venv: install {fresh['install_s']:.1f} s, run {elapsed:.1f} s")


def test_papermill_from_another_folder_reads_shell_typed_parameters(fresh: dict, sample: Path, tmp_path: Path):
    """``-p business_hours false`` and ``-p channels chat`` arrive as text; the notebook reads them.
    The kernel starts in the caller's folder (``tmp_path``), where the relative dataset path is."""
    python, env = fresh["python"], fresh["env"]
    shutil.copytree(sample, tmp_path / "data")
    notebook = _sh(python, "-c", "from kpitools.parameters import bundled_notebooks as b; "
                                 "print(b() / '01_speed_and_operations.ipynb')", cwd=tmp_path, env=env).stdout.strip()
    out = tmp_path / "elsewhere" / "out.ipynb"
    out.parent.mkdir()
    ran = _sh(python, "-m", "papermill", notebook, out, "-p", "dataset", "data", "-p", "period", "2026-10",
              "-p", "business_hours", "false", "-p", "channels", "chat", "--no-progress-bar", cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    text = "\n".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                     for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert "Durations in calendar hours." in text
    assert "channels: chat" in text and "channels: chat," not in text

    bad = _sh(python, "-m", "papermill", notebook, tmp_path / "bad.ipynb", "-p", "dataset", "data",
              "-p", "period", "202609", "--no-progress-bar", cwd=tmp_path, env=env)
    assert bad.returncode != 0
    assert "PeriodError" in bad.stderr and "'202609' is not a month written YYYY-MM" in bad.stderr
