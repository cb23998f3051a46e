"""Launch the fork server's zygote first thing, for a command that is about to grade.

The zygote needs seconds to import torch; the command meanwhile imports its own modules and
reads the course, the data and the notebook. Launched first, the two overlap instead of
following each other. This module imports only light ones, for the same reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .config import GradeConfig

__all__ = ["launch_zygote"]


def launch_zygote(config: GradeConfig) -> None:
    """Launch the zygote that ``config``'s first forked kernel will ask for; do not wait for it.

    Does nothing for stock fresh kernels. Any problem is left for that kernel's start to report.
    """
    if config.kernel != "forkserver":
        return
    from . import sandbox
    from .forkserver.client import fork_server
    from .sandbox import bwrap

    try:
        box = sandbox.plan(config)
        prefix = bwrap.zygote_prefix(config, checks_data=sandbox.checks_data_dir()) if box.mode == "bwrap" else []
        # Launched, not waited for. It keeps only the interpreter-start variables: the scratch
        # folder is not among them.
        fork_server().zygote(sandbox.kernel_env(config, Path(tempfile.gettempdir())), prefix)
    except Exception:  # noqa: BLE001 - the kernel's own start will meet it again and say what it is
        pass
