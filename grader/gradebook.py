"""The gradebook: one SQLite row per student, each committed the moment its grading finishes.

SQLite in WAL mode with ``synchronous=FULL``: a row is either wholly there or not at all, so a
run killed at any moment (``kill -9`` included) loses at most the submissions still in flight,
and the rerun grades exactly those. The bulk coordinator is the only writer. A row remembers
the content hash it was graded from (submission files + the course's checks + grader version +
limits), so an unchanged submission is never graded twice unless forced.
"""

from __future__ import annotations

import enum
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from . import __version__
from .config import GradeConfig
from .errors import GraderError
from .results import ExerciseStatus, SubmissionResult

__all__ = ["Gradebook", "Row", "Status", "config_fingerprint", "content_hash", "status_of"]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    student_id   TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    status       TEXT NOT NULL,
    score        REAL NOT NULL,
    max_score    REAL NOT NULL,
    result       TEXT,            -- SubmissionResult.to_dict() as JSON; NULL when none came back
    error        TEXT NOT NULL,   -- why there is no result (grader failure, unreadable archive)
    meta         TEXT NOT NULL,   -- the layout's details: late marker, LMS ids, ignored files
    graded_at    TEXT NOT NULL
);
"""


class Status(str, enum.Enum):
    """A submission's overall state in the class (a student's mistakes still count as graded)."""

    GRADED = "graded"
    TIMEOUT = "timeout"  # a notebook ran out of time (the rest was still graded)
    ERROR = "error"  # the grader failed on it, or a kernel died
    MISSING = "missing"  # no notebook for any exercise
    UNREADABLE = "unreadable"  # the archive was rejected, or no notebook could be read


def status_of(result: SubmissionResult) -> Status:
    states = {e.status for e in result.exercises}
    timed_out = any(c.kind == "timeout" for e in result.exercises for c in e.cell_errors)
    if ExerciseStatus.TIMEOUT in states or timed_out:
        return Status.TIMEOUT
    if states & {ExerciseStatus.KERNEL_DIED, ExerciseStatus.LIMIT}:
        return Status.ERROR
    if states and states <= {ExerciseStatus.MISSING}:
        return Status.MISSING
    if states and states <= {ExerciseStatus.MISSING, ExerciseStatus.INVALID}:
        return Status.UNREADABLE
    return Status.GRADED


@dataclass
class Row:
    student_id: str
    content_hash: str
    status: Status
    score: float = 0.0
    max_score: float = 0.0
    result: SubmissionResult | None = None
    error: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    graded_at: str = ""

    @classmethod
    def from_result(cls, result: SubmissionResult, content_hash: str, meta: dict[str, Any]) -> "Row":
        return cls(result.submission_id, content_hash, status_of(result), result.score, result.max_score,
                   result, "", meta)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def config_fingerprint(config: GradeConfig) -> str:
    """What, besides the submission, decides a grade: the exercises graded, their check files and
    the helper modules beside them, the grader's version and the limits. Check files of exercises
    not graded here, and the rest of the manifest, do not count (a new exercise keeps old grades)."""
    course = config.course
    digest = hashlib.sha256(f"{__version__}|{config.hidden}|{config.limits}|{course.cuda_counts}".encode())
    files: set[Path] = set()
    for exercise in course.exercises:
        digest.update(f"{exercise.id}|{exercise.notebook}|{exercise.points}\n".encode())
        for check in exercise.check_files(hidden=config.hidden):
            files.add(check)
            files.update(p for p in check.parent.glob("*.py") if not p.name.startswith("test_"))
    for path in sorted(files):
        digest.update(f"{path.name}:{_file_digest(path)}\n".encode())
    return digest.hexdigest()


def content_hash(sources: Iterable[tuple[str, Path]], fingerprint: str) -> str:
    """The hash of a submission's files (name, bytes) under a :func:`config_fingerprint`."""
    digest = hashlib.sha256(fingerprint.encode())
    for name, path in sorted(sources):
        digest.update(f"{name}:{_file_digest(path)}\n".encode())
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Gradebook:
    """The SQLite file of a class's grades. Use as a context manager; one writer at a time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open each transaction ourselves, one per submission.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            found = self._db.execute("SELECT value FROM info WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise GraderError(f"{self.path}: not a gradebook ({exc})") from None
        if found is None:
            self._db.execute("INSERT OR IGNORE INTO info VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(found[0]) != SCHEMA_VERSION:
            self._db.close()
            raise GraderError(f"{self.path}: gradebook schema {found[0]}, this grader reads {SCHEMA_VERSION}")

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def hashes(self) -> dict[str, str]:
        """student id → the content hash of what was graded for them."""
        return dict(self._db.execute("SELECT student_id, content_hash FROM submissions"))

    def record(self, row: Row) -> None:
        """Store one student's outcome, replacing any earlier one, in its own transaction."""
        values = (row.student_id, row.content_hash, Status(row.status).value, row.score, row.max_score,
                  json.dumps(row.result.to_dict(), ensure_ascii=False) if row.result else None,
                  row.error, json.dumps(row.meta, ensure_ascii=False, sort_keys=True), row.graded_at or _now())
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    def rows(self) -> list[Row]:
        return list(self._iter_rows())

    def _iter_rows(self) -> Iterator[Row]:
        cursor = self._db.execute("SELECT student_id, content_hash, status, score, max_score, result, error, meta,"
                                  " graded_at FROM submissions ORDER BY student_id")
        for sid, digest, status, score, max_score, result, error, meta, graded_at in cursor:
            yield Row(sid, digest, Status(status), score, max_score,
                      SubmissionResult.from_dict(json.loads(result)) if result else None,
                      error, json.loads(meta), graded_at)

    def _transaction(self) -> Any:
        db = self._db

        class _Tx:
            def __enter__(self) -> None:
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind: object, *rest: object) -> None:
                db.execute("COMMIT" if kind is None else "ROLLBACK")

        return _Tx()
