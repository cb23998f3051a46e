"""A Popen-like handle on a forked kernel, which is not this process's child.

Liveness comes from the kernel's pidfd (race-free, and no reaping needed here: the zygote reaps
it); the exit status and CPU time come from the zygote that reaped it (:class:`ExitReports`, which
:class:`~.client.Zygote` is).
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import time
from typing import Protocol

__all__ = ["ExitReports", "ForkedProcess"]


class ExitReports(Protocol):
    """Who reaped a forked kernel, and says how it ended."""

    def exit_status(self, zygote_pid: int, timeout: float) -> tuple[int, float | None]:
        """The kernel's exit code and CPU seconds (None where unknown), once it has exited."""
        ...


def _namespace_pid(pidfd: int) -> int:
    """The pid a pidfd refers to, as this process sees it (the zygote may see another)."""
    with open(f"/proc/self/fdinfo/{pidfd}", encoding="ascii") as info:
        for line in info:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise OSError("this Linux kernel shows no pid in a pidfd's fdinfo")


class ForkedProcess:
    """What jupyter_client's provisioner needs of a kernel process: poll, wait, signals, pid."""

    stdin = stdout = stderr = None

    def __init__(self, zygote: ExitReports, zygote_pid: int, pidfd: int) -> None:
        self.zygote = zygote
        self.zygote_pid = zygote_pid
        self.pidfd = pidfd
        self.pid = _namespace_pid(pidfd)
        self.returncode: int | None = None
        self.cpu_s: float | None = None

    def _exited(self) -> bool:
        if self.pidfd < 0:
            return True
        ready, _, _ = select.select([self.pidfd], [], [], 0)
        return bool(ready)

    def poll(self) -> int | None:
        if self.returncode is None and self._exited():
            self.returncode, self.cpu_s = self.zygote.exit_status(self.zygote_pid, timeout=2.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel"], timeout or 0)
            select.select([self.pidfd], [], [], 0.05)
        return self.returncode  # type: ignore[return-value]

    async def exited(self, timeout: float) -> bool:
        """Whether the kernel exits within ``timeout`` seconds, awaited on its pidfd."""
        if self._exited():
            return True
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()

        def ready() -> None:
            if not done.done():
                done.set_result(True)

        loop.add_reader(self.pidfd, ready)
        try:
            await asyncio.wait_for(done, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            loop.remove_reader(self.pidfd)

    def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group (its DataLoader workers too), as Popen kernels get."""
        if self.poll() is not None:
            return  # gone: its pid may already name another process
        try:
            os.killpg(self.pid, signum)
        except OSError:
            signal.pidfd_send_signal(self.pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
