"""Turn a class's submissions (folders, zips, LMS exports) into one entry per student, safely.

Layouts understood, and freely mixed at the top of the input folder (or inside one input zip):

- a folder per student (``alice/02_dataset.ipynb``): the folder name is the student id;
- a zip per student (``alice.zip``): the zip's stem is the student id;
- Canvas's flat export (``name_userid_submissionid_file.ipynb``, ``name_LATE_userid_...``):
  files are grouped by user id, renamed back to the student's own file names, and the ``LATE``
  marker is kept in the entry's meta;
- Gradescope's export (``submission_<id>/...`` beside ``submission_metadata.yml``, read with
  PyYAML's safe loader): the student id is the first submitter's ``:sid:`` (else ``:email:``),
  else the folder name; the submission's ``:created_at:`` is its time (never its ``:history:``),
  and a group's other submitters are kept in the entry's meta (``group``), so that each member
  gets the group's result.

A submission made by ``grader submit`` carries ``grader-submission.json``: what it says, compared
with the files received, goes into the entry's meta (``submit_manifest``), so that a file changed
after submit is reported and still graded. A zip that keeps the name ``grader submit`` gave it
takes its student id from the manifest rather than from that name.

Zips are extracted only into the grader's own work folder, and only after every entry passed
:func:`check_zip`: no absolute paths, no ``..``, no symlinks, bounded entry count, depth, sizes
and compression ratio (the declared sizes are not trusted: extraction counts bytes). A rejected
archive becomes an entry with a ``problem``, never an exception that stops the class.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .i18n import T
from .submission.manifest import MANIFEST_NAME, verify_folder

__all__ = ["ArchiveLimits", "ArchiveRejected", "Entry", "check_zip", "discover", "extract_zip", "safe_name",
           "submit_manifest"]

CANVAS = re.compile(r"^(?P<name>[^_]+)(?P<late>_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
CANVAS_COPY = re.compile(r"-\d+(?=\.[^.]+$)")  # Canvas appends "-1" to resubmitted file names
GRADESCOPE_METADATA = "submission_metadata.yml"
IGNORED = {"__MACOSX", ".DS_Store", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class ArchiveLimits:
    """What one student's zip may hold; anything beyond is treated as hostile."""

    max_entries: int = 1000
    max_total_bytes: int = 256 * 1024**2  # uncompressed, all entries together
    max_file_bytes: int = 64 * 1024**2
    max_ratio: float = 200.0  # uncompressed / compressed, over the whole archive
    ratio_floor_bytes: int = 1024**2  # below this total the ratio is not judged (tiny text files)
    max_depth: int = 12  # path components of one entry


@dataclass
class Entry:
    """One student's submission as found in the input: what to grade and where it came from."""

    student_id: str
    path: Path | None  # the folder (or notebook) to grade; None when nothing could be read
    sources: list[Path] = field(default_factory=list)  # the input files, for the content hash
    meta: dict[str, Any] = field(default_factory=dict)  # layout, late marker, LMS ids, ignored files
    problem: T | None = None  # why the submission could not be read at all


class ArchiveRejected(Exception):
    """A zip that must not be extracted; ``text`` says why in both languages."""

    def __init__(self, text: T) -> None:
        super().__init__(text.en)
        self.text = text


def safe_name(student_id: str) -> str:
    """A file-system-safe, collision-resistant folder name for an untrusted student id."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", student_id).strip("._")[:60] or "student"
    if cleaned == student_id:
        return cleaned
    return f"{cleaned}-{hashlib.sha256(student_id.encode()).hexdigest()[:8]}"


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def check_zip(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """The entries to extract, or :class:`ArchiveRejected` naming the first hostile thing found."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveRejected(T(f"압축 파일의 항목이 너무 많습니다 ({len(infos)}개, 최대 {limits.max_entries}개).",
                                f"the archive has too many entries ({len(infos)}; at most {limits.max_entries})."))
    total = packed = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise ArchiveRejected(T(f"절대 경로 항목이 있습니다: {name!r}", f"an entry has an absolute path: {name!r}"))
        if ".." in parts:
            raise ArchiveRejected(T(f"상위 폴더(..)를 가리키는 항목이 있습니다: {name!r}",
                                    f"an entry points outside the archive (..): {name!r}"))
        if _is_symlink(info):
            raise ArchiveRejected(T(f"심볼릭 링크 항목이 있습니다: {name!r}", f"an entry is a symbolic link: {name!r}"))
        if len(parts) > limits.max_depth:
            raise ArchiveRejected(T(f"폴더가 너무 깊습니다 ({len(parts)}단계, 최대 {limits.max_depth}): {name[:80]!r}",
                                    f"folders nest too deep ({len(parts)} levels; at most {limits.max_depth}): "
                                    f"{name[:80]!r}"))
        if info.file_size > limits.max_file_bytes:
            raise ArchiveRejected(T(f"파일이 너무 큽니다: {name!r} ({info.file_size:,} 바이트)",
                                    f"a file is too large: {name!r} ({info.file_size:,} bytes)"))
        total += info.file_size
        packed += info.compress_size
    if total > limits.max_total_bytes:
        raise ArchiveRejected(T(f"압축을 풀면 너무 큽니다 ({total:,} 바이트, 최대 {limits.max_total_bytes:,}).",
                                f"the archive unpacks too large ({total:,} bytes; at most {limits.max_total_bytes:,})."))
    if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(packed, 1):
        raise ArchiveRejected(T(f"압축률이 비정상적으로 높습니다 ({total / max(packed, 1):.0f}:1, 압축 폭탄으로 의심).",
                                f"the compression ratio is abnormally high ({total / max(packed, 1):.0f}:1; "
                                "a zip bomb?)."))
    return [i for i in infos if not set(PurePosixPath(i.filename).parts) & IGNORED]


def extract_zip(path: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> Path:
    """Extract ``path`` into the fresh folder ``dest`` after :func:`check_zip`; byte counts enforced."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    root = dest.resolve()
    try:
        with zipfile.ZipFile(path) as archive:
            written = 0
            for info in check_zip(archive, limits):
                target = (root / info.filename.replace("\\", "/")).resolve()
                if root not in target.parents:  # check_zip already refused this; belt and braces
                    raise ArchiveRejected(T.same(f"refused entry {info.filename!r}"))
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "xb") as sink:
                    # Headers can lie about sizes: count what really comes out.
                    while chunk := source.read(1 << 16):
                        written += len(chunk)
                        if written > limits.max_total_bytes or sink.tell() + len(chunk) > limits.max_file_bytes:
                            raise ArchiveRejected(T("압축을 풀면 선언된 크기보다 큽니다 (압축 폭탄으로 의심).",
                                                    "the archive unpacks larger than it declares (a zip bomb?)."))
                        sink.write(chunk)
    except ArchiveRejected:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise ArchiveRejected(T(f"압축 파일을 읽을 수 없습니다: {str(exc)[:160]}",
                                f"the archive cannot be read: {str(exc)[:160]}")) from None
    return dest


def _gradescope_submissions(metadata: Path) -> tuple[dict[str, dict[str, Any]], T | None]:
    """``submission_<id>`` → what the export says of it (members, names, time), and any problem."""
    import yaml

    try:
        data = yaml.safe_load(metadata.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        return {}, T(f"{metadata.name}: YAML로 읽을 수 없습니다 ({str(exc)[:160]}); 폴더 이름을 학생 id로 씁니다.",
                     f"{metadata.name} is not valid YAML ({str(exc)[:160]}); folder names are used as student ids.")
    found: dict[str, dict[str, Any]] = {}
    for folder, info in (data or {}).items() if isinstance(data, dict) else ():
        if not isinstance(info, dict):
            continue
        people = [p for p in info.get(":submitters") or [] if isinstance(p, dict)]
        # A submitter without an id is left out with their name, so that ids and names stay paired.
        known = [(str(p.get(":sid") or p.get(":email") or "").strip(), str(p.get(":name", ""))) for p in people]
        known = [(i, name) for i, name in known if i]
        entry: dict[str, Any] = {"members": [i for i, _ in known], "names": [name for _, name in known]}
        created = info.get(":created_at")
        if isinstance(created, datetime):
            entry["submitted_at"] = (created if created.tzinfo else created.replace(tzinfo=timezone.utc)).isoformat()
        elif isinstance(created, str) and created.strip():
            entry["submitted_at"] = created.strip()
        found[str(folder)] = entry
    return found, None


def _ignored_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.suffix != ".ipynb" and p.name != MANIFEST_NAME
                  and not set(p.relative_to(folder).parts) & IGNORED)


def submit_manifest(folder: Path) -> dict[str, Any] | None:
    """What ``grader submit``'s manifest in ``folder`` (or the one folder in it) says, compared with
    the files there (:func:`~grader.submission.manifest.verify_folder`); None without a manifest."""
    inner = [p for p in folder.iterdir() if p.name not in IGNORED] if folder.is_dir() else []
    if not (folder / MANIFEST_NAME).exists() and len(inner) == 1 and inner[0].is_dir():
        folder = inner[0]  # a zip of the submission's folder
    return verify_folder(folder)


def _with_manifest(meta: dict[str, Any], folder: Path) -> dict[str, Any]:
    found = submit_manifest(folder)
    return {**meta, "submit_manifest": found} if found is not None else meta


def _zip_entry(student_id: str, zip_path: Path, work: Path, limits: ArchiveLimits, meta: dict[str, Any]) -> Entry:
    dest = work / "extracted" / safe_name(student_id)
    try:
        folder = extract_zip(zip_path, dest, limits)
    except ArchiveRejected as rejected:
        return Entry(student_id, None, [zip_path], {**meta, "archive": zip_path.name},
                     T(f"{zip_path.name}: ", f"{zip_path.name}: ") + rejected.text)
    meta = _with_manifest({**meta, "archive": zip_path.name, "ignored_files": _ignored_files(folder)}, folder)
    claimed = meta.get("submit_manifest", {})
    if meta.get("layout") == "zip" and claimed.get("student") and zip_path.name == claimed.get("zip_name"):
        student_id = claimed["student"]  # the name grader submit gave it: the id is its first part
    return Entry(student_id, folder, [zip_path], meta)


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
        meta: dict[str, Any] = {"layout": "canvas", "lms_user_id": user, "name": members[0][1].group("name"),
                                "late": any(m.group("late") for _, m in members),
                                "lms_submission_ids": sorted({m.group("sub") for _, m in members})}
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
        meta["ignored_files"] = _ignored_files(folder)
        meta = _with_manifest(meta, folder)
        entries.append(Entry(user, None if problem else folder, sorted(f for f, _ in members), meta, problem))
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
            return [Entry(root.stem, None, [root], {"layout": "class-zip"}, rejected.text)]
        inner = [p for p in root.iterdir() if p.name not in IGNORED]
        if len(inner) == 1 and inner[0].is_dir() and not (root / GRADESCOPE_METADATA).exists():
            root = inner[0]  # a zip of a class folder: look inside that folder
    entries: list[Entry] = []
    gradescope, metadata_problem = ({}, None)
    if (root / GRADESCOPE_METADATA).is_file():
        gradescope, metadata_problem = _gradescope_submissions(root / GRADESCOPE_METADATA)
    canvas: list[Path] = []
    for item in sorted(root.iterdir()):
        if item.name in IGNORED or item.name == GRADESCOPE_METADATA or item.is_symlink():
            continue
        if item.is_dir():
            layout = "gradescope" if re.fullmatch(r"submission_\d+", item.name) else "folder"
            meta: dict[str, Any] = _with_manifest({"layout": layout, "ignored_files": _ignored_files(item)}, item)
            student = item.name
            if layout == "gradescope":
                info = gradescope.get(item.name, {})
                meta["lms_submission_id"] = item.name.removeprefix("submission_")
                if info.get("members"):
                    student = info["members"][0]
                    meta["name"] = info["names"][0]
                if len(info.get("members", [])) > 1:
                    meta["group"] = info["members"]
                if info.get("submitted_at"):
                    meta["submitted_at"] = info["submitted_at"]
            files = sorted(p for p in item.rglob("*") if p.is_file() and not p.is_symlink()
                           and not set(p.relative_to(item).parts) & IGNORED)
            entries.append(Entry(student, item, files, meta))
            if layout == "gradescope" and metadata_problem is not None:
                meta["metadata_problem"] = metadata_problem.to_dict()
        elif CANVAS.match(item.name):
            canvas.append(item)
        elif item.suffix == ".zip":
            entries.append(_zip_entry(item.stem, item, work, limits, {"layout": "zip"}))
        else:
            entries.append(Entry(item.name, None, [item], {"layout": "unrecognised"}, T(
                f"{item.name}: 어느 학생의 제출물인지 알 수 없습니다 (학생별 폴더나 zip, 또는 LMS 파일 이름이 아님).",
                f"{item.name}: belongs to no student (not a student folder or zip, nor an LMS export file name).")))
    entries.extend(_canvas_entries(canvas, work, limits))
    seen: dict[str, int] = {}
    for entry in entries:  # two layouts can yield one id (alice/ and alice.zip): keep both, apart
        seen[entry.student_id] = seen.get(entry.student_id, 0) + 1
        if seen[entry.student_id] > 1:
            entry.student_id = f"{entry.student_id}#{seen[entry.student_id]}"
    return sorted(entries, key=lambda e: e.student_id)
