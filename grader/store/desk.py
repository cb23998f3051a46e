"""What the instructors' desk records beside the gradebook: regrade requests and their answers,
and what was sent to the LMS. Every row is append-only, as adjustments are.

A request names one check or rubric item of one exercise, with the student's reason; a student
has at most one open request per item. It is answered once: accepted, with the adjustment it
made (recorded in the same transaction, its ``source`` ``request:N``), or declined with a reply.

The publish log keeps each score sent to the LMS with the platform's answer (what was sent
already, so that it is not sent twice, is :class:`grader.service.lti.SqliteLtiStore`'s ledger).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from grader.clock import utc_stamp
from grader.store.gradebook import Gradebook
from grader.store.records import Adjustment

__all__ = ["Answer", "DeskRecords", "RegradeRequest", "RequestRefused", "SentScore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS regrade_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id  TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    target      TEXT NOT NULL,      -- a check id, or a rubric item's (exercise::rubric:item)
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS regrade_answers (
    request_id    INTEGER PRIMARY KEY REFERENCES regrade_requests (id),  -- one answer per request
    decision      TEXT NOT NULL CHECK (decision IN ('accepted', 'declined')),
    reply         TEXT NOT NULL,
    author        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    adjustment_id INTEGER REFERENCES adjustments (id)
);
CREATE TABLE IF NOT EXISTS lti_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id  TEXT NOT NULL,
    line_item   TEXT NOT NULL,
    score_given REAL NOT NULL,
    score_max   REAL NOT NULL,
    sent_at     TEXT NOT NULL,      -- the score's timestamp, as sent
    ok          INTEGER NOT NULL,   -- 1: the platform took it
    answer      TEXT NOT NULL       -- the platform's status and body (cut short)
);
"""
_APPEND_ONLY = ("regrade_requests", "regrade_answers", "lti_log")


class RequestRefused(Exception):
    """A request that cannot be made or answered (one open already, answered already)."""


@dataclass(frozen=True)
class Answer:
    decision: str  # accepted | declined
    reply: str
    author: str
    created_at: str
    adjustment_id: int | None


@dataclass(frozen=True)
class RegradeRequest:
    id: int
    student_id: str
    exercise_id: str
    target: str
    reason: str
    created_at: str
    answer: Answer | None = None

    @property
    def open(self) -> bool:
        return self.answer is None


@dataclass(frozen=True)
class SentScore:
    student_id: str
    line_item: str
    score_given: float
    score_max: float
    sent_at: str
    ok: bool
    answer: str


class DeskRecords(Gradebook):
    """The gradebook, with the desk's requests and publish log beside it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.executescript(_SCHEMA + "".join(
            f"CREATE TRIGGER IF NOT EXISTS {t}_append_only_{op[0]} BEFORE {op} ON {t}"
            f" BEGIN SELECT RAISE(ABORT, '{t} are append-only'); END;\n"
            for t in _APPEND_ONLY for op in ("UPDATE", "DELETE")))

    # ------------------------------------------------------------------ regrade requests
    def ask_regrade(self, student_id: str, exercise_id: str, target: str, reason: str) -> int:
        """Record a student's request; refused while one on the same item is open. Its number."""
        if not reason.strip():
            raise RequestRefused("a request needs a reason")
        with self._transaction():
            if any(r.open for r in self._requests(student_id) if r.target == target):
                raise RequestRefused(f"a request on {target} is open already: wait for its answer")
            cursor = self._db.execute(
                "INSERT INTO regrade_requests (student_id, exercise_id, target, reason, created_at)"
                " VALUES (?, ?, ?, ?, ?)", (student_id, exercise_id, target, reason.strip(), utc_stamp()))
        return int(cursor.lastrowid or 0)

    def answer_regrade(self, request_id: int, decision: str, reply: str, author: str,
                       adjustment: Adjustment | None = None) -> int | None:
        """Answer a request once: ``accepted`` records ``adjustment`` (linked to the request) in
        the same transaction, ``declined`` only the reply. The adjustment's id, where one was made."""
        if decision not in ("accepted", "declined") or (decision == "accepted") != (adjustment is not None):
            raise RequestRefused("accept with an adjustment, or decline without one")
        if not reply.strip():
            raise RequestRefused("an answer needs a reply the student reads")
        with self._transaction():
            found = self.request(request_id)
            if found is None:
                raise RequestRefused(f"no request #{request_id}")
            if not found.open:
                raise RequestRefused(f"request #{request_id} was answered already")
            made = None
            if adjustment is not None:
                (made,) = self._insert_adjustments([dataclasses.replace(adjustment, source=f"request:{request_id}")])
            self._db.execute("INSERT INTO regrade_answers VALUES (?, ?, ?, ?, ?, ?)",
                             (request_id, decision, reply.strip(), author, utc_stamp(), made))
        return made

    def request(self, request_id: int) -> RegradeRequest | None:
        return next(iter(self._requests(None, request_id)), None)

    def requests(self, student_id: str | None = None) -> list[RegradeRequest]:
        """Requests (one student's, or everyone's), oldest first."""
        return self._requests(student_id)

    def _requests(self, student_id: str | None, request_id: int | None = None) -> list[RegradeRequest]:
        query = ("SELECT r.id, r.student_id, r.exercise_id, r.target, r.reason, r.created_at,"
                 " a.decision, a.reply, a.author, a.created_at, a.adjustment_id"
                 " FROM regrade_requests r LEFT JOIN regrade_answers a ON a.request_id = r.id WHERE 1 = 1")
        values: list[object] = []
        if student_id is not None:
            query, values = query + " AND r.student_id = ?", [*values, student_id]
        if request_id is not None:
            query, values = query + " AND r.id = ?", [*values, request_id]
        found = []
        for number, student, exercise, target, reason, at, decision, reply, author, answered, made in \
                self._db.execute(query + " ORDER BY r.id", values):
            answer = Answer(decision, reply, author, answered, made) if decision else None
            found.append(RegradeRequest(number, student, exercise, target, reason, at, answer))
        return found

    # ------------------------------------------------------------------ the LMS
    def log_score(self, score: SentScore) -> None:
        with self._transaction():
            self._db.execute("INSERT INTO lti_log (student_id, line_item, score_given, score_max, sent_at, ok,"
                             " answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (score.student_id, score.line_item, score.score_given, score.score_max, score.sent_at,
                              int(score.ok), score.answer[:2000]))

    def score_log(self) -> list[SentScore]:
        """Every score sent, newest first, with the platform's answer."""
        return [SentScore(s, li, g, m, at, bool(ok), a) for s, li, g, m, at, ok, a in self._db.execute(
            "SELECT student_id, line_item, score_given, score_max, sent_at, ok, answer FROM lti_log ORDER BY id DESC")]
