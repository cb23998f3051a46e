"""A course service as a user runs it: ``grader service init`` from a roster, then ``grader service
start`` (a real uvicorn on 127.0.0.1, a free port) in a process of its own, to be stopped or killed.

Test helpers only: notebooks to upload, sign-in, uploads over the shell's API, waiting for grades.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nbformat
from click.testing import CliRunner

from grader.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FAKE = "tests.test_bulk:fake_grade"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def notebook_bytes(text: str = "x") -> bytes:
    """A valid notebook whose one markdown cell says ``text`` (what the fake unit grades by)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    return nbformat.writes(notebook).encode()


@dataclass
class Served:
    """A service folder and the server serving it."""

    folder: Path
    links: dict[str, str]  # person id → personal link
    data_root: Path
    port: int = field(default_factory=free_port)
    unit: str | None = None
    workers: int = 1
    process: subprocess.Popen | None = None
    log: Path | None = None
    cell_timeout: float = 30.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, person: str) -> str:
        return self.links[person].rsplit("/s/", 1)[1]

    def start(self, timeout: float = 120.0) -> Served:
        self.log = self.folder.parent / f"server-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "grader", "service", "start", str(self.folder), "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers), "--cell-timeout", str(self.cell_timeout),
                   "--notebook-timeout", "120"]
        if self.unit:
            command += ["--unit", self.unit]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CIFAR10_ROOT": str(self.data_root)}
        with open(self.log, "wb") as sink:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=10).json()

    def kill(self) -> None:
        """``kill -9`` of the server's whole process group: the web process and its graders."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)

    def browser_session(self, person: str) -> httpx.Client:
        """A client signed in through the person's link, as a browser would be (a session cookie)."""
        client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        answer = client.get(f"/s/{self.token(person)}")
        assert answer.status_code == 303, answer.text[:500]
        return client

    def api_upload(self, person: str, name: str, data: bytes, kind: str = "handin",
                   client: httpx.Client | None = None) -> httpx.Response:
        """An upload as ``grader submit --to`` makes it: the bytes, a bearer token."""
        send = client.post if client is not None else httpx.post
        return send(f"{self.url}/api/uploads", params={"kind": kind, "name": name}, content=data, timeout=60,
                    headers={"Authorization": f"Bearer {self.token(person)}", "Accept": "application/json"})

    def uploads(self) -> list[tuple]:
        """Every upload row, read straight from the database file."""
        with sqlite3.connect(self.folder / "gradebook.sqlite") as db:
            return db.execute("SELECT id, student_id, kind, state, result, error FROM uploads ORDER BY id").fetchall()

    def wait_all_graded(self, count: int, timeout: float) -> list[tuple]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.uploads()
            if len(rows) >= count and all(r[3] in ("graded", "failed") for r in rows):
                return rows
            time.sleep(0.3)
        states = [r[3] for r in self.uploads()]
        raise AssertionError(f"not all graded in {timeout} s: {states}\n{self.log.read_text()[-3000:]}")


def make_service(tmp_path: Path, data_root: Path, students: list[str], *, course: Path = ROOT / "exercises",
                 **settings: object) -> Served:
    """``grader service init`` for ``students`` (plus a TA and an instructor); ``settings``
    overrides what the folder's service.toml says."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(["student_id", "name", "role"])
        writer.writerows([s, f"Student {s}", "student"] for s in students)
        writer.writerow(["ta1", "Teaching Assistant", "ta"])
        writer.writerow(["prof", "Professor", "instructor"])
    folder = tmp_path / "service"
    port = free_port()
    done = CliRunner().invoke(cli, ["service", "init", str(folder), "--course", str(course), "--roster", str(roster),
                                    "--url", f"http://127.0.0.1:{port}", "--lang", "en"])
    assert done.exit_code == 0, done.output
    if settings:
        text = (folder / "service.toml").read_text(encoding="utf-8")
        for key, value in settings.items():
            text = "\n".join(f"{key} = {value!r}" if line.startswith(f"{key} =") else line
                             for line in text.splitlines()) + "\n"
        (folder / "service.toml").write_text(text.replace("'", '"'), encoding="utf-8")
    with open(folder / "links.csv", newline="", encoding="utf-8") as source:
        links = {row["student_id"]: row["link"] for row in csv.DictReader(source)}
    return Served(folder, links, data_root, port=port)


def fake_exercises(session, path: Path, *, submission_id: str | None = None):
    """A stand-in unit for the desk: each course notebook handed in is graded by two made-up checks,
    ``test_a`` passed (2 of 2) and ``test_b`` failed (0 of 3, the same mistake for everyone: one
    cluster); the others are missing. No kernel: what is read is the files' names."""
    from grader.i18n import T
    from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

    names = {p.name for p in Path(path).rglob("*.ipynb")}
    exercises = []
    for exercise in session.config.course.exercises:
        if exercise.notebook not in names:
            exercises.append(ExerciseResult(exercise.id, exercise.title, ExerciseStatus.MISSING, []))
            continue
        checks = [CheckResult(f"{exercise.id}::test_a", T.same("a"), CheckStatus.PASSED, 2.0, 2.0),
                  CheckResult(f"{exercise.id}::test_b", T("나", "b"), CheckStatus.FAILED, 0.0, 3.0,
                              message=T.same("b is wrong"), why=T.same("always b"))]
        exercises.append(ExerciseResult(exercise.id, exercise.title, ExerciseStatus.GRADED, checks))
    return SubmissionResult(submission_id or "", exercises, grader_version="fake", hidden_checks=True)
