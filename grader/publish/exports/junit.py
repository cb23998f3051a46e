"""JUnit XML: one ``<testsuite>`` per student, valid against the strict Ant schema and Jenkins'."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from grader.clock import utc_now
from grader.course.manifest import Course
from grader.grades.final import FinalGrade
from grader.publish.exports.common import Grades, figure, grade_of
from grader.publish.exports.gradescope import excused_checks
from grader.results import CheckStatus
from grader.store.records import Row

__all__ = ["write_junit"]


# Characters XML 1.0 cannot carry (a traceback's ANSI escapes, a stray NUL): left out.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _timestamp(row: Row) -> str:
    """When the row was graded, in UTC without a zone (the Ant schema allows none)."""
    for stamp in (row.graded_at, row.result.finished_at if row.result else ""):
        try:
            moment = datetime.fromisoformat(stamp) if stamp else None
        except ValueError:
            moment = None
        if moment is not None:
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return utc_now().strftime("%Y-%m-%dT%H:%M:%S")


def _properties(suite: ET.Element, grade: FinalGrade) -> None:
    properties = ET.SubElement(suite, "properties")
    named = [("auto_total", figure(grade.auto_total)), ("adjustments", figure(grade.adjustments)),
             ("late_seconds", f"{grade.late_seconds:.0f}"), ("late_penalty", figure(grade.late_penalty)),
             ("final", figure(grade.final)), ("max_score", figure(grade.possible)),
             ("stale", "yes" if grade.stale else "no")]
    for exercise in grade.exercises:
        named += [(f"{exercise.exercise_id}.final", figure(exercise.final)),
                  (f"{exercise.exercise_id}.possible", figure(exercise.possible)),
                  (f"{exercise.exercise_id}.excused", "yes" if exercise.excused else "no")]
    for name, value in named:
        ET.SubElement(properties, "property", name=_xml(name), value=_xml(value))


def _suite(row: Row, grade: FinalGrade, number: int, lang: str) -> ET.Element:
    """One student's ``<testsuite>``: valid against both the Ant schema (strict: no ``skipped``) and
    Jenkins' (lenient). A check that counts is a test case; one excused, or one that could not run
    here and does not count, is no test case (the Ant schema has no "skipped") and is named in
    ``system-out`` instead."""
    suite = ET.Element("testsuite", name=_xml(row.student_id), package=_xml(row.student_id), id=str(number),
                       timestamp=_timestamp(row), hostname="localhost")
    _properties(suite, grade)
    grading = {e.exercise_id: e for e in grade.exercises}
    counts = {"tests": 0, "failures": 0, "errors": 0}
    elapsed = 0.0
    notes: list[str] = []
    if row.result is None:  # nothing was graded: one error case carries why
        case = ET.SubElement(suite, "testcase", classname=_xml(row.student_id), name="submission", time="0.000")
        ET.SubElement(case, "error", message=row.status.value, type=row.status.value).text = _xml(row.error)
        counts["tests"], counts["errors"] = 1, 1
    for exercise in row.result.exercises if row.result is not None else []:
        final = grading.get(exercise.exercise_id)
        if final is None:
            continue
        excused = excused_checks(final)
        for check in exercise.checks:
            if final.excused or (check.counts and check.id in excused):
                notes.append(f"excused: {exercise.exercise_id} {check.id}")
                continue
            message = _xml(check.message(lang) if check.message else check.status.value)
            if not check.counts and check.status is CheckStatus.NOT_RUN:
                notes.append(f"not run here, not scored: {exercise.exercise_id} {check.id}: {message}")
                continue
            case = ET.SubElement(suite, "testcase", classname=_xml(f"{row.student_id}.{exercise.exercise_id}"),
                                 name=_xml(check.id), time=f"{check.duration_s:.3f}")
            counts["tests"] += 1
            elapsed += check.duration_s
            if check.status is CheckStatus.PARTIAL:
                earned = f"{figure(check.points)} of {figure(check.max_points)} points"
                ET.SubElement(case, "failure", message=f"{earned}: {message}"[:500], type="partial").text = message
                counts["failures"] += 1
            elif check.status in (CheckStatus.FAILED, CheckStatus.PUBLIC_ONLY, CheckStatus.NOT_RUN):
                ET.SubElement(case, "failure", message=message[:500], type=check.status.value).text = message
                counts["failures"] += 1
            elif check.status in (CheckStatus.ERROR, CheckStatus.TIMEOUT):
                ET.SubElement(case, "error", message=message[:500], type=check.status.value).text = message
                counts["errors"] += 1
        for item in final.rubric_items:  # scored by people: a failure until it has all its points
            if item.worth <= 0:
                notes.append(f"excused: {exercise.exercise_id} {item.check_id}")
                continue
            case = ET.SubElement(suite, "testcase", classname=_xml(f"{row.student_id}.{exercise.exercise_id}"),
                                 name=_xml(item.check_id), time="0.000")
            counts["tests"] += 1
            if item.given is None or item.given < item.worth - 1e-9:
                said = (f"{figure(item.given)} of {figure(item.worth)} points: {item.comment}" if item.given is not None
                        else "not scored yet")
                ET.SubElement(case, "failure", message=_xml(said)[:500],
                              type="rubric" if item.given is not None else "unscored").text = _xml(said)
                counts["failures"] += 1
    for key, count in counts.items():
        suite.set(key, str(count))
    suite.set("time", f"{elapsed:.3f}")
    ET.SubElement(suite, "system-out").text = _xml("\n".join(notes))
    ET.SubElement(suite, "system-err").text = ""
    return suite


def write_junit(rows: list[Row], course: Course, path: Path, lang: str = "en", grades: Grades | None = None) -> Path:
    """One ``<testsuite>`` per student (its ``package`` the student id, its ``id`` its place), one
    ``<testcase>`` per check that counts (a failure for failed, partial, public-only and counted
    not-run checks; an error for errors and timeouts), the final grade's parts as the suite's
    properties, each exercise's too (``<exercise>.final``, ``.possible``, ``.excused``)."""
    suites = ET.Element("testsuites")
    for number, row in enumerate(rows):
        suites.append(_suite(row, grade_of(row, course, grades), number, lang))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path
