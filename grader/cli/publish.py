"""``grader export``: a graded class's final grades in the formats other systems import."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import EXIT_CODES_HELP, Failure, cli, course_from
from grader.errors import GraderError


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
    written = write_export(rows, course, fmt, Path(dest) if dest else Path(out_dir) / "export", lang=lang,
                           canvas_column=canvas_column, grades=grades)
    if fmt == "canvas" and course.late is not None and course.late.applies:
        click.echo("warning: these scores already carry the course's late penalty (mode = \"apply\"); with "
                   "Canvas's own late policy on, Canvas would deduct a second time", err=True)
    click.echo(f"{fmt}: {len(rows)} students → {written}")
