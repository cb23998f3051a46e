"""What a grading process keeps for its kernels across notebooks and settings: the cages'
premises (the folders kernels share with it, its pids cgroup) and its zygotes (the fork server).

Whoever makes a :class:`KernelHost` closes it, in one place. A :class:`~grader.session.GradingSession`
makes its own unless it is handed one: a Dask worker keeps one host while the settings it grades
with change, and the project's tests share one across their sessions so that torch is imported
once per run, not once per test.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.config import GradeConfig
from grader.kernel import sandbox

if TYPE_CHECKING:
    from grader.kernel.forkserver.client import ForkServer, Zygote

__all__ = ["KernelHost"]


class KernelHost:
    """A grading process's premises for kernels and its fork server, made on first use."""

    def __init__(self) -> None:
        self.premises = sandbox.Premises()
        self._fork_server: ForkServer | None = None

    @property
    def fork_server(self) -> ForkServer:
        if self._fork_server is None:
            from grader.kernel.forkserver.client import ForkServer

            self._fork_server = ForkServer()
        return self._fork_server

    def launch_zygote(self, config: GradeConfig, box: Any) -> Zygote | None:
        """Launch the zygote that ``config``'s first forked kernel will ask for; do not wait for it.

        None for fresh kernels, or where it could not start (any problem is left for the first
        kernel's start to report, where it is said as that kernel's).
        """
        if config.kernel != "forkserver":
            return None
        try:
            # It keeps only the interpreter-start variables: the scratch folder is not among them.
            env = sandbox.kernel_env(config, Path(tempfile.gettempdir()))
            return self.fork_server.zygote(env, sandbox.zygote_prefix(box, config, self.premises))
        except Exception:  # noqa: BLE001 - the kernel's own start meets it again and says what it is
            return None

    def close(self) -> None:
        """The zygotes first (they take their kernels along), then the folders and the cgroup."""
        if self._fork_server is not None:
            self._fork_server.close()
            self._fork_server = None
        self.premises.close()

    def __enter__(self) -> KernelHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
