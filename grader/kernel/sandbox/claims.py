"""Claims that every grader on a machine judges alike: a directory held with ``flock`` for as
long as its owner lives.

Whether the owner of a shared thing (a pids cgroup, a kernel uid) still lives must get the same
answer from every grader on the machine, whatever its ``/tmp``, pid namespace or container. A pid
means nothing in another pid namespace, and a lock file in a temporary folder is invisible to a
grader with another one. A lock on the directory itself is neither: it belongs to the directory's
inode, which every mount of that file system shares, and the kernel drops it when its owner dies,
however it dies. So a directory whose lock can be taken is provably abandoned.

Two races are closed here: a sweep holds the lock while it removes the directory, and whoever
takes a lock then checks that the directory is still the one under its name (a sweep may have
removed it in between).

The pids cgroup file system is where such directories live when the grader may make cgroups:
it is the one file system that graders sharing a machine's processes see alike (a container's
own ``/tmp`` is not). A directory there is a small, empty cgroup.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["abandoned", "hold", "locked_or_closed", "release"]


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None


def _still_there(path: Path, fd: int) -> bool:
    try:
        now = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino) and held.st_nlink > 0


def hold(path: Path, *, mode: int = 0o755, wait: bool = False) -> int | None:
    """Hold the directory ``path`` (made if missing) for this process: the descriptor that holds
    it, or None while another live process holds it.

    ``wait``: wait for the lock (for a name this process just made up, which only a sweep can
    hold, and only for a moment); otherwise a held lock is an answer.
    """
    for _ in range(100):
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            pass
        fd = _open(path)
        if fd is None:
            continue  # removed by a sweep between the mkdir and the open: make it again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        if _still_there(path, fd):
            return fd
        os.close(fd)  # a sweep removed it before we locked it: make it again
    raise OSError(f"{path}: could not be held (made and removed again 100 times)")


def release(path: Path, fd: int) -> None:
    """Give up a held directory: remove it while still holding it, then let go."""
    try:
        os.rmdir(path)
    except OSError:
        pass  # not empty (what it holds outlived its owner): the next sweep sees it abandoned
    finally:
        os.close(fd)


def abandoned(path: Path) -> int | None:
    """If nobody holds ``path``, the descriptor that now holds it (remove what it holds, then
    :func:`release` it); None while its owner lives or once it is gone."""
    fd = _open(path)
    return None if fd is None else locked_or_closed(fd)


def locked_or_closed(fd: int) -> int | None:
    """``fd`` once this process holds its lock; closed, and None, while another holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
