"""The hostile-submission suite: each case is a notebook built to break, cheat or snoop.

A case in ``tests/data/hostile/<name>.py`` is one hostile cell, put into the 02_dataset
notebook just before its self-check cell: into the course's student notebook (``base: stub``,
which honestly earns 0, for attempts to gain points) or into the reference solution (``base:
solution``, which honestly earns full marks, for attempts to break the run). Its header says
what must come out::

    # base: stub | solution
    # status: graded | limit | kernel_died | timeout     (several: a|b)
    # score: 0 | full | max full
    # says: text the result must contain              (optional; several: a|b)
    # needs: network | processes | scratch_size         (optional: a gap of grader.kernel.sandbox.GAPS)
    # cell-timeout: 6                                   (optional: seconds, for cases that wait for it)

A case runs only under a cage that holds it: where the machine has none (``--sandbox auto``
would refuse to grade), or the cage does not stop what the case needs, it is skipped with the
reason. ``GRADER_TEST_SANDBOX`` names the cage the run must get (``tests/test_container.py``
runs this file on simulated machines); without it, whichever ``auto`` picks.

For every case: that status and score, no hidden check source, no solution source (stub
cases), no other student's work, no gradebook content and no secret of the grader's environment
in ``results.json`` or the report, no file written where the kernel must not write, nothing
reached on the grader's loopback, a bystander process of the grader's user alive and running,
and the grader (this very process) alive.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import socket
import subprocess
import threading
from pathlib import Path

import nbformat
import pytest

from grader.kernel import sandbox
from grader.bulk.run import BulkOptions, grade_class
from grader.errors import SandboxError
from grader.store.gradebook import Gradebook
from grader.config import Limits
from grader.publish.report import render_student_report
from grader.results import ExerciseStatus

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
CASES = sorted(HOSTILE.glob("*.py"))
# A cell may take seconds just to import torch on a busy 2-core machine: 20 s, not less.
LIMITS = Limits(cell_timeout=20, notebook_timeout=150, probe_timeout=20, output_bytes=1_000_000,
                memory_bytes=2 * 1024**3, processes=160, file_bytes=16 * 1024**2, open_files=256,
                scratch_bytes=48 * 1024**2)
SECRET_OTHER = "OTHER-STUDENT-SECRET-7f3a"
SECRET_GRADEBOOK = "GRADEBOOK-SECRET-91bc"
SECRET_ENV = "GRADER_TEST_SECRET"

pytestmark = pytest.mark.slow


def header(case: Path) -> dict[str, str]:
    fields = {}
    for line in case.read_text(encoding="utf-8").splitlines():
        match = re.match(r"# (base|status|score|says|needs|cell-timeout): (.*)", line)
        if match:
            fields[match.group(1)] = match.group(2).strip()
    return fields


def cage_or_skip(config, needs: str | None = None) -> str:
    """The cage this run gets; skips (saying why) where there is none, or it does not stop ``needs``."""
    try:
        box = sandbox.plan(config)
    except SandboxError as error:
        pytest.skip(f"no cage can hold a hostile notebook on this machine: {error}")
    wanted = os.environ.get("GRADER_TEST_SANDBOX") or None
    assert wanted is None or box.mode == wanted, (box.mode, wanted)
    if needs in box.gaps:
        pytest.skip(f"the {box.mode} cage does not stop {sandbox.GAPS[needs].en} here")
    return box.mode


@pytest.fixture
def witnesses(monkeypatch):
    """What a hostile kernel must not reach: a secret in the grader's environment, a listener on
    the grader's loopback, a process of the grader's own user. Yields the listener's port and
    the secret; checks the listener and the bystander afterwards."""
    token = f"ENV-SECRET-{secrets.token_hex(8)}"
    monkeypatch.setenv(SECRET_ENV, token)
    listener = socket.create_server(("127.0.0.1", 0))
    reached: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            reached.append(connection.recv(100) or b"(connected)")
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    bystander = subprocess.Popen(["sleep", "600"])
    try:
        yield {"port": listener.getsockname()[1], "secret": token}
        with open(f"/proc/{bystander.pid}/stat", encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
        assert bystander.poll() is None and state != "T", f"the bystander was harmed (state {state})"
        assert reached == [], f"a kernel reached the grader's loopback: {reached}"
    finally:
        bystander.kill()
        bystander.wait()
        listener.close()


def _fill(cell: str, tokens: dict[str, object]) -> str:
    for token, value in tokens.items():
        cell = cell.replace(token, str(value))
    return cell


def test_suite_is_large_and_well_formed() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        fields = header(case)
        assert fields.get("base") in ("stub", "solution"), case.name
        assert all(ExerciseStatus(s) for s in fields["status"].split("|")), case.name
        assert fields.get("score") in ("0", "full", "max full"), case.name
        assert fields.get("needs", "network") in sandbox.GAPS, case.name


def _secrets(course) -> list[str]:
    """Lines that exist only in the hidden checks: none may reach any output."""
    hidden = course.exercise("02_dataset").hidden_checks[0].read_text(encoding="utf-8")
    return [line.strip() for line in hidden.splitlines()
            if len(line.strip()) > 30 and not line.strip().startswith(("@check", "def test_", "#", "T("))
            and "T(" not in line and '"' not in line][:12]


def _solution_lines(course) -> list[str]:
    solution = nbformat.read(course.exercise("02_dataset").solution, as_version=4)
    lines = []
    for cell in solution.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 25:
                lines.append(line.strip())
    return lines


def _notebook(course, base: str, cell: str) -> nbformat.NotebookNode:
    exercise = course.exercise("02_dataset")
    source = exercise.solution if base == "solution" else course.root / exercise.notebook
    notebook = nbformat.read(source, as_version=4)
    hostile = nbformat.v4.new_code_cell(cell)
    hostile.id = "hostile-cell"
    notebook.cells.insert(len(notebook.cells) - 1, hostile)
    return notebook


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_hostile_submission(case: Path, course, make_config, tmp_path: Path, witnesses, grade) -> None:
    fields = header(case)
    out, marker = tmp_path / "out", tmp_path / "marker-file"
    out.mkdir()
    limits = dataclasses.replace(LIMITS, cell_timeout=float(fields.get("cell-timeout", LIMITS.cell_timeout)))
    config = make_config(limits=limits, protected_paths=(out,), trusted_code=False)
    mode = cage_or_skip(config, fields.get("needs"))
    gradebook = out / "gradebook.sqlite"
    gradebook.write_text(SECRET_GRADEBOOK)
    other = tmp_path / "subs" / "bob" / "02_dataset.ipynb"
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps({"cells": [], "secret": SECRET_OTHER}))
    cell = _fill(case.read_text(encoding="utf-8"), {
        "@@HIDDEN_CHECK@@": course.exercise("02_dataset").hidden_checks[0],
        "@@SOLUTION@@": course.exercise("02_dataset").solution, "@@OTHER@@": other, "@@GRADEBOOK@@": gradebook,
        "@@OUT@@": out, "@@MARKER@@": marker, "@@GRADER_PID@@": os.getpid(), "@@PORT@@": witnesses["port"]})
    mine = tmp_path / "subs" / "alice" / "02_dataset.ipynb"
    mine.parent.mkdir(parents=True)
    nbformat.write(_notebook(course, fields["base"], cell), mine)

    result = grade(mine.parent, config, exercises=["02_dataset"])

    exercise = result.exercises[0]
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    report = render_student_report(result, "en")
    assert exercise.status.value in fields["status"].split("|"), (exercise.status, exercise.problems, exercise.cell_errors)
    if fields["score"] == "0":
        assert result.score == 0, [(c.id, c.status) for c in exercise.checks if c.points]
    elif fields["score"] == "full":
        assert result.score == result.max_score, [(c.id, c.status, c.message) for c in exercise.checks if not c.points]
    assert result.score <= result.max_score
    if "says" in fields:
        assert any(said.lower() in text.lower() for said in fields["says"].split("|")), text[:3000]
    for secret in [*_secrets(course), SECRET_OTHER, SECRET_GRADEBOOK, witnesses["secret"]]:
        assert secret not in text and secret not in report, secret
    if fields["base"] == "stub":
        for line in _solution_lines(course):
            assert line not in text and line not in report, line
    assert not marker.exists(), "the kernel wrote outside its scratch folder (or a pickle ran here)"
    assert gradebook.read_text() == SECRET_GRADEBOOK
    assert sorted(p.name for p in out.iterdir()) == ["gradebook.sqlite"]
    assert not (Path(__import__("grader").__file__).parent / "pwned.py").exists()
    assert exercise.kernel.get("sandbox") == mode


def _hostile_files(students: Path) -> dict[str, str]:
    """Students whose files are hostile before any code runs, and the status each must get."""
    import zipfile

    students.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(students / "aa_traversal.zip", "w") as archive:
        archive.writestr("../../evil.ipynb", "{}")
    with zipfile.ZipFile(students / "aa_absolute.zip", "w") as archive:
        archive.writestr("/tmp/evil-from-zip.ipynb", "{}")
    with zipfile.ZipFile(students / "aa_bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("02_dataset.ipynb", b"\0" * (64 * 1024**2))
    (students / "aa_not_json").mkdir()
    (students / "aa_not_json" / "02_dataset.ipynb").write_bytes(bytes(range(256)) * 16)
    (students / "aa_huge").mkdir()
    with (students / "aa_huge" / "02_dataset.ipynb").open("wb") as handle:
        handle.truncate(100 * 1024**2)
    return {"aa_traversal": "unreadable", "aa_absolute": "unreadable", "aa_bomb": "unreadable",
            "aa_not_json": "unreadable", "aa_huge": "unreadable"}


def test_whole_suite_as_one_class_through_bulk(course, make_config, tmp_path: Path, witnesses) -> None:
    """Every hostile case is one student of one class, graded by the bulk scheduler: the run
    finishes, every student has a row, nobody scores above what honest code earns, and no
    secret reaches the gradebook, the reports or the class page."""
    students, out = tmp_path / "class", tmp_path / "out"
    out.mkdir()
    # Cells wait for less than in a case alone: a timeout is an accepted status here.
    config = make_config(limits=dataclasses.replace(LIMITS, cell_timeout=8), protected_paths=(out,), trusted_code=False)
    cage_or_skip(config)
    gaps = sandbox.plan(config).gaps
    runnable = [c for c in CASES if header(c).get("needs") not in gaps]
    honest = {"stub": 0.0}
    for case in runnable:
        fields = header(case)
        other = students / ("zz_" + runnable[0].stem if case != runnable[0] else "zz_" + runnable[1].stem)
        cell = _fill(case.read_text(encoding="utf-8"), {
            "@@HIDDEN_CHECK@@": course.exercise("02_dataset").hidden_checks[0],
            "@@SOLUTION@@": course.exercise("02_dataset").solution, "@@OTHER@@": other / "02_dataset.ipynb",
            "@@GRADEBOOK@@": out / "gradebook.sqlite", "@@OUT@@": out, "@@MARKER@@": tmp_path / "marker-file",
            "@@GRADER_PID@@": os.getpid(), "@@PORT@@": witnesses["port"]})
        folder = students / f"zz_{case.stem}"
        folder.mkdir(parents=True)
        nbformat.write(_notebook(course, fields["base"], cell), folder / "02_dataset.ipynb")
    hostile_files = _hostile_files(students)
    summary = grade_class(students, config, BulkOptions(out_dir=out, workers=2))

    assert summary.total == summary.graded == len(runnable) + len(hostile_files)
    with Gradebook(out / "gradebook.sqlite") as book:
        rows = {row.student_id: row for row in book.rows()}
    assert set(rows) == {f"zz_{c.stem}" for c in runnable} | set(hostile_files)
    for student, status in hostile_files.items():
        assert rows[student].status.value == status and rows[student].score == 0, (student, rows[student])
    assert not (tmp_path / "evil.ipynb").exists() and not Path("/tmp/evil-from-zip.ipynb").exists()
    for case in runnable:
        row = rows[f"zz_{case.stem}"]
        exercise = next(e for e in row.result.exercises if e.exercise_id == "02_dataset")
        ceiling = honest.get(header(case)["base"], exercise.max_score)
        assert exercise.score <= ceiling, (case.stem, exercise.score)
        assert exercise.status.value in header(case)["status"].split("|") + ["timeout"], (case.stem, exercise.status)
    written = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*.html"))
    written += json.dumps([r.result.to_dict() for r in rows.values() if r.result is not None], ensure_ascii=False)
    for secret in [*_secrets(course), SECRET_GRADEBOOK, SECRET_OTHER, witnesses["secret"]]:
        assert secret not in written, secret
    assert not (tmp_path / "marker-file").exists()
