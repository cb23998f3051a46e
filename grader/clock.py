"""The grader's one clock: times it records are UTC, to the second, in ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc_now", "utc_stamp"]


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_stamp() -> str:
    """Now, as the gradebook, results and reports write a time: ``2026-12-15T14:59:00+00:00``."""
    return utc_now().isoformat(timespec="seconds")
