"""A kernel's side of its cage: :func:`enter` builds the cage around the calling process.

It runs in a forked kernel (a ``setup["calls"]`` target, see :mod:`grader.kernel.forkserver.child`)
and, for a fresh kernel, in ``python -m grader.kernel.sandbox.enter SPEC -- COMMAND...``, which then
executes the kernel's command inside. Either way the process is single-threaded and no student
code has run yet. The spec is JSON, built by the grader (:func:`grader.kernel.sandbox.cages.kernel_spec`):

- ``mode``: ``bwrap`` (a forked kernel in its zygote's bubblewrap), ``container``, ``userns``, ``none``;
- ``limits`` (a :class:`~grader.config.Limits` as a dict) and ``nproc``: whether RLIMIT_NPROC binds;
- ``cgroup``: a pids cgroup to join, where the kernel can see the cgroup files;
- ``uid``, ``gid``, ``own``: container mode's kernel user, and the files handed over to it;
- ``private``: a user and mount namespace of its own (a forked kernel inside bubblewrap);
- ``view``: the steps of :mod:`.mounts`;
- ``filter``: the syscall filter of :mod:`.seccomp` (its socket rules in container mode only, the
  one cage without a network namespace).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
import warnings
from typing import Any

from grader.config import Limits
from grader.kernel.sandbox import container, mounts, seccomp, userns
from grader.kernel.sandbox.limits import apply_limits, join_cgroup

__all__ = ["enter", "main"]

_PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 4, 38
_NO_PIPE = "Couldn't bind IOPub Pipe"


def enter(spec: dict[str, Any]) -> None:
    """Cage the calling process as ``spec`` says. An exception here must end the process: a kernel
    that could not be caged must not run."""
    limits = Limits(**(spec.get("limits") or {}))
    mode = spec["mode"]
    if spec.get("cgroup"):
        join_cgroup(spec["cgroup"])
    apply_limits(limits)
    if mode == "userns":
        userns.enter()  # returns in a forked child, pid 1 of the new namespaces
    elif spec.get("private"):
        uid, gid = os.geteuid(), os.getegid()  # read first: unmapped, they read as 65534 in the new namespace
        mounts.unshare(mounts.CLONE_NEWUSER)
        mounts.map_ids(uid, gid)
        mounts.unshare(mounts.CLONE_NEWNS)  # after the maps: a mount namespace owned by the new user namespace
    if spec.get("view"):
        mounts.apply_view(spec["view"])
    if mode == "container":
        container.become(uid=int(spec["uid"]), gid=int(spec["gid"]), own=spec.get("own") or ())
    elif mode == "userns" or spec.get("private"):
        mounts.drop_capabilities()
    if spec.get("nproc"):  # only now: a user namespace takes its parent's count limit from its creator's
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    if mode != "none":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if spec.get("filter"):
        seccomp.install(sockets=mode == "container")
    if mode == "container":  # no TCP at all: ipykernel's pipe for subprocess output cannot bind
        warnings.filterwarnings("ignore", message=_NO_PIPE)


def main(argv: list[str] | None = None) -> None:
    """``python -m grader.kernel.sandbox.enter SPEC -- COMMAND...``: enter the cage, then become COMMAND."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m grader.kernel.sandbox.enter SPEC -- COMMAND...")
    try:
        enter(json.loads(argv[0]))
    except OSError as exc:
        sys.exit(f"grader sandbox: {exc}")
    command = argv[2:]
    if json.loads(argv[0])["mode"] == "container":
        os.environ["PYTHONWARNINGS"] = f"ignore:{_NO_PIPE}"
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
