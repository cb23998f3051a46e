"""Instructor adjustments and the late policy on a real gradebook: through the CLI, across regrades,
under the writer lock, and against a simulated Gradescope export with a group and a late submission."""

from __future__ import annotations

import csv
import dataclasses
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.bulk.run import BulkOptions, grade_class
from grader.cli import ExitCode, cli
from grader.publish.exports import write_csv
from grader.store.gradebook import SCHEMA_VERSION, Gradebook, writer_lock
from grader.grades.book import class_grades
from grader.course.late import parse_policy

from .test_bulk import FAKE, make_class

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent


def bulk(source: Path, out: Path, config, **options) -> None:
    grade_class(source, config, BulkOptions(out_dir=out, workers=1, unit=FAKE, **options))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def graded(tmp_path: Path, make_config):
    """A class of three, graded by the fake unit into OUT."""
    config = make_config(work_dir=tmp_path / "work")
    source, out = make_class(tmp_path / "in", 3), tmp_path / "out"
    bulk(source, out, config)
    return source, out, config


def finals(out: Path, course) -> dict[str, float]:
    with Gradebook(out / "gradebook.sqlite") as book:
        return {sid: grade.final for sid, grade in class_grades(book, course).items()}


def history(out: Path) -> list[tuple]:
    with Gradebook(out / "gradebook.sqlite") as book:
        return [(a.id, a.student_id, a.kind, a.value, a.reason, a.created_at, a.revokes) for a in book.adjustments()]


def test_an_override_survives_a_forced_regrade_with_its_history_unchanged(graded, course) -> None:
    source, out, config = graded
    before = finals(out, course)
    done = run("override", str(out), "--student", "s001", "--exercise", "02_dataset", "--set", "4.5",
               "--reason", "regrade request: the check misread a valid loader", "--by", "ta-kim")
    assert done.exit_code == ExitCode.OK, done.output
    assert "#1: s001 02_dataset: set 4.5" in done.output
    adjusted, recorded = finals(out, course), history(out)
    assert adjusted["s001"] == 4.5 and adjusted["s000"] == before["s000"]
    said = run("history", str(out), "--student", "s001").output.splitlines()
    with Gradebook(out / "gradebook.sqlite") as book:
        grade = class_grades(book, course)["s001"]
    assert said[-1] == (f"s001: final 4.5 / {grade.possible:g} (automatic {grade.auto_total:g}, "
                        f"adjustments {4.5 - grade.auto_total:+g}, late penalty 0)")
    bulk(source, out, config, force=True)
    assert finals(out, course) == adjusted and history(out) == recorded
    report = (out / "students" / "s001" / "report.html").read_text(encoding="utf-8")
    assert "regrade request: the check misread a valid loader" in report and "ta-kim" not in report


def test_an_override_on_files_since_changed_is_marked_stale(graded, course) -> None:
    source, out, config = graded
    assert run("override", str(out), "--student", "s002", "--exercise", "02_dataset", "--add", "1",
               "--reason", "partial credit").exit_code == ExitCode.OK
    (source / "s002" / "02_dataset.ipynb").write_text("resubmitted, longer and different")
    bulk(source, out, config)
    with Gradebook(out / "gradebook.sqlite") as book:
        grade = class_grades(book, course)["s002"]
    assert grade.stale and grade.applied and grade.final == min(grade.auto_total + 1, grade.possible)
    assert "stale" in run("history", str(out)).output
    exported = write_csv(Gradebook(out / "gradebook.sqlite").rows(), course, out / "g.csv", {"s002": grade})
    assert next(r for r in csv.DictReader(exported.open()) if r["student_id"] == "s002")["stale"] == "yes"


def test_a_revoke_adds_a_row_and_the_score_is_automatic_again(graded, course) -> None:
    _, out, _ = graded
    automatic = finals(out, course)["s000"]
    run("override", str(out), "--student", "s000", "--exercise", "02_dataset", "--excuse", "--reason", "ill")
    assert finals(out, course)["s000"] == 0
    done = run("override", str(out), "--revoke", "1", "--reason", "the note was for another course")
    assert done.exit_code == ExitCode.OK, done.output
    rows = history(out)
    assert [(r[0], r[2], r[6]) for r in rows] == [(1, "excuse", None), (2, "revoke", 1)]
    assert finals(out, course)["s000"] == automatic
    again = run("override", str(out), "--revoke", "1", "--reason", "twice")
    assert again.exit_code == ExitCode.BAD_INPUT and "already revoked" in again.output


def test_history_rows_cannot_be_updated_or_deleted(graded) -> None:
    _, out, _ = graded
    run("override", str(out), "--student", "s000", "--exercise", "02_dataset", "--add", "1", "--reason", "x")
    db = sqlite3.connect(out / "gradebook.sqlite")
    for statement in ("UPDATE adjustments SET value = 100", "DELETE FROM adjustments",
                      "INSERT INTO extensions (batch, student_id, exercise_id, reason, imported_at, source) "
                      "VALUES (1, 's000', '*', 'r', 'now', 't')", "DELETE FROM extensions"):
        try:
            db.execute(statement)
        except sqlite3.DatabaseError as refused:
            assert "append-only" in str(refused)
        else:
            assert statement.startswith("INSERT"), statement  # only appending is allowed
    db.commit()
    assert db.execute("SELECT value FROM adjustments").fetchall() == [(1.0,)]


@pytest.mark.parametrize("request_", [
    ("--student", "nobody", "--exercise", "02_dataset", "--set", "1", "--reason", "x"),
    ("--student", "s000", "--exercise", "99_nope", "--set", "1", "--reason", "x"),
    ("--student", "s000", "--exercise", "02_dataset", "--check", "test_nope", "--set", "1", "--reason", "x"),
    ("--student", "s000", "--exercise", "02_dataset", "--set", "1", "--reason", "  "),
], ids=["no-student", "no-exercise", "no-check", "no-reason"])
def test_a_request_that_cannot_hold_is_refused_and_writes_nothing(graded, request_) -> None:
    _, out, _ = graded
    done = run("override", str(out), *request_)
    assert done.exit_code in (ExitCode.BAD_INPUT, ExitCode.USAGE), done.output
    assert history(out) == []


def test_a_sheet_applies_whole_or_not_at_all_and_names_a_bad_line(graded, course, tmp_path: Path) -> None:
    _, out, _ = graded
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("student_id,exercise_id,check_id,set,add,excuse,reason\n"
                     "s000,02_dataset,,,1,,bonus\n"
                     "s001,02_dataset,,,,,\n"  # blank: no change
                     "ghost,02_dataset,,2,,,typo\n", encoding="utf-8")
    refused = run("override", str(out), "--from-csv", str(sheet))
    assert refused.exit_code == ExitCode.BAD_INPUT and "line 4" in refused.output and "ghost" in refused.output
    assert history(out) == []
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("ghost", "s002"), encoding="utf-8")
    done = run("override", str(out), "--from-csv", str(sheet))
    assert done.exit_code == ExitCode.OK, done.output
    assert [(r[1], r[2], r[3]) for r in history(out)] == [("s000", "add", 1.0), ("s002", "set", 2.0)]


def test_override_while_bulk_holds_the_gradebook_exits_3_and_writes_nothing(graded) -> None:
    _, out, _ = graded
    with writer_lock(out / "gradebook.sqlite"):
        done = run("override", str(out), "--student", "s000", "--exercise", "02_dataset", "--add", "1",
                   "--reason", "x")
    assert done.exit_code == ExitCode.BAD_INPUT and "another grader command" in done.output
    assert history(out) == []


IMPORT_SLOWLY = """
import sys, time
from pathlib import Path
from grader.course.manifest import load_course
from grader.store.gradebook import Gradebook
from grader.grades import book
real = Gradebook.add_adjustments
def slowly(self, adjustments):
    def each():
        for n, a in enumerate(adjustments):
            if n == 50:
                print("halfway", flush=True)
                time.sleep(60)  # killed here, in the middle of the transaction
            yield a
    return real(self, each())
Gradebook.add_adjustments = slowly
book.import_sheet(Path(sys.argv[1]), load_course(Path("exercises")), Path(sys.argv[2]), author="t")
"""


def test_a_kill_during_a_sheet_import_leaves_nothing_half_imported(graded, tmp_path: Path) -> None:
    _, out, _ = graded
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("student_id,exercise_id,check_id,set,add,excuse,reason\n"
                     + "".join(f"s00{n % 3},02_dataset,,,0.01,,row {n}\n" for n in range(200)), encoding="utf-8")
    importer = subprocess.Popen([sys.executable, "-c", IMPORT_SLOWLY, str(out / "gradebook.sqlite"), str(sheet)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert importer.stdout.readline().strip() == "halfway"
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    assert history(out) == []  # the 50 rows written inside the transaction are gone
    assert run("override", str(out), "--from-csv", str(sheet)).exit_code == ExitCode.OK  # and the lock is free
    assert len(history(out)) == 200


def test_late_imports_extensions_and_times_and_nothing_is_graded_again(graded, course, tmp_path: Path) -> None:
    _, out, _ = graded
    late_course = dataclasses.replace(course, late=parse_policy(
        {"due": "2026-12-14T23:59:00+09:00", "deduct_percent": 10, "mode": "apply"}, {}, "test [late]"))
    times, extensions = tmp_path / "times.csv", tmp_path / "ext.csv"
    times.write_text("student_id,submitted_at\ns000,2026-12-16T01:00:00+09:00\ns001,2026-12-14T20:00:00+09:00\n")
    extensions.write_text("student_id,exercise_id,new_due,extra_hours,reason\ns000,*,,48,flu\n")
    from grader.grades import book as ledger

    with Gradebook(out / "gradebook.sqlite") as gradebook:
        graded_at = [r.graded_at for r in gradebook.rows()]  # before anything is imported
    assert ledger.import_times(out / "gradebook.sqlite", times) == 2
    with Gradebook(out / "gradebook.sqlite") as gradebook:
        late = class_grades(gradebook, late_course)["s000"]
    assert late.late and late.late_penalty > 0  # 25 h after the due date: two days, 20% of the points
    assert ledger.import_extensions(out / "gradebook.sqlite", late_course, extensions) == 1
    with Gradebook(out / "gradebook.sqlite") as gradebook:
        excused = class_grades(gradebook, late_course)
        assert [r.graded_at for r in gradebook.rows()] == graded_at  # times and extensions regrade nothing
    assert not excused["s000"].late and not excused["s001"].late


def test_a_gradescope_export_with_a_group_and_a_late_submission(tmp_path: Path, make_config, course) -> None:
    root = tmp_path / "export"
    for sub, text in (("submission_1", "x" * 5), ("submission_2", "y" * 4)):
        (root / sub).mkdir(parents=True)
        (root / sub / "02_dataset.ipynb").write_text(text)
    (root / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Kim\n    :sid: '101'\n  - :name: Park\n    :sid: '102'\n"
        "  :created_at: 2026-12-14 14:00:00.000000000 Z\n"
        "submission_2:\n  :submitters:\n  - :name: Lee\n    :sid: '103'\n"
        "  :created_at: 2026-12-16 00:59:59.000000000 +09:00\n"  # 25 h after the due date
        "  :history:\n  - :created_at: 2026-12-13 10:00:00.000000000 Z\n", encoding="utf-8")
    out = tmp_path / "out"
    bulk(root, out, make_config(work_dir=tmp_path / "work"))
    late_course = dataclasses.replace(course, late=parse_policy(
        {"due": "2026-12-14T23:59:59+09:00", "deduct_percent": 10, "per": "day", "mode": "apply"}, {}, "test"))
    with Gradebook(out / "gradebook.sqlite") as book:
        rows = book.rows()
        grades = class_grades(book, late_course)
    assert [r.student_id for r in rows] == ["101", "102", "103"]  # both members of the group
    assert rows[0].result.to_dict()["exercises"] == rows[1].result.to_dict()["exercises"]
    table = {r["student_id"]: r for r in csv.DictReader(write_csv(rows, late_course, out / "g.csv", grades).open())}
    assert table["103"]["late"] == "yes" and int(table["103"]["late_seconds"]) == 25 * 3600
    assert float(table["103"]["late_penalty"]) == 0.2 * float(table["103"]["max_score"])  # 2 days (rounded up) × 10%
    assert table["101"]["late"] == table["102"]["late"] == "" and table["101"]["final"] == table["102"]["final"]


def test_a_gradebook_of_schema_1_opens_migrated_and_loses_nothing(tmp_path: Path, course) -> None:
    old = tmp_path / "gradebook.sqlite"
    shutil.copy(DATA / "gradebooks" / "schema-1.sqlite", old)
    raw = sqlite3.connect(old)
    before = raw.execute("SELECT * FROM submissions ORDER BY student_id").fetchall()
    raw.close()
    with Gradebook(old) as book:
        rows = book.rows()
    after = sqlite3.connect(old)
    assert after.execute("SELECT value FROM info WHERE key = 'schema'").fetchone() == (str(SCHEMA_VERSION),)
    assert [r[:9] for r in after.execute("SELECT * FROM submissions ORDER BY student_id")] == before
    assert len(rows) == len(before) == 4 and all(r.files_hash is None for r in rows)
    assert run("override", str(tmp_path), "--student", rows[0].student_id, "--exercise", "02_dataset",
               "--add", "1", "--reason", "after the migration").exit_code == ExitCode.OK
