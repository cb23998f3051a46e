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

from ..config import GradeConfig
from ..errors import GraderError
from ..i18n import default_language
from . import EXIT_CODES_HELP, ExitCode, Failure, _course, build_config, cli, common_options


def _grade(path: str, config: GradeConfig) -> Any:
    from ..warmup import launch_zygote

    launch_zygote(config)  # first: it imports torch while we import the rest
    from ..grade import grade_submission, prepare_data
    from ..sandbox import plan

    plan(config)  # no cage can hold the code here: say so before any work

    prepare_data(config)
    return grade_submission(Path(path), config)


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
    from ..kernel_choice import choose_kernel
    from ..textreport import print_submission

    lang = lang or default_language(os.environ)
    try:
        config = build_config(course=_course(course_path), hidden=False, lang=lang, data_root=data_root,
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
    from ..report import write_student_report

    lang = lang or default_language(os.environ)
    out = Path(out_dir).resolve()
    try:
        course = _course(course_path)
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
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--check", "only_check", is_flag=True,
              help="Write nothing; exit 1 when a student notebook differs from what would be generated.")
def assign(course_path: str | None, only_check: bool) -> None:
    """Generate the student notebooks (exercises/) from the solution notebooks."""
    from ..assign import assign_course

    try:
        differing = assign_course(_course(course_path), check=only_check)
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
        course = _course(course_path)
        root = Path(data_root or os.environ.get(course.data_env) or course.root / "data")
        click.echo(course.prepare_data(root, download=download))
    except GraderError as error:
        raise Failure(error) from None


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
    from ..bulk import BulkOptions, grade_class, print_summary, rich_progress
    from ..cluster.spec import ClusterSpec, parse_local
    from ..grade import prepare_data
    from ..grades.book import read_times

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
        course = _course(course_path)
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


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "canvas", "gradescope", "junit", "clusters"]), required=True,
              help="csv: one row per student; canvas: Canvas's gradebook import; gradescope: "
                   "DIR/export/gradescope/<student>/results.json; junit: JUnit XML; clusters: the mistake "
                   "clusters (clusters.csv) and who is in each (cluster_members.csv).")
@click.option("--gradebook", "gradebook_path", type=click.Path(exists=True, dir_okay=False),
              help="The SQLite gradebook. Default: DIR/gradebook.sqlite.")
@click.option("--to", "dest", type=click.Path(file_okay=False), help="Output folder. Default: DIR/export.")
@click.option("--canvas-column", help="The Canvas assignment column heading, e.g. 'Practicals (12345)'.")
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="en", show_default=True,
              help="Language of the check names and messages written.")
def export(out_dir: str, fmt: str, gradebook_path: str | None, dest: str | None, canvas_column: str | None,
           course_path: str | None, lang: str) -> None:
    """Publish the gradebook of a bulk run in DIR as CSV, Canvas CSV, Gradescope results.json or JUnit
    XML, with the final grades (adjustments and the late policy applied as the course says)."""
    from ..exports import export as write_export
    from ..gradebook import Gradebook
    from ..grades.book import class_grades
    from .graded import gradebook_in

    book = gradebook_in(out_dir, gradebook_path, must_exist=True, param="DIR")
    try:
        course = _course(course_path)
        with Gradebook(book) as gradebook:
            rows, grades = gradebook.rows(), class_grades(gradebook, course)
    except GraderError as error:
        raise Failure(error) from None
    written = write_export(rows, course, fmt, Path(dest) if dest else Path(out_dir) / "export", lang=lang,
                           canvas_column=canvas_column, grades=grades)
    if fmt == "canvas" and course.late is not None and course.late.applies:
        click.echo("warning: these scores already carry the course's late penalty (mode = \"apply\"); with "
                   "Canvas's own late policy on, Canvas would deduct a second time", err=True)
    click.echo(f"{fmt}: {len(rows)} students → {written}")
