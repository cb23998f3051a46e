"""The cage without root and without bubblewrap: namespaces an unprivileged user may make.

A kernel gets a user, pid, mount, network, IPC and UTS namespace of its own: it sees and signals
only its own processes, has no network (an empty network namespace) and no capability outside.
Its file system is :mod:`.mounts`' view: everything read-only; the home folder, ``/tmp``,
``/var/tmp``, the user's runtime folder and every hidden path covered; what the kernel needs
bound back. A pid namespace only takes effect for the caller's children, so :func:`enter`
forks: the child becomes pid 1 of the new namespace and goes on to be the kernel, while the
caller only waits for it and ends as it ended (the fork server and jupyter_client watch that
process). RLIMIT_NPROC binds there for a non-root user, since Linux counts it per namespace.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import json
import os
import signal
import socket
import struct
import subprocess
import sys
from typing import NoReturn

from grader.kernel.sandbox import mounts

__all__ = ["enter", "problem"]

_PR_SET_PDEATHSIG = 1
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_NAMESPACES = (mounts.CLONE_NEWUSER | mounts.CLONE_NEWNS | mounts.CLONE_NEWPID | mounts.CLONE_NEWNET
               | mounts.CLONE_NEWIPC | mounts.CLONE_NEWUTS)
TRIAL = {"mode": "userns", "view": [["proc"], ["readonly"]], "filter": True}


@functools.cache
def problem() -> str | None:
    """Why this cage cannot be built here, or None: a trial runs ``true`` in one."""
    trial = [sys.executable, "-I", "-m", "grader.kernel.sandbox.enter", json.dumps(TRIAL), "--", "true"]
    try:
        done = subprocess.run(trial, capture_output=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the user-namespace trial failed to run: {exc}"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return "user namespaces: " + (lines[-1] if lines else f"exit status {done.returncode}")[:200]
    return None


def enter() -> None:
    """Move into new namespaces; returns in the forked child (pid 1 there), never in the caller."""
    uid, gid = os.geteuid(), os.getegid()
    mounts.unshare(_NAMESPACES)
    mounts.map_ids(uid, gid)
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        ctypes.CDLL(None).sethostname(b"grader", 6)  # its own UTS namespace: the machine's name stays out
        _loopback_up()
        return
    _end_as(pid)


def _loopback_up() -> None:
    """Bring up the new network namespace's loopback: ipykernel pipes its subprocesses' output
    over 127.0.0.1 (as in bubblewrap, where the kernel has a loopback and nothing else)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(handle, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(handle, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _end_as(pid: int) -> NoReturn:
    """Wait for the kernel, then exit as it did: with its status, or by its signal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is for the kernel
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
