"""The kernel's side of the sandbox where no cage can exist: a fresh process, no limits but time.

On a platform without the POSIX process features (:mod:`.posix`: Windows, macOS), :mod:`grader.kernel.sandbox`
hands out these in place of :mod:`.cages`. Only the user's own code runs here (a student's
``grader check``); anything else is refused, as :func:`.cages.plan` refuses it. nbclient still
bounds each cell's and the notebook's wall time and the output kept.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader.config import GradeConfig
from grader.errors import SandboxError
from grader.i18n import T
from grader.kernel.sandbox.box import Sandbox
from grader.kernel.sandbox.posix import missing_features
from grader.kernel.sandbox.words import GAPS, NOTHING_HOLDS

__all__ = ["Premises", "checked", "launch", "plan", "prepare", "release", "zygote_prefix"]

OWN_CODE_ONLY = T(
    "이 컴퓨터에는 샌드박스도 자원 제한도 없습니다 ({why}). 자신의 코드이므로 괜찮습니다: 시간 제한은 걸려 있습니다.",
    "No sandbox and no resource limits on this machine ({why}); fine for your own code, which still has its "
    "time limits.",
)


def _why() -> str:
    return "no " + ", ".join(missing_features())


def plan(config: GradeConfig) -> Sandbox:
    """No cage: for the user's own code, or where the user said they trust it (``--sandbox none``)."""
    if config.trusted_code or config.sandbox == "none":
        return Sandbox("none", OWN_CODE_ONLY.format(why=_why()), gaps=tuple(GAPS))
    raise SandboxError(NOTHING_HOLDS.format(why=_why()))


class Premises:
    """What a grading process holds for its kernels here: a folder for the checks' data only
    (no cgroup, no zygote root), removed by :meth:`close`."""

    def __init__(self) -> None:
        self._checks_data: Path | None = None

    @property
    def checks_data(self) -> Path:
        if self._checks_data is None:
            self._checks_data = Path(tempfile.mkdtemp(prefix="grader-d-"))
        return self._checks_data

    def close(self) -> None:
        if self._checks_data is not None:
            shutil.rmtree(self._checks_data, ignore_errors=True)
            self._checks_data = None


def prepare(box: Sandbox, config: GradeConfig, premises: Premises, *, runtime: Path, scratch: Path) -> Sandbox:
    return box  # no cgroup, no uid: nothing to hand over


def launch(box: Sandbox, config: GradeConfig, premises: Premises, *, runtime: Path, scratch: Path,
           connection_file: Path) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """A stock kernel process: no wrapper, no provisioner, no ``preexec_fn`` (Windows has none)."""
    return [], {}, {}


def zygote_prefix(box: Sandbox, config: GradeConfig, premises: Premises) -> list[str]:
    return []  # no fork server here


def checked(box: Sandbox, *, kernel_alive: bool) -> Sandbox:
    return box  # no cgroup to lose


def release(box: Sandbox) -> None:
    """Nothing outlives the kernel here that the kernel manager does not already stop."""
