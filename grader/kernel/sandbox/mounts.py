"""A kernel's own view of the file system, built with mount(2) in a mount namespace of its own.

A view is a list of steps, applied in order in the kernel's process (after ``unshare``), much
as bubblewrap applies its arguments:

- ``["readonly"]``: every mount there is becomes read-only (``mount_setattr``, recursively);
- ``["proc"]``: a fresh ``/proc``, for a kernel in a pid namespace of its own;
- ``["cover", path]``: an empty tmpfs over a folder (``/dev/null`` over a file): what was there is
  out of sight;
- ``["tmpfs", path, bytes, mode]``: a fresh, writable tmpfs of that size (``/tmp``, the scratch folder);
- ``["keep", path, writable]``: the folder as it was before the view began, bound back at its
  own path (inside a cover or a tmpfs; read-only unless ``writable``);
- ``["seal"]``: the covers become read-only, once everything kept is bound into them.

Folders to keep are opened (``O_PATH``) before the first step, so that a cover over their parent
does not hide them from the bind. :func:`drop_capabilities` ends a view: a kernel keeps every
capability of the user namespace it created, and could otherwise unmount a cover.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from typing import Any

__all__ = ["apply_view", "drop_capabilities", "map_ids", "unshare"]

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT = 1, 2, 4, 8, 32
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_MS_ATIME = 1024 | 2048 | 4096  # MS_NOATIME, MS_NODIRATIME, MS_RELATIME
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (the unified syscall table)
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 1
_PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_COVER_OPTIONS = "size=64k,mode=0755"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _text(value: str | None) -> bytes | None:
    return value.encode() if value is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(_text(source), _text(target), _text(fstype), flags, _text(data)), f"mount {target}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def map_ids(uid: int, gid: int) -> None:
    """After ``unshare(CLONE_NEWUSER)``: the caller's own uid and gid, mapped to themselves."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _all_readonly() -> None:
    attr = _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0)
    result = _libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, b"/", _AT_RECURSIVE, ctypes.byref(attr),
                           ctypes.sizeof(attr))
    _check(0 if result == 0 else -1, "mount_setattr(/, read-only)")


def _mount_point(path: str, like: int) -> None:
    """Make ``path`` exist (in a cover or a tmpfs) as what the kept ``like`` is: a folder or a file."""
    if os.path.lexists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.isdir(f"/proc/self/fd/{like}"):
        os.mkdir(path, 0o755)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def _remount_flags(path: str, writable: bool) -> int:
    # A user namespace may add restrictions to a bind mount but never drop those it inherited
    # (noexec, the atime mode): keep them as statvfs reports them (ST_* equal MS_* for these).
    inherited = os.statvfs(path).f_flag & (_MS_NOEXEC | _MS_ATIME)
    return _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV | inherited | (0 if writable else _MS_RDONLY)


def apply_view(steps: Sequence[Sequence[Any]]) -> None:
    """Build the view (see the module docstring) in the calling process's own mount namespace."""
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing done here leaks back out
    kept = {str(s[1]): os.open(str(s[1]), os.O_PATH) for s in steps if s[0] == "keep" and os.path.exists(s[1])}
    covers: list[str] = []
    try:
        for step in steps:
            kind = step[0]
            if kind == "readonly":
                _all_readonly()
            elif kind == "proc":
                _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
            elif kind == "cover" and os.path.isdir(step[1]):
                _mount("tmpfs", step[1], "tmpfs", _MS_NOSUID | _MS_NODEV, _COVER_OPTIONS)
                covers.append(step[1])
            elif kind == "cover" and os.path.exists(step[1]):
                _mount("/dev/null", step[1], None, _MS_BIND)
            elif kind == "tmpfs" and os.path.isdir(step[1]):
                _mount("tmpfs", step[1], "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={int(step[2])},mode={step[3]}")
            elif kind == "keep" and step[1] in kept:
                path, writable = str(step[1]), bool(step[2])
                _mount_point(path, kept[path])
                _mount(f"/proc/self/fd/{kept[path]}", path, None, _MS_BIND | _MS_REC)
                _mount(None, path, None, _remount_flags(path, writable))
            elif kind == "seal":
                for cover in covers:
                    _mount(None, cover, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV, _COVER_OPTIONS)
    finally:
        for fd in kept.values():
            os.close(fd)
    os.chdir(os.getcwd())  # the working folder again, through the new mounts


def drop_capabilities() -> None:
    """Give up every capability, for good: the bounding set, the ambient set, then the rest."""
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as last:
        for cap in range(int(last.read()) + 1):
            _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3: two words
    _check(_libc.capset(ctypes.byref(header), data), "capset")
