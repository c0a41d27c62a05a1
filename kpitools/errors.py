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


class _PlainMessage(KpitoolsError):
    """Shows its message as written (``KeyError`` alone would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownKpiError(_PlainMessage, KeyError):
    """A KPI id that is not in the catalogue (SPEC §4); the message lists the known ids.

    Examples
    --------
    >>> str(UnknownKpiError("unknown KPI id 'x'")), isinstance(UnknownKpiError("x"), KeyError)
    ("unknown KPI id 'x'", True)
    """


class UnknownSegmentError(_PlainMessage, KeyError):
    """A ``by=`` segment that is not a column of the tables the KPIs read."""


class UnknownChannelError(KpitoolsError, ValueError):
    """A channel that the dataset does not have."""


class OptionError(KpitoolsError, ValueError):
    """An argument value outside the ones a function accepts (the message lists them)."""


class NotAvailableError(KpitoolsError, ValueError):
    """The dataset lacks a table or setting that the call needs."""
