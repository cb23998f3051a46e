"""The class report: its numbers, its escaping, and the page itself in real headless Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markupsafe import escape

from grader.publish.classreport import render_class_report, summarise, write_class_report
from grader.store.records import Row, Status, SubmissionInfo
from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = '<script>alert("x")</script>'


def make_rows() -> list[Row]:
    rows = []
    scores = {"amy": 10, "bo": 4, "cy": 7, "dee": 0, HOSTILE: 2, "eun": 10, "fay": 6}
    for student, points in scores.items():
        checks = [CheckResult("t.py::easy", T("쉬움", "easy"), CheckStatus.PASSED, min(points, 5), 5),
                  CheckResult("t.py::hard", T("어려움", "hard"), CheckStatus.PASSED if points == 10 else CheckStatus.FAILED,
                              max(0, points - 5), 5)]
        result = SubmissionResult(student, [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED, checks)])
        rows.append(Row.from_result(result, "h", SubmissionInfo(late=student == "bo")))
    rows.append(Row("gus", "h", Status.ERROR, 0, 10, error="the grading worker died (exit code 9)"))
    rows.append(Row("hal.zip", "h", Status.UNREADABLE, 0, 10, error="hal.zip: an entry points outside the archive (..)"))
    return rows


def test_summary_numbers(course) -> None:
    summary = summarise(make_rows(), course)
    assert len(summary.students) == 9
    assert summary.histogram[-1] == 2 and summary.histogram[0] == 3 and sum(summary.histogram) == 9
    assert [r.check_id for r in summary.rates] == ["t.py::hard", "t.py::easy"]  # hardest first
    assert (summary.rates[0].passed, summary.rates[0].total) == (2, 7)
    assert [p.id for p in summary.problems] == ["gus", "hal.zip"]
    assert summary.students[1].late is True


def test_untrusted_text_is_escaped_and_both_languages_render(course) -> None:
    page = render_class_report(make_rows(), course, lang="en", report_href=lambda s: f"students/{s}/report.html")
    assert HOSTILE not in page and str(escape(HOSTILE)) in page
    assert "Pass rate per check" in page
    assert "<link" not in page and "src=" not in page  # self-contained: nothing to fetch
    assert "검사별 통과율" in render_class_report(make_rows(), course, lang="ko")


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=90)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


DRIVE = """
<script>
(function () {
  var out = {};
  var table = document.getElementById("students");
  function ids() { return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[0].getAttribute("data-sort"); }); }
  out.before = ids();
  table.tHead.rows[0].cells[1].click();
  out.ascending = ids();
  table.tHead.rows[0].cells[1].click();
  out.descending = ids();
  var filter = document.getElementById("filter");
  filter.value = "ee"; filter.dispatchEvent(new Event("input"));
  out.shown = document.getElementById("shown").textContent;
  filter.value = ""; filter.dispatchEvent(new Event("input"));
  var status = document.getElementById("status-filter");
  status.value = "error"; status.dispatchEvent(new Event("change"));
  out.errors_shown = document.getElementById("shown").textContent;
  var pre = document.createElement("pre"); pre.id = "drive-result"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}());
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium browser (Debian package 'chromium')")
def test_report_in_headless_chromium(tmp_path: Path, course) -> None:
    rows = make_rows()
    index = write_class_report(rows, tmp_path / "index.html", course, lang="ko",
                               report_href=lambda s: f"students/{s}/report.html")
    shot = tmp_path / "class-report.png"
    taken = chromium(["--window-size=1200,1600", f"--screenshot={shot}", index.as_uri()], tmp_path / "profile1")
    assert shot.is_file() and shot.stat().st_size > 10_000, taken.stderr[-2000:]
    assert console_lines(taken.stderr) == []

    dom = chromium(["--dump-dom", index.as_uri()], tmp_path / "profile2")
    assert console_lines(dom.stderr) == []
    body = dom.stdout.split('<table id="students">')[1].split("</table>")[0]
    assert body.count("<tr data-status=") == len(rows)
    assert "<script>alert" not in dom.stdout  # the hostile id stayed text

    driven = tmp_path / "driven.html"
    driven.write_text(index.read_text(encoding="utf-8").replace("</body>", DRIVE + "</body>"), encoding="utf-8")
    run = chromium(["--dump-dom", driven.as_uri()], tmp_path / "profile3")
    assert console_lines(run.stderr) == [], run.stderr[-2000:]
    found = re.search(r'<pre id="drive-result">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stdout[-2000:]
    out = json.loads(html.unescape(found.group(1)))
    scores = {r.student_id: r.score for r in rows}
    assert sorted(out["before"]) == sorted(scores)
    assert [scores[s] for s in out["ascending"]] == sorted(scores.values())
    assert [scores[s] for s in out["descending"]] == sorted(scores.values(), reverse=True)
    assert out["shown"] == "1"  # only "dee" contains "ee"
    assert out["errors_shown"] == "1"


@pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium browser (Debian package 'chromium')")
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_report_with_adjustments_stale_and_late_ones_opens_clean(tmp_path: Path, course, lang: str) -> None:
    from datetime import datetime, timedelta, timezone

    from grader.store.records import Adjustment
    from grader.grades.final import final_grade
    from grader.course.late import parse_policy

    due = datetime(2026, 12, 14, 23, 59, tzinfo=timezone.utc)
    late = parse_policy({"due": due, "deduct_percent": 10, "mode": "apply"}, {}, "test")
    rows = make_rows()
    made = [Adjustment(student_id="amy", exercise_id="02_dataset", kind="add", value=-1, reason=HOSTILE, author="t",
                       created_at="2026-12-16T00:00:00+00:00", id=1, files_hash="old"),
            Adjustment(student_id="cy", exercise_id="02_dataset", kind="set", value=9, reason="regrade", author="t",
                       created_at="2026-12-16T00:00:00+00:00", id=2)]
    grades = {r.student_id: final_grade(r.student_id, r.result, course, made, files_hash="new", policy=late,
                                        submitted_at=due + timedelta(hours=30) if r.student_id == "fay" else due)
              for r in rows}
    index = write_class_report(rows, tmp_path / "index.html", course, lang=lang, grades=grades,
                               report_href=lambda s: f"students/{s}/report.html")
    dom = chromium(["--dump-dom", index.as_uri()], tmp_path / "profile")
    assert console_lines(dom.stderr) == [], dom.stderr[-2000:]
    cards = {key: re.search(rf'id="{key}-count"><b>(\d+)</b>', dom.stdout) for key in ("adjusted", "stale", "late")}
    assert {key: int(found.group(1)) for key, found in cards.items() if found} == {"adjusted": 2, "stale": 1, "late": 2}
    # fay's final score: 6 of 10, two days late at 10% of the points each.
    assert re.search(r'data-sort="4\.0"[^>]*>4 / 10', dom.stdout), dom.stdout[:3000]
    assert "<script>alert" not in dom.stdout
