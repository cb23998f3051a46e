"""The bulk scheduler: parallel workers, a crash-safe resume, broken submissions that do not stop the run.

Most tests use a fake unit of work (:func:`fake_grade`, imported by the workers by name) so that
they are about scheduling, not kernels; the one ``slow`` test kills a real run with real kernels.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.bulk.run import BulkOptions, grade_class
from grader.store.gradebook import Gradebook
from grader.store.records import Status
from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
FAKE = "tests.test_bulk:fake_grade"


def fake_grade(session, path: Path, *, submission_id: str | None = None) -> SubmissionResult:
    """Grade by reading the notebook's text: words in it say what to do; the score is its length."""
    text = "".join(p.read_text() for p in sorted(Path(path).rglob("*.ipynb")))
    if "CRASH" in text:
        os._exit(3)
    if "RAISE" in text:
        raise RuntimeError("the grader tripped over this submission")
    if "HANG" in text:
        time.sleep(600)
    time.sleep(0.15)
    points = float(len(text) % 6)
    check = CheckResult("t::len", T.same("len"), CheckStatus.PASSED if points == 5 else CheckStatus.FAILED,
                        min(points, 5.0), 5.0)
    return SubmissionResult(submission_id or "", [ExerciseResult("02_dataset", T.same("x"), ExerciseStatus.GRADED,
                                                                 [check])], grader_version="fake")


def start_a_kernel_ahead(session, path: Path, *, submission_id: str | None = None) -> SubmissionResult:
    """:func:`fake_grade`, after starting a real kernel ahead, as a worker's last submission leaves
    one for a next that never comes; where that kernel's folder is goes beside the submission."""
    session.kernels.start_ahead()
    (Path(path) / "runtime.txt").write_text(str(session.kernels.ahead.result().runtime))
    return fake_grade(session, path, submission_id=submission_id)


def make_class(root: Path, count: int, extra: dict[str, str] | None = None) -> Path:
    for n in range(count):
        (root / f"s{n:03d}").mkdir(parents=True)
        (root / f"s{n:03d}" / "02_dataset.ipynb").write_text("x" * (n + 1))
    for student, text in (extra or {}).items():
        (root / student).mkdir(parents=True)
        (root / student / "02_dataset.ipynb").write_text(text)
    return root


def comparable(gradebook: Path) -> list[tuple]:
    """Every row without its timestamps: what a resumed run must reproduce exactly."""
    with Gradebook(gradebook) as book:
        rows = book.rows()
    out = []
    for row in rows:
        result = row.result.to_dict() if row.result else None
        if result:
            for key in ("started_at", "finished_at", "source"):
                result.pop(key)
            for exercise in result["exercises"]:  # timings differ from run to run; nothing else may
                for key in ("wall_s", "cell_s", "check_s", "kernel"):
                    exercise.pop(key)
                for check in exercise["checks"]:
                    check.pop("duration_s")
        out.append((row.student_id, row.content_hash, row.status.value, row.score, row.max_score,
                    json.dumps(result, sort_keys=True), row.error, json.dumps(row.info.to_dict(), sort_keys=True)))
    return out


def options(out: Path, **kw) -> BulkOptions:
    return BulkOptions(out_dir=out, workers=kw.pop("workers", 2), unit=kw.pop("unit", FAKE), **kw)


def test_every_student_graded_once_and_rerun_skips_all(tmp_path: Path, make_config) -> None:
    config = make_config(work_dir=tmp_path / "work")
    source = make_class(tmp_path / "in", 6)
    seen: list[tuple[int, int]] = []
    summary = grade_class(source, config, options(tmp_path / "out"), progress=lambda d, t, s, st: seen.append((d, t)))
    assert (summary.total, summary.graded, summary.skipped) == (6, 6, 0)
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert [r[0] for r in comparable(tmp_path / "out" / "gradebook.sqlite")] == [f"s{n:03d}" for n in range(6)]
    assert (tmp_path / "out" / "index.html").is_file()
    assert (tmp_path / "out" / "students" / "s000" / "report.html").is_file()
    again = grade_class(source, config, options(tmp_path / "out"))
    assert (again.graded, again.skipped) == (0, 6)
    (source / "s002" / "02_dataset.ipynb").write_text("changed")
    changed = grade_class(source, config, options(tmp_path / "out"))
    assert (changed.graded, changed.skipped) == (1, 5)
    forced = grade_class(source, config, options(tmp_path / "out", force=True))
    assert forced.graded == 6
    assert len(comparable(tmp_path / "out" / "gradebook.sqlite")) == 6


def test_broken_submissions_do_not_stop_the_run(tmp_path: Path, make_config) -> None:
    config = make_config(work_dir=tmp_path / "work")
    source = make_class(tmp_path / "in", 4, {"crasher": "CRASH", "raiser": "RAISE", "hanger": "HANG"})
    summary = grade_class(source, config, options(tmp_path / "out", submission_timeout=3.0, reports=False))
    rows = {r[0]: r for r in comparable(tmp_path / "out" / "gradebook.sqlite")}
    assert summary.total == 7 and len(rows) == 7
    assert rows["crasher"][2] == "error" and "worker died (exit code 3)" in rows["crasher"][6]
    assert rows["raiser"][2] == "error" and "RuntimeError: the grader tripped" in rows["raiser"][6]
    assert rows["hanger"][2] == "error" and "longer than 3 s" in rows["hanger"][6]
    full = sum(e.points for e in config.course.exercises)
    assert rows["crasher"][4] == full > 0  # out of the course's points, not out of nothing
    assert all(rows[f"s{n:03d}"][2] == "graded" for n in range(4))


@pytest.mark.slow
def test_a_worker_leaves_no_kernel_behind(tmp_path: Path, make_config) -> None:
    # A worker process ends without the exit handlers (multiprocessing): it stops its kernels itself.
    source = make_class(tmp_path / "in", 1)
    summary = grade_class(source, make_config(work_dir=tmp_path / "work"),
                          options(tmp_path / "out", workers=1, unit="tests.test_bulk:start_a_kernel_ahead", reports=False))
    assert summary.graded == 1
    runtime = Path((source / "s000" / "runtime.txt").read_text())
    assert runtime.name.startswith("k-") and not runtime.exists()


def test_unreadable_entries_are_recorded_without_a_worker(tmp_path: Path, make_config) -> None:
    config = make_config(work_dir=tmp_path / "work")
    source = make_class(tmp_path / "in", 1)
    (source / "broken.zip").write_bytes(b"PK\x03\x04nope")
    grade_class(source, config, options(tmp_path / "out", reports=False))
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        broken = next(r for r in book.rows() if r.student_id == "broken")
    assert broken.status is Status.UNREADABLE and "cannot be read" in broken.error and broken.result is None


DRIVER = """
import dataclasses
import sys
from pathlib import Path
from grader.bulk.run import BulkOptions, grade_class
from grader.config import GradeConfig, Limits
from grader.course.manifest import load_course
if __name__ == "__main__":  # workers re-import the main module: grade only in the coordinator
    source, out, work, data, unit = sys.argv[1:6]
    course = load_course(Path("exercises"))
    course = dataclasses.replace(course, exercises=tuple(e for e in course.exercises if e.id == "02_dataset"))
    config = GradeConfig(course=course, data_root=Path(data), work_dir=Path(work), trusted_code=True,
                         hidden=True, limits=Limits(cell_timeout=30, notebook_timeout=120))
    summary = grade_class(Path(source), config, BulkOptions(out_dir=Path(out), workers=2, unit=unit))
    print(summary.line())
"""


def run_driver(tmp_path: Path, source: Path, out: Path, data_root: Path, unit: str) -> subprocess.Popen:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    return subprocess.Popen([sys.executable, str(script), str(source), str(out), str(tmp_path / "work"),
                             str(data_root), unit], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def committed(gradebook: Path) -> int:
    try:
        db = sqlite3.connect(gradebook, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def kill_after(process: subprocess.Popen, gradebook: Path, rows: int, deadline: float) -> int:
    """SIGKILL the coordinator (only it: its workers must notice on their own) once ``rows`` are in."""
    started = time.monotonic()
    while committed(gradebook) < rows:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() - started < deadline, "the run never committed enough rows"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    return committed(gradebook)


def resume_matches_uninterrupted(tmp_path: Path, source: Path, data_root: Path, unit: str, *,
                                 kill_at: int, deadline: float) -> list[tuple]:
    first = run_driver(tmp_path, source, tmp_path / "killed", data_root, unit)
    done_before = kill_after(first, tmp_path / "killed" / "gradebook.sqlite", kill_at, deadline)
    total = len(list(source.iterdir()))
    assert kill_at <= done_before < total, "the kill came too late to test a resume"
    resumed = run_driver(tmp_path, source, tmp_path / "killed", data_root, unit)
    out, err = resumed.communicate(timeout=deadline)
    assert resumed.returncode == 0, err.decode()[-3000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["graded"] == total - done_before, summary  # nothing graded twice
    clean = run_driver(tmp_path, source, tmp_path / "clean", data_root, unit)
    clean.communicate(timeout=deadline)
    killed_rows, clean_rows = comparable(tmp_path / "killed" / "gradebook.sqlite"), comparable(tmp_path / "clean" / "gradebook.sqlite")
    assert len(killed_rows) == total and len({r[0] for r in killed_rows}) == total
    assert killed_rows == clean_rows
    return killed_rows


def test_sigkill_part_way_then_resume_equals_an_uninterrupted_run(tmp_path: Path, data_root: Path) -> None:
    source = make_class(tmp_path / "in", 16)
    resume_matches_uninterrupted(tmp_path, source, data_root, FAKE, kill_at=4, deadline=120)


@pytest.mark.slow
def test_real_kernels_sigkill_then_resume(tmp_path: Path, data_root: Path) -> None:
    sys.path.insert(0, str(ROOT / "samples"))
    try:
        from make_sample_class import course_notebooks, with_cell
    finally:
        sys.path.pop(0)
    solution = course_notebooks(ROOT / "exercises", ROOT / "solutions")["02_dataset"]["json"]
    source = tmp_path / "in"
    wrong = with_cell(solution, (ROOT / "tests/data/golden/02_dataset/loader_ignores_drop_last.py").read_text())
    for student, notebook in (("a_right", solution), ("b_wrong", wrong), ("c_right", solution)):
        (source / student).mkdir(parents=True)
        (source / student / "02_dataset.ipynb").write_text(json.dumps(notebook))
    rows = resume_matches_uninterrupted(tmp_path, source, data_root, "grader.session:grade",
                                        kill_at=1, deadline=400)
    graded = {r[0]: (r[2], r[3], r[4]) for r in rows}
    full = graded["a_right"][2]
    assert graded["a_right"] == graded["c_right"] == ("graded", full, full), graded
    assert graded["b_wrong"][0] == "graded" and 0 < graded["b_wrong"][1] < full, graded


def test_cli_quiet_prints_one_json_line(tmp_path: Path, data_root: Path, own_code_sandbox: list[str]) -> None:
    from click.testing import CliRunner

    from grader.cli import ExitCode, cli

    source = tmp_path / "in"
    source.mkdir()
    (source / "broken.zip").write_bytes(b"PK\x03\x04nope")
    (source / "stray.txt").write_text("?")
    args = ["bulk", str(source), "--out", str(tmp_path / "out"), "--quiet", "--data-root", str(data_root),
            "--work-dir", str(tmp_path / "work"), *own_code_sandbox]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout.strip())
    assert (summary["total"], summary["graded"], summary["statuses"]) == (2, 2, {"unreadable": 2})
    assert Path(summary["index"]).is_file() and Path(summary["gradebook"]).is_file()
    again = json.loads(CliRunner().invoke(cli, args).stdout.strip())
    assert (again["graded"], again["skipped"]) == (0, 2)


def test_cli_rejects_a_file_that_is_not_a_class(tmp_path: Path, data_root: Path) -> None:
    from click.testing import CliRunner

    from grader.cli import ExitCode, cli

    (tmp_path / "one.ipynb").write_text("{}")
    result = CliRunner().invoke(cli, ["bulk", str(tmp_path / "one.ipynb"), "--out", str(tmp_path / "out"),
                                      "--data-root", str(data_root), "--work-dir", str(tmp_path / "work")])
    assert result.exit_code == ExitCode.USAGE
    assert "give a folder of submissions or a zip" in result.output


def test_cli_table_and_gradebook_option(tmp_path: Path, data_root: Path, own_code_sandbox: list[str]) -> None:
    from click.testing import CliRunner

    from grader.cli import ExitCode, cli

    source = tmp_path / "in"
    source.mkdir()
    (source / "broken.zip").write_bytes(b"PK\x03\x04nope")
    book = tmp_path / "elsewhere" / "class.sqlite"
    result = CliRunner().invoke(cli, ["bulk", str(source), "--out", str(tmp_path / "out"), "--gradebook", str(book),
                                      "--lang", "ko", "--data-root", str(data_root),
                                      "--work-dir", str(tmp_path / "work"), *own_code_sandbox])
    assert result.exit_code == ExitCode.OK, result.output
    assert "채점 요약" in result.output and "읽을 수 없음" in result.output  # the summary table, in Korean
    assert book.is_file() and not (tmp_path / "out" / "gradebook.sqlite").exists()
    exported = CliRunner().invoke(cli, ["export", str(tmp_path / "out"), "--gradebook", str(book), "--format", "csv"])
    assert exported.exit_code == ExitCode.OK, exported.output
    assert "broken" in (tmp_path / "out" / "export" / "grades.csv").read_text(encoding="utf-8")


def test_one_coordinator_per_gradebook(tmp_path: Path, make_config) -> None:
    import fcntl

    from grader.errors import GraderError

    config = make_config(work_dir=tmp_path / "work")
    source = make_class(tmp_path / "in", 1)
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / "gradebook.sqlite.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running coordinator holds it
        with pytest.raises(GraderError, match="another grader command"):
            grade_class(source, config, options(tmp_path / "out", reports=False))
    assert grade_class(source, config, options(tmp_path / "out", reports=False)).graded == 1


def test_files_that_are_not_notebooks_are_reported_to_the_student(tmp_path: Path, make_config) -> None:
    config = make_config(work_dir=tmp_path / "work")
    source = make_class(tmp_path / "in", 1)
    (source / "s000" / "answers.py").write_text("print('hi')")
    grade_class(source, config, options(tmp_path / "out", reports=False))
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        [row] = book.rows()
    [problem] = row.result.problems
    assert "answers.py" in problem.en and "answers.py" in problem.ko and "not notebooks" in problem.en
    assert row.result.meta["layout"] == "folder"
