"""Hard-coded answers earn nothing: public checks gated by their hidden twins, attributed, switchable."""

from __future__ import annotations

import csv
import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.course.manifest import load_course
from grader.errors import CourseError
from grader.publish.exports import write_csv, write_junit
from grader.store.records import Row, SubmissionInfo
from grader.i18n import T
from grader.checking.plugin import GradingContext
from grader.checking.remote import LocalNotebook
from grader.publish.report import render_student_report
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
from grader.checking.runner import run_checks
from grader.checking.twins import gate

from .test_golden import GOLDEN, solution_namespace


def result(name: str, status: CheckStatus, *, retests: tuple[str, ...] = (), hidden: bool = False,
           counts: bool = True, points: float = 2) -> CheckResult:
    return CheckResult(f"02_dataset::{name}", T.same(name), status, points if status is CheckStatus.PASSED else 0,
                       points, hidden=hidden, counts=counts, retests=list(retests),
                       message=None if status is CheckStatus.PASSED else T.same(f"{name} saw 1000; expected 200"))


TWINS = {"test_len_train": ("test_hidden_lengths",), "test_len_test": ("test_hidden_lengths",)}


def statuses(results: list[CheckResult]) -> dict[str, str]:
    return {r.id.split("::")[1]: r.status.value for r in results}


def test_a_twin_that_caught_one_property_costs_that_property_only() -> None:
    results = gate([result("test_len_train", CheckStatus.PASSED), result("test_len_test", CheckStatus.PASSED),
                    result("test_hidden_lengths", CheckStatus.FAILED, retests=("test_len_train",), hidden=True)], TWINS)
    assert statuses(results) == {"test_len_train": "public_only", "test_len_test": "passed",
                                 "test_hidden_lengths": "failed"}
    train = results[0]
    assert train.points == 0 and train.max_points == 2
    assert train.message.en == "works on the public data set only: test_hidden_lengths saw 1000; expected 200"


def test_a_twin_that_found_the_behaviour_partly_right_grants_its_public_check_the_same_share() -> None:
    twin = result("test_hidden_lengths", CheckStatus.PARTIAL, retests=("test_len_train",), hidden=True, points=3)
    twin.points = 1.0  # a third of its points
    results = gate([result("test_len_train", CheckStatus.PASSED, points=2), twin], TWINS)
    train = results[0]
    assert (train.status, train.points, train.max_points) == (CheckStatus.PARTIAL, round(2 / 3, 6), 2)
    assert train.message.en == "partly right on other inputs: test_hidden_lengths saw 1000; expected 200"


def test_before_release_a_gated_check_reads_as_the_pass_it_was_with_its_own_message() -> None:
    public = result("test_len_train", CheckStatus.PASSED)
    public.message = T.same("200 batches")
    twin = result("test_hidden_lengths", CheckStatus.PARTIAL, retests=("test_len_train",), hidden=True, points=3)
    twin.points = 1.0
    gated = SubmissionResult("alice", [ExerciseResult("02_dataset", T.same("02"), ExerciseStatus.GRADED,
                                                      gate([public, twin], TWINS))])
    gated = SubmissionResult.from_dict(gated.to_dict())  # as the gradebook keeps it
    seen = gated.as_public()
    (check,) = seen.exercises[0].checks
    assert (check.status, check.points, check.message.en, check.hint) == (CheckStatus.PASSED, 2, "200 batches", None)
    assert "test_hidden_lengths" not in str(seen.to_dict()) and "other inputs" not in str(seen.to_dict())
    released = gated.as_public(released={"02_dataset"})
    assert [c.status for c in released.exercises[0].checks] == [CheckStatus.PARTIAL, CheckStatus.PARTIAL]


def test_an_unattributed_failure_costs_every_twin_and_a_passing_twin_nothing() -> None:
    raised = gate([result("test_len_train", CheckStatus.PASSED), result("test_len_test", CheckStatus.PASSED),
                   result("test_hidden_lengths", CheckStatus.ERROR, hidden=True)], TWINS)
    assert statuses(raised)["test_len_train"] == statuses(raised)["test_len_test"] == "public_only"
    agreed = gate([result("test_len_train", CheckStatus.PASSED),
                   result("test_hidden_lengths", CheckStatus.PASSED, hidden=True)], TWINS)
    assert statuses(agreed)["test_len_train"] == "passed"
    uncounted = gate([result("test_len_train", CheckStatus.PASSED),
                      result("test_hidden_lengths", CheckStatus.NOT_RUN, hidden=True, counts=False)], TWINS)
    assert statuses(uncounted)["test_len_train"] == "passed"  # a CUDA-only twin that did not run decides nothing


@pytest.mark.parametrize("independent", [False, True], ids=["twins-gate", "independent-points"])
def test_the_course_switch(course, data_root, session_dir, independent: bool) -> None:
    exercise = course.exercise("02_dataset")
    namespace = solution_namespace(exercise.solution, data_root)
    case = GOLDEN / "02_dataset" / "hardcoded_lengths.py"
    exec(compile(case.read_text(encoding="utf-8"), str(case), "exec"), namespace)  # noqa: S102
    context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=session_dir / "twins")
    graded = run_checks(dataclasses.replace(course, independent_points=independent), exercise,
                        LocalNotebook(namespace), context, hidden=True)
    train = next(r for r in graded if r.id.endswith("::test_len_train"))
    assert (train.status, train.points) == ((CheckStatus.PASSED, 2.0) if independent else (CheckStatus.PUBLIC_ONLY, 0.0))


def test_twins_must_name_checks_the_exercise_has(tmp_path: Path) -> None:
    import shutil

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "exercises" / "checks", tmp_path / "exercises" / "checks")
    shutil.copytree(root / "solutions" / "checks", tmp_path / "solutions" / "checks")
    shutil.copy(root / "exercises" / "cifar10_offline.py", tmp_path / "exercises")
    manifest = (root / "exercises" / "course.toml").read_text(encoding="utf-8")
    for wrong, words in ((("test_len_train = [", "test_len_trian = ["), "'test_len_trian' is not a public check"),
                         (('test_len_train = ["test_hidden_lengths"]', 'test_len_train = ["test_hidden_lenghts"]'),
                          "not hidden checks of this exercise")):
        (tmp_path / "exercises" / "course.toml").write_text(manifest.replace(*wrong), encoding="utf-8")
        with pytest.raises(CourseError, match=words):
            load_course(tmp_path / "exercises")


def test_reports_and_exports_show_public_only_as_its_own_status(tmp_path: Path, course) -> None:
    checks = gate([result("test_len_train", CheckStatus.PASSED),
                   result("test_hidden_lengths", CheckStatus.FAILED, hidden=True)], TWINS)
    graded = SubmissionResult("amy", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED, checks)])
    row = Row.from_result(graded, "h", SubmissionInfo())
    assert "public data only" in render_student_report(graded, "en") and "공개 데이터에서만 통과" in render_student_report(graded, "ko")
    table = list(csv.DictReader(write_csv([row], course, tmp_path / "g.csv").open(encoding="utf-8")))
    assert table[0]["public_only"] == "1"
    junit = ET.parse(write_junit([row], course, tmp_path / "j.xml")).getroot()
    assert junit.find(".//testcase[@name='02_dataset::test_len_train']/failure").get("type") == "public_only"
