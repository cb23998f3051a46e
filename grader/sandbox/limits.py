"""The limits every cage shares: rlimits applied in the kernel, and a pids cgroup per kernel.

Memory is RLIMIT_DATA, not RLIMIT_AS: a torch kernel maps ~4 GB of address space just by
importing, and CUDA reserves far more, none of it memory in use. Processes are bounded by a pids
cgroup where the grader may make one (root, a writable cgroup file system), and by RLIMIT_NPROC
where that binds: it counts the processes of the kernel's real uid, so it binds a kernel with a
uid of its own (container mode) and, since Linux 5.14, a non-root kernel in a user namespace of
its own (the count is kept per namespace). It never binds root, and for a kernel that shares
the grader's uid outside any namespace it would count every process of that user.
"""

from __future__ import annotations

import functools
import glob
import os
import random
import resource
import shutil
import signal
import time

from ..config import Limits
from .folders import checks_data_dir, owner_gone

__all__ = ["adopt", "apply_limits", "join_cgroup", "kill_cgroup", "pids_cgroup", "pids_cgroups_work",
           "sweep_cgroups"]

_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1 pids, then the unified v2


def apply_limits(limits: Limits, *, processes: bool = False) -> None:
    """setrlimit for the calling process (a kernel about to start, or a freshly forked one).

    ``processes``: also RLIMIT_NPROC, for a kernel where it binds (see the module docstring).
    """
    wanted = [
        (resource.RLIMIT_DATA, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if processes:
        wanted.append((resource.RLIMIT_NPROC, limits.processes))
    for kind, value in wanted:
        _soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def pids_cgroup(limit: int) -> str | None:
    """A new pids cgroup capped at ``limit`` (its path), or None where none can be made."""
    if os.geteuid() != 0:
        return None
    for base in _CGROUP_ROOTS:
        v1 = base.endswith("/pids")
        if not os.path.isdir(base) or (not v1 and "pids" not in _read(f"{base}/cgroup.subtree_control").split()):
            continue
        # Named after this process's checks-data folder, whose lock says whether its owner lives.
        path = os.path.join(base, f"{checks_data_dir().name}-{random.getrandbits(40):010x}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as handle:
                handle.write(str(limit))
            return path
        except OSError:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else None
    return None


@functools.lru_cache(maxsize=None)
def pids_cgroups_work() -> bool:
    """Whether this process can give a kernel a pids cgroup (it makes and removes a trial one)."""
    path = pids_cgroup(1)
    if path is not None:
        os.rmdir(path)
    return path is not None


def join_cgroup(cgroup: str) -> None:
    """Move the calling process into ``cgroup``; everything it forks stays there."""
    with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
        procs.write("0")


def adopt(cgroup: str | None, pid: int) -> None:
    """Put an already running kernel into its pids cgroup, from outside (a bubblewrapped forked
    kernel cannot see the cgroup files)."""
    if cgroup is not None:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))


def kill_cgroup(cgroup: str | None) -> None:
    """Kill whatever a kernel left in its cgroup (a fork bomb's children) and remove the group."""
    if cgroup is None:
        return
    for _ in range(50):
        for pid in [int(p) for p in _read(os.path.join(cgroup, "cgroup.procs")).split()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.rmdir(cgroup)
            return
        except OSError:
            time.sleep(0.02)


def sweep_cgroups() -> None:
    """Remove the empty pids cgroups of grader processes that died without cleaning up."""
    for base in _CGROUP_ROOTS:
        for group in glob.glob(os.path.join(base, "grader-d-*-*")):
            owner = os.path.basename(group).rsplit("-", 1)[0]
            if owner_gone(owner) and not _read(os.path.join(group, "cgroup.procs")).split():
                try:
                    os.rmdir(group)
                except OSError:
                    pass
