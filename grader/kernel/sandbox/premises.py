"""What one grading process holds for its kernels' cages beyond any one kernel: the folders its
kernels share with it and its own pids cgroup. Whoever makes one closes it
(:class:`grader.kernel.host.KernelHost`); making one first sweeps what dead graders left."""

from __future__ import annotations

from pathlib import Path

from grader.kernel.sandbox.folders import KernelFolders, sweep
from grader.kernel.sandbox.limits import CgroupOwner, sweep_cgroups

__all__ = ["Premises"]


class Premises:
    """A grading process's folders for its kernels and its pids cgroup, made on first use."""

    def __init__(self) -> None:
        sweep()  # the folders and cgroups of grader processes that died without cleaning up
        sweep_cgroups()
        self.folders = KernelFolders()
        self.cgroups = CgroupOwner()

    @property
    def checks_data(self) -> Path:
        return self.folders.checks_data

    def close(self) -> None:
        """Kill what kernels left in their cgroups, then remove the cgroup and the folders."""
        self.cgroups.close()
        self.folders.close()
