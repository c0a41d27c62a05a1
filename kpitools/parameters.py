"""Notebook parameters as a shell user types them: the one rule by which ``kpitools run --param``
and the report notebooks (under plain papermill too) read ``false``, ``0``, ``chat,email`` or
``202609`` as the declared types, and where the bundled notebooks are.

A leaf of the package: both :mod:`kpitools.report` (the notebooks' first cells) and
:mod:`kpitools.runs` read it, so neither imports the other upwards.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from .errors import KpitoolsError

#: The parameters every bundled report notebook declares, with their types (a test checks the
#: notebooks' ``parameters`` cells against it; :func:`kpitools.report.parameters` reads it).
REPORT_PARAMETERS = {"dataset": "str", "period": "str", "channels": "list[str]", "business_hours": "bool",
                     "output_dir": "str", "kpis_path": "str"}
SCALARS = {"str": str, "int": int, "float": float, "bool": bool}
_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off"}


def bundled_notebooks() -> Path:
    """The report notebooks that come with kpitools: ``kpitools/notebooks/`` of an installed
    package, else (a source checkout or an editable install) the repository's ``notebooks/``,
    from which the wheel takes them."""
    package = Path(__file__).resolve().parent
    installed = package / "notebooks"
    return installed if installed.is_dir() else package.parent / "notebooks"


def matches(value: Any, kind: str | None) -> bool:
    """Whether ``value`` fits a declared type (ints fit ``float``; ``bool`` is not an ``int``).

    Examples
    --------
    >>> matches(3, "float"), matches(True, "int"), matches(["a"], "list[str]"), matches("x", None)
    (True, False, True, True)
    """
    if kind is None:
        return True
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "dict":
        return isinstance(value, dict)
    if not isinstance(value, (list, tuple)):
        return False
    inner = kind[5:-1] if kind.startswith("list[") else None
    return all(matches(v, inner) for v in value)


def _convert(text: str, kind: str | None, name: str) -> Any:
    raw = text.strip()
    try:
        if kind == "str":
            return text
        if kind == "bool":
            if raw.lower() in _TRUE | _FALSE:
                return raw.lower() in _TRUE
            raise ValueError
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind is not None and kind.startswith("list"):
            if raw.startswith("["):
                return list(ast.literal_eval(raw))
            inner = kind[5:-1] if kind.startswith("list[") else None
            return [_convert(x.strip(), inner, name) for x in raw.split(",") if x.strip()]
        if kind == "dict":
            value = ast.literal_eval(raw)
            if not isinstance(value, dict):
                raise ValueError
            return value
        try:  # undeclared type: a Python literal if it is one, else the text
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return text
    except (ValueError, SyntaxError, TypeError):
        raise KpitoolsError(f"parameter {name}={text!r}: cannot be read as {kind}") from None


def coerce(name: str, value: Any, kind: str | None) -> Any:
    """``value`` as the declared type ``kind``, reading text and numbers the way a shell user types them.

    Text is read by the rule of ``--param`` (``bool`` accepts true/false/yes/no/1/0; ``list[...]``
    accepts ``a,b,c`` or a list literal; an undeclared type takes a Python literal, else the
    text), and so is a number that does not fit; any other value that fits is kept (a tuple
    becomes a list). Papermill's ``-p`` hands over text
    (``false``) or a number (``202609``, ``0``), never the declared type.

    Raises
    ------
    KpitoolsError
        When the value cannot be read as ``kind``.

    Examples
    --------
    >>> coerce("business_hours", "false", "bool"), coerce("business_hours", 0, "bool")
    (False, False)
    >>> coerce("channels", "chat", "list[str]"), coerce("channels", "chat,email", "list[str]")
    (['chat'], ['chat', 'email'])
    >>> coerce("period", 202609, "str"), coerce("channels", ("chat",), "list[str]")
    ('202609', ['chat'])
    >>> coerce("business_hours", "maybe", "bool")
    Traceback (most recent call last):
    kpitools.errors.KpitoolsError: parameter business_hours='maybe': cannot be read as bool
    """
    if isinstance(value, str) and kind != "str":
        return _convert(value, kind, name)
    if matches(value, kind):
        return list(value) if isinstance(value, tuple) else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _convert(str(value), kind, name)
    raise KpitoolsError(f"parameter {name!r} = {value!r}: expected {kind}, got {type(value).__name__}")
