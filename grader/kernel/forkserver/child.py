"""The forked child's side: turn a copy of the zygote into a kernel that looks freshly started.

:func:`become_kernel` runs right after ``fork()`` and never returns. Everything that makes one
kernel differ from another is applied in :func:`apply_child_setup`, in one place, explicitly,
because a forked child inherits whatever the zygote read at import time: the environment, the
working folder, thread counts, RNG states, signal handlers, ``sys.path``. The sandbox adds its
per-kernel setup (rlimits, a scratch working folder, a user id) there, through the request's
``setup`` mapping (JSON, from the trusted grader only):

- ``{"rlimits": {"RLIMIT_AS": [soft, hard], ...}}`` is applied with ``setrlimit``;
- ``{"calls": [["package.module:function", {kwargs}], ...]}`` calls each function in order, in
  the child, after the environment and working folder are set and before ipykernel starts
  (the cage: :func:`grader.kernel.sandbox.enter.enter`). An exception there kills the child: a kernel
  that could not be caged must not run.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import importlib.util
import os
import random
import resource
import select
import signal
import sys
import tempfile
import threading
import traceback
from typing import Any, NoReturn

__all__ = ["apply_child_setup", "become_kernel"]

_spec = importlib.util.find_spec("ipykernel_launcher")
_LAUNCHER = (_spec.origin if _spec and _spec.origin else "ipykernel_launcher.py")


def become_kernel(request: dict[str, Any], *, owner_fd: int, close_fds: tuple[int, ...]) -> NoReturn:
    """Run ipykernel in this freshly forked process, then leave through ``os._exit``."""
    code = 1
    try:
        # The control channel first: student code must not be able to talk to the zygote.
        for fd in close_fds:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()  # its own process group: interrupt and kill reach its workers, as with Popen
        apply_child_setup(request)
        code = _run_kernel(list(request.get("args", [])), owner_fd)
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a child must never return into the zygote's loop
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # what a normal exit runs; then skip the slow interpreter teardown
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def apply_child_setup(request: dict[str, Any]) -> None:
    """Per-kernel settings, applied in the child: environment, cwd, limits, threads, seeds."""
    env = {str(k): str(v) for k, v in (request.get("env") or {}).items()}
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # re-read TMPDIR from the new environment
    cwd = request.get("cwd")
    if cwd:
        os.chdir(cwd)
    # What ``python -m ipykernel_launcher`` shows a student (the zygote already dropped its own
    # folder from sys.path, as the launcher does; IPython puts the working folder back).
    sys.argv = [_LAUNCHER, *request.get("args", [])]
    setup = request.get("setup") or {}
    for name, (soft, hard) in (setup.get("rlimits") or {}).items():
        resource.setrlimit(getattr(resource, name), (int(soft), int(hard)))
    for target, kwargs in setup.get("calls") or []:
        module, _, function = str(target).partition(":")
        getattr(importlib.import_module(module), function)(**dict(kwargs))
    _apply_threads(env)
    _reseed()
    gc.enable()


def _apply_threads(env: dict[str, str]) -> None:
    # libgomp read OMP_NUM_THREADS when the zygote imported torch; tell torch again explicitly.
    import torch

    wanted = env.get("OMP_NUM_THREADS") or env.get("MKL_NUM_THREADS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        torch.set_num_threads(int(wanted))
    else:
        torch.set_num_threads(os.cpu_count() or 1)


def _reseed() -> None:
    # Every child would otherwise start from the zygote's copy of each generator, all alike.
    import numpy as np
    import torch

    random.seed()
    np.random.seed()
    torch.seed()  # a non-deterministic seed, as a fresh interpreter's default generator has


class _OwnerWatcher(threading.Thread):
    """ipykernel's parent poller, pointed at the grader instead of the zygote.

    The kernel's parent is the zygote, but it must live exactly as long as the grader that
    asked for it: a killed zygote is replaced, and its kernels keep running. The grader's pidfd
    gives student code no new power over the grader: signalling through it needs the same
    permission as ``kill``, and fails from bubblewrap's pid namespace (the grader is outside it).
    """

    def __init__(self, owner_fd: int) -> None:
        super().__init__(name="owner-watcher", daemon=True)
        self.owner_fd = owner_fd

    def run(self) -> None:
        if self.owner_fd < 0:
            return
        while True:
            ready, _, _ = select.select([self.owner_fd], [], [], None)
            if ready:
                os._exit(1)


def _run_kernel(args: list[str], owner_fd: int) -> int:
    from ipykernel.kernelapp import IPKernelApp

    class ForkedKernelApp(IPKernelApp):
        def init_poller(self) -> None:
            self.poller = _OwnerWatcher(owner_fd)

        def initialize(self, argv: Any = None) -> None:
            super().initialize(argv)
            if self.transport == "ipc":  # the probe server's socket, while nobody waits for this kernel yet
                from grader.checking import probe

                try:
                    probe.bind_ahead(probe.ipc_endpoint(self.ip))
                except Exception:  # noqa: BLE001 - then it binds when the grader asks it to serve
                    pass

    # parent_handle's default was read from JPY_PARENT_PID when the zygote imported ipykernel.
    parent = os.environ.get("JPY_PARENT_PID", "")
    extra = [f"--IPKernelApp.parent_handle={parent}"] if parent.isdigit() else []
    ForkedKernelApp.launch_instance(argv=[*args, *extra])
    return 0
