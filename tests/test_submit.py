"""``grader submit``: what a student hands in, checked, zipped atomically, and read back by ``bulk``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, cli
from grader.store.gradebook import Gradebook
from grader.submit.manifest import MANIFEST_NAME, SCHEMA

ROOT = Path(__file__).resolve().parent.parent
COURSE = ["--course", str(ROOT / "exercises"), "--lang", "en"]


def submit(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(cli, ["submit", *args, *COURSE])


def only_zip(folder: Path) -> Path:
    (found,) = folder.glob("*.zip")
    return found


def test_a_missing_notebook_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", tmp_path / "mine")
    outcome = submit(str(tmp_path / "mine"), "--student", "alice", "--out", str(tmp_path), "--no-selfcheck")
    assert outcome.exit_code == ExitCode.CHECKS_FAILED, outcome.output
    assert "FOUND" in outcome.output and "MISSING" in outcome.output and "02_dataset" in outcome.output
    assert "expected notebooks are missing" in outcome.output
    assert not list(tmp_path.glob("*.zip"))


def test_an_extra_notebook_is_listed_and_partial_writes_the_zip(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", tmp_path / "mine")
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", tmp_path / "mine" / "scratch.ipynb")
    outcome = submit(str(tmp_path / "mine"), "--student", "alice", "--out", str(tmp_path), "--no-selfcheck", "--partial")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "EXTRA" in outcome.output and "scratch.ipynb" in outcome.output
    with zipfile.ZipFile(only_zip(tmp_path)) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        assert sorted(archive.namelist()) == ["01_tensors.ipynb", MANIFEST_NAME]
    assert manifest["schema"] == SCHEMA and manifest["student"] == "alice"
    assert [(f["path"], f["exercise"]) for f in manifest["files"]] == [("01_tensors.ipynb", "01_tensors")]
    assert manifest["files"][0]["bytes"] == (ROOT / "solutions" / "01_tensors.ipynb").stat().st_size


def test_a_bad_student_id_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    outcome = submit(str(ROOT / "solutions" / "01_tensors.ipynb"), "--student", "../x", "--out", str(tmp_path))
    assert outcome.exit_code == ExitCode.BAD_INPUT, outcome.output
    assert "student id '../x'" in outcome.output and not list(tmp_path.glob("*.zip"))


def test_a_notebook_identical_to_the_stub_warns(tmp_path: Path) -> None:
    shutil.copy(ROOT / "exercises" / "01_tensors.ipynb", tmp_path)
    outcome = submit(str(tmp_path / "01_tensors.ipynb"), "--student", "alice", "--out", str(tmp_path), "--no-selfcheck")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "byte-identical to the released stub" in outcome.output
    assert "file saved on disk" in outcome.output


def test_a_newer_checkpoint_warns(tmp_path: Path) -> None:
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", tmp_path)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    checkpoint = tmp_path / ".ipynb_checkpoints" / "01_tensors-checkpoint.ipynb"
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", checkpoint)
    stamp = (tmp_path / "01_tensors.ipynb").stat().st_mtime
    import os

    os.utime(checkpoint, (stamp + 60, stamp + 60))
    outcome = submit(str(tmp_path / "01_tensors.ipynb"), "--student", "alice", "--out", str(tmp_path), "--no-selfcheck")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "a newer checkpoint exists" in outcome.output


def test_an_edited_given_cell_is_listed(tmp_path: Path) -> None:
    notebook = nbformat.read(ROOT / "solutions" / "01_tensors.ipynb", as_version=4)
    given = next(c for c in notebook.cells if c.cell_type == "code" and "import" in c.source)
    given.source += "\nprint('mine')"
    nbformat.write(notebook, tmp_path / "01_tensors.ipynb")
    outcome = submit(str(tmp_path / "01_tensors.ipynb"), "--student", "alice", "--out", str(tmp_path), "--no-selfcheck")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "01_tensors.ipynb: Given cell" in outcome.output and "was edited" in outcome.output


def test_a_50_mb_output_is_stripped(tmp_path: Path) -> None:
    notebook = nbformat.read(ROOT / "solutions" / "01_tensors.ipynb", as_version=4)
    noisy = next(c for c in notebook.cells if c.cell_type == "code")
    noisy.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (50 * 1024 * 1024))]
    nbformat.write(notebook, tmp_path / "01_tensors.ipynb")
    assert (tmp_path / "01_tensors.ipynb").stat().st_size > 50 * 1024 * 1024
    outcome = submit(str(tmp_path / "01_tensors.ipynb"), "--student", "alice", "--out", str(tmp_path), "--no-selfcheck")
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "removed 52,428,8" in outcome.output and "over the grader's cap" in outcome.output
    with zipfile.ZipFile(only_zip(tmp_path)) as archive:
        kept = nbformat.reads(archive.read("01_tensors.ipynb").decode(), as_version=4)
        manifest = json.loads(archive.read(MANIFEST_NAME))
    assert manifest["files"][0]["bytes"] < 1024 * 1024
    assert [len(c.outputs) for c in kept.cells if c.cell_type == "code"][0] == 0
    assert [c.source for c in kept.cells] == [c.source for c in notebook.cells]


KILLED_DURING_SUBMIT = """
import os, signal, sys, zipfile
real = zipfile.ZipFile.write
def write(self, *args, **kwargs):
    real(self, *args, **kwargs)
    self.fp.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # after the first member: the zip is half written
zipfile.ZipFile.write = write
from grader.cli import main
sys.argv = ["grader", *sys.argv[1:]]
main()
"""


def test_a_zip_killed_halfway_never_appears_under_its_final_name(tmp_path: Path) -> None:
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-c", KILLED_DURING_SUBMIT, "submit", str(tmp_path / "01_tensors.ipynb"),
                           "--student", "alice", "--out", str(out), "--no-selfcheck", *COURSE],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -9, done.stderr
    assert not list(out.glob("*.zip"))
    (partial,) = out.glob(".alice_*.zip.*.part")  # what was written went to the temporary file only
    assert partial.stat().st_size > 0


def two_submissions(tmp_path: Path, common: list[str]) -> Path:
    """alice's and bob's ``grader submit`` zips of the 01_tensors solution, in an inbox folder."""
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(ROOT / "solutions" / "01_tensors.ipynb", mine)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for student in ("alice", "bob"):
        outcome = submit(str(mine), "--student", student, "--out", str(inbox), "--partial", *common)
        assert outcome.exit_code == ExitCode.OK, outcome.output
        assert "total: 12 / 12" in outcome.output and "sha256:" in outcome.output
    return inbox


def rewrite_zip(path: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def bulk_rows(inbox: Path, out: Path, common: list[str]) -> dict[str, Any]:
    bulk = CliRunner().invoke(cli, ["bulk", str(inbox), "--out", str(out), "--quiet", "--workers", "1",
                                    "--public-only", *COURSE, *common])
    assert bulk.exit_code == ExitCode.OK, bulk.output
    with Gradebook(out / "gradebook.sqlite") as book:
        return {row.student_id: row for row in book.rows()}


def only_zip_of(folder: Path, student: str) -> Path:
    (found,) = folder.glob(f"{student}_*.zip")
    return found


@pytest.mark.slow
def test_the_zip_round_trips_through_bulk_and_a_later_edit_is_flagged(tmp_path: Path, data_root: Path,
                                                                        own_code_sandbox: list[str]) -> None:
    common = ["--data-root", str(data_root), "--work-dir", str(tmp_path / "work"), *own_code_sandbox]
    inbox = two_submissions(tmp_path, common)
    # bob edits his notebook after submitting: the stub's answer replaces his own
    rewrite_zip(only_zip_of(inbox, "bob"), lambda members: members.update(
        {"01_tensors.ipynb": (ROOT / "exercises" / "01_tensors.ipynb").read_bytes()}))

    graded = CliRunner().invoke(cli, ["grade", str(tmp_path / "mine"), "--out", str(tmp_path / "one"), "--public-only",
                                      *COURSE, *common])
    assert graded.exit_code == ExitCode.OK, graded.output
    alone = json.loads((tmp_path / "one" / "results.json").read_text(encoding="utf-8"))["score"]

    rows = bulk_rows(inbox, tmp_path / "class", common)
    assert sorted(rows) == ["alice", "bob"]  # the ids come from the manifests, not the zip names
    assert rows["alice"].score == alone == 12
    assert not any("changed after submit" in p.en for p in rows["alice"].result.problems)
    assert rows["bob"].status.value == "graded" and rows["bob"].score == 0
    assert any("changed after submit" in p.en and "01_tensors.ipynb" in p.en for p in rows["bob"].result.problems)


@pytest.mark.slow
def test_bulk_says_a_submission_was_made_against_another_version_of_the_course(tmp_path: Path, data_root: Path,
                                                                               own_code_sandbox: list[str]) -> None:
    common = ["--data-root", str(data_root), "--work-dir", str(tmp_path / "work"), *own_code_sandbox]
    inbox = two_submissions(tmp_path, common)

    def older_course(members: dict[str, bytes]) -> None:  # bob's copy of the course was an older one
        manifest = json.loads(members[MANIFEST_NAME])
        assert len(manifest["course"]["hash"]) == 64
        manifest["course"]["hash"] = "0" * 64
        members[MANIFEST_NAME] = json.dumps(manifest).encode()

    rewrite_zip(only_zip_of(inbox, "bob"), older_course)
    rows = bulk_rows(inbox, tmp_path / "class", common)
    said = [p for p in rows["bob"].result.problems if "another version of the course" in p.en]
    assert len(said) == 1, [p.en for p in rows["bob"].result.problems]
    assert "다른 버전" in said[0].ko
    assert not any("another version" in p.en or "changed after submit" in p.en for p in rows["alice"].result.problems)
    assert rows["bob"].status.value == "graded" and rows["bob"].score == rows["alice"].score == 12  # still graded
