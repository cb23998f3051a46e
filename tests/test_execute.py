"""Executing notebooks in real kernels: failures of the student's code become statuses."""

from __future__ import annotations

import sys

import pytest

from grader.config import Limits
from grader.kernel.pool import CONNECT_AHEAD_S, HEARTBEAT_S, KernelPool
from grader.results import CheckStatus, ExerciseStatus

from .notebooks import of_cells, with_cell, write

pytestmark = pytest.mark.slow


@pytest.fixture
def grade_one(tmp_path, make_config, grade):
    def grade_notebook(notebook, **limits):
        config = make_config(limits=Limits(**{"cell_timeout": 30, "notebook_timeout": 120, **limits}))
        return grade(write(notebook, tmp_path), config).exercises[0]

    return grade_notebook


@pytest.fixture
def pool(make_config, kernel_host):
    """``pool(config=None)``: a kernel pool on the run's host (the default config if none), closed after the test."""
    made: list[KernelPool] = []

    def make(config=None) -> KernelPool:
        made.append(KernelPool(config or make_config(), kernel_host))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_kernel_runs_the_graders_interpreter(grade_one) -> None:
    notebook = with_cell("import sys\nraise RuntimeError('EXE=' + sys.executable)")
    result = grade_one(notebook)
    (error,) = result.cell_errors
    assert error.evalue == f"EXE={sys.executable}"


def test_a_failing_cell_is_reported_and_later_cells_still_run(grade_one) -> None:
    notebook = with_cell("1 / 0", after=2)  # right after the setup cell
    result = grade_one(notebook)
    assert result.status is ExerciseStatus.GRADED
    (error,) = result.cell_errors
    assert (error.index, error.ename, error.kind) == (3, "ZeroDivisionError", "error")
    assert "1 / 0" in error.source and "ZeroDivisionError" in error.traceback
    assert "\x1b[" not in error.traceback  # colours stripped
    assert result.score == result.max_score  # the definitions after it ran


def test_an_endless_cell_times_out_and_the_rest_still_runs(grade_one) -> None:
    notebook = with_cell("while True:\n    pass", after=2)
    result = grade_one(notebook, cell_timeout=3)
    assert result.status is ExerciseStatus.GRADED
    assert [(e.index, e.kind) for e in result.cell_errors] == [(3, "timeout")]
    assert result.score == result.max_score


def test_a_cell_that_ignores_interrupts_ends_the_notebook(grade_one) -> None:
    source = "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    result = grade_one(with_cell(source, after=2), cell_timeout=2)
    assert result.status is ExerciseStatus.TIMEOUT
    assert result.cell_errors[0].kind == "timeout"
    assert result.score == 0
    assert {c.status for c in result.checks} == {CheckStatus.NOT_RUN}


def test_the_notebook_budget_stops_the_remaining_cells(grade_one) -> None:
    notebook = with_cell("import time\ntime.sleep(4)", after=2)
    result = grade_one(notebook, cell_timeout=30, notebook_timeout=3)
    assert result.status is ExerciseStatus.TIMEOUT
    kinds = [(e.kind, e.ename) for e in result.cell_errors]
    assert ("timeout", "CellTimeout") in kinds or ("timeout", "NotebookTimeout") in kinds


def test_os_exit_in_a_cell_is_a_dead_kernel_not_a_crash(grade_one) -> None:
    result = grade_one(with_cell("import os\nos._exit(0)", after=2))
    assert result.status is ExerciseStatus.KERNEL_DIED
    assert result.cell_errors[-1].kind == "kernel_died" and result.cell_errors[-1].index == 3
    assert result.score == 0
    assert all(c.status is CheckStatus.NOT_RUN for c in result.checks)


def test_output_is_capped(make_config, pool) -> None:
    notebook = with_cell("for i in range(20000):\n    print('x' * 100)", after=2)
    with pool(make_config(limits=Limits(output_bytes=50_000))).running(notebook) as (execution, _):
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
    started: list = []
    real = KernelPool.start

    def counting(self):
        kernel = real(self)
        started.append(kernel)
        return kernel

    monkeypatch.setattr(KernelPool, "start", counting)
    return started


def test_the_next_notebooks_kernel_is_started_ahead_and_shares_nothing(pool, starts) -> None:
    import threading

    kernels = pool()
    with kernels.running(of_cells("secret = 'first student'"), another_follows=True) as (_, first):
        assert kernels.ahead.result() is starts[1]  # the next one's, once these cells were done
        assert first.run(_secret) == "first student"
    with kernels.running(of_cells("x = 1")) as (execution, second):
        assert len(starts) == 2  # no new start: the kernel started ahead serves this notebook
        assert starts[1].connected is not None and not starts[1].connected.sockets  # on the sockets connected ahead
        assert not [t for t in threading.enumerate() if type(t).__name__ == "HBChannel"]  # no heartbeat thread
        secret = second.run(_secret)
    # Another process (its pid seen from here: in a pid namespace of its own, each kernel is pid 1).
    assert execution.status is ExerciseStatus.GRADED and secret is None
    assert starts[0].km.provisioner.pid != starts[1].km.provisioner.pid
    assert kernels.ahead is None  # nothing follows: nothing left running


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSTOP"])
def test_a_kernel_started_ahead_survives_what_the_previous_notebook_did_to_it(pool, starts, signal_name: str) -> None:
    import signal

    kernels = pool()
    with kernels.running(of_cells("x = 1"), another_follows=True):
        kernels.ahead.result().km.provisioner.process.send_signal(getattr(signal, signal_name))
    with kernels.running(of_cells("y = 2")) as (execution, backend):
        assert backend.run(_y) == 2
    assert execution.status is ExerciseStatus.GRADED and not execution.cell_errors
    # Killed: replaced by a new one. Stopped: resumed and used.
    assert len(starts) == (3 if signal_name == "SIGKILL" else 2)


def _y(ns):
    return ns["y"]


def test_a_kernel_started_ahead_is_connected_even_when_stopped_meanwhile(pool) -> None:
    import signal

    kernel = pool().start()
    try:
        kernel.km.provisioner.process.send_signal(signal.SIGSTOP)  # what the notebook beside it may do
        kernel.connected = KernelPool.connect_ahead(kernel)  # resumed, and answered
        assert kernel.connected is not None and set(kernel.connected.sockets) == {"shell", "iopub"}
    finally:
        kernel.stop()
    assert kernel.connected.context.closed  # its sockets go with the kernel


def test_a_kernel_connected_ahead_beats_only_while_it_runs(pool) -> None:
    import signal

    kernel = pool().start()
    try:
        kernel.connected = KernelPool.connect_ahead(kernel)
        assert kernel.connected.beats(HEARTBEAT_S)
        kernel.km.provisioner.process.send_signal(signal.SIGSTOP)  # stopped after its last proof
        _wait_until_stopped(kernel.km.provisioner.process.pid)  # a stop takes effect a moment after it is sent
        assert not kernel.connected.beats(0.3)  # so its notebook does not take it
    finally:
        kernel.km.provisioner.process.send_signal(signal.SIGCONT)
        kernel.stop()


def _wait_until_stopped(pid: int, seconds: float = 5.0) -> None:
    import time
    from pathlib import Path

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        if any(line.startswith("State:") and line.split()[1] == "T" for line in status.splitlines()):
            return
        time.sleep(0.01)
    raise AssertionError(f"kernel {pid} did not stop")


def test_a_kernel_gone_before_it_answered_is_not_connected_ahead(pool) -> None:
    import signal
    import time

    kernel = pool().start()
    kernel.km.provisioner.process.send_signal(signal.SIGKILL)  # what the notebook beside it may do
    try:
        started = time.monotonic()
        assert KernelPool.connect_ahead(kernel) is None
        assert time.monotonic() - started < CONNECT_AHEAD_S  # seen gone, not waited for
    finally:
        kernel.stop()


def test_a_kernel_another_notebook_follows_is_stopped_in_the_background(pool, starts) -> None:
    from jupyter_core.utils import run_sync

    kernels = pool()
    with kernels.running(of_cells("x = 1"), another_follows=True):
        pass
    first, stopping = starts[0], kernels._stopping
    assert stopping is not None  # handed to the background thread, not waited for
    with kernels.running(of_cells("y = 2")) as (execution, backend):
        assert backend.run(_y) == 2
    # Nothing follows the second: it is stopped at once, and every stop handed over is waited for.
    assert stopping.done() and kernels._stopping is None
    assert not run_sync(first.km.is_alive)() and not first.runtime.exists()
    assert not run_sync(starts[1].km.is_alive)() and not starts[1].runtime.exists()


def test_a_folder_starts_kernels_ahead_only_while_notebooks_remain(course, make_config, grading, starts,
                                                                  tmp_path) -> None:
    import shutil

    folder = tmp_path / "submission"
    folder.mkdir()
    for exercise_id in ("01_tensors", "02_dataset"):
        shutil.copy(course.exercise(exercise_id).solution, folder / f"{exercise_id}.ipynb")
    with grading(make_config()) as session:
        result = session.grade(folder, exercises=["01_tensors", "02_dataset", "03_transforms"])
        assert session.kernels.ahead is None  # 03 is missing: no kernel started for it
    assert result.score == sum(e.max_score for e in result.exercises[:2])
    assert len(starts) == 2


def test_a_closed_session_leaves_no_kernel_zygote_or_folder_behind(course, make_config, tmp_path) -> None:
    from jupyter_core.utils import run_sync

    from grader.session import GradingSession

    with GradingSession(make_config(), expect_more=True) as session:  # its own host: closed with it
        result = session.grade(course.exercise("02_dataset").solution)
        ahead = session.kernels.ahead.result()  # started for a next submission that never comes
        host = session.host
        zygotes = list(host.fork_server.zygotes.values())
        folders = [host.premises.folders.checks_data, ahead.runtime]
    assert result.score == result.max_score > 0
    assert not run_sync(ahead.km.is_alive)() and zygotes and all(not z.alive() for z in zygotes)
    assert not any(folder.exists() for folder in folders)
