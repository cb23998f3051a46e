"""Through the real CLI and real kernels: every solution earns full marks, every stub earns 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, cli
from grader.course.manifest import load_course
from grader.results import CheckStatus, SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = [e.id for e in load_course(ROOT / "exercises").exercises]

pytestmark = pytest.mark.slow


@pytest.fixture
def options(data_root: Path, session_dir: Path, own_code_sandbox: list[str]) -> list[str]:
    return ["--data-root", str(data_root), "--work-dir", str(session_dir / "work"), "--lang", "en", *own_code_sandbox]


@pytest.mark.parametrize("exercise_id", EXERCISES, ids=EXERCISES)
def test_solution_earns_full_marks(options, exercise_id, course, tmp_path) -> None:
    out = tmp_path / "out"
    notebook = course.exercise(exercise_id).solution
    outcome = CliRunner().invoke(cli, ["grade", str(notebook), "--out", str(out), *options])
    assert outcome.exit_code == ExitCode.OK, outcome.output
    result = SubmissionResult.from_dict(json.loads((out / "results.json").read_text(encoding="utf-8")))
    assert result.hidden_checks
    assert result.max_score == course.exercise(exercise_id).points
    failing = {c.id: c.message.en if c.message else "" for c in result.checks
               if c.counts and c.status is not CheckStatus.PASSED}
    assert not failing
    assert result.score == result.max_score
    assert any(c.hidden for c in result.checks)
    assert (out / "report.html").is_file()


@pytest.mark.parametrize("exercise_id", EXERCISES, ids=EXERCISES)
def test_stub_earns_zero(options, exercise_id, course) -> None:
    notebook = course.root / course.exercise(exercise_id).notebook
    outcome = CliRunner().invoke(cli, ["check", str(notebook), *options])
    assert outcome.exit_code == ExitCode.CHECKS_FAILED, outcome.output
    assert "total: 0 / " in outcome.output
    assert "passed" not in outcome.output.split("total:")[0].lower().replace("every check passed", "")


def test_invalid_notebook_is_a_status_and_the_grader_exits_normally(options, course, tmp_path) -> None:
    submission = tmp_path / "student"
    submission.mkdir()
    (submission / "02_dataset.ipynb").write_text("{ this is not json", encoding="utf-8")
    out = tmp_path / "out"
    outcome = CliRunner().invoke(cli, ["grade", str(submission), "--out", str(out), *options])
    assert outcome.exit_code == ExitCode.OK, outcome.output
    result = json.loads((out / "results.json").read_text(encoding="utf-8"))
    by_id = {e["exercise_id"]: e for e in result["exercises"]}
    assert by_id["02_dataset"]["status"] == "invalid"
    assert "not valid JSON" in by_id["02_dataset"]["problems"][0]["en"]
    assert all(e["status"] == "missing" for k, e in by_id.items() if k != "02_dataset")
    assert result["score"] == 0


def test_check_in_korean(course, data_root, session_dir) -> None:
    notebook = course.root / course.exercise("02_dataset").notebook
    outcome = CliRunner().invoke(cli, ["check", str(notebook), "--data-root", str(data_root),
                                       "--work-dir", str(session_dir / "work"), "--lang", "ko"])
    assert outcome.exit_code == ExitCode.CHECKS_FAILED
    assert "실패" in outcome.output and "합계: 0 / " in outcome.output and "셀 5" in outcome.output


def test_missing_file_is_one_clear_line(tmp_path) -> None:
    outcome = CliRunner().invoke(cli, ["check", str(tmp_path / "nope.ipynb")])
    assert outcome.exit_code == ExitCode.USAGE
    assert "does not exist" in outcome.output


def test_not_a_notebook_is_bad_input(options, tmp_path) -> None:
    path = tmp_path / "homework.txt"
    path.write_text("hello", encoding="utf-8")
    outcome = CliRunner().invoke(cli, ["check", str(path), *options])
    assert outcome.exit_code == ExitCode.BAD_INPUT
    assert "homework.txt" in outcome.output and "not a notebook" in outcome.output


@pytest.mark.parametrize("cell,status", [
    ("import os\nos._exit(0)", "kernel_died"),
    ("import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass", "timeout"),
], ids=["os-exit", "endless-loop"])
def test_a_hostile_cell_is_a_status_and_the_grader_exits_normally(options, cell, status,
                                                                   tmp_path) -> None:
    from .notebooks import with_cell, write

    path = write(with_cell(cell, after=2), tmp_path / "student")
    out = tmp_path / "out"
    outcome = CliRunner().invoke(cli, ["grade", str(path), "--out", str(out), "--cell-timeout", "3",
                                       *options])
    assert outcome.exit_code == ExitCode.OK, outcome.output
    (exercise,) = json.loads((out / "results.json").read_text(encoding="utf-8"))["exercises"]
    assert exercise["status"] == status
    assert exercise["cell_errors"][-1]["index"] == 3 and exercise["score"] == 0


def test_the_installed_command_keeps_its_exit_codes_and_output(options, course, data_root, tmp_path) -> None:
    # The real `grader` process, not CliRunner: main() leaves through its own exit path.
    import os
    import subprocess
    import sys

    grader = [str(Path(sys.executable).parent / "grader")]
    env = {**os.environ, course.data_env: str(data_root)}
    stub = course.root / course.exercise("02_dataset").notebook
    failed = subprocess.run([*grader, "check", str(stub), *options],
                            capture_output=True, text=True, env=env, timeout=600)
    assert failed.returncode == ExitCode.CHECKS_FAILED, failed.stderr
    assert "total: 0 / " in failed.stdout  # the whole table came out before the exit
    text = tmp_path / "homework.txt"
    text.write_text("hello", encoding="utf-8")
    bad = subprocess.run([*grader, "check", str(text), *options],
                         capture_output=True, text=True, env=env, timeout=600)
    assert bad.returncode == ExitCode.BAD_INPUT and "not a notebook" in bad.stderr
    usage = subprocess.run([*grader, "check", str(tmp_path / "nope.ipynb")], capture_output=True, text=True,
                           env=env, timeout=600)
    assert usage.returncode == ExitCode.USAGE and "does not exist" in usage.stderr
