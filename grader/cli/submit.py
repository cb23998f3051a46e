"""``grader submit``: a student's hand-in, checked and zipped with a manifest of hashes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.cli.common import EXIT_CODES_HELP, ExitCode, Failure, build_config, cli, common_options, course_from
from grader.errors import GraderError
from grader.i18n import T, default_language

_STATUS = {"found": ("FOUND", "green"), "missing": ("MISSING", "red"), "extra": ("EXTRA", "yellow")}
_GRADED = T("채점되는 것은 디스크에 저장된 파일입니다: 제출 전에 노트북을 저장하세요.",
            "What gets graded is the file saved on disk: save your notebooks before you submit.")
_NOT_ALL_PASSED = T("공개 검사 일부를 통과하지 못했지만 제출 파일은 만들었습니다.",
                    "Some public checks did not pass; the zip was written anyway.")
_UPLOAD = T("이 파일을 올리세요", "upload this file")


def _files_table(rows: list, lang: str) -> Table:
    table = Table(show_lines=False, expand=False)
    for heading in (T("상태", "status"), T("실습", "exercise"), T("파일", "file")):
        table.add_column(heading(lang))
    for row in rows:
        word, style = _STATUS[row.status]
        table.add_row(f"[{style}]{word}[/]", escape(row.exercise_id or "-"), escape(row.path or "-"))
    return table


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("path", metavar="NOTEBOOK_OR_FOLDER", type=click.Path(exists=True, dir_okay=True))
@click.option("--student", required=True, help="Your student id, as the course knows it (letters, digits, . _ -).")
@click.option("--out", "out_path", type=click.Path(), default=None,
              help="The zip to write, or a folder for it. Default: <student>_<course>_<UTC time>.zip here.")
@click.option("--partial", is_flag=True, help="Write the zip even when an expected notebook is missing.")
@click.option("--no-selfcheck", is_flag=True, help="Skip running the public checks on the saved files.")
@common_options
def submit(path: str, student: str, out_path: str | None, partial: bool, no_selfcheck: bool, course_path: str | None,
           lang: str | None, data_root: str | None, work_dir: str | None, cell_timeout: float, notebook_timeout: float,
           sandbox: str, kernel_uid: int, kernel: str) -> None:
    """Check NOTEBOOK_OR_FOLDER against the course and zip it for upload, with a manifest of hashes.

    Exits 1 (and writes nothing) when an expected notebook is missing, unless --partial. A failing
    self-check only warns.
    """
    from grader.kernel.choice import choose_kernel
    from grader.publish.terminal import print_submission
    from grader.submit.build import SubmitOptions, build_submission

    lang = lang or default_language(os.environ)
    console = Console(highlight=False)
    try:
        course = course_from(course_path)
        check = None
        if not no_selfcheck:
            check = build_config(course=course, hidden=False, lang=lang, data_root=data_root, work_dir=work_dir,
                                 cell_timeout=cell_timeout, notebook_timeout=notebook_timeout, sandbox=sandbox,
                                 kernel=kernel, kernel_uid=kernel_uid, trusted_code=True)
            check, chosen = choose_kernel(check)
            click.echo(chosen(lang), err=True)
        options = SubmitOptions(student=student, out=Path(out_path) if out_path else None, partial=partial,
                                output_cap=check.limits.output_bytes if check else SubmitOptions.output_cap,
                                check=check)
        report = build_submission(Path(path), course, options)
    except GraderError as error:
        raise Failure(error) from None
    console.print(_files_table(report.rows, lang))
    console.print(escape(_GRADED(lang)), soft_wrap=True)
    for warning in report.warnings:
        console.print(f"[yellow]! {escape(warning(lang))}[/]", soft_wrap=True)
    for relative, problems in report.tampered.items():
        for problem in problems:
            console.print(f"[yellow]! {escape(relative)}: {escape(problem(lang))}[/]", soft_wrap=True)
    for relative, lines in report.stripped.items():
        for line in lines:
            console.print(f"- {escape(relative)}: {escape(line(lang))}", soft_wrap=True)
    if report.refused is not None:
        click.echo(f"Error: {report.refused(lang)}", err=True)
        sys.exit(ExitCode.CHECKS_FAILED)
    if report.selfcheck is not None:
        print_submission(report.selfcheck, lang, console)
        if not report.selfcheck.all_passed:
            console.print(f"[yellow]! {escape(_NOT_ALL_PASSED(lang))}[/]")
    click.echo(f"zip:    {report.zip_path}")
    click.echo(f"sha256: {report.sha256}")
    click.echo(f"{_UPLOAD(lang)}: {report.zip_path}")
