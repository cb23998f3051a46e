"""The safe extractor: a student's zip is opened only after every entry passed :func:`check_zip`.

No absolute paths, no ``..``, no symlinks, bounded entry count, depth, sizes and compression
ratio (the declared sizes are not trusted: extraction counts bytes). Zips are extracted only into
the grader's own work folder; a rejected one raises :class:`ArchiveRejected`, whose text says why
in both languages, for the caller to record (never to stop a class).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.i18n import T

__all__ = ["ArchiveLimits", "ArchiveRejected", "IGNORED", "check_zip", "extract_zip", "safe_name"]

IGNORED = {"__MACOSX", ".DS_Store", ".ipynb_checkpoints"}  # what archives and folders carry that nobody wrote


@dataclass(frozen=True)
class ArchiveLimits:
    """What one student's zip may hold; anything beyond is treated as hostile."""

    max_entries: int = 1000
    max_total_bytes: int = 256 * 1024**2  # uncompressed, all entries together
    max_file_bytes: int = 64 * 1024**2
    max_ratio: float = 200.0  # uncompressed / compressed, over the whole archive
    ratio_floor_bytes: int = 1024**2  # below this total the ratio is not judged (tiny text files)
    max_depth: int = 12  # path components of one entry




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
                                f"the archive unpacks too large ({total:,} bytes; "
                                f"at most {limits.max_total_bytes:,})."))
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
