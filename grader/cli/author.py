"""The course author's commands: ``assign`` (the student notebooks made from the reference ones)
and ``data`` (the course's data set, real or generated)."""

from __future__ import annotations

import os
import sys

import click

from grader.cli.common import EXIT_CODES_HELP, ExitCode, Failure, cli, course_from
from grader.errors import GraderError


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--check", "only_check", is_flag=True,
              help="Write nothing; exit 1 when a student notebook differs from what would be generated.")
def assign(course_path: str | None, only_check: bool) -> None:
    """Generate the student notebooks (exercises/) from the solution notebooks."""
    from grader.course.assign import assign_course

    try:
        differing = assign_course(course_from(course_path), check=only_check)
    except GraderError as error:
        raise Failure(error) from None
    for path in differing:
        click.echo(f"{'differs' if only_check else 'wrote'}: {path}")
    if only_check and differing:
        sys.exit(ExitCode.CHECKS_FAILED)


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--data-root", type=click.Path(file_okay=False), help="Default: COURSE/data.")
@click.option("--download", is_flag=True,
              help="Download the real data set where it is not there (else the offline stand-in, said in one line).")
def data(course_path: str | None, data_root: str | None, download: bool) -> None:
    """Make sure the course's data set is there (the real one, else a small generated one)."""
    try:
        course = course_from(course_path)
        root = course.data_root(data_root, os.environ)
        click.echo(course.prepare_data(root, download=download))
    except GraderError as error:
        raise Failure(error) from None
