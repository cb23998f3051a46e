"""Every page people read passes axe-core in a real browser: the student report (ko, en), the
class report, the similarity pages, and the course service's pages (student, upload, feedback,
desk, and the rest).

axe-core is the npm package pinned in tests/a11y (``npm ci`` there installs it; .ci/run does).
No Node runs here: its ``axe.min.js`` is evaluated in Debian's chromium, driven by Playwright
through its executable path, as tests/test_service_browser.py does. WCAG 2.1 A and AA, plus
axe's best practices; a serious or critical violation fails the test.

For a new page of the service: a line in ``SERVICE_PAGES``. Elsewhere: open it in the ``page``
fixture's page, then ``assert_accessible(page, name)``; from another module,
``from .test_accessibility import assert_accessible, browser, page`` (the fixtures skip, saying
why, where chromium or playwright is missing; the helper, where axe-core is).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader.course.late import parse_policy
from grader.grades.final import final_grade
from grader.i18n import T
from grader.insight.fingerprints import CELL_BREAK
from grader.insight.pages import write_pages
from grader.insight.similarity import compare_exercise
from grader.publish.classreport import write_class_report
from grader.publish.report import write_student_report
from grader.results import CellError, CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
from grader.store.records import Adjustment, Row, Status

from .planted import disguised
from .service import Served, make_service, notebook_bytes
from .test_bulk import fake_grade
from .test_classreport import make_rows
from .test_similarity import DISTINCT, EXERCISE, golden_class, reference_code, skeleton

HERE = Path(__file__).resolve().parent
AXE = HERE / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# WCAG 2.1 AA is what US public universities must meet; axe's best practices cost nothing more here.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
FAILING = ("serious", "critical")
# The same flags as tests/test_service_browser.py: chromium in a container, fetching nothing.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium browser (Debian package 'chromium')"),
    pytest.mark.skipif(not AXE.is_file(), reason="needs axe-core: make a11y (npm ci in tests/a11y)"),
]


# ---------------------------------------------------------------------- the helper

def axe_violations(page, *, tags: Sequence[str] = TAGS, open_details: bool = True) -> list[dict]:
    """axe-core's violations on ``page`` as it is now, run under ``tags``; with ``open_details``,
    every <details> is opened first, so that what a reader can unfold is checked too.

    The source goes in through ``page.evaluate``: Playwright sends it over the DevTools protocol
    (Runtime.evaluate), which the page's Content-Security-Policy does not govern, so the
    service's strict policy (no inline script, no eval) stays on for the page under test. A
    <script> tag would be refused by that policy.
    """
    if not AXE.is_file():
        pytest.skip("needs axe-core: make a11y (npm ci in tests/a11y)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    if open_details:
        page.evaluate("document.querySelectorAll('details:not([open])').forEach((d) => { d.open = true; })")
    return page.evaluate(
        """async (tags) => {
             const found = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                                    resultTypes: ["violations"]});
             return found.violations.map((v) => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary}))}));
           }""", list(tags))


def assert_accessible(page, name: str, *, tags: Sequence[str] = TAGS, failing: Sequence[str] = FAILING,
                      open_details: bool = True) -> None:
    """Fail when axe finds a violation of an impact in ``failing`` on ``page``, listing each
    rule, its impact and the offending nodes' selectors; ``name`` says which page."""
    bad = [v for v in axe_violations(page, tags=tags, open_details=open_details) if v["impact"] in failing]
    if bad:
        lines = [f"{name} ({page.url}): {len(bad)} accessibility violation(s)"]
        for v in bad:
            lines.append(f"- {v['id']} [{v['impact']}]: {v['help']}")
            for node in v["nodes"][:10]:
                lines.append(f"    {node['target']}: {' '.join((node['summary'] or '').split())[:300]}")
            if len(v["nodes"]) > 10:
                lines.append(f"    ... and {len(v['nodes']) - 10} more")
        pytest.fail("\n".join(lines), pytrace=False)


def assert_statuses_in_words(page, name: str) -> None:
    """The page has status badges (``st-*``, ``sub-*``), and each says its status in visible
    text: the colour is never the only sign (WCAG 1.4.1, which axe cannot judge)."""
    badges = page.evaluate("""() => Array.from(document.querySelectorAll('[class*="st-"], [class*="sub-"]'))
        .filter((e) => /(^|\\s)(st|sub)-/.test(e.className))
        .map((e) => [e.className, e.innerText.trim()])""")
    assert badges, f"{name}: no status badge to check"
    assert [b for b in badges if not b[1]] == [], f"{name}: a status shown by colour alone"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium under Playwright. Skips (saying why) where either is missing, so that
    another module may import this fixture with the helpers."""
    if CHROMIUM is None:
        pytest.skip("needs the chromium browser (Debian package 'chromium')")
    playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_the_gate_catches_what_it_must(page) -> None:
    """A page with known faults fails, naming the rules and the nodes (else a broken injection
    would pass every page)."""
    page.set_content('<html><body><p style="color:#aaa">faint</p><input id="nameless">'
                     '<details><summary>more</summary><img src="data:,"></details></body></html>')
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_accessible(page, "faulty")
    said = str(failed.value)
    assert "color-contrast [serious]" in said and "label [critical]" in said and "#nameless" in said
    assert "image-alt [critical]" in said  # inside a closed <details>: opened first
    assert "html-has-lang [serious]" in said


# ---------------------------------------------------------------------- the static reports

DUE = datetime(2026, 12, 14, 23, 59, tzinfo=UTC)
# Long enough to scroll in its box: a scrolling region must be reachable by keyboard.
TRACEBACK = "Traceback (most recent call last):\n" + "".join(f'  File "cell", line {n}, in f\n' for n in range(80))


def every_status(submission_id: str = "student-1") -> SubmissionResult:
    """A submission showing every check status, a hidden check, failing cells and problems."""
    checks = [CheckResult(f"02_dataset::test_{status.value}", T("검사 제목", "Check title"), status,
                          2 if status is CheckStatus.PASSED else 1 if status is CheckStatus.PARTIAL else 0, 2,
                          hidden=status is CheckStatus.PUBLIC_ONLY,
                          message=None if status is CheckStatus.PASSED else T("메시지", "a message"),
                          hint=T("힌트", "a hint") if status is CheckStatus.FAILED else None,
                          error=CellError(index=-1, kind="error", ename="ValueError", evalue="bad",
                                          traceback=TRACEBACK) if status is CheckStatus.ERROR else None)
              for status in CheckStatus]
    exercises = [ExerciseResult("02_dataset", T("데이터셋", "Dataset"), ExerciseStatus.GRADED, checks,
                                cell_errors=[CellError(index=4, kind="error", ename="NameError", evalue="x",
                                                       traceback=TRACEBACK, source="print(x)\n" * 80)]),
                 ExerciseResult("04_model", T("모델", "Model"), ExerciseStatus.KERNEL_DIED, [],
                                problems=[T("커널이 죽었습니다", "the kernel died")])]
    exercises[0].kernel.update(sandbox="container", gaps=["scratch_size"])
    return SubmissionResult(submission_id, exercises, finished_at="2026-11-25T10:00:00+00:00", grader_version="0.1.0",
                            hidden_checks=True, problems=[T.same("a problem")])


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_student_report(page, tmp_path: Path, course, lang: str) -> None:
    result = every_status()
    made = [Adjustment(student_id="student-1", exercise_id="02_dataset", kind="add", value=1, reason="regrade",
                       author="t", created_at="2026-12-16T00:00:00+00:00", id=1, files_hash="old")]
    grade = final_grade("student-1", result, course, made, files_hash="new", submitted_at=DUE + timedelta(hours=3),
                        policy=parse_policy({"due": DUE, "deduct_percent": 10, "per": "hour", "mode": "report"},
                                            {}, "t"))
    report = write_student_report(result, tmp_path / "report.html", lang, grade)
    page.goto(report.as_uri())
    assert_statuses_in_words(page, f"report.html ({lang})")
    assert_accessible(page, f"report.html ({lang})")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_class_report(page, tmp_path: Path, course, lang: str) -> None:
    rows = [*make_rows(), Row("ida", "h", Status.MISSING, 0, 10), Row("jo", "h", Status.TIMEOUT, 0, 10)]
    late = parse_policy({"due": DUE, "deduct_percent": 10, "mode": "apply"}, {}, "test")
    made = [Adjustment(student_id="amy", exercise_id="02_dataset", kind="add", value=-1, reason="x", author="t",
                       created_at="2026-12-16T00:00:00+00:00", id=1, files_hash="old")]
    grades = {r.student_id: final_grade(r.student_id, r.result, course, made, files_hash="new", policy=late,
                                        submitted_at=DUE + timedelta(hours=30) if r.student_id == "fay" else DUE)
              for r in rows}
    index = write_class_report(rows, tmp_path / "index.html", course, lang=lang, grades=grades,
                               report_href=lambda s: f"students/{s}/report.html")
    page.goto(index.as_uri())
    assert_statuses_in_words(page, f"index.html ({lang})")
    assert_accessible(page, f"index.html ({lang})")
    page.focus("#students thead th:nth-child(2) button")  # the keyboard sorts too
    page.keyboard.press("Enter")
    assert page.get_attribute("#students thead th:nth-child(2)", "aria-sort") == "ascending"
    assert_accessible(page, f"index.html ({lang}), sorted")


# ---------------------------------------------------------------------- the course service

def graded_with_every_status(session, path: Path, *, submission_id: str | None = None) -> SubmissionResult:
    """The service's grading unit here (``UNIT``): the bulk tests' stand-in, except that a
    notebook saying EVERY gets :func:`every_status`, so that the upload and feedback pages show
    every status, a traceback and a failing cell."""
    text = "".join(p.read_text() for p in sorted(Path(path).rglob("*.ipynb")))
    if "EVERY" in text:
        return every_status(submission_id or "")
    return fake_grade(session, path, submission_id=submission_id)


UNIT = f"{__name__}:graded_with_every_status"


@pytest.fixture(scope="module")
def served(tmp_path_factory, data_root: Path, browser) -> Iterator[tuple[Served, dict[str, int]]]:
    """A server grading with a stand-in unit, as tests/test_service.py's does: alice's hand-in
    graded with every status and her self-check failed, then 02_dataset released by the
    instructor through the desk's form. bob has handed in nothing."""
    service = make_service(tmp_path_factory.mktemp("a11y"), data_root, ["alice", "bob"])
    service.unit = UNIT
    service.start()
    try:
        uploads = {kind: service.api_upload("alice", "02_dataset.ipynb", notebook_bytes(text), kind=kind).json()["id"]
                   for kind, text in (("handin", "EVERY"), ("check", "RAISE"))}
        service.wait_all_graded(len(service.uploads()), timeout=60)
        context = browser.new_context()
        prof = context.new_page()
        prof.goto(service.links["prof"])
        prof.select_option("#release-exercise", "02_dataset")
        prof.click("#release button[type=submit]")
        prof.wait_for_url(f"{service.url}/desk")
        assert "02_dataset" in prof.inner_text("#releases")
        context.close()
        yield service, uploads
    finally:
        service.stop()


# page name → (who signs in, or None; the path). A new page: a line here.
SERVICE_PAGES = {
    "home": (None, "/"),
    "message (not signed in)": (None, "/me"),
    "student": ("alice", "/me"),
    "student (ko)": ("alice", "/me?lang=ko"),
    "student (nothing handed in)": ("bob", "/me"),
    "upload (graded)": ("alice", "/me/uploads/{handin}"),
    "upload (failed)": ("alice", "/me/uploads/{check}"),
    "feedback": ("alice", "/me/feedback"),
    "feedback (ko)": ("alice", "/me/feedback?lang=ko"),
    "feedback (none)": ("bob", "/me/feedback"),
    "desk (instructor)": ("prof", "/desk"),
    "desk: a student": ("ta1", "/desk/students/alice"),
    "desk: a rubric item": ("ta1", "/desk/rubric/06_training/why_not_accuracy"),
    "desk: regrade requests": ("ta1", "/desk/requests"),
    "desk: publish": ("prof", "/desk/publish"),
    "desk (TA)": ("ta1", "/desk"),
}
WITH_BADGES = {"upload (graded)", "feedback", "feedback (ko)"}  # pages that must show status badges


@pytest.mark.parametrize("name", list(SERVICE_PAGES))
def test_the_service_page(page, served: tuple[Served, dict[str, int]], name: str) -> None:
    service, uploads = served
    person, path = SERVICE_PAGES[name]
    if person is not None:
        page.goto(service.links[person])  # the link signs this context in
    answer = page.goto(service.url + path.format(**uploads))
    assert answer is not None and answer.status == (401 if person is None and path != "/" else 200), answer
    if "(ko)" in name:
        assert page.get_attribute("html", "lang") == "ko"
    if name in WITH_BADGES:
        assert_statuses_in_words(page, name)
    assert_accessible(page, name)


def test_the_similarity_pages(page, tmp_path: Path, course) -> None:
    code = golden_class(course, EXERCISE)
    code["author"] = f"{reference_code(course, EXERCISE)}\n{CELL_BREAK}\n{DISTINCT}"
    code["copier"] = disguised(DISTINCT)
    index = write_pages([compare_exercise(EXERCISE, code, skeleton(course, EXERCISE))], course, tmp_path)
    page.goto(index.as_uri())
    assert_accessible(page, "similarity/index.html")
    pair = next(p for p in sorted(index.parent.glob("pairs/*.html")) if "copier" in p.read_text(encoding="utf-8"))
    page.goto(pair.as_uri())
    assert_accessible(page, f"similarity/pairs/{pair.name}")
