"""The course service in a real browser: Playwright driving Debian's chromium (its executable
path; nothing is downloaded), against a real server grading real notebooks in real kernels.

A student opens their link, uploads a notebook, and sees the self-check table arrive without a
reload; a second student cannot see any of it; after the instructor releases the exercise, the
first student sees the hidden results.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from .service import ROOT, Served, make_service
from .test_accessibility import assert_accessible

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (pip install playwright)")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium browser (Debian package 'chromium')")]
# Chromium in a container: no setuid sandbox to use, no GPU, nothing fetched behind our back.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def graded_service(tmp_path_factory, data_root: Path, cage_for_students: str) -> Served:
    service = make_service(tmp_path_factory.mktemp("browser"), data_root, ["alice", "bob"])
    service.start(timeout=180)
    yield service
    service.stop()


def hard_coded(folder: Path) -> Path:
    """02_dataset's solution saying the training split has the public data's 1000 images: every
    public check passes; the hidden twin of the length check, on other data, does not."""
    import sys

    sys.path.insert(0, str(ROOT / "samples"))
    try:
        from make_sample_class import course_notebooks, with_cell
    finally:
        sys.path.pop(0)
    solution = course_notebooks(ROOT / "exercises", ROOT / "solutions")["02_dataset"]["json"]
    cell = (ROOT / "tests/data/golden/02_dataset/hardcoded_lengths.py").read_text(encoding="utf-8")
    path = folder / "02_dataset.ipynb"
    path.write_text(json.dumps(with_cell(solution, cell)), encoding="utf-8")
    return path


def test_a_student_hands_in_and_sees_feedback_and_nobody_else_does(browser, graded_service: Served) -> None:
    service = graded_service
    errors: list[str] = []
    alice = browser.new_context().new_page()
    alice.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    alice.goto(service.links["alice"])
    assert alice.url == f"{service.url}/me"  # the token left the address bar
    assert "Student alice" in alice.inner_text("header")

    with tempfile.TemporaryDirectory() as scratch:
        alice.set_input_files("#files", str(hard_coded(Path(scratch))))
        alice.check("#kind-handin")
        alice.click("#upload button[type=submit]")
        alice.wait_for_url(f"{service.url}/me/uploads/*")
    upload_url = alice.url
    assert "received (server time)" in alice.inner_text("#receipt")
    # The result arrives on this page without a reload.
    alice.wait_for_selector("#self-score", timeout=120_000)
    assert alice.url == upload_url
    table = alice.inner_text("#result")
    assert "Dataset and DataLoader" in table and "hidden" not in table.lower().replace("hidden checks,", "")
    assert alice.inner_text("#self-score") == "15 / 15"  # the public checks pass, the gated one too
    assert "public data set only" not in table and "other inputs" not in table

    bob = browser.new_context().new_page()
    bob.goto(service.links["bob"])
    answer = bob.goto(upload_url)
    assert answer.status == 404 and "Not found" in bob.inner_text("main")
    assert "Dataset and DataLoader (2-6)" not in bob.content()

    prof = browser.new_context().new_page()
    prof.goto(service.links["prof"])
    assert prof.url == f"{service.url}/desk"
    prof.select_option("#release-exercise", "02_dataset")
    prof.click("#release button[type=submit]")
    prof.wait_for_url(f"{service.url}/desk")
    assert "02_dataset" in prof.inner_text("#releases")

    alice.goto(f"{service.url}/me/feedback")
    report = alice.inner_text("main")
    assert "works on the public data set only" in report and "02_dataset" in report
    earned = re.fullmatch(r"score: ([\d.]+) / 20", alice.inner_text("#score").strip())
    assert earned and float(earned.group(1)) < 20  # the hidden twin took the length check's points back
    alice.goto(upload_url)
    assert "hidden" in alice.inner_text("#result").lower()  # the released exercise, whole, on the upload too
    bob.goto(f"{service.url}/me/feedback")
    assert "No feedback has been released yet." in bob.inner_text("main")
    assert service.health()["torch_loaded"] is False  # the web process graded nothing itself
    assert errors == []


@pytest.fixture(scope="module")
def desk_service(tmp_path_factory, data_root: Path) -> Served:
    """The desk's own service: the stand-in unit grades (the desk does not depend on how)."""
    service = make_service(tmp_path_factory.mktemp("desk-browser"), data_root, ["alice", "bob"])
    service.unit = "tests.service:fake_exercises"
    service.start()
    yield service
    service.stop()


def test_the_desk_scores_answers_and_releases_in_a_browser(browser, desk_service: Served) -> None:
    """A TA scores the written answer from the keyboard and answers a regrade request; the
    instructor releases the exercise; the student's feedback page changes with each."""
    import nbformat

    service = desk_service
    notebook = nbformat.read(ROOT / "solutions" / "06_training.ipynb", as_version=4)
    assert service.api_upload("alice", "06_training.ipynb", nbformat.writes(notebook).encode()).status_code == 201
    service.wait_all_graded(1, timeout=60)
    errors: list[str] = []
    pages = {}
    for person in ("alice", "ta1", "prof"):
        pages[person] = browser.new_context().new_page()
        pages[person].on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pages[person].goto(service.links[person])
    alice, ta, prof = pages["alice"], pages["ta1"], pages["prof"]
    alice.goto(f"{service.url}/me/feedback")
    assert "No feedback has been released yet." in alice.inner_text("main")

    # The TA scores the written answer: the answer beside the rubric, level 1 chosen with the "2" key.
    ta.click("#rubric-items a")
    ta.wait_for_load_state("load")  # its script (the keys) has run
    assert "step function" in ta.inner_text("#answer")
    assert_accessible(ta, "a rubric item with a student's answer")
    ta.keyboard.press("2")
    assert ta.is_checked("#level-2")
    ta.keyboard.press("Enter")
    ta.wait_for_selector("#all-scored")
    assert "alice: 1" in ta.inner_text("#rubric-order")

    # The instructor releases 06 to the class; the student sees the rubric item and its comment.
    prof.select_option("#release-exercise", "06_training")
    prof.click("#release button[type=submit]")
    prof.wait_for_url(f"{service.url}/desk")
    alice.goto(f"{service.url}/me/feedback")
    assert "1 / 3" in alice.inner_text("#rubric") and "Partly" in alice.inner_text("#rubric")

    # She asks for a regrade of the item; the TA accepts it with 2 more points; she sees the answer.
    alice.select_option("#regrade-target", "06_training::rubric:why_not_accuracy")
    alice.fill("#regrade-reason", "I did say why the gradient is zero.")
    alice.click("#ask-regrade button[type=submit]")
    alice.wait_for_url(f"{service.url}/me/feedback")
    assert "waiting for an answer" in alice.inner_text("#my-requests")
    ta.goto(f"{service.url}/desk/requests")
    ta.fill("input[name=reply]", "Yes: full marks.")
    ta.select_option("select[name=kind]", "set")
    ta.fill("input[name=value]", "3")
    ta.click("button[value=accepted]")
    ta.wait_for_url(f"{service.url}/desk/requests")
    assert "accepted" in ta.inner_text("main")
    alice.goto(f"{service.url}/me/feedback")
    assert "Yes: full marks." in alice.inner_text("#my-requests") and "3 / 3" in alice.inner_text("#rubric")
    assert_accessible(alice, "feedback with a rubric item and a regrade request")
    # Bob sees none of Alice's.
    bob = browser.new_context().new_page()
    bob.goto(service.links["bob"])
    bob.goto(f"{service.url}/me/feedback")
    assert "full marks" not in bob.content() and "I did say why" not in bob.content()
    assert not errors, errors  # no CSP violation, no script error
