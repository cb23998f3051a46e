"""The folders a grading process makes for its kernels, outside its private work folder
(:class:`KernelFolders`), and the sweep of those a dead grader left.

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

import fcntl
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from grader.config import Limits
from grader.kernel.sandbox.claims import locked_or_closed

__all__ = ["KernelFolders", "sweep"]


def _owned(prefix: str, mode: int) -> tuple[Path, int]:
    """A new folder in the temporary folder, and the descriptor of its lock (held until released)."""
    lock, locking = tempfile.mkstemp(prefix=".grader-lock-")
    fcntl.flock(lock, fcntl.LOCK_EX)
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.rename(locking, f"{folder}.lock")  # under its name only once locked: a sweep never takes it early
    os.chmod(folder, mode)
    return folder, lock


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


class KernelFolders:
    """One grading process's zygote root and checks' data folder: each made on first use, both
    removed by :meth:`close` (a process killed first leaves them to the next :func:`sweep`)."""

    def __init__(self) -> None:
        self._zygote_root: tuple[Path, int] | None = None
        self._checks_data: tuple[Path, int] | None = None

    def zygote_root(self, size: int) -> Path:
        """The folder every forked kernel's runtime folder lies in (a tmpfs of ``size`` as root)."""
        if self._zygote_root is None:
            root, lock = _owned("grader-z-", 0o711)  # kernels under a uid of their own must reach their own folder
            self._zygote_root = root, lock
            if os.geteuid() == 0 and shutil.which("mount"):  # fails without CAP_SYS_ADMIN (a container): a folder then
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711,nosuid,nodev", "grader-zygote",
                                str(root)], capture_output=True, check=False)
        return self._zygote_root[0]

    def forked_runtime(self, limits: Limits) -> Path:
        """A kernel's runtime folder when the fork server starts it: inside the zygote root."""
        return Path(tempfile.mkdtemp(prefix="k-", dir=self.zygote_root(limits.scratch_bytes)))

    @property
    def checks_data(self) -> Path:
        """The folder for the data the checks hand to student code, readable by every kernel."""
        if self._checks_data is None:
            self._checks_data = _owned("grader-d-", 0o755)
        return self._checks_data[0]

    def close(self) -> None:
        for made in (self._zygote_root, self._checks_data):
            if made is not None:
                _remove(*made)
        self._zygote_root = self._checks_data = None


def _take(lock_path: str) -> int | None:
    """The lock of a grader process that is gone (its descriptor, now ours), or None while it lives."""
    try:
        lock = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    return locked_or_closed(lock)


def sweep() -> None:
    """Remove the folders whose owner is gone: their lock can be taken."""
    for name in glob.glob(os.path.join(tempfile.gettempdir(), "grader-[zd]-*.lock")):
        lock = _take(name)
        if lock is not None:
            _remove(Path(name[: -len(".lock")]), lock)
