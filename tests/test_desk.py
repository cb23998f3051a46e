"""The instructors' desk over HTTP, against a real uvicorn: who may do what on every endpoint,
rubric items scored into the final grade, a student's answer shown as text, regrade requests.

Grading here is the stand-in :func:`tests.service.fake_exercises` (what the desk does does not
depend on what grading does); tests/test_service_browser.py drives the desk in a real browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.config import GradeConfig
from grader.course.manifest import load_course
from grader.service.app import create_app
from grader.store.service import ServiceStore

from .service import ROOT, Served, make_service

STUDENTS = ["alice", "bob"]
RUBRIC = "/desk/rubric/06_training/why_not_accuracy"

# Every route, and who may use it. A new route fails test_every_route_is_listed until it is here.
PUBLIC, SIGNED_IN, STUDENT, GRADER, INSTRUCTOR = "public", "signed in", "student", "grader", "instructor"
ROUTES = {
    ("/", "GET"): PUBLIC, ("/s/{token}", "GET"): PUBLIC, ("/health", "GET"): PUBLIC,
    ("/static/report.css", "GET"): PUBLIC, ("/static", "GET"): PUBLIC,
    ("/lti/login", "GET"): PUBLIC, ("/lti/login", "POST"): PUBLIC, ("/lti/launch", "POST"): PUBLIC,
    ("/lti/jwks", "GET"): PUBLIC,
    ("/signout", "POST"): SIGNED_IN,
    ("/me", "GET"): STUDENT, ("/me/uploads", "POST"): STUDENT, ("/me/uploads/{id}", "GET"): STUDENT,
    ("/me/uploads/{id}/status", "GET"): STUDENT, ("/me/feedback", "GET"): STUDENT,
    ("/me/requests", "POST"): STUDENT, ("/api/uploads", "POST"): STUDENT, ("/api/uploads/{id}", "GET"): STUDENT,
    ("/desk", "GET"): GRADER, ("/desk/students/{student}", "GET"): GRADER, ("/desk/adjust", "POST"): GRADER,
    ("/desk/annotate", "POST"): GRADER, ("/desk/rubric/{exercise}/{item}", "GET"): GRADER,
    ("/desk/rubric/{exercise}/{item}", "POST"): GRADER, ("/desk/requests", "GET"): GRADER,
    ("/desk/requests/{id}", "POST"): GRADER,
    ("/desk/release", "POST"): INSTRUCTOR, ("/desk/publish", "GET"): INSTRUCTOR, ("/desk/publish", "POST"): INSTRUCTOR,
    ("/desk/roster", "POST"): INSTRUCTOR,
}
SAMPLE = {"{id}": "1", "{student}": "alice", "{exercise}": "06_training", "{item}": "why_not_accuracy",
          "{token}": "not-a-token"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory, data_root) -> Served:
    service = make_service(tmp_path_factory.mktemp("desk"), data_root, STUDENTS)
    service.unit = "tests.service:fake_exercises"
    service.start()
    yield service
    service.stop()


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def hand_in(served: Served, student: str, answer: str | None = None) -> None:
    """The 06 solution handed in (its answer cell replaced by ``answer``), and graded."""
    notebook = nbformat.read(ROOT / "solutions" / "06_training.ipynb", as_version=4)
    if answer is not None:
        for cell in notebook.cells:
            if cell.metadata.get("grader", {}).get("answer") == "why_not_accuracy":
                cell.source = answer
    made = served.api_upload(student, "06_training.ipynb", nbformat.writes(notebook).encode())
    assert made.status_code == 201, made.text
    served.wait_all_graded(len(served.uploads()), timeout=60)


def concrete(path: str) -> str:
    for name, value in SAMPLE.items():
        path = path.replace(name, value)
    return path


def listed_routes(served: Served) -> set[tuple[str, str]]:
    course = load_course(ROOT / "exercises")
    app = create_app(served.folder, GradeConfig(course=course, data_root=served.data_root, work_dir=served.folder))
    found = set()
    for route in app.routes:
        methods = getattr(route, "methods", None) or {"GET"}
        found |= {(route.path.replace(":int}", "}"), m) for m in methods if m != "HEAD"}
    return found


def test_every_route_is_listed(desk: Served) -> None:
    # So that a new endpoint cannot go untested: each is in ROUTES, with who may use it.
    assert listed_routes(desk) == set(ROUTES)


def test_every_endpoint_refuses_those_who_may_not(desk: Served) -> None:
    people = {"student": desk.browser_session("alice"), "ta": desk.browser_session("ta1"),
              "instructor": desk.browser_session("prof")}
    nobody = httpx.Client(base_url=desk.url, timeout=30)
    for (path, method), who in ROUTES.items():
        url = concrete(path)
        if who == PUBLIC or path.startswith("/static"):
            continue
        # Signed out: 401; signing out is a form, refused first for its missing CSRF token.
        assert nobody.request(method, url).status_code == (403 if who == SIGNED_IN else 401), (method, path)
        barred = {STUDENT: ["ta", "instructor"], GRADER: ["student"], INSTRUCTOR: ["student", "ta"],
                  SIGNED_IN: []}[who]
        for role in barred:
            got = people[role].request(method, url, data={"csrf": csrf_of(people[role].get(
                "/me" if role == "student" else "/desk").text)} if method == "POST" else None)
            assert got.status_code == 403, (role, method, path, got.status_code)
        if method == "POST":  # a form without its CSRF token, from someone who may send it
            allowed = {STUDENT: "student", GRADER: "ta", INSTRUCTOR: "instructor", SIGNED_IN: "ta"}[who]
            got = people[allowed].post(url, data={"anything": "1"}, headers={"Accept": "text/html"})
            assert got.status_code == 403, (method, path, got.status_code)


def test_a_rubric_item_is_scored_from_the_desk_into_every_grade(desk: Served, tmp_path: Path) -> None:
    hand_in(desk, "alice")
    ta = desk.browser_session("ta1")
    page = ta.get(f"{RUBRIC}?student=alice").text
    assert "step function" in page  # the solution's answer, beside the rubric
    assert 'data-key="1"' in page and 'data-key="3"' in page  # three levels, each with its key
    saved = ta.post(RUBRIC, data={"csrf": csrf_of(page), "student": "alice", "level": "3"})
    assert saved.status_code == 303
    history = CliRunner().invoke(cli, ["history", str(desk.folder), "--student", "alice", "--course",
                                       str(ROOT / "exercises")])
    assert history.exit_code == 0 and "rubric:why_not_accuracy" in history.output and "set 3" in history.output
    assert "ta1" in history.output
    exported = CliRunner().invoke(cli, ["export", str(desk.folder), "--format", "csv", "--to", str(tmp_path)])
    assert exported.exit_code == 0, exported.output
    line = next(r for r in (tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines() if r.startswith("alice,"))
    header = (tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    values = dict(zip(header, line.split(","), strict=True))
    assert float(values["06_training"]) == 2 + 3  # test_a's 2 and the rubric's 3
    # Until the release, the student's feedback shows none of it; then the rubric item and its comment.
    alice = desk.browser_session("alice")
    assert "why_not_accuracy" not in alice.get("/me/feedback").text
    prof = desk.browser_session("prof")
    released = prof.post("/desk/release", data={"csrf": csrf_of(prof.get("/desk").text), "exercise": "06_training",
                                                 "student": "alice"})
    assert released.status_code == 303
    feedback = alice.get("/me/feedback").text
    assert "rubric:why_not_accuracy" in feedback and "3 / 3" in feedback and "zero gradient" in feedback


def test_a_students_answer_is_text_never_markup(desk: Served) -> None:
    hand_in(desk, "bob", "**mine** <script>alert('x')</script> <img src=x onerror=alert(1)> [a](javascript:alert(1))")
    page = desk.browser_session("ta1").get(f"{RUBRIC}?student=bob").text
    answer = page.split('id="answer"', 1)[1].split("</div>", 1)[0]
    assert "<strong>mine</strong>" in answer
    assert "<script" not in answer and "<img" not in answer and 'href="javascript' not in answer
    assert "&lt;script&gt;" in answer


def test_a_regrade_request_is_answered_once_and_kept(desk: Served) -> None:
    alice, ta = desk.browser_session("alice"), desk.browser_session("ta1")
    form = {"csrf": csrf_of(alice.get("/me").text), "target": "02_dataset::test_b", "reason": "I think b is right"}
    assert alice.post("/me/requests", data=form).status_code == 400  # 02 is not released to her
    hand_in(desk, "alice")  # (06 again; released to alice above or not, 06's checks are what she may ask on)
    prof = desk.browser_session("prof")
    prof.post("/desk/release", data={"csrf": csrf_of(prof.get("/desk").text), "exercise": "06_training"})
    form.update(target="06_training::test_b")
    assert alice.post("/me/requests", data=form).status_code == 303
    assert alice.post("/me/requests", data=form).status_code == 400  # one open request per item
    with ServiceStore(desk.folder / "gradebook.sqlite") as book:
        (asked,) = [r for r in book.requests("alice") if r.target == "06_training::test_b"]
    answer = {"csrf": csrf_of(ta.get("/desk/requests").text), "decision": "accepted", "reply": "right, sorry",
              "kind": "add", "value": "3"}
    assert ta.post(f"/desk/requests/{asked.id}", data=answer).status_code == 303
    assert ta.post(f"/desk/requests/{asked.id}", data=answer).status_code == 400  # answered already
    with ServiceStore(desk.folder / "gradebook.sqlite") as book:
        made = [a for a in book.adjustments() if a.source == f"request:{asked.id}"]
    assert [(a.kind, a.value, a.check_id, a.author) for a in made] == [("add", 3.0, "06_training::test_b", "ta1")]
    feedback = alice.get("/me/feedback").text
    assert "right, sorry" in feedback and "accepted" in feedback
    declined = alice.post("/me/requests", data=dict(form, reason="and again"))
    assert declined.status_code == 303  # the first was answered: a new one may be asked
    with ServiceStore(desk.folder / "gradebook.sqlite") as book:
        second = max(r.id for r in book.requests("alice"))
    no = {"csrf": answer["csrf"], "decision": "declined", "reply": "no: b reads the wrong batch"}
    assert ta.post(f"/desk/requests/{second}", data=no).status_code == 303
    assert "no: b reads the wrong batch" in alice.get("/me/feedback").text
    result = json.loads(desk.uploads()[-1][4])
    assert result["submission_id"] == "alice"
