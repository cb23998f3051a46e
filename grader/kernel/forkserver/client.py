"""The grader's side of the fork server: start zygotes, ask them for kernels, watch those kernels.

One zygote serves every kernel whose *interpreter-start* settings match (:data:`IMPORT_TIME_ENV`:
what libraries read once, when the zygote imports them); another set of values gets another
zygote. A zygote is replaced transparently when it has died or when the environment it imported
has changed (an install into the venv, an edit of this package).

:func:`zygote_command` is the one place the zygote's command line is built; the sandbox wraps it
with a prefix (``bwrap ... --``) through the ``prefix`` argument. Per-kernel setup travels in the
spawn request's ``setup`` mapping and is applied in the child by
:func:`grader.kernel.forkserver.child.apply_child_setup`.

A :class:`ForkServer` owns the zygotes of whoever made it (a grading process's
:class:`~grader.kernel.host.KernelHost`), which closes it; the provisioner is handed it with each
kernel's spec. A process forked from the grader starts its own zygotes rather than sharing its
parent's channel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.errors import KernelError
from grader.kernel.forkserver import channel
from grader.kernel.forkserver.process import ForkedProcess

__all__ = ["ForkServer", "ForkServerError", "IMPORT_TIME_ENV", "Zygote", "zygote_command"]

# Read by Python or a library once, at start or at import: the zygote must be started with them
# (and with every PYTHON* variable: the interpreter reads those at start).
IMPORT_TIME_ENV = ("PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                   "LANG", "LC_ALL", "LD_LIBRARY_PATH", "PYTHONUTF8", "PYTHONIOENCODING")
# What the checks side imports anyway (torchvision.transforms alone costs ~2 s on a first import).
TRUSTED_PRELOAD = ("numpy", "torch", "torchvision.transforms", "PIL.Image", "pytest")
START_TIMEOUT = 120.0  # importing torch on a loaded 2-core machine
REPLY_TIMEOUT = 30.0
RESUME_EVERY_S = 0.5  # while waiting for the zygote: SIGCONT it this often
UNKNOWN_EXIT = 255  # the kernel is gone but its zygote died before reporting how (see process.py)


class ForkServerError(KernelError):
    """The fork server could not start or could not give a kernel."""


def zygote_command(fd: int, prefix: Sequence[str] = ()) -> list[str]:
    """The zygote's command line: ``prefix`` (e.g. a sandbox's ``bwrap ... --``), then Python.

    ``fd`` is the zygote's end of the control channel; a prefix must keep it open.
    """
    return [*prefix, sys.executable, "-m", "grader.kernel.forkserver.zygote", "--fd", str(fd)]


def environment_stamp() -> tuple[int, ...]:
    """Changes when what a zygote imported may have changed: site-packages or this package."""
    folders = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], str(Path(__file__).parent)}
    stamps = []
    for folder in sorted(folders):
        try:
            stamps.append(os.stat(folder).st_mtime_ns)
        except OSError:
            stamps.append(0)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        stamps.append(source.stat().st_mtime_ns)
    return tuple(stamps)


def _import_trusted_side() -> None:
    """Import what the checks will import, here, while the zygote imports the same in parallel.

    The checks run in this (trusted) process and compute their expected values with torch: a
    self-check pays that import once anyway, and on two cores it costs no wall time this way.
    """
    import importlib

    for name in TRUSTED_PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


class Zygote:
    """One zygote process and its control channel.

    Made, it is launched at once; :meth:`wait_ready` waits (the first time) until it has
    imported everything, so that a caller can launch it early and go on with its own work.
    """

    def __init__(self, env: Mapping[str, str], prefix: Sequence[str] = ()) -> None:
        self.env = dict(env)
        self.prefix = tuple(prefix)
        self.stamp = environment_stamp()
        self.lock = threading.Lock()
        self.exits: dict[int, tuple[int, float]] = {}
        self.next_id = 0
        self.closed = False
        self.info: dict[str, Any] | None = None  # the zygote's "ready" message
        self.pidfd = -1  # the zygote's own, sent with it
        self.sock, theirs = channel.socket_pair()
        try:
            self.process = subprocess.Popen(
                zygote_command(theirs.fileno(), self.prefix), pass_fds=(theirs.fileno(),),
                env=self.env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError as exc:
            raise ForkServerError(f"the fork server could not start: {exc}") from exc
        finally:
            theirs.close()

    def wait_ready(self) -> None:
        """Block until the zygote has imported what it preloads (at once, once it has)."""
        with self.lock:
            if self.info is not None:
                return
            _import_trusted_side()
            info = self._receive(lambda m: m.get("op") == "ready", START_TIMEOUT)
            fds = info.pop("_fds", [])
            self.pidfd = fds[0] if fds else -1
            for extra in fds[1:]:
                os.close(extra)
            self.info = info

    def resume(self) -> None:
        """SIGCONT the zygote: a kernel (same uid, same pid namespace) may have stopped it."""
        if self.pidfd >= 0:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGCONT)
            except OSError:
                pass  # gone: the next request finds out and a new zygote is started

    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    def _receive(self, wanted: Any, timeout: float) -> dict[str, Any]:
        """Read messages until ``wanted(message)``; exit reports are kept on the way."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                received = channel.recv(self.sock, timeout=max(0.0, min(remaining, RESUME_EVERY_S)))
            except TimeoutError:
                if remaining > RESUME_EVERY_S:
                    self.resume()
                    continue
                raise ForkServerError(f"the fork server did not answer within {timeout:g} s") from None
            if received is None:
                self.closed = True
                raise ForkServerError(f"the fork server exited (status {self.process.poll()})")
            message, fds = received
            if message.get("op") == "exit":
                self.exits[int(message["pid"])] = (int(message["code"]), float(message["cpu_s"]))
            if wanted(message):
                if fds:
                    message["_fds"] = fds
                return message
            for fd in fds:
                os.close(fd)

    def spawn(self, args: Sequence[str], *, env: Mapping[str, str], cwd: str,
              setup: Mapping[str, Any] | None = None) -> ForkedProcess:
        self.wait_ready()
        self.resume()
        with self.lock:
            self.next_id += 1
            request = {"op": "spawn", "id": self.next_id, "args": list(args), "env": dict(env),
                       "cwd": cwd, "setup": dict(setup or {})}
            owner = os.pidfd_open(os.getpid())
            try:
                channel.send(self.sock, request, (owner,))
            except OSError as exc:
                self.closed = True
                raise ForkServerError(f"the fork server is gone: {exc}") from exc
            finally:
                os.close(owner)
            reply = self._receive(lambda m: m.get("id") == request["id"], REPLY_TIMEOUT)
        fds = reply.pop("_fds", [])
        for fd in fds:
            os.set_inheritable(fd, False)
        if reply.get("op") != "spawned" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise ForkServerError(f"the fork server gave no kernel: {reply.get('error', reply)}")
        return ForkedProcess(self, int(reply["pid"]), fds[0])

    def exit_status(self, zygote_pid: int, timeout: float) -> tuple[int, float | None]:
        """How a kernel that has exited ended, as its zygote reports once it has reaped it."""
        with self.lock:
            if zygote_pid in self.exits:
                code, cpu = self.exits.pop(zygote_pid)
                return code, cpu
            if not self.closed:
                try:
                    message = self._receive(
                        lambda m: m.get("op") == "exit" and int(m["pid"]) == zygote_pid, timeout)
                    self.exits.pop(zygote_pid, None)
                    return int(message["code"]), float(message["cpu_s"])
                except ForkServerError:
                    pass
        return UNKNOWN_EXIT, None

    def close(self, timeout: float = 5.0) -> None:
        """End the zygote (it kills the kernels it still has)."""
        self.closed = True
        self.sock.close()
        if self.pidfd >= 0:
            self.resume()  # a stopped zygote would never read the end of file
            os.close(self.pidfd)
            self.pidfd = -1
        if self.info is None:  # still importing: it would only read the end of file after that
            timeout = 0
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ForkServer:
    """The zygotes of this process, one per interpreter-start environment and sandbox prefix."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.lock = threading.Lock()
        self.zygotes: dict[tuple, Zygote] = {}
        self.restarts = 0

    @staticmethod
    def zygote_env(env: Mapping[str, str]) -> dict[str, str]:
        kept = {key: value for key, value in env.items() if key in IMPORT_TIME_ENV or key.startswith("PYTHON")}
        kept["PATH"] = env.get("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
        kept.setdefault("OPENBLAS_NUM_THREADS", env.get("OMP_NUM_THREADS", "1"))
        kept["PYTHONDONTWRITEBYTECODE"] = "1"
        kept["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's import-time warning, not for students
        return kept

    def zygote(self, env: Mapping[str, str], prefix: Sequence[str] = ()) -> Zygote:
        """The zygote for these settings: launched, or replaced when dead or stale (maybe not ready yet)."""
        with self.lock:
            if os.getpid() != self.owner:  # forked from the grader: the channels are our parent's
                for inherited in self.zygotes.values():
                    inherited.sock.close()  # our copy only: the parent's zygote must still see its EOF
                self.zygotes = {}
                self.owner = os.getpid()
            zygote_env = self.zygote_env(env)
            key = (tuple(sorted(zygote_env.items())), tuple(prefix))
            zygote = self.zygotes.get(key)
            if zygote is not None and (not zygote.alive() or zygote.stamp != environment_stamp()):
                self.restarts += 1
                zygote.close()
                zygote = None
            if zygote is None:
                zygote = self.zygotes[key] = Zygote(zygote_env, prefix)
            return zygote

    def spawn(self, args: Sequence[str], *, env: Mapping[str, str], cwd: str,
              setup: Mapping[str, Any] | None = None, prefix: Sequence[str] = ()) -> ForkedProcess:
        zygote = self.zygote(env, prefix)
        try:
            return zygote.spawn(args, env=env, cwd=cwd, setup=setup)
        except ForkServerError:
            if zygote.alive():
                raise
            # It died between our check and the request (killed, OOM): once more with a new one.
            return self.zygote(env, prefix).spawn(args, env=env, cwd=cwd, setup=setup)

    def close(self) -> None:
        with self.lock:
            if os.getpid() == self.owner:
                for zygote in self.zygotes.values():
                    zygote.close()
            self.zygotes = {}
