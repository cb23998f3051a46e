"""The coordinator's side of a Dask run: connect, check the workers, keep a window of tasks.

The coordinator is the only gradebook writer, as with the local pool: each answer is checked
(JSON, naming the hash of the bytes sent), handed to the same ``done`` callback that commits its
row, and its future released at once, so that a later worker death does not run it again. At
most one submission per live grading worker is in flight. A task whose worker died is run again elsewhere by
the scheduler; after ``distributed.scheduler.allowed-failures`` deaths it is an ``error`` row.
A task past its budget is cancelled, becomes an ``error`` row, and its worker is restarted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import dask
from distributed import Client, LocalCluster, wait

from grader import __version__
from grader.bulk.backend import Backend, Outcome
from grader.bulk.dask.payload import PayloadError, digest, pack, read_message, settings_of
from grader.bulk.dask.spec import ClusterError, ClusterSpec
from grader.bulk.dask.worker import NAME, GraderPlugin, grade_task, identity
from grader.config import GradeConfig
from grader.hashing import config_fingerprint
from grader.intake.extract import safe_name
from grader.intake.submissions import Entry

__all__ = ["DaskBackend", "DaskRun", "connect"]

_END = object()
POLL_S = 1.0  # how often the scheduler is asked which workers live and what runs (budgets)
ALLOWED_FAILURES = 2  # worker deaths a task may cause before it is an error row (1 can blame an innocent)


@contextmanager
def connect(spec: ClusterSpec, config: GradeConfig) -> Iterator[Client]:
    """A client that refuses pickles from workers, connected to the cluster (started for ``local:N``)."""
    # Dask's own profiler samples every worker thread: CPU the grading needs more.
    settings = {"distributed.worker.profile.enabled": False,
                "distributed.scheduler.allowed-failures": ALLOWED_FAILURES}
    with dask.config.set(settings):
        cluster = None
        try:
            if spec.local:
                # Dask's own scratch in the grader's work folder, not in the shared temporary folder.
                cluster = LocalCluster(n_workers=spec.local, threads_per_worker=1, processes=True,
                                       dashboard_address=None, resources={NAME: 1},
                                       local_directory=str(config.work_dir / "dask"))
                client = Client(cluster, deserializers=["msgpack"])
                plugin = GraderPlugin(str(config.course.root), data_root=str(config.data_root),
                                      work_dir=str(config.work_dir / "dask"), allow_uncaged=config.trusted_code,
                                      kernel=config.kernel, refuse_to_start=False)
                client.register_plugin(plugin, name=NAME)  # a setup that fails says why in check_workers
            elif spec.scheduler_file is not None:
                client = Client(scheduler_file=str(spec.scheduler_file), timeout=spec.timeout,
                                deserializers=["msgpack"])
            else:
                client = Client(spec.scheduler, timeout=spec.timeout, deserializers=["msgpack"])
        except (OSError, TimeoutError, ValueError) as error:
            if cluster is not None:
                cluster.close()
            raise ClusterError(f"cannot reach the Dask scheduler at {spec.describe()}: {error}") from None
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


@dataclass(frozen=True)
class _Packed:
    """A submission ready to ship: its files as zip bytes and their sha256."""

    entry: Entry
    payload: bytes
    sent: str
    single: str | None  # the notebook's name where the submission is one notebook, not a folder


def _pack(entry: Entry) -> _Packed:
    assert entry.path is not None
    payload = pack(entry.path)
    return _Packed(entry, payload, digest(payload), None if entry.path.is_dir() else entry.path.name)


@dataclass
class _Task:
    future: Any
    packed: _Packed
    started: float | None = None  # when the scheduler first reported it processing


@dataclass
class DaskRun:
    """One bulk run's tasks on a cluster; :meth:`run` grades ``entries`` and calls ``done`` per row."""

    client: Client
    config: GradeConfig
    unit: str
    budget: float
    lost_after: float = 30.0
    slots: list[str] = field(default_factory=list)  # the grading workers, once checked
    workers_seen: set[str] = field(default_factory=set)
    peak_rss_kb: int = 0
    live: int = 0  # grading workers alive at the last poll
    _polled: float = 0.0  # when the scheduler was last asked

    def check_workers(self) -> list[str]:
        """The grading workers, after checking each grades as this coordinator would; raises otherwise."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        slots = sorted(a for a, w in workers.items() if (w.get("resources") or {}).get(NAME))
        if not slots:
            raise ClusterError(f"no Dask worker offers the {NAME!r} resource ({len(workers)} workers seen): start "
                               f"them with --resources {NAME}=1 --preload grader.bulk.dask.worker")
        expected = config_fingerprint(self.config)
        answers = self.client.run(identity, settings_of(self.config, self.unit), workers=slots)
        wrong = []
        for address, seen in sorted(answers.items()):
            if seen.get("version") != __version__:
                wrong.append(f"{address}: grader {seen.get('version')}, this coordinator runs {__version__}")
            elif seen.get("fingerprint") != expected:
                wrong.append(f"{address}: " + (seen.get("problem") or f"another course or other checks "
                                               f"(at {seen.get('course')})"))
        if wrong:
            raise ClusterError("workers that would grade differently:\n  " + "\n  ".join(wrong))
        self.slots = slots
        return slots

    def run(self, entries: Iterable[Entry | None], on_row: Outcome) -> None:
        """Grade what ``entries`` yields (``None``: nothing right now, see :class:`~grader.bulk.backend.Backend`);
        ``on_row(entry, result dict or None, error or None)`` once per entry."""
        self.live = len(self.slots or self.check_workers())
        settings = settings_of(self.config, self.unit)
        source = iter(entries)
        pending: deque[Entry] = deque()
        packed: deque[_Packed] = deque()  # the next submissions, zipped while the workers grade
        flying: dict[str, _Task] = {}
        lost_since: float | None = None
        drained = False  # the source said it has no more

        def take(most: int) -> None:
            nonlocal drained
            while not drained and len(pending) < most:
                taken = next(source, _END)
                if taken is _END:
                    drained = True
                elif isinstance(taken, Entry):
                    pending.append(taken)
                else:
                    return  # nothing right now

        def feed() -> None:
            take(self._window())
            while (pending or packed) and len(flying) < self._window():
                self._submit(packed.popleft() if packed else _pack(pending.popleft()), settings, flying)

        take(self._window())
        while not drained or pending or packed or flying:
            if self.client.status != "running":
                lost_since = lost_since or time.monotonic()
                if time.monotonic() - lost_since > self.lost_after:
                    raise ClusterError(f"lost the Dask scheduler ({self.client.status} for {self.lost_after:g} s); "
                                       f"every "
                                       f"row graded so far is committed: run the same command again to resume")
                time.sleep(1.0)
                continue
            lost_since = None
            feed()
            take(self._window())
            while pending and len(packed) < self._window():
                packed.append(_pack(pending.popleft()))
            if not flying:
                time.sleep(0.1)  # a queue with nothing in it yet (the course service): ask it again shortly
                continue
            try:
                wait([t.future for t in flying.values()], timeout=1.0, return_when="FIRST_COMPLETED")
            except (TimeoutError, CancelledError):
                pass  # nothing finished this second, or the scheduler went away: see below
            ended = []
            for key, task in list(flying.items()):
                if task.future.status == "cancelled":  # not by us: the connection to the scheduler was lost
                    del flying[key]
                    task.future.release()
                    packed.appendleft(task.packed)  # sent again if the scheduler comes back in time
                elif task.future.status in ("finished", "error", "lost"):
                    del flying[key]
                    ended.append(task)
            feed()  # the free slots get their next submission before the results are fetched
            for task, message in self._collect(ended, packed):
                self._finish(task, message, on_row)
            self._poll(flying, on_row)

    def _window(self) -> int:
        # One task per live grading slot by default: a task waiting on a worker shares the blame
        # when that worker dies (Dask counts a death against every task assigned to it), and a
        # worker being restarted is no slot.
        return max(1, self.live)

    def _submit(self, job: _Packed, settings: dict[str, Any], flying: dict[str, _Task]) -> None:
        future = self.client.submit(grade_task, job.payload, job.sent, job.entry.student_id, job.single, settings,
                                    resources={NAME: 1}, pure=False,
                                    key=f"grade-{safe_name(job.entry.student_id)}-{job.sent[:16]}")
        flying[str(future.key)] = _Task(future, job)

    def _collect(self, ended: list[_Task], packed: deque) -> list[tuple[_Task, Any]]:
        """Each ended task with its result (None where it did not finish), fetched in one round trip."""
        finished = [t for t in ended if t.future.status == "finished"]
        try:
            gathered = self.client.gather([t.future for t in finished])
            results = dict(zip((t.future.key for t in finished), gathered, strict=True))
        except (CancelledError, OSError, TimeoutError):  # the scheduler went away with the results: send again
            for task in finished:
                task.future.release()
                packed.appendleft(task.packed)
            return [(t, None) for t in ended if t not in finished]
        return [(t, results.get(t.future.key)) for t in ended]

    def _finish(self, task: _Task, data: Any, on_row: Callable[..., None]) -> None:
        entry = task.packed.entry
        try:
            if task.future.status != "finished":
                # The exception itself is not fetched: it would arrive pickled.
                on_row(entry, None, f"the submission's task ended {task.future.status}: its worker died "
                                    f"{ALLOWED_FAILURES} or more times while grading it")
                return
            try:
                message = read_message(data, task.packed.sent)
            except PayloadError as error:
                on_row(entry, None, f"the grader failed on this submission: {error}")
                return
            self.workers_seen.add(str(message.get("worker")))
            self.peak_rss_kb = max(self.peak_rss_kb, int(message.get("rss_kb") or 0))
            if message["kind"] == "ok":
                on_row(entry, message["result"], None)
            else:
                on_row(entry, None, "the grader failed on this submission:\n" + str(message.get("error")))
        finally:
            task.future.release()  # committed: a later worker death must not run it again

    def _poll(self, flying: dict[str, _Task], on_row: Callable[..., None]) -> None:
        """Once a second: how many grading workers live, and which tasks ran past their budget."""
        now = time.monotonic()
        if now - self._polled < POLL_S:
            return  # asking the scheduler costs a round trip: once a second is precise enough
        self._polled = now
        where: dict[str, str] = {}
        try:
            workers = self.client.scheduler_info(n_workers=-1).get("workers")
            processing = self.client.processing()
        except Exception:  # noqa: BLE001 - closed comms, pools, timeouts: all say the scheduler is away
            workers = None
        if workers is None:
            return  # the scheduler is away: the next round finds out whether it comes back
        self.live = sum(1 for w in workers.values() if (w.get("resources") or {}).get(NAME))
        for address, keys in processing.items():
            for key in keys:
                where[str(key)] = address
        for key, task in list(flying.items()):
            if key in where and task.started is None:
                task.started = now
            if task.started is not None and now - task.started > self.budget:
                del flying[key]
                task.future.cancel()
                task.future.release()
                on_row(task.packed.entry, None,
                       f"grading this submission took longer than {self.budget:g} s; it was stopped")
                try:  # the task's thread cannot be stopped: its worker process is replaced
                    self.client.restart_workers([where[key]], timeout=120)
                except Exception:  # noqa: BLE001 - a worker that does not come back is the scheduler's to drop
                    pass


class DaskBackend(Backend):
    """Dask workers as a bulk run's back end: connected to, and each checked to grade as this
    coordinator would, when made (a :class:`~grader.bulk.dask.spec.ClusterError` otherwise)."""

    name = "dask"

    def __init__(self, spec: ClusterSpec, config: GradeConfig, *, unit: str, budget: float) -> None:
        self._stack = ExitStack()
        client = self._stack.enter_context(connect(spec, config))
        try:
            self._run = DaskRun(client, config, unit, budget, lost_after=spec.lost_after)
            self._run.check_workers()
        except BaseException:
            self.close()
            raise

    def grade(self, entries: Iterable[Entry | None], outcome: Outcome) -> None:
        try:
            self._run.run(entries, outcome)
        finally:
            self.peak_rss_kb, self.workers = self._run.peak_rss_kb, len(self._run.workers_seen)

    def close(self) -> None:
        self._stack.close()
