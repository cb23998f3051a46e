"""The cage around a student's kernel: one family of cages, and one :func:`plan` that picks one.

=============  =============================================================================
``bwrap``      bubblewrap (:mod:`.bwrap`): a minimal read-only file system, no network, pid,
               ipc and uts namespaces of the kernel's own. The strongest; ``auto``'s first pick.
``container``  root where no namespace can be made (:mod:`.container`): a uid of the kernel's
               own, the hidden paths closed by file modes, the syscall filter (:mod:`.seccomp`).
``userns``     no root, no bubblewrap (:mod:`.userns`): user, pid, mount and network namespaces
               an unprivileged user may make, and a read-only view of the file system
               (:mod:`.mounts`).
``none``       limits only; never picked by ``auto`` for grading, only for a student's own code.
=============  =============================================================================

Every cage shares the limits of :mod:`.limits` (rlimits, a pids cgroup) and the environment of
:mod:`.environment`. The grader's side is :mod:`.cages` (plan, prepare, launch, release), on the
folders and cgroup a grading process holds for its kernels (:mod:`.premises`); the kernel's side
is :mod:`.enter`, run in the kernel's own process before its interpreter starts.
The names below load lazily, so that importing :data:`GRADING_FLAG` costs nothing and works on
any platform. Where the platform lacks the POSIX process features (:mod:`.posix`), the grader's
side comes from :mod:`.plain` instead: one mode, ``none``, for the user's own code only.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CAGES": "cages",
    "GAPS": "words",
    "GRADING_FLAG": "environment",
    "MODES": "cages",
    "Sandbox": "box",
    "Premises": "cages",
    "adopt": "limits",
    "checked": "cages",
    "does_not_stop": "words",
    "hidden_paths": "environment",
    "kernel_env": "environment",
    "launch": "cages",
    "pids_cgroups_work": "limits",
    "plan": "cages",
    "prepare": "cages",
    "release": "cages",
    "zygote_prefix": "cages",
}

__all__ = sorted(_EXPORTS)

# What the portable path (.plain) provides in place of .cages and .folders.
_PLAIN = frozenset({"Premises", "checked", "launch", "plan", "prepare", "release", "zygote_prefix"})


def __getattr__(name: str) -> Any:
    if name in _PLAIN and importlib.import_module(".posix", __name__).missing_features():
        return getattr(importlib.import_module(".plain", __name__), name)
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
