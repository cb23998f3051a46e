"""Final-grade operations on a gradebook file: record and revoke adjustments, import sheets,
extensions and submission times, and read every student's final grade.

Each write holds the gradebook's writer lock (a ``grader bulk`` run holds it too: a command
started meanwhile is refused and writes nothing) and lands in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from grader.course.late import LatePolicyError
from grader.course.manifest import Course
from grader.errors import GraderError
from grader.grades.adjustments import AdjustmentError, check_request, now, parse_sheet
from grader.grades.final import FinalGrade, effective_adjustments, final_grade
from grader.grades.late import parse_extensions, parse_times
from grader.store.gradebook import Gradebook, writer_lock
from grader.store.records import Adjustment, Extension, Row

__all__ = ["checked_adjustment", "class_grades", "import_extensions", "import_sheet", "import_times", "override",
           "record_adjustment", "revoke"]


@contextmanager
def _writing(path: Path) -> Iterator[Gradebook]:
    if not Path(path).is_file():
        raise GraderError(f"{path}: no gradebook here (run 'grader bulk' first)")
    with writer_lock(Path(path)), Gradebook(path) as book:
        yield book


def _read(path: Path, where: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GraderError(f"{path}: cannot read the {where}: {exc}") from None


def _stamped(adjustment: Adjustment, rows: dict[str, Row]) -> Adjustment:
    return dataclasses.replace(adjustment, created_at=now(), files_hash=rows[adjustment.student_id].files_hash)


def override(path: Path, course: Course, adjustment: Adjustment) -> Adjustment:
    """Record one adjustment (``set``, ``add`` or ``excuse``), checked; it comes back with its id."""
    with _writing(path) as book:
        return record_adjustment(book, course, adjustment)


def checked_adjustment(book: Gradebook, course: Course, adjustment: Adjustment) -> Adjustment:
    """``adjustment`` checked against the course and the gradebook, stamped with now and the
    student's current files; not recorded."""
    rows = {row.student_id: row for row in book.rows()}
    return _stamped(check_request(adjustment, course=course, results={s: r.result for s, r in rows.items()}), rows)


def record_adjustment(book: Gradebook, course: Course, adjustment: Adjustment) -> Adjustment:
    """Check and record one adjustment in an open gradebook (the caller is its writer); with its id."""
    checked = checked_adjustment(book, course, adjustment)
    (number,) = book.add_adjustments([checked])
    return dataclasses.replace(checked, id=number)


def revoke(path: Path, number: int, *, reason: str, author: str) -> Adjustment:
    """Withdraw adjustment ``number``: a new row that says so; the history keeps both."""
    with _writing(path) as book:
        every = {a.id: a for a in book.adjustments()}
        target = every.get(number)
        if target is None:
            raise AdjustmentError(f"{path}: no adjustment #{number}")
        if target.kind == "revoke":
            raise AdjustmentError(f"{path}: #{number} is itself a revoke; record the adjustment again instead")
        if any(a.kind == "revoke" and a.revokes == number for a in every.values()):
            raise AdjustmentError(f"{path}: #{number} is already revoked")
        if not reason.strip():
            raise AdjustmentError("a reason is required")
        rows = {row.student_id: row for row in book.rows()}
        withdrawal = Adjustment(student_id=target.student_id, exercise_id=target.exercise_id, kind="revoke",
                                reason=reason, author=author, check_id=target.check_id, revokes=number,
                                created_at=now(), files_hash=rows[target.student_id].files_hash
                                if target.student_id in rows else None)
        (new,) = book.add_adjustments([withdrawal])
    return dataclasses.replace(withdrawal, id=new)


def import_sheet(path: Path, course: Course, sheet: Path, *, author: str) -> list[Adjustment]:
    """Every adjustment a sheet asks for, all recorded in one transaction or none at all."""
    text = _read(sheet, "adjustment sheet")
    with _writing(path) as book:
        rows = {row.student_id: row for row in book.rows()}
        asked = parse_sheet(text, str(sheet), author=author, course=course,
                            results={s: r.result for s, r in rows.items()})
        stamped = [_stamped(a, rows) for a in asked]
        numbers = book.add_adjustments(stamped)
    return [dataclasses.replace(a, id=n) for a, n in zip(stamped, numbers, strict=True)]


def import_extensions(path: Path, course: Course, sheet: Path) -> int:
    """The extensions sheet, as a new batch that replaces the last; how many rows it holds."""
    text = _read(sheet, "extensions sheet")
    with _writing(path) as book:
        try:
            found = parse_extensions(text, str(sheet), students={r.student_id for r in book.rows()},
                                     exercises={e.id for e in course.exercises})
        except LatePolicyError as exc:
            raise GraderError(str(exc)) from None
        book.add_extensions(found, source=str(sheet))
    return len(found)


def read_times(sheet: Path) -> dict[str, datetime]:
    """Submission times from a CSV (``student_id, submitted_at``), checked, before any grading."""
    try:
        return parse_times(_read(sheet, "submission times"), str(sheet))
    except LatePolicyError as exc:
        raise GraderError(str(exc)) from None


def import_times(path: Path, sheet: Path) -> int:
    """Submission times from a CSV into the gradebook; how many."""
    times = read_times(sheet)
    with _writing(path) as book:
        book.set_submission_times(times, source=str(sheet))
    return len(times)


def submitted_at(row: Row, recorded: dict[str, datetime]) -> datetime | None:
    """When a student submitted: the times given to the grader win over the layout's own."""
    if row.student_id in recorded:
        return recorded[row.student_id]
    layout = row.info.submitted_at
    return datetime.fromisoformat(layout) if layout else None


def exercise_times(row: Row, recorded: dict[str, datetime]) -> dict[str, datetime] | None:
    """When each exercise was handed in, where they came separately (the service); a time given to
    the grader for the student wins over them all."""
    if row.student_id in recorded or not row.info.exercise_times:
        return None
    return {exercise: datetime.fromisoformat(at) for exercise, at in row.info.exercise_times.items()}


def class_grades(book: Gradebook, course: Course, rows: list[Row] | None = None) -> dict[str, FinalGrade]:
    """Every student's final grade, from this gradebook and the course's late policy (``rows``:
    the gradebook's rows where the caller has them already)."""
    times = book.submission_times()
    # Grouped once: each student's final grade then reads only their own.
    adjustments: dict[str, list[Adjustment]] = defaultdict(list)
    for adjustment in effective_adjustments(book.adjustments()):
        adjustments[adjustment.student_id].append(adjustment)
    extensions: dict[str, list[Extension]] = defaultdict(list)
    for extension in book.extensions():
        extensions[extension.student_id].append(extension)
    return {row.student_id: final_grade(row.student_id, row.result, course, adjustments[row.student_id],
                                        files_hash=row.files_hash, policy=course.late,
                                        submitted_at=submitted_at(row, times), extensions=extensions[row.student_id],
                                        exercise_times=exercise_times(row, times))
            for row in (book.rows() if rows is None else rows)}
