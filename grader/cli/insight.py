"""The class-insight commands: ``clusters`` (the class's common mistakes), ``annotate`` (answer one
once) and ``similarity`` (whose own code is alike). None of them runs a notebook."""

from __future__ import annotations

import contextlib
import json
import os
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
from grader.i18n import default_language


def _exercise_choice(course, exercise: str | None) -> list[str]:
    if exercise is None:
        return [e.id for e in course.exercises]
    return [course.exercise(exercise).id]  # an unknown id: a CourseError naming the known ones


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--exercise", help="Only this exercise's clusters.")
@click.option("--json", "as_json", is_flag=True, help="Every cluster, singletons included, as JSON on stdout.")
@GRADEBOOK_OPTION
@COURSE_OPTION
@LANG_OPTION
def clusters(out_dir: str, exercise: str | None, as_json: bool, gradebook_path: str | None, course_path: str | None,
             lang: str | None) -> None:
    """The class's common mistakes: students whose checks recognised the same mistakes, per exercise,
    largest first, each with a stable id to answer it by ('grader annotate')."""
    from grader.insight.annotations import orphaned
    from grader.insight.mistakes import clusters as find
    from grader.store.gradebook import Gradebook

    path = gradebook_in(out_dir, gradebook_path, must_exist=True)
    lang = lang or default_language(os.environ)
    try:
        course = course_from(course_path)
        wanted = _exercise_choice(course, exercise)
        with Gradebook(path) as book:
            found = find({r.student_id: r.result for r in book.rows()}, course)
            annotations = book.annotations()
    except GraderError as error:
        raise Failure(error) from None
    lost = orphaned(annotations, found)
    if as_json:
        click.echo(json.dumps({
            "clusters": [c.to_dict() for e in wanted for c in found.get(e, [])],
            "annotations": [{"id": a.id, "cluster_id": a.cluster_id, "exercise": a.exercise_id, "check": a.check_id,
                             "comment_en": a.comment.en, "comment_ko": a.comment.ko, "points": a.points,
                             "orphaned": a in lost} for a in annotations if a.exercise_id in wanted],
        }, ensure_ascii=False, indent=1))
        return
    console = Console(highlight=False)
    for exercise_id in wanted:
        every = found.get(exercise_id, [])
        table = Table(title=f"{exercise_id}: {len(every)} mistake clusters", title_justify="left")
        for heading in ("id", "students", "mistake", "failing checks"):
            table.add_column(heading)
        shared = [c for c in every if c.size > 1]
        for cluster in shared:
            table.add_row(cluster.id, str(cluster.size), escape(cluster.label(lang)), escape(", ".join(cluster.checks)))
        alone = sum(c.size for c in every if c.size == 1)
        if alone:
            table.add_row("", str(alone), f"other: each alone in their mistake ({alone} clusters)", "")
        console.print(table if every else f"{exercise_id}: no mistakes (every check passed, or nothing graded)")
    for a in lost:
        if a.exercise_id in wanted:
            console.print(f"orphaned: annotation #{a.id} on cluster {a.cluster_id} ({a.exercise_id}) has no "
                          f"students now: "
                          f"\"{escape(a.comment(lang))}\"")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.argument("cluster_id")
@click.option("--comment-ko", help="The answer in Korean (shown under the check in each member's report).")
@click.option("--comment-en", help="The answer in English. One language alone is shown in both.")
@click.option("--points", type=float, help="Points to add to --check (negative to take some away), for every member, "
                                           "through the adjustments history.")
@click.option("--check", "check_id", help="The check the comment (and points) belong to; default: the exercise.")
@click.option("--by", "author", help="Who answers. Default: your login name.")
@GRADEBOOK_OPTION
@COURSE_OPTION
@LANG_OPTION
def annotate(out_dir: str, cluster_id: str, comment_ko: str | None, comment_en: str | None, points: float | None,
             check_id: str | None, author: str | None, gradebook_path: str | None, course_path: str | None,
             lang: str | None) -> None:
    """Answer a mistake cluster once (its id from 'grader clusters'): a comment in every member's report
    and, with --points, one adjustment per member. Students who land in the cluster later get the
    same answer at the next 'grader bulk'; those who leave it have the points revoked."""
    from grader.insight.annotations import annotate as record
    from grader.store.gradebook import Gradebook, writer_lock

    path = gradebook_in(out_dir, gradebook_path, must_exist=True)
    try:
        course = course_from(course_path)
        with writer_lock(path), Gradebook(path) as book:
            made, reached = record(book, course, cluster_id, comment_ko=comment_ko, comment_en=comment_en,
                                   author=author_name(author), points=points, check=check_id)
        refresh_reports(out_dir, path, course, lang, set())  # the reports of every answered student, this one too
    except GraderError as error:
        raise Failure(error) from None
    target = (made.check_id or made.exercise_id).split("::")[-1]
    gives = f"; {made.points:+g} on {target} for each" if made.points is not None else ""
    click.echo(f"annotation #{made.id}: cluster {made.cluster_id} ({made.exercise_id}), {reached} students{gives}")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("out_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False))
@click.option("--exercise", help="Only this exercise.")
@click.option("--archive", "archive_path", type=click.Path(dir_okay=False),
              help="An SQLite archive of past terms (created if missing): compare against every term in it.")
@click.option("--term", help="With --archive: keep this class in it as this term (replacing an earlier run's).")
@GRADEBOOK_OPTION
@COURSE_OPTION
@LANG_OPTION
def similarity(out_dir: str, exercise: str | None, archive_path: str | None, term: str | None,
               gradebook_path: str | None, course_path: str | None, lang: str | None) -> None:
    """Compare what students wrote, per exercise: OUT/similarity/index.html (ranked pairs, groups of
    identical code, a page per pair side by side) and OUT/export/similarity.csv. Given cells, the
    skeleton and code much of the class shares are left out; a pair is flagged only on enough
    evidence. It measures similarity, nothing more: read both programs before concluding."""
    from grader.insight.archive import Archive
    from grader.insight.fingerprints import notebook_code
    from grader.insight.mistakes import clusters as find
    from grader.insight.pages import write_csv, write_pages
    from grader.insight.similarity import compare_exercise
    from grader.publish.classreport import student_report_path
    from grader.results import ExerciseStatus
    from grader.store.gradebook import Gradebook

    if term and not archive_path:
        raise click.UsageError("--term needs --archive")
    path = gradebook_in(out_dir, gradebook_path, must_exist=True)
    lang = lang or default_language(os.environ)
    out = Path(out_dir)
    try:
        course = course_from(course_path)
        wanted = _exercise_choice(course, exercise)
        with Gradebook(path) as book:
            rows = book.rows()
            code = {e: book.code(e) for e in wanted}
        found = find({r.student_id: r.result for r in rows}, course)
        # A group's code is stored once, under its submitter: the other members are not missing it.
        members = {m for r in rows for m in r.info.group[1:] if m != r.student_id}
        results, missing = [], {}
        with Archive(Path(archive_path)) if archive_path else contextlib.nullcontext() as archive:
            for exercise_id in wanted:
                graded = {r.student_id for r in rows if r.result is not None for e in r.result.exercises
                          if e.exercise_id == exercise_id
                          and e.status not in (ExerciseStatus.MISSING, ExerciseStatus.INVALID)}
                missing[exercise_id] = sorted(graded - set(code[exercise_id]) - members)
                cluster_of = {s: (c.id, c.size) for c in found.get(exercise_id, []) for s in c.members}
                notebook = course.root / course.exercise(exercise_id).notebook
                skeleton = notebook_code(notebook) if notebook.is_file() else ""
                result = compare_exercise(exercise_id, code[exercise_id], skeleton, cluster_of=cluster_of,
                                          archive=archive, term=term)
                if archive is not None and term:
                    archive.store(term, exercise_id, {s: (d.code, set(d.prints) - result.skeleton)
                                                      for s, d in result.documents.items()})
                results.append(result)
    except GraderError as error:
        raise Failure(error) from None
    index = write_pages(results, course, out, lang=lang, missing=missing,
                        report_href=lambda sid: f"../{student_report_path(out, sid).relative_to(out)}")
    table = write_csv(results, out / "export" / "similarity.csv")
    for r in results:
        note = f", {len(missing[r.exercise_id])} without stored code" if missing[r.exercise_id] else ""
        click.echo(f"{r.exercise_id}: {r.students} students, {r.programs} distinct programs, "
                   f"{r.compared} pairs compared "
                   f"(of {r.programs * (r.programs - 1) // 2}), {len(r.flagged)} flagged, {len(r.groups)} groups of "
                   f"identical code{note}")
    click.echo(f"similarity report: {index}\npairs: {table}")

