"""The syscall filter a kernel runs under in every cage that shares a kernel with others.

Installed through libseccomp (the ``pyseccomp`` binding) in the kernel's own process, after its
cage is built and before its interpreter starts. Everything is allowed but:

- (without a network namespace: container mode) ``socket()`` of any family but ``AF_UNIX`` and
  route netlink: no internet, packet or other netlink sockets (the kernel's own transport is Unix
  sockets). Route netlink stays because libzmq resolves every TCP address through ``getifaddrs``
  and aborts when that fails, and ipykernel binds one (its pipe for subprocess output, which then
  fails cleanly); without ``CAP_NET_ADMIN`` it only lists the container's own interfaces.
  ``io_uring`` is refused too: it opens sockets out of the filter's sight;
- ``ptrace``, ``process_vm_readv``/``writev`` and ``pidfd_getfd``: no reading or writing another
  process, the grader, the zygote or a sibling kernel;
- ``kill`` aimed at a negative pid: -1 (everything the caller may signal) or a process group.
  The kernel's own group is still ``kill(0, sig)``; libseccomp cannot compare one argument
  twice, so ``-own_pgid`` is refused with the others;
- new namespaces and mounts (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*`` flag,
  ``mount`` and its newer API): the view a cage built cannot be undone or escaped.
  ``clone3`` passes its flags in memory, out of a filter's reach: it answers ``ENOSYS`` and libc
  falls back to ``clone``;
- ``bpf``, ``perf_event_open``, ``userfaultfd`` and the key-ring calls: kernel attack surface no
  notebook needs.
"""

from __future__ import annotations

import errno
import functools
import socket
from typing import Any

__all__ = ["install", "problem"]

# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (NEWTIME exists for clone3 only).
_CLONE_NEW = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
_AF_MAX, _NETLINK_ROUTE = 46, 0
_DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "unshare", "setns", "mount",
           "umount2", "pivot_root", "open_tree", "move_mount", "fsopen", "fsmount", "fspick", "mount_setattr",
           "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key")
_NOT_THERE = ("clone3", "io_uring_setup", "io_uring_enter", "io_uring_register")


def _binding() -> Any:
    import pyseccomp

    return pyseccomp


@functools.cache
def problem() -> str | None:
    """Why no filter can be installed here, or None."""
    try:
        _binding()
    except (ImportError, OSError) as exc:  # the binding loads libseccomp.so.2 when imported
        return f"libseccomp cannot be loaded ({exc}; apt-get install libseccomp2)"
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            if not any(line.startswith("Seccomp:") for line in status):
                return "this Linux kernel has no seccomp"
    except OSError as exc:
        return f"cannot read /proc/self/status: {exc}"
    return None


def install(*, sockets: bool) -> None:
    """Load the filter into the calling (single-threaded) process; it holds for all it starts.

    ``sockets``: refuse the socket families too, for a kernel without a network namespace of its
    own (elsewhere the namespace has no network, and its loopback carries ipykernel's pipe).
    The caller has set ``PR_SET_NO_NEW_PRIVS`` (or is privileged): the kernel insists on one.
    """
    sc = _binding()
    rules = sc.SyscallFilter(sc.ALLOW)
    if sockets:
        _refuse_sockets(sc, rules)
    for name in _DENIED:
        _add(sc, rules, sc.ERRNO(errno.EPERM), name)
    for name in _NOT_THERE:
        _add(sc, rules, sc.ERRNO(errno.ENOSYS), name)
    # The 32-bit value the kernel reads: a negative pid, sign-extended or not.
    rules.add_rule(sc.ERRNO(errno.EPERM), "kill", sc.Arg(0, sc.MASKED_EQ, 0x80000000, 0x80000000))
    for flag in _CLONE_NEW:
        rules.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    rules.load()


def _refuse_sockets(sc: Any, rules: Any) -> None:
    # The kernel reads the family as a 32-bit int: compare the low half, and refuse any higher value.
    for family in range(_AF_MAX):
        if family not in (socket.AF_UNIX, socket.AF_NETLINK):
            rules.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, family))
    rules.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.GE, _AF_MAX))
    rules.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.MASKED_EQ, 0xFFFFFFFF, socket.AF_NETLINK),
                   sc.Arg(2, sc.NE, _NETLINK_ROUTE))


def _add(sc: Any, rules: Any, action: int, name: str) -> None:
    try:
        rules.add_rule(action, name)
    except (OSError, ValueError, RuntimeError):
        pass  # a call this libseccomp does not know: older than the call, and so is the kernel
