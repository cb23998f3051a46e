"""The submission manifest, ``grader-submission.json``: who says they sent which bytes, and how
their self-check went.

Written at the root of the zip by ``grader submit``; read back by bulk grading, which compares
each file's sha256 with what it received. A difference is reported ("changed after submit") and
the file is graded as received. Everything in it is the student's claim: it settles "this is not
what I sent", never who sent it or when.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.course.manifest import Course
from grader.hashing import course_hash, sha256_file
from grader.i18n import T

__all__ = ["MANIFEST_NAME", "SCHEMA", "file_entry", "problems", "read_manifest", "verify_folder"]

MANIFEST_NAME = "grader-submission.json"
SCHEMA = "grader.submit/1"


def file_entry(path: Path, relative: str, exercise_id: str) -> dict[str, Any]:
    return {"path": relative, "sha256": sha256_file(path), "bytes": path.stat().st_size, "exercise": exercise_id}


def read_manifest(folder: Path) -> tuple[dict[str, Any] | None, T | None]:
    """(manifest, None), (None, the problem) when it cannot be read, or (None, None) when absent."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, T(f"{MANIFEST_NAME}: JSON으로 읽을 수 없습니다 ({str(exc)[:120]}).",
                       f"{MANIFEST_NAME}: is not valid JSON ({str(exc)[:120]}).")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        return None, T(f"{MANIFEST_NAME}: 알 수 없는 형식 {found!r} ({SCHEMA!r} 이어야 합니다).",
                       f"{MANIFEST_NAME}: unknown schema {found!r} (expected {SCHEMA!r}).")
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str)
                                              and isinstance(f.get("sha256"), str) for f in files):
        return None, T(f"{MANIFEST_NAME}: files 목록에 path 와 sha256 이 있어야 합니다.",
                       f"{MANIFEST_NAME}: every entry of files needs a path and a sha256.")
    return data, None


def verify_folder(folder: Path, course: Course | None = None) -> dict[str, Any] | None:
    """How the received ``folder`` compares with its manifest, as JSON-safe data for an entry's meta:
    ``student``, ``created_at`` (the student's clock, never a submission time), ``zip_name``, ``changed`` and
    ``missing`` paths, the manifest's ``course_hash``, ``course_differs`` (where ``course`` is given and its
    hash is not the manifest's), or ``problem``. None when there is no manifest."""
    data, problem = read_manifest(folder)
    if problem is not None:
        return {"problem": problem.to_dict()}
    if data is None:
        return None
    root = Path(folder).resolve()
    changed, missing = [], []
    for entry in data["files"]:
        target = (root / entry["path"]).resolve()
        if root not in target.parents or not target.is_file():
            missing.append(entry["path"])
        elif sha256_file(target) != entry["sha256"]:
            changed.append(entry["path"])
    course_said = data.get("course")
    claimed = course_said.get("hash") if isinstance(course_said, dict) else None
    found: dict[str, Any] = {"student": str(data.get("student", "")), "created_at": str(data.get("created_at", "")),
                             "zip_name": str(data.get("zip_name", "")), "changed": changed, "missing": missing,
                             "course_hash": claimed if isinstance(claimed, str) else None}
    if course is not None and _differs(found, course_hash(course)):
        found["course_differs"] = True
    return found


def _differs(found: dict[str, Any], graded: str | None) -> bool:
    # A manifest that names no course hash (or a course not known) is not a difference.
    return bool(found.get("course_hash")) and bool(graded) and found["course_hash"] != graded


def problems(found: dict[str, Any], graded_course_hash: str | None = None) -> list[T]:
    """What :func:`verify_folder` found, in words for the student's result; ``graded_course_hash``
    (the :func:`course_hash` of the course graded) is compared with the manifest's where
    :func:`verify_folder` was not given the course."""
    if found.get("problem"):
        return [T.from_dict(found["problem"]) or T.same(MANIFEST_NAME)]
    said = []
    if found.get("changed"):
        listed = ", ".join(found["changed"])
        said.append(T(f"제출 후 바뀐 파일 (매니페스트의 해시와 다름; 받은 그대로 채점했습니다): {listed}",
                      f"changed after submit (its hash differs from the manifest's; graded as received): {listed}"))
    if found.get("missing"):
        listed = ", ".join(found["missing"])
        said.append(T(f"매니페스트에 있지만 받지 못한 파일: {listed}",
                      f"listed in the manifest but not received: {listed}"))
    if found.get("course_differs") or _differs(found, graded_course_hash):
        sent, graded = str(found.get("course_hash"))[:12], str(graded_course_hash)[:12]
        said.append(T(f"다른 버전의 과제로 제출했습니다 (코스 해시: 제출 {sent}…, 채점 {graded}…).",
                      f"submitted against another version of the course (course hash {sent}… in the "
                      f"manifest, {graded}… graded)."))
    return said
