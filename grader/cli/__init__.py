"""The ``grader`` command line: parse, build one GradeConfig, call the library, map to an exit code.

The only package that imports click. :mod:`.common` holds the group, the options and the exit
codes; the commands live beside it, one module per family: :mod:`.run` (check, grade, bulk),
:mod:`.publish` (export), :mod:`.author` (assign, data), :mod:`.decisions` (override, history,
late), :mod:`.insight` (clusters, annotate, similarity), :mod:`.platforms` (package, autograde),
:mod:`.service` (the course service) and :mod:`.submit`.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from grader.cli import (  # noqa: F401 - each registers its commands
    author,
    decisions,
    insight,
    platforms,
    publish,
    run,
    service,
    submit,
)
from grader.cli.common import ExitCode, cli
from grader.errors import CourseError

__all__ = ["ExitCode", "cli", "main"]


def main() -> None:
    try:
        cli(prog_name="grader")
    except CourseError as error:  # raised outside a command's own handling (e.g. while collecting)
        click.echo(f"Error: {error}", err=True)
        _leave(ExitCode.BAD_INPUT)
    except SystemExit as done:  # click ends every command this way
        if done.code is None or isinstance(done.code, int):
            _leave(done.code or 0)
        raise


def _leave(code: int) -> None:
    """Exit with ``code`` once the output is flushed, without the interpreter's own teardown: with
    torch loaded it takes half a second and does nothing a grader needs. Whatever a command
    started (kernels, zygotes, folders) its grading session has closed by now."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
