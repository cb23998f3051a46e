"""The worker processes of a bulk run: each grades one submission at a time, for its whole life.

Workers are started with the ``forkserver`` context (never a plain fork of a process that may
hold threads), import torch once, and send back each result's dict (or the traceback of a
grader failure) over their own pipe. The pool restarts a worker that died or overran.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import multiprocessing
import os
import resource
import signal
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from .archives import Entry
from .config import GradeConfig
from .results import SubmissionResult

__all__ = ["Pool", "Slot", "load_unit"]


def load_unit(spec: str) -> Callable[..., SubmissionResult]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _peak_rss_kb() -> int:
    """This worker's peak resident memory (kernels are other processes, not counted)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when its parent (the forkserver, which exits with the
    coordinator) dies, so a coordinator killed with ``kill -9`` leaves no worker grading on."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere a worker notices the coordinator is gone at its next message


def _worker(conn: Connection, config: GradeConfig, unit: str) -> None:
    """A worker's life: receive (student id, path), grade, send the result's dict back."""
    # nbclient can leave a poll task behind after a cell timeout; asyncio's report of it at
    # garbage collection is noise on the instructor's terminal, not a grading problem.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    # SIGTERM (from the coordinator, or the parent-death signal below) unwinds the grading in
    # progress so that its kernel is shut down, instead of leaving it running as an orphan.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    _die_with_parent()
    # Kernels inherit the worker's stdout/stderr and print banners and warnings there; they
    # belong in a log file, not across the instructor's progress bar.
    config.work_dir.mkdir(parents=True, exist_ok=True)
    log = os.open(config.work_dir / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    grade = load_unit(unit)
    from .execute import finish_kernels
    from .grade import grade_submission
    from .warmup import warm_worker

    if grade is grade_submission:  # not for the tests' stand-in units, which start no kernels
        warm_worker(config)
    try:
        _serve(conn, config, grade)
    finally:
        # A worker process leaves without the exit handlers (multiprocessing): the kernel started
        # ahead for a submission that never came, and the last one's stop, are seen to here.
        finish_kernels()


def _serve(conn: Connection, config: GradeConfig, grade: Any) -> None:
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the coordinator is gone: so are we
            return
        if task is None:
            return
        student_id, path = task
        try:
            result = grade(Path(path), config, submission_id=student_id, more_follow=True)
            message: tuple[str, Any, int] = ("ok", result.to_dict(), _peak_rss_kb())
        except Exception:  # noqa: BLE001 - one broken submission must not end the worker
            message = ("error", traceback.format_exc(limit=8)[-4000:], _peak_rss_kb())
        try:
            conn.send(message)
        except (BrokenPipeError, OSError):
            return


@dataclass
class Slot:
    index: int
    process: Any = None
    conn: Connection | None = None
    entry: Entry | None = None
    started: float = 0.0


class Pool:
    """Worker processes, each with its own pipe; restarted one by one when one dies."""

    def __init__(self, size: int, config: GradeConfig, unit: str, work: Path) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._config = config
        self._unit = unit
        self._work = work
        self.slots = [Slot(i) for i in range(size)]
        self.peak_rss_kb = 0  # the largest peak resident memory any worker reported
        for slot in self.slots:
            self._start(slot)

    def _start(self, slot: Slot) -> None:
        # Each worker has its own scratch; the run's folder (the class's unpacked zips) stays hidden.
        config = dataclasses.replace(self._config, work_dir=self._work / f"worker-{slot.index}",
                                     protected_paths=(*self._config.protected_paths, self._work))
        parent, child = self._context.Pipe()
        slot.process = self._context.Process(target=_worker, args=(child, config, self._unit), daemon=True,
                                             name=f"grader-worker-{slot.index}")
        slot.process.start()
        child.close()
        slot.conn, slot.entry = parent, None

    def restart(self, slot: Slot) -> None:
        self._stop(slot, kill=True)
        self._start(slot)

    def _stop(self, slot: Slot, *, kill: bool) -> None:
        if slot.conn is not None:
            if not kill:
                try:
                    slot.conn.send(None)
                except OSError:
                    pass
            slot.conn.close()
        if slot.process is not None:
            if kill:
                slot.process.terminate()
            slot.process.join(10)  # time for the worker to shut its kernel down
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)

    def close(self) -> None:
        for slot in self.slots:
            self._stop(slot, kill=slot.entry is not None)
