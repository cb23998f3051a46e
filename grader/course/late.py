"""The course's late policy, as ``course.toml`` states it (``[late]``), checked when the course loads::

    [late]
    due = 2026-12-14T23:59:00+09:00   # for every exercise; an exercise may set its own "due"
    grace_minutes = 15                # up to this late counts as on time
    deduct_percent = 10               # of the points possible, per interval late
    per = "day"                       # "hour" or "day"; a part of an interval counts whole
    cap_percent = 50                  # at most this much is ever deducted (optional)
    floor_percent = 40                # lateness never takes a score below this (optional)
    zero_after_days = 7               # later than this earns nothing (optional)
    mode = "report"                   # "report": shown, not applied; "apply": in the final score

Every time must carry its time zone: a time without one is an input error, never a guess. What
lateness then costs is :mod:`grader.grades.late`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["INTERVALS", "LatePolicy", "LatePolicyError", "MODES", "aware", "parse_policy"]

INTERVALS = {"hour": 3600.0, "day": 86400.0}
MODES = ("report", "apply")


class LatePolicyError(ValueError):
    """A late policy, an extension or a submission time that cannot be used; says where."""


def aware(value: Any, where: str) -> datetime:
    """A time with its time zone, from a TOML/YAML datetime or ISO-8601 text; refuses a naive one."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise LatePolicyError(f"{where}: {value!r} is not a time "
                                  "(ISO 8601, e.g. 2026-12-14T23:59:00+09:00)") from None
    if not isinstance(value, datetime):
        raise LatePolicyError(f"{where}: {value!r} is not a time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise LatePolicyError(f"{where}: {value.isoformat()} has no time zone (add one, e.g. +09:00 or Z)")
    return value


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None = None
    due_by_exercise: Mapping[str, datetime] = field(default_factory=dict)
    grace: timedelta = timedelta(0)
    deduct_percent: float = 0.0
    per: str = "day"
    cap_percent: float | None = None
    floor_percent: float | None = None
    zero_after: timedelta | None = None
    mode: str = "report"

    @property
    def applies(self) -> bool:
        return self.mode == "apply"

    def due_for(self, exercise_id: str) -> datetime | None:
        return self.due_by_exercise.get(exercise_id, self.due)


def _number(section: Mapping[str, Any], key: str, where: str, *, low: float = 0.0,
            high: float | None = None) -> float | None:
    if key not in section:
        return None
    value = section[key]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise LatePolicyError(f"{where}: {key} must be a number {bound}, not {value!r}")
    return float(value)


def parse_policy(section: Mapping[str, Any] | None, exercise_dues: Mapping[str, Any], where: str, *,
                 due_lines: Mapping[str, int] | None = None) -> LatePolicy | None:
    """The ``[late]`` table and the exercises' own ``due`` entries, checked; None without either.
    ``due_lines``: the manifest's line of each ``due`` (``""`` for ``[late]``'s, else the exercise's
    id), said in what refuses a time."""
    lines = due_lines or {}

    def at(key: str) -> str:
        return f" line {lines[key]}" if key in lines else ""

    if not section and not exercise_dues:
        return None
    section = dict(section or {})
    known = {"due", "grace_minutes", "deduct_percent", "per", "cap_percent", "floor_percent", "zero_after_days", "mode"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise LatePolicyError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    per = section.get("per", "day")
    if per not in INTERVALS:
        raise LatePolicyError(f"{where}: per must be \"hour\" or \"day\", not {per!r}")
    mode = section.get("mode", "report")
    if mode not in MODES:
        raise LatePolicyError(f"{where}: mode must be \"report\" or \"apply\", not {mode!r}")
    zero_after = _number(section, "zero_after_days", where)
    return LatePolicy(
        due=aware(section["due"], f"{where}{at('')} due") if "due" in section else None,
        due_by_exercise={ex: aware(due, f"{where}{at(ex)} due of {ex}") for ex, due in exercise_dues.items()},
        grace=timedelta(minutes=_number(section, "grace_minutes", where) or 0.0),
        deduct_percent=_number(section, "deduct_percent", where, high=100) or 0.0,
        per=per,
        cap_percent=_number(section, "cap_percent", where, high=100),
        floor_percent=_number(section, "floor_percent", where, high=100),
        zero_after=timedelta(days=zero_after) if zero_after is not None else None,
        mode=mode,
    )
