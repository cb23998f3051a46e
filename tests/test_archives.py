"""Input layouts become one entry per student; hostile zips become a status, and write nothing outside."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.intake.submissions import discover
from grader.intake.extract import ArchiveLimits, ArchiveRejected, extract_zip, safe_name
from grader.intake.notebooks import load_submission

NB = {"cells": [], "metadata": {"grader": {"exercise_id": "02_dataset"}}, "nbformat": 4, "nbformat_minor": 5}


def notebook_text() -> str:
    return json.dumps(NB)


def make_zip(path: Path, files: dict[str, bytes | str], *, symlinks: dict[str, str] | None = None,
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def by_id(entries):
    return {e.student_id: e for e in entries}


def test_folder_per_student(tmp_path: Path, course) -> None:
    for student in ("alice", "bob"):
        (tmp_path / "in" / student).mkdir(parents=True)
        (tmp_path / "in" / student / "02_dataset.ipynb").write_text(notebook_text())
    (tmp_path / "in" / "bob" / "notes.txt").write_text("hi")
    entries = by_id(discover(tmp_path / "in", tmp_path / "work"))
    assert sorted(entries) == ["alice", "bob"]
    assert entries["alice"].path == tmp_path / "in" / "alice" and entries["alice"].problem is None
    assert entries["bob"].info.ignored_files == ["notes.txt"]
    assert "02_dataset" in load_submission(entries["alice"].path, course).notebooks


def test_zip_per_student_with_nested_folder(tmp_path: Path, course) -> None:
    (tmp_path / "in").mkdir()
    make_zip(tmp_path / "in" / "carol.zip", {"homework/week2/whatever.ipynb": notebook_text(),
                                              "__MACOSX/._whatever.ipynb": "junk"})
    [entry] = discover(tmp_path / "in", tmp_path / "work")
    assert entry.student_id == "carol" and entry.info.layout == "zip"
    assert entry.path is not None and (tmp_path / "work") in entry.path.parents
    assert not list(entry.path.rglob("__MACOSX"))
    # Misnamed: matched to its exercise by the notebook's metadata.
    assert load_submission(entry.path, course).notebooks["02_dataset"].relative.endswith("whatever.ipynb")


def test_canvas_flat_export_with_late_marker(tmp_path: Path, course) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "kimminjun_1001_5001_02_dataset.ipynb").write_text(notebook_text())
    (tmp_path / "in" / "leeseoyeon_LATE_1002_5002_02_dataset-1.ipynb").write_text(notebook_text())
    make_zip(tmp_path / "in" / "leeseoyeon_LATE_1002_5003_extra.zip", {"a/b.txt": "x"})
    entries = by_id(discover(tmp_path / "in", tmp_path / "work"))
    assert sorted(entries) == ["1001", "1002"]
    assert entries["1001"].info.late is False and entries["1002"].info.late is True
    assert entries["1002"].info.name == "leeseoyeon" and entries["1002"].info.layout == "canvas"
    assert sorted(p.name for p in entries["1002"].path.iterdir()) == ["02_dataset.ipynb", "extra"]
    assert entries["1002"].info.ignored_files == ["extra/a/b.txt"]
    assert len(entries["1002"].sources) == 2  # both uploads count towards the content hash
    assert "02_dataset" in load_submission(entries["1001"].path, course).notebooks


def test_gradescope_export_reads_ids_from_metadata(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for sub in ("submission_111", "submission_222"):
        (root / sub).mkdir(parents=True)
        (root / sub / "02_dataset.ipynb").write_text(notebook_text())
    (root / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Kim\n    :sid: '2024001'\n    :email: kim@example.com\n"
        "  :created_at: 2026-01-01 09:00:00 +09:00\nsubmission_222:\n  :submitters:\n  - :name: Lee\n"
        "    :email: lee@example.com\n")
    entries = by_id(discover(root, tmp_path / "work"))
    assert sorted(entries) == ["2024001", "lee@example.com"]
    assert entries["2024001"].info.to_dict() == {"layout": "gradescope", "lms_submission_id": "111", "ignored_files": [],
                                                 "name": "Kim", "submitted_at": "2026-01-01T09:00:00+09:00"}


@pytest.mark.parametrize("created", ["2026-12-15 23:59:00.000000000", "2026-12-15", "'yesterday'"],
                         ids=["no-zone", "a-date", "not-a-time"])
def test_a_gradescope_time_without_a_zone_refuses_the_class_naming_the_file_and_line(tmp_path: Path,
                                                                                       created: str) -> None:
    root = tmp_path / "in"
    for sub in ("submission_111", "submission_222"):
        (root / sub).mkdir(parents=True)
        (root / sub / "02_dataset.ipynb").write_text(notebook_text())
    (root / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Kim\n    :sid: '1'\n  :created_at: 2026-12-15 23:59:00 Z\n"
        f"submission_222:\n  :submitters:\n  - :name: Lee\n    :sid: '2'\n  :created_at: {created}\n")
    with pytest.raises(SubmissionError) as refused:
        discover(root, tmp_path / "work")
    said = str(refused.value)
    assert f"{root / 'submission_metadata.yml'} line 10 (submission_222 :created_at:)" in said, said
    assert ("no time zone" in said) if created[0] == "2" and " " in created else ("is not a time" in said), said


def test_gradescope_groups_times_and_histories_come_from_the_yaml(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for sub in ("submission_111", "submission_222", "submission_333", "submission_444"):
        (root / sub).mkdir(parents=True)
        (root / sub / "02_dataset.ipynb").write_text(notebook_text())
    (root / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Kim\n    :sid: '2024001'\n  - :name: Park\n    :sid: '2024002'\n"
        "  :created_at: 2026-12-15 10:30:00.123456789 +09:00\n  :history:\n  - :id: 1\n"
        "    :created_at: 2026-12-01 09:00:00.000000000 +09:00\n"
        "submission_222:\n  :submitters:\n  - :name: Lee\n    :sid: '2024003'\n"
        "  :created_at: 2026-12-14 23:00:00.000000000 Z\n"
        "submission_333:\n  :submitters: []\n"
        "submission_444:\n  :submitters:\n  - :name: Ann\n  - :name: Bob\n    :sid: '2024004'\n")
    entries = by_id(discover(root, tmp_path / "work"))
    # The first submitter names the group's entry (the old line parser took the last).
    assert sorted(entries) == ["2024001", "2024003", "2024004", "submission_333"]
    assert entries["2024004"].info.name == "Bob"  # a submitter without an id takes their name along
    assert entries["2024001"].info.group == ["2024001", "2024002"]
    assert entries["2024001"].info.submitted_at == "2026-12-15T10:30:00.123456+09:00"  # not the history's time
    assert entries["2024003"].info.submitted_at == "2026-12-14T23:00:00+00:00" and not entries["2024003"].info.group


def test_gradescope_metadata_that_is_not_yaml_is_said_and_nothing_is_lost(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "submission_111").mkdir(parents=True)
    (root / "submission_111" / "02_dataset.ipynb").write_text(notebook_text())
    (root / "submission_metadata.yml").write_text("submission_111: [unclosed\n")
    (entry,) = discover(root, tmp_path / "work")
    assert entry.student_id == "submission_111" and entry.path is not None
    assert "not valid YAML" in entry.info.metadata_problem.en


def test_a_zip_of_the_whole_class(tmp_path: Path) -> None:
    inner = io.BytesIO()
    make_zip(Path(tmp_path / "dave.zip"), {"02_dataset.ipynb": notebook_text()})
    make_zip(tmp_path / "class.zip", {"class/erin/02_dataset.ipynb": notebook_text(),
                                     "class/dave.zip": (tmp_path / "dave.zip").read_bytes()})
    del inner
    entries = by_id(discover(tmp_path / "class.zip", tmp_path / "work"))
    assert sorted(entries) == ["dave", "erin"]
    assert all(e.problem is None and e.path is not None for e in entries.values())


def test_a_loose_file_belongs_to_nobody(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "stray.ipynb").write_text(notebook_text())
    [entry] = discover(tmp_path / "in", tmp_path / "work")
    assert entry.path is None and "belongs to no student" in entry.problem.en and entry.problem.ko


HOSTILE = {
    "traversal": ({"../../evil.ipynb": "x"}, None, "outside the archive"),
    "absolute": ({"/tmp/evil.ipynb": "x"}, None, "absolute path"),
    "symlink": ({"ok.ipynb": "x"}, {"link": "/etc/passwd"}, "symbolic link"),
    "bomb": ({"zeros.ipynb": b"\0" * (8 * 1024**2)}, None, "compression ratio"),
    "deep": ({"/".join(["d"] * 30) + "/x.ipynb": "x"}, None, "nest too deep"),
    "many": ({f"f{i}.txt": "x" for i in range(60)}, None, "too many entries"),
}
LIMITS = ArchiveLimits(max_entries=50)


@pytest.mark.parametrize("case", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_hostile_zip_becomes_a_status_and_writes_nothing(tmp_path: Path, case: str) -> None:
    files, links, words = HOSTILE[case]
    (tmp_path / "in").mkdir()
    make_zip(tmp_path / "in" / "mallory.zip", files, symlinks=links)
    [entry] = discover(tmp_path / "in", tmp_path / "work", LIMITS)
    assert entry.path is None
    assert words in entry.problem.en and entry.problem.ko != entry.problem.en
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert written == [tmp_path / "in" / "mallory.zip"]  # nothing extracted anywhere


def test_zip_that_lies_about_its_sizes_is_stopped_while_extracting(tmp_path: Path) -> None:
    make_zip(tmp_path / "liar.zip", {"a.ipynb": b"A" * 4096}, compression=zipfile.ZIP_STORED)
    # Forge the central directory and local header: claim 10 bytes, hold 4096.
    data = bytearray((tmp_path / "liar.zip").read_bytes())
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = data.index(signature)
        data[at + offset:at + offset + 4] = (10).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(data))
    with pytest.raises(ArchiveRejected):
        extract_zip(tmp_path / "liar.zip", tmp_path / "out", ArchiveLimits(max_total_bytes=1000, max_file_bytes=1000))
    assert not (tmp_path / "out").exists()


def test_corrupt_zip_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "oscar.zip").write_bytes(b"PK\x03\x04 not really")
    [entry] = discover(tmp_path / "in", tmp_path / "work")
    assert entry.path is None and "cannot be read" in entry.problem.en


@pytest.mark.parametrize("sid", ["alice", "../etc", "김민준", "a/b\\c", ""], ids=["plain", "dots", "hangul", "slashes", "empty"])
def test_safe_name_is_a_plain_file_name(sid: str) -> None:
    name = safe_name(sid)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert (name == sid) == (sid == "alice")


def test_sample_class_mixes_every_layout(tmp_path: Path, course) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
    try:
        from make_sample_class import build
    finally:
        sys.path.pop(0)
    students = build(tmp_path / "class")
    assert len(students) >= 12 and len(set(students)) == len(students)
    entries = discover(tmp_path / "class", tmp_path / "work")
    assert len(entries) == len(students)
    layouts = {e.info.layout for e in entries}
    assert {"folder", "zip", "canvas"} <= layouts
    assert any(e.info.late for e in entries)
    unreadable = [e for e in entries if e.path is None]
    assert len(unreadable) == 1 and "cannot be read" in unreadable[0].problem.en  # the corrupt upload
    nested = [e for e in entries if e.path is not None and e.info.layout == "zip" and list(e.path.glob("homework/*/*.ipynb"))]
    assert nested, "one zip keeps its notebooks in a nested folder"
    for entry in entries:
        if entry.path is not None and entry.info.ignored_files != ["README.txt"]:
            assert load_submission(entry.path, course).notebooks, entry.student_id  # every notebook matched


def test_canvas_export_as_one_zip(tmp_path: Path) -> None:
    make_zip(tmp_path / "submissions.zip", {"kimminjun_1001_5001_02_dataset.ipynb": notebook_text(),
                                           "parkjihoon_LATE_1003_5004_hw.ipynb": notebook_text()})
    entries = by_id(discover(tmp_path / "submissions.zip", tmp_path / "work"))
    assert sorted(entries) == ["1001", "1003"] and entries["1003"].info.late is True
    assert all((tmp_path / "work") in e.path.parents for e in entries.values())
