"""The hashes that say whether two things are the same: a file's, a submission's under the checks
that grade it, the grading configuration's, and the course as students received it.

Apart from the gradebook and the submit manifest that keep them, so that whoever only needs a
hash (a Dask worker proving it grades as its coordinator would) imports neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from grader import __version__
from grader.config import GradeConfig
from grader.course.manifest import MANIFEST, Course

__all__ = ["config_fingerprint", "content_hash", "course_hash", "digests_hash", "sha256_file"]


def sha256_file(path: Path) -> str:
    with open(path, "rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def course_hash(course: Course) -> str:
    """The course as students received it: its manifest, the stub notebooks and the public checks."""
    files = {course.root / MANIFEST}
    for exercise in course.exercises:
        files.add(course.root / exercise.notebook)
        files.update(course.root / p for p in exercise.public_checks)
    digest = hashlib.sha256()
    for path in sorted(f for f in files if f.is_file()):
        digest.update(path.relative_to(course.root).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode() + b"\n")
    return digest.hexdigest()


def config_fingerprint(config: GradeConfig) -> str:
    """What, besides the submission, decides a grade: the exercises graded, their check files and
    the helper modules beside them, the grader's version and the limits. Check files of exercises
    not graded here, and the rest of the manifest, do not count (a new exercise keeps old grades)."""
    course = config.course
    digest = hashlib.sha256(f"{__version__}|{config.hidden}|{config.limits}|{course.cuda_counts}".encode())
    files: set[Path] = set()
    for exercise in course.exercises:
        digest.update(f"{exercise.id}|{exercise.notebook}|{exercise.points}\n".encode())
        for check in exercise.check_files(hidden=config.hidden):
            files.add(check)
            files.update(p for p in check.parent.glob("*.py") if not p.name.startswith("test_"))
    for path in sorted(files):
        digest.update(f"{path.name}:{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def content_hash(sources: Iterable[tuple[str, Path]], fingerprint: str) -> str:
    """The hash of a submission's files (name, bytes) under a :func:`config_fingerprint`."""
    return digests_hash(((name, sha256_file(path)) for name, path in sources), fingerprint)


def digests_hash(files: Iterable[tuple[str, str]], fingerprint: str) -> str:
    """:func:`content_hash` from the files' names and SHA-256 digests (files kept by their digest)."""
    digest = hashlib.sha256(fingerprint.encode())
    for name, sha256 in sorted(files):
        digest.update(f"{name}:{sha256}\n".encode())
    return digest.hexdigest()
