"""The record of one kernel's cage (:class:`Sandbox`), free of anything POSIX-only.

It lives apart from :mod:`.cages` so that the portable path (:mod:`.plain`) and the reports can
use it on a platform where the cages themselves cannot even be imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.i18n import T

__all__ = ["Sandbox"]


@dataclass(frozen=True)
class Sandbox:
    """How one kernel is caged: the mode, what it does not stop, and what :func:`prepare` made."""

    mode: str
    warning: T | None = None
    gaps: tuple[str, ...] = ()
    cgroup: str | None = None  # the kernel's pids cgroup
    uid: int | None = None  # container mode: the kernel's own uid (and gid)
    lease: int = -1  # container mode: the descriptor that holds that uid

    def info(self) -> dict[str, Any]:
        """What goes into ``ExerciseResult.kernel``."""
        info: dict[str, Any] = {"sandbox": self.mode, "gaps": list(self.gaps), "pids_cgroup": self.cgroup is not None}
        if self.uid is not None:
            info["uid"] = self.uid
        if self.warning is not None:
            info["warning"] = self.warning.to_dict()
        return info
