"""Building test submissions: the reference solution with cells inserted or replaced."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def solution(exercise_id: str = "02_dataset") -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / f"{exercise_id}.ipynb", as_version=4)


def of_cells(*sources: str) -> nbformat.NotebookNode:
    """A notebook of just these code cells."""
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def with_cell(source: str, *, exercise_id: str = "02_dataset", before_selfcheck: bool = True,
              after: int | None = None) -> nbformat.NotebookNode:
    """The solution with one more code cell: just before the self-check cell, or after cell ``after``."""
    notebook = solution(exercise_id)
    cell = nbformat.v4.new_code_cell(source)
    if after is not None:
        notebook.cells.insert(after + 1, cell)
    else:
        last = max(i for i, c in enumerate(notebook.cells) if "run_selfcheck" in c.source)
        notebook.cells.insert(last if before_selfcheck else len(notebook.cells), cell)
    return notebook


def write(notebook: nbformat.NotebookNode, folder: Path, name: str = "02_dataset.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(notebook, path)
    return path
