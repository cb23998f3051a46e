"""Instructor adjustments: what one is, and how a request or a sheet of them is checked.

An adjustment targets a student's exercise, or one check of it: ``set`` its points, ``add`` to
them, ``excuse`` it (out of the score and of the points possible), or ``revoke`` an earlier
adjustment. Every one carries a reason, its author, its UTC time and the hash of the submission
files it was made against; the gradebook keeps them in an append-only table, and the final
score is derived from them (:mod:`.final`), never stored over the automatic one.

A sheet (CSV) has the columns ``student_id, exercise_id, check_id, set, add, excuse, reason``:
a blank cell means no change (a row without ``set``, ``add`` or ``excuse`` is skipped), and
``excuse`` is ``yes``. One bad row refuses the whole sheet, naming its line.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import replace

from grader.clock import utc_stamp
from grader.course.manifest import Course
from grader.errors import GraderError
from grader.results import SubmissionResult
from grader.store.records import Adjustment

__all__ = ["Adjustment", "AdjustmentError", "KINDS", "check_request", "now", "parse_sheet", "resolve_check"]

KINDS = ("set", "add", "excuse", "revoke")
_YES = {"yes", "y", "true", "1", "x"}


class AdjustmentError(GraderError):
    """An adjustment that cannot be recorded: no such student, exercise or check, no reason..."""


def now() -> str:
    return utc_stamp()


def resolve_check(check_id: str | None, exercise_id: str) -> str | None:
    """A check id as results name it (``exercise::test_name``), from either form."""
    if not check_id:
        return None
    return check_id if "::" in check_id else f"{exercise_id}::{check_id}"


def check_request(adjustment: Adjustment, *, course: Course, results: Mapping[str, SubmissionResult | None],
                  where: str = "") -> Adjustment:
    """The adjustment, checked against the course and the gradebook's students; its check id resolved."""
    at = f"{where}: " if where else ""
    if adjustment.kind not in KINDS:
        raise AdjustmentError(f"{at}unknown kind {adjustment.kind!r} (one of {', '.join(KINDS)})")
    if not adjustment.reason.strip():
        raise AdjustmentError(f"{at}a reason is required")
    if adjustment.student_id not in results:
        raise AdjustmentError(f"{at}no student {adjustment.student_id!r} in the gradebook")
    if adjustment.exercise_id not in {e.id for e in course.exercises}:
        raise AdjustmentError(f"{at}no exercise {adjustment.exercise_id!r} in the course "
                              f"(known: {', '.join(e.id for e in course.exercises)})")
    if adjustment.kind in ("set", "add"):
        if adjustment.value is None or not math.isfinite(adjustment.value):
            raise AdjustmentError(f"{at}{adjustment.kind} needs a number of points")
        if adjustment.kind == "set" and adjustment.value < 0:
            raise AdjustmentError(f"{at}set needs a number of points of at least 0")
    check = resolve_check(adjustment.check_id, adjustment.exercise_id)
    item = course.exercise(adjustment.exercise_id).rubric_item(check) if check is not None else None
    if item is not None:  # a rubric item's score: within its points, whatever was graded
        if adjustment.kind == "set" and (adjustment.value or 0.0) > item.points:
            raise AdjustmentError(f"{at}{check} is worth {item.points:g} points at most, not {adjustment.value:g}")
    elif check is not None:
        result = results[adjustment.student_id]
        known = {c.id for e in (result.exercises if result else []) if e.exercise_id == adjustment.exercise_id
                 for c in e.checks}
        if check not in known:
            raise AdjustmentError(f"{at}no check {check!r} in {adjustment.student_id}'s result for "
                                  f"{adjustment.exercise_id} (adjust the exercise instead)")
    return replace(adjustment, check_id=check)


def _points(text: str, column: str, at: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AdjustmentError(f"{at}: {column} {text!r} is not a number") from None
    return value


def parse_sheet(text: str, where: str, *, author: str, course: Course,
                results: Mapping[str, SubmissionResult | None]) -> list[Adjustment]:
    """The adjustments a sheet asks for, each checked; the first bad row refuses the sheet."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    wanted = ("student_id", "exercise_id", "check_id", "set", "add", "excuse", "reason")
    missing = [c for c in wanted if c not in (reader.fieldnames or [])]
    if missing:
        has = ", ".join(reader.fieldnames or [])
        raise AdjustmentError(f"{where}: the header lacks {', '.join(missing)} (has {has})")
    found = []
    for row in reader:
        cells = {key: (row.get(key) or "").strip() for key in wanted}
        at = f"{where} line {reader.line_num}"
        asked = [kind for kind in ("set", "add", "excuse") if cells[kind]]
        if not asked:
            continue  # a blank cell means no change
        if len(asked) > 1:
            raise AdjustmentError(f"{at}: one of set, add or excuse per row, not {' and '.join(asked)}")
        kind = asked[0]
        if kind == "excuse" and cells["excuse"].lower() not in _YES:
            raise AdjustmentError(f"{at}: excuse is 'yes' or blank, not {cells['excuse']!r}")
        value = _points(cells[kind], kind, at) if kind != "excuse" else None
        found.append(check_request(Adjustment(
            student_id=cells["student_id"], exercise_id=cells["exercise_id"], kind=kind, reason=cells["reason"],
            author=author, check_id=cells["check_id"] or None, value=value), course=course, results=results, where=at))
    return found
