"""Publish a gradebook: CSV (plain and Canvas-importable), Gradescope ``results.json``, JUnit XML.

Everything is read from the gradebook alone, so an export can be redone at any time without
grading again. Hidden checks are exported with Gradescope visibility ``after_published``.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .archives import safe_name
from .course import Course
from .gradebook import Row
from .results import CheckStatus, SubmissionResult

__all__ = ["FORMATS", "export", "gradescope_results", "write_canvas_csv", "write_csv", "write_gradescope", "write_junit"]

FORMATS = ("csv", "canvas", "gradescope", "junit")


def _exercise_scores(row: Row, course: Course) -> list[str]:
    by_id = {e.exercise_id: e for e in row.result.exercises} if row.result else {}
    return [f"{by_id[e.id].score:g}" if e.id in by_id else "" for e in course.exercises]


def write_csv(rows: list[Row], course: Course, path: Path) -> Path:
    """One row per student: id, one column per exercise, total, max, status, late."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", *[e.id for e in course.exercises], "total", "max_score", "status", "late"])
        for row in rows:
            writer.writerow([row.student_id, *_exercise_scores(row, course), f"{row.score:g}", f"{row.max_score:g}",
                             row.status.value, "yes" if row.meta.get("late") else ""])
    return path


def write_canvas_csv(rows: list[Row], course: Course, path: Path, *, column: str | None = None) -> Path:
    """Canvas's gradebook import layout: Student, ID, SIS User ID, SIS Login ID, Section, then the
    assignment column. Canvas matches students by ``ID`` (its user id, known from a Canvas export)
    and the assignment by the column heading, which should read ``Name (assignment id)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    heading = column or course.title.en or "Grade"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", heading])
        writer.writerow(["Points Possible", "", "", "", "", f"{sum(e.points for e in course.exercises):g}"])
        for row in rows:
            writer.writerow([row.meta.get("name", row.student_id), row.meta.get("lms_user_id", row.student_id),
                             row.student_id, "", "", f"{row.score:g}"])
    return path


def _output(check_message: str, hint: str) -> str:
    return check_message + (f"\nHint: {hint}" if hint else "")


def gradescope_results(row: Row, lang: str = "en") -> dict:
    """Gradescope's autograder ``results.json`` for one student."""
    result: SubmissionResult | None = row.result
    tests = []
    if result is not None:
        for exercise in result.exercises:
            for check in exercise.checks:
                tests.append({
                    "name": f"{exercise.exercise_id}: {check.title(lang)}" + (f" [{check.device}]" if check.device else ""),
                    "number": check.id,
                    "score": check.points if check.counts else 0.0,
                    "max_score": check.max_points if check.counts else 0.0,
                    "status": "passed" if check.status is CheckStatus.PASSED else "failed",
                    "output": _output(check.message(lang) if check.message else check.status.value,
                                      check.hint(lang) if check.hint else ""),
                    "visibility": "after_published" if check.hidden else "visible",
                })
    output = row.error or "\n".join(p(lang) for p in (result.problems if result else []))
    return {"score": row.score, "output": output or f"{row.status.value}", "tests": tests,
            "visibility": "after_published", "extra_data": {"student_id": row.student_id, "status": row.status.value}}


def write_gradescope(rows: list[Row], folder: Path, lang: str = "en") -> Path:
    """``folder/<student>/results.json`` per student."""
    for row in rows:
        target = folder / safe_name(row.student_id) / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(gradescope_results(row, lang), ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def write_junit(rows: list[Row], path: Path, lang: str = "en") -> Path:
    """One ``<testsuite>`` per student, one ``<testcase>`` per check (failure/error/skipped as JUnit says)."""
    suites = ET.Element("testsuites", name="grader")
    for row in rows:
        checks = [(e.exercise_id, c) for e in row.result.exercises for c in e.checks] if row.result else []
        suite = ET.SubElement(suites, "testsuite", name=row.student_id, tests=str(max(1, len(checks))))
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        if row.result is None:  # nothing was graded: one error case carries why
            case = ET.SubElement(suite, "testcase", classname=row.student_id, name="submission")
            ET.SubElement(case, "error", message=row.status.value).text = row.error
            counts["errors"] += 1
        for exercise_id, check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{row.student_id}.{exercise_id}", name=check.id,
                                 time=f"{check.duration_s:.3f}")
            message = check.message(lang) if check.message else check.status.value
            if check.status is CheckStatus.FAILED:
                ET.SubElement(case, "failure", message=message[:500]).text = message
                counts["failures"] += 1
            elif check.status in (CheckStatus.ERROR, CheckStatus.TIMEOUT):
                ET.SubElement(case, "error", message=message[:500]).text = message
                counts["errors"] += 1
            elif check.status is CheckStatus.NOT_RUN:
                ET.SubElement(case, "skipped", message=message[:500])
                counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path


def export(rows: list[Row], course: Course, fmt: str, dest: Path, *, lang: str = "en",
           canvas_column: str | None = None) -> Path:
    """Write ``rows`` in ``fmt`` under ``dest`` (a folder); the path written is returned."""
    if fmt == "csv":
        return write_csv(rows, course, dest / "grades.csv")
    if fmt == "canvas":
        return write_canvas_csv(rows, course, dest / "canvas.csv", column=canvas_column)
    if fmt == "gradescope":
        return write_gradescope(rows, dest / "gradescope", lang)
    if fmt == "junit":
        return write_junit(rows, dest / "junit.xml", lang)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
