"""Kernel managers for student notebooks: always the grader's own interpreter.

A kernelspec of our own (not whichever ``python3`` Jupyter finds first) makes every kernel run
``sys.executable -m ipykernel_launcher``: the venv the grader is installed in, with the same
torch. The environment a kernel gets is the sandbox's (:func:`grader.kernel.sandbox.kernel_env`).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait

__all__ = ["Connected", "GraderKernelSpecManager", "KERNEL_NAME", "ReadyKernelClient", "connection_file",
           "new_kernel_manager", "quick_to_connect", "runtime_dir"]

KERNEL_NAME = "grader-python"


class GraderKernelSpecManager(KernelSpecManager):
    """Knows exactly one kernel: this interpreter's ipykernel, optionally through a provisioner."""

    provisioner: str = ""
    provisioner_config: dict[str, Any] = {}
    argv_prefix: tuple[str, ...] = ()  # the sandbox's wrapper (bwrap ... --), see grader.kernel.sandbox

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: str(Path(sys.executable).parent)}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        metadata: dict[str, Any] = {}
        if self.provisioner:
            metadata["kernel_provisioner"] = {"provisioner_name": self.provisioner,
                                              "config": dict(self.provisioner_config)}
        return KernelSpec(
            # No input history database: nobody reads it, and it costs a file and a thread per kernel.
            argv=[*self.argv_prefix, sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                  "--HistoryManager.enabled=False"],
            display_name="Python (grader)",
            language="python",
            interrupt_mode="signal",
            metadata=metadata,
        )


def quick_to_connect(context: zmq.Context) -> zmq.Context:
    """``context``, its sockets retrying a refused connection every 10 ms.

    A client connects before a new kernel has bound its sockets, and zmq retries only every
    100 ms by default: that was most of a forked kernel's start.
    """
    context.setsockopt(zmq.RECONNECT_IVL, 10)
    return context


@dataclass
class Connected:
    """A kernel's shell and IOPub sockets, connected and proven live (a kernel_info reply on one,
    its status on the other) before its notebook takes the kernel, in the thread that started it;
    and a heartbeat socket, to show when the notebook takes it that the kernel is still there.

    Sockets are created in that thread and used in the notebook's after the hand-over (a
    ``Future``'s result: the memory barrier zmq asks for when a socket changes threads); every
    socket of the notebook's run lives in ``context``, which goes with the kernel.
    """

    context: zmq.Context
    sockets: dict[str, zmq.Socket]  # "shell", "iopub": taken once, by the notebook's client
    heartbeat: zmq.Socket  # REQ, to the kernel's echo
    kernel_info: dict[str, Any]  # the reply that proved it

    def take(self, channel: str) -> zmq.Socket | None:
        return self.sockets.pop(channel, None)

    def beats(self, timeout: float) -> bool:
        """Whether the kernel echoes a heartbeat within ``timeout`` s: a process alive and running.

        ~0.05 ms (measured; ipykernel echoes in a thread of its own, off the GIL), against ~4 ms for
        a kernel_info round trip. Its main thread was proven to answer when connected, and no code
        has run in it since; what the notebook beside it may have done meanwhile (killed or
        stopped it) leaves no echo.
        """
        if not self.heartbeat.poll(0, zmq.POLLOUT):
            return False  # the last ping was never answered
        self.heartbeat.send(b"ping")
        if not self.heartbeat.poll(int(timeout * 1000)):
            return False
        self.heartbeat.recv()
        return True

    def close(self) -> None:
        self.context.destroy(linger=0)


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's client, minus fixed waits when a kernel starts.

    The stock ``wait_for_ready`` ends by reading IOPub until it has been quiet for 0.2 s; the
    messages it drops are the status of the readiness request, which nbclient ignores anyway
    (it matches every message to its cell by parent id). Here: a kernel_info reply, one IOPub
    message to prove the subscription is live, then whatever is already queued. On sockets
    :class:`Connected` ahead, that proof is made already: nothing waits.

    Only shell and IOPub are opened: nbclient reads nothing else (stdin is refused to the
    notebook, liveness is the manager's), and the heartbeat channel costs a thread a notebook.
    """

    connected = AnyTrait(None)  # a Connected, or None

    def _context_default(self) -> Any:
        if self.connected is not None:  # its sockets and ours in one context, which goes with the kernel
            return zmq.asyncio.Context.shadow(self.connected.context.underlying)
        return quick_to_connect(super()._context_default())

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
        socket = self.connected.take(channel) if self.connected is not None else None
        if socket is not None:
            return zmq.asyncio.Socket.from_socket(socket)
        return super()._create_connected_socket(channel, identity=identity)

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = False, hb: bool = False,
                       control: bool = False) -> None:
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=hb, control=control)

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        if self.connected is not None:
            self._handle_kernel_info_reply(self.connected.kernel_info)
            return
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass  # IOPub not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while await self.iopub_channel.msg_ready():
            await self.iopub_channel.get_msg(timeout=0)

    wait_for_ready = _async_wait_for_ready


def runtime_dir() -> Path:
    """A short, private folder for connection files and IPC sockets (paths must stay < 108 bytes)."""
    return Path(tempfile.mkdtemp(prefix="grader-"))


def connection_file(runtime: Path) -> Path:
    """A new kernel's connection file in ``runtime`` (its IPC sockets get the same name stem)."""
    return runtime / f"k-{uuid.uuid4().hex[:8]}.json"


def new_kernel_manager(runtime: Path, provisioner: str = "",
                       provisioner_config: dict[str, Any] | None = None,
                       argv_prefix: tuple[str, ...] = (), connection: Path | None = None) -> AsyncKernelManager:
    """A manager for one kernel, talking over Unix sockets in ``runtime``.

    IPC rather than TCP: nothing listens on the network, and a kernel in its own network
    namespace (the sandbox) still reaches us through the shared folder. ``provisioner`` names a
    jupyter_client kernel provisioner (``grader-forkserver``: a kernel forked from a warm zygote);
    empty means the stock one (a fresh ``python -m ipykernel_launcher`` process).
    """
    specs = GraderKernelSpecManager()
    specs.provisioner = provisioner
    specs.provisioner_config = dict(provisioner_config or {})
    specs.argv_prefix = tuple(argv_prefix)
    # Windows has no Unix-socket transport in Jupyter: there, loopback TCP (as stock Jupyter does).
    transport = "tcp" if sys.platform == "win32" else "ipc"
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport=transport,
                                 client_factory=ReadyKernelClient)
    manager.connection_file = str(connection or connection_file(runtime))
    return manager
