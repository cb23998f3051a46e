"""Which cage a kernel gets, and the grader's side of it: plan, prepare, launch, release.

``auto`` takes the first cage that can hold a kernel here: bubblewrap, then container mode (as
root), then user namespaces. Where none can, grading refuses (:class:`~grader.errors.SandboxError`
names what is missing) unless the code is the user's own (``GradeConfig.trusted_code``, a
student's self-check), which then runs with limits only. ``--sandbox none`` is the explicit
opt-in for notebooks the user trusts. Each :class:`Sandbox` says what it does not stop (``gaps``);
the results and the reports carry that, and the hostile suite skips what a cage does not claim.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.config import GradeConfig, Limits
from grader.errors import SandboxError
from grader.i18n import T
from grader.kernel.sandbox import bwrap, container, seccomp, userns
from grader.kernel.sandbox.box import Sandbox
from grader.kernel.sandbox.environment import hidden_paths, python_dirs, readable_paths
from grader.kernel.sandbox.limits import apply_limits, cgroup_lost, join_cgroup, kill_cgroup, pids_cgroups_work
from grader.kernel.sandbox.premises import Premises
from grader.kernel.sandbox.words import CGROUP_LOST, GAPS, NO_PROCESS_LIMIT, NOTHING_HOLDS, OWN_CODE, UNCAGED

__all__ = ["CAGES", "MODES", "Premises", "Sandbox", "checked", "kernel_spec", "launch", "plan", "prepare", "release",
           "zygote_prefix"]

CAGES = ("bwrap", "container", "userns")  # in the order ``auto`` tries them
MODES = ("auto", *CAGES, "none")

_STATIC_GAPS = {
    "bwrap": (),
    "container": ("other_files", "writes", "process_list", "scratch_size"),
    "userns": ("other_files",),
    "none": tuple(GAPS),
}


def _nproc_binds(mode: str, config: GradeConfig) -> bool:
    """Whether RLIMIT_NPROC bounds this kernel alone (see :mod:`.limits`)."""
    if mode == "container":
        return True
    if mode == "userns" or (mode == "bwrap" and config.kernel == "forkserver"):  # a user namespace of its own
        return os.geteuid() != 0
    return False


def _problem(mode: str, config: GradeConfig) -> str | None:
    if mode == "bwrap":
        return bwrap.problem()
    if mode == "container":
        return container.problem(readable_paths(config), config.kernel_uid)
    return seccomp.problem() or userns.problem()


def _caged(mode: str, config: GradeConfig) -> Sandbox:
    gaps = list(_STATIC_GAPS[mode])
    warning = None
    if not pids_cgroups_work() and not _nproc_binds(mode, config):
        gaps.append("processes")
        warning = NO_PROCESS_LIMIT
    return Sandbox(mode, warning=warning, gaps=tuple(gaps))


def _data_root_made(config: GradeConfig) -> str | None:
    """Make the data folder if it is missing (empty: the course's data is written into it later,
    and a cage that binds or probes it sees that through it); why it cannot be made, or None."""
    root = Path(config.data_root)
    try:
        root.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as error:
        return f"the data folder {root} does not exist and cannot be made: {error.strerror or error}"
    return None


def plan(config: GradeConfig) -> Sandbox:
    """The cage for the next kernel, from ``config.sandbox`` and what this machine allows."""
    if config.sandbox not in MODES:
        raise SandboxError(f"unknown sandbox mode {config.sandbox!r} (one of {', '.join(MODES)})")
    if config.sandbox == "none":
        return Sandbox("none", UNCAGED.format(why="--sandbox none"), gaps=_STATIC_GAPS["none"])
    missing = _data_root_made(config)
    if missing is not None:
        raise SandboxError(missing)
    problems = []
    for mode in CAGES if config.sandbox == "auto" else (config.sandbox,):
        why = _problem(mode, config)
        if why is None:
            return _caged(mode, config)
        if config.sandbox == mode:
            raise SandboxError(f"--sandbox {mode} was asked for but cannot run here: {why}")
        problems.append(f"{mode}: {why}")
    if config.trusted_code:
        return Sandbox("none", OWN_CODE.format(why="; ".join(problems)), gaps=_STATIC_GAPS["none"])
    raise SandboxError(NOTHING_HOLDS.format(why="; ".join(problems)))


def prepare(box: Sandbox, config: GradeConfig, premises: Premises, *, runtime: Path, scratch: Path) -> Sandbox:
    """Hand the kernel its folders and a pids cgroup, and in container mode its own uid."""
    for path in (runtime, scratch):
        os.chmod(path, 0o700)
    cgroup = premises.cgroups.new(config.limits.processes)
    uid, lease = None, -1
    if box.mode == "container":
        why = container.problem([premises.checks_data], config.kernel_uid)  # a temporary folder closed to others
        if why is not None:
            raise SandboxError(f"container mode cannot hold this kernel: {why}")
        container.close(hidden_paths(config))
        uid, lease = container.lease_uid(config.kernel_uid)
        for path in (runtime, scratch):
            os.chown(path, uid, uid)
    gaps, warning = box.gaps, box.warning
    if cgroup is None and "processes" not in gaps and not _nproc_binds(box.mode, config):
        gaps = (*gaps, "processes")
        warning = NO_PROCESS_LIMIT if warning is None else warning + T.same(" ") + NO_PROCESS_LIMIT
    return dataclasses.replace(box, cgroup=cgroup, uid=uid, lease=lease, gaps=gaps, warning=warning)


def checked(box: Sandbox, *, kernel_alive: bool) -> Sandbox:
    """The cage as it held once the cells ran: without its cgroup, and saying so, where the kernel
    never joined it (removed meanwhile by something else on the machine)."""
    if not cgroup_lost(box.cgroup, kernel_alive=kernel_alive):
        return box
    gaps = box.gaps if "processes" in box.gaps else (*box.gaps, "processes")
    warning = CGROUP_LOST if box.warning is None else box.warning + T.same(" ") + CGROUP_LOST
    return dataclasses.replace(box, cgroup=None, gaps=gaps, warning=warning)


def release(box: Sandbox) -> None:
    """After the kernel: kill what it left behind (its cgroup, its uid) and give the uid back."""
    kill_cgroup(box.cgroup)
    if box.uid is not None:
        container.end(box.uid, box.lease)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _homes() -> set[Path]:
    """The user's home folders: the account's, and the one HOME names if it differs."""
    homes = {Path.home().resolve()}
    try:
        homes.add(Path(pwd.getpwuid(os.geteuid()).pw_dir).resolve())
    except KeyError:  # a uid without an account (a container's numeric user)
        pass
    return homes


def _userns_view(config: GradeConfig, premises: Premises, *, runtime: Path, scratch: Path) -> list[list[Any]]:
    """Everything read-only; the user's folders, the shared temporary ones and the hidden paths
    covered; what the kernel reads bound back; a fresh, size-bounded /tmp, /dev/shm and scratch."""
    size = config.limits.scratch_bytes
    hidden = hidden_paths(config)
    covers = sorted({*_homes(), Path("/var/tmp"), Path(f"/run/user/{os.geteuid()}"), *hidden})
    covers = [c for c in covers if c != Path("/") and not _inside(c, Path("/tmp"))]
    covers = [c for c in covers if not any(o != c and _inside(c, o) for o in covers)]
    keeps = [(p, False) for p in (*python_dirs(), Path(config.data_root).resolve(), premises.checks_data)]
    keeps.append((runtime, True))
    steps: list[list[Any]] = [["proc"], ["readonly"], ["tmpfs", "/tmp", size, "1777"]]
    steps += [["cover", str(c)] for c in covers]
    steps += [["keep", str(p), writable] for p, writable in sorted(keeps, key=lambda k: len(k[0].parts))]
    steps += [["cover", str(h)] for h in hidden if any(_inside(h, p) and h != p for p, _ in keeps)]
    steps += [["tmpfs", str(scratch), size, "0700"], ["tmpfs", "/dev/shm", size, "1777"], ["seal"]]
    return steps


def kernel_spec(box: Sandbox, config: GradeConfig, premises: Premises, *, runtime: Path, scratch: Path,
                connection_file: Path) -> dict[str, Any]:
    """What the kernel's own process builds (:func:`grader.kernel.sandbox.enter.enter`), as JSON data."""
    forked = config.kernel == "forkserver"
    spec: dict[str, Any] = {"mode": box.mode, "limits": dataclasses.asdict(config.limits),
                            "nproc": _nproc_binds(box.mode, config), "filter": box.mode != "none"}
    if box.cgroup is not None and not (box.mode == "bwrap" and forked):  # bwrap hides the cgroup files
        spec["cgroup"] = box.cgroup
    if box.mode == "container":
        spec.update(uid=box.uid, gid=box.uid, own=[str(runtime), str(scratch), str(connection_file)])
    elif box.mode == "userns":
        spec["view"] = _userns_view(config, premises, runtime=runtime, scratch=scratch)
    elif box.mode == "bwrap":
        # Inside the sandbox it shares with its zygote (and the kernel started ahead): a user and
        # mount namespace of its own, where it sees only its own runtime folder and a fresh /dev/shm.
        root = premises.folders.zygote_root(config.limits.scratch_bytes)
        spec.update(private=True, view=[["cover", str(root)], ["keep", str(runtime), True],
                                        ["tmpfs", "/dev/shm", config.limits.scratch_bytes, "1777"], ["seal"]])
    return spec


def _preexec(box: Sandbox, limits: Limits) -> Callable[[], None]:
    """What Popen runs between fork and exec of a fresh kernel in bubblewrap or without a cage."""

    def setup() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # bwrap must survive the kernel's interrupts
        if box.cgroup is not None:
            join_cgroup(box.cgroup)
        apply_limits(limits)

    return setup


def zygote_prefix(box: Sandbox, config: GradeConfig, premises: Premises) -> list[str]:
    """The command a zygote for this cage runs inside: bubblewrap's (the kernels it forks share
    its sandbox), or nothing (each forked kernel builds its own cage: :mod:`.enter`)."""
    if box.mode != "bwrap":
        return []
    folders = premises.folders
    return bwrap.zygote_prefix(config, zygote_root=folders.zygote_root(config.limits.scratch_bytes),
                               checks_data=folders.checks_data)


def launch(box: Sandbox, config: GradeConfig, premises: Premises, *, runtime: Path, scratch: Path,
           connection_file: Path) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """How to start this kernel: (command prefix, provisioner config, ``start_kernel`` arguments)."""
    checks_data = premises.checks_data
    if config.kernel == "forkserver":
        spec = kernel_spec(box, config, premises, runtime=runtime, scratch=scratch, connection_file=connection_file)
        start = {"child_setup": {"calls": [["grader.kernel.sandbox.enter:enter", {"spec": spec}]]}}
        return [], {"zygote_prefix": zygote_prefix(box, config, premises)}, start
    if box.mode == "bwrap":
        prefix = bwrap.command_prefix(config, runtime=runtime, scratch=scratch, checks_data=checks_data)
        return prefix, {}, {"preexec_fn": _preexec(box, config.limits)}
    if box.mode == "none":
        return [], {}, {"preexec_fn": _preexec(box, config.limits)}
    spec = kernel_spec(box, config, premises, runtime=runtime, scratch=scratch, connection_file=connection_file)
    return [sys.executable, "-m", "grader.kernel.sandbox.enter", json.dumps(spec), "--"], {}, {}
