"""Which kernel and cage a student's ``grader check`` gets on this machine, said in one line.

Linux: the fork server and the first cage that works (or none, for one's own code). Where the
POSIX process features are missing (:mod:`grader.kernel.sandbox.posix`: Windows, macOS), neither the
fork server nor a cage can exist: a fresh kernel without a sandbox, which is fine for the
student's own code.
"""

from __future__ import annotations

import dataclasses

from grader.config import GradeConfig
from grader.i18n import T

__all__ = ["choose_kernel"]

_FORKSERVER = T("포크 서버", "fork server")
_FRESH = T("새 프로세스", "fresh process")


def choose_kernel(config: GradeConfig) -> tuple[GradeConfig, T]:
    """``config`` as this machine can run it, and the line that says what was chosen."""
    from grader.kernel import sandbox
    from grader.kernel.sandbox.posix import missing_features

    missing = missing_features()
    if missing:
        # Why, and that it is fine for one's own code, the sandbox's own warning says next.
        config = dataclasses.replace(config, kernel="fresh", sandbox="none")
        return config, T(f"커널: {_FRESH.ko}, 샌드박스: none", f"kernel: {_FRESH.en}, sandbox: none")
    mode = sandbox.plan(config).mode  # a cage that was asked for and cannot run raises here, as grading would
    kind = _FORKSERVER if config.kernel == "forkserver" else _FRESH
    return config, T(f"커널: {kind.ko}, 샌드박스: {mode}", f"kernel: {kind.en}, sandbox: {mode}")
