"""Report notebooks and their parameters: find them, read what they declare, check values up front.

Papermill only warns about a parameter a notebook does not declare and never checks types, so a
monthly run checks everything here, before any folder is created or kernel started.

A declared type comes from the annotation in the ``parameters`` cell (``period: str = ...``) or,
without one, from the literal default (``business_hours = True`` -> ``bool``); a default that is
not a literal (``start = date.today()``) accepts any value.

Values typed in a shell are read here too, by one rule (:func:`coerce`) for ``kpitools run
--param`` and for notebooks executed by plain papermill (``-p business_hours false`` arrives as
the text ``"false"``, ``-p period 202609`` as a number): see :func:`kpitools.report.parameters`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from ..errors import KpitoolsError
from ..parameters import SCALARS, bundled_notebooks, coerce, matches

#: Set by :func:`kpitools.run` itself, never through ``params``.
RUN_SET = ("dataset", "period", "output_dir", "kpis_path")
#: Every report notebook must declare these: without them it would report a hard-coded month.
REQUIRED = ("dataset", "period")


@dataclass(frozen=True)
class NotebookSpec:
    """A report notebook and the parameters its ``parameters`` cell declares.

    Attributes
    ----------
    name : str
        File stem (``01_speed_and_operations``).
    path : pathlib.Path
        The ``.ipynb`` file.
    types : dict
        Parameter name -> declared type (``"str"``, ``"bool"``, ``"list[str]"``, ... or ``None``
        for "any").
    parameters_cell : int
        Index of the ``parameters`` cell (papermill injects its values right after it).
    """

    name: str
    path: Path
    types: dict[str, str | None]
    parameters_cell: int


def find_notebooks(notebooks_dir: str | Path | None, names: Sequence[str] | None = None) -> list[Path]:
    """The notebooks to run: all ``*.ipynb`` of ``notebooks_dir`` (sorted) or the ``names`` given.

    ``None`` is the bundled notebooks (:func:`bundled_notebooks`). A name may be given with or
    without ``.ipynb``. An unknown name is an error listing the available ones.

    Examples
    --------
    >>> find_notebooks("/nonexistent")
    Traceback (most recent call last):
    kpitools.errors.KpitoolsError: notebooks folder /nonexistent does not exist
    """
    folder = bundled_notebooks() if notebooks_dir is None else Path(notebooks_dir)
    if not folder.is_dir():
        raise KpitoolsError(f"notebooks folder {folder} does not exist")
    available = {p.stem: p for p in sorted(folder.glob("*.ipynb"))}
    if names is None:
        if not available:
            raise KpitoolsError(f"no notebooks (*.ipynb) in {folder}")
        return list(available.values())
    if isinstance(names, str):
        names = [names]
    wanted = [Path(n).name.removesuffix(".ipynb") for n in names]
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise KpitoolsError(f"unknown notebook(s) {', '.join(unknown)} in {folder}; "
                            f"available: {', '.join(available) or 'none'}")
    if not wanted:
        raise KpitoolsError("no notebooks selected")
    return [available[n] for n in dict.fromkeys(wanted)]


def _literal_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    for name, kind in SCALARS.items():
        if type(value) is kind:
            return name
    if isinstance(value, (list, tuple)):
        inner = {_literal_type(v) for v in value}
        return f"list[{inner.pop()}]" if len(inner) == 1 and None not in inner else "list"
    if isinstance(value, dict):
        return "dict"
    return None


def _declared_type(annotation: str, default: str) -> str | None:
    norm = re.sub(r"\s+", "", annotation or "").replace("List[", "list[").replace("Dict[", "dict[")
    if norm in SCALARS or norm in ("list", "dict") or re.fullmatch(r"list\[(str|int|float|bool)\]", norm):
        return norm
    if norm.startswith("dict["):
        return "dict"
    if norm:  # Optional[...], unions, custom classes: accept any value
        return None
    try:
        return _literal_type(ast.literal_eval(default))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def inspect_parameters(path: str | Path) -> NotebookSpec:
    """Read the parameters a notebook declares (via :func:`papermill.inspect_notebook`).

    Raises
    ------
    KpitoolsError
        When the notebook cannot be read, has no ``parameters`` cell or does not declare
        ``dataset`` and ``period``.
    """
    import papermill

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        declared = papermill.inspect_notebook(str(path))
    except (OSError, ValueError, json.JSONDecodeError, nbformat.ValidationError) as exc:
        raise KpitoolsError(f"notebook {path} cannot be read: {exc}") from None
    cell = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise KpitoolsError(f"notebook {path} has no cell tagged 'parameters'; "
                            f"report notebooks must declare at least {', '.join(REQUIRED)} there")
    missing = [p for p in REQUIRED if p not in declared]
    if missing:
        raise KpitoolsError(f"notebook {path}: its parameters cell does not declare {', '.join(missing)}")
    types = {name: _declared_type(p["inferred_type_name"] if p["inferred_type_name"] != "None" else "",
                                  p["default"])
             for name, p in declared.items()}
    return NotebookSpec(name=path.stem, path=path, types=types, parameters_cell=cell)


def describe_parameters(notebooks_dir: str | Path | None = None) -> list[tuple[str, str, str, str]]:
    """Every parameter the notebooks declare, for ``kpitools run --help``: ``(name, type, default,
    help)`` in the order of the first notebook declaring it; the type is ``any`` where none is
    declared, the help the comment after the default in the ``parameters`` cell."""
    import papermill

    seen: dict[str, tuple[str, str, str, str]] = {}
    for path in find_notebooks(notebooks_dir):
        spec = inspect_parameters(path)
        for name, p in papermill.inspect_notebook(str(path)).items():
            seen.setdefault(name, (name, spec.types.get(name) or "any", p["default"], p["help"]))
    return list(seen.values())


def _json_like(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    return False


def check_params(params: Mapping[str, Any], specs: Sequence[NotebookSpec]) -> dict[str, Any]:
    """Check user ``params`` against every selected notebook; return them as plain JSON-able values.

    Raises
    ------
    KpitoolsError
        For a parameter :func:`kpitools.run` sets itself, one not declared by every notebook,
        a value of the wrong type, or a value that is not a plain str/number/bool/list/dict.
    """
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name in RUN_SET:
            raise KpitoolsError(f"parameter {name!r} is set by the run itself"
                                + ("; pass it as an argument of kpitools.run / --" + name
                                   if name in ("dataset", "period") else ""))
        lacking = [s.name for s in specs if name not in s.types]
        if lacking:
            raise KpitoolsError(f"unknown parameter {name!r}: not declared in the parameters cell of "
                                f"{', '.join(lacking)}")
        if not _json_like(value):
            raise KpitoolsError(f"parameter {name!r}: {type(value).__name__} values cannot be passed to a "
                                "notebook; use str, int, float, bool, list or dict")
        for s in specs:
            if not matches(value, s.types[name]):
                raise KpitoolsError(f"parameter {name!r} = {value!r}: expected {s.types[name]} "
                                    f"(as declared in {s.name}), got {type(value).__name__}")
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def parse_params(pairs: Iterable[str], notebooks: Sequence[str] | None = None,
                 notebooks_dir: str | Path | None = None) -> dict[str, Any]:
    """Turn ``key=value`` strings (``--param`` on the command line) into typed values.

    Each value is read as the type the selected notebooks declare for it: ``bool`` accepts
    true/false/yes/no/1/0; ``list[...]`` accepts ``a,b,c`` or a Python/JSON list literal (an
    empty value is the empty list); an undeclared type is read as a Python literal when it is
    one, else kept as text. The result is checked like :func:`kpitools.run` checks ``params``.

    Parameters
    ----------
    pairs : iterable of str
        ``"key=value"`` strings.
    notebooks : sequence of str, optional
        Notebook names as given to :func:`kpitools.run` (default: all of ``notebooks_dir``).
    notebooks_dir : str or Path, optional
        Where the report notebooks are (default: the bundled ones).

    Returns
    -------
    dict
        Parameter name -> typed value.

    Raises
    ------
    KpitoolsError
        For a string without ``=``, an unknown name or a value that cannot be converted.

    Examples
    --------
    >>> parse_params(["oops"], notebooks_dir="/nonexistent")
    Traceback (most recent call last):
    kpitools.errors.KpitoolsError: --param 'oops': expected key=value
    """
    split = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise KpitoolsError(f"--param {pair!r}: expected key=value")
        split.append((key.strip(), value))
    if not split:
        return {}
    specs = [inspect_parameters(p) for p in find_notebooks(notebooks_dir, notebooks)]
    out = {}
    for key, value in split:
        # an unknown key is reported by check_params; its type is taken from the first declarer
        kind = next((s.types[key] for s in specs if key in s.types), None)
        out[key] = coerce(key, value, kind)
    return check_params(out, specs)
