"""The CSV gradebooks: our own (raw numbers beside the points possible) and the LMSs' imports
(Canvas, Moodle, Blackboard), whose columns are out of fixed points."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.course.manifest import Course
from grader.grades.final import FinalGrade
from grader.publish.exports.common import Grades, figure, grade_of, has_grade, table
from grader.results import CheckStatus
from grader.store.records import Row

__all__ = ["CANVAS_EXCUSED", "CSV_COLUMNS", "LmsScores", "MOODLE_NO_GRADE", "lms_scores", "write_blackboard_csv",
           "write_canvas_csv", "write_csv", "write_moodle_csv"]

CANVAS_EXCUSED = "EX"  # Canvas's gradebook import (and our own CSV): excused
MOODLE_NO_GRADE = "-"  # Moodle's grade import: no grade (gradeimport_csv_load_data::update_grade_item)


CSV_COLUMNS = ("total", "max_score", "status", "late", "auto_total", "adjustments", "late_seconds", "late_penalty",
               "final", "stale", "public_only")


def _public_only(row: Row) -> str:
    """How many public checks passed on the public data only (a hard-coded answer's mark)."""
    exercises = row.result.exercises if row.result else []
    found = sum(c.status is CheckStatus.PUBLIC_ONLY for e in exercises for c in e.checks)
    return str(found) if found else ""


def write_csv(rows: list[Row], course: Course, path: Path, grades: Grades | None = None) -> Path:
    """One row per student: id, each exercise's final score, then :data:`CSV_COLUMNS`.

    An excused exercise reads ``EX`` (a spreadsheet's SUM skips it); ``total`` is the final score
    (what gets published) out of ``max_score``, the points possible (excused work left out);
    ``public_only`` counts the public checks that passed on the public data only
    (grader.checking.twins); ``final = auto_total + adjustments - late_penalty`` in the policy's
    ``apply`` mode (in ``report`` mode the penalty is shown and not deducted).
    """
    with table(path) as writer:
        writer.writerow(["student_id", *[e.id for e in course.exercises], *CSV_COLUMNS])
        for row in rows:
            grade = grade_of(row, course, grades)
            by_id = {e.exercise_id: e for e in grade.exercises}
            # An exercise nobody graded or adjusted (nothing came back for the student) stays blank.
            scores = [("" if e.id not in by_id or not has_grade(row, by_id[e.id])
                       else CANVAS_EXCUSED if by_id[e.id].excused else figure(by_id[e.id].final))
                      for e in course.exercises]
            writer.writerow([row.student_id, *scores, figure(grade.final), figure(grade.possible), row.status.value,
                             "yes" if row.info.late or grade.late else "", figure(grade.auto_total),
                             figure(grade.adjustments), f"{grade.late_seconds:.0f}", figure(grade.late_penalty),
                             figure(grade.final), "yes" if grade.stale else "", _public_only(row)])
    return path


@dataclass(frozen=True)
class LmsScores:
    """One student's scores as an LMS gradebook holds them: each column out of fixed points.

    ``exercises`` holds the exercises with something to say (graded or adjusted), ``None`` where
    excused; ``total`` is ``None`` where everything was excused.
    """

    exercises: dict[str, float | None]
    total: float | None


def _on_scale(final: float, possible: float, basis: float, *, excused: bool) -> float | None:
    if excused or possible <= 0 < basis:
        return None
    if 0 < possible < basis:  # excused checks shrank the points possible: the same share of the column
        return final * basis / possible
    return final


def lms_scores(row: Row, course: Course, grade: FinalGrade) -> LmsScores:
    """What an LMS column out of fixed points gets from a final grade.

    An exercise's column is out of what it was worth before any excuse (its checks' points, or
    the course's where nothing was graded, and its rubric items' points). Excused: ``None``.
    Where excused checks shrank the points possible, ``final × worth / possible``: the student's
    share of the column is the derivation's ``final / possible``. The total column likewise, over every exercise graded.
    """
    graded = {e.exercise_id: e for e in row.result.exercises} if row.result is not None else {}
    known = {e.id: e for e in course.exercises}
    cells: dict[str, float | None] = {}
    worth_total = 0.0
    for exercise in grade.exercises:
        result, declared = graded.get(exercise.exercise_id), known.get(exercise.exercise_id)
        if declared is None:
            worth = exercise.possible
        else:
            worth = (result.max_score if result is not None else declared.points) + declared.possible - declared.points
        worth_total += worth
        if has_grade(row, exercise):
            cells[exercise.exercise_id] = _on_scale(exercise.final, exercise.possible, worth, excused=exercise.excused)
    everything = bool(grade.exercises) and all(e.excused for e in grade.exercises)
    return LmsScores(cells, _on_scale(grade.final, grade.possible, worth_total, excused=everything))


def _cell(score: float | None, excused: str) -> str:
    return excused if score is None else figure(score)


def _exercise_cells(scores: LmsScores, course: Course, excused: str) -> list[str]:
    return [_cell(scores.exercises[e.id], excused) if e.id in scores.exercises else "" for e in course.exercises]


def _total_heading(course: Course, column: str | None, lang: str) -> str:
    return column or course.title(lang) or "Total"


def _canvas_heading(title: str, exercise_id: str) -> str:
    """An exercise's column: its title, unless Canvas would read the title's end as an assignment id."""
    return f"{title} [{exercise_id}]" if re.search(r"\(\d+\)\s*$", title) else title


def write_canvas_csv(rows: list[Row], course: Course, path: Path, *, column: str | None = None,
                     grades: Grades | None = None, lang: str = "en") -> Path:
    """Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login ID, Section``, one column per
    exercise (its title; one that ends like ``(123)``, which Canvas reads as an assignment id, gets
    the exercise id after it), then the total column (``column``, e.g. ``Practicals (12345)``;
    default the course's title), and a first data row ``Points Possible`` (the course's points).

    ``ID`` is Canvas's own user id, known only from a Canvas export (blank otherwise, so that a
    student id is never taken for another person's Canvas id); the SIS columns stay blank, as no
    id the grader keeps is known to be a SIS id. Excused: ``EX``; an exercise with nothing to say
    is blank (Canvas leaves the grade as it is).
    """
    exercises = course.exercises
    with table(path) as writer:
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         *[_canvas_heading(e.title(lang), e.id) for e in exercises],
                         _total_heading(course, column, lang)])
        writer.writerow(["Points Possible", "", "", "", "", *[figure(e.possible) for e in exercises],
                         figure(sum(e.possible for e in exercises))])
        for row in rows:
            scores = lms_scores(row, course, grade_of(row, course, grades))
            writer.writerow([row.info.name or row.student_id, row.info.lms_user_id or "", "", "", "",
                             *_exercise_cells(scores, course, CANVAS_EXCUSED), _cell(scores.total, CANVAS_EXCUSED)])
    return path


def _feedback(grade: FinalGrade, course: Course, lang: str) -> str:
    """What a student may read beside the grade: the instructor's reasons and the late note (never a check's text)."""
    titles = {e.id: e.title(lang) for e in course.exercises}
    said = []
    for exercise in grade.exercises:
        reasons = "; ".join(dict.fromkeys(a.adjustment.reason for a in exercise.applied if a.adjustment.reason))
        if reasons:
            said.append(f"{titles.get(exercise.exercise_id, exercise.exercise_id)}: {reasons}")
    if grade.late:
        note = f"submitted {grade.late_seconds / 3600:.1f} h after the due date"
        said.append(note + (f"; {figure(grade.late_penalty)} points deducted" if grade.mode == "apply"
                            else "; no points deducted"))
    return " | ".join(said)


def write_moodle_csv(rows: list[Row], course: Course, path: Path, *, column: str | None = None,
                     grades: Grades | None = None, lang: str = "en") -> Path:
    """Moodle's grade import (Grades → Import → CSV file): ``ID number`` (the student id, to map to
    the user's *idnumber*), one column per exercise, the total column, and ``Feedback`` (map it to
    the total's feedback). Excused: ``-``, Moodle's "no grade", which its totals leave out; an
    exercise with nothing to say is blank.
    """
    exercises = course.exercises
    with table(path) as writer:
        writer.writerow(["ID number", *[e.title(lang) for e in exercises], _total_heading(course, column, lang),
                         "Feedback"])
        for row in rows:
            grade = grade_of(row, course, grades)
            scores = lms_scores(row, course, grade)
            writer.writerow([row.student_id, *_exercise_cells(scores, course, MOODLE_NO_GRADE),
                             _cell(scores.total, MOODLE_NO_GRADE), _feedback(grade, course, lang)])
    return path


def _blackboard_heading(title: str, points: float, column_id: str) -> str:
    """``Title [Total Pts: N Score] |ID``: the Grade Center matches a column by its id (none: a new column)."""
    return f"{title.replace('|', '/')} [Total Pts: {figure(points)} Score] |{column_id}"


def write_blackboard_csv(rows: list[Row], course: Course, path: Path, *, column: str | None = None,
                         grades: Grades | None = None, lang: str = "en",
                         column_ids: Mapping[str, str] | None = None) -> Path:
    """Blackboard's Grade Center upload: ``Username`` (the student id), one column per exercise and
    the total, each headed ``Title [Total Pts: N Score] |ID`` (``column_ids``: exercise id, or
    ``total``, → the Grade Center's column id; blank where unknown), every field quoted, UTF-8.
    Excused, and an exercise with nothing to say: an empty cell (the upload has no excused value).
    """
    ids = column_ids or {}
    exercises = course.exercises
    with table(path, quote_all=True) as writer:
        writer.writerow(["Username", *[_blackboard_heading(e.title(lang), e.possible, ids.get(e.id, ""))
                                       for e in exercises],
                         _blackboard_heading(_total_heading(course, column, lang), sum(e.possible for e in exercises),
                                             ids.get("total", ""))])
        for row in rows:
            scores = lms_scores(row, course, grade_of(row, course, grades))
            writer.writerow([row.student_id, *_exercise_cells(scores, course, ""), _cell(scores.total, "")])
    return path
