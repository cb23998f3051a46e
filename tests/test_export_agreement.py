"""Every export and report says what the one derivation of the final grade says (grader.grades.final),
for any small class: random check outcomes (partial ones, CUDA checks that could not run, exercises
missing), adjustments and revokes, a late policy, submission times and extensions in several time
zones. Each output is read back with a real parser (csv, json, junitparser, html.parser) and
compared with the grade: the six exports, the student report, the class report and PrairieLearn's
results."""

from __future__ import annotations

import csv
import dataclasses
import json
import tempfile
from html.parser import HTMLParser
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from junitparser import Failure, JUnitXml

from grader.course.late import parse_policy
from grader.course.manifest import Course
from grader.course.rubric import RubricItem
from grader.grades.book import class_grades
from grader.grades.final import ExerciseGrade, FinalGrade, final_grade
from grader.i18n import T
from grader.intake.extract import safe_name
from grader.platforms.prairielearn import prairielearn_results
from grader.publish.classreport import render_class_report
from grader.publish.exports import export
from grader.publish.report import render_student_report
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
from grader.store.gradebook import Gradebook
from grader.store.records import Adjustment, Extension, Row, Status, SubmissionInfo

DATA = Path(__file__).resolve().parent / "data"
GRADESCOPE = json.loads((DATA / "platforms" / "gradescope-results.schema.json").read_text(encoding="utf-8"))
SCHEMAS = [xmlschema.XMLSchema(DATA / "junit" / name) for name in ("JUnit.xsd", "junit-10.xsd")]
ZONES = [timezone.utc, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5, minutes=-30)),
         timezone(timedelta(hours=14))]
DUE = datetime(2026, 12, 14, 23, 59, tzinfo=timezone(timedelta(hours=9)))
IDS = ["2024001", "김민준", "o'brien, \"x\"", "s-4"]
MESSAGES = st.sampled_from([None, "MSG wrong, got 5", "MSG line\r\nbreak \"quoted\"", "MSG 틀림\x07"])
REASONS = st.sampled_from(["regrade", "medical note, signed", "데이터가 틀림", "typo \"fixed\"\nsecond line"])
CLOSE = 1e-4


def close(value: float) -> object:
    return pytest.approx(value, abs=CLOSE)


@st.composite
def checks(draw, exercise_id: str, missing: bool) -> list[CheckResult]:
    found = []
    for i in range(draw(st.integers(1, 3))):
        most = draw(st.sampled_from([1.0, 2.0, 2.5, 5.0]))
        kind = "not_run" if missing else draw(st.sampled_from(
            ["passed", "partial", "failed", "error", "timeout", "not_run", "public_only", "partly", "cuda"]))
        hidden, message = draw(st.booleans()), draw(MESSAGES)
        if kind == "cuda":  # could not run here, and the course does not score it
            found.append(CheckResult(f"{exercise_id}::test_{i}[cuda]", T.same(f"c{i}"), CheckStatus.NOT_RUN, 0.0, most,
                                     hidden=hidden, message=T.same("no CUDA"), device="cuda", counts=False))
            continue
        points = most if kind == "passed" else \
            round(most * draw(st.sampled_from([0.25, 0.5, 1 / 3])), 6) if kind in ("partial", "partly") else 0.0
        gated = kind in ("public_only", "partly")  # a public check its hidden twin caught, wholly or partly
        found.append(CheckResult(f"{exercise_id}::test_{i}", T.same(f"c{i}"),
                                 CheckStatus.PARTIAL if kind == "partly" else CheckStatus(kind), points, most,
                                 hidden=hidden and not gated, message=T.same(message) if message else None,
                                 gated=gated, own_message=T.same("MSG its own") if gated and hidden else None))
    return found


@st.composite
def rows(draw, course: Course) -> list[Row]:
    made = []
    for sid in draw(st.lists(st.sampled_from(IDS), min_size=2, max_size=4, unique=True)):
        info = SubmissionInfo(name=draw(st.sampled_from([None, "Kim, Min"])),
                              lms_user_id=draw(st.sampled_from([None, "1001"])))
        if draw(st.integers(0, 7)) == 0:  # nothing could be read
            made.append(Row(sid, f"h-{sid}", Status.UNREADABLE, 0, 0, error="the archive cannot be read", info=info))
            continue
        exercises = []
        for exercise in course.exercises:
            if draw(st.integers(0, 5)) == 0:  # not in the result at all
                continue
            missing = draw(st.integers(0, 5)) == 0
            exercises.append(ExerciseResult(exercise.id, exercise.title,
                                            ExerciseStatus.MISSING if missing else ExerciseStatus.GRADED,
                                            draw(checks(exercise.id, missing))))
        result = SubmissionResult(sid, exercises, hidden_checks=True)
        made.append(Row.from_result(result, f"h-{sid}", info, files_hash=f"f-{sid}"))
    return made


@dataclass
class Class:
    rows: list[Row]
    adjustments: list[Adjustment]
    revoked: set[int]  # indexes into adjustments
    policy: dict
    exercise_dues: dict
    times: dict[str, datetime]
    extensions: list[Extension]


@st.composite
def classes(draw, course: Course) -> Class:
    students = draw(rows(course))
    made = []
    for minute in range(draw(st.integers(0, 6))):
        row = draw(st.sampled_from(students))
        exercise = draw(st.sampled_from([e.id for e in course.exercises]))
        ids = [c.id for e in (row.result.exercises if row.result else []) if e.exercise_id == exercise
               for c in e.checks] + [course.exercise(exercise).rubric_check_id(i) for i in course.exercise(exercise).rubric]
        check = draw(st.one_of(st.none(), st.sampled_from(ids))) if ids else None
        kind = draw(st.sampled_from(["set", "add", "excuse"]))
        value = None if kind == "excuse" else draw(st.sampled_from(
            [0.0, 1.5, 7.0, 40.0] if kind == "set" else [-3.0, -0.5, 1.0, 2.5, 40.0]))
        made.append(Adjustment(student_id=row.student_id, exercise_id=exercise, kind=kind, reason=draw(REASONS),
                               author="t", check_id=check, value=value,
                               created_at=f"2026-12-16T10:{minute:02d}:00+00:00",
                               files_hash=draw(st.sampled_from([None, f"f-{row.student_id}", "older"]))))
    revoked = draw(st.sets(st.integers(0, len(made) - 1), max_size=2)) if made else set()
    policy: dict = {"due": DUE.astimezone(draw(st.sampled_from(ZONES))).isoformat(),
                    "grace_minutes": draw(st.sampled_from([0, 15])),
                    "deduct_percent": draw(st.sampled_from([0, 10, 25])),
                    "per": draw(st.sampled_from(["day", "hour"])),
                    "mode": draw(st.sampled_from(["report", "apply"]))}
    for key, values in (("cap_percent", [30, 50]), ("floor_percent", [40, 60]), ("zero_after_days", [2, 7])):
        if draw(st.booleans()):
            policy[key] = draw(st.sampled_from(values))
    exercise_dues = ({course.exercises[0].id: (DUE + timedelta(days=1)).isoformat()} if draw(st.booleans()) else {})
    times = {}
    for row in students:
        if draw(st.integers(0, 4)):
            late = timedelta(hours=draw(st.sampled_from([-30, 0.1, 5, 25, 49, 200])))
            times[row.student_id] = (DUE + late).astimezone(draw(st.sampled_from(ZONES)))
    extensions = []
    for row in draw(st.lists(st.sampled_from(students), max_size=2)):
        exercise = draw(st.sampled_from(["*", *[e.id for e in course.exercises]]))
        if draw(st.booleans()):
            extensions.append(Extension(row.student_id, exercise, None, draw(st.sampled_from([1.0, 30.0])), "ill"))
        else:
            moved = (DUE + timedelta(days=draw(st.sampled_from([1, 3])))).astimezone(draw(st.sampled_from(ZONES)))
            extensions.append(Extension(row.student_id, exercise, moved, None, "travel"))
    return Class(students, made, revoked, policy, exercise_dues, times, extensions)


def worth(row: Row, exercise: ExerciseGrade, course: Course) -> float:
    """What an exercise is worth before any excuse: its checks' points, or the course's, and its rubric items'."""
    graded = {e.exercise_id: e for e in row.result.exercises} if row.result else {}
    found, declared = graded.get(exercise.exercise_id), course.exercise(exercise.exercise_id)
    rubric = sum(item.points for item in declared.rubric)
    return (found.max_score if found is not None else declared.points) + rubric


def graded(row: Row, exercise: ExerciseGrade) -> bool:
    return row.result is not None or bool(exercise.applied)


def agrees(cell: str, final: float, possible: float, basis: float) -> bool:
    """An LMS cell out of ``basis`` points says ``final`` of ``possible``: the same share."""
    if possible >= basis - 1e-9:
        return float(cell) == close(final)
    return float(cell) * possible == pytest.approx(final * basis, abs=CLOSE * max(basis, 1.0))


def check_lms(path: Path, rows: list[Row], grades: dict[str, FinalGrade], course: Course, *, excused: str,
              first: int, points_row: bool) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    body = table[2:] if points_row else table[1:]
    assert len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        grade = grades[row.student_id]
        by_id = {e.exercise_id: e for e in grade.exercises}
        for index, exercise in enumerate(course.exercises):
            cell, found = line[first + index], by_id.get(exercise.id)
            if found is None or not graded(row, found):
                assert cell == "", (row.student_id, exercise.id, cell)
            elif found.excused or found.possible <= 0 < worth(row, found, course):
                assert cell == excused, (row.student_id, exercise.id, cell)
            else:
                assert cell != excused and agrees(cell, found.final, found.possible, worth(row, found, course))
        total = line[first + len(course.exercises)]
        basis = sum(worth(row, e, course) for e in grade.exercises)
        if grade.exercises and all(e.excused for e in grade.exercises) or grade.possible <= 0 < basis:
            assert total == excused
        else:
            assert agrees(total, grade.final, grade.possible, basis)
    return table


def flipped(result: SubmissionResult) -> SubmissionResult:
    """The same submission with every hidden check's outcome the other way round, and so its public
    twins': a public check passed becomes one its twin caught (public_only), and back."""
    copy = SubmissionResult.from_dict(result.to_dict())
    for exercise in copy.exercises:
        twins = any(c.hidden and c.counts for c in exercise.checks)
        for check in exercise.checks:
            if not check.counts:
                continue
            if check.hidden:
                passed = check.status is CheckStatus.PASSED
                check.status = CheckStatus.FAILED if passed else CheckStatus.PASSED
                check.points = 0.0 if passed else check.max_points
            elif twins and (check.gated or check.status is CheckStatus.PASSED):
                passed = not check.gated
                check.status = CheckStatus.PUBLIC_ONLY if passed else CheckStatus.PASSED
                check.points = 0.0 if passed else check.max_points
                check.message, check.own_message = ((T.same("MSG the twin's words"), check.message) if passed
                                                    else (check.own_message, None))
                check.gated = passed
    return copy


def visible(document: dict) -> tuple[str, list[dict]]:
    default = document.get("visibility", "visible")
    return document["output"], [t for t in document["tests"] if t.get("visibility", default) == "visible"]


def check_gradescope(folder: Path, rows: list[Row], grades: dict[str, FinalGrade], course: Course,
                     book: Gradebook) -> None:
    for row in rows:
        grade = grades[row.student_id]
        document = json.loads((folder / safe_name(row.student_id) / "results.json").read_text(encoding="utf-8"))
        jsonschema.validate(document, GRADESCOPE)
        scored = [t for t in document["tests"] if "score" in t]
        assert document["score"] == close(grade.final) == sum(t["score"] for t in scored)
        assert sum(t["max_score"] for t in scored) == close(grade.possible)
        assert all(t["max_score"] >= 0 for t in scored)  # no test takes points possible away
        for exercise in grade.exercises:
            mine = [t for t in scored if t["name"].startswith(f"{exercise.exercise_id}: ")]
            assert sum(t["score"] for t in mine) == close(exercise.adjusted)
            assert sum(t["max_score"] for t in mine) == close(exercise.possible)
            if exercise.excused:  # its checks are worth 0 of 0, and nothing makes up for them
                assert all(t["score"] == t["max_score"] == 0 for t in mine if "number" in t)
        for test in document["tests"]:
            if "score" not in test:  # informational: never a failure
                assert test["status"] == "passed" or "[cuda]" not in test["name"]
        if row.result is None:
            continue
        # Nothing a student sees before publication depends on a hidden check's outcome.
        other = dataclasses.replace(row, result=flipped(row.result))
        regrade = final_grade(row.student_id, other.result, course, book.adjustments(), files_hash=row.files_hash,
                              policy=course.late, submitted_at=grade.submitted_at, extensions=book.extensions())
        with tempfile.TemporaryDirectory() as scratch:
            export([other], course, "gradescope", Path(scratch), grades={row.student_id: regrade})
            again = json.loads((Path(scratch) / "gradescope" / safe_name(row.student_id) / "results.json")
                               .read_text(encoding="utf-8"))
        assert visible(again) == visible(document)


def check_junit(path: Path, rows: list[Row], grades: dict[str, FinalGrade]) -> None:
    for schema in SCHEMAS:
        schema.validate(str(path))
    suites = list(JUnitXml.fromfile(str(path)))
    assert [s.name for s in suites] == [r.student_id for r in rows]
    for suite, row in zip(suites, rows, strict=True):
        grade = grades[row.student_id]
        props = {p.name: p.value for p in suite.properties()}
        assert float(props["final"]) == close(grade.final) and float(props["max_score"]) == close(grade.possible)
        for exercise in grade.exercises:
            assert float(props[f"{exercise.exercise_id}.final"]) == close(exercise.final)
            assert float(props[f"{exercise.exercise_id}.possible"]) == close(exercise.possible)
            assert props[f"{exercise.exercise_id}.excused"] == ("yes" if exercise.excused else "no")
        cases = list(suite)
        assert suite.tests == len(cases)
        assert suite.failures == sum(isinstance(r, Failure) for c in cases for r in c.result)
        if row.result is None:
            continue
        excused = {e.exercise_id for e in grade.exercises if e.excused}
        uncounted = {c.id for e in row.result.exercises for c in e.checks if not c.counts and
                     c.status is CheckStatus.NOT_RUN}
        partial = {c.id for e in row.result.exercises for c in e.checks if c.status is CheckStatus.PARTIAL}
        for case in cases:
            assert case.name not in uncounted and case.classname.rsplit(".", 1)[1] not in excused
            if case.name in partial:
                (failure,) = case.result
                assert failure.type == "partial" and " points" in failure.message


class Cells(HTMLParser):
    """The text of each element with an ``id``, and of each cell of the table ``students``."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.rows: list[list[str]] = []
        self._open: list[tuple[str, str | None]] = []  # (tag, id)
        self._in_students = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        ident = dict(attrs).get("id")
        if tag == "table" and ident == "students":
            self._in_students = True
        if self._in_students and tag == "tr":
            self.rows.append([])
        if self._in_students and tag == "td":
            self.rows[-1].append("")
        self._open.append((tag, ident))
        if ident:
            self.by_id[ident] = ""

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break
        if tag == "table":
            self._in_students = False

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.by_id[ident] += data
        if self._in_students and self.rows and self.rows[-1] and any(t == "td" for t, _ in self._open):
            self.rows[-1][-1] += data


def shown(text: str) -> tuple[float, float]:
    """"… 12.5 / 20" → (12.5, 20)."""
    score, possible = text.rsplit(":", 1)[-1].replace("*", "").split("/")
    return float(score), float(possible)


def two_places(value: float) -> object:
    return pytest.approx(value, abs=0.006)  # reports show at most two decimals


def check_reports(rows: list[Row], grades: dict[str, FinalGrade], course: Course) -> None:
    """The student report leads with the final grade; the class report's score and exercise cells
    are the final grade's; PrairieLearn's score is its share."""
    for row in rows:
        if row.result is None:
            continue
        grade = grades[row.student_id]
        page = Cells()
        page.feed(render_student_report(row.result, "en", grade))
        assert shown(page.by_id["score"]) == (two_places(grade.final), two_places(grade.possible))
        document = prairielearn_results(row.result, grade)
        if document["gradable"]:
            assert document["score"] == close(grade.final / grade.possible if grade.possible else 0.0)
    table = Cells()
    table.feed(render_class_report(rows, course, grades=grades))
    lines = {cells[0].split()[0]: cells for cells in table.rows if cells}
    for row in rows:
        grade, cells = grades[row.student_id], lines[row.student_id.split()[0]]
        assert shown(cells[1]) == (two_places(grade.final), two_places(grade.possible))
        by_id = {e.exercise_id: e for e in grade.exercises}
        for index, exercise in enumerate(course.exercises):
            found, cell = by_id.get(exercise.id), cells[3 + index].strip()
            if found is not None and found.excused:
                assert cell == "EX"
            elif "/" in cell:
                assert found is not None and shown(cell) == (two_places(found.final), two_places(found.possible))


def check_csv(path: Path, rows: list[Row], grades: dict[str, FinalGrade], course: Course) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [line["student_id"] for line in table] == [r.student_id for r in rows]
    for line, row in zip(table, rows, strict=True):
        grade = grades[row.student_id]
        by_id = {e.exercise_id: e for e in grade.exercises}
        for exercise in course.exercises:
            found = by_id.get(exercise.id)
            if found is None or not graded(row, found):
                assert line[exercise.id] == ""
            elif found.excused:
                assert line[exercise.id] == "EX"
            else:
                assert float(line[exercise.id]) == close(found.final)
        assert float(line["total"]) == close(grade.final) == float(line["final"])
        assert float(line["max_score"]) == close(grade.possible)
        assert float(line["late_penalty"]) == close(grade.late_penalty)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_export_agrees_with_the_final_grade(course: Course, data: st.DataObject) -> None:
    # The first exercise has a rubric item: scored by "set" adjustments of it, or never.
    essay = RubricItem("essay", T.same("Essay"), 3.0, "essay")
    small = dataclasses.replace(course, exercises=(dataclasses.replace(course.exercises[0], rubric=(essay,)),
                                                   *course.exercises[1:3]))
    drawn = data.draw(classes(small))
    policy = parse_policy(drawn.policy, drawn.exercise_dues, "test")
    graded_course = dataclasses.replace(small, late=policy)
    with tempfile.TemporaryDirectory() as tmp, Gradebook(Path(tmp) / "gradebook.sqlite") as book:
        for row in drawn.rows:
            book.record(row)
        numbers = book.add_adjustments(drawn.adjustments)
        book.add_adjustments([Adjustment(student_id=drawn.adjustments[i].student_id,
                                         exercise_id=drawn.adjustments[i].exercise_id, kind="revoke",
                                         reason="entered by mistake", author="t",
                                         check_id=drawn.adjustments[i].check_id, revokes=numbers[i],
                                         created_at=f"2026-12-17T09:{i:02d}:00+00:00") for i in sorted(drawn.revoked)])
        book.add_extensions(drawn.extensions, source="test")
        book.set_submission_times(drawn.times, source="test")
        rows = book.rows()
        grades = class_grades(book, graded_course, rows)
        dest = Path(tmp) / "export"
        written = {fmt: export(rows, graded_course, fmt, dest, grades=grades)
                   for fmt in ("csv", "canvas", "moodle", "blackboard", "gradescope", "junit")}

        check_csv(written["csv"], rows, grades, graded_course)
        canvas = check_lms(written["canvas"], rows, grades, graded_course, excused="EX", first=5, points_row=True)
        points = [e.possible for e in small.exercises]
        assert canvas[1][5:] == [f"{p:g}" for p in points] + [f"{sum(points):g}"]
        assert all(line[2] == line[3] == "" for line in canvas[2:])  # no SIS id is ever guessed
        moodle = check_lms(written["moodle"], rows, grades, graded_course, excused="-", first=1, points_row=False)
        assert [line[0] for line in moodle[1:]] == [r.student_id for r in rows]
        assert not [line for line in moodle[1:] if "MSG" in line[-1]]  # feedback: reasons and lateness, no check text
        board = check_lms(written["blackboard"], rows, grades, graded_course, excused="", first=1, points_row=False)
        assert [line[0] for line in board[1:]] == [r.student_id for r in rows]
        check_gradescope(written["gradescope"], rows, grades, graded_course, book)
        check_junit(written["junit"], rows, grades)
        check_reports(rows, grades, graded_course)
