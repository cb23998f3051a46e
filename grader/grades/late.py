"""What lateness costs: extensions, effective due dates, and the deduction for one exercise.

The policy itself is the course's (:mod:`grader.course.late`). As Canvas does, the deduction is
a percentage of the points possible and a partial interval counts as a whole one (1.3 days late
is two days); lateness is counted from the due date, once it exceeds the grace. A floor never
raises a score that was already below it.

Extensions (a CSV: ``student_id, exercise_id, new_due, extra_hours, reason``; ``exercise_id``
``*`` for every exercise; one of ``new_due`` or ``extra_hours``) move a student's due date. The
last row that applies to a student and an exercise wins; rows never add up. Every time must carry
its time zone: a time without one is an input error, never a guess.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from grader.course.late import INTERVALS, LatePolicy, LatePolicyError, aware
from grader.store.records import Extension

__all__ = ["LateCost", "cost", "effective_due", "parse_extensions", "parse_times"]

def _rows(text: str, where: str, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = sorted(set(required) - set(reader.fieldnames or []))
    if missing:
        has = ", ".join(reader.fieldnames or [])
        raise LatePolicyError(f"{where}: the header lacks {', '.join(missing)} (has {has})")
    # The reader's own line count: a quoted field may span lines, and then the next row's line is not its index.
    return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]


def parse_extensions(text: str, where: str, *, students: set[str], exercises: set[str]) -> list[Extension]:
    """Extensions from CSV text, in order; any bad row refuses the whole sheet, naming its line."""
    found = []
    for line, row in _rows(text, where, ("student_id", "exercise_id", "new_due", "extra_hours", "reason")):
        at = f"{where} line {line}"
        student, exercise = row["student_id"], row["exercise_id"] or "*"
        if student not in students:
            raise LatePolicyError(f"{at}: no student {student!r} in the gradebook")
        if exercise != "*" and exercise not in exercises:
            raise LatePolicyError(f"{at}: no exercise {exercise!r} in the course")
        if bool(row["new_due"]) == bool(row["extra_hours"]):
            raise LatePolicyError(f"{at}: give either new_due or extra_hours")
        hours = None
        if row["extra_hours"]:
            try:
                hours = float(row["extra_hours"])
            except ValueError:
                raise LatePolicyError(f"{at}: extra_hours {row['extra_hours']!r} is not a number") from None
            if not math.isfinite(hours) or hours < 0:
                raise LatePolicyError(f"{at}: extra_hours must be a positive number")
        new_due = aware(row["new_due"], f"{at} new_due") if row["new_due"] else None
        found.append(Extension(student, exercise, new_due, hours, row["reason"]))
    return found


def parse_times(text: str, where: str) -> dict[str, datetime]:
    """Submission times from CSV text (``student_id, submitted_at``): the LMS's, never a student's."""
    times: dict[str, datetime] = {}
    for line, row in _rows(text, where, ("student_id", "submitted_at")):
        if not row["student_id"]:
            raise LatePolicyError(f"{where} line {line}: no student_id")
        times[row["student_id"]] = aware(row["submitted_at"], f"{where} line {line} submitted_at")
    return times


def effective_due(policy: LatePolicy, exercise_id: str, extensions: Iterable[Extension]) -> datetime | None:
    """The due date that holds for one student's exercise: the last extension covering it wins."""
    due = policy.due_for(exercise_id)
    chosen = None
    for extension in extensions:
        if extension.covers(exercise_id):
            chosen = extension
    if chosen is None:
        return due
    if chosen.new_due is not None:
        return chosen.new_due
    if due is None:
        return None
    return due + timedelta(hours=chosen.extra_hours or 0.0)


@dataclass(frozen=True)
class LateCost:
    """What lateness does to one exercise's score."""

    late_seconds: float  # after the due date (0 when on time, the grace included)
    intervals: int  # late intervals charged (partial ones count whole)
    penalty: float  # points deducted, after the cap, the floor and "zero after"


def cost(policy: LatePolicy, *, submitted: datetime | None, due: datetime | None, score: float,
         possible: float) -> LateCost:
    """What being late costs an exercise scoring ``score`` of ``possible`` points."""
    if submitted is None or due is None:
        return LateCost(0.0, 0, 0.0)
    late = (submitted - due).total_seconds()
    if late <= policy.grace.total_seconds():
        return LateCost(0.0, 0, 0.0)
    if policy.zero_after is not None and late > policy.zero_after.total_seconds():
        return LateCost(late, math.ceil(late / INTERVALS[policy.per]), max(score, 0.0))
    intervals = math.ceil(late / INTERVALS[policy.per])
    percent = intervals * policy.deduct_percent
    if policy.cap_percent is not None:
        percent = min(percent, policy.cap_percent)
    after = score - possible * min(percent, 100.0) / 100
    if policy.floor_percent is not None:
        after = max(after, min(score, possible * policy.floor_percent / 100))
    return LateCost(late, intervals, max(0.0, score - max(after, 0.0)))
