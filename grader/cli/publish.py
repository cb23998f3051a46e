"""``grader export``: a graded class's final grades in the formats other systems import."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import EXIT_CODES_HELP, Failure, cli, course_from
from grader.errors import GraderError

# grader.publish.exports.FORMATS, spelled out: `grader --help` need not import the exports (a test keeps them equal).
FORMATS = ("csv", "canvas", "moodle", "blackboard", "gradescope", "junit", "clusters")


def _column_ids(ctx: click.Context, param: click.Parameter, given: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r}: give EXERCISE=COLUMN_ID (or total=COLUMN_ID)", ctx, param)
        found[key.strip()] = value.strip()
    return found


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="csv: one row per student (EX where excused); canvas: Canvas's gradebook import (a column per "
                   "exercise and a total, EX where excused); moodle: Moodle's grade import (ID number, a column per "
                   "exercise and a total, '-' where excused, Feedback); blackboard: the Grade Center upload "
                   "(Username, 'Title [Total Pts: N Score] |ID' columns, every field quoted); gradescope: "
                   "DIR/export/gradescope/<student>/results.json; junit: JUnit XML (valid against the Ant and "
                   "Jenkins schemas); clusters: the mistake clusters (clusters.csv) and who is in each "
                   "(cluster_members.csv).")
@click.option("--gradebook", "gradebook_path", type=click.Path(exists=True, dir_okay=False),
              help="The SQLite gradebook. Default: DIR/gradebook.sqlite.")
@click.option("--to", "dest", type=click.Path(file_okay=False), help="Output folder. Default: DIR/export.")
@click.option("--canvas-column", help="The total column's heading in the canvas, moodle and blackboard exports, "
                                      "e.g. 'Practicals (12345)'. Default: the course's title.")
@click.option("--blackboard-column", "blackboard_columns", multiple=True, metavar="EXERCISE=ID",
              callback=_column_ids,
              help="A Grade Center column id for an exercise (or 'total'), so that the upload fills that column "
                   "instead of adding one. Repeatable.")
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="en", show_default=True,
              help="Language of the check names, exercise titles and messages written.")
def export(out_dir: str, fmt: str, gradebook_path: str | None, dest: str | None, canvas_column: str | None,
           blackboard_columns: dict[str, str], course_path: str | None, lang: str) -> None:
    """Publish the gradebook of a bulk run in DIR as CSV, Canvas, Moodle or Blackboard CSV, Gradescope
    results.json or JUnit XML, with the final grades (adjustments and the late policy applied as the
    course says)."""
    from grader.cli.outfolder import gradebook_in
    from grader.grades.book import class_grades
    from grader.publish.exports import export as write_export
    from grader.store.gradebook import Gradebook

    book = gradebook_in(out_dir, gradebook_path, must_exist=True, param="DIR")
    try:
        course = course_from(course_path)
        with Gradebook(book) as gradebook:
            rows, grades = gradebook.rows(), class_grades(gradebook, course)
    except GraderError as error:
        raise Failure(error) from None
    known = {e.id for e in course.exercises} | {"total"}
    unknown = sorted(set(blackboard_columns) - known)
    if unknown:
        raise click.BadParameter(f"no exercise {', '.join(unknown)} in the course", param_hint="--blackboard-column")
    written = write_export(rows, course, fmt, Path(dest) if dest else Path(out_dir) / "export", lang=lang,
                           canvas_column=canvas_column, grades=grades, blackboard_columns=blackboard_columns)
    if fmt == "canvas" and course.late is not None and course.late.applies:
        click.echo("warning: these scores already carry the course's late penalty (mode = \"apply\"); with "
                   "Canvas's own late policy on, Canvas would deduct a second time", err=True)
    click.echo(f"{fmt}: {len(rows)} students → {written}")
