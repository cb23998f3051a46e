"""Publish a gradebook: CSV (plain and Canvas-importable), Gradescope ``results.json``, JUnit XML.

Everything is read from the gradebook alone, so an export can be redone at any time without
grading again: the final grades (:mod:`grader.grades`) are derived from the automatic results,
the adjustments and the late policy each time. Hidden checks are exported with Gradescope
visibility ``after_published``.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from grader.course.manifest import Course
from grader.grades.final import FinalGrade, final_grade
from grader.intake.extract import safe_name
from grader.results import CheckStatus, SubmissionResult
from grader.store.records import Row

__all__ = ["CLUSTER_COLUMNS", "CSV_COLUMNS", "FORMATS", "MEMBER_COLUMNS", "export", "gradescope_results",
           "write_canvas_csv", "write_clusters", "write_csv", "write_gradescope", "write_junit"]

FORMATS = ("csv", "canvas", "gradescope", "junit", "clusters")
CLUSTER_COLUMNS = ("exercise", "cluster_id", "size", "label_en", "label_ko", "checks")
MEMBER_COLUMNS = ("student_id", "exercise", "cluster_id")


Grades = Mapping[str, FinalGrade]


def _grade(row: Row, course: Course, grades: Grades | None) -> FinalGrade:
    """The row's final grade; without adjustments or a policy, the automatic score as it is."""
    if grades is not None and row.student_id in grades:
        return grades[row.student_id]
    return final_grade(row.student_id, row.result, course, [], files_hash=row.files_hash)


def _points(value: float) -> str:
    return f"{round(value, 6):g}"


CSV_COLUMNS = ("total", "max_score", "status", "late", "auto_total", "adjustments", "late_seconds", "late_penalty",
               "final", "stale", "public_only")


def _public_only(row: Row) -> str:
    """How many public checks passed on the public data only (a hard-coded answer's mark)."""
    exercises = row.result.exercises if row.result else []
    found = sum(c.status is CheckStatus.PUBLIC_ONLY for e in exercises for c in e.checks)
    return str(found) if found else ""


def write_csv(rows: list[Row], course: Course, path: Path, grades: Grades | None = None) -> Path:
    """One row per student: id, each exercise's final score, then :data:`CSV_COLUMNS`.

    ``total`` is the final score (what gets published) out of ``max_score``, the points possible;
    ``public_only`` counts the public checks that passed on the public data only (grader.checking.twins);
    ``final = auto_total + adjustments - late_penalty`` in the policy's ``apply`` mode (in ``report``
    mode the penalty is shown and not deducted).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", *[e.id for e in course.exercises], *CSV_COLUMNS])
        for row in rows:
            grade = _grade(row, course, grades)
            by_id = {e.exercise_id: e for e in grade.exercises}
            # An exercise nobody graded or adjusted (nothing came back for the student) stays blank.
            scores = [_points(by_id[e.id].final) if e.id in by_id and (row.result is not None or by_id[e.id].applied)
                      else "" for e in course.exercises]
            writer.writerow([row.student_id, *scores, _points(grade.final), _points(grade.possible), row.status.value,
                             "yes" if row.info.late or grade.late else "", _points(grade.auto_total),
                             _points(grade.adjustments), f"{grade.late_seconds:.0f}", _points(grade.late_penalty),
                             _points(grade.final), "yes" if grade.stale else "", _public_only(row)])
    return path


def write_canvas_csv(rows: list[Row], course: Course, path: Path, *, column: str | None = None,
                     grades: Grades | None = None) -> Path:
    """Canvas's gradebook import layout: Student, ID, SIS User ID, SIS Login ID, Section, then the
    assignment column (the final score). Canvas matches students by ``ID`` (its user id, known from
    a Canvas export) and the assignment by the column heading, which should read ``Name (assignment id)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    heading = column or course.title.en or "Grade"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", heading])
        writer.writerow(["Points Possible", "", "", "", "", f"{sum(e.points for e in course.exercises):g}"])
        for row in rows:
            writer.writerow([row.info.name or row.student_id, row.info.lms_user_id or row.student_id,
                             row.student_id, "", "", _points(_grade(row, course, grades).final)])
    return path


def _output(check_message: str, hint: str) -> str:
    return check_message + (f"\nHint: {hint}" if hint else "")


def _final_tests(grade: FinalGrade) -> list[dict]:
    """An "Instructor adjustment" test per adjusted exercise and a "Late penalty" test: the
    student sees why the final score is not the sum of the checks (the reasons, never the author)."""
    tests = []
    for exercise in grade.exercises:
        if exercise.applied:
            reasons = "; ".join(dict.fromkeys(a.adjustment.reason for a in exercise.applied))
            tests.append({"name": f"{exercise.exercise_id}: Instructor adjustment: {reasons}",
                          "score": round(exercise.adjusted - exercise.auto, 6), "max_score": 0.0,
                          "status": "passed", "output": reasons, "visibility": "visible"})
    if grade.late:
        applied = grade.mode == "apply"
        tests.append({"name": "Late penalty", "score": -round(grade.late_penalty, 6) if applied else 0.0,
                      "max_score": 0.0, "status": "failed" if applied and grade.late_penalty else "passed",
                      "output": f"submitted {grade.late_seconds / 3600:.1f} h after the due date"
                                + ("" if applied
                                   else f"; {grade.late_penalty:g} points would be deducted (not applied)"),
                      "visibility": "visible"})
    return tests


def gradescope_results(row: Row, lang: str = "en", grade: FinalGrade | None = None) -> dict:
    """Gradescope's autograder ``results.json`` for one student (its score the final one)."""
    result: SubmissionResult | None = row.result
    tests = []
    if result is not None:
        for exercise in result.exercises:
            for check in exercise.checks:
                test = {
                    "name": f"{exercise.exercise_id}: {check.title(lang)}"
                            + (f" [{check.device}]" if check.device else ""),
                    "number": check.id,
                    "score": check.points,
                    "max_score": check.max_points,
                    "status": "passed" if check.status is CheckStatus.PASSED else "failed",
                    "output": _output(check.message(lang) if check.message else check.status.value,
                                      check.hint(lang) if check.hint else ""),
                    # A public check that only its hidden twin caught carries the twin's words (other
                    # inputs, expected values): shown when the hidden checks are, not at once.
                    "visibility": "after_published" if check.hidden or check.status is CheckStatus.PUBLIC_ONLY
                    else "visible",
                }
                if not check.counts:  # a CUDA-only check the course does not score: informational
                    del test["score"], test["max_score"]
                tests.append(test)
    score = row.score
    if grade is not None:
        tests += _final_tests(grade)
        score = grade.final
    output = row.error or "\n".join(p(lang) for p in (result.problems if result else []))
    return {"score": round(score, 6), "output": output or f"{row.status.value}", "tests": tests,
            "visibility": "after_published", "extra_data": {"student_id": row.student_id, "status": row.status.value}}


def write_gradescope(rows: list[Row], course: Course, folder: Path, lang: str = "en",
                     grades: Grades | None = None) -> Path:
    """``folder/<student>/results.json`` per student."""
    for row in rows:
        target = folder / safe_name(row.student_id) / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        document = gradescope_results(row, lang, _grade(row, course, grades))
        target.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def write_junit(rows: list[Row], course: Course, path: Path, lang: str = "en", grades: Grades | None = None) -> Path:
    """One ``<testsuite>`` per student, one ``<testcase>`` per check (failure/error/skipped as JUnit
    says), the final grade's parts as the suite's properties."""
    suites = ET.Element("testsuites", name="grader")
    for row in rows:
        checks = [(e.exercise_id, c) for e in row.result.exercises for c in e.checks] if row.result else []
        suite = ET.SubElement(suites, "testsuite", name=row.student_id, tests=str(max(1, len(checks))))
        grade = _grade(row, course, grades)
        properties = ET.SubElement(suite, "properties")
        for name, value in (("auto_total", _points(grade.auto_total)), ("adjustments", _points(grade.adjustments)),
                            ("late_seconds", f"{grade.late_seconds:.0f}"),
                            ("late_penalty", _points(grade.late_penalty)),
                            ("final", _points(grade.final)), ("max_score", _points(grade.possible)),
                            ("stale", "yes" if grade.stale else "no")):
            ET.SubElement(properties, "property", name=name, value=value)
        counts = {"failures": 0, "errors": 0, "skipped": 0}
        if row.result is None:  # nothing was graded: one error case carries why
            case = ET.SubElement(suite, "testcase", classname=row.student_id, name="submission")
            ET.SubElement(case, "error", message=row.status.value).text = row.error
            counts["errors"] += 1
        for exercise_id, check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"{row.student_id}.{exercise_id}", name=check.id,
                                 time=f"{check.duration_s:.3f}")
            message = check.message(lang) if check.message else check.status.value
            if check.status in (CheckStatus.FAILED, CheckStatus.PUBLIC_ONLY):
                ET.SubElement(case, "failure", message=message[:500], type=check.status.value).text = message
                counts["failures"] += 1
            elif check.status in (CheckStatus.ERROR, CheckStatus.TIMEOUT):
                ET.SubElement(case, "error", message=message[:500]).text = message
                counts["errors"] += 1
            elif check.status is CheckStatus.NOT_RUN:
                ET.SubElement(case, "skipped", message=message[:500])
                counts["skipped"] += 1
        for key, count in counts.items():
            suite.set(key, str(count))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_clusters(rows: list[Row], course: Course, dest: Path) -> Path:
    """``clusters.csv`` (one row per mistake cluster, :data:`CLUSTER_COLUMNS`; ``checks`` joined by
    ``;``) and ``cluster_members.csv`` (:data:`MEMBER_COLUMNS`) under ``dest``; other tools read
    these files, so their names and columns stay as they are."""
    from grader.insight.mistakes import clusters

    found = clusters({r.student_id: r.result for r in rows}, course)
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / "clusters.csv", "w", newline="", encoding="utf-8") as f, \
            open(dest / "cluster_members.csv", "w", newline="", encoding="utf-8") as g:
        table, members = csv.writer(f), csv.writer(g)
        table.writerow(CLUSTER_COLUMNS)
        members.writerow(MEMBER_COLUMNS)
        for exercise in course.exercises:
            for cluster in found.get(exercise.id, []):
                table.writerow([exercise.id, cluster.id, cluster.size, cluster.label.en, cluster.label.ko,
                                ";".join(cluster.checks)])
                members.writerows([student, exercise.id, cluster.id] for student in cluster.members)
    return dest / "clusters.csv"


def export(rows: list[Row], course: Course, fmt: str, dest: Path, *, lang: str = "en",
           canvas_column: str | None = None, grades: Grades | None = None) -> Path:
    """Write ``rows`` in ``fmt`` under ``dest`` (a folder); the path written is returned."""
    if fmt == "csv":
        return write_csv(rows, course, dest / "grades.csv", grades)
    if fmt == "canvas":
        return write_canvas_csv(rows, course, dest / "canvas.csv", column=canvas_column, grades=grades)
    if fmt == "gradescope":
        return write_gradescope(rows, course, dest / "gradescope", lang, grades)
    if fmt == "junit":
        return write_junit(rows, course, dest / "junit.xml", lang, grades)
    if fmt == "clusters":
        return write_clusters(rows, course, dest)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
