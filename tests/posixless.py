"""Run Python as on a platform without POSIX process features: ``python tests/posixless.py -c CODE``
or ``python tests/posixless.py -m MODULE ARGS...``.

Before anything of the grader is imported, ``resource``, ``fcntl``, ``pwd``, ``grp`` and
``termios`` fail to import (a meta-path hook) and ``os.fork`` and ``os.pidfd_open`` are gone,
as on Windows. The kernels such a process starts are ordinary Linux processes: this simulates
the grader's side only, never a real Windows or macOS run.
"""

from __future__ import annotations

import importlib.abc
import os
import runpy
import sys

BLOCKED = frozenset({"resource", "fcntl", "pwd", "grp", "termios"})
REMOVED = ("fork", "forkpty", "pidfd_open")  # not register_at_fork: Linux torch needs it


class _NoPosix(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201 - importlib's signature
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (simulated platform without POSIX)", name=name)
        return None


def install() -> None:
    for name in BLOCKED:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, _NoPosix())
    for name in REMOVED:
        if hasattr(os, name):
            delattr(os, name)


if __name__ == "__main__":
    install()
    mode, target, *rest = sys.argv[1:]
    sys.argv = [target, *rest]
    if mode == "-c":
        exec(compile(target, "<posixless>", "exec"), {"__name__": "__main__"})
    elif mode == "-m":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        raise SystemExit(f"usage: {sys.argv[0]} -c CODE | -m MODULE [ARGS...]")
