"""What the course service keeps beside the gradebook, in the same SQLite file: who may come in,
what was handed in, and the queue of what is still to grade.

The web process is the only writer (as ``grader bulk`` is for the CLI). Every upload is stored,
its files first (content-addressed, :class:`FileStore`), then its row, and committed before the
student is answered: an acknowledged upload survives ``kill -9``. An upload is a job: ``queued``,
then ``grading`` (claimed by one server's run, its ``epoch``), then ``graded`` or ``failed``. A
server that starts again puts back what a killed one had claimed, and a result is recorded only
by the claim it was graded under, in the same transaction that marks the upload graded and (for
a hand-in) rewrites the student's row in the gradebook: each result is recorded exactly once. An
upload whose files a student had sent before, under the same checks and grader, takes that
result at once: one grading per content and grader version.

A student's row is made from their hand-ins, exercise by exercise: each exercise's result is the
one from the latest graded hand-in that brought its notebook, and its submission time that
hand-in's receipt (``SubmissionInfo.exercise_times``), so a practical handed in next week does
not make this week's late. A hand-in the grader could not grade (``failed``) changes no row.

Tokens are never stored, only their SHA-256: a personal link cannot be read back from the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grader.clock import utc_now, utc_stamp
from grader.results import ExerciseStatus, SubmissionResult
from grader.store.desk import DeskRecords
from grader.store.records import Row, SubmissionInfo

__all__ = ["FileStore", "Person", "QuotaExceeded", "ServiceStore", "StoredFile", "Upload", "token_digest"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id          TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('student', 'ta', 'instructor')),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,  -- sha256 of the personal link's token
    added_at    TEXT NOT NULL,
    revoked_at  TEXT,                  -- a revoked link stops working at once
    PRIMARY KEY (id, role)
);
CREATE TABLE IF NOT EXISTS uploads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('check', 'handin')),
    received_at  TEXT NOT NULL,        -- the server's receipt time: the submission time, never the client's
    files        TEXT NOT NULL,        -- JSON: [{name, sha256, bytes}]
    content_hash TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'grading', 'graded', 'failed')),
    epoch        INTEGER,              -- the server run that claimed it
    result       TEXT,                 -- SubmissionResult.to_dict() as JSON
    error        TEXT NOT NULL DEFAULT '',
    graded_at    TEXT,
    code         TEXT                  -- JSON: exercise id → the student's own code (similarity)
);
CREATE TABLE IF NOT EXISTS releases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise_id TEXT NOT NULL,
    student_id  TEXT,                  -- NULL: the whole class
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS releases_append_only_u BEFORE UPDATE ON releases
    BEGIN SELECT RAISE(ABORT, 'releases are append-only'); END;
CREATE TRIGGER IF NOT EXISTS releases_append_only_d BEFORE DELETE ON releases
    BEGIN SELECT RAISE(ABORT, 'releases are append-only'); END;
CREATE TABLE IF NOT EXISTS lti_people (
    user_id     TEXT PRIMARY KEY,      -- the LMS's stable id of the person (an LTI launch's "sub")
    person_id   TEXT NOT NULL,
    role        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lti_line_items (
    resource_id TEXT PRIMARY KEY,      -- an exercise id, or "assignment"
    line_item   TEXT NOT NULL          -- its URL at the LMS
);
CREATE INDEX IF NOT EXISTS uploads_queue ON uploads (state, id);
CREATE INDEX IF NOT EXISTS uploads_student ON uploads (student_id, id);
INSERT OR IGNORE INTO info VALUES ('service_epoch', '0');
"""


class QuotaExceeded(Exception):
    """A self-check past the hourly limit; ``frees_at``: when the next one may be made."""

    def __init__(self, limit: int, frees_at: datetime) -> None:
        super().__init__(f"{limit} self-checks an hour; the next frees at {frees_at.isoformat()}")
        self.limit, self.frees_at = limit, frees_at


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    id: str
    role: str  # student | ta | instructor
    name: str
    revoked: bool = False


@dataclass(frozen=True)
class StoredFile:
    name: str  # as the student named it (a bare file name)
    sha256: str
    bytes: int


@dataclass
class Upload:
    id: int
    student_id: str
    kind: str  # check | handin
    received_at: str
    files: list[StoredFile]
    content_hash: str
    state: str
    result: SubmissionResult | None = None
    error: str = ""
    graded_at: str | None = None


class FileStore:
    """Files by their SHA-256 under ``root`` (``ab/abcdef…``): a file handed in twice is kept once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` durably (written, flushed, renamed into place); its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as sink:
                sink.write(data)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return digest

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()


class ServiceStore(DeskRecords):
    """The gradebook, with the service's people, uploads and queue, and the desk's records, beside it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)

    # ------------------------------------------------------------------ people
    def add_person(self, person_id: str, role: str, name: str) -> str:
        """Give ``person_id`` a new personal link (an earlier one stops working); the token."""
        token = secrets.token_urlsafe(32)
        with self._transaction():
            self._db.execute("DELETE FROM people WHERE id = ? AND role = ?", (person_id, role))
            self._db.execute("INSERT INTO people VALUES (?, ?, ?, ?, ?, NULL)",
                             (person_id, role, name, token_digest(token), utc_stamp()))
        return token

    def revoke(self, person_id: str, role: str) -> bool:
        """Stop ``person_id``'s link at once; whether there was one to stop."""
        with self._transaction():
            cursor = self._db.execute("UPDATE people SET revoked_at = ?"
                                      " WHERE id = ? AND role = ? AND revoked_at IS NULL",
                                      (utc_stamp(), person_id, role))
        return cursor.rowcount > 0

    def person(self, token: str) -> Person | None:
        """Whose personal link ``token`` is, while it is not revoked."""
        return self.person_by_digest(token_digest(token))

    def person_by_digest(self, digest: str) -> Person | None:
        """Whose personal link has this SHA-256 (what a session keeps), while it is not revoked."""
        found = self._db.execute("SELECT id, role, name FROM people WHERE token_hash = ? AND revoked_at IS NULL",
                                 (digest,)).fetchone()
        return Person(*found) if found else None

    def people(self, role: str | None = None) -> list[Person]:
        query = "SELECT id, role, name, revoked_at IS NOT NULL FROM people"
        cursor = self._db.execute(query + " WHERE role = ? ORDER BY id" if role else query + " ORDER BY role, id",
                                  (role,) if role else ())
        return [Person(i, r, n, bool(x)) for i, r, n, x in cursor]

    def digest_of(self, person_id: str, role: str) -> str | None:
        """The SHA-256 a session keeps for this person (their link's), while it works."""
        found = self._db.execute("SELECT token_hash FROM people WHERE id = ? AND role = ? AND revoked_at IS NULL",
                                 (person_id, role)).fetchone()
        return found[0] if found else None

    # ------------------------------------------------------------------ the LMS (LTI 1.3)
    def lti_person(self, user_id: str) -> str | None:
        found = self._db.execute("SELECT person_id FROM lti_people WHERE user_id = ?", (user_id,)).fetchone()
        return found[0] if found else None

    def link_lti_person(self, user_id: str, person_id: str, role: str, name: str) -> Person:
        """Link an LMS user to a person (added with a link of their own where new, with ``role``)."""
        with self._transaction():
            self._db.execute("INSERT INTO lti_people VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE"
                             " SET person_id = excluded.person_id, role = excluded.role", (user_id, person_id, role))
        known = self._db.execute("SELECT revoked_at IS NOT NULL FROM people WHERE id = ? AND role = ?",
                                 (person_id, role)).fetchone()
        if known is None:
            self.add_person(person_id, role, name)
        return Person(person_id, role, name, bool(known and known[0]))

    def lti_people(self, role: str) -> list[tuple[str, str]]:
        """(LMS user id, person id) of everyone linked with ``role``."""
        return list(self._db.execute("SELECT user_id, person_id FROM lti_people WHERE role = ? ORDER BY person_id",
                                     (role,)))

    def set_lti_endpoints(self, lineitems: str, memberships: str, resource_link: str) -> None:
        with self._transaction():
            for key, value in (("lti_lineitems", lineitems), ("lti_memberships", memberships),
                               ("lti_resource_link", resource_link)):
                if value:
                    self._db.execute("INSERT OR REPLACE INTO info VALUES (?, ?)", (key, value))

    def lti_endpoints(self) -> tuple[str, str, str]:
        """The course's line items URL, roster URL and resource link id, from an instructor's last launch."""
        found = dict(self._db.execute("SELECT key, value FROM info WHERE key LIKE 'lti_%'"))
        return found.get("lti_lineitems", ""), found.get("lti_memberships", ""), found.get("lti_resource_link", "")

    def set_lti_line_item(self, resource_id: str, line_item: str) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO lti_line_items VALUES (?, ?)", (resource_id, line_item))

    def lti_line_item(self, resource_id: str) -> str | None:
        found = self._db.execute("SELECT line_item FROM lti_line_items WHERE resource_id = ?",
                                 (resource_id,)).fetchone()
        return found[0] if found else None

    # ------------------------------------------------------------------ uploads and the queue
    def add_upload(self, student_id: str, kind: str, files: list[StoredFile], content_hash: str, *,
                   checks_per_hour: int | None = None) -> Upload:
        """Queue an upload whose files are stored already; committed when this returns. Files this
        student sent before under the same checks (the same ``content_hash``) take that result now.
        A self-check past ``checks_per_hour`` in the last hour raises :class:`QuotaExceeded`
        (counted and added in one transaction: two at once cannot both slip through)."""
        now = utc_now()
        received = now.isoformat(timespec="seconds")
        listed = json.dumps([vars(f) for f in files], ensure_ascii=False)
        with self._transaction():
            if kind == "check" and checks_per_hour is not None:
                recent = self._checks_since(student_id, now - timedelta(hours=1))
                if len(recent) >= checks_per_hour:
                    raise QuotaExceeded(checks_per_hour, recent[len(recent) - checks_per_hour] + timedelta(hours=1))
            cursor = self._db.execute(
                "INSERT INTO uploads (student_id, kind, received_at, files, content_hash, state)"
                " VALUES (?, ?, ?, ?, ?, 'queued')", (student_id, kind, received, listed, content_hash))
            upload_id = int(cursor.lastrowid or 0)
            earlier = self._db.execute(
                "SELECT result, code FROM uploads WHERE student_id = ? AND content_hash = ? AND state = 'graded'"
                " ORDER BY id DESC LIMIT 1", (student_id, content_hash)).fetchone()
            if earlier is not None:
                self._db.execute("UPDATE uploads SET state = 'graded', result = ?, code = ?, graded_at = ?"
                                 " WHERE id = ?", (*earlier, utc_stamp(), upload_id))
                if kind == "handin":
                    self._write_counted_row(student_id)
        return self.upload(upload_id)  # type: ignore[return-value]

    def checks_left(self, student_id: str, checks_per_hour: int) -> tuple[int, datetime | None]:
        """How many self-checks ``student_id`` has left this hour, and when the next one frees
        (None while some are left)."""
        recent = self._checks_since(student_id, utc_now() - timedelta(hours=1))
        left = max(0, checks_per_hour - len(recent))
        return left, None if left else recent[len(recent) - checks_per_hour] + timedelta(hours=1)

    def _checks_since(self, student_id: str, since: datetime) -> list[datetime]:
        cursor = self._db.execute("SELECT received_at FROM uploads WHERE student_id = ? AND kind = 'check'"
                                  " AND received_at > ? ORDER BY id",
                                  (student_id, since.isoformat(timespec="seconds")))
        return [datetime.fromisoformat(at) for (at,) in cursor]

    def start_epoch(self) -> int:
        """A new server run: what a killed one had claimed goes back to the queue; the run's number."""
        with self._transaction():
            epoch = int(self._db.execute("SELECT value FROM info WHERE key = 'service_epoch'").fetchone()[0]) + 1
            self._db.execute("UPDATE info SET value = ? WHERE key = 'service_epoch'", (str(epoch),))
            self._db.execute("UPDATE uploads SET state = 'queued', epoch = NULL WHERE state = 'grading'")
        return epoch

    def claim(self, epoch: int, most: int = 1) -> list[Upload]:
        """The oldest queued uploads, now ``grading`` under ``epoch`` (never claimed twice)."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE uploads SET state = 'grading', epoch = ? WHERE id IN"
                " (SELECT id FROM uploads WHERE state = 'queued' ORDER BY id LIMIT ?)"
                " RETURNING id", (epoch, most))
            ids = sorted(i for (i,) in cursor)
        return [self.upload(i) for i in ids]  # type: ignore[misc]

    def finish(self, upload_id: int, epoch: int, result: SubmissionResult | None, error: str = "", *,
               code: dict[str, str] | None = None) -> bool:
        """Record an upload's outcome, once: only under the claim it was graded with. A graded
        hand-in rewrites the student's row in the gradebook in the same transaction. Whether it
        was recorded now."""
        document = json.dumps(result.to_dict(), ensure_ascii=False) if result is not None else None
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE uploads SET state = ?, result = ?, error = ?, graded_at = ?, code = ?"
                " WHERE id = ? AND state = 'grading' AND epoch = ? RETURNING student_id, kind",
                ("graded" if result is not None else "failed", document, error, utc_stamp(),
                 json.dumps(code, ensure_ascii=False) if code is not None else None, upload_id, epoch))
            found = cursor.fetchone()
            if found is None:
                return False  # claimed again since (a restart) or recorded already: not twice
            student_id, kind = found
            if kind == "handin" and result is not None:
                self._write_counted_row(student_id)
        return True

    def _write_counted_row(self, student_id: str) -> None:
        """The student's gradebook row from their graded hand-ins, exercise by exercise (inside the
        caller's transaction): the latest hand-in that brought an exercise's notebook decides it."""
        chosen: dict[str, tuple[Any, str, str, str | None]] = {}  # exercise → (result, receipt, files, code)
        latest: SubmissionResult | None = None
        for received, digest, document, code in self._db.execute(
                "SELECT received_at, content_hash, result, code FROM uploads"
                " WHERE student_id = ? AND kind = 'handin' AND state = 'graded' ORDER BY id", (student_id,)):
            latest = SubmissionResult.from_dict(json.loads(document))
            codes = json.loads(code) if code else {}
            for exercise in latest.exercises:
                if exercise.status is not ExerciseStatus.MISSING:
                    chosen[exercise.exercise_id] = (exercise, received, digest, codes.get(exercise.exercise_id))
        if latest is None:
            return
        merged = replace(latest, exercises=[chosen[e.exercise_id][0] if e.exercise_id in chosen else e
                                            for e in latest.exercises])
        times = {exercise: received for exercise, (_, received, _, _) in chosen.items()}
        files = hashlib.sha256("\n".join(sorted(f"{e}:{d}" for e, (_, _, d, _) in chosen.items())).encode())
        info = SubmissionInfo(layout="service", exercise_times=times or None,
                              submitted_at=max(times.values()) if times else None)
        row = Row.from_result(merged, files.hexdigest(), info, files_hash=files.hexdigest())
        self._write_row(row, {e: c for e, (_, _, _, c) in chosen.items() if c is not None})

    def upload(self, upload_id: int) -> Upload | None:
        found = self._db.execute(
            "SELECT id, student_id, kind, received_at, files, content_hash, state, result, error, graded_at"
            " FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(found) if found else None

    def uploads(self, student_id: str | None = None) -> list[Upload]:
        """A student's uploads (every student's without one), newest first."""
        query = ("SELECT id, student_id, kind, received_at, files, content_hash, state, result, error, graded_at"
                 " FROM uploads")
        cursor = self._db.execute(query + " WHERE student_id = ? ORDER BY id DESC" if student_id
                                  else query + " ORDER BY id DESC", (student_id,) if student_id else ())
        return [_upload(found) for found in cursor]

    # ------------------------------------------------------------------ releases
    def release(self, exercise_id: str, author: str, student_id: str | None = None) -> int:
        """Show ``exercise_id``'s hidden results, adjustments, lateness and comments to the whole
        class (or to ``student_id``); recorded with who and when. The number of the release."""
        with self._transaction():
            cursor = self._db.execute("INSERT INTO releases (exercise_id, student_id, author, created_at)"
                                      " VALUES (?, ?, ?, ?)", (exercise_id, student_id, author, utc_stamp()))
        return int(cursor.lastrowid or 0)

    def released(self, student_id: str) -> set[str]:
        """The exercises whose full results ``student_id`` may see."""
        cursor = self._db.execute("SELECT DISTINCT exercise_id FROM releases WHERE student_id IS NULL"
                                  " OR student_id = ?", (student_id,))
        return {exercise for (exercise,) in cursor}

    def released_to_all(self) -> set[str]:
        """The exercises released to the whole class."""
        return {e for (e,) in self._db.execute("SELECT DISTINCT exercise_id FROM releases WHERE student_id IS NULL")}

    def releases(self) -> list[tuple[int, str, str | None, str, str]]:
        """Every release, oldest first: (number, exercise, student or None, author, when)."""
        return list(self._db.execute("SELECT id, exercise_id, student_id, author, created_at FROM releases"
                                     " ORDER BY id"))

    def queue_depth(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT state, count(*) FROM uploads GROUP BY state"))


def _upload(found: tuple[Any, ...]) -> Upload:
    upload_id, student, kind, received, files, digest, state, result, error, graded_at = found
    return Upload(upload_id, student, kind, received, [StoredFile(**f) for f in json.loads(files)], digest, state,
                  SubmissionResult.from_dict(json.loads(result)) if result else None, error, graded_at)
