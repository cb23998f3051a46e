"""Execute one notebook in a fresh kernel, and keep that kernel alive for the checks.

nbclient runs the cells with a per-cell timeout and a budget for the whole notebook, keeps going
past a failing cell (later cells may still define things), and caps the output it keeps. A
cell that never finishes, a kernel that dies, a cell that raises: each becomes a
:class:`~grader.results.CellError` and a status, never a crash of the grader.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import re
import shutil
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import nbformat
import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Integer

from .config import GradeConfig
from .errors import KernelError
from .i18n import T
from .forkserver import PROVISIONER_NAME
from . import breaches, sandbox
from .kernels import Connected, connection_file, new_kernel_manager, quick_to_connect, runtime_dir
from .remote import KernelNotebook, MissingNotebook, Notebook
from .results import CellError, ExerciseStatus

__all__ = ["Execution", "finish_kernels", "running_notebook", "stop_background_kernels", "strip_ansi", "trim_source"]

log = logging.getLogger(__name__)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
INTERRUPT_GRACE_S = 10.0  # how long an interrupted kernel has to come back (a loaded machine is slow)
TRUNCATED = T("[출력이 너무 길어 {limit} 바이트 이후는 잘렸습니다]", "[output truncated after {limit} bytes]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def trim_source(source: str, lines: int = 12, width: int = 160) -> str:
    """A short excerpt of a cell: its first lines, each cut to ``width``."""
    kept = [line if len(line) <= width else line[: width - 1] + "…" for line in source.splitlines()[:lines]]
    if len(source.splitlines()) > lines:
        kept.append("…")
    return "\n".join(kept)


@dataclass
class Execution:
    """What running the notebook's cells produced."""

    status: ExerciseStatus = ExerciseStatus.GRADED
    cell_errors: list[CellError] = field(default_factory=list)
    problems: list[T] = field(default_factory=list)
    wall_s: float = 0.0
    cell_s: float = 0.0
    output_truncated: bool = False
    kernel_wedged: bool = False  # it ignored an interrupt: no check can use it
    kernel: dict[str, Any] = field(default_factory=dict)  # sandbox, exit status (grader.sandbox)
    notebook: Any = None  # the executed NotebookNode, outputs capped


class GradingClient(NotebookClient):
    """nbclient with a cap on the output it keeps for one notebook, on sockets connected ahead
    where there are (grader.kernels.Connected)."""

    output_limit = Integer(1_000_000).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output_used = 0
        self.truncated = False

    def connect(self, connected: Connected | None) -> None:
        """nbclient's ``start_new_kernel_client``, its client made on ``connected``'s sockets if given."""
        self.kc = self.km.client(connected=connected)
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        self.kc.allow_stdin = False

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        size = len(json.dumps(msg.get("content", {}), default=str))
        if self.output_used + size > self.output_limit:
            if not self.truncated:
                self.truncated = True
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr", text=TRUNCATED.format(limit=self.output_limit).en + "\n"))
            return None
        self.output_used += size
        return super().output(outs, msg, display_id, cell_index)


def _cell_error(index: int, cell: Any) -> CellError | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return CellError(
                index=index,
                kind="error",
                ename=str(output.get("ename", ""))[:200],
                evalue=strip_ansi(str(output.get("evalue", "")))[:2000],
                traceback=strip_ansi("\n".join(output.get("traceback", [])))[-8000:],
                source=trim_source(cell.source),
                cell_id=str(cell.get("id", "")),
            )
    return None


def _kernel_answers(client: BlockingKernelClient, seconds: float) -> bool:
    """Whether an idle kernel answers a trivial request within ``seconds`` (after an interrupt)."""
    msg_id = client.execute("pass", silent=True, store_history=False)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            reply = client.get_shell_msg(timeout=0.25)
        except Exception:  # queue.Empty
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


def _run_cells(client: GradingClient, probe_client: BlockingKernelClient, config: GradeConfig) -> Execution:
    limits = config.limits
    execution = Execution()
    started = time.monotonic()
    deadline = started + limits.notebook_timeout
    for index, cell in enumerate(client.nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            execution.status = ExerciseStatus.TIMEOUT
            execution.cell_errors.append(CellError(
                index=index, kind="timeout", ename="NotebookTimeout",
                evalue=f"the notebook's {limits.notebook_timeout:g} s budget ran out before this cell",
                source=trim_source(cell.source), cell_id=str(cell.get("id", ""))))
            break
        client.timeout = max(1, math.ceil(min(limits.cell_timeout, remaining)))
        cell_started = time.monotonic()
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            execution.cell_s += time.monotonic() - cell_started
            execution.cell_errors.append(CellError(
                index=index, kind="timeout", ename="CellTimeout",
                evalue=f"the cell did not finish within {client.timeout} s",
                source=trim_source(cell.source), cell_id=str(cell.get("id", ""))))
            run_sync(client.km.interrupt_kernel)()
            if not _kernel_answers(probe_client, INTERRUPT_GRACE_S):
                # The student's code ignores interrupts: nothing after this cell can run.
                execution.status = ExerciseStatus.TIMEOUT
                execution.kernel_wedged = True
                break
            continue
        except DeadKernelError:
            execution.cell_s += time.monotonic() - cell_started
            execution.status = ExerciseStatus.KERNEL_DIED
            execution.cell_errors.append(CellError(
                index=index, kind="kernel_died", ename="KernelDied",
                evalue="the kernel process exited while this cell ran",
                source=trim_source(cell.source), cell_id=str(cell.get("id", ""))))
            break
        execution.cell_s += time.monotonic() - cell_started
        error = _cell_error(index, cell)
        if error is not None:
            execution.cell_errors.append(error)
    execution.wall_s = time.monotonic() - started
    execution.output_truncated = client.truncated
    if client.truncated:
        execution.problems.append(T(
            "출력이 너무 많아 {limit} 바이트 이후는 보관하지 않았습니다.",
            "The notebook printed too much; output past {limit} bytes was dropped.",
        ).format(limit=config.limits.output_bytes))
    execution.notebook = client.nb
    return execution


def _exit_code(km: Any) -> int | None:
    process = getattr(km.provisioner, "process", None)
    return process.poll() if process is not None and hasattr(process, "poll") else None


@dataclass
class _Kernel:
    """A started kernel with its cage and folders: all a notebook needs before its first cell."""

    config: GradeConfig
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


def _start_kernel(config: GradeConfig) -> _Kernel:
    """Start a kernel in its sandbox; it initialises on its own while the caller goes on."""
    box = sandbox.plan(config)
    fresh = config.kernel != "forkserver"
    # A forked kernel's runtime folder lies under the zygote's root (shared with it under bubblewrap).
    runtime = runtime_dir() if fresh else sandbox.forked_runtime(config.limits)
    scratch = runtime / "work"  # reachable by the kernel's own uid, with or without bubblewrap
    scratch.mkdir()
    connection = connection_file(runtime)
    kernel = _Kernel(config, box, runtime, scratch, None)
    try:
        kernel.box = box = sandbox.prepare(box, config, runtime=runtime, scratch=scratch)
        prefix, provisioner, launch = sandbox.launch(box, config, runtime=runtime, scratch=scratch,
                                                      connection_file=connection)
        kernel.km = km = new_kernel_manager(runtime, provisioner="" if fresh else PROVISIONER_NAME,
                                            provisioner_config=provisioner, argv_prefix=tuple(prefix),
                                            connection=connection)
        run_sync(km.start_kernel)(env=sandbox.kernel_env(config, scratch), cwd=str(scratch), **launch)
        if not fresh and box.mode == "bwrap":  # inside bubblewrap the child cannot see the cgroup files
            sandbox.adopt(box.cgroup, km.provisioner.pid)
    except Exception as exc:  # noqa: BLE001 - any start failure is the grader's problem
        kernel.stop()
        raise KernelError(f"the kernel could not start: {type(exc).__name__}: {exc}") from exc
    return kernel


# The next notebook's kernel, started while the current one runs (fork server only): by the
# time that notebook comes, its kernel is ready. The start itself (a fork by the zygote, a
# cgroup to join, the notebook's sockets connected and proven) runs in a thread
# of its own, off the current notebook's way; so does the stop of a kernel whose notebook
# another follows (it waits ~30 ms for the process to exit). Process-wide, like the fork server.
_ahead: Future | None = None  # of a _Kernel, or None when it could not start
_stopping: Future | None = None  # the last stop handed to the thread
_background: ThreadPoolExecutor | None = None
CONNECT_AHEAD_S = 2.0  # how long the kernel thread waits for a kernel started ahead to answer
IOPUB_PROOF_S = 0.2  # how long a kernel_info's status may take on IOPub before it is asked again
HEARTBEAT_S = 2.0  # how long a kernel started ahead has to echo when its notebook takes it


def _in_background(work: Any, *args: Any) -> Future:
    global _background
    if _background is None:
        _background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernels")
        # Registered after the fork server's own exit handler (it exists by now), so run before it.
        atexit.register(stop_background_kernels)
    return _background.submit(work, *args)


def _start_ahead(config: GradeConfig) -> None:
    global _ahead
    _stop_ahead()
    _ahead = _in_background(_start_or_none, config)


def _start_or_none(config: GradeConfig) -> _Kernel | None:
    try:
        kernel = _start_kernel(config)
    except KernelError:
        return None  # the next notebook starts its own, and reports any failure as its own
    kernel.connected = _connect_ahead(kernel)
    if kernel.connected is None:  # it did not answer: the next notebook starts its own
        kernel.stop()
        return None
    return kernel


def _connect_ahead(kernel: _Kernel) -> Connected | None:
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
    deadline = time.monotonic() + CONNECT_AHEAD_S
    while time.monotonic() < deadline:
        reply = _reply(client, client.kernel_info(), deadline, kernel)
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


def _reply(client: BlockingKernelClient, msg_id: str, deadline: float, kernel: _Kernel) -> dict[str, Any] | None:
    """The kernel's reply to request ``msg_id``; None if none came before ``deadline``."""
    while time.monotonic() < deadline:
        try:
            reply = client.get_shell_msg(timeout=0.1)
        except Exception:  # noqa: BLE001 - queue.Empty, or a kernel gone: its notebook will see
            if not run_sync(kernel.km.is_alive)():
                return None
            # The notebook running meanwhile may have stopped it (same uid, same pid namespace).
            run_sync(kernel.km.signal_kernel)(signal.SIGCONT)
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply
    return None


def _stop_later(kernel: _Kernel) -> None:
    """Stop ``kernel`` in the background thread, once the stop handed to it before has ended."""
    global _stopping
    _wait_for_stop()  # at most one stop in flight: kernels never pile up behind a slow one
    _stopping = _in_background(_stop_quietly, kernel)


def _stop_quietly(kernel: _Kernel) -> None:
    try:
        kernel.stop()
    except Exception:  # noqa: BLE001 - nobody waits for this stop; its cage is released regardless
        log.warning("a kernel did not stop cleanly", exc_info=True)


def _wait_for_stop() -> None:
    global _stopping
    stopping, _stopping = _stopping, None
    if stopping is not None:
        stopping.result()


def _take_ahead(config: GradeConfig) -> _Kernel | None:
    """The kernel started ahead, if it was started for ``config`` and is still there."""
    global _ahead
    if _ahead is None:
        return None
    kernel = _ahead.result()
    if kernel is not None and kernel.config != config:
        return None  # one for other settings waits for its own turn
    _ahead = None
    if kernel is not None and not run_sync(kernel.km.is_alive)():
        kernel.stop()
        return None
    return kernel


def _stop_ahead() -> None:
    global _ahead
    started, _ahead = _ahead, None
    kernel = started.result() if started is not None else None
    if kernel is not None:
        kernel.stop()


def stop_background_kernels() -> None:
    """Wait for the kernels being stopped, and stop the one started ahead for a next notebook."""
    _wait_for_stop()
    _stop_ahead()


def finish_kernels() -> None:
    """Stop every kernel and zygote this process started: for a process that goes on without
    them, or that leaves without its exit handlers (a pool or Dask worker, a platform's run)."""
    from .forkserver.client import fork_server

    stop_background_kernels()
    fork_server().close()


def _kernel_for(notebook: Any, config: GradeConfig) -> tuple[_Kernel, GradingClient]:
    """A kernel that answers, and nbclient's client on it: the one started ahead where it fits."""
    kernel = _take_ahead(config)
    while True:
        started_ahead = kernel is not None
        if kernel is None:
            kernel = _start_kernel(config)
        client = GradingClient(
            notebook,
            km=kernel.km,
            allow_errors=True,
            interrupt_on_timeout=False,
            record_timing=False,
            startup_timeout=120,
            output_limit=config.limits.output_bytes,
        )
        try:
            if started_ahead:  # the previous notebook ran beside it, and may have stopped or killed it
                run_sync(kernel.km.signal_kernel)(signal.SIGCONT)
                if not kernel.connected.beats(HEARTBEAT_S):
                    raise KernelError("the kernel started ahead no longer answers")
            client.connect(kernel.connected)
            return kernel, client
        except Exception as exc:  # noqa: BLE001 - any start failure is the grader's problem
            if client.kc is not None:
                client.kc.stop_channels()
            kernel.stop()
            if not started_ahead:
                raise KernelError(f"the kernel could not start: {type(exc).__name__}: {exc}") from exc
            kernel = None  # the one started ahead did not come up: start one now


def _probe_client(kernel: _Kernel) -> BlockingKernelClient:
    """The checks' own client (shell only), in the kernel's context where it was connected ahead."""
    shared = {"context": kernel.connected.context} if kernel.connected is not None else {}
    client = BlockingKernelClient(connection_file=kernel.km.connection_file, **shared)
    client.load_connection_file()
    client.start_channels(iopub=False, stdin=False, hb=False, control=False)
    return client


@contextmanager
def running_notebook(notebook: Any, config: GradeConfig, *,
                     another_follows: bool = False) -> Iterator[tuple[Execution, Notebook]]:
    """Run ``notebook``'s cells in a fresh kernel; yield the outcome and a handle for checks.

    The kernel lives until the ``with`` block ends, then is killed (a graceful shutdown of a
    torch-loaded kernel costs seconds and buys nothing here). With ``another_follows``, it is
    killed in the background, and (with the fork server) the next notebook's kernel is started
    while this one runs: a forked kernel takes ~0.1 s to answer, more than most notebooks' checks.
    """
    kernel, client = _kernel_for(notebook, config)
    km = kernel.km
    probe_client: BlockingKernelClient | None = None
    backend: Notebook | None = None
    try:
        if another_follows and config.kernel == "forkserver":
            _start_ahead(config)
        probe_client = _probe_client(kernel)
        execution = _run_cells(client, probe_client, config)
        alive = run_sync(km.is_alive)()
        kernel.box = sandbox.checked(kernel.box, kernel_alive=alive)
        breaches.observe(execution, kernel.box, config.limits, exit_code=None if alive else _exit_code(km))
        if alive and not execution.kernel_wedged and execution.status is not ExerciseStatus.KERNEL_DIED:
            backend = KernelNotebook(
                probe_client,
                is_alive=run_sync(km.is_alive),
                interrupt=run_sync(km.interrupt_kernel),
                default_timeout=config.limits.probe_timeout,
            )
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
            _stop_later(kernel)
        else:
            kernel.stop()
            _wait_for_stop()  # nothing of this notebook's run outlives it
