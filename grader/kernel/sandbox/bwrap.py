"""The bubblewrap cage: a minimal, read-only file system and namespaces of the kernel's own.

A fresh kernel runs as follows::

    grader ─ Popen(preexec: rlimits, SIGINT ignored, join a pids cgroup of its own)
      └─ bwrap  (no network, own pid/ipc/uts namespaces, no capabilities, a minimal file system)
           └─ python -m ipykernel_launcher

Inside, only the system, the Python installation, the grader package, the data root and the
checks' data folder (all read-only), the kernel's runtime folder (connection file, IPC sockets)
and a size-bounded tmpfs scratch folder exist: the solutions, the hidden checks, the rest of the
grader's work folder, the outputs and every other submission are simply not there, and in its
own pid namespace the kernel cannot see (or signal) the grader.

A zygote (:func:`zygote_prefix`) lives in one such sandbox with every kernel it forks, their
runtime folders under one shared root (:func:`.folders.forked_runtime`); each forked kernel then makes a
user and mount namespace of its own inside it (see :mod:`.enter`).

Interrupts: no ``--new-session``, so jupyter_client's ``killpg(SIGINT)`` reaches ipykernel; bwrap
itself ignores SIGINT (inherited ``SIG_IGN``) and ipykernel installs its own handler.
``JPY_PARENT_PID`` is 1 inside, as the kernel's parent there is bwrap's pid 1: ipykernel then
neither polls for an orphaning (bwrap's ``--die-with-parent`` does that) nor prints its "Ctrl-C
will not work" note to the terminal.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from grader.config import GradeConfig
from grader.kernel.sandbox.environment import hidden_paths, python_dirs

__all__ = ["command_prefix", "problem", "zygote_prefix"]

_SYSTEM_DIRS = ("/usr", "/etc", "/opt/conda")
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@functools.cache
def problem(bwrap: str | None = None) -> str | None:
    """Why bubblewrap cannot run here, or None when a trial sandbox starts and exits cleanly."""
    bwrap = bwrap or shutil.which("bwrap")
    if not bwrap:
        return "bwrap is not installed"
    trial = [bwrap, "--unshare-net", "--unshare-pid", "--die-with-parent", "--dev", "/dev", "--proc", "/proc",
             *_system_binds(), *_user_args(), "true"]
    try:
        done = subprocess.run(trial, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to run: {exc}"
    if done.returncode != 0:
        return "bwrap: " + done.stderr.decode("utf-8", "replace").strip()[:200]
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _user_args() -> list[str]:
    # Unprivileged bwrap needs a user namespace; as root, bwrap drops every capability itself.
    return ["--unshare-user"] if os.geteuid() != 0 else []


def _system_binds() -> list[str]:
    args: list[str] = []
    for folder in _SYSTEM_DIRS:
        if os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for link in _SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    return args


def _with_parents(path: Path, made: set[Path]) -> list[str]:
    # bwrap makes missing parents 0700: open them up, so that any uid in the sandbox can pass.
    args: list[str] = []
    for parent in reversed(path.parents):
        if parent != Path("/") and parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def command_prefix(config: GradeConfig, *, runtime: Path, scratch: Path, checks_data: Path) -> list[str]:
    """The words to put before a kernel's (or the zygote's) command.

    ``runtime`` (connection file, IPC sockets) is shared read-write at its own path;
    ``scratch`` becomes a private tmpfs of ``limits.scratch_bytes`` at its own path;
    ``checks_data`` (what the checks generate for student code) is bound read-only.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "grader", *_user_args(), *_system_binds()]
    # The fresh /tmp first: the interpreter or the project may themselves live under /tmp.
    args += ["--dev", "/dev", "--proc", "/proc", "--ro-bind-try", "/sys", "/sys",
             "--size", str(config.limits.scratch_bytes), "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
    made: set[Path] = set()
    python = python_dirs()
    for folder in python:
        args += _with_parents(folder, made) + ["--ro-bind", str(folder), str(folder)]
    for device in sorted(glob.glob("/dev/nvidia*")):  # CUDA, where the machine has it
        args += ["--dev-bind", device, device]
    for hidden in hidden_paths(config):  # a hidden folder inside a bound one: cover it
        if hidden.is_dir() and any(_inside(hidden, f) and hidden != f for f in python):
            args += ["--tmpfs", str(hidden)]
    for folder in (Path(config.data_root).resolve(), checks_data.resolve()):
        if folder.is_dir():
            args += _with_parents(folder, made) + ["--ro-bind", str(folder), str(folder)]
    args += _with_parents(runtime, made) + ["--bind", str(runtime), str(runtime)]
    args += ["--perms", "01777", "--size", str(config.limits.scratch_bytes), "--tmpfs", str(scratch),
             "--chdir", str(scratch), "--setenv", "JPY_PARENT_PID", "1", "--"]
    return args


def zygote_prefix(config: GradeConfig, *, zygote_root: Path, checks_data: Path) -> list[str]:
    """The command prefix for a zygote whose children are this config's kernels.

    One sandbox holds the zygote and, one after another, the kernels it forks: every kernel's
    runtime folder lies under one shared root bound into it (a tmpfs of ``limits.scratch_bytes``
    where the grader may mount one); the scratch folder is each kernel's own (``runtime/work``).
    """
    return command_prefix(config, runtime=zygote_root, scratch=Path(tempfile.gettempdir()) / "zygote",
                          checks_data=checks_data)
