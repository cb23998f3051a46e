"""Exports round-trip: CSV through csv, Gradescope results.json fields, JUnit XML through xml.etree; the CLI."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, cli
from grader.publish.exports import gradescope_results, write_canvas_csv, write_csv, write_gradescope, write_junit
from grader.store.gradebook import Gradebook
from grader.store.records import Row, Status, SubmissionInfo
from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult


def rows() -> list[Row]:
    checks = [
        CheckResult("test_p.py::test_a", T("가", "A"), CheckStatus.PASSED, 3, 3),
        CheckResult("test_p.py::test_b", T("나", "B"), CheckStatus.FAILED, 0, 2, message=T("틀림", "wrong, got 5"),
                    hint=T("힌트", "look at drop_last")),
        CheckResult("test_h.py::test_c", T("다", "C"), CheckStatus.ERROR, 0, 5, hidden=True, message=T("오류", "raised")),
        CheckResult("test_p.py::test_d[cuda]", T("라", "D"), CheckStatus.NOT_RUN, 0, 1, device="cuda", counts=False),
    ]
    graded = SubmissionResult("김민준,\"quoted\"", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED,
                                                                checks)], hidden_checks=True)
    return [Row.from_result(graded, "h1", SubmissionInfo(late=True, name="kimminjun", lms_user_id="1001")),
            Row("broken", "h2", Status.UNREADABLE, 0, 20, error="broken.zip: the archive cannot be read")]


def test_csv_parses_one_row_per_student(tmp_path: Path, course) -> None:
    path = write_csv(rows(), course, tmp_path / "grades.csv")
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["student_id"] for r in table] == ["김민준,\"quoted\"", "broken"]
    first = table[0]
    assert (first["02_dataset"], first["total"], first["max_score"], first["status"], first["late"]) == \
        ("3", "3", "10", "graded", "yes")
    assert set(e.id for e in course.exercises) <= set(first)
    # Nothing came back: out of the course's points (as the gradebook's error rows count it).
    possible = f"{sum(e.points for e in course.exercises):g}"
    assert (table[1]["02_dataset"], table[1]["status"], table[1]["max_score"]) == ("", "unreadable", possible)


def test_canvas_csv_has_canvas_columns_and_user_ids(tmp_path: Path, course) -> None:
    path = write_canvas_csv(rows(), course, tmp_path / "canvas.csv", column="Practicals (777)")
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Practicals (777)"]
    assert table[1][0] == "Points Possible"
    assert table[2][:2] == ["kimminjun", "1001"] and table[2][5] == "3"


def test_gradescope_results_have_the_required_fields(tmp_path: Path, course) -> None:
    folder = write_gradescope(rows(), course, tmp_path / "gs")
    files = sorted(folder.rglob("results.json"))
    assert len(files) == 2
    data = json.loads(next(f for f in files if "broken" not in str(f)).read_text(encoding="utf-8"))
    assert data["score"] == 3
    assert len(data["tests"]) == 4
    for test in data["tests"]:
        assert {"name", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    by_name = {t["name"]: t for t in data["tests"]}
    assert "wrong, got 5" in by_name["02_dataset: B"]["output"] and "drop_last" in by_name["02_dataset: B"]["output"]
    assert by_name["02_dataset: C"]["visibility"] == "after_published"
    assert "score" not in by_name["02_dataset: D [cuda]"]  # not counted: informational (a status, no score)
    assert by_name["02_dataset: A"]["score"] == by_name["02_dataset: A"]["max_score"] == 3
    broken = gradescope_results(rows()[1])
    assert broken["score"] == 0 and broken["tests"] == [] and "cannot be read" in broken["output"]
    assert json.loads(json.dumps(gradescope_results(rows()[0], "ko")))["tests"][0]["name"] == "02_dataset: 가"


def test_junit_parses_with_failures_errors_and_skips(tmp_path: Path, course) -> None:
    root = ET.parse(write_junit(rows(), course, tmp_path / "junit.xml")).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["김민준,\"quoted\"", "broken"]
    first = suites[0]
    assert (first.get("tests"), first.get("failures"), first.get("errors"), first.get("skipped")) == ("4", "1", "1", "1")
    assert first.find("testcase[@name='test_p.py::test_b']/failure").get("message") == "wrong, got 5"
    assert suites[1].find("testcase/error").text == "broken.zip: the archive cannot be read"


@pytest.mark.parametrize(("fmt", "written"), [("csv", "grades.csv"), ("canvas", "canvas.csv"),
                                               ("gradescope", "gradescope"), ("junit", "junit.xml")],
                         ids=["csv", "canvas", "gradescope", "junit"])
def test_export_command(tmp_path: Path, fmt: str, written: str) -> None:
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        for row in rows():
            book.record(row)
    result = CliRunner().invoke(cli, ["export", str(tmp_path), "--format", fmt])
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "export" / written).exists()
    assert "2 students" in result.output


def test_export_without_a_gradebook_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", str(tmp_path), "--format", "csv"])
    assert result.exit_code == ExitCode.USAGE
    assert "no gradebook here" in result.output


def test_a_public_only_check_is_shown_on_gradescope_when_the_hidden_ones_are() -> None:
    # It carries its hidden twin's words (the other inputs, the expected values): not visible at once.
    checks = [CheckResult("02_dataset::test_len_train", T.same("len"), CheckStatus.PUBLIC_ONLY, 0, 2,
                          message=T.same("works on the public data set only: 1000 for 200 images")),
              CheckResult("02_dataset::test_item_images", T.same("items"), CheckStatus.PASSED, 2, 2)]
    result = SubmissionResult("s1", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED, checks)])
    tests = {t["number"]: t for t in gradescope_results(Row.from_result(result, "h", SubmissionInfo()))["tests"]}
    assert tests["02_dataset::test_len_train"]["visibility"] == "after_published"
    assert tests["02_dataset::test_item_images"]["visibility"] == "visible"
