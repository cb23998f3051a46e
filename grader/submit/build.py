"""``grader submit``: check what a student is about to hand in, then write one zip with a manifest.

Validates the notebooks against the course (FOUND / MISSING / EXTRA), warns about what students
lose marks to (an untouched stub, unsaved work in a newer checkpoint, edited given cells), strips
outputs above the grader's cap, runs the public self-check on exactly the bytes that go into the
zip, and writes ``<student>_<course>_<UTC time>.zip`` atomically: a temporary file in the same
folder, renamed into place only when complete, so a killed run never leaves half a zip under the
final name.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat

from grader import __version__
from grader.clock import utc_now
from grader.config import GradeConfig
from grader.course.manifest import Course
from grader.errors import GraderError, SubmissionError
from grader.hashing import course_hash, sha256_file
from grader.i18n import T
from grader.intake.notebooks import load_submission, printable
from grader.intake.tamper import tampering
from grader.results import SubmissionResult
from grader.submit.manifest import MANIFEST_NAME, SCHEMA, file_entry
from grader.submit.outputs import strip_large_outputs

__all__ = ["FileRow", "STUDENT_ID", "SubmitOptions", "SubmitReport", "build_submission", "zip_name"]

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class SubmitOptions:
    student: str
    out: Path | None = None  # a zip file, or a folder for it; default: the current folder
    partial: bool = False  # a missing notebook does not refuse
    output_cap: int = 1_000_000  # Limits.output_bytes of the self-check's config
    check: GradeConfig | None = None  # the public self-check's configuration; None skips it


@dataclass(frozen=True)
class FileRow:
    status: str  # "found" | "missing" | "extra"
    exercise_id: str  # "" for an extra file
    path: str  # relative to the submission ("" for a missing one)


@dataclass
class SubmitReport:
    rows: list[FileRow] = field(default_factory=list)
    refused: T | None = None  # why no zip was written
    warnings: list[T] = field(default_factory=list)
    tampered: dict[str, list[T]] = field(default_factory=dict)  # path → edited or deleted given cells
    stripped: dict[str, list[T]] = field(default_factory=dict)  # path → outputs removed
    selfcheck: SubmissionResult | None = None
    zip_path: Path | None = None
    sha256: str = ""


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    kept: list[str] = []
    for word in words:
        if kept and len("-".join([*kept, word])) > 32:
            break
        kept.append(word)
    return "-".join(kept) or "course"


def zip_name(student: str, course: Course, when: datetime) -> str:
    return f"{student}_{_slug(course.title.en)}_{when.strftime('%Y%m%dT%H%M%SZ')}.zip"


def _rows(path: Path, course: Course) -> tuple[list[FileRow], dict[str, Path], Path]:
    """The table, the found notebooks (exercise id → file) and the submission's root folder."""
    submission = load_submission(path, course)
    found = {e: n.path for e, n in submission.notebooks.items()}
    expected = list(found) if submission.single_file else [e.id for e in course.exercises]
    rows = [FileRow("found", e.id, submission.notebooks[e.id].relative) for e in course.exercises if e.id in found]
    rows += [FileRow("missing", e, "") for e in expected if e not in found]
    candidates = [path] if path.is_file() else sorted(
        p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())
    used = set(found.values())
    rows += [FileRow("extra", "", printable(str(p.relative_to(submission.root)))) for p in candidates if p not in used]
    return rows, found, submission.root


def _warnings(file: Path, relative: str, course: Course, exercise_id: str) -> list[T]:
    said = []
    stub = course.root / course.exercise(exercise_id).notebook
    if stub.is_file() and stub.resolve() != file.resolve() and stub.read_bytes() == file.read_bytes():
        said.append(T(f"{relative}: 배포된 빈 노트북과 똑같습니다. 저장하지 않았거나 다른 파일을 고른 것은 아닌가요?",
                      f"{relative}: is byte-identical to the released stub. Did you save it, or pick the wrong file?"))
    checkpoint = file.parent / ".ipynb_checkpoints" / f"{file.stem}-checkpoint{file.suffix}"
    if checkpoint.is_file() and checkpoint.stat().st_mtime > file.stat().st_mtime:
        said.append(T(f"{relative}: 더 새로운 체크포인트가 있습니다 ({checkpoint.name}). "
                      "채점되는 것은 디스크의 파일입니다: "
                      "노트북을 저장(Ctrl+S)한 뒤 다시 제출하세요.",
                      f"{relative}: a newer checkpoint exists ({checkpoint.name}). The file on disk is what gets "
                      "graded: save the notebook (Ctrl+S) and submit again."))
    return said


def _stage(found: dict[str, Path], root: Path, stage: Path, options: SubmitOptions,
           report: SubmitReport) -> list[dict[str, Any]]:
    """Copy each notebook into ``stage`` as it will be zipped (outputs stripped where over the cap)."""
    entries = []
    for exercise_id, file in found.items():
        relative = printable(str(file.relative_to(root)))
        try:
            notebook = nbformat.read(file, as_version=4)
        except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds
            raise SubmissionError(f"{file}: is not a readable notebook: {str(exc)[:200]}") from None
        target = stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        stripped = strip_large_outputs(notebook, options.output_cap)
        if stripped:
            report.stripped[relative] = stripped
            nbformat.write(notebook, target)
        else:
            shutil.copyfile(file, target)  # byte for byte: its hash is the file's on disk
        entries.append(file_entry(target, Path(relative).as_posix(), exercise_id))
    return entries


def _self_check(stage: Path, single: str | None, exercises: list[str], config: GradeConfig,
                report: SubmitReport) -> None:
    from grader.session import GradingSession

    try:
        with GradingSession(config) as session:  # a missing notebook is in the table already
            report.selfcheck = session.grade(stage / single if single else stage, submission_id="submission",
                                             exercises=exercises)
    except GraderError as error:  # a self-check that cannot run never stops a submission
        report.warnings.append(T(f"자가 점검을 실행할 수 없었습니다: {error}",
                                 f"the self-check could not run: {error}"))


def _summary(result: SubmissionResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"score": result.score, "max_score": result.max_score, "exercises": {
        e.exercise_id: {"score": e.score, "max_score": e.max_score,
                        "passed": sum(c.status.value == "passed" for c in e.checks), "checks": len(e.checks)}
        for e in result.exercises}}


def _write_zip(target: Path, stage: Path, manifest: dict[str, Any]) -> str:
    import json

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as sink:
            with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for entry in manifest["files"]:
                    archive.write(stage / entry["path"], entry["path"])
                archive.writestr(MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=2))
            sink.flush()
            os.fsync(sink.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 is for the half-written file only
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256_file(target)


def build_submission(path: Path, course: Course, options: SubmitOptions) -> SubmitReport:
    """Check ``path`` (a notebook or a folder) and, unless refused, write the zip."""
    if not STUDENT_ID.fullmatch(options.student):
        raise SubmissionError(f"student id {options.student!r}: use letters, digits, '.', '_' or '-' "
                              "(at most 64, starting with a letter or digit)")
    report = SubmitReport()
    path = Path(path)
    report.rows, found, root = _rows(path, course)
    missing = [r.exercise_id for r in report.rows if r.status == "missing"]
    if not found:
        expected = ", ".join(e.notebook for e in course.exercises)
        report.refused = T(f"{path}: 코스의 어느 실습과도 맞는 노트북이 없습니다 (기대한 파일: {expected}).",
                           f"{path}: holds no notebook of any exercise of the course (expected: {expected}).")
        return report
    if missing and not options.partial:
        listed = ", ".join(missing)
        report.refused = T(f"빠진 노트북이 있어 제출 파일을 만들지 않았습니다: {listed} (일부만 제출하려면 --partial)",
                           f"not written: expected notebooks are missing: {listed} (--partial to submit without them)")
        return report
    for exercise_id, file in found.items():
        relative = printable(str(file.relative_to(root)))
        report.warnings += _warnings(file, relative, course, exercise_id)
    with tempfile.TemporaryDirectory(prefix="grader-submit-") as folder:
        stage = Path(folder)
        entries = _stage(found, root, stage, options, report)
        for entry in entries:
            problems = tampering(nbformat.read(stage / entry["path"], as_version=4),
                                 course.root / course.exercise(entry["exercise"]).notebook)
            if problems:
                report.tampered[entry["path"]] = problems
        if options.check is not None:
            _self_check(stage, entries[0]["path"] if path.is_file() else None, list(found), options.check, report)
        now = utc_now()
        name = zip_name(options.student, course, now)
        target = options.out / name if options.out is not None and options.out.is_dir() else (options.out or Path(name))
        manifest = {
            "schema": SCHEMA,
            "student": options.student,
            "course": {"title": course.title.to_dict(), "hash": course_hash(course)},
            "grader_version": __version__,
            "created_at": now.isoformat(timespec="seconds"),  # the student's clock: never a submission time
            "zip_name": target.name,
            "files": entries,
            "selfcheck": _summary(report.selfcheck),
        }
        report.sha256 = _write_zip(target.resolve(), stage, manifest)
        report.zip_path = target.resolve()
    return report
