"""A jupyter_client kernel provisioner whose kernels are forked by the zygote, not started by Popen.

It subclasses the local provisioner and replaces only the launch: connection files, ports,
restarts, interrupts (SIGINT to the kernel's process group), kills and polling all go through
the stock code, on a Popen-like :class:`~grader.kernel.forkserver.client.ForkedProcess`.
Registered as the ``grader-forkserver`` entry point, it is chosen by a kernelspec's
``metadata.kernel_provisioner``; its ``config`` there hands it the :class:`ForkServer` to ask
(``fork_server``, the grading process's own) and may set ``zygote_prefix`` (the sandbox's
command prefix). ``start_kernel(child_setup={...})`` passes per-kernel setup to the child.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Instance, List, Unicode

from grader.kernel.forkserver.client import ForkServer, ForkServerError
from grader.kernel.forkserver.process import ForkedProcess

__all__ = ["ForkServerProvisioner", "kernel_arguments"]


def kernel_arguments(cmd: list[str]) -> list[str]:
    """The ipykernel arguments of a ``python -m ipykernel_launcher ...`` command.

    The zygote runs this interpreter and only ipykernel: any other command cannot be forked.
    """
    ours = os.path.realpath(cmd[0]) == os.path.realpath(sys.executable) if cmd else False
    if len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"] and ours:
        return cmd[3:]
    raise ForkServerError(f"the fork server only runs this interpreter's ipykernel, not {cmd[:3]}")


class ForkServerProvisioner(LocalProvisioner):
    """Launches a kernel by asking a zygote of the grading process's fork server for a forked child."""

    fork_server = Instance(ForkServer, allow_none=True, help="Whose zygotes fork the kernel.").tag(config=True)
    zygote_prefix = List(Unicode(), default_value=[],
                         help="A command prefix for the zygote (a sandbox).").tag(config=True)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env = dict(kwargs.get("env") or os.environ)
        # What jupyter_client's launcher adds for a Popen kernel; the child passes it on to ipykernel.
        env["JPY_PARENT_PID"] = str(os.getpid())
        cwd = str(kwargs.get("cwd") or os.getcwd())
        if not os.path.isdir(cwd):  # as Popen would say, rather than a child that dies at once
            raise FileNotFoundError(f"the kernel's working folder does not exist: {cwd}")
        if self.fork_server is None:
            raise ForkServerError("no fork server was handed to this kernel's provisioner")
        process = self.fork_server.spawn(kernel_arguments(cmd), env=env, cwd=cwd,
                                      setup=kwargs.get("child_setup"), prefix=self.zygote_prefix)
        self.process = process  # type: ignore[assignment]  # Popen-like: see ForkedProcess
        self.pid = self.pgid = process.pid  # the child called setsid(): it leads its own group
        self.cwd = cwd
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        # Through the handle: it checks the pidfd first, so a reused pid is never signalled.
        if isinstance(self.process, ForkedProcess):
            self.process.send_signal(signum)
        else:
            await super().send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        await super().kill(restart=restart)
        # Wait for the exit here, on the pidfd: the manager would otherwise poll every 0.1 s.
        if isinstance(self.process, ForkedProcess):
            await self.process.exited(timeout=2.0)

    async def wait(self) -> int | None:
        process = self.process
        code = await super().wait()
        if isinstance(process, ForkedProcess):
            process.close()
        return code
