"""dataset.toml is checked by type: every key against its declared form, the error naming the
key and what was expected (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitools.config import read_config
from kpitools.errors import ConfigError


def config(tmp_path: Path, toml: str):
    (tmp_path / "dataset.toml").write_text(toml, encoding="utf-8")
    return read_config(tmp_path)


@pytest.mark.parametrize("toml, expected", [
    ('[channel_groups]\nvoice = "phone"\n', r'\[channel_groups\] voice: expected a list of names, e\.g\. voice = \["phone"\], got \'phone\''),
    ('[channel_groups]\ntext = ["chat", 3]\n', r"\[channel_groups\] text: expected a list of non-empty names"),
    ("channel_groups = 1\n", r"\[channel_groups\]: expected a table"),
    ("[business_hours.weekly]\nmon = 5\n", r"\[business_hours.weekly\] mon: expected a list of intervals.*got 5"),
    ('[business_hours.weekly]\nmonday = ["09:00-17:00"]\n', r"unknown day\(s\) \['monday'\]; expected mon, tue"),
    ('[business_hours.weekly]\nmon = ["09:00-25:00"]\n', r"is not a time of day"),
    ('[business_hours]\nclosed_dates = "2026-12-24"\n[business_hours.weekly]\nmon = ["09:00-17:00"]\n',
     r"closed_dates: expected a list of dates"),
    ('[business_hours]\nclosed_dates = [2026-12-24T10:00:00]\n[business_hours.weekly]\nmon = ["09:00-17:00"]\n',
     r"closed_dates: .* is not a YYYY-MM-DD date"),
    ('[business_hours]\ncountry = 49\n[business_hours.weekly]\nmon = ["09:00-17:00"]\n',
     r"\[business_hours\] country: expected a code of the holidays package"),
    ('[business_hours]\nsubdivision = "BE"\n[business_hours.weekly]\nmon = ["09:00-17:00"]\n',
     r"subdivision needs a country"),
    ('[business_hours]\nopen = true\n', r"\[business_hours\] unknown key\(s\) \['open'\]"),
    ("as_of = 12\n", r"as_of 12 is not a timestamp like"),
    ('as_of = "yesterday"\n', r"as_of 'yesterday' is not a timestamp"),
    ("timezone = 1\n", r"timezone: expected an IANA time zone name"),
    ("activation_event = true\n", r"activation_event: expected the name of an activity event"),
    ("[scales]\ncsat = [true, 5]\n", r"\[scales\] csat: expected \[min, max\] integers"),
    ('scales = "1-5"\n', r"\[scales\]: expected a table of survey = \[min, max\]"),
    ('[tables.tickets]\nfile = 3\n', r"\[tables.tickets\] file: expected a file name"),
    ('[tables.tickets]\nabsent = "yes"\n', r"\[tables.tickets\] absent: expected true or false"),
    ('[tables.tickets]\ndelimiter = ";;"\n', r"\[tables.tickets\] delimiter: expected one character"),
    ('[tables.tickets]\nencoding = "ebcdic"\n', r"\[tables.tickets\] encoding: expected one of utf-8, utf-8-sig"),
    ('[tables.tickets]\ndecimal = ";"\n', r'\[tables.tickets\] decimal: expected "\." or ","'),
    ('[tables.tickets]\ndecimal = ","\nthousands = ","\n', r"thousands: expected one of .* other than the decimal"),
    ('[tables.tickets]\nsheet = 1\n', r"\[tables.tickets\] sheet: expected text"),
    ('[tables.tickets]\nfiles = "calls.csv"\n', r"\[tables.tickets\] files: expected a list of tables"),
    ('[tables.tickets]\nfile = "a.csv"\nfiles = [{ file = "b.csv" }]\n', r"files: expected a non-empty list instead of file"),
    ('[tables.tickets]\nfiles = [{ name = "b.csv" }]\n', r"files #1: expected file and optionally constants"),
    ('[tables.tickets]\nfiles = [{ file = "../b.csv" }]\n', r"files #1 file: '../b.csv' points outside the dataset folder"),
    ('[tables.tickets]\nfiles = [{ file = "b.csv", constants = { queue = "x" } }]\n', r"\['queue'\] not canonical"),
    ('[tables.tickets]\nfiles = [{ file = "b.csv", encoding = "x" }]\n', r"files #1 encoding: expected one of"),
])
def test_each_key_is_checked_by_type_and_the_error_names_it(tmp_path: Path, toml: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        config(tmp_path, toml)
    assert info.value.file.endswith("dataset.toml")


def test_well_formed_values_are_read(tmp_path: Path) -> None:
    cfg = config(tmp_path, """
timezone = "Europe/Berlin"
as_of = 2026-11-15T12:00:00
[channel_groups]
voice = ["phone", "callback"]
[business_hours]
country = "DE"
closed_dates = [2026-12-24, "2026-12-31"]
[business_hours.weekly]
mon = "09:00-17:00"
[tables.tickets]
delimiter = "\\t"
encoding = "Windows-1252"
decimal = ","
thousands = "."
files = [{ file = "calls.csv", constants = { channel = "phone" } }, { file = "chats.csv", delimiter = ";" }]
""")
    assert cfg.as_of.isoformat() == "2026-11-15T12:00:00+01:00"
    assert cfg.voice_channels == ("phone", "callback")
    assert [d.isoformat() for d in cfg.business_hours.closed_dates] == ["2026-12-24", "2026-12-31"]
    assert cfg.business_hours.weekly[0] == ((540, 1020),)
    src = cfg.tables["tickets"]
    assert (src.layout.delimiter, src.layout.encoding, src.layout.decimal, src.layout.thousands) == ("\t", "cp1252", ",", ".")
    assert [(p.file, p.constants, p.layout.delimiter, p.layout.encoding) for p in src.files] == [
        ("calls.csv", {"channel": "phone"}, "\t", "cp1252"), ("chats.csv", {}, ";", "cp1252")]
