"""The limits every cage shares: rlimits applied in the kernel, and a pids cgroup per kernel.

Memory is RLIMIT_DATA, not RLIMIT_AS: a torch kernel maps ~4 GB of address space just by
importing, and CUDA reserves far more, none of it memory in use. Processes are bounded by a pids
cgroup where the grader may make one (root, a writable cgroup file system), and by RLIMIT_NPROC
where that binds: it counts the processes of the kernel's real uid, so it binds a kernel with a
uid of its own (container mode) and, since Linux 5.14, a non-root kernel in a user namespace of
its own (the count is kept per namespace). It never binds root, and for a kernel that shares
the grader's uid outside any namespace it would count every process of that user.

A grading process's kernels' cgroups lie inside one cgroup of its own (``grader-o-…``), held
with a lock on its directory (:mod:`.claims`) for the process's life: another grader on the
machine, whatever its ``/tmp`` or pid namespace, removes it only once that lock is free.
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
from pathlib import Path

from grader.config import Limits
from grader.kernel.sandbox import claims

__all__ = ["CgroupOwner", "adopt", "apply_limits", "cgroup_lost", "join_cgroup", "kill_cgroup", "pids_cgroups_work",
           "shared_root", "sweep_cgroups"]

_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1 pids, then the unified v2
_OWNER = "grader-o-"  # a grader process's own cgroup, its kernels' inside


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


def _bases() -> list[str]:
    """The pids hierarchies where a cgroup can get a process limit."""
    found = []
    for base in _CGROUP_ROOTS:
        v1 = base.endswith("/pids")
        if os.path.isdir(base) and (v1 or "pids" in _read(f"{base}/cgroup.subtree_control").split()):
            found.append(base)
    return found


def shared_root() -> Path | None:
    """Where this process may make directories that every grader of the machine sees alike
    (:mod:`.claims`): the first writable pids hierarchy, or None."""
    if os.geteuid() != 0:
        return None
    return next((Path(base) for base in _bases() if os.access(base, os.W_OK)), None)


class CgroupOwner:
    """One grading process's own cgroup (``grader-o-…``), its kernels' cgroups inside: made on
    first use and held (:mod:`.claims`) until :meth:`close`, which kills what is left in it."""

    def __init__(self) -> None:
        self._made: tuple[Path, int] | None = None
        self._tried = False

    def _owner(self) -> Path | None:
        if self._tried:
            return self._made[0] if self._made else None
        self._tried = True
        if os.geteuid() != 0:
            return None
        for base in _bases():
            path = Path(base) / f"{_OWNER}{random.getrandbits(48):012x}"
            try:
                held = claims.hold(path, wait=True)  # a name of our own: only a sweep holds it, briefly
                if held is None:
                    continue
                if not base.endswith("/pids"):  # cgroup v2: its children get the pids controller
                    (path / "cgroup.subtree_control").write_text("+pids")
            except OSError:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else None
                continue
            self._made = path, held
            return path
        return None

    def new(self, limit: int) -> str | None:
        """A new pids cgroup capped at ``limit`` (its path), or None where none can be made."""
        owner = self._owner()
        if owner is None:
            return None
        path = owner / f"k-{random.getrandbits(40):010x}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
            return str(path)
        except OSError:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else None
        return None

    def close(self) -> None:
        if self._made is not None:
            owner, held = self._made
            for group in owner.glob("k-*"):
                kill_cgroup(str(group))
            claims.release(owner, held)
        self._made, self._tried = None, False


@functools.cache
def pids_cgroups_work() -> bool:
    """Whether a kernel can get a pids cgroup on this machine (a trial one is made and removed)."""
    trial = CgroupOwner()
    try:
        return trial.new(1) is not None
    finally:
        trial.close()


def join_cgroup(cgroup: str, pid: int = 0) -> None:
    """Move process ``pid`` (0: the calling one) into ``cgroup``; everything it forks stays there.

    A cgroup that cannot be joined (removed meanwhile) is bookkeeping, never a reason for a kernel
    not to start: the kernel runs without it, and the grader says so (:func:`cgroup_lost`).
    """
    try:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))
    except OSError:
        pass


def adopt(cgroup: str | None, pid: int) -> None:
    """Put an already running kernel into its pids cgroup, from outside (a bubblewrapped forked
    kernel cannot see the cgroup files)."""
    if cgroup is not None:
        join_cgroup(cgroup, pid)


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
    """Remove the cgroups of grader processes that died without cleaning up: an owner's cgroup
    whose lock can be taken, with its kernels' cgroups that no process is left in."""
    for base in _bases():
        for owner in glob.glob(os.path.join(base, f"{_OWNER}*")):
            held = claims.abandoned(Path(owner))
            if held is None:
                continue
            for group in glob.glob(os.path.join(owner, "k-*")):
                if not _read(os.path.join(group, "cgroup.procs")).split():
                    try:
                        os.rmdir(group)
                    except OSError:
                        pass
            claims.release(Path(owner), held)


def cgroup_lost(cgroup: str | None, *, kernel_alive: bool) -> bool:
    """Whether a kernel ran outside its cgroup: the cgroup is gone (a cgroup that holds a process
    cannot be removed), or a live kernel is not in it."""
    if cgroup is None:
        return False
    if not os.path.isdir(cgroup):
        return True
    return kernel_alive and not _read(os.path.join(cgroup, "cgroup.procs")).split()
