"""PrairieLearn's external grader: ``/grade/student`` in, ``/grade/results/results.json`` out.

The same core as Gradescope's (:mod:`.adapter`): the student's files gathered safely, graded with
the hidden checks in the container's cage, the results written whole by atomic rename. The
document is PrairieLearn's: ``score`` in [0, 1], ``gradable: false`` with ``format_errors`` when
no readable notebook was given, ``tests[]`` with ``name``, ``points``, ``max_points``, ``message``
and ``output``, under 1 MB (the longest texts are cut first). ``data.json``'s
``params.exercise``, where a question sets it, grades that exercise only.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import traceback
from pathlib import Path
from typing import Any

from grader import __version__
from grader.course.manifest import Course
from grader.grades.final import FinalGrade, final_grade
from grader.i18n import T, points_text, ui
from grader.platforms.adapter import collect, grade_collected, versions, write_atomically
from grader.results import CheckResult, ExerciseStatus, SubmissionResult

__all__ = ["LIMIT_BYTES", "ROOT", "autograde", "prairielearn_results"]

ROOT = Path("/grade")
LIMIT_BYTES = 1_000_000  # PrairieLearn refuses larger results
_CUT = "… [cut: the results must stay under 1 MB]"
NOT_SCORED = T("(채점에 들어가지 않는 정보용 검사)", "(for information: not scored)")


def _params(root: Path) -> dict[str, Any]:
    path = root / "data" / "data.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data.get("params") or {} if isinstance(data, dict) else {}


def _fit(document: dict[str, Any]) -> dict[str, Any]:
    """Cut the longest outputs and messages until the document is under the limit."""
    while len(json.dumps(document, ensure_ascii=False).encode()) > LIMIT_BYTES:
        texts = [(len(t.get(k, "")), t, k) for t in document["tests"] for k in ("output", "message")]
        texts += [(len(document.get(k, "")), document, k) for k in ("output", "message")]
        size, holder, key = max(texts, key=lambda item: item[0])
        if size <= len(_CUT):
            if not document["tests"]:
                break  # nothing left to cut: what remains is small already
            document["tests"] = document["tests"][: len(document["tests"]) // 2]
            continue
        holder[key] = holder[key][: max(size // 2, len(_CUT))] + _CUT
    return document


def _test(exercise_id: str, check: CheckResult, lang: str) -> dict[str, Any]:
    """One check as a PrairieLearn test. A check that could not run where it was graded (CUDA-only,
    and no GPU here) and does not count is worth 0 of 0 and says so: neither passed nor failed."""
    message = check.message(lang) if check.message else ui(check.status.value, lang)
    return {"name": f"{exercise_id}: {check.title(lang)}" + (f" [{check.device}]" if check.device else ""),
            "points": check.points if check.counts else 0.0,
            "max_points": check.max_points if check.counts else 0.0,
            "message": message if check.counts else f"{message} {NOT_SCORED(lang)}",
            "output": check.hint(lang) if check.hint else ""}


def prairielearn_results(result: SubmissionResult, grade: FinalGrade, lang: str = "en") -> dict[str, Any]:
    """PrairieLearn's ``results.json`` for a graded submission: its score the final grade's share
    (the one derivation every export uses), one test per check; without a readable notebook,
    ``gradable`` false and the reasons in ``format_errors``."""
    readable = [e for e in result.exercises if e.status not in (ExerciseStatus.MISSING, ExerciseStatus.INVALID)]
    problems = [p(lang) for p in result.problems] + [p(lang) for e in result.exercises for p in e.problems]
    if not readable:
        # PrairieLearn shows format_errors as what is wrong with the submission itself, and does
        # not count an ungradable submission against the student.
        return {"gradable": False, "score": 0.0, "tests": [], "format_errors": problems or ["no .ipynb file found."],
                "message": "No readable notebook was submitted."}
    tests = [_test(exercise.exercise_id, check, lang) for exercise in result.exercises for check in exercise.checks]
    score = round(grade.final / grade.possible, 6) if grade.possible else 0.0
    return {"gradable": True, "score": score, "message": f"Score: {points_text(grade.final)} / "
            f"{points_text(grade.possible)}", "output": "\n".join(problems), "tests": tests}


def autograde(root: Path, *, course: Course, data_root: Path, lang: str = "en") -> dict[str, Any]:
    """Grade ``root/student`` and write ``root/results/results.json``; the document written."""
    results = root / "results" / "results.json"
    try:
        wanted = _params(root).get("exercise")
        graded_course = dataclasses.replace(course, exercises=(course.exercise(str(wanted)),)) if wanted else course
        with tempfile.TemporaryDirectory(prefix="grader-prairielearn-") as scratch:
            collected = collect(root / "student", Path(scratch) / "student", course)  # the whole course: its hash
            result = grade_collected(collected, course=graded_course, data_root=data_root,
                                     work_dir=Path(scratch) / "work", student_id="student", lang=lang,
                                     protected=(root / "serverFilesCourse", root / "results", root / "data",
                                                Path(scratch) / "work"))
        grade = final_grade("student", result, graded_course.automatic_only(), [])
        document = prairielearn_results(result, grade, lang)
        sandbox = sorted({e.kernel.get("sandbox", "none") for e in result.exercises if e.kernel}) or ["none"]
        print(versions(", ".join(sandbox)))
    except Exception:  # noqa: BLE001 - PrairieLearn must still get a results file
        error = traceback.format_exc()
        print(error)
        document = {"gradable": False, "score": 0.0, "tests": [],
                    "message": f"The grader failed (grader {__version__}): {error.splitlines()[-1][:300]}"}
    write_atomically(results, _fit(document))
    return document
