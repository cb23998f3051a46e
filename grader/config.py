"""The one frozen configuration object, built at the edge (the CLI) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.course.manifest import Course

__all__ = ["GradeConfig", "Limits"]


@dataclass(frozen=True)
class Limits:
    """What one notebook's kernel may use. Each breach becomes a status, never a crash."""

    cell_timeout: float = 60.0  # seconds of wall time per cell
    notebook_timeout: float = 300.0  # seconds of wall time for all the notebook's cells
    probe_timeout: float = 30.0  # seconds for one call into student code from a check
    output_bytes: int = 1_000_000  # stream + rich output kept per notebook; the rest is dropped
    memory_bytes: int = 4 * 1024**3  # the kernel's heap and anonymous mappings (RLIMIT_DATA)
    processes: int = 256  # the kernel's pids cgroup (threads count too)
    file_bytes: int = 256 * 1024**2  # the largest file the kernel may write (RLIMIT_FSIZE)
    open_files: int = 1024  # RLIMIT_NOFILE
    scratch_bytes: int = 512 * 1024**2  # the sandbox's tmpfs scratch folder (and /dev/shm)


@dataclass(frozen=True)
class GradeConfig:
    course: Course
    data_root: Path  # the data set the notebooks read (real CIFAR-10 or the generated one)
    work_dir: Path  # the grader's own scratch (generated check data, kernel scratch folders)
    hidden: bool = False  # run hidden checks too (instructor grading)
    lang: str = "en"
    limits: Limits = field(default_factory=Limits)
    # "forkserver": forked from a warm zygote (grader.kernel.forkserver); "fresh": a new process
    kernel: str = "forkserver"
    sandbox: str = "auto"  # a cage of grader.kernel.sandbox: "auto", "bwrap", "container", "userns", "none"
    protected_paths: tuple[Path, ...] = ()  # never visible to a kernel (outputs, gradebook...)
    trusted_code: bool = False  # the code is the user's own (self-check): no cage is no reason to refuse
    kernel_uid: int = 65534  # container mode: kernels run as this uid, and those below it (one each)
