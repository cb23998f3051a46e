"""The late policy, rule by rule: grace, intervals rounded up, cap, floor, zero after N days,
extensions that replace one another, and times without a time zone refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.grades.late import cost, effective_due, parse_extensions, parse_times
from grader.course.late import LatePolicy, LatePolicyError, parse_policy
from grader.store.records import Extension

KST = timezone(timedelta(hours=9))
DUE = datetime(2026, 12, 14, 23, 59, tzinfo=KST)


def policy(**values) -> LatePolicy:
    return parse_policy({"due": DUE, **values}, {}, "course.toml [late]")


# (what, policy, submitted this long after the due date, score, possible) → (penalty, intervals)
RULES = [
    ("on time", dict(deduct_percent=10), timedelta(0), 10, 10, 0, 0),
    ("grace, 1 s inside", dict(deduct_percent=10, grace_minutes=10), timedelta(minutes=10), 10, 10, 0, 0),
    ("grace, 1 s past", dict(deduct_percent=10, grace_minutes=10), timedelta(minutes=10, seconds=1), 10, 10, 1, 1),
    ("1.3 days count as 2", dict(deduct_percent=10), timedelta(days=1.3), 10, 10, 2, 2),
    ("a minute is a whole day", dict(deduct_percent=10), timedelta(minutes=1), 10, 10, 1, 1),
    ("per hour, 25 h", dict(deduct_percent=2, per="hour"), timedelta(hours=25), 20, 20, 10, 25),
    ("of the points possible, not the score", dict(deduct_percent=10), timedelta(days=1), 4, 10, 1, 1),
    ("cap", dict(deduct_percent=10, cap_percent=30), timedelta(days=9), 10, 10, 3, 9),
    ("floor", dict(deduct_percent=10, floor_percent=60), timedelta(days=7), 10, 10, 4, 7),
    ("a floor never raises a low score", dict(deduct_percent=10, floor_percent=60), timedelta(days=7), 5, 10, 0, 7),
    ("never below zero", dict(deduct_percent=50), timedelta(days=3), 4, 10, 4, 3),
    ("zero after N days", dict(deduct_percent=10, zero_after_days=5), timedelta(days=5, seconds=1), 9, 10, 9, 6),
    ("zero after N days: at N, still deducted", dict(deduct_percent=10, zero_after_days=5), timedelta(days=5), 9, 10, 5, 5),
]


@pytest.mark.parametrize(("late", "score", "possible", "penalty", "intervals", "values"),
                         [(late, score, possible, penalty, intervals, values)
                          for _, values, late, score, possible, penalty, intervals in RULES],
                         ids=[rule[0] for rule in RULES])
def test_every_late_rule(late, score, possible, penalty, intervals, values) -> None:
    charged = cost(policy(**values), submitted=DUE + late, due=DUE, score=score, possible=possible)
    assert (round(charged.penalty, 9), charged.intervals) == (penalty, intervals)
    assert charged.late_seconds == (late.total_seconds() if intervals else 0)


def test_an_extension_replaces_an_earlier_one_and_never_adds_up() -> None:
    late = policy(deduct_percent=10)
    first = Extension("alice", "*", None, 24.0, "ill")
    second = Extension("alice", "02_dataset", None, 48.0, "ill again")
    assert effective_due(late, "02_dataset", [first, second]) == DUE + timedelta(hours=48)  # not 72
    assert effective_due(late, "03_transforms", [first, second]) == DUE + timedelta(hours=24)
    fixed = Extension("alice", "*", datetime(2026, 12, 20, tzinfo=timezone.utc), None, "moved")
    assert effective_due(late, "02_dataset", [second, fixed]) == datetime(2026, 12, 20, tzinfo=timezone.utc)
    assert effective_due(late, "02_dataset", []) == DUE


@pytest.mark.parametrize("parse", [
    lambda: parse_policy({"due": datetime(2026, 12, 14, 23, 59)}, {}, "course.toml [late]"),
    lambda: parse_policy({}, {"02_dataset": "2026-12-14T23:59:00"}, "course.toml [late]"),
    lambda: parse_times("student_id,submitted_at\nalice,2026-12-15 10:00\n", "times.csv"),
    lambda: parse_extensions("student_id,exercise_id,new_due,extra_hours,reason\nalice,*,2026-12-20T10:00,,x\n",
                             "ext.csv", students={"alice"}, exercises={"02_dataset"}),
], ids=["policy", "exercise-due", "submission-time", "extension"])
def test_a_time_without_a_time_zone_is_an_input_error(parse) -> None:
    with pytest.raises(LatePolicyError, match="has no time zone"):
        parse()


@pytest.mark.parametrize("where", ["late", "exercise"])
def test_a_course_due_without_a_time_zone_is_refused_naming_the_line(tmp_path, where: str) -> None:
    from grader.course.manifest import load_course
    from grader.errors import CourseError

    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_ex.py").write_text("")
    late = "due = 2026-12-14T23:59:00+09:00" if where == "exercise" else "due = 2026-12-14T23:59:00"
    own_due = '\ndue = 2026-12-16T23:59:00' if where == "exercise" else ""
    (tmp_path / "course.toml").write_text(
        '[course]\ntitle = { ko = "k", en = "e" }\n\n[late]\n# the due date of every exercise\n' + late + "\n\n"
        '[[exercises]]\nid = "ex"\nnotebook = "ex.ipynb"\npoints = 1\ntitle = { ko = "k", en = "e" }'
        + own_due + '\npublic_checks = "checks/test_ex.py"\n', encoding="utf-8")
    with pytest.raises(CourseError) as refused:
        load_course(tmp_path)
    line = 6 if where == "late" else 13
    said = str(refused.value)
    assert f"course.toml [late] line {line} due" in said and "has no time zone" in said, said


def test_bad_sheets_say_which_line() -> None:
    header = "student_id,exercise_id,new_due,extra_hours,reason\n"
    cases = {"alice,*,,24,ok\nmallory,*,,24,who\n": "line 3: no student 'mallory'",
             "alice,99_nope,,24,x\n": "line 2: no exercise '99_nope'",
             "alice,*,,,x\n": "line 2: give either new_due or extra_hours",
             "alice,*,,soon,x\n": "line 2: extra_hours 'soon' is not a number"}
    for body, words in cases.items():
        with pytest.raises(LatePolicyError, match=words):
            parse_extensions(header + body, "ext.csv", students={"alice"}, exercises={"02_dataset"})
    with pytest.raises(LatePolicyError, match="lacks submitted_at"):
        parse_times("student_id,when\nalice,2026-12-15T10:00Z\n", "times.csv")


def test_the_policy_names_what_is_wrong() -> None:
    for values, words in (({"per": "week"}, "per must be"), ({"mode": "maybe"}, "mode must be"),
                          ({"deduct_percent": 150}, "between 0 and 100"), ({"grace": 5}, "unknown key")):
        with pytest.raises(LatePolicyError, match=words):
            parse_policy({"due": DUE, **values}, {}, "course.toml [late]")
    assert parse_policy(None, {}, "x") is None


@given(late_s=st.floats(min_value=0, max_value=30 * 86400), score=st.floats(min_value=0, max_value=20),
       deduct=st.floats(min_value=0, max_value=100), floor=st.none() | st.floats(min_value=0, max_value=100),
       cap=st.none() | st.floats(min_value=0, max_value=100))
def test_a_penalty_is_never_negative_nor_more_than_the_score(late_s, score, deduct, floor, cap) -> None:
    values = {"deduct_percent": deduct, **({"floor_percent": floor} if floor is not None else {}),
              **({"cap_percent": cap} if cap is not None else {})}
    charged = cost(policy(**values), submitted=DUE + timedelta(seconds=late_s), due=DUE, score=score, possible=20)
    assert 0 <= charged.penalty <= score + 1e-9


# The README's worked examples (section "The late policy, decided"): each row is computed here and
# must appear in the README exactly, so that the table never says what the grader does not do.
WORKED = [
    ("10 %/day, 15 min grace", dict(deduct_percent=10, grace_minutes=15), timedelta(minutes=10), 20),
    ("10 %/day, 15 min grace", dict(deduct_percent=10, grace_minutes=15), timedelta(hours=24, minutes=10), 20),
    ("10 %/day, cap 50 %", dict(deduct_percent=10, cap_percent=50), timedelta(days=9), 20),
    ("10 %/day, floor 40 %", dict(deduct_percent=10, floor_percent=40), timedelta(days=8), 20),
    ("10 %/day, floor 40 %", dict(deduct_percent=10, floor_percent=40), timedelta(days=8), 5),
    ("10 %/day, floor 40 %, zero after 3 days", dict(deduct_percent=10, floor_percent=40, zero_after_days=3),
     timedelta(days=4), 20),
]


def _late_words(late: timedelta) -> str:
    hours, minutes = divmod(round(late.total_seconds() / 60), 60)
    if hours % 24 == 0 and not minutes:
        return f"{hours // 24} days late"
    return f"{hours} h {minutes} min late" if hours else f"{minutes} min late"


def test_the_readme_table_of_worked_examples_is_what_the_grader_does() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for words, values, late, score in WORKED:
        charged = cost(policy(**values), submitted=DUE + late, due=DUE, score=score, possible=20)
        row = (f"| {words} | {_late_words(late)} | {score:g} / 20 | "
               f"{charged.intervals} | {charged.penalty:g} | {score - charged.penalty:g} |")
        assert row in readme, row
    # An extension's extra hours count from the exercise's own due date, not the course's.
    own = parse_policy({"due": DUE}, {"02_dataset": DUE + timedelta(days=2)}, "course.toml [late]")
    extended = effective_due(own, "02_dataset", [Extension("kim", "02_dataset", None, 48.0, "ill")])
    assert extended == DUE + timedelta(days=4)
    assert "48 extra hours on an exercise due 2 days after the course's due date: 4 days after it" in readme


def test_exercises_handed_in_apart_are_each_late_from_their_own_receipt(tmp_path, course) -> None:
    """The service's hand-ins: each exercise's lateness counts from the receipt of the hand-in that
    brought it, and a time the instructor imported for the student wins over them all."""
    import dataclasses

    from grader.grades.book import class_grades
    from grader.i18n import T
    from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
    from grader.store.gradebook import Gradebook
    from grader.store.records import Row, SubmissionInfo

    due = datetime(2026, 12, 14, 23, 59, tzinfo=timezone(timedelta(hours=9)))
    policy = parse_policy({"due": due.isoformat(), "deduct_percent": 10, "per": "day", "mode": "apply"}, {}, "t")
    two = dataclasses.replace(course, exercises=course.exercises[1:3], late=policy)
    result = SubmissionResult("kim", [ExerciseResult(e.id, e.title, ExerciseStatus.GRADED,
                                                     [CheckResult(f"{e.id}::t", T.same("t"), CheckStatus.PASSED, 10, 10)])
                                      for e in two.exercises])
    on_time, late = (due - timedelta(hours=1)).isoformat(), (due + timedelta(hours=30)).isoformat()
    info = SubmissionInfo(layout="service", exercise_times={two.exercises[0].id: on_time, two.exercises[1].id: late})
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.record(Row.from_result(result, "h", info))
        grade = class_grades(book, two)["kim"]
        assert [e.late.intervals for e in grade.exercises] == [0, 2]
        assert grade.final == 10 + 8 and grade.submitted_at == datetime.fromisoformat(late)
        book.set_submission_times({"kim": due - timedelta(minutes=5)}, source="t")
        assert class_grades(book, two)["kim"].final == 20
