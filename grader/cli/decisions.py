"""The final-grade commands: ``override`` (and its history) and ``late`` (extensions, submission times).

Each writes the gradebook under its writer lock (refused, exit 3, while a ``grader bulk`` run
holds it) and then refreshes the reports in OUT, if that folder has them.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.cli.common import EXIT_CODES_HELP, Failure, cli, course_from
from grader.cli.outfolder import (
    COURSE_OPTION,
    GRADEBOOK_OPTION,
    LANG_OPTION,
    author_name,
    gradebook_in,
    refresh_reports,
)
from grader.errors import GraderError


def _target(student: str | None, exercise: str | None, check: str | None) -> str:
    return f"{student} {exercise}" + (f" {check}" if check else "")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--student", help="The student's id, as in the gradebook.")
@click.option("--exercise", help="The exercise id.")
@click.option("--check", "check_id",
              help="One check of the exercise (e.g. test_len_train); default: the whole exercise.")
@click.option("--set", "set_points", type=float, help="Set its points.")
@click.option("--add", "add_points", type=float, help="Add points (negative to take some away).")
@click.option("--excuse", is_flag=True, help="Excuse it: out of the score and of the points possible.")
@click.option("--revoke", type=int, metavar="ID", help="Withdraw adjustment ID (see 'grader history').")
@click.option("--from-csv", "sheet", type=click.Path(exists=True, dir_okay=False),
              help="Apply a sheet: student_id, exercise_id, check_id, set, add, excuse, reason "
                   "(a blank cell: no change).")
@click.option("--reason", help="Why (required; the student sees it).")
@click.option("--by", "author", help="Who decides. Default: your login name.")
@GRADEBOOK_OPTION
@COURSE_OPTION
@LANG_OPTION
def override(out_dir: str, student: str | None, exercise: str | None, check_id: str | None, set_points: float | None,
             add_points: float | None, excuse: bool, revoke: int | None, sheet: str | None, reason: str | None,
             author: str | None, gradebook_path: str | None, course_path: str | None, lang: str | None) -> None:
    """Record an instructor's adjustment of a student's automatic score, kept with who, when and why.

    The final score is derived from the automatic one and every adjustment, in time order, at
    export and report time: a regrade never loses one.
    """
    from grader.grades import book as ledger
    from grader.store.records import Adjustment

    asked = [name for name, given in (("--set", set_points is not None), ("--add", add_points is not None),
                                       ("--excuse", excuse), ("--revoke", revoke is not None),
                                       ("--from-csv", bool(sheet)))
             if given]
    if len(asked) != 1:
        raise click.UsageError("give exactly one of --set, --add, --excuse, --revoke or --from-csv")
    if not sheet and not (reason or "").strip():
        raise click.UsageError("--reason is required")
    if asked[0] in ("--set", "--add", "--excuse") and not (student and exercise):
        raise click.UsageError(f"{asked[0]} needs --student and --exercise")
    path = gradebook_in(out_dir, gradebook_path)
    try:
        course = course_from(course_path)
        if sheet:
            made = ledger.import_sheet(path, course, Path(sheet), author=author_name(author))
        elif revoke is not None:
            made = [ledger.revoke(path, revoke, reason=reason or "", author=author_name(author))]
        else:
            kind = asked[0].removeprefix("--")
            value = set_points if kind == "set" else add_points
            made = [ledger.override(path, course, Adjustment(student_id=student or "", exercise_id=exercise or "",
                                                             kind=kind, reason=reason or "", author=author_name(author),
                                                             check_id=check_id, value=value))]
        refresh_reports(out_dir, path, course, lang, {a.student_id for a in made})
    except GraderError as error:
        raise Failure(error) from None
    for a in made:
        click.echo(f"#{a.id}: {_target(a.student_id, a.exercise_id, a.check_id)}: {a.describe()} — {a.reason}")
    if sheet:
        click.echo(f"{len(made)} adjustments recorded from {sheet}")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--student", help="Only this student's adjustments.")
@GRADEBOOK_OPTION
@COURSE_OPTION
def history(out_dir: str, student: str | None, gradebook_path: str | None, course_path: str | None) -> None:
    """Every adjustment ever recorded, oldest first: who, when, why, and what revoked what; then
    the final grade they make, for each student named (the numbers every export writes)."""
    from grader.grades.book import class_grades
    from grader.store.gradebook import Gradebook

    path = gradebook_in(out_dir, gradebook_path, must_exist=True)
    try:
        course = course_from(course_path)
        with Gradebook(path) as book:
            every = book.adjustments()
            files = book.files_hashes()
            grades = class_grades(book, course)
    except GraderError as error:
        raise Failure(error) from None
    revoked = {a.revokes: a.id for a in every if a.kind == "revoke"}
    shown = [a for a in every if not student or a.student_id == student]
    for a in shown:  # one line each: easy to read, to grep and to paste into a reply
        notes = []
        if a.id in revoked:
            notes.append(f"revoked by #{revoked[a.id]}")
        if a.stale_against(files.get(a.student_id)):
            notes.append("stale: made against earlier files")
        if a.source:
            notes.append(f"from {a.source.replace(':', ' #')}")
        target = _target(a.student_id, a.exercise_id, (a.check_id or "").split("::")[-1])
        click.echo(f"#{a.id}  {a.created_at}  {target}"
                   f"  {a.describe()}  \"{a.reason}\"  by {a.author}" + (f"  [{'; '.join(notes)}]" if notes else ""))
    if not shown:
        click.echo(f"no adjustments in {path}" + (f" for {student}" if student else ""))
    for sid in sorted({a.student_id for a in shown} | ({student} if student else set())):
        if sid in grades:
            grade = grades[sid]
            items = [i for e in grade.exercises for i in e.rubric_items]
            unscored = sum(i.given is None for i in items)
            rubric = (f"rubric {grade.rubric:g}" + (f" ({unscored} not scored)" if unscored else "") + ", ") \
                if items else ""
            click.echo(f"{sid}: final {grade.final:g} / {grade.possible:g} (automatic {grade.auto_total:g}, {rubric}"
                       f"adjustments {grade.adjustments:+g}, late penalty {grade.late_penalty:g}"
                       + ("" if course.late is None or course.late.applies else ", not applied") + ")")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--extensions", "extensions_csv", type=click.Path(exists=True, dir_okay=False),
              help="A sheet of extensions (student_id, exercise_id or *, new_due or extra_hours, reason); it "
                   "replaces the last one imported.")
@click.option("--submission-times", "times_csv", type=click.Path(exists=True, dir_okay=False),
              help="When each student submitted, as the LMS says (student_id, submitted_at with its time zone).")
@GRADEBOOK_OPTION
@COURSE_OPTION
@LANG_OPTION
def late(out_dir: str, extensions_csv: str | None, times_csv: str | None, gradebook_path: str | None,
         course_path: str | None, lang: str | None) -> None:
    """Import the late policy's inputs (extensions, submission times), then show every student's
    lateness under the course's [late] policy. Nothing is graded again."""
    from grader.grades import book as ledger
    from grader.store.gradebook import Gradebook

    path = gradebook_in(out_dir, gradebook_path, must_exist=True)
    try:
        course = course_from(course_path)
        if extensions_csv:
            imported = ledger.import_extensions(path, course, Path(extensions_csv))
            click.echo(f"{imported} extensions from {extensions_csv}")
        if times_csv:
            click.echo(f"{ledger.import_times(path, Path(times_csv))} submission times from {times_csv}")
        with Gradebook(path) as book:
            grades = ledger.class_grades(book, course)
        if extensions_csv or times_csv:
            refresh_reports(out_dir, path, course, lang, None)  # lateness may change anyone's report
    except GraderError as error:
        raise Failure(error) from None
    if course.late is None:
        click.echo(f"{course.root / 'course.toml'} has no [late] policy: nobody is late")
        return
    table = Table(title=f"lateness (mode {course.late.mode})", title_justify="left")
    for heading in ("student", "submitted", "late by (h)", "penalty", "final"):
        table.add_column(heading)
    for sid, grade in sorted(grades.items()):
        table.add_row(escape(sid), grade.submitted_at.isoformat() if grade.submitted_at else "—",
                      f"{grade.late_seconds / 3600:.1f}" if grade.late else "", f"{grade.late_penalty:g}",
                      f"{grade.final:g} / {grade.possible:g}")
    Console(highlight=False).print(table)
