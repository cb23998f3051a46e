"""The late policy: due dates, grace, deductions, extensions, and what they cost one exercise.

The policy is the course's (``course.toml``, ``[late]``)::

    [late]
    due = 2026-12-14T23:59:00+09:00   # for every exercise; an exercise may set its own "due"
    grace_minutes = 15                # up to this late counts as on time
    deduct_percent = 10               # of the points possible, per interval late
    per = "day"                       # "hour" or "day"; a part of an interval counts whole
    cap_percent = 50                  # at most this much is ever deducted (optional)
    floor_percent = 40                # lateness never takes a score below this (optional)
    zero_after_days = 7               # later than this earns nothing (optional)
    mode = "report"                   # "report": shown, not applied; "apply": in the final score

As Canvas does, the deduction is a percentage of the points possible and a partial interval
counts as a whole one (1.3 days late is two days); lateness is counted from the due date,
once it exceeds the grace. A floor never raises a score that was already below it. Every time
must carry its time zone: a time without one is an input error, never a guess.

Extensions (a CSV: ``student_id, exercise_id, new_due, extra_hours, reason``; ``exercise_id``
``*`` for every exercise; one of ``new_due`` or ``extra_hours``) move a student's due date. The
last row that applies to a student and an exercise wins; rows never add up.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

__all__ = ["Extension", "LateCost", "LatePolicy", "LatePolicyError", "aware", "cost", "effective_due",
           "parse_extensions", "parse_policy", "parse_times"]

_INTERVALS = {"hour": 3600.0, "day": 86400.0}
MODES = ("report", "apply")


class LatePolicyError(ValueError):
    """A late policy, an extension or a submission time that cannot be used; says where."""


def aware(value: Any, where: str) -> datetime:
    """A time with its time zone, from a TOML/YAML datetime or ISO-8601 text; refuses a naive one."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise LatePolicyError(f"{where}: {value!r} is not a time (ISO 8601, e.g. 2026-12-14T23:59:00+09:00)") from None
    if not isinstance(value, datetime):
        raise LatePolicyError(f"{where}: {value!r} is not a time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise LatePolicyError(f"{where}: {value.isoformat()} has no time zone (add one, e.g. +09:00 or Z)")
    return value


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None = None
    due_by_exercise: Mapping[str, datetime] = field(default_factory=dict)
    grace: timedelta = timedelta(0)
    deduct_percent: float = 0.0
    per: str = "day"
    cap_percent: float | None = None
    floor_percent: float | None = None
    zero_after: timedelta | None = None
    mode: str = "report"

    @property
    def applies(self) -> bool:
        return self.mode == "apply"

    def due_for(self, exercise_id: str) -> datetime | None:
        return self.due_by_exercise.get(exercise_id, self.due)


def _number(section: Mapping[str, Any], key: str, where: str, *, low: float = 0.0,
            high: float | None = None) -> float | None:
    if key not in section:
        return None
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise LatePolicyError(f"{where}: {key} must be a number {bound}, not {value!r}")
    return float(value)


def parse_policy(section: Mapping[str, Any] | None, exercise_dues: Mapping[str, Any], where: str) -> LatePolicy | None:
    """The ``[late]`` table and the exercises' own ``due`` entries, checked; None without either."""
    if not section and not exercise_dues:
        return None
    section = dict(section or {})
    known = {"due", "grace_minutes", "deduct_percent", "per", "cap_percent", "floor_percent", "zero_after_days", "mode"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise LatePolicyError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    per = section.get("per", "day")
    if per not in _INTERVALS:
        raise LatePolicyError(f"{where}: per must be \"hour\" or \"day\", not {per!r}")
    mode = section.get("mode", "report")
    if mode not in MODES:
        raise LatePolicyError(f"{where}: mode must be \"report\" or \"apply\", not {mode!r}")
    zero_after = _number(section, "zero_after_days", where)
    return LatePolicy(
        due=aware(section["due"], f"{where} due") if "due" in section else None,
        due_by_exercise={ex: aware(due, f"{where} due of {ex}") for ex, due in exercise_dues.items()},
        grace=timedelta(minutes=_number(section, "grace_minutes", where) or 0.0),
        deduct_percent=_number(section, "deduct_percent", where, high=100) or 0.0,
        per=per,
        cap_percent=_number(section, "cap_percent", where, high=100),
        floor_percent=_number(section, "floor_percent", where, high=100),
        zero_after=timedelta(days=zero_after) if zero_after is not None else None,
        mode=mode,
    )


@dataclass(frozen=True)
class Extension:
    student_id: str
    exercise_id: str  # "*" for every exercise
    new_due: datetime | None
    extra_hours: float | None
    reason: str

    def covers(self, exercise_id: str) -> bool:
        return self.exercise_id in ("*", exercise_id)


def _rows(text: str, where: str, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = sorted(set(required) - set(reader.fieldnames or []))
    if missing:
        raise LatePolicyError(f"{where}: the header lacks {', '.join(missing)} (has {', '.join(reader.fieldnames or [])})")
    return [(line, {k: (v or "").strip() for k, v in row.items() if k}) for line, row in enumerate(reader, start=2)]


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
    if chosen is None or due is None and chosen.new_due is None:
        return due
    if chosen.new_due is not None:
        return chosen.new_due
    return due + timedelta(hours=chosen.extra_hours or 0.0)


@dataclass(frozen=True)
class LateCost:
    """What lateness does to one exercise's score."""

    late_seconds: float  # after the due date (0 when on time, the grace included)
    intervals: int  # late intervals charged (partial ones count whole)
    penalty: float  # points deducted, after the cap, the floor and "zero after"
    zeroed: bool


def cost(policy: LatePolicy, *, submitted: datetime | None, due: datetime | None, score: float,
         possible: float) -> LateCost:
    """What being late costs an exercise scoring ``score`` of ``possible`` points."""
    if submitted is None or due is None:
        return LateCost(0.0, 0, 0.0, False)
    late = (submitted - due).total_seconds()
    if late <= policy.grace.total_seconds():
        return LateCost(0.0, 0, 0.0, False)
    if policy.zero_after is not None and late > policy.zero_after.total_seconds():
        return LateCost(late, math.ceil(late / _INTERVALS[policy.per]), max(score, 0.0), True)
    intervals = math.ceil(late / _INTERVALS[policy.per])
    percent = intervals * policy.deduct_percent
    if policy.cap_percent is not None:
        percent = min(percent, policy.cap_percent)
    after = score - possible * min(percent, 100.0) / 100
    if policy.floor_percent is not None:
        after = max(after, min(score, possible * policy.floor_percent / 100))
    return LateCost(late, intervals, max(0.0, score - max(after, 0.0)), False)
