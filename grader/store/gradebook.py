"""The gradebook: one SQLite row per student, each committed the moment its grading finishes,
and beside the automatic results, what makes them final grades.

SQLite in WAL mode with ``synchronous=FULL``: a row is either wholly there or not at all, so a
run killed at any moment (``kill -9`` included) loses at most the submissions still in flight,
and the rerun grades exactly those. One writer at a time (:func:`writer_lock`: ``grader bulk``,
``grader override``, ``grader late``). A row remembers the content hash it was graded from
(submission files + the course's checks + grader version + limits), so an unchanged submission
is never graded twice unless forced, and the hash of the files alone, against which an
instructor's adjustment is marked stale.

Tables: ``submissions`` (the automatic results), ``adjustments`` (the instructors' decisions,
append-only: triggers refuse every ``UPDATE`` and ``DELETE``), ``extensions`` (each import a
batch; the latest batch holds; append-only too), ``submission_times`` (from the LMS),
``annotations`` (an instructor's answer to a mistake cluster, append-only) and ``code`` (each
student's own code per exercise, for similarity). An older gradebook is migrated in place, in
one transaction, when it is opened.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from grader.clock import utc_stamp
from grader.errors import GraderError
from grader.i18n import T
from grader.results import SubmissionResult
from grader.store.records import Adjustment, Annotation, Extension, Row, Status, SubmissionInfo

__all__ = ["Gradebook", "writer_lock"]

SCHEMA_VERSION = 3
_SCHEMA_1 = """
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
# Schema 1 → 2: the files' own hash, and the inputs of final grades.
_MIGRATE_TO_2 = """
ALTER TABLE submissions ADD COLUMN files_hash TEXT;  -- NULL: graded before schema 2
CREATE TABLE adjustments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id  TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    check_id    TEXT,             -- NULL: the whole exercise
    kind        TEXT NOT NULL CHECK (kind IN ('set', 'add', 'excuse', 'revoke')),
    value       REAL,
    reason      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL,    -- UTC, ISO 8601
    files_hash  TEXT,             -- the submission files it was made against
    revokes     INTEGER REFERENCES adjustments (id)
);
CREATE TABLE extensions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    batch       INTEGER NOT NULL, -- one import; the latest batch holds
    student_id  TEXT NOT NULL,
    exercise_id TEXT NOT NULL,    -- '*': every exercise
    new_due     TEXT,
    extra_hours REAL,
    reason      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE TABLE submission_times (
    student_id   TEXT PRIMARY KEY,
    submitted_at TEXT NOT NULL,   -- with its offset
    source       TEXT NOT NULL
);
CREATE TRIGGER adjustments_append_only_u BEFORE UPDATE ON adjustments
    BEGIN SELECT RAISE(ABORT, 'adjustments are append-only: revoke one instead'); END;
CREATE TRIGGER adjustments_append_only_d BEFORE DELETE ON adjustments
    BEGIN SELECT RAISE(ABORT, 'adjustments are append-only: revoke one instead'); END;
CREATE TRIGGER extensions_append_only_u BEFORE UPDATE ON extensions
    BEGIN SELECT RAISE(ABORT, 'extensions are append-only: import a new sheet instead'); END;
CREATE TRIGGER extensions_append_only_d BEFORE DELETE ON extensions
    BEGIN SELECT RAISE(ABORT, 'extensions are append-only: import a new sheet instead'); END;
"""
# Schema 2 → 3: answers to mistake clusters, where an adjustment came from, and the students' own code.
_MIGRATE_TO_3 = """
CREATE TABLE annotations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise_id TEXT NOT NULL,
    cluster_id  TEXT NOT NULL,
    check_id    TEXT,             -- NULL: the exercise as a whole
    comment_ko  TEXT NOT NULL,
    comment_en  TEXT NOT NULL,
    points      REAL,             -- NULL: a comment only
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TRIGGER annotations_append_only_u BEFORE UPDATE ON annotations
    BEGIN SELECT RAISE(ABORT, 'annotations are append-only'); END;
CREATE TRIGGER annotations_append_only_d BEFORE DELETE ON annotations
    BEGIN SELECT RAISE(ABORT, 'annotations are append-only'); END;
ALTER TABLE adjustments ADD COLUMN source TEXT;  -- NULL: by hand; 'annotation:N': a cluster's answer
CREATE TABLE code (
    student_id  TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    source      TEXT NOT NULL,    -- the student's own cells: given cells and the self-check left out
    PRIMARY KEY (student_id, exercise_id)
);
"""
_MIGRATIONS = {1: _MIGRATE_TO_2, 2: _MIGRATE_TO_3}  # from schema N to N + 1


@contextmanager
def writer_lock(gradebook: Path) -> Iterator[None]:
    """Hold the gradebook's writer lock (a lock file beside it) for a whole run or command: one
    writer per gradebook. The kernel drops the lock when its holder dies, so ``kill -9`` never
    leaves it stale."""
    gradebook.parent.mkdir(parents=True, exist_ok=True)
    with open(gradebook.with_name(gradebook.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GraderError(f"{gradebook}: another grader command (a 'grader bulk' run?) is writing this "
                              "gradebook; try again when it is done") from None
        yield


def _now() -> str:
    return utc_stamp()


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
            self._db.executescript(_SCHEMA_1)
            self._db.execute("INSERT OR IGNORE INTO info VALUES ('schema', '1')")
            version = int(self._db.execute("SELECT value FROM info WHERE key='schema'").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise GraderError(f"{self.path}: gradebook schema {version}, this grader reads {SCHEMA_VERSION} "
                                  "(a newer grader wrote it)")
            for step in range(version, SCHEMA_VERSION):
                self._migrate(step)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise GraderError(f"{self.path}: not a gradebook ({exc})") from None
        except GraderError:
            self._db.close()
            raise

    def _migrate(self, version: int) -> None:
        """Schema ``version`` → ``version + 1``, whole or not at all."""
        try:
            self._db.executescript(f"BEGIN IMMEDIATE;\n{_MIGRATIONS[version]}\n"
                                   f"UPDATE info SET value='{version + 1}' WHERE key='schema';\nCOMMIT;")
        except sqlite3.DatabaseError:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def hashes(self) -> dict[str, str]:
        """student id → the content hash of what was graded for them."""
        return dict(self._db.execute("SELECT student_id, content_hash FROM submissions"))

    def files_hashes(self) -> dict[str, str | None]:
        """student id → the hash of the files graded for them (None: graded before schema 2)."""
        return dict(self._db.execute("SELECT student_id, files_hash FROM submissions"))

    def record(self, row: Row, code: dict[str, str] | None = None) -> None:
        """Store one student's outcome, replacing any earlier one, in its own transaction; with
        ``code`` (exercise id → the student's own code), that replaces their stored code too."""
        with self._transaction():
            self._write_row(row, code)

    def _write_row(self, row: Row, code: dict[str, str] | None) -> None:
        """:meth:`record`'s writes, inside a transaction the caller holds."""
        values = (row.student_id, row.content_hash, Status(row.status).value, row.score, row.max_score,
                  json.dumps(row.result.to_dict(), ensure_ascii=False) if row.result else None,
                  row.error, json.dumps(row.info.to_dict(), ensure_ascii=False, sort_keys=True),
                  row.graded_at or _now(),
                  row.files_hash)
        self._db.execute("INSERT OR REPLACE INTO submissions (student_id, content_hash, status, score, max_score,"
                         " result, error, meta, graded_at, files_hash)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        if code is not None:
            self._db.execute("DELETE FROM code WHERE student_id = ?", (row.student_id,))
            self._db.executemany("INSERT INTO code VALUES (?, ?, ?)",
                                 [(row.student_id, exercise, text) for exercise, text in sorted(code.items())])

    def rows(self) -> list[Row]:
        return list(self._iter_rows())

    def row(self, student_id: str) -> Row | None:
        """One student's row (a page about one student reads only theirs)."""
        return next(self._iter_rows(student_id), None)

    def code(self, exercise_id: str) -> dict[str, str]:
        """student id → their own code for the exercise, as stored when graded."""
        return dict(self._db.execute("SELECT student_id, source FROM code WHERE exercise_id = ? ORDER BY student_id",
                                     (exercise_id,)))

    def _iter_rows(self, student_id: str | None = None) -> Iterator[Row]:
        query = ("SELECT student_id, content_hash, status, score, max_score, result, error, meta, graded_at,"
                 " files_hash FROM submissions")
        cursor = self._db.execute(query + " WHERE student_id = ?" if student_id is not None
                                  else query + " ORDER BY student_id", (student_id,) if student_id is not None else ())
        for sid, digest, status, score, max_score, result, error, meta, graded_at, files in cursor:
            yield Row(sid, digest, Status(status), score, max_score,
                      SubmissionResult.from_dict(json.loads(result)) if result else None,
                      error, SubmissionInfo.from_dict(json.loads(meta)), graded_at, files)

    # ------------------------------------------------------------------ final-grade inputs

    def add_adjustments(self, adjustments: Iterable[Adjustment]) -> list[int]:
        """Append adjustments, all in one transaction (a sheet lands whole or not at all); their ids."""
        with self._transaction():
            return self._insert_adjustments(adjustments)

    def _insert_adjustments(self, adjustments: Iterable[Adjustment]) -> list[int]:
        ids = []
        for a in adjustments:
            cursor = self._db.execute(
                "INSERT INTO adjustments (student_id, exercise_id, check_id, kind, value, reason, author,"
                " created_at, files_hash, revokes, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (a.student_id, a.exercise_id, a.check_id, a.kind, a.value, a.reason, a.author,
                 a.created_at, a.files_hash, a.revokes, a.source))
            ids.append(int(cursor.lastrowid or 0))
        return ids

    def adjustments(self) -> list[Adjustment]:
        """Every adjustment ever made, in the order made."""
        cursor = self._db.execute("SELECT id, student_id, exercise_id, check_id, kind, value, reason, author,"
                                  " created_at, files_hash, revokes, source FROM adjustments ORDER BY id")
        return [Adjustment(id=i, student_id=s, exercise_id=e, check_id=c, kind=k, value=v, reason=r, author=a,
                           created_at=t, files_hash=f, revokes=x, source=o)
                for i, s, e, c, k, v, r, a, t, f, x, o in cursor]

    def add_annotation(self, annotation: Annotation, adjustments: Iterable[Adjustment] = ()) -> int:
        """Record an answer to a cluster and, in the same transaction, the adjustments it makes
        (``source`` set to it); its id."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO annotations (exercise_id, cluster_id, check_id, comment_ko, comment_en, points, author,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (annotation.exercise_id, annotation.cluster_id, annotation.check_id, annotation.comment.ko,
                 annotation.comment.en, annotation.points, annotation.author, annotation.created_at))
            number = int(cursor.lastrowid or 0)
            self._insert_adjustments(dataclasses.replace(a, source=f"annotation:{number}") for a in adjustments)
        return number

    def annotations(self) -> list[Annotation]:
        """Every answer to a cluster, in the order given."""
        cursor = self._db.execute("SELECT id, exercise_id, cluster_id, check_id, comment_ko, comment_en, points,"
                                  " author, created_at FROM annotations ORDER BY id")
        return [Annotation(exercise_id=e, cluster_id=c, comment=T(ko, en), author=a, check_id=k, points=p,
                           created_at=t, id=i) for i, e, c, k, ko, en, p, a, t in cursor]

    def add_extensions(self, extensions: Iterable[Extension], source: str) -> int:
        """A new batch of extensions, replacing the last as the one that holds; its batch number."""
        with self._transaction():
            batch = int(self._db.execute("SELECT coalesce(max(batch), 0) + 1 FROM extensions").fetchone()[0])
            for e in extensions:
                self._db.execute(
                    "INSERT INTO extensions (batch, student_id, exercise_id, new_due, extra_hours, reason,"
                    " imported_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (batch, e.student_id, e.exercise_id, e.new_due.isoformat() if e.new_due else None,
                     e.extra_hours, e.reason, _now(), source))
        return batch

    def extensions(self) -> list[Extension]:
        """The extensions of the latest batch, in sheet order."""
        cursor = self._db.execute("SELECT student_id, exercise_id, new_due, extra_hours, reason FROM extensions"
                                  " WHERE batch = (SELECT max(batch) FROM extensions) ORDER BY id")
        return [Extension(s, e, datetime.fromisoformat(d) if d else None, h, r) for s, e, d, h, r in cursor]

    def set_submission_times(self, times: dict[str, datetime], source: str) -> None:
        """Record when students submitted, as the LMS says (a later import replaces a student's time)."""
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO submission_times VALUES (?, ?, ?)",
                                 [(sid, at.isoformat(), source) for sid, at in times.items()])

    def submission_times(self) -> dict[str, datetime]:
        return {sid: datetime.fromisoformat(at) for sid, at in
                self._db.execute("SELECT student_id, submitted_at FROM submission_times")}

    def _transaction(self) -> Any:
        db = self._db

        class _Tx:
            def __enter__(self) -> None:
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind: object, *rest: object) -> None:
                db.execute("COMMIT" if kind is None else "ROLLBACK")

        return _Tx()
