"""Rubric items: what no check can judge (a written answer, a plot), scored by people.

An exercise of ``course.toml`` may declare manual items beside its checks::

    [[exercises.rubric]]
    id = "why_not_accuracy"
    title = { ko = "...", en = "..." }
    points = 3
    answer = "why_not_accuracy"          # the notebook cell whose metadata says grader.answer = this
    levels = [
      { points = 3, comment = { ko = "...", en = "..." } },
      { points = 1, comment = { ko = "...", en = "..." } },
      { points = 0, comment = { ko = "...", en = "..." } },
    ]

An item's points are part of the exercise's points possible everywhere; a scorer picks a level
(its points and reusable comment) or gives points and a comment of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from grader.errors import CourseError
from grader.i18n import T

__all__ = ["ANSWER_KEY", "RubricItem", "RubricLevel", "parse_rubric"]

# A notebook cell's metadata names the item it answers: {"grader": {"answer": "<item id>"}}.
ANSWER_KEY = "answer"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RubricLevel:
    points: float
    comment: T  # reusable: what the student reads when this level is chosen


@dataclass(frozen=True)
class RubricItem:
    id: str
    title: T
    points: float
    answer: str  # the answer cell's tag (grader.answer in its metadata)
    levels: tuple[RubricLevel, ...] = ()

    def level_of(self, points: float) -> RubricLevel | None:
        return next((level for level in self.levels if level.points == points), None)


def _text(data: Any, where: str) -> T:
    if not isinstance(data, dict) or not {"ko", "en"} <= set(data):
        raise CourseError(f"{where}: needs both 'ko' and 'en'")
    return T(str(data["ko"]), str(data["en"]))


def parse_rubric(entries: Any, where: str) -> tuple[RubricItem, ...]:
    """An exercise's ``rubric`` array, checked: ids, points, and levels within the item's points."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise CourseError(f"{where}: rubric is an array of tables ([[exercises.rubric]])")
    items: list[RubricItem] = []
    for number, entry in enumerate(entries, start=1):
        at = f"{where} rubric #{number}"
        if not isinstance(entry, dict):
            raise CourseError(f"{at}: a table with id, title, points and answer")
        item_id = str(entry.get("id", ""))
        if not _ID.match(item_id):
            raise CourseError(f"{at}: id {item_id!r} must be lower-case letters, digits and _ (a letter first)")
        if item_id in {i.id for i in items}:
            raise CourseError(f"{at}: id {item_id!r} appears twice")
        try:
            points = float(entry["points"])
        except (KeyError, TypeError, ValueError):
            raise CourseError(f"{at}: points must be a number") from None
        if points <= 0:
            raise CourseError(f"{at}: points must be more than 0")
        levels = []
        for index, level in enumerate(entry.get("levels", []), start=1):
            try:
                value = float(level["points"])
            except (KeyError, TypeError, ValueError):
                raise CourseError(f"{at} level #{index}: points must be a number") from None
            if not 0 <= value <= points:
                raise CourseError(f"{at} level #{index}: {value:g} points is outside 0..{points:g}")
            levels.append(RubricLevel(value, _text(level.get("comment"), f"{at} level #{index} comment")))
        if len({level.points for level in levels}) != len(levels):
            raise CourseError(f"{at}: two levels give the same points")
        items.append(RubricItem(item_id, _text(entry.get("title"), f"{at} title"), points,
                                str(entry.get("answer") or item_id),
                                tuple(sorted(levels, key=lambda level: -level.points))))
    return tuple(items)
