"""What every platform's entry point does: collect the student's files safely, grade them in a
cage, and write the platform's results file whole, by atomic rename, once every kernel is gone.

A platform runs one container per submission: the cage is whatever ``auto`` finds there (container
mode in Gradescope's and PrairieLearn's images, where bubblewrap cannot start). The folders the
platform keeps the autograder's source and results in are protected paths: a kernel can neither
read the hidden checks nor write the results file. Where ``grader submit``'s manifest came with the
files, what differs from it is said in the student's output, in bulk's words, and graded as received.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import __version__
from grader.config import GradeConfig
from grader.course.manifest import Course
from grader.hashing import course_hash
from grader.i18n import T
from grader.intake.extract import ArchiveRejected, extract_zip, safe_name
from grader.intake.submissions import submit_manifest
from grader.results import SubmissionResult
from grader.submit.manifest import MANIFEST_NAME, verify_folder
from grader.submit.manifest import problems as manifest_problems

__all__ = ["Collected", "collect", "grade_collected", "write_atomically"]


@dataclass
class Collected:
    """The student's files, gathered into one folder to grade, and what could not be used."""

    folder: Path
    notebooks: int = 0
    problems: list[T] = field(default_factory=list)


def collect(submission: Path, staging: Path, course: Course | None = None) -> Collected:
    """Copy the student's notebooks, loose or in zips (through the safe extractor), into ``staging``.

    Where ``grader submit``'s manifest came along (loose beside the notebooks, or in a zip), what it
    says about the copies is among the problems: a file changed after submit is graded as received.
    ``course``, the whole course, tells a manifest made against another version of it.
    """
    staging.mkdir(parents=True, exist_ok=True)
    found = Collected(staging)
    graded_hash = course_hash(course) if course is not None else None
    for path in sorted(Path(submission).rglob("*")) if Path(submission).is_dir() else []:
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        relative = path.relative_to(submission)
        if path.suffix == ".ipynb" or relative == Path(MANIFEST_NAME):
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            if path.suffix == ".ipynb":
                found.notebooks += 1
        elif path.suffix == ".zip":
            try:
                inside = extract_zip(path, staging / f"{safe_name(path.stem)}.zip-contents")
            except ArchiveRejected as rejected:
                found.problems.append(T(f"{relative}: ", f"{relative}: ") + rejected.text)
                continue
            found.notebooks += sum(1 for _ in inside.rglob("*.ipynb"))
            claimed = submit_manifest(inside)
            prefix = T(f"{relative}: ", f"{relative}: ")
            found.problems += [prefix + p for p in manifest_problems(claimed, graded_hash)] if claimed else []
    # The loose manifest is checked against the copies, the bytes that are graded.
    claimed = verify_folder(staging)
    found.problems += manifest_problems(claimed, graded_hash) if claimed else []
    return found


def grade_collected(collected: Collected, *, course: Course, data_root: Path, work_dir: Path, student_id: str,
                    protected: tuple[Path, ...], lang: str = "en") -> SubmissionResult:
    """Grade the collected folder against every exercise, hidden checks included, in a cage.
    Every kernel, zygote and folder of the grading is gone when it returns."""
    from grader.session import GradingSession

    config = GradeConfig(course=course, data_root=data_root, work_dir=work_dir, hidden=course.has_hidden_checks,
                         lang=lang, protected_paths=protected)
    with GradingSession(config) as session:
        result = session.grade(collected.folder, submission_id=student_id)
    result.problems[:0] = collected.problems
    return result


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write JSON whole or not at all: to a file beside it, flushed, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def versions(sandbox: str) -> str:
    """What an instructor reads in the platform's log: versions and the cage."""
    import platform

    import torch

    return f"grader {__version__} · Python {platform.python_version()} · torch {torch.__version__} · sandbox {sandbox}"
