"""What a student uploads, checked before it is stored, and unpacked again for grading.

An upload is one or more files, each a notebook (``.ipynb``) or a ``grader submit`` zip. The
rules are the bulk grader's: a file name is a bare name (no folder, no ``..``, no control
character), a notebook is JSON that nbformat reads, and a zip passes the safe extractor
(:mod:`grader.intake.extract`: no path out of it, no link, no bomb) and holds a notebook. A file
that breaks one is refused with the reason, in both languages, and nothing of the upload is kept.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.i18n import T
from grader.intake.extract import IGNORED, ArchiveLimits, ArchiveRejected, check_zip, extract_zip
from grader.store.service import FileStore, StoredFile

__all__ = ["Received", "UploadRejected", "check_upload", "unpack"]

_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
MAX_FILES = 20


class UploadRejected(Exception):
    """An upload refused before anything of it was kept; ``text`` says why, in both languages."""

    def __init__(self, text: T) -> None:
        super().__init__(text.en)
        self.text = text


@dataclass(frozen=True)
class Received:
    name: str
    data: bytes


def _name(name: str) -> str:
    if not name or _BAD_NAME.search(name) or name in (".", "..") or name.startswith(".") or len(name) > 200:
        raise UploadRejected(T(f"파일 이름에 경로나 쓸 수 없는 글자가 있습니다: {name[:80]!r}",
                               f"a file name holds a path or a character it may not: {name[:80]!r}"))
    return name


def _notebook(name: str, data: bytes) -> None:
    import nbformat

    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds; each means "not a notebook"
        raise UploadRejected(T(f"{name}: 주피터 노트북으로 읽을 수 없습니다 ({str(error)[:160]})",
                               f"{name}: not a Jupyter notebook ({str(error)[:160]})")) from None


def _archive(name: str, data: bytes, limits: ArchiveLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = check_zip(archive, limits)
    except ArchiveRejected as rejected:
        raise UploadRejected(T(f"{name}: ", f"{name}: ") + rejected.text) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, EOFError) as error:
        raise UploadRejected(T(f"{name}: 압축 파일을 읽을 수 없습니다 ({str(error)[:160]})",
                               f"{name}: the archive cannot be read ({str(error)[:160]})")) from None
    if not any(e.filename.endswith(".ipynb") for e in entries):
        raise UploadRejected(T(f"{name}: 압축 파일 안에 노트북(.ipynb)이 없습니다.",
                               f"{name}: the archive holds no notebook (.ipynb)."))
    # The byte counts the headers claim are not trusted: unpack it once, counting, as grading will.
    with tempfile.TemporaryDirectory(prefix="grader-upload-") as scratch:
        source = Path(scratch) / "upload.zip"
        source.write_bytes(data)
        try:
            extract_zip(source, Path(scratch) / "out", limits)
        except ArchiveRejected as rejected:
            raise UploadRejected(T(f"{name}: ", f"{name}: ") + rejected.text) from None


def check_upload(files: list[Received], limits: ArchiveLimits = ArchiveLimits()) -> list[StoredFile]:
    """Each file checked (names, notebooks, archives), or :class:`UploadRejected` for the first
    that breaks a rule; what the receipt lists for them."""
    if not files:
        raise UploadRejected(T("올린 파일이 없습니다.", "no file was uploaded."))
    if len(files) > MAX_FILES:
        raise UploadRejected(T(f"파일이 너무 많습니다 ({len(files)}개, 최대 {MAX_FILES}개).",
                               f"too many files ({len(files)}; at most {MAX_FILES})."))
    names = [_name(f.name) for f in files]
    if len(set(names)) != len(names):
        raise UploadRejected(T("같은 이름의 파일이 두 번 있습니다.", "two files have the same name."))
    for received in files:
        if received.name.endswith(".ipynb"):
            _notebook(received.name, received.data)
        elif received.name.endswith(".zip"):
            _archive(received.name, received.data, limits)
        else:
            raise UploadRejected(T(f"{received.name}: 노트북(.ipynb)이나 grader submit의 zip만 올릴 수 있습니다.",
                                   f"{received.name}: only notebooks (.ipynb) and grader submit zips are taken."))
    return [StoredFile(f.name, hashlib.sha256(f.data).hexdigest(), len(f.data)) for f in files]


def unpack(files: list[StoredFile], store: FileStore, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> Path:
    """An upload's files as a submission folder under ``dest`` (a fresh folder): notebooks copied,
    zips unpacked through the safe extractor (a zip of one folder: that folder's contents)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for stored in files:
        if stored.name.endswith(".zip"):
            inner = extract_zip(store.path(stored.sha256), dest / f".zip-{stored.sha256[:12]}", limits)
            kept = [p for p in inner.iterdir() if p.name not in IGNORED]
            top = kept[0] if len(kept) == 1 and kept[0].is_dir() else inner
            for item in top.iterdir():
                if item.name not in IGNORED and not (dest / item.name).exists():
                    item.rename(dest / item.name)
            shutil.rmtree(inner)
        else:
            shutil.copyfile(store.path(stored.sha256), dest / stored.name)
    return dest
