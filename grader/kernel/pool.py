"""The kernels of one grading session: a fresh, caged kernel per notebook, the next one started
ahead while the current notebook runs and the last one stopped behind it.

With the fork server, the next notebook's kernel is started while the current one runs (a fork
by the zygote, a cgroup to join, the notebook's sockets connected and proven), so that by the
time that notebook comes, its kernel is ready; a kernel whose notebook another follows is
stopped in the background (it waits ~30 ms for the process to exit). Both run in one background
thread of the pool's own, off the notebooks' way. :meth:`KernelPool.close` waits for the stop in
flight, then stops the kernel started ahead: whoever made the pool closes it, and nothing of it
outlives that.
"""

from __future__ import annotations

import logging
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_core.utils import run_sync

from grader.checking.remote import KernelNotebook, MissingNotebook, Notebook
from grader.config import GradeConfig
from grader.errors import KernelError
from grader.kernel import breaches, sandbox
from grader.kernel.cells import Execution, GradingClient, run_cells, shell_receiver
from grader.kernel.forkserver import PROVISIONER_NAME
from grader.kernel.host import KernelHost
from grader.kernel.managers import Connected, connection_file, new_kernel_manager, quick_to_connect, runtime_dir
from grader.kernel.replies import await_reply
from grader.results import ExerciseStatus

__all__ = ["KernelPool"]

log = logging.getLogger(__name__)
CONNECT_AHEAD_S = 2.0  # how long the kernel thread waits for a kernel started ahead to answer
IOPUB_PROOF_S = 0.2  # how long a kernel_info's status may take on IOPub before it is asked again
HEARTBEAT_S = 2.0  # how long a kernel started ahead has to echo when its notebook takes it


@dataclass
class _Kernel:
    """A started kernel with its cage and folders: all a notebook needs before its first cell."""

    box: sandbox.Sandbox
    runtime: Path
    scratch: Path
    km: Any  # jupyter_client AsyncKernelManager (None until the cage is ready)
    connected: Connected | None = None  # its sockets, when connected ahead (_connect_ahead)

    def stop(self) -> None:
        try:
            if self.km is not None and self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
        finally:
            if self.connected is not None:
                self.connected.close()
            if self.km is not None:
                run_sync(self.km.cleanup_resources)()
            sandbox.release(self.box)
            shutil.rmtree(self.scratch, ignore_errors=True)
            shutil.rmtree(self.runtime, ignore_errors=True)


def _exit_code(km: Any) -> int | None:
    process = getattr(km.provisioner, "process", None)
    return process.poll() if process is not None and hasattr(process, "poll") else None


class KernelPool:
    """A fresh kernel for each notebook graded with ``config``, on ``host``'s premises and zygotes."""

    def __init__(self, config: GradeConfig, host: KernelHost) -> None:
        self.config = config
        self.host = host
        self.ahead: Future[_Kernel | None] | None = None  # the next notebook's, or None when it could not start
        self._stopping: Future[None] | None = None  # the last stop handed to the background thread
        self._background: ThreadPoolExecutor | None = None

    # -- starting ---------------------------------------------------------------------------
    def start(self) -> _Kernel:
        """Start a kernel in its sandbox; it initialises on its own while the caller goes on."""
        config, premises = self.config, self.host.premises
        box = sandbox.plan(config)
        fresh = config.kernel != "forkserver"
        # A forked kernel's runtime folder lies under the zygote's root (shared with it under bubblewrap).
        runtime = runtime_dir() if fresh else premises.folders.forked_runtime(config.limits)
        scratch = runtime / "work"  # reachable by the kernel's own uid, with or without bubblewrap
        scratch.mkdir()
        connection = connection_file(runtime)
        kernel = _Kernel(box, runtime, scratch, None)
        try:
            kernel.box = box = sandbox.prepare(box, config, premises, runtime=runtime, scratch=scratch)
            prefix, provisioner, launch = sandbox.launch(box, config, premises, runtime=runtime, scratch=scratch,
                                                          connection_file=connection)
            if not fresh:
                provisioner = {**provisioner, "fork_server": self.host.fork_server}
            kernel.km = km = new_kernel_manager(runtime, provisioner="" if fresh else PROVISIONER_NAME,
                                                provisioner_config=provisioner, argv_prefix=tuple(prefix),
                                                connection=connection)
            run_sync(km.start_kernel)(env=sandbox.kernel_env(config, scratch), cwd=str(scratch), **launch)
            if not fresh and box.mode == "bwrap":  # inside bubblewrap the child cannot see the cgroup files
                sandbox.adopt(box.cgroup, km.provisioner.pid)  # type: ignore[union-attr]  # a ForkServerProvisioner
        except Exception as exc:
            kernel.stop()
            raise KernelError(f"the kernel could not start: {type(exc).__name__}: {exc}") from exc
        return kernel

    def _in_background(self, work: Any, *args: Any) -> Future[Any]:
        if self._background is None:
            self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernels")
        return self._background.submit(work, *args)

    def start_ahead(self) -> None:
        """Start the next notebook's kernel in the background (one at a time: an earlier one is stopped)."""
        self._stop_ahead()
        self.ahead = self._in_background(self._start_or_none)

    def _start_or_none(self) -> _Kernel | None:
        try:
            kernel = self.start()
        except KernelError:
            return None  # the next notebook starts its own, and reports any failure as its own
        kernel.connected = self.connect_ahead(kernel)
        if kernel.connected is None:  # it did not answer: the next notebook starts its own
            kernel.stop()
            return None
        return kernel

    @staticmethod
    def connect_ahead(kernel: _Kernel) -> Connected | None:
        """The notebook's shell and IOPub sockets to a new kernel, proven live; None if it did not answer.

        jupyter_client's readiness wait (a kernel_info reply, one IOPub message to show the
        subscription holds), done here beforehand: ~10 ms a notebook (a kernel's first request alone
        ~13 ms, later ones ~2). When the notebook takes the kernel, a heartbeat shows it is still there.
        """
        context = quick_to_connect(zmq.Context())
        client = BlockingKernelClient(connection_file=kernel.km.connection_file, context=context)
        client.load_connection_file()
        client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        heartbeat = client.connect_hb()
        for socket in (client.shell_channel.socket, client.iopub_channel.socket, heartbeat):
            socket.linger = 0

        def still_there() -> bool:
            if not run_sync(kernel.km.is_alive)():
                return False
            # The notebook running meanwhile may have stopped it (same uid, same pid namespace).
            run_sync(kernel.km.signal_kernel)(signal.SIGCONT)
            return True

        deadline = time.monotonic() + CONNECT_AHEAD_S
        while time.monotonic() < deadline:
            reply = await_reply(shell_receiver(client), client.kernel_info(), deadline, still_waiting=still_there,
                                step=0.1)
            if reply is None:
                break
            try:
                client.get_iopub_msg(timeout=IOPUB_PROOF_S)
            except Exception:  # noqa: BLE001 - queue.Empty: not subscribed yet, ask again
                continue
            while client.iopub_channel.msg_ready():
                client.get_iopub_msg(timeout=0)
            return Connected(context, {"shell": client.shell_channel.socket, "iopub": client.iopub_channel.socket},
                             heartbeat, reply)
        context.destroy(linger=0)  # a request the kernel never took must not hold the thread
        return None

    def _take_ahead(self) -> _Kernel | None:
        """The kernel started ahead, if it is still there."""
        if self.ahead is None:
            return None
        kernel, self.ahead = self.ahead.result(), None
        if kernel is not None and not run_sync(kernel.km.is_alive)():
            kernel.stop()
            return None
        return kernel

    # -- stopping ---------------------------------------------------------------------------
    def _stop_later(self, kernel: _Kernel) -> None:
        """Stop ``kernel`` in the background thread, once the stop handed to it before has ended."""
        self._wait_for_stop()  # at most one stop in flight: kernels never pile up behind a slow one
        self._stopping = self._in_background(self._stop_quietly, kernel)

    @staticmethod
    def _stop_quietly(kernel: _Kernel) -> None:
        try:
            kernel.stop()
        except Exception:
            log.warning("a kernel did not stop cleanly", exc_info=True)

    def _wait_for_stop(self) -> None:
        stopping, self._stopping = self._stopping, None
        if stopping is not None:
            stopping.result()

    def _stop_ahead(self) -> None:
        started, self.ahead = self.ahead, None
        kernel = started.result() if started is not None else None
        if kernel is not None:
            kernel.stop()

    def close(self) -> None:
        """Wait for the kernel being stopped, stop the one started ahead, end the background thread."""
        self._wait_for_stop()
        self._stop_ahead()
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- a notebook ---------------------------------------------------------------------------
    def _kernel_for(self, notebook: Any) -> tuple[_Kernel, GradingClient]:
        """A kernel that answers, and nbclient's client on it: the one started ahead where there is one."""
        kernel = self._take_ahead()
        while True:
            started_ahead = kernel is not None
            if kernel is None:
                kernel = self.start()
            client = GradingClient(notebook, km=kernel.km, allow_errors=True, interrupt_on_timeout=False,
                                   record_timing=False, startup_timeout=120,
                                   output_limit=self.config.limits.output_bytes)
            try:
                # Started ahead: the previous notebook ran beside it, and may have stopped or killed it.
                if kernel.connected is not None:
                    run_sync(kernel.km.signal_kernel)(signal.SIGCONT)
                    if not kernel.connected.beats(HEARTBEAT_S):
                        raise KernelError("the kernel started ahead no longer answers")
                client.connect(kernel.connected)
                return kernel, client
            except Exception as exc:
                if client.kc is not None:
                    client.kc.stop_channels()
                kernel.stop()
                if not started_ahead:
                    raise KernelError(f"the kernel could not start: {type(exc).__name__}: {exc}") from exc
                kernel = None  # the one started ahead did not come up: start one now

    @staticmethod
    def _probe_client(kernel: _Kernel) -> BlockingKernelClient:
        """The checks' own client (shell only), in the kernel's context where it was connected ahead."""
        shared = {"context": kernel.connected.context} if kernel.connected is not None else {}
        client = BlockingKernelClient(connection_file=kernel.km.connection_file, **shared)
        client.load_connection_file()
        client.start_channels(iopub=False, stdin=False, hb=False, control=False)
        return client

    @contextmanager
    def running(self, notebook: Any, *, another_follows: bool = False) -> Iterator[tuple[Execution, Notebook]]:
        """Run ``notebook``'s cells in a fresh kernel; yield the outcome and a handle for checks.

        The kernel lives until the ``with`` block ends, then is killed (a graceful shutdown of a
        torch-loaded kernel costs seconds and buys nothing here). With ``another_follows``, it is
        killed in the background, and (with the fork server) the next notebook's kernel is started
        while this one runs: a forked kernel takes ~0.1 s to answer, more than most notebooks' checks.
        """
        config = self.config
        kernel, client = self._kernel_for(notebook)
        km = kernel.km
        probe_client: BlockingKernelClient | None = None
        backend: Notebook | None = None
        try:
            if another_follows and config.kernel == "forkserver":
                self.start_ahead()
            probe_client = self._probe_client(kernel)
            execution = run_cells(client, probe_client, config)
            alive = run_sync(km.is_alive)()
            kernel.box = sandbox.checked(kernel.box, kernel_alive=alive)
            breaches.observe(execution, kernel.box, config.limits, exit_code=None if alive else _exit_code(km))
            if alive and not execution.kernel_wedged and execution.status is not ExerciseStatus.KERNEL_DIED:
                backend = KernelNotebook(probe_client, is_alive=run_sync(km.is_alive),
                                         interrupt=run_sync(km.interrupt_kernel),
                                         default_timeout=config.limits.probe_timeout)
            else:
                backend = MissingNotebook(execution.status.value)
            yield execution, backend
        finally:
            if isinstance(backend, KernelNotebook):
                backend.close()
            if probe_client is not None:
                probe_client.stop_channels()
            if client.kc is not None:
                client.kc.stop_channels()
            if another_follows:
                self._stop_later(kernel)
            else:
                kernel.stop()
                self._wait_for_stop()  # nothing of this notebook's run outlives it
