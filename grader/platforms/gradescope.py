"""Gradescope's autograder contract: ``/autograder/submission`` in, ``/autograder/results/results.json`` out.

The zip an instructor uploads (:mod:`.package`) runs :func:`autograde` from its ``run_autograder``:
the student's notebooks are gathered (loose or in zips, through the safe extractor), graded with
the hidden checks in the cage the container allows, and written as one test per check (hidden
checks ``after_published``, CUDA-only checks informational), the total in ``output``, the
grader's version in ``extra_data``, and the late policy applied from
``submission_metadata.json``'s ``created_at`` (never the clock; the course's ``[late]`` policy, or,
where it names no due date, the assignment's). Whatever goes wrong, valid JSON that says so is
written, whole, by atomic rename, after every kernel is gone. Only instructors see stdout.
"""

from __future__ import annotations

import json
import tempfile
import traceback
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from grader import __version__
from grader.course.late import LatePolicy, aware
from grader.course.manifest import Course
from grader.grades.final import final_grade
from grader.platforms.adapter import collect, grade_collected, versions, write_atomically
from grader.publish.exports import gradescope_results, visible_summary
from grader.store.records import Row, SubmissionInfo

__all__ = ["ROOT", "autograde", "metadata"]

ROOT = Path("/autograder")


def metadata(root: Path) -> dict[str, Any]:
    """``submission_metadata.json``, or nothing where the platform gave none (a local run)."""
    path = root / "submission_metadata.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _student(meta: dict[str, Any]) -> str:
    users = [u for u in meta.get("users") or [] if isinstance(u, dict)]
    first = users[0] if users else {}
    return str(first.get("sid") or first.get("email") or first.get("name") or "student")


def _policy(course: Course, meta: dict[str, Any]) -> tuple[LatePolicy | None, datetime | None]:
    """The late policy to apply, and when the student submitted (both from what the platform says)."""
    submitted = aware(meta["created_at"], "submission_metadata.json created_at") if meta.get("created_at") else None
    policy = course.late
    due = (meta.get("assignment") or {}).get("due_date")
    if due and (policy is None or policy.due is None):
        # The course names no due date: the assignment's, its lateness shown (and applied only if the course says).
        policy = replace(policy or LatePolicy(), due=aware(due, "submission_metadata.json assignment.due_date"))
    return policy, submitted


def _failure(error: str) -> dict[str, Any]:
    return {"score": 0.0, "output": "The autograder could not grade this submission; your instructor can see why. "
                                    f"({error.splitlines()[-1][:300] if error else 'unknown error'})",
            "tests": [], "stdout_visibility": "hidden",
            "extra_data": {"grader_version": __version__, "error": error[-4000:]}}


def autograde(root: Path, *, course: Course, data_root: Path, lang: str = "en",
              exercises: tuple[str, ...] = ()) -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``; the document written.

    ``exercises``: the assignment grades these exercises only, out of their points (one Gradescope
    assignment per practical); none: the whole course.
    """
    results = root / "results" / "results.json"
    try:
        graded = replace(course, exercises=tuple(course.exercise(e) for e in dict.fromkeys(exercises))) \
            if exercises else course
        meta = metadata(root)
        policy, submitted = _policy(graded, meta)
        with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as scratch:
            # Collected against the whole course: a grader submit manifest is made against all of it.
            collected = collect(root / "submission", Path(scratch) / "submission", course)
            result = grade_collected(collected, course=graded, data_root=data_root, work_dir=Path(scratch) / "work",
                                     student_id=_student(meta), lang=lang,
                                     protected=(root / "source", root / "results", Path(scratch) / "work"))
        row = Row.from_result(result, "", SubmissionInfo())
        grade = final_grade(row.student_id, result, graded.automatic_only(), [], policy=policy, submitted_at=submitted)
        document = gradescope_results(row, lang, grade)
        sandbox = sorted({e.kernel.get("sandbox", "none") for e in result.exercises if e.kernel}) or ["none"]
        summary = visible_summary(document, grade)  # the total only where no hidden test bears on it
        said = [document["output"]] if document["output"] != row.status.value else []
        document["output"] = "\n".join([summary, *said])
        document["stdout_visibility"] = "hidden"
        document["extra_data"].update(grader_version=__version__, sandbox=sandbox, late_seconds=grade.late_seconds)
        print(versions(", ".join(sandbox)))
        for exercise in result.exercises:
            for warning in exercise.problems:
                print(f"{exercise.exercise_id}: {warning.en}")
    except Exception:  # noqa: BLE001 - the student must still get a results file
        error = traceback.format_exc()
        print(error)
        document = _failure(error)
    write_atomically(results, document)
    return document
