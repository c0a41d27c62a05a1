"""The exceptions kpitools raises for user mistakes (never a raw traceback in the CLI)."""

from __future__ import annotations


class KpitoolsError(Exception):
    """Base class: a problem the user can fix; the CLI prints the message and exits 2."""


class DatasetError(KpitoolsError):
    """A file-level problem that stops loading a dataset.

    The message always names the file and, where it applies, the column and what was expected.
    """

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None):
        self.file = file
        self.column = column
        super().__init__(message)


class ConfigError(DatasetError):
    """``dataset.toml`` is malformed or refers to something that cannot be used."""


class PeriodError(KpitoolsError):
    """A period string is malformed or outside the data."""
