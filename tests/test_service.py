"""The course service over HTTP, against a real uvicorn on 127.0.0.1: sign-in, who sees what,
every bad input with its answer, the self-check limit, the receipt, the deadline rush, and
``kill -9`` with jobs queued and running.

Most of these grade with the bulk tests' stand-in unit (what the queue does does not depend on
what grading does); tests/test_service_browser.py grades real notebooks in a real browser.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.store.gradebook import Gradebook

from .service import FAKE, ROOT, Served, make_service, notebook_bytes
from .test_hostile import witnesses  # noqa: F401 - a fixture: the grader's secret, loopback and bystander

STUDENTS = ["alice", "bob", "carol"]


@pytest.fixture(scope="module")
def served(tmp_path_factory, data_root) -> Served:
    """One server for the module's short tests: the stand-in unit, three self-checks an hour."""
    service = make_service(tmp_path_factory.mktemp("service"), data_root, STUDENTS, checks_per_hour=3,
                           upload_mb=1)
    service.unit = FAKE
    service.start()
    yield service
    service.stop()


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def form_upload(client: httpx.Client, files: list[tuple[str, bytes]], kind: str = "check",
                csrf: str | None = "from-page") -> httpx.Response:
    token = csrf_of(client.get("/me").text) if csrf == "from-page" else csrf
    data = {"kind": kind, **({"csrf": token} if token is not None else {})}
    return client.post("/me/uploads", data=data, files=[("files", (n, b)) for n, b in files],
                       headers={"Accept": "application/json"})


# ---------------------------------------------------------------------- the folder

def test_init_keeps_no_token_and_nothing_readable_by_others(served: Served) -> None:
    database = (served.folder / "gradebook.sqlite").read_bytes()
    for person, link in served.links.items():
        assert served.token(person).encode() not in database, person  # only their SHA-256
        assert link.startswith(f"http://127.0.0.1:{served.port}/s/")
    assert set(served.links) == {*STUDENTS, "ta1", "prof"}
    for name in ("gradebook.sqlite", "secret.key", "links.csv"):
        assert stat.S_IMODE((served.folder / name).stat().st_mode) == 0o600, name


def test_a_bad_roster_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id;name;role\nkim;Kim;student\nlee;Lee;dean\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["service", "init", str(tmp_path / "svc"), "--course", "exercises",
                                    "--roster", str(roster)])
    assert done.exit_code == 3 and f"{roster} line 3: role 'dean' is not one of" in done.output
    assert not (tmp_path / "svc" / "service.toml").exists()


def test_a_bad_setting_is_refused_naming_the_file(tmp_path: Path, data_root: Path) -> None:
    service = make_service(tmp_path, data_root, ["kim"])
    (service.folder / "service.toml").write_text((service.folder / "service.toml").read_text()
                                                 + "checks_per_hours = 5\n")
    done = CliRunner().invoke(cli, ["service", "start", str(service.folder)])
    assert done.exit_code == 3 and "service.toml: unknown setting checks_per_hours" in done.output


# ---------------------------------------------------------------------- who may come in

def test_a_link_becomes_a_session_cookie_and_leaves_the_address_bar(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        answer = client.get(f"/s/{served.token('alice')}")
        assert answer.status_code == 303 and answer.headers["location"] == "/me"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # http here
        page = client.get("/me")
        assert page.status_code == 200 and "Student alice" in page.text
        assert served.token("alice") not in page.text
    forged = httpx.get(f"{served.url}/me", cookies={"grader_session": "eyJ3aG8iOiAiYWxpY2UifQ==.forged"})
    assert forged.status_code == 401  # a cookie not signed with the service's secret is no session


def test_a_wrong_or_revoked_link_is_refused_at_once(served: Served, tmp_path: Path) -> None:
    assert httpx.get(f"{served.url}/s/not-a-token").status_code == 401
    assert httpx.get(f"{served.url}/me").status_code == 401
    carol = served.browser_session("carol")
    assert carol.get("/me").status_code == 200
    done = CliRunner().invoke(cli, ["service", "roster", str(served.folder), "--revoke", "carol"])
    assert done.exit_code == 0, done.output
    assert carol.get("/me").status_code == 401  # the cookie she holds stops working too
    assert served.api_upload("carol", "02_dataset.ipynb", notebook_bytes()).status_code == 401
    assert httpx.get(f"{served.url}/s/{served.token('carol')}").status_code == 401
    renewed = CliRunner().invoke(cli, ["service", "roster", str(served.folder), "--renew", "carol"])
    link = re.search(r"carol \(student\): (\S+)", renewed.output).group(1)
    assert httpx.get(link).status_code == 303


def test_another_students_work_is_not_found(served: Served) -> None:
    made = served.api_upload("alice", "02_dataset.ipynb", notebook_bytes("alice's secret words"))
    assert made.status_code == 201, made.text
    number = made.json()["id"]
    bob = served.browser_session("bob")
    for path in (f"/me/uploads/{number}", f"/me/uploads/{number}/status"):
        answer = bob.get(path)
        assert answer.status_code == 404 and "secret words" not in answer.text
    assert httpx.get(f"{served.url}/api/uploads/{number}",
                     headers={"Authorization": f"Bearer {served.token('bob')}"}).status_code == 404
    assert served.browser_session("alice").get(f"/me/uploads/{number}").status_code == 200


def test_roles_keep_to_their_pages(served: Served) -> None:
    alice, ta, prof = (served.browser_session(p) for p in ("alice", "ta1", "prof"))
    assert alice.get("/desk").status_code == 403
    assert ta.get("/desk").status_code == 200 and ta.get("/me").status_code == 403
    token = csrf_of(ta.get("/desk").text)
    assert ta.post("/desk/release", data={"csrf": token, "exercise": "02_dataset"}).status_code == 403
    assert prof.post("/desk/release", data={"exercise": "02_dataset"}).status_code == 403  # no CSRF token
    assert prof.post("/desk/release", data={"csrf": "guessed", "exercise": "02_dataset"}).status_code == 403
    with sqlite3.connect(served.folder / "gradebook.sqlite") as db:
        assert db.execute("SELECT count(*) FROM releases").fetchone() == (0,)


def test_every_page_sends_a_strict_content_security_policy(served: Served) -> None:
    alice = served.browser_session("alice")
    for path in ("/", "/me", "/me/feedback", "/health", "/static/service.js", "/nowhere"):
        answer = alice.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in alice.get("/me").headers["cache-control"]


# ---------------------------------------------------------------------- bad input

def test_a_form_without_its_csrf_token_is_refused(served: Served) -> None:
    alice = served.browser_session("alice")
    before = len(served.uploads())
    assert form_upload(alice, [("02_dataset.ipynb", notebook_bytes())], csrf=None).status_code == 403
    assert form_upload(alice, [("02_dataset.ipynb", notebook_bytes())], csrf="x" * 43).status_code == 403
    assert alice.post("/signout").status_code == 403
    assert len(served.uploads()) == before


@pytest.mark.parametrize("name, data, says", [
    ("notes.txt", b"hello", "only notebooks (.ipynb) and grader submit zips are taken"),
    ("02_dataset.ipynb", b"\x00\x01 not json", "02_dataset.ipynb: not a Jupyter notebook"),
    ("../02_dataset.ipynb", notebook_bytes(), "a file name holds a path"),
    ("dir\\02_dataset.ipynb", notebook_bytes(), "a file name holds a path"),
], ids=["not-a-notebook", "not-json", "dot-dot", "backslash"])
def test_a_file_that_breaks_a_rule_is_refused_with_the_reason(served: Served, name: str, data: bytes,
                                                              says: str) -> None:
    before = len(served.uploads())
    answer = form_upload(served.browser_session("bob"), [(name, data)], kind="handin")
    assert answer.status_code == 400 and says in answer.json()["error"], answer.text
    assert len(served.uploads()) == before
    bob = served.browser_session("bob")
    page = bob.post("/me/uploads", data={"kind": "handin", "csrf": csrf_of(bob.get("/me").text)},
                    files=[("files", (name, data))])
    assert page.status_code == 400 and says in page.text  # without JavaScript, the reason comes on a page


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("entries, says", [
    ({"../../evil.ipynb": notebook_bytes()}, "points outside the archive"),
    ({"02_dataset.ipynb": b"\0" * (40 * 1024**2)}, "compression ratio is abnormally high"),
    ({"readme.txt": b"no notebook"}, "holds no notebook"),
], ids=["traversal", "bomb", "no-notebook"])
def test_a_hostile_zip_is_refused_by_the_safe_extractor(served: Served, entries: dict, says: str) -> None:
    answer = served.api_upload("bob", "hand-in.zip", _zip(entries))
    assert answer.status_code == 400 and says in answer.json()["error"], answer.text
    assert served.health()["grading"] is True


def test_an_upload_over_the_cap_is_refused_before_it_is_read(served: Served) -> None:
    big = notebook_bytes("y" * (2 * 1024**2))  # the module's service takes 1 MB
    declared = served.api_upload("bob", "02_dataset.ipynb", big)
    assert declared.status_code == 413 and "larger than this service takes" in declared.text

    def stream():  # no Content-Length: the body is counted as it comes
        for _ in range(40):
            yield b"z" * 65536

    chunked = httpx.post(f"{served.url}/api/uploads", params={"kind": "handin", "name": "02_dataset.ipynb"},
                         content=stream(), headers={"Authorization": f"Bearer {served.token('bob')}"}, timeout=30)
    assert chunked.status_code == 413
    assert served.health()["grading"] is True


# ---------------------------------------------------------------------- the receipt and the limit

def test_the_receipt_has_the_servers_time_every_files_sha256_and_an_id(served: Served) -> None:
    data = notebook_bytes("receipt")
    before = datetime.now().astimezone()
    answer = served.api_upload("alice", "02_dataset.ipynb", data)
    after = datetime.now().astimezone()
    receipt = answer.json()
    received = datetime.fromisoformat(receipt["received_at"])
    assert before - timedelta(seconds=1) <= received <= after + timedelta(seconds=1)
    assert receipt["files"] == [{"name": "02_dataset.ipynb", "sha256": hashlib.sha256(data).hexdigest(),
                                 "bytes": len(data)}]
    assert receipt["url"] == f"{served.url}/me/uploads/{receipt['id']}"
    # A client's claim of a time is no input: there is no field for it, and a header changes nothing.
    dated = httpx.post(f"{served.url}/api/uploads", params={"kind": "handin", "name": "02_dataset.ipynb",
                                                            "received_at": "2020-01-01T00:00:00+00:00"},
                       content=data, headers={"Authorization": f"Bearer {served.token('alice')}",
                                              "Date": "Wed, 01 Jan 2020 00:00:00 GMT"})
    assert datetime.fromisoformat(dated.json()["received_at"]) >= received


def test_self_checks_are_limited_and_hand_ins_never(served: Served) -> None:
    bob = served.browser_session("bob")
    made = [form_upload(bob, [("02_dataset.ipynb", notebook_bytes(f"try {n}"))]) for n in range(4)]
    limited = [m for m in made if m.status_code == 429]
    assert [m.status_code for m in made].count(201) <= 3 and limited, [m.status_code for m in made]
    assert "the next frees at" in limited[0].json()["error"]
    page = bob.get("/me").text
    assert "self-checks left this hour: 0" in page and "the next frees at" in page
    assert form_upload(bob, [("02_dataset.ipynb", notebook_bytes("hand in"))], kind="handin").status_code == 201


def test_an_upload_is_graded_and_its_page_says_so(served: Served) -> None:
    made = served.api_upload("alice", "02_dataset.ipynb", notebook_bytes("graded please"))
    served.wait_all_graded(len(served.uploads()), timeout=60)
    alice = served.browser_session("alice")
    status = alice.get(f"/me/uploads/{made.json()['id']}/status").json()
    assert status["state"] == "graded" and 'id="self-score"' in status["html"]
    assert alice.get("/health").json()["torch_loaded"] is False


def test_the_same_files_again_take_their_earlier_result_at_once(served: Served) -> None:
    data = notebook_bytes("the very same bytes")
    first = served.api_upload("alice", "02_dataset.ipynb", data).json()
    served.wait_all_graded(len(served.uploads()), timeout=60)
    again = served.api_upload("alice", "02_dataset.ipynb", data).json()
    assert again["state"] == "graded" and again["score"] == served.api_upload(
        "alice", "02_dataset.ipynb", data).json()["score"]
    with sqlite3.connect(served.folder / "gradebook.sqlite") as db:
        results = {r for (r,) in db.execute("SELECT result FROM uploads WHERE id IN (?, ?)",
                                              (first["id"], again["id"]))}
    assert len(results) == 1


# ---------------------------------------------------------------------- the shell's hand-in

def test_grader_submit_to_the_service_prints_the_receipt(served: Served, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    shutil.copy(ROOT / "solutions" / "02_dataset.ipynb", folder)
    (tmp_path / "out").mkdir()
    (tmp_path / "out2").mkdir()
    done = CliRunner().invoke(cli, ["submit", str(folder), "--student", "alice", "--no-selfcheck", "--partial",
                                    "--out", str(tmp_path / "out"), "--to", served.url,
                                    "--token", served.token("alice"), "--course", "exercises"])
    assert done.exit_code == 0, done.output
    local = re.search(r"^sha256: ([0-9a-f]{64})$", done.output, re.M).group(1)
    assert re.search(rf"^sha256: {local}  alice_", done.output, re.M), done.output
    assert "the SHA-256 the server received is this zip's." in done.output
    number = int(re.search(r"handed in: submission #(\d+)", done.output).group(1))
    assert served.uploads()[-1][:3] == (number, "alice", "handin")
    wrong = CliRunner().invoke(cli, ["submit", str(folder), "--student", "alice", "--no-selfcheck", "--partial",
                                     "--out", str(tmp_path / "out2"), "--to", served.url, "--token", "nope",
                                     "--course", "exercises"])
    assert wrong.exit_code == 3 and "the service refused the upload (401)" in wrong.output


# ---------------------------------------------------------------------- load and faults

def test_the_deadline_rush_loses_nothing_and_records_each_result_once(tmp_path: Path, data_root: Path) -> None:
    """100 students hand in within 10 s (loopback, 16 at a time): every upload is acknowledged, and
    every result is recorded once, in the upload and in the gradebook."""
    students = [f"s{n:03d}" for n in range(100)]
    service = make_service(tmp_path, data_root, students)
    service.unit, service.workers = FAKE, 2
    service.start()
    try:
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(16) as pool, httpx.Client(timeout=30) as client:
            answers = list(pool.map(lambda s: service.api_upload(s, "02_dataset.ipynb", notebook_bytes(s * 3),
                                                                 client=client), students))
        sent_in = time.monotonic() - started
        assert [a.status_code for a in answers] == [201] * 100
        assert sent_in < 10, f"the uploads took {sent_in:.1f} s"
        ids = sorted(a.json()["id"] for a in answers)
        assert ids == list(range(ids[0], ids[0] + 100))  # one row each: none lost, none twice
        rows = service.wait_all_graded(100, timeout=240)
        assert sorted(r[1] for r in rows) == students and {r[3] for r in rows} == {"graded"}
        with Gradebook(service.folder / "gradebook.sqlite") as book:
            graded = {row.student_id: row for row in book.rows()}
        assert sorted(graded) == students
        for student, (_, _, _, _, result, _) in zip(sorted(students), sorted(rows, key=lambda r: r[1])):
            assert json.loads(result)["submission_id"] == student == graded[student].result.submission_id
        assert service.health()["queue"] == {"graded": 100}
    finally:
        service.stop()


def _gradebook(folder: Path) -> list[tuple]:
    """The gradebook without its times (receipt and grading times differ between two runs)."""
    with Gradebook(folder / "gradebook.sqlite") as book:
        rows = book.rows()
    found = []
    for row in rows:
        result = row.result.to_dict()
        for key in ("started_at", "finished_at"):
            result.pop(key)
        found.append((row.student_id, row.content_hash, row.status.value, row.score, row.max_score,
                      json.dumps(result, sort_keys=True), row.error, sorted((row.info.exercise_times or {}))))
    return found


def test_kill_9_with_jobs_queued_and_running_loses_and_repeats_nothing(tmp_path: Path, data_root: Path) -> None:
    students = [f"k{n:02d}" for n in range(24)]
    uploads = [(s, notebook_bytes(s * (n + 1))) for n, s in enumerate(students)]
    uploads += [(s, notebook_bytes(s * 7)) for s in students[:6]]  # a second hand-in: the latest counts

    def run(folder: Path, *, kill_after: int | None) -> Served:
        service = make_service(folder, data_root, students)
        service.unit = FAKE
        service.start()
        for student, data in uploads:
            assert service.api_upload(student, "02_dataset.ipynb", data).status_code == 201
        if kill_after is not None:
            while sum(r[3] == "graded" for r in service.uploads()) < kill_after:
                time.sleep(0.05)
            service.kill()  # jobs graded, one grading, the rest queued
            states = [r[3] for r in service.uploads()]
            assert "queued" in states and "graded" in states, states
            service.start()
        service.wait_all_graded(len(uploads), timeout=240)
        service.stop()
        return service

    interrupted = run(tmp_path / "killed", kill_after=8)
    straight = run(tmp_path / "straight", kill_after=None)
    rows = interrupted.uploads()
    assert len(rows) == len(uploads) and {r[3] for r in rows} == {"graded"}
    assert [(r[1], json.loads(r[4])["exercises"]) for r in rows] == \
        [(r[1], json.loads(r[4])["exercises"]) for r in straight.uploads()]
    assert _gradebook(interrupted.folder) == _gradebook(straight.folder)
    with sqlite3.connect(interrupted.folder / "gradebook.sqlite") as db:
        assert db.execute("SELECT value FROM info WHERE key = 'service_epoch'").fetchone() == ("2",)


def test_a_second_server_on_the_same_folder_is_refused(served: Served) -> None:
    done = CliRunner().invoke(cli, ["service", "start", str(served.folder), "--port", "0"])
    assert done.exit_code == 3 and "another grader command" in done.output
    assert served.health()["grading"] is True
    assert os.path.exists(served.folder / "gradebook.sqlite")



def test_the_service_folder_is_a_gradebook_the_cli_reads(served: Served, tmp_path: Path) -> None:
    # The service's database is an ordinary gradebook: exports read it while it serves. The service
    # is its one writer, so a command that writes it is refused, saying why.
    assert served.api_upload("alice", "02_dataset.ipynb", notebook_bytes("alice hands in")).status_code == 201
    served.wait_all_graded(len(served.uploads()), timeout=60)
    done = CliRunner().invoke(cli, ["export", str(served.folder), "--format", "csv", "--to", str(tmp_path)])
    assert done.exit_code == 0, done.output
    exported = "".join(f.read_text(encoding="utf-8") for f in tmp_path.glob("*.csv"))
    assert "\nalice," in exported, exported
    refused = CliRunner().invoke(cli, ["override", str(served.folder), "--student", "alice", "--exercise",
                                       "02_dataset", "--add", "1", "--reason", "r", "--course", "exercises"])
    assert refused.exit_code == 3 and "another grader command" in refused.output, refused.output

@pytest.mark.slow
def test_the_hostile_suite_through_the_upload_path(tmp_path: Path, data_root: Path, course, make_config,
                                                    witnesses) -> None:
    """Every hostile case of tests/data/hostile, handed in by a student of its own through the
    service: no forged points, no hidden check's source, solution or secret on any page a
    student can open (before or after the release), and the service still serving."""
    import nbformat

    from grader.kernel import sandbox

    from .test_hostile import (HOSTILE, LIMITS, SECRET_GRADEBOOK, SECRET_OTHER, _fill, _notebook, _secrets,
                               _solution_lines, cage_or_skip, header)

    config = make_config(limits=dataclasses.replace(LIMITS, cell_timeout=8), trusted_code=False)
    cage_or_skip(config)
    gaps = sandbox.plan(config).gaps
    runnable = [c for c in sorted(HOSTILE.glob("*.py")) if header(c).get("needs") not in gaps]
    students = [f"h_{case.stem}" for case in runnable]
    service = make_service(tmp_path, data_root, students)
    service.cell_timeout, service.workers = 8, 2
    service.start(timeout=180)
    other = tmp_path / "bob" / "02_dataset.ipynb"
    other.parent.mkdir()
    other.write_text(json.dumps({"cells": [], "secret": SECRET_OTHER}))
    try:
        for case, student in zip(runnable, students, strict=True):
            cell = _fill(case.read_text(encoding="utf-8"), {
                "@@HIDDEN_CHECK@@": course.exercise("02_dataset").hidden_checks[0],
                "@@SOLUTION@@": course.exercise("02_dataset").solution, "@@OTHER@@": other,
                "@@GRADEBOOK@@": service.folder / "gradebook.sqlite", "@@OUT@@": service.folder,
                "@@MARKER@@": tmp_path / "marker-file", "@@GRADER_PID@@": service.process.pid,
                "@@PORT@@": witnesses["port"]})
            data = nbformat.writes(_notebook(course, header(case)["base"], cell)).encode()
            assert service.api_upload(student, "02_dataset.ipynb", data).status_code == 201, case.stem
        rows = service.wait_all_graded(len(runnable), timeout=900)
        prof = service.browser_session("prof")
        released = prof.post("/desk/release", data={"csrf": csrf_of(prof.get("/desk").text), "exercise": "02_dataset"})
        assert released.status_code == 303
        forbidden = [*_secrets(course), SECRET_GRADEBOOK, SECRET_OTHER, witnesses["secret"]]
        solution = _solution_lines(course)
        for (number, student, _, state, result, _), case in zip(rows, runnable, strict=True):
            assert state == "graded", (case.stem, state)
            client = service.browser_session(student)
            pages = client.get(f"/me/uploads/{number}").text + client.get("/me/feedback").text + \
                json.dumps(client.get(f"/me/uploads/{number}/status").json())
            for secret in forbidden:
                assert secret not in pages, (case.stem, secret)
            if header(case)["base"] == "stub":
                assert json.loads(result)["score"] == 0, case.stem  # no forged points
                for line in solution:
                    assert line not in pages, (case.stem, line)
            exercise = json.loads(result)["exercises"][1]
            assert exercise["exercise_id"] == "02_dataset" and exercise["score"] <= exercise["max_score"]
        assert service.health()["grading"] is True and service.process.poll() is None
        assert not (tmp_path / "marker-file").exists()
    finally:
        service.stop()
