"""Self-contained HTML reports: jinja2 with autoescape, inline CSS and SVG, no network.

Student output, messages and tracebacks are untrusted text: autoescaping turns all of it into
text, never markup. Hidden checks show their title and message, never their source.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from grader.grades.final import FinalGrade
from grader.i18n import T, points_text, ui
from grader.kernel.sandbox.words import does_not_stop
from grader.results import CheckStatus, ExerciseResult, SubmissionResult

__all__ = ["SUBMISSION_COLOURS", "environment", "exercise_table_html", "render_student_report", "report_context",
           "write_student_report"]

STATUS_COLOURS = {
    CheckStatus.PASSED: "#1a7f37",
    CheckStatus.PARTIAL: "#0969da",
    CheckStatus.FAILED: "#cf222e",
    CheckStatus.ERROR: "#bc4c00",
    CheckStatus.TIMEOUT: "#8250df",
    CheckStatus.NOT_RUN: "#6e7781",
    CheckStatus.PUBLIC_ONLY: "#9a6700",
}
SUBMISSION_COLOURS = {"graded": "#1a7f37", "timeout": "#8250df", "error": "#cf222e", "missing": "#6e7781",
                      "unreadable": "#bc4c00"}


@functools.cache  # one environment: its compiled templates are reused (bulk renders thousands)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.publish", "templates"),
        autoescape=True,  # every template, whatever its name: student text is never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["ui"] = ui
    env.globals["does_not_stop"] = does_not_stop
    env.globals["check_colours"] = {status.value: colour for status, colour in STATUS_COLOURS.items()}
    env.globals["submission_colours"] = SUBMISSION_COLOURS
    env.filters["pts"] = points_text
    return env


def score_ring(score: float, maximum: float, size: int = 96) -> dict[str, Any]:
    """Geometry for an inline SVG ring showing ``score`` of ``maximum``."""
    fraction = 0.0 if maximum <= 0 else max(0.0, min(1.0, score / maximum))
    radius = size / 2 - 8
    circumference = 2 * 3.141592653589793 * radius
    return {"size": size, "r": radius, "c": circumference, "dash": circumference * fraction,
            "percent": round(100 * fraction)}


def late_words(seconds: float) -> str:
    """A lateness in the largest whole units ("1 d 2 h", "25 min", "12 s")."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [f"{n} {u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    return " ".join(parts[:2]) or f"{rest} s"


def report_context(result: SubmissionResult, lang: str = "en", grade: FinalGrade | None = None,
                   notes: Mapping[str, list[T]] | None = None) -> dict[str, Any]:
    """What the student report's templates read (``_student_body.html.j2`` within a page of one's own)."""
    shown = grade if grade is not None and (grade.applied or grade.late or grade.mode
                                            or any(e.rubric_items for e in grade.exercises)) else None
    score, possible = (shown.final, shown.possible) if shown else (result.score, result.max_score)
    return {"result": result, "lang": lang, "ring": score_ring(score, possible), "Status": CheckStatus,
            "grade": shown, "late_words": late_words, "notes": notes or {}}


def render_student_report(result: SubmissionResult, lang: str = "en", grade: FinalGrade | None = None,
                          notes: Mapping[str, list[T]] | None = None) -> str:
    """The student's page; with ``grade``, their final grade, adjustments (reasons, never authors)
    and lateness lead it. ``notes``: the instructor's answers to the student's mistake clusters,
    by check id (or exercise id for the whole exercise). A check's ``why`` and ``observed`` are
    the instructor's and never shown here: they may quote hidden inputs."""
    return environment().get_template("student.html.j2").render(report_context(result, lang, grade, notes))


def write_student_report(result: SubmissionResult, path: Path, lang: str = "en", grade: FinalGrade | None = None,
                         notes: Mapping[str, list[T]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_student_report(result, lang, grade, notes), encoding="utf-8")
    return path


def exercise_table_html(result: ExerciseResult, lang: str = "en") -> str:
    template = environment().get_template("exercise_table.html.j2")
    return template.render(exercise=result, lang=lang, Status=CheckStatus)
