"""Publish a gradebook: CSV (plain, Canvas, Moodle, Blackboard), Gradescope ``results.json``, JUnit XML.

Everything is read from the gradebook alone, so an export can be redone at any time without
grading again: the final grades (:mod:`grader.grades`) are derived from the automatic results,
the adjustments and the late policy each time, and every export writes those numbers.

Excused work leaves the points possible, as each consumer can say it. The plain CSV and Canvas
write ``EX`` in the exercise's column, Moodle ``-`` (its "no grade", left out of its totals) and
Blackboard an empty cell (its upload has no excused value). An LMS column is out of fixed points
(the course's), so where excused checks shrank a student's points possible, the LMS exports scale
the score to the column (:func:`lms_scores`); the plain CSV keeps the raw numbers. In Gradescope
an excused check is a test worth 0 of 0, and the tests always sum to the score and to the points
possible; in JUnit excused checks are no test cases, and the suite's ``system-out`` names them.

Nothing a student sees on Gradescope before grades are published depends on how a hidden check
did: hidden checks are ``after_published``, and so is any test whose number depends on them (an
adjustment's in an exercise with hidden checks, the late penalty's); a public check its hidden twin
caught reads as passed until then, its twin's words and the points it takes back after; and the
summary line counts the visible tests only (:func:`visible_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from grader.course.manifest import Course
from grader.publish.exports.clusters import CLUSTER_COLUMNS, MEMBER_COLUMNS, write_clusters
from grader.publish.exports.common import Grades
from grader.publish.exports.gradescope import gradescope_results, visible_summary, write_gradescope
from grader.publish.exports.junit import write_junit
from grader.publish.exports.lms import (
    CANVAS_EXCUSED,
    CSV_COLUMNS,
    MOODLE_NO_GRADE,
    LmsScores,
    lms_scores,
    write_blackboard_csv,
    write_canvas_csv,
    write_csv,
    write_moodle_csv,
)
from grader.store.records import Row

__all__ = ["CANVAS_EXCUSED", "CLUSTER_COLUMNS", "CSV_COLUMNS", "FORMATS", "LmsScores", "MEMBER_COLUMNS",
           "MOODLE_NO_GRADE", "export", "gradescope_results", "lms_scores", "visible_summary", "write_blackboard_csv",
           "write_canvas_csv", "write_clusters", "write_csv", "write_gradescope", "write_junit", "write_moodle_csv"]

FORMATS = ("csv", "canvas", "moodle", "blackboard", "gradescope", "junit", "clusters")


def export(rows: list[Row], course: Course, fmt: str, dest: Path, *, lang: str = "en",
           canvas_column: str | None = None, grades: Grades | None = None,
           blackboard_columns: Mapping[str, str] | None = None) -> Path:
    """Write ``rows`` in ``fmt`` under ``dest`` (a folder); the path written is returned.
    ``canvas_column`` names the total column of the LMS exports."""
    if fmt == "csv":
        return write_csv(rows, course, dest / "grades.csv", grades)
    if fmt == "canvas":
        return write_canvas_csv(rows, course, dest / "canvas.csv", column=canvas_column, grades=grades, lang=lang)
    if fmt == "moodle":
        return write_moodle_csv(rows, course, dest / "moodle.csv", column=canvas_column, grades=grades, lang=lang)
    if fmt == "blackboard":
        return write_blackboard_csv(rows, course, dest / "blackboard.csv", column=canvas_column, grades=grades,
                                    lang=lang, column_ids=blackboard_columns)
    if fmt == "gradescope":
        return write_gradescope(rows, course, dest / "gradescope", lang, grades)
    if fmt == "junit":
        return write_junit(rows, course, dest / "junit.xml", lang, grades)
    if fmt == "clusters":
        return write_clusters(rows, course, dest)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
