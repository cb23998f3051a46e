"""What travels between the coordinator and a Dask worker, in forms that carry no code.

A submission goes as the bytes of a zip of its files with their sha256; the worker refuses
bytes whose hash differs and unpacks them with the same safe extractor as a student's zip. The
grading settings go as a JSON-safe dict. The result comes back as JSON bytes: the client accepts
no pickled object from a worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from grader.config import GradeConfig, Limits
from grader.course.manifest import Course
from grader.errors import GraderError
from grader.intake.extract import extract_zip

__all__ = ["PayloadError", "config_from", "digest", "pack", "read_message", "settings_of", "unpack"]

ENTRY = "grade-this"  # the name, inside the zip, of what the worker grades: a folder or a notebook


class PayloadError(GraderError):
    """Bytes that are not what the other side sent: a hash that differs, a message that is not ours."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(path: Path) -> bytes:
    """A submission (a folder, or one notebook) as zip bytes, in a fixed order of its notebooks.

    Only notebooks travel: what else a submission holds is reported by the coordinator, which
    read the layout, and a student's large data file need not cross the network."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*.ipynb") if p.is_file() and not p.is_symlink()):
                archive.write(file, f"{ENTRY}/{file.relative_to(path).as_posix()}")
        else:
            archive.write(path, f"{ENTRY}/{path.name}")
    return buffer.getvalue()


def unpack(data: bytes, expected: str, dest: Path, *, single: str | None = None) -> Path:
    """Check ``data`` against its sha256 and extract it into ``dest``; the path to grade.

    ``single``: the notebook's file name where the submission is one notebook, not a folder."""
    found = digest(data)
    if found != expected:
        raise PayloadError(f"the submission's bytes have sha256 {found[:12]}…, not the {expected[:12]}… sent")
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "submission.zip"
    archive.write_bytes(data)
    root = extract_zip(archive, dest / "files") / ENTRY
    archive.unlink()
    return root / single if single else root


def settings_of(config: GradeConfig, unit: str) -> dict[str, Any]:
    """What of the coordinator's configuration decides a grade, for the workers to grade with."""
    return {"hidden": config.hidden, "lang": config.lang, "limits": dataclasses.asdict(config.limits),
            "kernel": config.kernel, "sandbox": config.sandbox, "trusted_code": config.trusted_code,
            "kernel_uid": config.kernel_uid, "unit": unit}


def config_from(settings: dict[str, Any], course: Course, *, data_root: Path, work_dir: Path,
                protected: tuple[Path, ...] = ()) -> GradeConfig:
    """The worker's configuration: the coordinator's settings over the worker's own course and folders."""
    return GradeConfig(course=course, data_root=data_root, work_dir=work_dir, hidden=bool(settings["hidden"]),
                       lang=str(settings["lang"]), limits=Limits(**settings["limits"]), kernel=str(settings["kernel"]),
                       sandbox=str(settings["sandbox"]), trusted_code=bool(settings["trusted_code"]),
                       kernel_uid=int(settings["kernel_uid"]), protected_paths=protected)


def read_message(data: Any, sent: str) -> dict[str, Any]:
    """A worker's answer: JSON bytes naming the submission hash that was sent."""
    if not isinstance(data, (bytes, bytearray)):
        raise PayloadError(f"a worker answered with {type(data).__name__}, not JSON bytes")
    try:
        message = json.loads(bytes(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PayloadError(f"a worker's answer is not JSON: {error}") from None
    if not isinstance(message, dict) or message.get("digest") != sent or message.get("kind") not in ("ok", "error"):
        raise PayloadError("a worker's answer does not name the submission it was sent")
    return message
