"""The ``grader`` command line: parse, build one GradeConfig, call the library, map to an exit code.

This is the only module that imports click.
"""

from __future__ import annotations

import atexit
import enum
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from . import __version__
from .config import GradeConfig, Limits
from .course import Course, find_course, load_course
from .errors import CourseError, GraderError, KernelError
from .i18n import default_language

__all__ = ["ExitCode", "main"]


class ExitCode(enum.IntEnum):
    OK = 0  # check: every check passed; other commands: the work was done
    CHECKS_FAILED = 1  # check: at least one check did not pass
    USAGE = 2  # the command line is wrong (click's own code)
    BAD_INPUT = 3  # a submission, course or file could not be read
    INTERNAL = 4  # the grader could not do its work (a kernel would not start...)


EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value}  {code.name.lower().replace('_', ' ')}" for code in ExitCode)


class Failure(click.ClickException):
    """A project error, said in one line, with the exit code its kind deserves."""

    def __init__(self, error: GraderError) -> None:
        super().__init__(str(error))
        self.exit_code = int(ExitCode.INTERNAL if isinstance(error, KernelError) else ExitCode.BAD_INPUT)


def _course(path: str | None) -> Course:
    return load_course(Path(path) if path else find_course(Path.cwd()))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader"


def build_config(*, course: Course, hidden: bool, lang: str, data_root: str | None, work_dir: str | None,
                 cell_timeout: float, notebook_timeout: float, kernel: str = "forkserver",
                 sandbox: str = "auto", protected: tuple[Path, ...] = (), kernel_uid: int = 65534,
                 trusted_code: bool = False) -> GradeConfig:
    """The one place where options and the environment become a configuration."""
    root = data_root or os.environ.get(course.data_env) or str(course.root / "data")
    return GradeConfig(
        course=course,
        data_root=Path(root).resolve(),
        work_dir=Path(work_dir).resolve() if work_dir else _cache_dir(),
        hidden=hidden,
        lang=lang,
        limits=Limits(cell_timeout=cell_timeout, notebook_timeout=notebook_timeout),
        kernel=kernel,
        sandbox=sandbox,
        protected_paths=protected,
        kernel_uid=kernel_uid,
        trusted_code=trusted_code,
    )


def common_options(function: Any) -> Any:
    options = [
        click.option("--course", "course_path", type=click.Path(exists=True, dir_okay=True),
                     help="The course manifest (course.toml) or its folder. Default: found from here."),
        click.option("--lang", type=click.Choice(["ko", "en"]), default=None,
                     help="Language of messages and reports. Default: from the locale, else en."),
        click.option("--data-root", type=click.Path(file_okay=False),
                     help="Where the data set lives (made there if missing). Default: the course's "
                          "data environment variable, else COURSE/data."),
        click.option("--work-dir", type=click.Path(file_okay=False),
                     help="The grader's scratch folder. Default: ~/.cache/grader."),
        click.option("--cell-timeout", type=float, default=Limits.cell_timeout, show_default=True,
                     help="Seconds one cell may run."),
        click.option("--notebook-timeout", type=float, default=Limits.notebook_timeout, show_default=True,
                     help="Seconds all of a notebook's cells may run."),
        click.option("--sandbox", type=click.Choice(["auto", "bwrap", "container", "userns", "none"]), default="auto",
                     show_default=True,
                     help="The kernel's cage: bwrap (bubblewrap: no network, a minimal file system), container "
                          "(as root where bubblewrap cannot run: a uid of the kernel's own, a syscall filter), "
                          "userns (no root: user, pid and network namespaces), none (limits only, for "
                          "notebooks you trust). auto takes the first that works here, in that order, and "
                          "refuses to grade where none does; a self-check always runs."),
        click.option("--kernel-uid", type=click.IntRange(min=1), default=65534, show_default=True,
                     help="Container mode: kernels run as this uid and gid, and the ones below it, one per "
                          "kernel alive at a time."),
        click.option("--kernel", type=click.Choice(["forkserver", "fresh"]), default="forkserver", show_default=True,
                     help="How each notebook's kernel starts: forkserver (forked from a warm process that "
                          "imported torch once: ~0.1 s) or fresh (a new Python process per notebook, "
                          "~4-9 s with torch; for debugging and comparison)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Grade Jupyter exercise notebooks: each notebook runs in a fresh kernel, checks run
    outside it, results and reports come out."""


def _grade(path: str, config: GradeConfig) -> Any:
    from .warmup import launch_zygote

    launch_zygote(config)  # first: it imports torch while we import the rest
    from .grade import grade_submission, prepare_data
    from .sandbox import plan

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

    Exits 0 only when every check passed.
    """
    from .textreport import print_submission

    lang = lang or default_language(os.environ)
    try:
        config = build_config(course=_course(course_path), hidden=False, lang=lang, data_root=data_root,
                              work_dir=work_dir, cell_timeout=cell_timeout, notebook_timeout=notebook_timeout,
                              sandbox=sandbox, kernel=kernel, kernel_uid=kernel_uid, trusted_code=True)
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
    from .report import write_student_report

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
    from .assign import assign_course

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
def data(course_path: str | None, data_root: str | None) -> None:
    """Make sure the course's data set is there (the real one, else a small generated one)."""
    try:
        course = _course(course_path)
        root = Path(data_root or os.environ.get(course.data_env) or course.root / "data")
        click.echo(course.data_preparer()(root))
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
@common_options
def bulk(submissions: str, out_dir: str, workers: int | None, force: bool, quiet: bool,
         gradebook_path: str | None, public_only: bool, course_path: str | None, lang: str | None,
         data_root: str | None, work_dir: str | None, cell_timeout: float, notebook_timeout: float,
         sandbox: str, kernel_uid: int, kernel: str) -> None:
    """Grade a whole class: SUBMISSIONS is a folder (a folder or zip per student, or an LMS
    export) or a zip of one. Every finished submission is committed to the gradebook at once:
    run the same command again after a crash and it resumes where it stopped."""
    from .bulk import BulkOptions, grade_class, print_summary, rich_progress
    from .grade import prepare_data

    lang = lang or default_language(os.environ)
    out = Path(out_dir).resolve()
    book = Path(gradebook_path).resolve() if gradebook_path else None
    options = BulkOptions(out_dir=out, gradebook=book, workers=workers or 0, force=force)
    console = Console(highlight=False, stderr=quiet)
    try:
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
@click.option("--format", "fmt", type=click.Choice(["csv", "canvas", "gradescope", "junit"]), required=True,
              help="csv: one row per student; canvas: Canvas's gradebook import; gradescope: "
                   "DIR/export/gradescope/<student>/results.json; junit: JUnit XML.")
@click.option("--gradebook", "gradebook_path", type=click.Path(exists=True, dir_okay=False),
              help="The SQLite gradebook. Default: DIR/gradebook.sqlite.")
@click.option("--to", "dest", type=click.Path(file_okay=False), help="Output folder. Default: DIR/export.")
@click.option("--canvas-column", help="The Canvas assignment column heading, e.g. 'Practicals (12345)'.")
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="en", show_default=True,
              help="Language of the check names and messages written.")
def export(out_dir: str, fmt: str, gradebook_path: str | None, dest: str | None, canvas_column: str | None,
           course_path: str | None, lang: str) -> None:
    """Publish the gradebook of a bulk run in DIR as CSV, Canvas CSV, Gradescope results.json or JUnit XML."""
    from .exports import export as write_export
    from .gradebook import Gradebook

    book = Path(gradebook_path) if gradebook_path else Path(out_dir) / "gradebook.sqlite"
    if not book.is_file():
        raise click.BadParameter(f"{book}: no gradebook here (run 'grader bulk' first)", param_hint="DIR")
    try:
        course = _course(course_path)
        with Gradebook(book) as gradebook:
            rows = gradebook.rows()
    except GraderError as error:
        raise Failure(error) from None
    written = write_export(rows, course, fmt, Path(dest) if dest else Path(out_dir) / "export", lang=lang,
                           canvas_column=canvas_column)
    click.echo(f"{fmt}: {len(rows)} students → {written}")


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
    """Exit with ``code`` once the exit handlers have run (kernels, zygotes, sandboxes cleaned up)
    and the output is flushed, but without the interpreter's own teardown: with torch loaded it
    takes half a second and does nothing a grader needs (every file is closed by then)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

