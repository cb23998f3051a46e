"""The gradebook: one row per student, replaced not duplicated, hashes that notice every change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from grader.errors import GraderError
from grader.store.gradebook import Gradebook
from grader.hashing import config_fingerprint, content_hash
from grader.store.records import Row, Status, status_of, SubmissionInfo
from grader.i18n import T
from grader.results import CellError, CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult


def result(student: str, points: float, status: ExerciseStatus = ExerciseStatus.GRADED,
           cell_errors: list[CellError] | None = None) -> SubmissionResult:
    check = CheckResult("t::a", T.same("a"), CheckStatus.PASSED if points else CheckStatus.FAILED, points, 5.0)
    exercise = ExerciseResult("02_dataset", T.same("x"), status, [check], cell_errors=cell_errors or [])
    return SubmissionResult(student, [exercise], grader_version="t", hidden_checks=True)


def test_record_replaces_and_round_trips(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.record(Row.from_result(result("alice", 0), "h1", SubmissionInfo(late=True)))
        book.record(Row.from_result(result("alice", 5), "h2", SubmissionInfo(late=True)))
        book.record(Row("bob", "h3", Status.UNREADABLE, 0, 20, error="bad zip"))
        rows = book.rows()
        assert book.hashes() == {"alice": "h2", "bob": "h3"}
    assert [(r.student_id, r.status, r.score, r.max_score) for r in rows] == [
        ("alice", Status.GRADED, 5.0, 5.0), ("bob", Status.UNREADABLE, 0.0, 20.0)]
    assert rows[0].info == SubmissionInfo(late=True) and rows[0].result.to_dict() == result("alice", 5).to_dict()
    assert rows[1].result is None and rows[1].error == "bad zip"


def test_wal_mode_and_a_second_reader_sees_committed_rows(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with Gradebook(path) as book:
        book.record(Row.from_result(result("alice", 5), "h", SubmissionInfo()))
        reader = sqlite3.connect(path)
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert reader.execute("SELECT count(*) FROM submissions").fetchone()[0] == 1
        reader.close()


def test_refuses_another_schema(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    Gradebook(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE info SET value='99' WHERE key='schema'")
    db.commit()
    db.close()
    with pytest.raises(GraderError, match="schema 99"):
        Gradebook(path)


def test_refuses_a_file_that_is_not_a_gradebook(tmp_path: Path) -> None:
    (tmp_path / "g.sqlite").write_text("just text, " * 200)
    with pytest.raises(GraderError, match="not a gradebook"):
        Gradebook(tmp_path / "g.sqlite")


@pytest.mark.parametrize(("exercise_status", "kind", "expected"), [
    (ExerciseStatus.GRADED, None, Status.GRADED),
    (ExerciseStatus.GRADED, "timeout", Status.TIMEOUT),
    (ExerciseStatus.TIMEOUT, None, Status.TIMEOUT),
    (ExerciseStatus.KERNEL_DIED, "kernel_died", Status.ERROR),
    (ExerciseStatus.MISSING, None, Status.MISSING),
    (ExerciseStatus.INVALID, None, Status.UNREADABLE),
], ids=["graded", "cell-timeout", "notebook-timeout", "kernel-died", "missing", "invalid"])
def test_status_of(exercise_status: ExerciseStatus, kind: str | None, expected: Status) -> None:
    errors = [CellError(3, kind)] if kind else []
    assert status_of(result("s", 0, exercise_status, errors)) is expected


def test_content_hash_notices_names_bytes_and_checks(tmp_path: Path, make_config, course) -> None:
    a = tmp_path / "a.ipynb"
    a.write_text("one")
    base = content_hash([("a.ipynb", a)], "fp")
    assert content_hash([("a.ipynb", a)], "fp") == base
    assert content_hash([("b.ipynb", a)], "fp") != base
    assert content_hash([("a.ipynb", a)], "other checks") != base
    a.write_text("two")
    assert content_hash([("a.ipynb", a)], "fp") != base
    hidden, public = config_fingerprint(make_config(hidden=True)), config_fingerprint(make_config(hidden=False))
    assert hidden != public and len(hidden) == 64
