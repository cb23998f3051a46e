"""Generate the student notebooks from the reference notebooks, so the two cannot drift.

In a solution notebook, each region between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
becomes a stub (``# YOUR CODE HERE`` and ``raise NotImplementedError``, indented like the
marker). A markdown cell whose metadata names a rubric item it answers (``grader.answer``)
becomes a blank answer for the student to write. Outputs and execution counts are stripped, the
exercise id is written into the notebook's metadata, and the given cells (every code cell
without a solution region) are fingerprinted there so that a submission that edits them can be
flagged.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import nbformat

from grader.course.manifest import Course
from grader.course.rubric import ANSWER_KEY
from grader.errors import CourseError
from grader.intake.notebooks import METADATA_KEY

__all__ = ["ANSWER_PLACEHOLDER", "BEGIN", "END", "assign_course", "fingerprint", "make_student_notebook",
           "stub_source"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
ANSWER_PLACEHOLDER = "**답 / Answer:** _(여기에 답을 쓰세요 / Write your answer here)_"
_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)" + re.escape(BEGIN) + r"\s*$")
_END_LINE = re.compile(r"^[ \t]*" + re.escape(END) + r"\s*$")


def stub_source(source: str, where: str = "cell") -> str:
    """``source`` with every solution region replaced by a stub."""
    out: list[str] = []
    inside: str | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin = _BEGIN_LINE.match(line)
        if inside is None and begin:
            inside = begin.group("indent")
            out.append(f"{inside}# YOUR CODE HERE")
            out.append(f"{inside}raise NotImplementedError")
        elif inside is not None and _END_LINE.match(line):
            inside = None
        elif inside is not None and begin:
            raise CourseError(f"{where}, line {number}: {BEGIN} inside another solution region")
        elif inside is None and _END_LINE.match(line):
            raise CourseError(f"{where}, line {number}: {END} without {BEGIN}")
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise CourseError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def fingerprint(source: str) -> str:
    """The fingerprint of a given cell: its source, ignoring trailing white space."""
    normal = "\n".join(line.rstrip() for line in source.strip().splitlines())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def make_student_notebook(solution: Any, exercise_id: str, where: str = "notebook") -> Any:
    student = copy.deepcopy(solution)
    given: dict[str, str] = {}
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "markdown" and cell.metadata.get(METADATA_KEY, {}).get(ANSWER_KEY):
            cell.source = ANSWER_PLACEHOLDER  # the model answer stays in the solution
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        if BEGIN in cell.source:
            cell.source = stub_source(cell.source, f"{where}, cell {index}")
        else:
            given[cell.id] = fingerprint(cell.source)
    student.metadata[METADATA_KEY] = {"exercise_id": exercise_id, "given_cells": given}
    return student


def assign_course(course: Course, *, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) every student notebook; return those that differ."""
    if course.solutions_dir is None:
        raise CourseError(f"{course.root}: the course's solutions folder is not here")
    differing = []
    for exercise in course.exercises:
        if exercise.solution is None:
            raise CourseError(f"{course.solutions_dir / exercise.notebook}: the solution notebook is missing")
        solution = nbformat.read(exercise.solution, as_version=4)
        student = make_student_notebook(solution, exercise.id, str(exercise.solution))
        text = nbformat.writes(student) + "\n"
        target = course.root / exercise.notebook
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            differing.append(target)
            if not check:
                target.write_text(text, encoding="utf-8")
    return differing
