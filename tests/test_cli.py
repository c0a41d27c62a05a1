"""The command line (issue #14): exit codes scripts rely on, -q/-v everywhere, `validate --strict`,
`run --help` listing the notebook parameters, `notebooks --copy`."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitools.cli import build_parser, main
from kpitools.parameters import REPORT_PARAMETERS
from kpitools.runs.params import find_notebooks

TICKETS = ("ticket_id,channel,created_at,first_response_at\n"
           "t1,chat,2026-10-01 09:00,2026-10-01 09:05\n"
           "t2,email,2026-10-02 10:00,2026-10-02 12:00\n"
           "t3,chat,not a time,\n")


@pytest.fixture
def one_reject(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    return folder


def test_validate_strict_fails_on_a_rejected_row(one_reject, capsys):
    assert main(["validate", "-q", str(one_reject)]) == 0
    assert main(["validate", "--strict", "-q", str(one_reject)]) == 1
    out, err = capsys.readouterr()
    assert "1 rejected" in out and "strict: 1 rejected row(s)" in err


def test_validate_strict_passes_a_clean_dataset(one_reject):
    clean = one_reject / "tickets.csv"
    clean.write_text(TICKETS.rsplit("t3", 1)[0], encoding="utf-8")
    assert main(["validate", "--strict", "-q", str(one_reject)]) == 0


def test_a_user_mistake_exits_2_with_one_line(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("kpitools: error:") and "Traceback" not in "\n".join(err)


def test_verbose_adds_the_traceback(tmp_path, capsys):
    assert main(["validate", "-v", str(tmp_path / "missing")]) == 2
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["validate", "x"], ["sample", "x"], ["run"], ["runs", "--repair"],
                                     ["notebooks", "--refresh"]])
@pytest.mark.parametrize("flag", ["-q", "-v", "--quiet", "--verbose"])
def test_every_command_takes_quiet_and_verbose(command, flag):
    args = build_parser().parse_args([*command, flag])
    assert args.quiet or args.verbose


def test_run_help_lists_every_notebook_parameter_with_its_type(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for name, kind in REPORT_PARAMETERS.items():
        assert any(line.split()[:2] == [name, kind] for line in out.splitlines()), name


def test_run_outside_a_checkout_without_dataset_names_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "-q"]) == 2
    assert "pass --dataset PATH" in capsys.readouterr().err


def test_notebooks_copy_starts_a_customised_set_and_never_overwrites(tmp_path, capsys):
    target = tmp_path / "mine"
    assert main(["notebooks", "--copy", str(target)]) == 0
    assert sorted(p.name for p in target.glob("*.ipynb")) == [p.name for p in find_notebooks(None)]
    assert (target / "README.md").is_file()
    assert main(["notebooks", "--copy", str(target)]) == 2
    assert "never overwritten" in capsys.readouterr().err
