"""Final grades from an automatic result, adjustments in time order and the late policy."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from grader.store.records import Adjustment
from grader.grades.final import final_grade
from grader.course.late import parse_policy
from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

DUE = datetime(2026, 12, 14, 23, 59, tzinfo=timezone.utc)


def result() -> SubmissionResult:
    """02_dataset: 5 of 8 (a 3-point check passed, a 5-point one failed, a CUDA one not counted)."""
    checks = [CheckResult("02_dataset::test_a", T.same("a"), CheckStatus.PASSED, 3, 3),
              CheckResult("02_dataset::test_b", T.same("b"), CheckStatus.FAILED, 0, 5),
              CheckResult("02_dataset::test_c[cuda]", T.same("c"), CheckStatus.NOT_RUN, 0, 1, counts=False)]
    exercise = ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED, checks)
    return SubmissionResult("alice", [exercise])


def adjust(kind: str, value: float | None = None, check: str | None = None, at: int = 0, **kw) -> Adjustment:
    return Adjustment(student_id="alice", exercise_id="02_dataset", kind=kind, reason=f"{kind} {value}", author="t",
                      check_id=check, value=value, created_at=f"2026-12-16T10:00:{at:02d}+00:00", id=at + 1, **kw)


# (adjustments) → (exercise score after them, points possible)
CASES = [
    ("none", [], 3, 8),
    ("set the exercise", [adjust("set", 7)], 7, 8),
    ("add to the exercise", [adjust("add", 2)], 5, 8),
    ("set then add, in time order", [adjust("add", 1, at=2), adjust("set", 6, at=1)], 7, 8),
    ("add then set: the set wins", [adjust("add", 1, at=1), adjust("set", 6, at=2)], 6, 8),
    ("set a check", [adjust("set", 5, "02_dataset::test_b")], 8, 8),
    ("add to a check", [adjust("add", 2, "02_dataset::test_b")], 5, 8),
    ("excuse a check", [adjust("excuse", None, "02_dataset::test_b")], 3, 3),
    ("excuse a check twice: once", [adjust("excuse", None, "02_dataset::test_b", at=1),
                                    adjust("excuse", None, "02_dataset::test_b", at=2)], 3, 3),
    ("excuse the exercise", [adjust("excuse")], 0, 0),
    ("clamped to the points possible", [adjust("add", 100)], 8, 8),
    ("clamped at zero", [adjust("add", -100)], 0, 8),
    ("revoked", [adjust("set", 7, at=1), adjust("revoke", at=2, revokes=2)], 3, 8),
]


@pytest.mark.parametrize(("adjustments", "score", "possible"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_adjustments_in_time_order(course, adjustments, score, possible) -> None:
    grade = final_grade("alice", result(), course, adjustments)
    assert (grade.final, grade.possible, grade.auto_total) == (score, possible, 3)


def test_an_adjustment_on_other_files_is_stale_and_still_counts(course) -> None:
    made = adjust("set", 7, files_hash="before")
    fresh = final_grade("alice", result(), course, [made], files_hash="before")
    stale = final_grade("alice", result(), course, [made], files_hash="after")
    assert not fresh.stale and stale.stale and stale.final == fresh.final == 7


@pytest.mark.parametrize("mode", ["report", "apply"])
def test_the_late_penalty_comes_after_the_adjustments(course, mode: str) -> None:
    late = parse_policy({"due": DUE, "deduct_percent": 25, "mode": mode}, {}, "t")
    grade = final_grade("alice", result(), course, [adjust("set", 6)], policy=late,
                        submitted_at=DUE + timedelta(hours=25))  # two days: 50% of 8
    assert grade.late and grade.late_penalty == 4
    if mode == "apply":
        assert grade.final == 2 == grade.auto_total + grade.adjustments - grade.late_penalty
    else:
        assert grade.final == 6 == grade.auto_total + grade.adjustments


def test_without_a_result_every_exercise_counts_out_of_its_points_and_can_be_set(course) -> None:
    nothing = final_grade("bob", None, course, [])
    assert nothing.final == 0 and nothing.possible == sum(e.possible for e in course.exercises)
    rescued = final_grade("bob", None, course, [Adjustment(student_id="bob", exercise_id="02_dataset", kind="set",
                                                           reason="zip was broken; graded by hand", author="t",
                                                           value=12, created_at="2026-12-16T10:00:00+00:00", id=1)])
    assert rescued.final == 12
