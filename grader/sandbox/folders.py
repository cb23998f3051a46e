"""The folders a grading process makes for its kernels, outside its private work folder.

- The *zygote root* (``grader-z-*``, mode 0711): every forked kernel's runtime folder lies in
  it (connection file, IPC sockets, and the scratch folder ``work``); as root it is a tmpfs of
  the scratch size, so the kernels it holds fill that and not the machine's disk.
- The *checks' data* folder (``grader-d-*``, mode 0755): what the checks generate for student
  code to read (a second data set with other lengths). Any kernel must be able to read it,
  whatever its uid, so it cannot live in the grader's work folder, which is closed.

Each has a lock file beside it (``<folder>.lock``), locked by its owner for its whole life, so
that :func:`sweep` can tell the folders of grader processes that died without cleaning up (a
bulk worker killed on a timeout never runs its exit handlers). A lock, unlike a pid, means the
same in every pid namespace, and beside the folder it is seen by whoever sees the folder: a
grader with another ``/tmp`` sees neither. (What graders share beyond one ``/tmp``, their pids
cgroups and kernel uids, is claimed where all of them see it: :mod:`.claims`.)
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..config import Limits

__all__ = ["checks_data_dir", "forked_runtime", "sweep", "zygote_root"]


def _owned(prefix: str, mode: int) -> Path:
    """A new folder in the temporary folder, and its lock, held until this process ends."""
    lock, locking = tempfile.mkstemp(prefix=".grader-lock-")
    fcntl.flock(lock, fcntl.LOCK_EX)
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.rename(locking, f"{folder}.lock")  # under its name only once locked: a sweep never takes it early
    os.chmod(folder, mode)
    atexit.register(_remove, folder, lock)
    return folder


def _remove(folder: Path, lock: int | None) -> None:
    if os.path.ismount(folder):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.unlink(f"{folder}.lock")
    except OSError:
        pass
    if lock is not None:
        os.close(lock)


@functools.lru_cache(maxsize=None)
def _zygote_root(pid: int, size: int) -> Path:
    root = _owned("grader-z-", 0o711)  # kernels under a uid of their own must reach their own folder
    if os.geteuid() == 0 and shutil.which("mount"):  # fails without CAP_SYS_ADMIN (a container): a folder then
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711,nosuid,nodev", "grader-zygote",
                        str(root)], capture_output=True, check=False)
    return root


def zygote_root(size: int) -> Path:
    """This process's zygote root (made on first use)."""
    return _zygote_root(os.getpid(), size)


def forked_runtime(limits: Limits) -> Path:
    """A kernel's runtime folder when the fork server starts it: inside the zygote root."""
    return Path(tempfile.mkdtemp(prefix="k-", dir=zygote_root(limits.scratch_bytes)))


@functools.lru_cache(maxsize=None)
def _checks_data(pid: int) -> Path:
    return _owned("grader-d-", 0o755)


def checks_data_dir() -> Path:
    """This process's folder for the data its checks hand to student code (made on first use)."""
    return _checks_data(os.getpid())


def _take(lock_path: str) -> int | None:
    """The lock of a grader process that is gone (its descriptor, now ours), or None while it lives."""
    try:
        lock = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return None
    return lock


def sweep() -> None:
    """Remove the folders whose owner is gone: their lock can be taken."""
    for name in glob.glob(os.path.join(tempfile.gettempdir(), "grader-[zd]-*.lock")):
        lock = _take(name)
        if lock is not None:
            _remove(Path(name[: -len(".lock")]), lock)
