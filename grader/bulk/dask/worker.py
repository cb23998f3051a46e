"""The worker side of a Dask run: a plugin that makes a Dask worker a grading slot, and the task.

Start workers with this module as their preload::

    dask worker tcp://HOST:8786 --nworkers N --nthreads 1 --resources grader=1 \\
        --preload grader.bulk.dask.worker --grader-course COURSE [--grader-work-dir DIR] [--grader-data-root DIR]

The plugin loads the course, makes the data set, refuses to start where no cage can hold a kernel
(a student kernel must never reach the scheduler or another worker; ``--grader-allow-uncaged``
says otherwise), and launches this worker process's zygote, so that the first submission finds
torch imported. A worker restarted by its nanny starts a fresh plugin and a fresh zygote; the
old zygote leaves when the worker that owned its channel is gone, and takes its kernels along.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from distributed import WorkerPlugin, get_worker

from grader import __version__
from grader.bulk.dask.payload import config_from, unpack
from grader.config import GradeConfig
from grader.course.manifest import find_course, load_course
from grader.errors import SandboxError
from grader.hashing import config_fingerprint

if TYPE_CHECKING:
    from grader.kernel.host import KernelHost
    from grader.session import GradingSession

__all__ = ["GraderPlugin", "NAME", "dask_setup", "grade_task", "identity"]

NAME = "grader"  # the plugin's name on the worker, and the resource a grading slot offers
# Until the coordinator sends its own: what the worker checks its cage and warms its zygote with.
DEFAULT_SETTINGS = {"hidden": True, "lang": "en", "limits": {}, "kernel": "forkserver", "sandbox": "auto",
                    "trusted_code": False, "kernel_uid": 65534, "unit": ""}


class GraderPlugin(WorkerPlugin):
    """One Dask worker process as a grading slot: its course, folders, cage check and zygote."""

    name = NAME

    def __init__(self, course: str, *, data_root: str | None = None, work_dir: str | None = None,
                 allow_uncaged: bool = False, kernel: str = "forkserver", refuse_to_start: bool = True) -> None:
        self.course_path = course
        self.kernel = kernel  # "forkserver": keep a warm zygote; "fresh": kernels are started per notebook
        self.data_root = data_root
        self.work_dir = work_dir
        self.allow_uncaged = allow_uncaged
        # A worker started with the preload fails its start. One the coordinator started itself
        # says why through identity(): an exception would reach the client pickled, and be refused.
        self.refuse_to_start = refuse_to_start
        self.problem: str | None = None
        self.host: KernelHost | None = None
        self.session: GradingSession | None = None

    def setup(self, worker: Any) -> None:
        try:
            self._setup()
        except Exception as error:
            self.problem = f"{type(error).__name__}: {error}"
            if self.refuse_to_start:
                raise

    def _setup(self) -> None:
        from grader.kernel.host import KernelHost

        # nbclient can leave a poll task behind after a cell timeout: noise, not a problem.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        self.course = load_course(Path(self.course_path))
        base = Path(self.work_dir or Path(tempfile.gettempdir()) / "grader-dask").resolve()
        # A folder per worker process: the unpacked submissions are its own and hidden from kernels.
        self.root = base / f"worker-{os.getpid()}"
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.data = self.course.data_root(self.data_root, os.environ)
        self.host = KernelHost()  # kept while the settings tasks come with change: its zygotes stay warm
        # Planned, the zygote launched and the data made, with these settings until a task brings its own.
        session = self.session_for({**DEFAULT_SETTINGS, "trusted_code": self.allow_uncaged, "kernel": self.kernel})
        if session.cage == "none" and not self.allow_uncaged:
            raise SandboxError("this worker has no cage for student kernels (start it with --grader-allow-uncaged "
                               "only on a machine no student kernel may harm)")
        self.cage = session.cage

    def config(self, settings: dict[str, Any]) -> GradeConfig:
        return config_from(settings, self.course, data_root=self.data, work_dir=self.root / "work",
                           protected=(self.root,))

    def session_for(self, settings: dict[str, Any]) -> GradingSession:
        """The grading session for these settings: the one open, or a new one on the same host."""
        from grader.session import GradingSession

        config = self.config(settings)
        if self.session is None or self.session.config != config:
            if self.session is not None:
                self.session.close()
                self.session = None
            self.session = GradingSession(config, host=self.host, expect_more=True).__enter__()
        return self.session

    def teardown(self, worker: Any) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.host is not None:
            self.host.close()
            self.host = None
        shutil.rmtree(self.root, ignore_errors=True)


def _plugin() -> GraderPlugin:
    plugin = get_worker().plugins.get(NAME)
    if not isinstance(plugin, GraderPlugin):
        raise RuntimeError("this Dask worker was not started with the grader's plugin "
                           "(--preload grader.bulk.dask.worker)")
    if plugin.problem:
        raise RuntimeError(f"this Dask worker cannot grade: {plugin.problem}")
    return plugin


def identity(settings: dict[str, Any], dask_worker: Any = None) -> dict[str, Any]:
    """What the coordinator checks before it sends work: this worker's grader and course (run with
    ``Client.run``). The fingerprint covers the version, the checks, their helpers and the limits."""
    plugin = (dask_worker or get_worker()).plugins.get(NAME)
    if not isinstance(plugin, GraderPlugin):
        return {"version": __version__, "fingerprint": None, "problem": "no grader plugin on this worker"}
    if plugin.problem:
        return {"version": __version__, "fingerprint": None, "problem": f"cannot grade: {plugin.problem}"}
    return {"version": __version__, "fingerprint": config_fingerprint(plugin.config(settings)),
            "course": str(plugin.course.root), "cage": plugin.cage}


def grade_task(payload: bytes, sent: str, student_id: str, single: str | None, settings: dict[str, Any]) -> bytes:
    """The unit of work on a worker: one submission's bytes in, its result out, as JSON bytes.

    Never raises: a grader failure comes back as an ``error`` message (an exception would travel
    as a pickle, which the client refuses)."""
    from grader.bulk.backend import load_unit

    scratch = None
    try:
        plugin = _plugin()
        session = plugin.session_for(settings)
        scratch = Path(tempfile.mkdtemp(prefix="submission-", dir=plugin.root))
        path = unpack(payload, sent, scratch, single=single)
        grade = load_unit(settings["unit"])
        result = grade(session, path, submission_id=student_id)
        message: dict[str, Any] = {"kind": "ok", "result": result.to_dict()}
    except Exception:  # noqa: BLE001 - one broken submission must not end the worker
        message = {"kind": "error", "error": traceback.format_exc(limit=8)[-4000:]}
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    message.update(digest=sent, rss_kb=int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
                   worker=get_worker().address)
    return json.dumps(message, ensure_ascii=False).encode()


@click.command()
@click.option("--grader-course", type=click.Path(exists=True), default=None,
              help="The course manifest or its folder. Default: found from the working folder.")
@click.option("--grader-data-root", type=click.Path(file_okay=False), default=None,
              help="Where the data set lives (made there if missing). Default: the course's.")
@click.option("--grader-work-dir", type=click.Path(file_okay=False), default=None,
              help="This machine's scratch for submissions and kernels. Default: the temporary folder.")
@click.option("--grader-allow-uncaged", is_flag=True,
              help="Start even where no cage can hold a student kernel (kernels could then reach the network).")
async def dask_setup(worker: Any, grader_course: str | None, grader_data_root: str | None,
                     grader_work_dir: str | None, grader_allow_uncaged: bool) -> None:
    """``--preload grader.bulk.dask.worker``: install the plugin, or fail the worker's start."""
    course = grader_course or str(find_course(Path.cwd()))
    plugin = GraderPlugin(course, data_root=grader_data_root, work_dir=grader_work_dir,
                          allow_uncaged=grader_allow_uncaged)
    await worker.plugin_add(plugin, name=NAME, catch_errors=False)
