"""What every export shares: a row's final grade, numbers as the exports write them, a CSV file."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.course.manifest import Course
from grader.grades.final import ExerciseGrade, FinalGrade, final_grade
from grader.store.records import Row

__all__ = ["Grades", "figure", "grade_of", "has_grade", "table"]

Grades = Mapping[str, FinalGrade]


def grade_of(row: Row, course: Course, grades: Grades | None) -> FinalGrade:
    """The row's final grade; without adjustments or a policy, the automatic score as it is."""
    if grades is not None and row.student_id in grades:
        return grades[row.student_id]
    return final_grade(row.student_id, row.result, course, [], files_hash=row.files_hash)


def figure(value: float) -> str:
    """A number as the exports write it: at most 6 decimals, never an exponent, never ``-0``."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@contextmanager
def table(path: Path, *, quote_all: bool = False) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        yield csv.writer(f, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)


def has_grade(row: Row, exercise: ExerciseGrade) -> bool:
    """Something came back for the exercise, or an instructor decided it: otherwise its cell stays blank."""
    return row.result is not None or bool(exercise.applied)
