"""The grading commands: a student's check, an instructor's grade and bulk run, exports, and the
course author's assign and data."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from grader.cli.common import EXIT_CODES_HELP, ExitCode, Failure, build_config, cli, common_options, course_from
from grader.config import GradeConfig
from grader.errors import GraderError
from grader.i18n import default_language


def _grade(path: str, config: GradeConfig) -> Any:
    from grader.session import GradingSession

    with GradingSession(config) as session:  # refuses first where no cage can hold the code
        return session.grade(Path(path))


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("notebook", type=click.Path(exists=True, dir_okay=True))
@common_options
def check(notebook: str, course_path: str | None, lang: str | None, data_root: str | None,
          work_dir: str | None, cell_timeout: float, notebook_timeout: float, sandbox: str, kernel_uid: int,
          kernel: str) -> None:
    """A student's self-check: run NOTEBOOK and its public checks, print a table.

    Exits 0 only when every check passed. Where this machine has no fork server or cage (Windows,
    macOS), the notebook runs in a fresh kernel without a sandbox; the first line says which.
    """
    from grader.kernel.choice import choose_kernel
    from grader.publish.terminal import print_submission

    lang = lang or default_language(os.environ)
    try:
        config = build_config(course=course_from(course_path), hidden=False, lang=lang, data_root=data_root,
                              work_dir=work_dir, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout,
                              sandbox=sandbox, kernel=kernel, kernel_uid=kernel_uid, trusted_code=True)
        config, chosen = choose_kernel(config)
        click.echo(chosen(lang), err=True)
        result = _grade(notebook, config)
    except GraderError as error:
        raise Failure(error) from None
    print_submission(result, lang, Console(highlight=False))
    sys.exit(ExitCode.OK if result.all_passed else ExitCode.CHECKS_FAILED)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(exists=True, dir_okay=True))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for results.json and report.html.")
@click.option("--public-only", is_flag=True, help="Skip the hidden checks.")
@common_options
def grade(path: str, out_dir: str, public_only: bool, course_path: str | None, lang: str | None,
          data_root: str | None, work_dir: str | None, cell_timeout: float, notebook_timeout: float,
          sandbox: str, kernel_uid: int, kernel: str) -> None:
    """An instructor's grading of one submission (a notebook or a folder of notebooks), with
    public and hidden checks: writes OUT/results.json and OUT/report.html."""
    from grader.publish.report import write_student_report

    lang = lang or default_language(os.environ)
    out = Path(out_dir).resolve()
    try:
        course = course_from(course_path)
        config = build_config(course=course, hidden=not public_only and course.has_hidden_checks, lang=lang,
                              data_root=data_root, work_dir=work_dir, cell_timeout=cell_timeout,
                              notebook_timeout=notebook_timeout, protected=(out,), sandbox=sandbox, kernel=kernel,
                              kernel_uid=kernel_uid)
        result = _grade(path, config)
    except GraderError as error:
        raise Failure(error) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    report = write_student_report(result, out / "report.html", lang)
    click.echo(f"{result.submission_id}: {result.score:g} / {result.max_score:g}")
    click.echo(f"results: {out / 'results.json'}")
    click.echo(f"report:  {report}")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("submissions", type=click.Path(exists=True, dir_okay=True))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for the gradebook, OUT/index.html and a report per student.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes grading at once. Default: the machine's cores.")
@click.option("--force", is_flag=True, help="Regrade every submission, even those unchanged since the last run.")
@click.option("--quiet", is_flag=True, help="No progress bar or table: print one JSON summary line.")
@click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False),
              help="The SQLite gradebook. Default: OUT/gradebook.sqlite.")
@click.option("--public-only", is_flag=True, help="Skip the hidden checks.")
@click.option("--submission-times", "times_csv", type=click.Path(exists=True, dir_okay=False),
              help="When each student submitted, as the LMS says: a CSV of student_id, submitted_at (with its "
                   "time zone). For layouts that give no times (Canvas, folders); it wins over a layout's own.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on a Dask cluster: its scheduler, tcp://HOST:8786 or tls://HOST:8786.")
@click.option("--scheduler-file", type=click.Path(exists=True, dir_okay=False),
              help="Grade on the Dask cluster this scheduler file names.")
@click.option("--cluster", "local_cluster", metavar="local:N",
              help="Start a Dask cluster of N worker processes here and grade on it (to try Dask on one machine).")
@common_options
def bulk(submissions: str, out_dir: str, workers: int | None, force: bool, quiet: bool,
         gradebook_path: str | None, public_only: bool, times_csv: str | None, scheduler: str | None,
         scheduler_file: str | None, local_cluster: str | None, course_path: str | None, lang: str | None,
         data_root: str | None, work_dir: str | None, cell_timeout: float, notebook_timeout: float,
         sandbox: str, kernel_uid: int, kernel: str) -> None:
    """Grade a whole class: SUBMISSIONS is a folder (a folder or zip per student, or an LMS
    export) or a zip of one. Every finished submission is committed to the gradebook at once:
    run the same command again after a crash and it resumes where it stopped. With --scheduler,
    --scheduler-file or --cluster the submissions are graded on Dask workers (the extra
    'notebook-grader[dask]'); this command stays the only gradebook writer."""
    from grader.bulk.dask.spec import ClusterSpec, parse_local
    from grader.bulk.run import BulkOptions, grade_class, print_summary, rich_progress
    from grader.grades.book import read_times
    from grader.session import prepare_data

    if sum(x is not None for x in (scheduler, scheduler_file, local_cluster)) > 1:
        raise click.UsageError("give at most one of --scheduler, --scheduler-file and --cluster")
    cluster = None
    if local_cluster is not None:
        try:
            cluster = ClusterSpec(local=parse_local(local_cluster))
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--cluster") from None
    elif scheduler or scheduler_file:
        cluster = ClusterSpec(scheduler=scheduler, scheduler_file=Path(scheduler_file) if scheduler_file else None)

    lang = lang or default_language(os.environ)
    out = Path(out_dir).resolve()
    book = Path(gradebook_path).resolve() if gradebook_path else None
    console = Console(highlight=False, stderr=quiet)
    try:
        times = read_times(Path(times_csv)) if times_csv else None
        options = BulkOptions(out_dir=out, gradebook=book, workers=workers or 0, force=force, submission_times=times,
                              cluster=cluster)
        course = course_from(course_path)
        config = build_config(course=course, hidden=not public_only and course.has_hidden_checks, lang=lang,
                              data_root=data_root, work_dir=work_dir, cell_timeout=cell_timeout,
                              notebook_timeout=notebook_timeout,
                              # the class's submissions too: no kernel may read another student's work
                              protected=(out, Path(submissions).resolve(), *([book] if book else [])),
                              sandbox=sandbox, kernel=kernel, kernel_uid=kernel_uid)
        prepare_data(config)
        if quiet:
            summary = grade_class(Path(submissions), config, options)
        else:
            with rich_progress(console) as progress:
                summary = grade_class(Path(submissions), config, options, progress=progress)
    except GraderError as error:
        raise Failure(error) from None
    except ValueError as error:  # an input that is neither a folder nor a zip
        raise click.BadParameter(str(error), param_hint="SUBMISSIONS") from None
    if quiet:
        click.echo(summary.line())
    else:
        print_summary(summary, lang, console)
