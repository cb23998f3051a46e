"""Exports read back with real parsers and checked against each format's published facts: CSV
through csv, the LMS imports (Canvas, Moodle, Blackboard), Gradescope results.json against its
schema, JUnit XML against the Ant and Jenkins schemas and through junitparser; the CLI."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from click.testing import CliRunner
from junitparser import Error, Failure, JUnitXml

from grader.cli import ExitCode, cli
from grader.cli.publish import FORMATS as CLI_FORMATS
from grader.course.late import parse_policy
from grader.grades.final import final_grade
from grader.i18n import T
from grader.publish.exports import (FORMATS, gradescope_results, visible_summary, write_blackboard_csv,
                                    write_canvas_csv, write_csv, write_gradescope, write_junit, write_moodle_csv)
from grader.checking.twins import gate
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
from grader.store.gradebook import Gradebook
from grader.store.records import Adjustment, Row, Status, SubmissionInfo

DATA = Path(__file__).resolve().parent / "data"
GRADESCOPE = json.loads((DATA / "platforms" / "gradescope-results.schema.json").read_text(encoding="utf-8"))
ANT_JUNIT = xmlschema.XMLSchema(DATA / "junit" / "JUnit.xsd")
JENKINS_JUNIT = xmlschema.XMLSchema(DATA / "junit" / "junit-10.xsd")


def rows() -> list[Row]:
    checks = [
        CheckResult("test_p.py::test_a", T("가", "A"), CheckStatus.PASSED, 3, 3),
        CheckResult("test_p.py::test_b", T("나", "B"), CheckStatus.FAILED, 0, 2, message=T("틀림", "wrong, got 5"),
                    hint=T("힌트", "look at drop_last")),
        CheckResult("test_h.py::test_c", T("다", "C"), CheckStatus.ERROR, 0, 5, hidden=True,
                    message=T("오류", "raised")),
        CheckResult("test_p.py::test_d[cuda]", T("라", "D"), CheckStatus.NOT_RUN, 0, 1, device="cuda", counts=False,
                    message=T.same("no CUDA")),
    ]
    graded = SubmissionResult("김민준,\"quoted\"", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED,
                                                                checks)], hidden_checks=True)
    return [Row.from_result(graded, "h1", SubmissionInfo(late=True, name="kimminjun", lms_user_id="1001")),
            Row("broken", "h2", Status.UNREADABLE, 0, 20, error="broken.zip: the archive cannot be read")]


def table(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# --- The case: an excused exercise leaves the points possible in every export. -------------------

def two_exercises(course):
    return dataclasses.replace(course, exercises=tuple(e for e in course.exercises
                                                       if e.id in ("01_tensors", "02_dataset")))


def excused_row(*, hidden_passes: bool = True) -> Row:
    """01_tensors (15 points) excused after scoring 10; 02_dataset 20 of 20, 5 of them from a hidden check."""
    tensors = [CheckResult("01_tensors::test_a", T.same("a"), CheckStatus.PASSED, 10, 10),
               CheckResult("01_tensors::test_b", T.same("b"), CheckStatus.FAILED, 0, 5, hidden=True)]
    dataset = [CheckResult("02_dataset::test_c", T.same("c"), CheckStatus.PASSED, 15, 15),
               CheckResult("02_dataset::test_d", T.same("d"),
                           CheckStatus.PASSED if hidden_passes else CheckStatus.FAILED, 5 if hidden_passes else 0, 5,
                           hidden=True,
                           message=None if hidden_passes else T.same("SECRET hidden expected value 4711"))]
    result = SubmissionResult("s1", [ExerciseResult("01_tensors", T.same("t"), ExerciseStatus.GRADED, tensors),
                                     ExerciseResult("02_dataset", T.same("d"), ExerciseStatus.GRADED, dataset)],
                              hidden_checks=True)
    return Row.from_result(result, "h", SubmissionInfo(name="Kim"))


EXCUSE = Adjustment(student_id="s1", exercise_id="01_tensors", kind="excuse", reason="medical note", author="t",
                    created_at="2026-12-16T10:00:00+00:00", id=1)


def test_an_excused_exercise_leaves_the_points_possible_in_every_export(tmp_path: Path, course) -> None:
    course = two_exercises(course)
    row = excused_row()
    grade = final_grade("s1", row.result, course, [EXCUSE])
    assert (grade.final, grade.possible) == (20, 20)
    grades = {"s1": grade}

    plain = list(csv.DictReader(write_csv([row], course, tmp_path / "g.csv", grades).open(encoding="utf-8")))[0]
    assert (plain["01_tensors"], plain["02_dataset"], plain["total"], plain["max_score"]) == ("EX", "20", "20", "20")

    canvas = table(write_canvas_csv([row], course, tmp_path / "c.csv", grades=grades))
    assert canvas[1][5:] == ["15", "20", "35"]  # Points Possible: the columns' own
    # EX in the excused column; the total column (out of 35) carries 20 of 20 as 35 of 35.
    assert canvas[2][5:] == ["EX", "20", "35"]

    moodle = table(write_moodle_csv([row], course, tmp_path / "m.csv", grades=grades))
    assert moodle[1][1:4] == ["-", "20", "35"] and "medical note" in moodle[1][4]

    board = table(write_blackboard_csv([row], course, tmp_path / "b.csv", grades=grades))
    assert board[1][1:] == ["", "20", "35"]

    document = gradescope_results(row, "en", grade)
    scored = [t for t in document["tests"] if "score" in t]
    assert document["score"] == 20
    assert sum(t["score"] for t in scored) == 20 and sum(t["max_score"] for t in scored) == 20
    excused = [t for t in scored if t.get("number", "").startswith("01_tensors::")]
    assert excused and all((t["score"], t["max_score"]) == (0, 0) and "medical note" in t["output"] for t in excused)
    assert not [t for t in scored if t["score"] < 0]  # no "-15 Instructor adjustment"

    suite = JUnitXml.fromfile(str(write_junit([row], course, tmp_path / "j.xml", grades=grades)))
    (student,) = list(suite)
    props = {p.name: p.value for p in student.properties()}
    assert (props["final"], props["max_score"], props["01_tensors.excused"], props["02_dataset.possible"]) == \
        ("20", "20", "yes", "20")
    assert [c.name for c in student] == ["02_dataset::test_c", "02_dataset::test_d"]


def test_an_excused_check_scales_an_lms_column_to_the_same_share(tmp_path: Path, course) -> None:
    course = two_exercises(course)
    row = excused_row()
    check = dataclasses.replace(EXCUSE, check_id="01_tensors::test_b", reason="the data set was wrong")
    grade = final_grade("s1", row.result, course, [check])
    assert grade.exercises[0].final == 10 and grade.exercises[0].possible == 10
    canvas = table(write_canvas_csv([row], course, tmp_path / "c.csv", grades={"s1": grade}))
    assert canvas[2][5:] == ["15", "20", "35"]  # 10 of 10 in a column of 15; 30 of 30 in one of 35
    document = gradescope_results(row, "en", grade)
    assert sum(t.get("score", 0) for t in document["tests"]) == 30
    assert sum(t.get("max_score", 0) for t in document["tests"]) == grade.possible == 30


# --- Each format's published facts. -------------------------------------------------------------------

def test_csv_parses_one_row_per_student(tmp_path: Path, course) -> None:
    path = write_csv(rows(), course, tmp_path / "grades.csv")
    with open(path, newline="", encoding="utf-8") as f:
        found = list(csv.DictReader(f))
    assert [r["student_id"] for r in found] == ["김민준,\"quoted\"", "broken"]
    first = found[0]
    assert (first["02_dataset"], first["total"], first["max_score"], first["status"], first["late"]) == \
        ("3", "3", "10", "graded", "yes")
    assert set(e.id for e in course.exercises) <= set(first)
    # Nothing came back: out of the course's points (as the gradebook's error rows count it).
    possible = f"{sum(e.possible for e in course.exercises):g}"
    assert (found[1]["02_dataset"], found[1]["status"], found[1]["max_score"]) == ("", "unreadable", possible)


def test_canvas_csv_has_canvas_columns_and_only_canvas_ids(tmp_path: Path, course) -> None:
    """Canvas's gradebook import, as canvas-lms's own fixtures (spec/fixtures/gradebooks/*.csv) lay
    it out: ``Student, ID, SIS User ID, SIS Login ID, Section``, then the assignment columns, and a
    first data row ``Points Possible``; ``EX`` is excused. ``ID`` is Canvas's user id: known from a
    Canvas export only, blank otherwise; the SIS columns are blank (no id here is known to be SIS)."""
    mixed = [*rows(), Row.from_result(SubmissionResult("2024001"), "h3", SubmissionInfo(name="Lee"))]
    found = table(write_canvas_csv(mixed, course, tmp_path / "canvas.csv", column="Practicals (777)"))
    titles = [e.title.en for e in course.exercises]
    assert found[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles, "Practicals (777)"]
    assert found[1] == ["Points Possible", "", "", "", "", *[f"{e.possible:g}" for e in course.exercises],
                        f"{sum(e.possible for e in course.exercises):g}"]
    by_name = {r[0]: r for r in found[2:]}
    assert by_name["kimminjun"][1:5] == ["1001", "", "", ""]
    assert by_name["kimminjun"][5 + [e.id for e in course.exercises].index("02_dataset")] == "3"
    assert by_name["kimminjun"][-1] == "3"
    assert by_name["Lee"][1:5] == ["", "", "", ""]  # our student id is neither Canvas's id nor a SIS id
    assert all(len(r) == len(found[0]) for r in found)
    # A title that ends like "(123)" would be read as assignment 123: the exercise id follows it.
    numbered = dataclasses.replace(course.exercises[0], title=T.same("Lab (3)"))
    renamed = dataclasses.replace(course, exercises=(numbered, *course.exercises[1:]))
    assert table(write_canvas_csv(mixed, renamed, tmp_path / "n.csv"))[0][5] == f"Lab (3) [{numbered.id}]"


def test_moodle_csv_maps_one_identity_column_and_carries_feedback_but_no_check_text(tmp_path: Path, course) -> None:
    """Moodle's grade import (moodle grade/import/csv/classes/load_data.php): one column identifies
    the user (here the student id, mapped to ``idnumber``), one column per grade item, a feedback
    column; a value ``-`` (or empty) is "no grade"; any other value must read as a number."""
    course = two_exercises(course)
    row = excused_row(hidden_passes=False)
    late = dataclasses.replace(course, late=parse_policy(
        {"due": "2026-12-14T23:59:00+09:00", "deduct_percent": 10, "mode": "apply"}, {}, "t"))
    grade = final_grade("s1", row.result, late, [EXCUSE], policy=late.late,
                        submitted_at=datetime(2026, 12, 15, 11, 0, tzinfo=timezone(timedelta(hours=9))))
    header, line = table(write_moodle_csv([row], course, tmp_path / "m.csv", grades={"s1": grade}, column="Total"))
    assert header == ["ID number", *[e.title.en for e in course.exercises], "Total", "Feedback"]
    assert line[0] == "s1"
    assert line[1] == "-"
    for value in line[2:4]:
        float(value)
    feedback = line[4]
    assert "medical note" in feedback and "11.0 h after the due date" in feedback and "deducted" in feedback
    assert "SECRET" not in feedback and "4711" not in feedback


def test_blackboard_csv_is_quoted_utf8_with_total_points_headings(tmp_path: Path, course) -> None:
    """Blackboard's Grade Center upload rules: ``Username`` is mandatory (first here); a column is
    matched by the id after ``|`` in ``Lab 1 [Total Pts: 10 Score] |12345``, and one without an id
    is a new column; fields must be quoted (every one, here); UTF-8."""
    path = write_blackboard_csv(rows(), course, tmp_path / "b.csv", lang="ko", column_ids={"02_dataset": "4711"})
    raw = path.read_bytes().decode("utf-8")
    lines = raw.splitlines()
    assert all(re.fullmatch(r'"[^"]*(""[^"]*)*"(,"[^"]*(""[^"]*)*")*', line) for line in lines), lines
    header, *students = table(path)
    assert header[0] == "Username"
    heading = re.compile(r"^(.+) \[Total Pts: (\d+(?:\.\d+)?) Score\] \|(\d*)$")
    parsed = [heading.match(h) for h in header[1:]]
    assert all(parsed), header
    assert [float(m.group(2)) for m in parsed[:-1]] == [e.possible for e in course.exercises]
    assert float(parsed[-1].group(2)) == sum(e.possible for e in course.exercises)
    ids = {m.group(1): m.group(3) for m in parsed}
    assert ids[course.exercise("02_dataset").title.ko] == "4711" and ids[course.exercise("01_tensors").title.ko] == ""
    assert students[0][0] == "김민준,\"quoted\""


def test_gradescope_results_follow_the_spec(tmp_path: Path, course) -> None:
    """autograder_samples docs/specs.md: every results.json validates; a partial check scores its
    points of its max (a score below max_score fails); a check that could not run here is
    informational (a status, no score) and not a failure; the tests sum to the score."""
    partial = CheckResult("02_dataset::test_e", T.same("E"), CheckStatus.PARTIAL, 1.5, 4,
                          message=T.same("3 of 8 images right\r\n"))
    row = rows()[0]
    row.result.exercises[0].checks.append(partial)
    folder = write_gradescope([row, rows()[1]], course, tmp_path / "gs")
    files = sorted(folder.rglob("results.json"))
    assert len(files) == 2
    for file in files:
        jsonschema.validate(json.loads(file.read_text(encoding="utf-8")), GRADESCOPE)
    data = json.loads(next(f for f in files if "broken" not in str(f)).read_text(encoding="utf-8"))
    by_name = {t["name"]: t for t in data["tests"]}
    assert "wrong, got 5" in by_name["02_dataset: B"]["output"] and "drop_last" in by_name["02_dataset: B"]["output"]
    assert by_name["02_dataset: C"]["visibility"] == "after_published"
    cuda = by_name["02_dataset: D [cuda]"]
    assert "score" not in cuda and "max_score" not in cuda
    assert cuda["status"] == "passed" and "no CUDA" in cuda["output"]
    e = by_name["02_dataset: E"]
    assert (e["score"], e["max_score"], e["status"]) == (1.5, 4, "failed") and "\r" not in e["output"]
    assert by_name["02_dataset: A"]["score"] == by_name["02_dataset: A"]["max_score"] == 3
    assert data["score"] == 4.5 == sum(t.get("score", 0) for t in data["tests"])
    broken = gradescope_results(rows()[1])
    assert broken["score"] == 0 and broken["tests"] == [] and "cannot be read" in broken["output"]
    assert json.loads(json.dumps(gradescope_results(rows()[0], "ko")))["tests"][0]["name"] == "02_dataset: 가"
    nothing = json.loads(next(f for f in files if "broken" in str(f)).read_text(encoding="utf-8"))
    assert sum(t["max_score"] for t in nothing["tests"]) == sum(e.possible for e in course.exercises)


def visible(document: dict) -> tuple[str, list[dict]]:
    """What a student sees before grades are published: the top-level output and the visible tests."""
    default = document.get("visibility", "visible")
    return document["output"], [t for t in document["tests"] if t.get("visibility", default) == "visible"]


def test_nothing_visible_before_publication_depends_on_a_hidden_check(tmp_path: Path, course) -> None:
    """Gradescope shows a student the top-level output and the ``visible`` tests at once; "if test
    cases are hidden, students will not be able to see their total score". So whatever is visible
    must read the same whether a hidden check passed or failed: adjustments, lateness and all."""
    course = dataclasses.replace(two_exercises(course), late=parse_policy(
        {"due": "2026-12-14T23:59:00+09:00", "deduct_percent": 40, "floor_percent": 50, "mode": "apply"}, {}, "t"))
    setting = dataclasses.replace(EXCUSE, exercise_id="02_dataset", kind="set", value=18.0, reason="regrade", id=2)
    late = datetime(2026, 12, 16, 11, 0, tzinfo=timezone(timedelta(hours=9)))
    seen = []
    for passes in (True, False):
        row = excused_row(hidden_passes=passes)
        grade = final_grade("s1", row.result, course, [setting], policy=course.late, submitted_at=late)
        written = write_gradescope([row], course, tmp_path / str(passes), grades={"s1": grade})
        document = json.loads((written / "s1" / "results.json").read_text(encoding="utf-8"))
        jsonschema.validate(document, GRADESCOPE)
        seen.append(visible(document))
        assert "Visible tests: 25 / 25" in document["output"] and "h late" in document["output"]
    assert seen[0] == seen[1]
    assert "SECRET" not in json.dumps(seen[1])


def test_the_summary_gives_the_whole_score_when_nothing_is_hidden(course) -> None:
    checks = [CheckResult("02_dataset::test_a", T.same("a"), CheckStatus.PASSED, 3, 3),
              CheckResult("02_dataset::test_b", T.same("b"), CheckStatus.FAILED, 0, 2)]
    row = Row.from_result(SubmissionResult("s2", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED,
                                                                 checks)]), "h", SubmissionInfo())
    grade = final_grade("s2", row.result, course, [])
    assert visible_summary(gradescope_results(row, "en", grade), grade) == "Score: 3 / 5"


def test_junit_validates_against_both_schemas_and_reads_back(tmp_path: Path, course) -> None:
    """JUnit has no one spec: the document must be valid against the strict Ant schema (JUnit.xsd:
    timestamp, hostname, time, package, id, properties, system-out, system-err, error@type, and no
    "skipped") and Jenkins' lenient junit-10.xsd, and read back with junitparser."""
    partial = CheckResult("02_dataset::test_e", T.same("E"), CheckStatus.PARTIAL, 1.5, 4,
                          message=T.same("3 of 8 images\x1b[31m right\x00"))
    row = rows()[0]
    row.result.exercises[0].checks.append(partial)
    path = write_junit([row, rows()[1]], course, tmp_path / "junit.xml")
    ANT_JUNIT.validate(str(path))
    JENKINS_JUNIT.validate(str(path))
    first, broken = list(JUnitXml.fromfile(str(path)))
    assert first.name == "김민준,\"quoted\"" and (first.tests, first.failures, first.errors) == (4, 2, 1)
    cases = {c.name: c for c in first}
    assert "test_p.py::test_d[cuda]" not in cases  # could not run here and does not count: no test case
    (failure,) = cases["test_p.py::test_b"].result
    assert isinstance(failure, Failure) and failure.message == "wrong, got 5" and failure.type == "failed"
    (partly,) = cases["02_dataset::test_e"].result
    assert isinstance(partly, Failure) and partly.type == "partial" and partly.message.startswith("1.5 of 4 points")
    assert isinstance(cases["test_h.py::test_c"].result[0], Error)
    (error,) = list(broken)[0].result
    assert isinstance(error, Error) and error.text == "broken.zip: the archive cannot be read"
    root = ET.parse(path).getroot()
    assert "test_p.py::test_d[cuda]" in root.find("testsuite/system-out").text
    assert [s.get("id") for s in root.findall("testsuite")] == ["0", "1"]


# --- The command. ------------------------------------------------------------------------------------

def test_the_command_offers_every_format() -> None:
    assert CLI_FORMATS == FORMATS


@pytest.mark.parametrize(("fmt", "written"), [("csv", "grades.csv"), ("canvas", "canvas.csv"), ("moodle", "moodle.csv"),
                                               ("blackboard", "blackboard.csv"), ("gradescope", "gradescope"),
                                               ("junit", "junit.xml")],
                         ids=["csv", "canvas", "moodle", "blackboard", "gradescope", "junit"])
def test_export_command(tmp_path: Path, fmt: str, written: str) -> None:
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        for row in rows():
            book.record(row)
    result = CliRunner().invoke(cli, ["export", str(tmp_path), "--format", fmt, "--blackboard-column", "total=99"])
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "export" / written).exists()
    assert "2 students" in result.output


def test_a_blackboard_column_for_no_exercise_is_a_usage_error(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        book.record(rows()[0])
    for given in ("99_nothing=5", "02_dataset"):
        result = CliRunner().invoke(cli, ["export", str(tmp_path), "--format", "blackboard",
                                          "--blackboard-column", given])
        assert result.exit_code == ExitCode.USAGE, result.output
    assert not (tmp_path / "export").exists()


def test_export_without_a_gradebook_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", str(tmp_path), "--format", "csv"])
    assert result.exit_code == ExitCode.USAGE
    assert "no gradebook here" in result.output


@pytest.mark.parametrize("twin_points", [0.0, 1.0], ids=["public-only", "partly-right"])
def test_a_gated_check_reads_as_passed_until_the_hidden_ones_are_shown(twin_points: float) -> None:
    # Its twin's words (the other inputs, the expected values) and the points it takes back come with
    # the hidden checks; before that, the public check reads as it did to the student: passed.
    twin = CheckResult("02_dataset::test_hidden_lengths", T.same("hidden"),
                       CheckStatus.PARTIAL if twin_points else CheckStatus.FAILED, twin_points, 3, hidden=True,
                       message=T.same("1000 for 200 images"))
    checks = gate([CheckResult("02_dataset::test_len_train", T.same("len"), CheckStatus.PASSED, 2, 2),
                   CheckResult("02_dataset::test_item_images", T.same("items"), CheckStatus.PASSED, 2, 2), twin],
                  {"test_len_train": ("test_hidden_lengths",)})
    message = checks[0].message.en
    assert "1000 for 200 images" in message
    result = SubmissionResult("s1", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED, checks)])
    document = gradescope_results(Row.from_result(result, "h", SubmissionInfo()))
    tests = {t["number"]: t for t in document["tests"]}
    public, caught = tests["02_dataset::test_len_train"], tests["02_dataset::test_len_train (twin)"]
    assert (public["visibility"], public["status"], public["score"], public["max_score"]) == ("visible", "passed", 2, 2)
    assert "1000" not in json.dumps(public)
    assert (caught["visibility"], caught["status"], caught["score"], caught["max_score"]) == \
        ("after_published", "failed", round(2 * twin_points / 3 - 2, 6), 0)
    assert message in caught["output"]
    assert tests["02_dataset::test_item_images"]["visibility"] == "visible"
    assert document["score"] == pytest.approx(2 + 2 * twin_points / 3 + twin_points)
    assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))
