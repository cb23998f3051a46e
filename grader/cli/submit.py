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
_HANDED_IN = T("제출했습니다: 접수 번호", "handed in: submission")
_SERVER_TIME = T("서버가 받은 시각: 지각 여부는 이 시각으로 정합니다",
                 "the server's receipt time: lateness is judged by it")
_SAME = T("서버가 받은 파일의 SHA-256이 이 zip과 같습니다.", "the SHA-256 the server received is this zip's.")
_DIFFERENT = T("서버가 받은 파일의 SHA-256이 이 zip과 다릅니다: 다시 제출하세요.",
               "the SHA-256 the server received is not this zip's: hand it in again.")


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
@click.option("--to", "service_url", metavar="URL",
              help="Hand the zip in to this course service, and print its receipt.")
@click.option("--token", envvar="GRADER_TOKEN", metavar="TOKEN",
              help="Your personal link's token (the part after /s/), for --to; or the GRADER_TOKEN variable.")
@common_options
def submit(path: str, student: str, out_path: str | None, partial: bool, no_selfcheck: bool, service_url: str | None,
           token: str | None, course_path: str | None, lang: str | None, data_root: str | None, work_dir: str | None,
           cell_timeout: float, notebook_timeout: float, sandbox: str, kernel_uid: int, kernel: str) -> None:
    """Check NOTEBOOK_OR_FOLDER against the course and zip it for upload, with a manifest of hashes;
    with --to, hand it in to the course service and print the receipt.

    Exits 1 (and writes nothing) when an expected notebook is missing, unless --partial. A failing
    self-check only warns.
    """
    if service_url and not token:
        raise click.UsageError("--to needs --token (or GRADER_TOKEN): the part of your personal link after /s/")
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
    if not service_url or report.zip_path is None:
        click.echo(f"{_UPLOAD(lang)}: {report.zip_path}")
        return
    from grader.submit.send import send

    try:
        receipt = send(report.zip_path, service_url, token or "")
    except GraderError as error:
        raise Failure(error) from None
    held = [f for f in receipt.get("files", []) if f.get("sha256") == report.sha256]
    click.echo(f"{_HANDED_IN(lang)} #{receipt.get('id')}")
    click.echo(f"received_at: {receipt.get('received_at')}  ({_SERVER_TIME(lang)})")
    for item in receipt.get("files", []):
        click.echo(f"sha256: {item.get('sha256')}  {item.get('name')}")
    click.echo(_SAME(lang) if held else _DIFFERENT(lang))
    click.echo(f"{receipt.get('url')}")
    if not held:
        sys.exit(ExitCode.BAD_INPUT)
