"""Tamper detection: which given cells of a submitted notebook were edited or deleted.

The given cells (setup, data paths, the self-check cell) are the code cells of the course's own
student notebook that hold no stub; :func:`grader.course.assign.fingerprint` names each. The fingerprints
are computed here from the course's notebook, never read from the submission: its metadata is
the student's to edit. A given cell counts as kept when a cell with its fingerprint is anywhere
in the submission (cells may be moved, and some editors rewrite cell ids). Grading still runs on
what was submitted; the finding is reported, not punished here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

import nbformat

from grader.course.assign import BEGIN, fingerprint
from grader.i18n import T

__all__ = ["GivenCell", "given_cells", "tampering"]


@functools.lru_cache(maxsize=32)
def _course_notebook(path: str, mtime_ns: int) -> tuple[GivenCell, ...]:
    notebook = nbformat.read(path, as_version=4)
    given = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.source.strip() and "# YOUR CODE HERE" not in cell.source \
                and BEGIN not in cell.source:
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            given.append(GivenCell(str(cell.get("id", "")), index, fingerprint(cell.source), first[:80]))
    return tuple(given)


class GivenCell(NamedTuple):
    cell_id: str
    position: int  # its index in the course's notebook
    digest: str  # grader.course.assign.fingerprint of its source
    first_line: str


def given_cells(course_notebook: Path) -> tuple[GivenCell, ...]:
    """The given cells of the course's student notebook (cached while the file is unchanged)."""
    return _course_notebook(str(course_notebook), course_notebook.stat().st_mtime_ns)


def tampering(submitted: Any, course_notebook: Path) -> list[T]:
    """One problem per given cell that the submission edited or deleted; empty when none was."""
    if not course_notebook.is_file():
        return []
    present = {fingerprint(c.source) for c in submitted.cells if c.cell_type == "code"}
    by_id = {str(c.get("id", "")): c for c in submitted.cells}
    problems = []
    for cell in given_cells(course_notebook):
        if cell.digest in present:
            continue
        replaced = by_id.get(cell.cell_id)
        if replaced is not None and replaced.cell_type == "code":
            problems.append(T(
                "주어진 셀 {i} (`{line}`) 이 수정되었습니다. 채점은 제출된 그대로 진행했습니다.",
                "Given cell {i} (`{line}`) was edited; it was graded as submitted.",
            ).format(i=cell.position, line=cell.first_line))
        else:
            problems.append(T(
                "주어진 셀 {i} (`{line}`) 이 삭제되었습니다. 채점은 제출된 그대로 진행했습니다.",
                "Given cell {i} (`{line}`) was deleted; it was graded as submitted.",
            ).format(i=cell.position, line=cell.first_line))
    return problems
