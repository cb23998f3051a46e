"""The cage where the grader is root but no namespace can be made (a Docker container, Gradescope,
PrairieLearn, most CI runners): a uid of the kernel's own, file modes, and the syscall filter.

Each kernel alive at a time runs as a uid and gid of its own, leased from a pool counting down
from ``GradeConfig.kernel_uid`` (65534 by default; a claim per uid, :mod:`.claims`, held while
the kernel lives), with no supplementary groups, no new privileges and not dumpable. Signals, ``ptrace``
and ``/proc/*/environ`` then reach only processes of that uid, and RLIMIT_NPROC counts only
them. What bubblewrap's missing mounts did, file modes do: the hidden paths are closed to other
users (``chmod go-rwx``) before a kernel starts; what a kernel reads must be readable by every
user, which :func:`problem` checks as that uid. When the kernel is done, every process of its
uid is killed and what it left in the machine's shared temporary folders is removed.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from grader.errors import SandboxError
from grader.kernel.sandbox import claims, seccomp
from grader.kernel.sandbox.limits import shared_root

__all__ = ["POOL", "become", "close", "end", "lease_uid", "problem"]

POOL = 64  # kernels alive at once under one machine's graders (per grading process: running, started ahead, stopping)
_SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")
_LEASE = "grader-uid-"  # a claim (:mod:`.claims`) on one kernel uid
_PROBE = 'for p do [ -r "$p" ] && { [ ! -d "$p" ] || [ -x "$p" ]; } || printf "%s\\n" "$p"; done'


def problem(paths: Iterable[Path], uid: int) -> str | None:
    """Why this cage cannot hold a kernel here, or None. ``paths``: what the kernel must read."""
    if os.geteuid() != 0:
        return "container mode needs root (it gives every kernel a uid of its own)"
    why = seccomp.problem()
    if why is not None:
        return why
    mask = os.umask(0o022)
    os.umask(mask)
    if mask & 0o005:
        return f"the grader's umask {mask:03o} would make the data the checks write unreadable to kernels (use 022)"
    return _unreadable(tuple(str(p) for p in _with_contents(paths)), uid)


def _with_contents(paths: Iterable[Path], most: int = 500) -> list[Path]:
    """The paths, and what the data folders among them hold (a folder may be open and its files not)."""
    from grader.kernel.sandbox.environment import python_dirs

    listed, skip = [], set(python_dirs())
    for path in paths:
        listed.append(path)
        if path in skip or not path.is_dir():
            continue
        for folder, dirs, files in os.walk(path):
            listed.extend(Path(folder) / name for name in [*dirs, *files])
            if len(listed) > most:
                break
    return listed


@functools.cache
def _unreadable(paths: tuple[str, ...], uid: int) -> str | None:
    try:
        done = subprocess.run(["/bin/sh", "-c", _PROBE, "sh", *paths], user=uid, group=uid, extra_groups=[],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run a trial as the kernel's user (uid {uid}): {exc}"
    closed = done.stdout.split("\n")[0]
    if not closed:
        return None
    where = next((p for p in reversed(Path(closed).parents) if not os.stat(p).st_mode & 0o001), None)
    why = f": {where} is closed to other users (mode {stat.S_IMODE(os.stat(where).st_mode):04o})" if where else ""
    return (f"the kernel's user (uid {uid}) cannot read {closed}{why}; keep Python, the grader and the data "
            "where every user may read them (in a container image: /usr/local or /opt, not /root)")


def close(paths: Iterable[Path]) -> None:
    """Close every existing hidden path to other users: a closed folder hides all it holds."""
    for path in paths:
        try:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)


def _lease_dir() -> Path:
    """Where kernel uids are claimed: beside every other grader's claims where the pids cgroups
    are writable (any grader of the machine sees them there, whatever its ``/tmp``), else in a
    private folder of this user's in the temporary folder."""
    shared = shared_root()
    if shared is not None:
        return shared
    folder = Path(tempfile.gettempdir()) / f"grader-uids-{os.geteuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise SandboxError(f"{folder}: not a private folder of this user; remove it")
    return folder


def _status(pid: str) -> tuple[set[int], str]:
    """A process's uids (real, effective, saved, file system) and its state letter."""
    uids: set[int] = set()
    state = ""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as status:
            for line in status:
                if line.startswith("Uid:"):
                    uids = {int(v) for v in line.split()[1:]}
                elif line.startswith("State:"):
                    state = line.split()[1]
    except OSError:
        pass
    return uids, state


def _processes_of(uid: int) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            uids, state = _status(pid)
            if uid in uids and state != "Z":
                found.append(int(pid))
    return found


def lease_uid(first: int) -> tuple[int, int]:
    """A uid no other kernel holds and no process uses, and the descriptor that holds it."""
    folder = _lease_dir()
    in_use: set[int] = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            in_use |= _status(pid)[0]
    for uid in range(first, max(first - POOL, 0), -1):
        if uid in in_use:
            continue
        held = claims.hold(folder / f"{_LEASE}{uid}", mode=0o700)
        if held is not None:
            return uid, held
    raise SandboxError(f"no free kernel uid in {max(first - POOL, 0) + 1}..{first}: "
                       f"{POOL} kernels are alive at once, or other processes use those uids")


def become(*, uid: int, gid: int, own: Iterable[str]) -> None:
    """In the kernel's own process (root until now): hand it its files, then be that uid for good."""
    for path in own:
        if os.path.exists(path):
            os.chown(path, uid, gid)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def end(uid: int, lease: int) -> None:
    """After a kernel: kill every process of its uid, remove what it left in shared temporary
    folders, and give the uid back."""
    try:
        for _ in range(100):
            pids = _processes_of(uid)
            if not pids:
                break
            for pid in pids:
                _kill_if_still(pid, uid)
            time.sleep(0.01)
        for top in {tempfile.gettempdir(), *_SHARED_TMP}:
            _remove_owned(Path(top), uid)
    finally:
        claims.release(_lease_dir() / f"{_LEASE}{uid}", lease)


def _kill_if_still(pid: int, uid: int) -> None:
    try:
        handle = os.pidfd_open(pid)
    except OSError:
        return
    try:
        if uid in _status(str(pid))[0]:  # checked after the pidfd pinned it: a reused pid is not killed
            signal.pidfd_send_signal(handle, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(handle)


def _remove_owned(folder: Path, uid: int) -> None:
    """Remove what ``uid`` owns in ``folder``, looking into the folders everyone may write only."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid == uid:
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002:
            _remove_owned(Path(entry.path), uid)
