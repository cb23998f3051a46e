"""The zygote: imports the heavy libraries once, then only forks kernels, reaps them and reports.

Run as ``python -m grader.kernel.forkserver.zygote --fd N`` by :mod:`grader.kernel.forkserver.client`
(the command is built in :func:`grader.kernel.forkserver.client.zygote_command`, where the sandbox
prefixes it). N is its end of the control channel (:mod:`grader.kernel.forkserver.channel`).

What it must never do, because every child inherits the result of it: start a thread, create a
zmq context or an event loop, run a torch op, touch CUDA (not even ``is_available()``), seed or
draw from an RNG. It only imports. Settings that libraries read from the environment at import
time (thread counts, the hash seed, the locale) are fixed by the environment the zygote was
started with; the client runs one zygote per distinct set of them.

Messages (JSON, one per packet):

- zygote → client, once: ``{"op": "ready", "pid", "threads", "import_s"}`` with its own pidfd
  attached
- client → zygote: ``{"op": "spawn", "id", "args", "env", "cwd", "setup"}`` with the client's
  own pidfd attached (the child exits when that process does);
  answer ``{"op": "spawned", "id", "pid"}`` with the child's pidfd attached, or
  ``{"op": "failed", "id", "error"}``
- zygote → client, whenever a kernel is reaped: ``{"op": "exit", "pid", "code", "cpu_s"}``
  (``code`` as ``subprocess`` reports it: negative for a signal; ``cpu_s`` the kernel's CPU
  time plus that of the children it waited for).

It leaves when the channel reaches end of file (the grader is gone) or its parent changes,
killing the kernels it still has. It is a child subreaper, so the orphaned workers of a killed
kernel (DataLoader processes) are reparented to it and reaped rather than left as zombies.
"""

from __future__ import annotations

import ctypes
import gc
import os
import select
import signal
import socket
import sys
import time
from typing import Any

from grader.kernel.forkserver import channel

__all__ = ["main"]

PRELOAD = (
    "numpy", "PIL.Image", "torch", "torch.nn", "torch.utils.data", "torchvision",
    "torchvision.transforms", "ipykernel.kernelapp", "ipykernel.ipkernel",
    # What a kernel imports while it starts (the debugger alone costs ~0.1 s); here, once.
    "ipykernel.debugger", "IPython.core.completerlib", "IPython.core.debugger", "IPython.extensions.storemagic",
    "tornado.platform.asyncio", "grader.checking.probe", "grader.kernel.sandbox.enter",
    "grader.kernel.forkserver.child",
)
# Imported where present: a kernel whose cage needs them may no longer read the files by then.
OPTIONAL_PRELOAD = ("pyseccomp",)
_PR_SET_CHILD_SUBREAPER = 36


def _preload() -> float:
    started = time.monotonic()
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    for name in OPTIONAL_PRELOAD:
        try:
            importlib.import_module(name)
        except (ImportError, OSError):  # pyseccomp raises OSError without libseccomp
            pass
    return time.monotonic() - started


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1


class Zygote:
    """The serving loop: a control socket, a self-pipe for SIGCHLD, the live kernels."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.parent = os.getppid()
        self.kernels: set[int] = set()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        # A SIGCHLD handler that does nothing: the wakeup fd makes select() return at once.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def serve(self) -> None:
        while True:
            ready, _, _ = select.select([self.sock.fileno(), self.wake_r], [], [], 1.0)
            if self.wake_r in ready:
                self._drain_wakeups()
            self._reap()
            if self.sock.fileno() in ready and not self._handle_one():
                break
            if os.getppid() != self.parent:
                break
        self._shutdown()

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.kernels:  # anything else is an orphaned worker: reaped, not reported
                self.kernels.discard(pid)
                self._send({"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status),
                            "cpu_s": usage.ru_utime + usage.ru_stime})

    def _send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        try:
            channel.send(self.sock, message, fds)
        except OSError:
            pass  # the grader is gone; the next select() sees end of file

    def _handle_one(self) -> bool:
        received = channel.recv(self.sock)
        if received is None:
            return False
        message, fds = received
        if message.get("op") == "spawn":
            self._spawn(message, fds)
        else:
            for fd in fds:
                os.close(fd)
            self._send({"op": "failed", "id": message.get("id"), "error": f"unknown op {message.get('op')!r}"})
        return True

    def _spawn(self, request: dict[str, Any], fds: list[int]) -> None:
        owner_fd = fds[0] if fds else -1
        for fd in fds[1:]:
            os.close(fd)
        if owner_fd >= 0:
            # The kernel keeps it (it exits when the grader does), but nothing it starts may inherit it.
            os.set_inheritable(owner_fd, False)
        pid = os.fork()
        if pid == 0:
            from grader.kernel.forkserver.child import become_kernel

            become_kernel(request, owner_fd=owner_fd,
                          close_fds=(self.sock.fileno(), self.wake_r, self.wake_w))  # never returns
        self.kernels.add(pid)
        if owner_fd >= 0:
            os.close(owner_fd)
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as exc:  # it died and was reaped already: report that in order
            self._send({"op": "failed", "id": request.get("id"), "error": f"pidfd_open: {exc}"})
            return
        self._send({"op": "spawned", "id": request.get("id"), "pid": pid}, (pidfd,))
        os.close(pidfd)

    def _shutdown(self) -> None:
        for pid in list(self.kernels):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        self._reap()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    fd = int(argv[argv.index("--fd") + 1])
    # As ipykernel_launcher does: the folder we were started in is not an import path of kernels.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    # Ctrl-C in a terminal reaches the whole foreground group: the grader decides, we follow EOF.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    sock.set_inheritable(False)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # orphans then go to init, which reaps them too
    import_s = _preload()
    # Freeze what the imports allocated: children then never touch (and copy) those pages for GC.
    gc.disable()
    gc.collect()
    gc.freeze()
    # Our own pidfd goes with it: a kernel shares our uid and pid namespace and can stop us
    # (SIGSTOP); the grader resumes us through it, from outside any namespace.
    itself = os.pidfd_open(os.getpid())
    channel.send(sock, {"op": "ready", "pid": os.getpid(), "threads": _thread_count(), "import_s": import_s},
                 (itself,))
    os.close(itself)
    Zygote(sock).serve()
    # Done: the interpreter's own teardown, with torch loaded, would only keep the grader waiting.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
