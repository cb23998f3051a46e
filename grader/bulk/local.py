"""The local back end: worker processes on this machine, each grading one submission at a time
in a grading session of its own, for its whole life.

Workers are started with the ``forkserver`` context (never a plain fork of a process that may
hold threads), import torch once, and send back each result's dict (or the traceback of a
grader failure) over their own pipe. A worker that dies, or overruns its budget, is replaced;
its submission becomes an error row.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections import deque
from collections.abc import Iterable, Sized
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from grader.bulk.backend import Backend, Outcome, load_unit
from grader.config import GradeConfig
from grader.intake.submissions import Entry

__all__ = ["DEFAULT_UNIT", "LocalBackend", "Reply"]

DEFAULT_UNIT = "grader.session:grade"
_POLL_S = 0.1  # how often a worker with nothing to do asks a source that had nothing for it
_END = object()


@dataclass(frozen=True)
class Reply:
    """What a worker sends back for one submission: its result's dict, or the grader's failure."""

    result: dict[str, Any] | None
    error: str | None
    rss_kb: int  # the worker's peak resident memory so far (kernels are other processes)


def _peak_rss_kb() -> int:
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
    """A worker's life: a grading session; receive (student id, path), grade, send the reply."""
    # nbclient can leave a poll task behind after a cell timeout; asyncio's report of it at
    # garbage collection is noise on the instructor's terminal, not a grading problem.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    # SIGTERM (from the coordinator, or the parent-death signal below) unwinds the grading in
    # progress, so that the session closes and its kernels are shut down, not left as orphans.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    _die_with_parent()
    # Kernels inherit the worker's stdout/stderr and print banners and warnings there; they
    # belong in a log file, not across the instructor's progress bar.
    config.work_dir.mkdir(parents=True, exist_ok=True)
    log = os.open(config.work_dir / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    from grader.session import GradingSession

    grade = load_unit(unit)
    # The tests' stand-in units start no kernels: no checks to collect ahead for them.
    with GradingSession(config, expect_more=True, warm_checks=unit == DEFAULT_UNIT) as session:
        _serve(conn, session, grade)


def _serve(conn: Connection, session: Any, grade: Any) -> None:
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the coordinator is gone: so are we
            return
        if task is None:
            return
        student_id, path = task
        try:
            reply = Reply(grade(session, Path(path), submission_id=student_id).to_dict(), None, _peak_rss_kb())
        except Exception:  # noqa: BLE001 - one broken submission must not end the worker
            reply = Reply(None, traceback.format_exc(limit=8)[-4000:], _peak_rss_kb())
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Slot:
    index: int
    process: Any = None
    conn: Connection | None = None
    entry: Entry | None = None
    started: float = 0.0


class LocalBackend(Backend):
    """Worker processes here, each with its own pipe; restarted one by one when one dies.

    Made, it checks that a cage can hold a student's kernel here (it raises
    :class:`~grader.errors.SandboxError` otherwise); the workers start when there is work.
    """

    name = "local"

    def __init__(self, config: GradeConfig, *, unit: str, workers: int, budget: float, work: Path) -> None:
        from grader.kernel.sandbox import plan

        plan(config)  # no cage here: stop before any student becomes an error row
        self._context = multiprocessing.get_context("forkserver")
        self._config, self._unit, self._work = config, unit, work
        self._size, self.budget = workers, budget
        self.slots: list[_Slot] = []

    def _start(self, slot: _Slot) -> None:
        # Each worker has its own scratch; the run's folder (the class's unpacked zips) stays hidden.
        config = dataclasses.replace(self._config, work_dir=self._work / f"worker-{slot.index}",
                                     protected_paths=(*self._config.protected_paths, self._work))
        parent, child = self._context.Pipe()
        slot.process = self._context.Process(target=_worker, args=(child, config, self._unit), daemon=True,
                                             name=f"grader-worker-{slot.index}")
        slot.process.start()
        child.close()
        slot.conn, slot.entry = parent, None

    def _restart(self, slot: _Slot) -> None:
        self._stop(slot, kill=True)
        self._start(slot)

    def _stop(self, slot: _Slot, *, kill: bool) -> None:
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

    def grade(self, entries: Iterable[Entry | None], outcome: Outcome) -> None:
        """Grade what ``entries`` yields, handing each to the next free worker; a ``None`` means
        nothing right now (a queue that fills while it is graded: the course service), and the
        run ends when ``entries`` does and every worker is done."""
        known = len(entries) if isinstance(entries, Sized) else None
        source, waiting, ended = iter(entries), deque[Entry](), False
        self.workers = max(1, min(self._size or os.cpu_count() or 1, known if known is not None else self._size or 1))
        self.slots = [_Slot(i) for i in range(self.workers)]
        for slot in self.slots:
            self._start(slot)
        while not ended or waiting or any(s.entry for s in self.slots):
            for slot in self.slots:
                if slot.entry is not None:
                    continue
                if not waiting and not ended:
                    taken = next(source, _END)
                    if taken is _END:
                        ended = True
                    elif isinstance(taken, Entry):
                        waiting.append(taken)
                if not waiting:
                    break
                entry = waiting.popleft()
                try:
                    assert slot.conn is not None
                    slot.conn.send((entry.student_id, str(entry.path)))
                    slot.entry, slot.started = entry, time.monotonic()
                except OSError:  # the idle worker died: give the task back and replace it
                    waiting.appendleft(entry)
                    self._restart(slot)
            busy = [s for s in self.slots if s.entry is not None]
            idle = len(busy) < len(self.slots) and not ended
            wait([s.conn for s in busy if s.conn is not None] + [s.process.sentinel for s in busy],
                 timeout=_POLL_S if idle else 1.0)
            for slot in busy:
                self._collect(slot, outcome)

    def _collect(self, slot: _Slot, outcome: Outcome) -> None:
        entry = slot.entry
        assert entry is not None and slot.conn is not None
        reply: Reply | None = None
        try:
            if slot.conn.poll():
                reply = slot.conn.recv()
        except (EOFError, OSError):
            reply = None
        if reply is not None:
            slot.entry = None
            self.peak_rss_kb = max(self.peak_rss_kb, reply.rss_kb)
            if reply.result is not None:
                outcome(entry, reply.result, None)
            else:
                outcome(entry, None, f"the grader failed on this submission:\n{reply.error}")
            return
        if not slot.process.is_alive():
            code = slot.process.exitcode
            slot.entry = None
            self._restart(slot)
            outcome(entry, None, f"the grading worker died (exit code {code}) on this submission")
        elif time.monotonic() - slot.started > self.budget:
            slot.entry = None
            self._restart(slot)
            outcome(entry, None, f"grading this submission took longer than {self.budget:g} s; it was stopped")

    def close(self) -> None:
        for slot in self.slots:
            self._stop(slot, kill=slot.entry is not None)
        self.slots = []
