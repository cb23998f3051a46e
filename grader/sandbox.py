"""The cage around a student's kernel: bubblewrap around its launch, resource limits inside it.

A kernel started by the grader runs as follows (``mode == "bwrap"``)::

    grader ─ Popen(preexec: rlimits, SIGINT ignored, join a pids cgroup of its own)
      └─ bwrap  (no network, own pid/ipc/uts namespaces, no capabilities, a minimal file system)
           └─ python -m ipykernel_launcher

Inside, only the system, the Python installation, the grader package, the data root and the
checks' data folder (all read-only), the kernel's runtime folder (connection file, IPC sockets)
and a size-bounded tmpfs scratch folder exist: the solutions, the hidden checks, the rest of the
grader's work folder, the outputs and every other submission are simply not there, and in its
own pid namespace the kernel cannot see (or signal) the grader. The number of processes is
capped by a pids cgroup where the cgroup file system is writable (RLIMIT_NPROC does not bind
root). Where bubblewrap cannot run (``mode == "none"``) the same limits apply and the result
carries a warning. Kernels keep the grader's uid: they must read the data folders the checks
create, which are private to that uid.

Hooks for the fork server: :func:`zygote_prefix` is the bwrap prefix of a zygote whose kernels
all live under one shared runtime root (:func:`forked_runtime`); a forked child applies
:func:`preexec`'s setup itself (``grader.forkserver.child.sandbox_setup``), and the grader puts it
into its pids cgroup from outside (:func:`adopt`), since the cgroup files are not visible inside. Interrupts: no ``--new-session``, so
jupyter_client's ``killpg(SIGINT)`` reaches ipykernel; bwrap itself ignores SIGINT (inherited
``SIG_IGN``) and ipykernel installs its own handler. ``JPY_PARENT_PID`` is 1 inside, as the
kernel's parent there is bwrap's pid 1: ipykernel then neither polls for an orphaning (bwrap's
``--die-with-parent`` does that) nor prints its "Ctrl-C will not work" note to the terminal.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import glob
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from .config import GradeConfig, Limits
from .errors import KernelError
from .i18n import T

__all__ = [
    "GRADING_FLAG",
    "MODES",
    "Sandbox",
    "adopt",
    "apply_limits",
    "bwrap_problem",
    "command_prefix",
    "forked_runtime",
    "hidden_paths",
    "kernel_env",
    "own_user_namespace",
    "pids_cgroups_work",
    "plan",
    "preexec",
    "prepare",
    "private_mounts",
    "release",
    "sweep_stale",
    "zygote_prefix",
]

GRADING_FLAG = "GRADER_GRADING"  # tells a notebook's self-check cell that the grader runs it
# Only these reach a kernel from the grader's own environment (no tokens, no keys, no proxies).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
                   "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

MODES = ("auto", "bwrap", "none")
_SYSTEM_DIRS = ("/usr", "/etc", "/opt/conda")
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

NO_BWRAP = T(
    "샌드박스(bubblewrap)를 쓸 수 없어 자원 제한만 걸고 실행했습니다 ({why}). 커널이 네트워크와 "
    "채점기의 파일에 접근할 수 있었습니다.",
    "The sandbox (bubblewrap) could not be used ({why}); the kernel ran with resource limits only, "
    "and could reach the network and the grader's files.",
)
NO_PIDS_CGROUP = T(
    "cgroup 을 만들 수 없어 커널의 프로세스 수 제한이 적용되지 않았습니다.",
    "No pids cgroup could be made, so the kernel's process limit was not enforced.",
)


@dataclass(frozen=True)
class Sandbox:
    """How one kernel is caged: ``mode`` "bwrap" or "none", and any warning."""

    mode: str
    warning: T | None = None
    cgroup: str | None = None  # the kernel's pids cgroup, once :func:`prepare` made it

    def info(self) -> dict[str, Any]:
        """What goes into ``ExerciseResult.kernel``."""
        info: dict[str, Any] = {"sandbox": self.mode, "pids_cgroup": self.cgroup is not None}
        if self.warning is not None:
            info["warning"] = self.warning.to_dict()
        return info


@functools.lru_cache(maxsize=None)
def bwrap_problem(bwrap: str | None = None) -> str | None:
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


def plan(config: GradeConfig) -> Sandbox:
    """The sandbox for the next kernel, from ``config.sandbox`` and what this machine allows."""
    if config.sandbox not in MODES:
        raise KernelError(f"unknown sandbox mode {config.sandbox!r} (one of {', '.join(MODES)})")
    if config.sandbox == "none":
        return Sandbox("none", NO_BWRAP.format(why="--sandbox none"))
    why = bwrap_problem()
    if why is None:
        return Sandbox("bwrap")
    if config.sandbox == "bwrap":
        raise KernelError(f"the sandbox was required (--sandbox bwrap) but cannot run: {why}")
    return Sandbox("none", NO_BWRAP.format(why=why))


def hidden_paths(config: GradeConfig) -> list[Path]:
    """What a kernel must never see, even where a bind would otherwise expose it."""
    paths = [config.work_dir, *config.protected_paths]
    if config.course.solutions_dir is not None:
        paths.append(config.course.solutions_dir)
    return [Path(p).resolve() for p in paths]


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


def _python_dirs() -> list[Path]:
    """The interpreter, its libraries and the grader package: what a kernel needs to start."""
    import grader

    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
            Path(os.path.realpath(sys.executable)).parent.parent, Path(grader.__file__).resolve().parent}
    return sorted(d.resolve() for d in dirs if d.is_dir())


def command_prefix(sandbox: Sandbox, config: GradeConfig, *, runtime: Path, scratch: Path) -> list[str]:
    """The words to put before a kernel's (or the zygote's) command; empty without bubblewrap.

    ``runtime`` (connection file, IPC sockets) is shared read-write at its own path;
    ``scratch`` becomes a private tmpfs of ``limits.scratch_bytes`` at its own path.
    """
    if sandbox.mode != "bwrap":
        return []
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "grader", *_user_args(), *_system_binds()]
    # The fresh /tmp first: the interpreter or the project may themselves live under /tmp.
    args += ["--dev", "/dev", "--proc", "/proc", "--ro-bind-try", "/sys", "/sys",
             "--size", str(config.limits.scratch_bytes), "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
    made: set[Path] = set()
    python = [d for d in _python_dirs() if not any(_inside(d, o) and d != o for o in _python_dirs())]
    for folder in python:
        args += _with_parents(folder, made) + ["--ro-bind", str(folder), str(folder)]
    for device in sorted(glob.glob("/dev/nvidia*")):  # CUDA, where the machine has it
        args += ["--dev-bind", device, device]
    for hidden in hidden_paths(config):  # a hidden folder inside a bound one: cover it
        if hidden.is_dir() and any(_inside(hidden, f) and hidden != f for f in python):
            args += ["--tmpfs", str(hidden)]
    data = Path(config.data_root).resolve()
    if data.is_dir():
        args += _with_parents(data, made) + ["--ro-bind", str(data), str(data)]
    args += _with_parents(runtime, made) + ["--bind", str(runtime), str(runtime)]
    # The data the checks hand to student code (grade.py's GradingContext.work_dir): made now,
    # so that what the checks generate later shows through the bind.
    checks = Path(config.work_dir).resolve() / "checks"
    checks.mkdir(parents=True, exist_ok=True)
    args += _with_parents(checks, made) + ["--ro-bind", str(checks), str(checks)]
    args += ["--perms", "01777", "--size", str(config.limits.scratch_bytes), "--tmpfs", str(scratch),
             "--chdir", str(scratch), "--setenv", "JPY_PARENT_PID", "1", "--"]
    return args


_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1 pids, then the unified v2


def _pids_cgroup(limit: int) -> str | None:
    for base in _CGROUP_ROOTS:
        v1 = base.endswith("/pids")
        if not os.path.isdir(base) or (not v1 and "pids" not in _read(f"{base}/cgroup.subtree_control").split()):
            continue
        path = os.path.join(base, f"grader-{os.getpid()}-{random.getrandbits(40):010x}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as handle:
                handle.write(str(limit))
            return path
        except OSError:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else None
    return None


@functools.lru_cache(maxsize=None)
def pids_cgroups_work() -> bool:
    """Whether this process can give a kernel a pids cgroup (it makes and removes a trial one)."""
    path = _pids_cgroup(1) if os.geteuid() == 0 else None
    if path is not None:
        os.rmdir(path)
    return path is not None


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def prepare(sandbox: Sandbox, limits: Limits, dirs: Iterable[Path]) -> Sandbox:
    """Hand the kernel its own folders (runtime, scratch) and a pids cgroup; the sandbox to use."""
    for path in dirs:
        os.chmod(path, 0o700)
    cgroup = _pids_cgroup(limits.processes) if os.geteuid() == 0 else None
    warning = sandbox.warning
    if cgroup is None:  # RLIMIT_NPROC would count all the grader's own processes too: not a substitute
        warning = NO_PIDS_CGROUP if warning is None else warning + T.same(" ") + NO_PIDS_CGROUP
    return dataclasses.replace(sandbox, cgroup=cgroup, warning=warning)


def release(sandbox: Sandbox) -> None:
    """Kill whatever the kernel left in its cgroup (a fork bomb's children) and remove the group."""
    if sandbox.cgroup is None:
        return
    for _ in range(50):
        pids = [int(p) for p in _read(os.path.join(sandbox.cgroup, "cgroup.procs")).split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.rmdir(sandbox.cgroup)
            return
        except OSError:
            time.sleep(0.02)


def adopt(sandbox: Sandbox, pid: int) -> None:
    """Put an already running kernel (a forked one) into the sandbox's pids cgroup."""
    if sandbox.cgroup is not None:
        with open(os.path.join(sandbox.cgroup, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_stale() -> None:
    """Remove the zygote roots and pids cgroups of grader processes that died without cleaning up
    (a bulk worker killed on a timeout never runs its exit handlers)."""
    for root in glob.glob(os.path.join(tempfile.gettempdir(), "grader-z*-*")):
        owner = os.path.basename(root)[len("grader-z"):].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            subprocess.run(["umount", "-l", root], capture_output=True, check=False)
            shutil.rmtree(root, ignore_errors=True)
    for base in _CGROUP_ROOTS:
        for group in glob.glob(os.path.join(base, "grader-*-*")):
            owner = os.path.basename(group).split("-")[1]
            if owner.isdigit() and not _alive(int(owner)) and not _read(os.path.join(group, "cgroup.procs")).split():
                try:
                    os.rmdir(group)
                except OSError:
                    pass


@functools.lru_cache(maxsize=None)
def _zygote_root(pid: int, size: int) -> Path:
    if os.geteuid() == 0:
        sweep_stale()
    root = Path(tempfile.mkdtemp(prefix=f"grader-z{pid}-"))
    # A tmpfs of the scratch size: the kernels a zygote forks, one after another, write their
    # scratch files there, so a disk filler fills that and not the machine's disk.
    if os.geteuid() == 0 and shutil.which("mount"):
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711,nosuid,nodev",
                                  "grader-zygote", str(root)], capture_output=True, check=False)
        if mounted.returncode == 0:
            atexit.register(subprocess.run, ["umount", "-l", str(root)], capture_output=True, check=False)
    os.chmod(root, 0o711)  # kernels under a uid of their own must reach their own folder
    return root


def forked_runtime(sandbox: Sandbox, limits: Limits) -> Path:
    """A kernel's runtime folder when the fork server starts it: inside the zygote's shared root."""
    return Path(tempfile.mkdtemp(prefix="k-", dir=_zygote_root(os.getpid(), limits.scratch_bytes)))


def zygote_prefix(sandbox: Sandbox, config: GradeConfig) -> list[str]:
    """The command prefix for a zygote whose children are this config's kernels.

    One sandbox holds the zygote and, one after another, the kernels it forks: every kernel's
    runtime folder lies under one shared root bound into it (a tmpfs of ``limits.scratch_bytes``
    where the grader may mount one); the scratch folder is each kernel's own (``runtime/work``); processes a kernel leaves behind are killed through its
    pids cgroup before the next one starts.
    """
    root = _zygote_root(os.getpid(), config.limits.scratch_bytes)
    return command_prefix(sandbox, config, runtime=root, scratch=Path(tempfile.gettempdir()) / "zygote")


def kernel_env(config: GradeConfig, scratch: Path) -> dict[str, str]:
    """The whole environment of a kernel: scrubbed, with the data root and one thread."""
    env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    env.update({
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        # One thread per kernel: bulk grading runs one kernel per core.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        config.course.data_env: str(config.data_root),
        GRADING_FLAG: "1",
    })
    return env


def apply_limits(limits: Limits) -> None:
    """setrlimit for the calling process (a kernel about to start, or a freshly forked one).

    Memory is RLIMIT_DATA, not RLIMIT_AS: a torch kernel maps ~4 GB of address space just by
    importing, and CUDA reserves far more, none of it memory in use.
    """
    wanted = [
        (resource.RLIMIT_DATA, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    for kind, value in wanted:
        _soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


# mount(2) and unshare(2) flags (linux/mount.h, linux/sched.h)
_CLONE_NEWUSER, _CLONE_NEWNS = 0x10000000, 0x20000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


def _libc_call(name: str, *args: Any) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    encoded = [a.encode() if isinstance(a, str) else a for a in args]
    if getattr(libc, name)(*encoded) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{tuple(args)}: {os.strerror(errno)}")


def own_user_namespace() -> None:
    """Move the calling (forked, still single-threaded) kernel into a user namespace of its own.

    Its uid stays the same, but capability checks against anything outside now fail: a forked
    kernel can no longer ptrace (or read the memory of) the zygote it shares a sandbox with,
    which would let one student's code tamper with the kernels forked for the next students.
    """
    uid, gid = os.geteuid(), os.getegid()
    _libc_call("unshare", _CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def private_mounts(*, runtime: str, shm_bytes: int) -> None:
    """Give the calling forked kernel a mount namespace of its own (after own_user_namespace).

    Of the zygote's shared root it sees only its own runtime folder: another kernel alive at the
    same time (the next notebook's, started ahead) keeps its connection key, its sockets and its
    working folder out of this one's sight. ``/dev/shm`` is a fresh, empty tmpfs.
    """
    _libc_call("unshare", _CLONE_NEWNS)
    _libc_call("mount", None, "/", None, _MS_REC | _MS_PRIVATE, None)  # nothing leaks back out
    own = os.open(runtime, os.O_PATH | os.O_DIRECTORY)  # opened in the new namespace, as a bind source must be
    try:
        _libc_call("mount", "tmpfs", os.path.dirname(runtime), "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64k,mode=0711")
        os.mkdir(runtime, 0o700)
        _libc_call("mount", f"/proc/self/fd/{own}", runtime, None, _MS_BIND | _MS_REC, None)
    finally:
        os.close(own)
    _libc_call("mount", "tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={shm_bytes},mode=1777")
    os.chdir(os.getcwd())  # the working folder again, through the new mount


def preexec(sandbox: Sandbox, limits: Limits) -> Callable[[], None]:
    """The function Popen runs in the child between fork and exec of the kernel (or bwrap)."""

    def setup() -> None:
        # bwrap must survive the kernel's interrupts; ipykernel sets its own SIGINT handler.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if sandbox.cgroup is not None:
            with open(os.path.join(sandbox.cgroup, "cgroup.procs"), "w") as procs:
                procs.write("0")  # this process; the kernel and all it forks stay in the group
        apply_limits(limits)  # processes: the pids cgroup above (RLIMIT_NPROC counts the whole uid)
        if sandbox.mode == "none" and os.geteuid() == 0:
            own_user_namespace()  # the grader is in sight without bubblewrap: no ptrace of it

    return setup

