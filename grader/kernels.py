"""Kernel managers for student notebooks: always the grader's own interpreter.

A kernelspec of our own (not whichever ``python3`` Jupyter finds first) makes every kernel run
``sys.executable -m ipykernel_launcher``: the venv the grader is installed in, with the same
torch. The environment a kernel gets is built here from nothing but what it needs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from .config import GradeConfig

__all__ = ["KERNEL_NAME", "GraderKernelSpecManager", "kernel_env", "new_kernel_manager", "runtime_dir"]

KERNEL_NAME = "grader-python"
GRADING_FLAG = "GRADER_GRADING"  # tells a notebook's self-check cell that the grader runs it

# Only these reach a kernel from the grader's own environment (no tokens, no keys, no proxies).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
                   "LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class GraderKernelSpecManager(KernelSpecManager):
    """Knows exactly one kernel: this interpreter's ipykernel, optionally through a provisioner."""

    provisioner: str = ""

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: str(Path(sys.executable).parent)}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        metadata: dict[str, Any] = {}
        if self.provisioner:
            metadata["kernel_provisioner"] = {"provisioner_name": self.provisioner}
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python (grader)",
            language="python",
            interrupt_mode="signal",
            metadata=metadata,
        )


def kernel_env(config: GradeConfig, scratch: Path) -> dict[str, str]:
    """The whole environment of a kernel: scrubbed, with the data root and one thread."""
    env = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
    env.update({
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        # One thread per kernel: bulk grading runs one kernel per core.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        config.course.data_env: str(config.data_root),
        GRADING_FLAG: "1",
    })
    return env


def runtime_dir() -> Path:
    """A short, private folder for connection files and IPC sockets (paths must stay < 108 bytes)."""
    return Path(tempfile.mkdtemp(prefix="grader-"))


def new_kernel_manager(runtime: Path, provisioner: str = "") -> AsyncKernelManager:
    """A manager for one kernel, talking over Unix sockets in ``runtime``.

    IPC rather than TCP: nothing listens on the network, and a kernel in its own network
    namespace (the sandbox) still reaches us through the shared folder.
    """
    specs = GraderKernelSpecManager()
    specs.provisioner = provisioner
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc")
    manager.connection_file = str(runtime / f"k-{uuid.uuid4().hex[:8]}.json")
    return manager
