"""What every cage gives a kernel: its environment variables, and the folders it must be able to read.

Nothing here is POSIX-only, so that a student's self-check (which imports :data:`GRADING_FLAG`)
works on any platform.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.config import GradeConfig

__all__ = ["GRADING_FLAG", "hidden_paths", "kernel_env", "python_dirs", "readable_paths"]

GRADING_FLAG = "GRADER_GRADING"  # tells a notebook's self-check cell that the grader runs it
# Only these reach a kernel from the grader's own environment (no tokens, no keys, no proxies).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
                   "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


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


def python_dirs() -> list[Path]:
    """The interpreter, its libraries and the grader package: what a kernel needs to start.

    Outermost folders only: one that lies inside another listed one is left out.
    """
    import grader

    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
            Path(os.path.realpath(sys.executable)).parent.parent, Path(grader.__file__).resolve().parent}
    found = sorted({d.resolve() for d in dirs if d.is_dir()})
    return [d for d in found if not any(o != d and o in d.parents for o in found)]


def readable_paths(config: GradeConfig) -> list[Path]:
    """What a kernel reads of the machine: the Python installation, the grader, the data. (The
    checks' data folder is the grader's own, made readable: :class:`.folders.KernelFolders`.)"""
    return [*python_dirs(), Path(config.data_root).resolve()]


def hidden_paths(config: GradeConfig) -> list[Path]:
    """What a kernel must never see: the grader's work folder, the outputs, the gradebook, the
    class's submissions (``config.protected_paths``), the solutions and the hidden checks."""
    paths = [config.work_dir, *config.protected_paths]
    if config.course.solutions_dir is not None:
        paths.append(config.course.solutions_dir)
    for exercise in config.course.exercises:
        paths.extend(exercise.hidden_checks)
    return sorted({Path(p).resolve() for p in paths})
