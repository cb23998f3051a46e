"""Past terms' code and fingerprints, in an SQLite file of their own (never the gradebook).

``grader similarity OUT --archive DB --term NAME`` stores this class's own code and its
fingerprints as term NAME (replacing what an earlier run stored under that name) and compares the
class against every other term through an index on (exercise, fingerprint): one lookup per
fingerprint, never all pairs of students across terms.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from grader.errors import GraderError

__all__ = ["Archive"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS programs (
    term        TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    student_id  TEXT NOT NULL,
    code        TEXT NOT NULL,
    PRIMARY KEY (term, exercise_id, student_id)
);
CREATE TABLE IF NOT EXISTS fingerprints (
    term        TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    hash        INTEGER NOT NULL,
    student_id  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS fingerprints_by_hash ON fingerprints (exercise_id, hash);
CREATE INDEX IF NOT EXISTS fingerprints_by_term ON fingerprints (term, exercise_id);
"""
_KIND = "grader similarity archive"


class Archive:
    """An archive file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            if fresh:
                self._db.executescript(_SCHEMA)
                self._db.execute("INSERT INTO info VALUES ('kind', ?)", (_KIND,))
            found = self._db.execute("SELECT value FROM info WHERE key = 'kind'").fetchone()
        except sqlite3.DatabaseError as exc:  # not SQLite, or SQLite without our info table
            self._db.close()
            raise GraderError(f"{self.path}: not a similarity archive ({exc})") from None
        if found is None or found[0] != _KIND:  # another SQLite file (a gradebook?): never written to
            self._db.close()
            raise GraderError(f"{self.path}: not a similarity archive (another SQLite file; a gradebook?)")

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def terms(self) -> list[str]:
        return [t for (t,) in self._db.execute("SELECT DISTINCT term FROM programs ORDER BY term")]

    def store(self, term: str, exercise_id: str, programs: Mapping[str, tuple[str, Iterable[int]]]) -> None:
        """Keep ``programs`` (student → (code, fingerprints)) as the term's, in one transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM programs WHERE term = ? AND exercise_id = ?", (term, exercise_id))
            db.execute("DELETE FROM fingerprints WHERE term = ? AND exercise_id = ?", (term, exercise_id))
            for student, (code, prints) in sorted(programs.items()):
                db.execute("INSERT INTO programs VALUES (?, ?, ?, ?)", (term, exercise_id, student, code))
                db.executemany("INSERT INTO fingerprints VALUES (?, ?, ?, ?)",
                               [(term, exercise_id, h, student) for h in sorted(set(prints))])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def candidates(self, exercise_id: str, prints: Iterable[int], *, not_term: str | None = None,
                   least: int = 1) -> Iterator[tuple[str, str, str, int]]:
        """Past programs sharing at least ``least`` of ``prints``: (term, student, code, how many)."""
        wanted = sorted(set(prints))
        if not wanted:
            return
        db = self._db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS probe (hash INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM probe")
        db.executemany("INSERT INTO probe VALUES (?)", [(h,) for h in wanted])
        found = db.execute(
            "SELECT f.term, f.student_id, count(*) FROM probe JOIN fingerprints f"
            " ON f.exercise_id = ? AND f.hash = probe.hash WHERE f.term IS NOT ? GROUP BY f.term, f.student_id"
            " HAVING count(*) >= ? ORDER BY f.term, f.student_id", (exercise_id, not_term, least)).fetchall()
        for term, student, n in found:
            (code,) = db.execute("SELECT code FROM programs WHERE term = ? AND exercise_id = ? AND student_id = ?",
                                 (term, exercise_id, student)).fetchone()
            yield term, student, code, n
