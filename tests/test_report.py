"""The student report: self-contained, escaped, and right for full, zero and errored results."""

from __future__ import annotations

import re

import pytest

from grader.i18n import T
from grader.publish.report import render_student_report
from grader.results import CellError, CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def check(status: CheckStatus, points: float, *, hidden: bool = False, text: str = "") -> CheckResult:
    return CheckResult(
        id=f"02_dataset::test_{status.value}", title=T("제목", "Title"), status=status,
        points=points, max_points=2, hidden=hidden,
        message=T.same(f"message {text}") if status is not CheckStatus.PASSED else None,
        hint=T.same(f"hint {text}") if status is CheckStatus.FAILED else None,
        error=CellError(index=-1, kind="error", ename="ValueError", evalue=text, traceback=f"Traceback {text}")
        if status is CheckStatus.ERROR else None,
    )


def submission(checks: list[CheckResult], *, status=ExerciseStatus.GRADED, cell_errors=(), sid="student-1"):
    exercise = ExerciseResult(exercise_id="02_dataset", title=T("데이터셋", "Dataset"), status=status,
                              checks=checks, cell_errors=list(cell_errors))
    return SubmissionResult(submission_id=sid, exercises=[exercise], finished_at="2026-11-25T10:00:00+00:00",
                            grader_version="0.1.0", hidden_checks=True, problems=[T.same(f"problem {HOSTILE}")])


CASES = {
    "full": submission([check(CheckStatus.PASSED, 2), check(CheckStatus.PASSED, 2, hidden=True)]),
    "zero": submission([check(CheckStatus.FAILED, 0, text=HOSTILE), check(CheckStatus.NOT_RUN, 0, hidden=True)]),
    "errored": submission(
        [check(CheckStatus.ERROR, 0, text=HOSTILE), check(CheckStatus.TIMEOUT, 0)],
        status=ExerciseStatus.KERNEL_DIED,
        cell_errors=[CellError(index=4, kind="kernel_died", ename=HOSTILE, evalue=HOSTILE,
                               traceback=HOSTILE, source=f"print('{HOSTILE}')")],
        sid=f"evil{HOSTILE}"),
}


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
@pytest.mark.parametrize("lang", ["ko", "en"], ids=["ko", "en"])
def test_report_renders_escaped_and_self_contained(name: str, lang: str) -> None:
    result = CASES[name]
    html = render_student_report(result, lang)
    assert "<script>" not in html and "onerror=" not in html.replace("onerror=alert(1)&gt;", "")
    assert "<img" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external resources"
    assert f"{result.score:g} / {result.max_score:g}" in html
    assert html.index('id="score"') < html.index('class="exercise"'), "the score comes first"
    if name != "full":
        assert "&lt;script&gt;" in html


def test_report_shows_each_check_with_status_and_points() -> None:
    html = render_student_report(CASES["zero"], "en")
    assert html.count('data-status="failed"') == 1 and html.count('data-status="not_run"') == 1
    assert "0 / 2" in html and "hidden check" in html


def test_errored_report_shows_the_failing_cell() -> None:
    html = render_student_report(CASES["errored"], "ko")
    assert "오류가 난 셀" in html and "셀 4" in html
    assert "print(&#39;&lt;script&gt;" in html


def test_hidden_check_source_never_appears(course) -> None:
    hidden_source = course.exercise("02_dataset").hidden_checks[0].read_text(encoding="utf-8")
    html = render_student_report(CASES["full"], "en")
    for line in hidden_source.splitlines():
        if len(line.strip()) > 30:
            assert line.strip() not in html


def test_every_exercise_status_has_words_in_both_languages() -> None:
    from grader.i18n import ui
    from grader.results import ExerciseStatus

    for status in ExerciseStatus:
        assert ui(status.value, "ko") != ui(status.value, "en"), status
    html = render_student_report(submission([], status=ExerciseStatus.LIMIT), "ko")
    assert "자원 제한 초과" in html


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_report_says_which_cage_and_what_it_does_not_stop(lang: str) -> None:
    import html

    from grader.kernel.sandbox import GAPS

    result = submission([check(CheckStatus.PASSED, 2)])
    result.exercises[0].kernel.update(sandbox="container", gaps=["other_files", "scratch_size"])
    line = html.unescape(re.search(r'<div class="muted sandbox">(.*?)</div>', render_student_report(result, lang)).group(1))
    assert "container" in line and GAPS["other_files"](lang) in line and GAPS["scratch_size"](lang) in line
    assert GAPS["network"](lang) not in line
    result.exercises[0].kernel.update(sandbox="bwrap", gaps=[])
    line = re.search(r'<div class="muted sandbox">(.*?)</div>', render_student_report(result, lang)).group(1)
    assert "bwrap" in line and ("막지 못한 것" if lang == "ko" else "does not stop") not in line


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_report_leads_with_the_final_grade_its_adjustments_and_lateness(course, lang: str) -> None:
    from datetime import datetime, timedelta, timezone

    from grader.store.records import Adjustment
    from grader.grades.final import final_grade
    from grader.course.late import parse_policy
    from grader.i18n import ui

    due = datetime(2026, 12, 14, 23, 59, tzinfo=timezone.utc)
    result = submission([check(CheckStatus.PASSED, 2), check(CheckStatus.FAILED, 0, text="x")])
    made = [Adjustment(student_id="student-1", exercise_id="02_dataset", kind="add", value=1, reason=HOSTILE,
                       author="prof-secret-name", created_at="2026-12-16T00:00:00+00:00", id=1, files_hash="old")]
    grade = final_grade("student-1", result, course, made, files_hash="new", submitted_at=due + timedelta(hours=3),
                        policy=parse_policy({"due": due, "deduct_percent": 10, "per": "hour", "mode": "report"}, {}, "t"))
    page = render_student_report(result, lang, grade)
    assert f'{ui("final_grade", lang)}: 3 / 4' in page and f'{ui("auto_score", lang)}: 2 / 4' in page
    assert HOSTILE not in page and "prof-secret-name" not in page and ui("stale", lang) in page
    assert "3 h" in page and ui("penalty_shown_only", lang) in page
    assert ui("final_grade", lang) not in render_student_report(result, lang)  # without a grade: as before


def test_partial_credit_reads_as_its_share_in_the_report_and_the_terminal() -> None:
    from rich.console import Console

    from grader.publish.terminal import print_submission

    partly = check(CheckStatus.PARTIAL, 4 / 3, text="2 of 3 values right")
    result = submission([partly, check(CheckStatus.PASSED, 2)])
    html = render_student_report(result, "en")
    assert "partly right" in html and '<td class="pts">1.33 / 2</td>' in html
    assert "3.33 / 4" in html  # the exercise and the total, to two decimals
    console = Console(record=True, width=120)
    print_submission(result, "en", console)
    text = console.export_text()
    assert "partly right" in text and "1.33/2" in text and "total: 3.33 / 4" in text
    assert render_student_report(result, "ko").count("부분 점수") >= 1
