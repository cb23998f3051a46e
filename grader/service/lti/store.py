"""What the tool remembers: logins waiting for their launch, used nonces, scores sent."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

__all__ = ["LaunchStore", "ScoreLedger", "SqliteLtiStore"]


class LaunchStore(Protocol):
    """Where logins wait for their launch and used nonces are kept, so that a replay is refused."""

    def save_login(self, state: str, nonce: str, *, expires_at: float) -> None: ...

    def login_nonce(self, state: str) -> str | None:
        """The nonce issued with ``state``; None when unknown or expired."""

    def remember_nonce(self, nonce: str, *, expires_at: float) -> bool:
        """Record a launch's nonce as used: False when it was used before (a replay)."""


class ScoreLedger(Protocol):
    """What was sent to each line item for each user, so that a second publish sends only what changed."""

    def sent_digest(self, line_item: str, user_id: str) -> str | None: ...

    def record_sent(self, line_item: str, user_id: str, digest: str, *, timestamp: str) -> None: ...


class SqliteLtiStore:
    """Both stores in one SQLite file (the gradebook's will do: its tables are named ``lti_*``)."""

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS lti_logins (state TEXT PRIMARY KEY, nonce TEXT NOT NULL, expires_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS lti_nonces (nonce TEXT PRIMARY KEY, expires_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS lti_scores (line_item TEXT NOT NULL, user_id TEXT NOT NULL, digest TEXT NOT NULL,
                                               sent_at TEXT NOT NULL, PRIMARY KEY (line_item, user_id));
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))  # a new file is its owner's only
        with closing(self._connect()) as db:
            db.executescript(self._SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: the app calls from a thread pool, and sqlite3 connections stay in their thread.
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _write(self, sql: str, args: tuple[Any, ...], purge: str) -> int:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"DELETE FROM {purge} WHERE expires_at < ?", (time.time(),))
            changed = db.execute(sql, args).rowcount
            db.execute("COMMIT")
            return changed

    def save_login(self, state: str, nonce: str, *, expires_at: float) -> None:
        self._write("INSERT INTO lti_logins VALUES (?, ?, ?)", (state, nonce, expires_at), "lti_logins")

    def login_nonce(self, state: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT nonce FROM lti_logins WHERE state = ? AND expires_at >= ?",
                             (state, time.time())).fetchone()
        return None if row is None else str(row[0])

    def remember_nonce(self, nonce: str, *, expires_at: float) -> bool:
        return self._write("INSERT OR IGNORE INTO lti_nonces VALUES (?, ?)", (nonce, expires_at), "lti_nonces") == 1

    def sent_digest(self, line_item: str, user_id: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT digest FROM lti_scores WHERE line_item = ? AND user_id = ?",
                             (line_item, user_id)).fetchone()
        return None if row is None else str(row[0])

    def record_sent(self, line_item: str, user_id: str, digest: str, *, timestamp: str) -> None:
        with closing(self._connect()) as db:
            db.execute("INSERT OR REPLACE INTO lti_scores VALUES (?, ?, ?, ?)", (line_item, user_id, digest, timestamp))
