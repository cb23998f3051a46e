"""The command line's promises: help that documents options and exit codes, one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, cli

COMMANDS = sorted(cli.commands)


def test_top_level_help_lists_commands_and_exit_codes() -> None:
    outcome = CliRunner().invoke(cli, ["--help"])
    assert outcome.exit_code == 0
    for command in ("check", "grade", "assign", "data"):
        assert command in outcome.output
    for code in ExitCode:
        assert f"{code.value}  {code.name.lower().replace('_', ' ')}" in outcome.output


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS)
def test_every_command_documents_itself(command: str) -> None:
    outcome = CliRunner().invoke(cli, [command, "--help"])
    assert outcome.exit_code == 0, outcome.output
    assert "Exit codes:" in outcome.output
    assert len(cli.commands[command].help or "") > 20, "a command says what it does"
    for parameter in cli.commands[command].params:
        if parameter.param_type_name == "option" and not parameter.hidden:
            assert parameter.help, f"{command} {parameter.opts} has no help text"


def test_exit_codes_are_distinct_and_stable() -> None:
    assert [c.value for c in ExitCode] == list(range(len(ExitCode)))
    assert ExitCode.USAGE == 2  # click's own code for usage errors


def test_bad_course_is_one_clear_line(tmp_path) -> None:
    (tmp_path / "course.toml").write_text("[course\n", encoding="utf-8")
    outcome = CliRunner().invoke(cli, ["assign", "--course", str(tmp_path)])
    assert outcome.exit_code == ExitCode.BAD_INPUT
    assert "course.toml" in outcome.output and "not valid TOML" in outcome.output
    assert "Traceback" not in outcome.output
