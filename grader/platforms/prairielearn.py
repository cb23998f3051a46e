"""PrairieLearn's external grader: ``/grade/student`` in, ``/grade/results/results.json`` out.

The same core as Gradescope's (:mod:`.adapter`): the student's files gathered safely, graded with
the hidden checks in the container's cage, the results written whole by atomic rename. The
document is PrairieLearn's: ``score`` in [0, 1], ``gradable: false`` when no readable notebook was
given, ``tests[]`` with ``name``, ``points``, ``max_points``, ``message`` and ``output``, under 1 MB
(the longest texts are cut first). ``data.json``'s ``params.exercise``, where a question sets it,
grades that exercise only.
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
from grader.platforms.adapter import collect, grade_collected, versions, write_atomically
from grader.results import ExerciseStatus

__all__ = ["LIMIT_BYTES", "ROOT", "autograde"]

ROOT = Path("/grade")
LIMIT_BYTES = 1_000_000  # PrairieLearn refuses larger results
_CUT = "… [cut: the results must stay under 1 MB]"


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
        readable = [e for e in result.exercises if e.status not in (ExerciseStatus.MISSING, ExerciseStatus.INVALID)]
        problems = [p(lang) for p in result.problems] + [p(lang) for e in result.exercises for p in e.problems]
        if not readable:
            document: dict[str, Any] = {
                "gradable": False, "score": 0.0, "tests": [],
                "message": "No readable notebook was submitted: " + ("; ".join(problems) or "no .ipynb file found."),
            }
        else:
            tests = [{"name": f"{exercise.exercise_id}: {check.title(lang)}"
                              + (f" [{check.device}]" if check.device else ""),
                      "points": check.points if check.counts else 0.0,
                      "max_points": check.max_points if check.counts else 0.0,
                      "message": check.message(lang) if check.message else check.status.value,
                      "output": check.hint(lang) if check.hint else ""}
                     for exercise in result.exercises for check in exercise.checks]
            score = round(result.score / result.max_score, 6) if result.max_score else 0.0
            document = {"gradable": True, "score": score,
                        "message": f"Score: {result.score:g} / {result.max_score:g}", "output": "\n".join(problems),
                        "tests": tests}
        sandbox = sorted({e.kernel.get("sandbox", "none") for e in result.exercises if e.kernel}) or ["none"]
        print(versions(", ".join(sandbox)))
    except Exception:  # noqa: BLE001 - PrairieLearn must still get a results file
        error = traceback.format_exc()
        print(error)
        document = {"gradable": False, "score": 0.0, "tests": [],
                    "message": f"The grader failed (grader {__version__}): {error.splitlines()[-1][:300]}"}
    write_atomically(results, _fit(document))
    return document
