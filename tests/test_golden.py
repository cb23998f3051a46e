"""Golden cases: hand-written right and wrong answers, and exactly which checks each must fail.

Each case in ``tests/data/golden/<exercise>/<name>.py`` is a snippet that redefines one or more
of the student's names; its first line says what must happen::

    # expect: test_len_train, test_hidden_lengths      (exactly these checks do not pass)
    # expect: nothing                                  (a correct alternative: every check passes)

and a second line may name public checks that pass on the public data only (a hard-coded
answer): graded, they are ``public_only`` (their hidden twin caught them); in the student's
self-check, which has no hidden checks, they pass::

    # public-only: test_len_train

The snippet runs on top of the reference solution's namespace, and the exercise's public and
hidden checks run against it in-process (the self-check back end: the checks are what is
under test here; the kernel back end is covered by the end-to-end tests).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from grader.course.assign import BEGIN
from grader.checking.plugin import GradingContext
from grader.checking.remote import LocalNotebook
from grader.results import CheckStatus

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
CASES = sorted(GOLDEN.glob("*/*.py"))


def expected_failures(case: Path) -> set[str]:
    first = case.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect:"), f"{case}: the first line must be '# expect: ...'"
    names = first.removeprefix("# expect:").strip()
    return set() if names == "nothing" else {n.strip() for n in names.split(",")}


def public_only(case: Path) -> set[str]:
    second = (case.read_text(encoding="utf-8").splitlines() + [""])[1]
    return {n.strip() for n in second.removeprefix("# public-only:").split(",")} if second.startswith("# public-only:") else set()


def solution_namespace(notebook: Path, data_root: Path) -> dict:
    """The reference solution's definitions: its code cells up to the self-check, in-process."""
    namespace: dict = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.environ["CIFAR10_ROOT"] = str(data_root)
    os.chdir(notebook.parent.parent / "exercises")
    try:
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type == "code" and "run_selfcheck" not in cell.source:
                exec(compile(cell.source, f"<{notebook.name}>", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(cwd)
    return namespace


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_golden_case(case: Path, course, data_root, session_dir, check_runner) -> None:
    exercise = course.exercise(case.parent.name)
    namespace = solution_namespace(exercise.solution, data_root)
    exec(compile(case.read_text(encoding="utf-8"), str(case), "exec"), namespace)  # noqa: S102
    context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=session_dir / "golden")
    results = check_runner.run(course, exercise, LocalNotebook(namespace), context, hidden=True)
    counted = [r for r in results if r.counts]
    failing = {r.id.split("::")[1].split("[")[0] for r in counted if r.status is not CheckStatus.PASSED}
    details = {r.id: (r.status.value, r.message.en if r.message else "") for r in counted
               if r.status is not CheckStatus.PASSED}
    assert failing == expected_failures(case), details
    hard_coded = {r.id.split("::")[1].split("[")[0] for r in counted if r.status is CheckStatus.PUBLIC_ONLY}
    assert hard_coded == public_only(case), details
    if hard_coded:  # the student's own self-check sees them pass: it has no hidden twin
        own = check_runner.run(course, exercise, LocalNotebook(namespace), context, hidden=False)
        assert all(r.status is CheckStatus.PASSED for r in own if r.counts and r.id.split("::")[1].split("[")[0] in hard_coded)


def test_every_exercise_has_golden_cases(course) -> None:
    exercises_with_cases = {c.parent.name for c in CASES}
    missing = [e.id for e in course.exercises if e.id not in exercises_with_cases]
    assert not missing, f"exercises without golden cases: {missing}"
    hard_coding = {c.parent.name for c in CASES if public_only(c)}
    assert hard_coding == {e.id for e in course.exercises}, "every exercise needs a hard-coded public answer"


def test_golden_snippets_redefine_only_solution_names(course) -> None:
    # A case must exercise the student's names, not patch the checks' helpers.
    for case in CASES:
        solution = course.exercise(case.parent.name).solution
        text = solution.read_text(encoding="utf-8")
        assert BEGIN in text, f"{solution}: no solution region"


@pytest.mark.parametrize("exercise_id", ["03_transforms", "06_training"])
def test_one_process_grades_the_same_whatever_came_before(exercise_id: str, course, data_root, session_dir,
                                                           check_runner) -> None:
    # A bulk worker keeps each exercise's checks, their tables and their memoised reference values
    # from one notebook to the next: graded in one order and then the other, every wrong case
    # gets the same statuses, messages and recognised mistakes.
    exercise = course.exercise(exercise_id)
    context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=session_dir / "golden")
    cases = sorted(GOLDEN.glob(f"{exercise_id}/*.py"))

    def grade(case: Path) -> list[tuple]:
        namespace = solution_namespace(exercise.solution, data_root)
        exec(compile(case.read_text(encoding="utf-8"), str(case), "exec"), namespace)  # noqa: S102
        return [(r.id, r.status.value, r.message.en if r.message else None, r.why.en if r.why else None, r.observed)
                for r in check_runner.run(course, exercise, LocalNotebook(namespace), context, hidden=True)]

    forward = {case.stem: grade(case) for case in cases}
    backward = {case.stem: grade(case) for case in reversed(cases)}
    assert backward == forward
    assert len({tuple(r[1:] for r in results) for results in forward.values()}) > len(cases) // 2  # not all alike


def test_two_of_three_metrics_right_earns_two_thirds(course, data_root, session_dir, check_runner) -> None:
    # 06's precision_recall_f1 with a NaN F1 but right precision and recall: the check and its hidden
    # twin end partial, with two thirds of their points and a message that names the wrong value.
    exercise = course.exercise("06_training")
    case = GOLDEN / "06_training" / "prf_f1_nan_when_p_and_r_zero.py"
    namespace = solution_namespace(exercise.solution, data_root)
    exec(compile(case.read_text(encoding="utf-8"), str(case), "exec"), namespace)  # noqa: S102
    context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=session_dir / "golden")
    results = {r.id.split("::")[1]: r for r in
               check_runner.run(course, exercise, LocalNotebook(namespace), context, hidden=True)}
    public = results["test_zero_division"]
    assert public.status is CheckStatus.PARTIAL
    assert public.points == pytest.approx(public.max_points * 2 / 3, abs=1e-6)
    assert "Precision and recall are right" in public.message.en and "F1" in public.message.en
    assert results["test_hidden_metrics"].status is CheckStatus.PARTIAL
