"""The kernel's syscall filter, loaded for real into a child process that then tries what it refuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.kernel.sandbox import seccomp

pytestmark = pytest.mark.skipif(seccomp.problem() is not None, reason=f"no seccomp here: {seccomp.problem()}")

# Every attempt is harmless even if the filter were missing: signal 0 sends nothing, the
# namespace and the socket are the child's own and gone with it.
_TRIES = r"""
import ctypes, errno, json, os, socket, sys, threading
from grader.kernel.sandbox import seccomp
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
os.setpgid(0, 0)  # a group of its own, visible from here (under a pid namespace a group may be outside it)
seccomp.install(sockets=sys.argv[1] == "sockets")
seen = {}
def attempt(name, call):
    try:
        result = call()
        seen[name] = "ok" if result in (None, 0) or not isinstance(result, int) or result > 0 else errno.errorcode[ctypes.get_errno()]
    except OSError as exc:
        seen[name] = errno.errorcode[exc.errno]
attempt("inet", lambda: socket.socket(socket.AF_INET).close())
attempt("inet6", lambda: socket.socket(socket.AF_INET6).close())
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close())
attempt("inet_high_bits", lambda: libc.syscall(41, 0x100000002, 1, 0))  # AF_INET with junk above 32 bits
attempt("netlink_diag", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4).close())
attempt("unix", lambda: socket.socket(socket.AF_UNIX).close())
attempt("interfaces", lambda: socket.if_nameindex() and None)  # route netlink: libzmq needs it
attempt("kill_all", lambda: os.kill(-1, 0))
attempt("kill_all_32bit", lambda: libc.syscall(62, 0xFFFFFFFF, 0))
attempt("kill_group", lambda: os.killpg(os.getpgrp(), 0))
attempt("kill_own_group", lambda: os.kill(0, 0))
attempt("ptrace", lambda: libc.ptrace(16, os.getppid(), 0, 0))
attempt("unshare", lambda: libc.unshare(0x10000000))
attempt("clone3", lambda: libc.syscall(435, 0, 0))
attempt("io_uring", lambda: libc.syscall(425, 1, 0))
thread = threading.Thread(target=lambda: seen.setdefault("thread", "ok"))
thread.start()
thread.join()
child = os.fork()
if child == 0:
    os._exit(7)
seen["fork"] = "ok" if os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 7 else "broken"
print(json.dumps(seen))
"""


def _tried(which: str) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", _TRIES, which], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_filter_refuses_the_network_signals_to_everyone_tracing_and_namespaces() -> None:
    seen = _tried("sockets")
    assert {k: seen[k] for k in ("inet", "inet6", "packet", "inet_high_bits", "netlink_diag")} == dict.fromkeys(
        ("inet", "inet6", "packet", "inet_high_bits", "netlink_diag"), "EACCES")
    assert seen["unix"] == seen["interfaces"] == "ok"  # the kernel's transport, and libzmq's address lookup
    assert seen["kill_all"] == seen["kill_all_32bit"] == seen["kill_group"] == "EPERM"
    assert seen["kill_own_group"] == "ok"
    assert seen["ptrace"] == seen["unshare"] == "EPERM"
    assert seen["clone3"] == seen["io_uring"] == "ENOSYS"  # libc falls back to clone for threads
    assert seen["thread"] == seen["fork"] == "ok"


def test_without_socket_rules_a_kernel_in_its_own_network_namespace_keeps_its_loopback() -> None:
    seen = _tried("no-sockets")
    assert seen["inet"] == seen["inet6"] == "ok"
    assert seen["kill_all"] == "EPERM" and seen["ptrace"] == "EPERM"
