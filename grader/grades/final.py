"""A student's final grade, derived from the gradebook alone: never stored, always recomputed.

Per exercise: the automatic score, then the instructor's adjustments in time order (revoked ones
left out), within 0 and the points possible; rubric items (:mod:`grader.course.rubric`) count as
checks worth their points that start at 0, and a score given to one is a ``set`` adjustment of
it, so it is kept, revoked and shown as every adjustment is; then the late penalty of the course's policy. In
``report`` mode the penalty is shown and not deducted; in ``apply`` mode it is. So
``final = auto_total + adjustments - late_penalty`` holds in ``apply`` mode, and
``final = auto_total + adjustments`` in ``report`` mode. Changing the policy, an extension or an
adjustment changes the next export or report; no notebook runs again.

An adjustment made against other submission files than those graded now still applies, and is
marked *stale*: the student resubmitted after the instructor decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from grader.course.late import LatePolicy
from grader.course.manifest import Course, Exercise
from grader.grades.late import LateCost, cost, effective_due
from grader.results import ExerciseResult, SubmissionResult
from grader.store.records import Adjustment, Extension

__all__ = ["ExerciseGrade", "FinalGrade", "RubricGrade", "effective_adjustments", "final_grade"]

_ON_TIME = LateCost(0.0, 0, 0.0)


@dataclass(frozen=True)
class Applied:
    """An adjustment as it counts in a grade."""

    adjustment: Adjustment
    stale: bool


@dataclass(frozen=True)
class RubricGrade:
    """A rubric item as it counts: what it was given (None: not scored yet), of what, and why."""

    check_id: str
    given: float | None
    worth: float  # 0 when excused
    comment: str = ""


@dataclass
class ExerciseGrade:
    exercise_id: str
    auto: float
    possible: float  # the points possible, after excused checks (0 when the exercise is excused)
    adjusted: float  # after the adjustments
    late: LateCost
    final: float
    excused: bool = False
    applied: list[Applied] = field(default_factory=list)
    due: datetime | None = None
    rubric_items: list[RubricGrade] = field(default_factory=list)

    @property
    def rubric(self) -> float:
        """What the rubric items were given (part of ``adjusted``)."""
        return sum(item.given or 0.0 for item in self.rubric_items)


@dataclass
class FinalGrade:
    student_id: str
    exercises: list[ExerciseGrade]
    submitted_at: datetime | None
    mode: str  # the late policy's mode, or "" without a policy

    @property
    def auto_total(self) -> float:
        return sum(e.auto for e in self.exercises)

    @property
    def rubric(self) -> float:
        return sum(e.rubric for e in self.exercises)

    @property
    def adjustments(self) -> float:
        """What the adjustments changed, the rubric items' scores apart."""
        return sum(e.adjusted - e.auto - e.rubric for e in self.exercises)

    @property
    def late_penalty(self) -> float:
        """What the policy deducts (applied in ``apply`` mode only)."""
        return sum(e.late.penalty for e in self.exercises)

    @property
    def late_seconds(self) -> float:
        return max((e.late.late_seconds for e in self.exercises), default=0.0)

    @property
    def final(self) -> float:
        return sum(e.final for e in self.exercises)

    @property
    def possible(self) -> float:
        return sum(e.possible for e in self.exercises)

    @property
    def applied(self) -> list[Applied]:
        return [a for e in self.exercises for a in e.applied]

    @property
    def stale(self) -> bool:
        return any(a.stale for a in self.applied)

    @property
    def late(self) -> bool:
        return self.late_seconds > 0


def effective_adjustments(adjustments: Iterable[Adjustment]) -> list[Adjustment]:
    """The adjustments that count, in time order: revokes and what they revoked left out."""
    every = list(adjustments)
    revoked = {a.revokes for a in every if a.kind == "revoke"}
    kept = [a for a in every if a.kind != "revoke" and a.id not in revoked]
    return sorted(kept, key=lambda a: (a.created_at, a.id or 0))


def _exercise(exercise: Exercise, result_exercise: ExerciseResult | None,
              adjustments: list[Adjustment], files_hash: str | None) -> ExerciseGrade:
    checks = {c.id: c for c in result_exercise.checks} if result_exercise is not None else {}
    current = {cid: (c.points if c.counts else 0.0) for cid, c in checks.items()}
    rubric = {exercise.rubric_check_id(item): item.points for item in exercise.rubric}
    current.update(dict.fromkeys(rubric, 0.0))
    said: dict[str, str] = {}  # a rubric item → the reason of its latest score
    auto = result_exercise.score if result_exercise is not None else 0.0
    possible = (result_exercise.max_score if result_exercise is not None else exercise.points) + sum(rubric.values())
    score, excused, applied = auto, False, []
    excused_checks: set[str] = set()
    for adjustment in adjustments:
        applied.append(Applied(adjustment, adjustment.stale_against(files_hash)))
        check = adjustment.check_id
        if check is None:
            if adjustment.kind == "set":
                score = float(adjustment.value or 0.0)
            elif adjustment.kind == "add":
                score += float(adjustment.value or 0.0)
            elif adjustment.kind == "excuse":
                excused = True
        elif check in current:
            if check in rubric:
                said[check] = adjustment.reason
            if adjustment.kind == "set":
                score += float(adjustment.value or 0.0) - current[check]
                current[check] = float(adjustment.value or 0.0)
            elif adjustment.kind == "add":
                score += float(adjustment.value or 0.0)
                current[check] += float(adjustment.value or 0.0)
            elif adjustment.kind == "excuse" and check not in excused_checks:  # a second excuse changes nothing
                excused_checks.add(check)
                score -= current[check]
                possible -= rubric[check] if check in rubric else checks[check].max_points if checks[check].counts \
                    else 0.0
                current[check] = 0.0
    if excused:
        score = possible = 0.0
    possible = max(possible, 0.0)
    score = min(max(score, 0.0), possible)
    items = [RubricGrade(c, None if c not in said else 0.0 if excused or c in excused_checks
                         else min(max(current[c], 0.0), worth), 0.0 if excused or c in excused_checks else worth,
                         said.get(c, "")) for c, worth in rubric.items()]
    return ExerciseGrade(exercise.id, auto, possible, score, _ON_TIME, score, excused, applied, rubric_items=items)


def final_grade(student_id: str, result: SubmissionResult | None, course: Course, adjustments: Iterable[Adjustment], *,
                files_hash: str | None = None, policy: LatePolicy | None = None,
                submitted_at: datetime | None = None, extensions: Iterable[Extension] = (),
                exercise_times: Mapping[str, datetime] | None = None) -> FinalGrade:
    """The final grade of one student (``result`` None when nothing could be graded).
    ``exercise_times``: when each exercise was handed in, where they came separately (the course
    service); an exercise not named there was handed in at ``submitted_at``."""
    mine = [a for a in effective_adjustments(adjustments) if a.student_id == student_id]
    theirs = [e for e in extensions if e.student_id == student_id]
    by_id = {e.exercise_id: e for e in result.exercises} if result is not None else {}
    # What was graded (a result may cover some exercises only), and what an instructor adjusted;
    # without any result, every exercise of the course, each out of its points.
    counted = set(by_id) | {a.exercise_id for a in mine} if result is not None else {e.id for e in course.exercises}
    grades = []
    for exercise in (e for e in course.exercises if e.id in counted):
        grade = _exercise(exercise, by_id.get(exercise.id),
                          [a for a in mine if a.exercise_id == exercise.id], files_hash)
        if policy is not None and not grade.excused:
            grade.due = effective_due(policy, exercise.id, theirs)
            submitted = (exercise_times or {}).get(exercise.id, submitted_at)
            grade.late = cost(policy, submitted=submitted, due=grade.due, score=grade.adjusted,
                              possible=grade.possible)
            if policy.applies:
                grade.final = grade.adjusted - grade.late.penalty
        grades.append(grade)
    if exercise_times:
        submitted_at = max(exercise_times.values())
    return FinalGrade(student_id, grades, submitted_at, policy.mode if policy else "")
