"""The unit of work, and the one owner of a grading process's warm state.

A :class:`GradingSession` grades submissions with one configuration::

    with GradingSession(config) as session:
        result = session.grade(path)

On entry it plans the cage (refusing where none holds a student's kernel), launches the zygote
(torch imports meanwhile), and prepares the course's data. It then holds what makes the next
submission cheaper than the first: the kernels started ahead and stopped behind
(:class:`~grader.kernel.pool.KernelPool`), the kept pytest sessions
(:class:`~grader.checking.runner.CheckRunner`), and the zygotes, folders and cgroup of a
:class:`~grader.kernel.host.KernelHost`. On exit it closes them in the order written in
:meth:`GradingSession.close`. Nothing else in the process holds any of it: the CLI, the bulk
workers, a Dask worker, the platform adapters and ``grader submit`` each open a session.

A session owns only what it made: a host or a check runner handed to it (a Dask worker whose
settings change, a test suite that shares its zygotes) is left for its owner to close.
Heavy modules (nbclient, pytest) are imported once the zygote is launched, so that the two overlap.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import __version__
from grader.clock import utc_stamp
from grader.config import GradeConfig
from grader.i18n import T
from grader.kernel import sandbox
from grader.kernel.host import KernelHost
from grader.results import ExerciseResult, ExerciseStatus, SubmissionResult

if TYPE_CHECKING:
    from grader.checking.remote import Notebook
    from grader.checking.runner import CheckRunner
    from grader.course.manifest import Exercise
    from grader.intake.notebooks import LoadedNotebook
    from grader.kernel.pool import KernelPool

__all__ = ["GradingSession", "grade_submission", "prepare_data"]


def prepare_data(config: GradeConfig) -> Path:
    """Make sure the data root holds the course's data set (real, or generated once); a course
    that names no data generator has nothing to prepare."""
    if not config.course.data_generator:
        return config.data_root
    preparer = config.course.data_preparer()
    return Path(preparer(config.data_root))


@contextmanager
def _torch_on_one_thread() -> Iterator[None]:
    """This process's torch on one thread while checks run, as each kernel's (grader.kernel.sandbox.kernel_env).

    The trusted side computes small reference values, and the kernel it waits for wants the other
    core: on two cores, a check whose reference is one float64 cross-entropy took 64-92 ms with
    torch's two threads against 4-8 ms with one (measured, in a warm bulk worker).
    """
    torch = sys.modules.get("torch")
    if torch is None:  # no check file has imported it: nothing to set
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class GradingSession:
    """Grades submissions with ``config``, keeping warm what the next one can use.

    ``host``, ``checks``: a kernel host or a check runner to use without owning it.
    ``expect_more``: this process grades submission after submission (a bulk or Dask worker,
    the course service): the next notebook's kernel is started ahead even after a submission's
    last one. ``warm_checks``: collect every exercise's checks on entry, and wait for the zygote,
    so that the first submission costs what every later one does.
    """

    def __init__(self, config: GradeConfig, *, host: KernelHost | None = None, checks: CheckRunner | None = None,
                 expect_more: bool = False, warm_checks: bool = False) -> None:
        self.config = config
        self.expect_more = expect_more
        self._warm_checks = warm_checks
        self._given_host, self._given_checks = host, checks
        self.host: KernelHost | None = None
        self.checks: CheckRunner | None = None
        self.kernels: KernelPool | None = None
        self.cage = ""  # the mode the session's kernels are caged in

    # -- life ---------------------------------------------------------------------------------
    def __enter__(self) -> GradingSession:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        config = self.config
        box = sandbox.plan(config)  # no cage can hold a student's kernel: refused before any work
        self.cage = box.mode
        self.host = self._given_host or KernelHost()
        zygote = self.host.launch_zygote(config, box)  # first: it imports torch while we import the rest
        from grader.checking.runner import CheckRunner
        from grader.kernel.pool import KernelPool

        self.checks = self._given_checks or CheckRunner()
        self.kernels = KernelPool(config, self.host)
        prepare_data(config)
        if self._warm_checks:
            for exercise in config.course.exercises:
                self.checks.prepare(config.course, exercise, hidden=config.hidden)
            if zygote is not None:
                try:
                    zygote.wait_ready()
                except Exception:  # noqa: BLE001 - the first kernel's start meets it again and says why
                    pass

    def close(self) -> None:
        """In this order: the kernels (the one being stopped, the one started ahead), the pytest
        sessions, then the zygotes, the cgroup and the folders: each after what used it."""
        if self.kernels is not None:
            self.kernels.close()
            self.kernels = None
        if self.checks is not None and self.checks is not self._given_checks:
            self.checks.close()
        self.checks = None
        if self.host is not None and self.host is not self._given_host:
            self.host.close()
        self.host = None

    # -- grading ------------------------------------------------------------------------------
    def _run_checks(self, exercise: Exercise, notebook: Notebook) -> tuple[list[Any], float]:
        from grader.checking.plugin import GradingContext

        assert self.checks is not None and self.host is not None, "the session is not open"
        config = self.config
        # The checks' data folder is readable by every kernel, whatever its cage.
        context = GradingContext(exercise_id=exercise.id, data_root=config.data_root,
                                 work_dir=self.host.premises.checks_data)
        started = time.monotonic()
        with _torch_on_one_thread():
            checks = self.checks.run(config.course, exercise, notebook, context, hidden=config.hidden)
        return checks, time.monotonic() - started

    def grade_exercise(self, exercise: Exercise, loaded: LoadedNotebook | None, *,
                       another_follows: bool = False) -> ExerciseResult:
        """Execute one exercise's notebook and run its checks against the live kernel.

        ``another_follows``: another notebook will be graded after this one (its kernel can then
        be started while this one runs, and this one's stopped while it runs).
        """
        from grader.checking.remote import MissingNotebook
        from grader.intake.tamper import tampering

        assert self.kernels is not None, "the session is not open"
        if loaded is None or loaded.notebook is None:
            status = ExerciseStatus.MISSING if loaded is None else ExerciseStatus.INVALID
            checks, check_s = self._run_checks(exercise, MissingNotebook(status.value))
            return ExerciseResult(
                exercise_id=exercise.id, title=exercise.title, status=status, checks=checks,
                notebook=loaded.relative if loaded else "",
                problems=[loaded.problem] if loaded and loaded.problem else [], check_s=check_s)
        with self.kernels.running(loaded.notebook, another_follows=another_follows) as (execution, backend):
            checks, check_s = self._run_checks(exercise, backend)
        return ExerciseResult(
            exercise_id=exercise.id,
            title=exercise.title,
            status=execution.status,
            checks=checks,
            notebook=loaded.relative,
            cell_errors=execution.cell_errors,
            problems=tampering(loaded.notebook, self.config.course.root / exercise.notebook) + execution.problems,
            kernel=execution.kernel,
            wall_s=execution.wall_s,
            cell_s=execution.cell_s,
            check_s=check_s,
        )

    def grade(self, path: Path, *, submission_id: str | None = None,
              exercises: list[str] | None = None) -> SubmissionResult:
        """Grade a notebook or a folder of notebooks against the course.

        A single notebook is graded as its own exercise only; a folder is graded against every
        exercise of the course (or those in ``exercises``), a missing notebook scoring zero.
        """
        from grader.intake.notebooks import load_submission

        config = self.config
        started = utc_stamp()
        submission = load_submission(path, config.course, submission_id=submission_id)
        wanted = [config.course.exercise(e) for e in exercises] if exercises else list(config.course.exercises)
        if submission.single_file:
            wanted = [e for e in wanted if e.id in submission.notebooks]
            if not wanted:
                submission.problems.append(T(
                    f"{Path(path).name}: 코스의 어느 실습과도 맞지 않습니다.",
                    f"{Path(path).name}: matches no exercise of the course."))
        loaded = [submission.notebooks.get(e.id) for e in wanted]
        last_run = max((i for i, n in enumerate(loaded) if n is not None and n.notebook is not None), default=-1)
        results = [self.grade_exercise(e, notebook, another_follows=self.expect_more or i < last_run)
                   for i, (e, notebook) in enumerate(zip(wanted, loaded, strict=True))]
        return SubmissionResult(
            submission_id=submission.id,
            exercises=results,
            source=str(path),
            grader_version=__version__,
            started_at=started,
            finished_at=utc_stamp(),
            problems=submission.problems,
            hidden_checks=config.hidden,
        )


def grade_submission(path: Path, config: GradeConfig, *, submission_id: str | None = None,
                     exercises: list[str] | None = None) -> SubmissionResult:
    """One submission in a session of its own (everything it started is gone when it returns)."""
    with GradingSession(config) as session:
        return session.grade(path, submission_id=submission_id, exercises=exercises)


def grade(session: GradingSession, path: Path, *, submission_id: str | None = None) -> SubmissionResult:
    """A bulk run's unit of work (``BulkOptions.unit``): one submission, in the worker's session."""
    return session.grade(path, submission_id=submission_id)
