"""Run one notebook's cells in its kernel with nbclient, and say what came of them.

nbclient runs the cells with a per-cell timeout and a budget for the whole notebook, keeps going
past a failing cell (later cells may still define things), and caps the output it keeps. A
cell that never finishes, a kernel that dies, a cell that raises: each becomes a
:class:`~grader.results.CellError` and a status, never a crash of the grader. Which kernel the
cells run in is :mod:`.pool`'s business.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import nbformat
from jupyter_client.blocking import BlockingKernelClient
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Integer

from grader.config import GradeConfig
from grader.i18n import T
from grader.kernel.managers import Connected
from grader.kernel.replies import Receive, await_reply
from grader.results import CellError, ExerciseStatus

__all__ = ["Execution", "GradingClient", "run_cells", "shell_receiver", "strip_ansi", "trim_source"]

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
    kernel: dict[str, Any] = field(default_factory=dict)  # sandbox, exit status (grader.kernel.sandbox)
    notebook: Any = None  # the executed NotebookNode, outputs capped


class GradingClient(NotebookClient):
    """nbclient with a cap on the output it keeps for one notebook, on sockets connected ahead
    where there are (grader.kernel.managers.Connected)."""

    output_limit = Integer(1_000_000).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output_used = 0
        self.truncated = False

    def connect(self, connected: Connected | None) -> None:
        """nbclient's ``start_new_kernel_client``, its client made on ``connected``'s sockets if given."""
        assert self.km is not None, "nbclient's client needs its kernel manager"
        self.kc = self.km.client(connected=connected)
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)  # type: ignore[arg-type]  # async
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


def shell_receiver(client: BlockingKernelClient) -> Receive:
    """The next message on ``client``'s shell channel, or None when none came in time."""

    def receive(wait: float) -> dict[str, Any] | None:
        try:
            return client.get_shell_msg(timeout=wait)
        except Exception:  # noqa: BLE001 - queue.Empty, or a kernel gone: the caller asks whether it is
            return None

    return receive


def _kernel_answers(client: BlockingKernelClient, seconds: float) -> bool:
    """Whether an idle kernel answers a trivial request within ``seconds`` (after an interrupt)."""
    msg_id = client.execute("pass", silent=True, store_history=False)
    return await_reply(shell_receiver(client), msg_id, time.monotonic() + seconds, step=0.25) is not None


def run_cells(client: GradingClient, probe_client: BlockingKernelClient, config: GradeConfig) -> Execution:
    """Every code cell of ``client``'s notebook, in order, within the limits of ``config``."""
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
            run_sync(client.km.interrupt_kernel)()  # type: ignore[union-attr,arg-type]  # the async manager's
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
