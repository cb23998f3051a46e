"""Gradescope's autograder ``results.json``: one test per check, then the tests that make them add
up to the final grade; nothing visible before publication depends on a hidden check."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.course.manifest import Course
from grader.grades.final import ExerciseGrade, FinalGrade
from grader.intake.extract import safe_name
from grader.publish.exports.common import Grades, figure, grade_of
from grader.results import CheckResult, CheckStatus, SubmissionResult
from grader.store.records import Row

__all__ = ["excused_checks", "gradescope_results", "visible_summary", "write_gradescope"]


def _lf(text: str) -> str:
    """Unix line endings, as Gradescope asks of a test's output (a student's ``\\r`` progress bar included)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _output(check_message: str, hint: str) -> str:
    return _lf(check_message + (f"\nHint: {hint}" if hint else ""))




def excused_checks(exercise: ExerciseGrade | None) -> dict[str, str]:
    """The checks excused one by one, with the reason."""
    if exercise is None:
        return {}
    return {a.adjustment.check_id: a.adjustment.reason for a in exercise.applied
            if a.adjustment.kind == "excuse" and a.adjustment.check_id}


def _check_tests(exercise_id: str, check: CheckResult, lang: str, excused: str | None) -> list[dict[str, Any]]:
    """A check's test; a public check its hidden twin caught (``gated``) is two."""
    test: dict[str, Any] = {
        "name": f"{exercise_id}: {check.title(lang)}" + (f" [{check.device}]" if check.device else ""),
        "number": check.id,
        "score": check.points,
        "max_score": check.max_points,
        # Every scored test says its status: a partial check (some points, not all) fails, as
        # Gradescope's own rule (a score below max_score fails) would have it.
        "status": "passed" if check.status is CheckStatus.PASSED else "failed",
        "output": _output(check.message(lang) if check.message else check.status.value,
                          check.hint(lang) if check.hint else ""),
        "visibility": "after_published" if check.hidden else "visible",
    }
    if not check.counts:
        # Informational (a CUDA-only check the course does not score): no score. Gradescope's status
        # is "passed" or "failed" only, and a test with neither a score nor a status shows as failing
        # (otter-grader #519), so a check that could not run here is "passed", and its output says why.
        del test["score"], test["max_score"]
        if check.status is CheckStatus.NOT_RUN:
            test["status"] = "passed"
            test["output"] = f"not run here, not scored: {test['output']}"
    elif excused is not None:
        test.update(score=0.0, max_score=0.0, status="passed", output=f"excused: {excused}" if excused else "excused")
        test["name"] += " (excused)"
    elif check.gated:
        # Passed on the public data, but its hidden twin did not (or only partly). Before publication
        # it reads as the passed check it was to the student (anything else would tell the twin's
        # result); the twin's words and the points it takes back come with the grades.
        twin = dict(test, name=f"{test['name']}: its hidden twin disagrees", number=f"{check.id} (twin)",
                    score=round(check.points - check.max_points, 6), max_score=0.0, visibility="after_published")
        own = check.own_message(lang) if check.own_message else CheckStatus.PASSED.value
        test.update(score=check.max_points, status="passed", output=_output(own, ""))
        return [test, twin]
    return [test]


def _final_tests(grade: FinalGrade, row: Row, shown: dict[str, tuple[float, float, bool]]) -> list[dict[str, Any]]:
    """The tests that make the checks add up to the final grade: per exercise, what the instructor
    changed (an "Instructor adjustment" test, the reasons, never the author) or what was never
    graded; then the "Late penalty". ``shown``: each exercise's checks' (score, max_score, any not visible)."""
    tests: list[dict[str, Any]] = []
    for exercise in grade.exercises:
        score, most, hidden = shown.get(exercise.exercise_id, (0.0, 0.0, False))
        for item in exercise.rubric_items:  # one test each, as a check's: scored by people, never hidden
            given = item.given or 0.0
            tests.append({"name": f"{exercise.exercise_id}: {item.check_id.split('::')[-1]}", "number": item.check_id,
                          "score": round(given, 6),
                          "max_score": round(item.worth, 6),
                          "status": "passed" if given >= item.worth - 1e-9 else "failed",
                          "output": _lf(item.comment) if item.given is not None else "not scored yet",
                          "visibility": "visible"})
            score, most = score + given, most + item.worth
        rubric = {item.check_id for item in exercise.rubric_items}
        changes = [a for a in exercise.applied if a.adjustment.check_id not in rubric]
        gained, worth = exercise.adjusted - score, exercise.possible - most
        if not changes and abs(gained) < 1e-9 and abs(worth) < 1e-9:
            continue
        reasons = "; ".join(dict.fromkeys(a.adjustment.reason for a in changes))
        name = (f"{exercise.exercise_id}: Instructor adjustment: {' '.join(reasons.split())}" if changes
                else f"{exercise.exercise_id}: not graded")
        tests.append({"name": name, "score": round(gained, 6), "max_score": round(worth, 6),
                      "status": "passed" if gained >= worth - 1e-9 else "failed",
                      "output": _lf(reasons if changes else (row.error or row.status.value)),
                      # Its number is the exercise's total less its checks': hidden when any of them is.
                      "visibility": "after_published" if hidden else "visible"})
    if grade.late:
        deducted = sum(e.final - e.adjusted for e in grade.exercises)
        applied = grade.mode == "apply"
        tests.append({"name": "Late penalty", "score": round(deducted, 6), "max_score": 0.0,
                      "status": "failed" if deducted < 0 else "passed",
                      "output": f"submitted {grade.late_seconds / 3600:.1f} h after the due date"
                                + ("" if applied
                                   else f"; {figure(grade.late_penalty)} points would be deducted (not applied)"),
                      # A floor, a cap or "zero after" make the penalty a function of the score.
                      "visibility": "after_published" if any(h for _, _, h in shown.values()) else "visible"})
    return tests


def gradescope_results(row: Row, lang: str = "en", grade: FinalGrade | None = None) -> dict[str, Any]:
    """Gradescope's autograder ``results.json`` for one student: one test per check, then (given the
    final ``grade``) the tests that make them add up to it: the score is the final grade, the
    tests' scores sum to it and their ``max_score`` to the points possible. The top-level
    ``output`` (shown at once) says only the submission's status or problems; see
    :func:`visible_summary` for the score line."""
    result: SubmissionResult | None = row.result
    grading = {e.exercise_id: e for e in grade.exercises} if grade is not None else None
    tests: list[dict[str, Any]] = []
    shown: dict[str, tuple[float, float, bool]] = {}
    for exercise in result.exercises if result is not None else []:
        final = grading.get(exercise.exercise_id) if grading is not None else None
        if grading is not None and final is None:  # not an exercise of the course: not in the grade either
            continue
        excused = excused_checks(final)
        if final is not None and final.excused:  # the whole exercise: every check, with the exercise's reason
            whole = "; ".join(dict.fromkeys(a.adjustment.reason for a in final.applied
                                            if a.adjustment.kind == "excuse" and not a.adjustment.check_id))
            excused = {check.id: whole for check in exercise.checks}
        score = most = 0.0
        hidden = False
        for check in exercise.checks:
            made = _check_tests(exercise.exercise_id, check, lang, excused.get(check.id) if check.counts else None)
            score += sum(t.get("score", 0.0) for t in made)
            most += sum(t.get("max_score", 0.0) for t in made)
            # Whether the exercise has hidden checks, never how they did (a public_only check has a hidden twin).
            hidden = hidden or (check.counts and (check.hidden or check.gated))
            tests += made
        shown[exercise.exercise_id] = (score, most, hidden)
    total = row.score
    if grade is not None:
        tests += _final_tests(grade, row, shown)
        total = grade.final
    output = row.error or "\n".join(p(lang) for p in (result.problems if result else []))
    return {"score": round(total, 6), "output": output or f"{row.status.value}", "tests": tests,
            "visibility": "after_published", "extra_data": {"student_id": row.student_id, "status": row.status.value}}


def visible_summary(results: Mapping[str, Any], grade: FinalGrade) -> str:
    """The score line a student may read at once, for ``results`` (a :func:`gradescope_results`
    document) and the grade it was made from.

    Gradescope shows the top-level ``output`` before grades are published, so this line counts
    only the tests that are ``visible`` then: "Score: final / possible" where every scored test is
    visible, else "Visible tests: x / y" and that the rest comes with the published grades. The
    lateness is said in hours; its points only where no hidden test bears on them.
    """
    default = results.get("visibility", "visible")
    scored = [t for t in results.get("tests", []) if "score" in t]
    seen = [t for t in scored if t.get("visibility", default) == "visible"]
    everything = len(seen) == len(scored)
    if everything:
        line = f"Score: {figure(grade.final)} / {figure(grade.possible)}"
    else:
        line = (f"Visible tests: {figure(sum(t['score'] for t in seen))} / "
                f"{figure(sum(t.get('max_score', 0.0) for t in seen))}; the hidden checks and the total are shown "
                "when grades are published")
    if grade.late:
        line += f" (submitted {grade.late_seconds / 3600:.1f} h late; "
        if grade.mode != "apply":
            line += "late penalty not applied)"
        elif everything:
            line += f"{figure(grade.late_penalty)} points deducted)"
        else:
            line += "the late penalty is shown when grades are published)"
    return line


def write_gradescope(rows: list[Row], course: Course, folder: Path, lang: str = "en",
                     grades: Grades | None = None) -> Path:
    """``folder/<student>/results.json`` per student, its ``output`` led by :func:`visible_summary`."""
    for row in rows:
        target = folder / safe_name(row.student_id) / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        grade = grade_of(row, course, grades)
        document = gradescope_results(row, lang, grade)
        said = [document["output"]] if document["output"] != row.status.value else []
        document["output"] = "\n".join([visible_summary(document, grade), *said])
        target.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder
