"""Load a submission: find its notebooks, validate them with nbformat, map each to an exercise.

A notebook is matched by the exercise id recorded in its metadata (``grader.exercise_id``),
then by its file name containing the exercise id or the course's notebook name. What cannot be
read or matched is reported in the result, never silently skipped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from grader.course.manifest import Course
from grader.errors import SubmissionError
from grader.i18n import T

__all__ = ["LoadedNotebook", "Submission", "load_submission", "printable", "read_notebook"]

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
METADATA_KEY = "grader"


@dataclass
class LoadedNotebook:
    path: Path
    relative: str
    notebook: Any = None  # NotebookNode, or None when it could not be read
    problem: T | None = None


@dataclass
class Submission:
    id: str
    root: Path
    notebooks: dict[str, LoadedNotebook] = field(default_factory=dict)  # exercise id → notebook
    problems: list[T] = field(default_factory=list)
    single_file: bool = False  # graded one notebook only: other exercises are not "missing"


def printable(name: str) -> str:
    """A file name as text that JSON, HTML and UTF-8 files can hold: undecodable bytes as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def read_notebook(path: Path) -> tuple[Any, T | None]:
    """(notebook, None), or (None, the problem in words) for a file that is not a valid notebook."""
    name = printable(path.name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, T.same(f"{name}: {exc.strerror}")
    if size > MAX_NOTEBOOK_BYTES:
        return None, T(
            f"{name}: 노트북이 너무 큽니다 ({size:,} 바이트, 최대 {MAX_NOTEBOOK_BYTES:,}).",
            f"{name}: the notebook is too large ({size:,} bytes; at most {MAX_NOTEBOOK_BYTES:,}).")
    try:
        text = path.read_bytes().decode("utf-8")
        raw = json.loads(text)
    except UnicodeDecodeError:
        return None, T(f"{name}: UTF-8 텍스트가 아닙니다.", f"{name}: is not UTF-8 text.")
    except (ValueError, RecursionError) as exc:
        return None, T(f"{name}: 올바른 JSON이 아닙니다 ({str(exc)[:120]}).",
                       f"{name}: is not valid JSON ({str(exc)[:120]}).")
    if not isinstance(raw, dict) or "cells" not in raw:
        return None, T(f"{name}: 주피터 노트북이 아닙니다 (cells 없음).",
                       f"{name}: is not a Jupyter notebook (no cells).")
    if raw.get("nbformat") != 4:
        return None, T(f"{name}: nbformat {raw.get('nbformat')!r} 형식은 지원하지 않습니다 (4만 지원).",
                       f"{name}: nbformat {raw.get('nbformat')!r} is not supported (only 4).")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds
        return None, T(f"{name}: 노트북 형식이 올바르지 않습니다: {str(exc)[:200]}",
                       f"{name}: is not a valid notebook: {str(exc)[:200]}")
    return notebook, None


def _exercise_for(path: Path, notebook: Any, course: Course) -> str | None:
    if notebook is not None:
        recorded = notebook.metadata.get(METADATA_KEY, {}).get("exercise_id")
        if any(e.id == recorded for e in course.exercises):
            return str(recorded)
    name = path.name.lower()
    for exercise in course.exercises:
        if name == exercise.notebook.lower():
            return exercise.id
    for exercise in course.exercises:
        if exercise.id.lower() in name or Path(exercise.notebook).stem.lower() in name:
            return exercise.id
    return None


def load_submission(path: Path, course: Course, *, submission_id: str | None = None) -> Submission:
    """A notebook file or a folder of notebooks (searched recursively), mapped to exercises."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix != ".ipynb":
            raise SubmissionError(f"{path}: not a notebook (.ipynb) or a folder")
        files, root = [path], path.parent
    else:
        root = path
        files = sorted(p for p in path.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts and not p.is_symlink() and p.is_file())
    default_id = printable(path.stem if path.is_file() else path.name)
    submission = Submission(id=submission_id or default_id, root=root, single_file=path.is_file())
    for file in files:
        relative = printable(str(file.relative_to(root)))
        notebook, problem = read_notebook(file)
        exercise_id = _exercise_for(file, notebook, course)
        if exercise_id is None:
            submission.problems.append(T(
                f"{relative}: 어느 실습의 노트북인지 알 수 없어 채점하지 않았습니다.",
                f"{relative}: matches no exercise of the course, so it was not graded."))
            continue
        if exercise_id in submission.notebooks:
            kept = submission.notebooks[exercise_id].relative
            submission.problems.append(T(
                f"{relative}: {exercise_id} 노트북이 이미 있습니다 ({kept}); 첫 번째만 채점합니다.",
                f"{relative}: a second notebook for {exercise_id} (after {kept}); only the first is graded."))
            continue
        submission.notebooks[exercise_id] = LoadedNotebook(file, relative, notebook, problem)
    return submission
