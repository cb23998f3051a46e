"""Turn a class's submissions (folders, zips, LMS exports) into one entry per student, safely.

Layouts understood, and freely mixed at the top of the input folder (or inside one input zip):

- a folder per student (``alice/02_dataset.ipynb``): the folder name is the student id;
- a zip per student (``alice.zip``): the zip's stem is the student id;
- Canvas's flat export (``name_userid_submissionid_file.ipynb``, ``name_LATE_userid_...``):
  files are grouped by user id, renamed back to the student's own file names, and the ``LATE``
  marker is kept in the entry's info;
- Gradescope's export (``submission_<id>/...`` beside ``submission_metadata.yml``, read with
  PyYAML's safe loader): the student id is the first submitter's ``:sid:`` (else ``:email:``),
  else the folder name; the submission's ``:created_at:`` is its time (never its ``:history:``),
  and a group's other submitters are kept in the entry's info (``group``), so that each member
  gets the group's result.

A submission made by ``grader submit`` carries ``grader-submission.json``: what it says, compared
with the files received, goes into the entry's info (``submit_manifest``), so that a file changed
after submit is reported and still graded. A zip that keeps the name ``grader submit`` gave it
takes its student id from the manifest rather than from that name.

Zips go through the safe extractor (:mod:`.extract`), into the grader's own work folder only. A
rejected archive becomes an entry with a ``problem``, never an exception that stops the class.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course.late import LatePolicyError, aware
from grader.errors import SubmissionError
from grader.i18n import T
from grader.intake.extract import IGNORED, ArchiveLimits, ArchiveRejected, extract_zip, safe_name
from grader.store.records import SubmissionInfo
from grader.submit.manifest import MANIFEST_NAME, verify_folder

__all__ = ["Entry", "discover", "submit_manifest"]

CANVAS = re.compile(r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
CANVAS_COPY = re.compile(r"-\d+(?=\.[^.]+$)")  # Canvas appends "-1" to resubmitted file names
GRADESCOPE_METADATA = "submission_metadata.yml"


@dataclass
class Entry:
    """One student's submission as found in the input: what to grade and where it came from."""

    student_id: str
    path: Path | None  # the folder (or notebook) to grade; None when nothing could be read
    sources: list[Path] = field(default_factory=list)  # the input files, for the content hash
    info: SubmissionInfo = field(default_factory=SubmissionInfo)  # what its layout said: LMS ids, late marker...
    problem: T | None = None  # why the submission could not be read at all


def _created_at_lines(node: Any) -> dict[str, int]:
    """``submission_<id>`` → the 1-based line of its ``:created_at:`` value in the YAML document."""
    import yaml

    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.MappingNode):
                for inner_key, inner_value in value.value:
                    if getattr(inner_key, "value", None) == ":created_at":
                        lines[str(key.value)] = inner_value.start_mark.line + 1
    return lines


def _submitted_at(created: Any, where: str) -> str | None:
    """A submission's time from Gradescope's metadata, as ISO 8601 with its zone; a time without a
    zone is refused (a guess would shift every student's lateness by the grader's own offset)."""
    if created is None or (isinstance(created, str) and not created.strip()):
        return None
    try:
        return aware(created, where).isoformat()
    except LatePolicyError as error:
        raise SubmissionError(str(error)) from None


def _gradescope_submissions(metadata: Path) -> tuple[dict[str, dict[str, Any]], T | None]:
    """``submission_<id>`` → what the export says of it (members, names, time), and any problem.

    A ``:created_at:`` that is not a time with its zone refuses the whole class
    (:class:`~grader.errors.SubmissionError`, naming the file and line): nothing is graded on a guess."""
    import yaml

    try:
        loader = yaml.SafeLoader(metadata.read_text(encoding="utf-8", errors="replace"))
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        return {}, T(f"{metadata.name}: YAML로 읽을 수 없습니다 ({str(exc)[:160]}); 폴더 이름을 학생 id로 씁니다.",
                     f"{metadata.name} is not valid YAML ({str(exc)[:160]}); folder names are used as student ids.")
    lines = _created_at_lines(node)
    found: dict[str, dict[str, Any]] = {}
    for folder, info in (data or {}).items() if isinstance(data, dict) else ():
        if not isinstance(info, dict):
            continue
        people = [p for p in info.get(":submitters") or [] if isinstance(p, dict)]
        # A submitter without an id is left out with their name, so that ids and names stay paired.
        known = [(str(p.get(":sid") or p.get(":email") or "").strip(), str(p.get(":name", ""))) for p in people]
        known = [(i, name) for i, name in known if i]
        entry: dict[str, Any] = {"members": [i for i, _ in known], "names": [name for _, name in known]}
        where = f"{metadata} line {lines.get(str(folder), '?')} ({folder} :created_at:)"
        submitted = _submitted_at(info.get(":created_at"), where)
        if submitted is not None:
            entry["submitted_at"] = submitted
        found[str(folder)] = entry
    return found, None


def _ignored_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.suffix != ".ipynb" and p.name != MANIFEST_NAME
                  and not set(p.relative_to(folder).parts) & IGNORED)


def submit_manifest(folder: Path) -> dict[str, Any] | None:
    """What ``grader submit``'s manifest in ``folder`` (or the one folder in it) says, compared with
    the files there (:func:`~grader.submit.manifest.verify_folder`); None without a manifest."""
    inner = [p for p in folder.iterdir() if p.name not in IGNORED] if folder.is_dir() else []
    if not (folder / MANIFEST_NAME).exists() and len(inner) == 1 and inner[0].is_dir():
        folder = inner[0]  # a zip of the submission's folder
    return verify_folder(folder)


def _zip_entry(student_id: str, zip_path: Path, work: Path, limits: ArchiveLimits) -> Entry:
    dest = work / "extracted" / safe_name(student_id)
    info = SubmissionInfo(layout="zip", archive=zip_path.name)
    try:
        folder = extract_zip(zip_path, dest, limits)
    except ArchiveRejected as rejected:
        return Entry(student_id, None, [zip_path], info, T(f"{zip_path.name}: ", f"{zip_path.name}: ") + rejected.text)
    info.ignored_files, info.submit_manifest = _ignored_files(folder), submit_manifest(folder)
    claimed = info.submit_manifest or {}
    if claimed.get("student") and zip_path.name == claimed.get("zip_name"):
        student_id = claimed["student"]  # the name grader submit gave it: the id is its first part
    return Entry(student_id, folder, [zip_path], info)


def _canvas_entries(files: list[Path], work: Path, limits: ArchiveLimits) -> list[Entry]:
    groups: dict[str, list[tuple[Path, re.Match[str]]]] = {}
    for file in files:
        match = CANVAS.match(file.name)
        assert match is not None
        groups.setdefault(match.group("user"), []).append((file, match))
    entries = []
    for user, members in sorted(groups.items()):
        folder = work / "lms" / safe_name(user)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        info = SubmissionInfo(layout="canvas", lms_user_id=user, name=members[0][1].group("name"),
                              late=any(m.group("late") for _, m in members),
                              lms_submission_ids=sorted({m.group("sub") for _, m in members}))
        problem = None
        for file, match in members:
            original = CANVAS_COPY.sub("", match.group("file"))
            if file.suffix == ".zip":
                try:
                    extract_zip(file, folder / safe_name(Path(original).stem), limits)
                except ArchiveRejected as rejected:
                    problem = T(f"{original}: ", f"{original}: ") + rejected.text
            else:
                shutil.copyfile(file, folder / safe_name(original))
        info.ignored_files, info.submit_manifest = _ignored_files(folder), submit_manifest(folder)
        entries.append(Entry(user, None if problem else folder, sorted(f for f, _ in members), info, problem))
    return entries


def discover(root: Path, work: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[Entry]:
    """Every student's submission under ``root`` (a folder, or a zip of the whole class).

    ``work`` is the grader's own folder: extracted and regrouped files go there and nowhere
    else. Files that belong to no student are returned as entries with a problem.
    """
    root = Path(root)
    if root.is_file():
        if root.suffix != ".zip":
            raise ValueError(f"{root}: give a folder of submissions or a zip of the whole class")
        try:
            root = extract_zip(root, work / "class", limits)
        except ArchiveRejected as rejected:
            return [Entry(root.stem, None, [root], SubmissionInfo(layout="class-zip"), rejected.text)]
        inner = [p for p in root.iterdir() if p.name not in IGNORED]
        if len(inner) == 1 and inner[0].is_dir() and not (root / GRADESCOPE_METADATA).exists():
            root = inner[0]  # a zip of a class folder: look inside that folder
    entries: list[Entry] = []
    gradescope: dict[str, dict[str, Any]] = {}
    metadata_problem: T | None = None
    if (root / GRADESCOPE_METADATA).is_file():
        gradescope, metadata_problem = _gradescope_submissions(root / GRADESCOPE_METADATA)
    canvas: list[Path] = []
    for item in sorted(root.iterdir()):
        if item.name in IGNORED or item.name == GRADESCOPE_METADATA or item.is_symlink():
            continue
        if item.is_dir():
            layout = "gradescope" if re.fullmatch(r"submission_\d+", item.name) else "folder"
            info = SubmissionInfo(layout=layout, ignored_files=_ignored_files(item),
                                  submit_manifest=submit_manifest(item))
            student = item.name
            if layout == "gradescope":
                said = gradescope.get(item.name, {})
                info.lms_submission_id = item.name.removeprefix("submission_")
                if said.get("members"):
                    student = said["members"][0]
                    info.name = said["names"][0]
                if len(said.get("members", [])) > 1:
                    info.group = said["members"]
                info.submitted_at = said.get("submitted_at")
                info.metadata_problem = metadata_problem
            files = sorted(p for p in item.rglob("*") if p.is_file() and not p.is_symlink()
                           and not set(p.relative_to(item).parts) & IGNORED)
            entries.append(Entry(student, item, files, info))
        elif CANVAS.match(item.name):
            canvas.append(item)
        elif item.suffix == ".zip":
            entries.append(_zip_entry(item.stem, item, work, limits))
        else:
            entries.append(Entry(item.name, None, [item], SubmissionInfo(layout="unrecognised"), T(
                f"{item.name}: 어느 학생의 제출물인지 알 수 없습니다 (학생별 폴더나 zip, 또는 LMS 파일 이름이 아님).",
                f"{item.name}: belongs to no student (not a student folder or zip, nor an LMS export file name).")))
    entries.extend(_canvas_entries(canvas, work, limits))
    seen: dict[str, int] = {}
    for entry in entries:  # two layouts can yield one id (alice/ and alice.zip): keep both, apart
        seen[entry.student_id] = seen.get(entry.student_id, 0) + 1
        if seen[entry.student_id] > 1:
            entry.student_id = f"{entry.student_id}#{seen[entry.student_id]}"
    return sorted(entries, key=lambda e: e.student_id)
