"""Launch the fork server's zygote first thing, for a command that is about to grade.

The zygote needs seconds to import torch; the command meanwhile imports its own modules and
reads the course, the data and the notebook. Launched first, the two overlap instead of
following each other. This module imports only light ones, for the same reason.

A bulk worker goes further before it takes its first submission (:func:`warm_worker`): it
collects every exercise's checks while its zygote starts, then waits for the zygote, so that
its first submission costs about what every later one does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .config import GradeConfig

if TYPE_CHECKING:
    from .forkserver.client import Zygote

__all__ = ["launch_zygote", "warm_worker"]


def launch_zygote(config: GradeConfig) -> Zygote | None:
    """Launch the zygote that ``config``'s first forked kernel will ask for; do not wait for it.

    Returns it (None for stock fresh kernels, or where it could not start: any problem is left
    for the first kernel's start to report).
    """
    if config.kernel != "forkserver":
        return None
    from . import sandbox
    from .forkserver.client import fork_server
    from .sandbox import bwrap

    try:
        box = sandbox.plan(config)
        prefix = bwrap.zygote_prefix(config, checks_data=sandbox.checks_data_dir()) if box.mode == "bwrap" else []
        # Launched, not waited for. It keeps only the interpreter-start variables: the scratch
        # folder is not among them.
        return fork_server().zygote(sandbox.kernel_env(config, Path(tempfile.gettempdir())), prefix)
    except Exception:  # noqa: BLE001 - the kernel's own start will meet it again and say what it is
        return None


def warm_worker(config: GradeConfig) -> None:
    """Before a worker's first submission: its zygote started, and the checks of every exercise
    collected (their modules imported) meanwhile. Problems are left for the grading to report."""
    from .runner import prepare_checks

    zygote = launch_zygote(config)
    for exercise in config.course.exercises:
        try:
            prepare_checks(config.course, exercise, hidden=config.hidden)
        except Exception:  # noqa: BLE001 - a course error: every submission's grading reports it
            pass
    if zygote is not None:
        try:
            zygote.wait_ready()
        except Exception:  # noqa: BLE001 - the first kernel's start will meet it again
            pass
