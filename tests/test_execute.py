"""Executing notebooks in real kernels: failures of the student's code become statuses."""

from __future__ import annotations

import sys

import pytest

from grader.config import Limits
from grader.grade import grade_submission
from grader.results import CheckStatus, ExerciseStatus

from .notebooks import of_cells, with_cell, write

pytestmark = pytest.mark.slow


def grade_one(notebook, tmp_path, make_config, **limits):
    config = make_config(limits=Limits(**{"cell_timeout": 30, "notebook_timeout": 120, **limits}))
    return grade_submission(write(notebook, tmp_path), config).exercises[0]


def test_kernel_runs_the_graders_interpreter(tmp_path, make_config) -> None:
    notebook = with_cell("import sys\nraise RuntimeError('EXE=' + sys.executable)")
    result = grade_one(notebook, tmp_path, make_config)
    (error,) = result.cell_errors
    assert error.evalue == f"EXE={sys.executable}"


def test_a_failing_cell_is_reported_and_later_cells_still_run(tmp_path, make_config) -> None:
    notebook = with_cell("1 / 0", after=2)  # right after the setup cell
    result = grade_one(notebook, tmp_path, make_config)
    assert result.status is ExerciseStatus.GRADED
    (error,) = result.cell_errors
    assert (error.index, error.ename, error.kind) == (3, "ZeroDivisionError", "error")
    assert "1 / 0" in error.source and "ZeroDivisionError" in error.traceback
    assert "\x1b[" not in error.traceback  # colours stripped
    assert result.score == result.max_score  # the definitions after it ran


def test_an_endless_cell_times_out_and_the_rest_still_runs(tmp_path, make_config) -> None:
    notebook = with_cell("while True:\n    pass", after=2)
    result = grade_one(notebook, tmp_path, make_config, cell_timeout=3)
    assert result.status is ExerciseStatus.GRADED
    assert [(e.index, e.kind) for e in result.cell_errors] == [(3, "timeout")]
    assert result.score == result.max_score


def test_a_cell_that_ignores_interrupts_ends_the_notebook(tmp_path, make_config) -> None:
    source = "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    result = grade_one(with_cell(source, after=2), tmp_path, make_config, cell_timeout=2)
    assert result.status is ExerciseStatus.TIMEOUT
    assert result.cell_errors[0].kind == "timeout"
    assert result.score == 0
    assert {c.status for c in result.checks} == {CheckStatus.NOT_RUN}


def test_the_notebook_budget_stops_the_remaining_cells(tmp_path, make_config) -> None:
    notebook = with_cell("import time\ntime.sleep(4)", after=2)
    result = grade_one(notebook, tmp_path, make_config, cell_timeout=30, notebook_timeout=3)
    assert result.status is ExerciseStatus.TIMEOUT
    kinds = [(e.kind, e.ename) for e in result.cell_errors]
    assert ("timeout", "CellTimeout") in kinds or ("timeout", "NotebookTimeout") in kinds


def test_os_exit_in_a_cell_is_a_dead_kernel_not_a_crash(tmp_path, make_config) -> None:
    result = grade_one(with_cell("import os\nos._exit(0)", after=2), tmp_path, make_config)
    assert result.status is ExerciseStatus.KERNEL_DIED
    assert result.cell_errors[-1].kind == "kernel_died" and result.cell_errors[-1].index == 3
    assert result.score == 0
    assert all(c.status is CheckStatus.NOT_RUN for c in result.checks)


def test_output_is_capped(tmp_path, make_config) -> None:
    notebook = with_cell("for i in range(20000):\n    print('x' * 100)", after=2)
    config = make_config(limits=Limits(output_bytes=50_000))
    from grader.execute import running_notebook

    with running_notebook(notebook, config) as (execution, _):
        kept = sum(len(str(o)) for c in execution.notebook.cells for o in c.get("outputs", []))
    assert execution.output_truncated
    assert kept < 200_000
    assert any("output" in p.en for p in execution.problems)


# ----------------------------------------------------------------------------- kernels started ahead

def _secret(ns):
    return ns.get("secret")


@pytest.fixture
def starts(monkeypatch):
    """Every kernel started, in order (the real start, counted)."""
    from grader import execute

    started: list = []

    def counting(config):
        kernel = real(config)
        started.append(kernel)
        return kernel

    real = execute._start_kernel
    monkeypatch.setattr(execute, "_start_kernel", counting)
    yield started
    execute.stop_background_kernels()


def test_the_next_notebooks_kernel_is_started_ahead_and_shares_nothing(make_config, starts) -> None:
    import threading

    from grader import execute

    config = make_config()
    with execute.running_notebook(of_cells("secret = 'first student'"), config, another_follows=True) as (_, first):
        assert execute._ahead.result() is starts[1]  # the next one's, once these cells were done
        assert first.run(_secret) == "first student"
    with execute.running_notebook(of_cells("x = 1"), config) as (execution, second):
        assert len(starts) == 2  # no new start: the kernel started ahead serves this notebook
        assert starts[1].connected is not None and not starts[1].connected.sockets  # on the sockets connected ahead
        assert not [t for t in threading.enumerate() if type(t).__name__ == "HBChannel"]  # no heartbeat thread
        secret = second.run(_secret)
    # Another process (its pid seen from here: in a pid namespace of its own, each kernel is pid 1).
    assert execution.status is ExerciseStatus.GRADED and secret is None
    assert starts[0].km.provisioner.pid != starts[1].km.provisioner.pid
    assert execute._ahead is None  # nothing follows: nothing left running


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSTOP"])
def test_a_kernel_started_ahead_survives_what_the_previous_notebook_did_to_it(make_config, starts,
                                                                          signal_name: str) -> None:
    import signal

    from grader import execute

    config = make_config()
    with execute.running_notebook(of_cells("x = 1"), config, another_follows=True):
        execute._ahead.result().km.provisioner.process.send_signal(getattr(signal, signal_name))
    with execute.running_notebook(of_cells("y = 2"), config) as (execution, backend):
        assert backend.run(_y) == 2
    assert execution.status is ExerciseStatus.GRADED and not execution.cell_errors
    # Killed: replaced by a new one. Stopped: resumed and used.
    assert len(starts) == (3 if signal_name == "SIGKILL" else 2)


def _y(ns):
    return ns["y"]


def test_a_kernel_started_ahead_is_connected_even_when_stopped_meanwhile(make_config) -> None:
    import signal

    from grader import execute

    kernel = execute._start_kernel(make_config())
    try:
        kernel.km.provisioner.process.send_signal(signal.SIGSTOP)  # what the notebook beside it may do
        kernel.connected = execute._connect_ahead(kernel)  # resumed, and answered
        assert kernel.connected is not None and set(kernel.connected.sockets) == {"shell", "iopub"}
    finally:
        kernel.stop()
    assert kernel.connected.context.closed  # its sockets go with the kernel


def test_a_kernel_connected_ahead_beats_only_while_it_runs(make_config) -> None:
    import signal

    from grader import execute

    kernel = execute._start_kernel(make_config())
    try:
        kernel.connected = execute._connect_ahead(kernel)
        assert kernel.connected.beats(execute.HEARTBEAT_S)
        kernel.km.provisioner.process.send_signal(signal.SIGSTOP)  # stopped after its last proof
        assert not kernel.connected.beats(0.3)  # so its notebook does not take it
    finally:
        kernel.km.provisioner.process.send_signal(signal.SIGCONT)
        kernel.stop()


def test_a_kernel_gone_before_it_answered_is_not_connected_ahead(make_config) -> None:
    import signal
    import time

    from grader import execute

    kernel = execute._start_kernel(make_config())
    kernel.km.provisioner.process.send_signal(signal.SIGKILL)  # what the notebook beside it may do
    try:
        started = time.monotonic()
        assert execute._connect_ahead(kernel) is None
        assert time.monotonic() - started < execute.CONNECT_AHEAD_S  # seen gone, not waited for
    finally:
        kernel.stop()


def test_a_kernel_another_notebook_follows_is_stopped_in_the_background(make_config, starts) -> None:
    from jupyter_core.utils import run_sync

    from grader import execute

    config = make_config()
    with execute.running_notebook(of_cells("x = 1"), config, another_follows=True):
        pass
    first, stopping = starts[0], execute._stopping
    assert stopping is not None  # handed to the background thread, not waited for
    with execute.running_notebook(of_cells("y = 2"), config) as (execution, backend):
        assert backend.run(_y) == 2
    # Nothing follows the second: it is stopped at once, and every stop handed over is waited for.
    assert stopping.done() and execute._stopping is None
    assert not run_sync(first.km.is_alive)() and not first.runtime.exists()
    assert not run_sync(starts[1].km.is_alive)() and not starts[1].runtime.exists()


def test_a_folder_starts_kernels_ahead_only_while_notebooks_remain(course, make_config, starts,
                                                                  tmp_path) -> None:
    import shutil

    from grader import execute

    folder = tmp_path / "submission"
    folder.mkdir()
    for exercise_id in ("01_tensors", "02_dataset"):
        shutil.copy(course.exercise(exercise_id).solution, folder / f"{exercise_id}.ipynb")
    result = grade_submission(folder, make_config(), exercises=["01_tensors", "02_dataset", "03_transforms"])
    assert result.score == sum(e.max_score for e in result.exercises[:2])
    assert len(starts) == 2 and execute._ahead is None  # 03 is missing: no kernel started for it
