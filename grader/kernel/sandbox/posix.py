"""Whether this platform has the POSIX process features that the fork server and the cages are
built on (``os.fork``, ``os.pidfd_open``, ``resource``, ``fcntl``, ``pwd``).

Linux has them all. Windows has none; macOS lacks ``pidfd_open``. Where one is missing, a kernel
can only be a fresh process without a cage (:mod:`.plain`), which is fine for a student's own code.
"""

from __future__ import annotations

import functools
import importlib
import os

__all__ = ["missing_features"]

_FUNCTIONS = ("fork", "pidfd_open")
_MODULES = ("resource", "fcntl", "pwd")


@functools.cache
def missing_features() -> tuple[str, ...]:
    """What this platform lacks, by name (``os.fork``, ``fcntl``...); empty on Linux."""
    missing = [f"os.{name}" for name in _FUNCTIONS if not hasattr(os, name)]
    for name in _MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return tuple(missing)
