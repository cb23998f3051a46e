"""The unit of work: grade one submission → its result.

Bulk grading is a scheduler around :func:`grade_submission`; nothing here knows about other
submissions, the gradebook or the reports.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from . import __version__
from .config import GradeConfig
from .course import Exercise
from .execute import running_notebook
from .i18n import T
from .load import LoadedNotebook, load_submission
from .plugin import GradingContext
from .remote import MissingNotebook, Notebook
from .results import ExerciseResult, ExerciseStatus, SubmissionResult
from .runner import run_checks
from .sandbox import checks_data_dir
from .tamper import tampering

__all__ = ["grade_exercise", "grade_submission", "prepare_data"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def prepare_data(config: GradeConfig) -> Path:
    """Make sure the data root holds the course's data set (real, or generated once)."""
    preparer = config.course.data_preparer()
    return Path(preparer(config.data_root))


def _context(config: GradeConfig, exercise: Exercise) -> GradingContext:
    return GradingContext(
        exercise_id=exercise.id,
        data_root=config.data_root,
        work_dir=checks_data_dir(),  # readable by every kernel, whatever its cage
        lang=config.lang,
    )


@contextmanager
def _torch_on_one_thread() -> Iterator[None]:
    """This process's torch on one thread while checks run, as each kernel's (grader.sandbox.kernel_env).

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


def _checks(config: GradeConfig, exercise: Exercise, notebook: Notebook) -> tuple[list, float]:
    started = time.monotonic()
    with _torch_on_one_thread():
        checks = run_checks(config.course, exercise, notebook, _context(config, exercise), hidden=config.hidden)
    return checks, time.monotonic() - started


def grade_exercise(exercise: Exercise, loaded: LoadedNotebook | None, config: GradeConfig, *,
                   another_follows: bool = False) -> ExerciseResult:
    """Execute one exercise's notebook and run its checks against the live kernel.

    ``another_follows``: another notebook will be graded after this one, by this process (its
    kernel can then be started while this one runs, and this one's stopped while it runs).
    """
    if loaded is None or loaded.notebook is None:
        status = ExerciseStatus.MISSING if loaded is None else ExerciseStatus.INVALID
        checks, check_s = _checks(config, exercise, MissingNotebook(status.value))
        return ExerciseResult(
            exercise_id=exercise.id, title=exercise.title, status=status, checks=checks,
            notebook=loaded.relative if loaded else "",
            problems=[loaded.problem] if loaded and loaded.problem else [], check_s=check_s)
    with running_notebook(loaded.notebook, config, another_follows=another_follows) as (execution, backend):
        checks, check_s = _checks(config, exercise, backend)
    return ExerciseResult(
        exercise_id=exercise.id,
        title=exercise.title,
        status=execution.status,
        checks=checks,
        notebook=loaded.relative,
        cell_errors=execution.cell_errors,
        problems=tampering(loaded.notebook, config.course.root / exercise.notebook) + execution.problems,
        kernel=execution.kernel,
        wall_s=execution.wall_s,
        cell_s=execution.cell_s,
        check_s=check_s,
    )


def grade_submission(path: Path, config: GradeConfig, *, submission_id: str | None = None,
                     exercises: list[str] | None = None, more_follow: bool = False) -> SubmissionResult:
    """Grade a notebook or a folder of notebooks against the course in ``config``.

    A single notebook is graded as its own exercise only; a folder is graded against every
    exercise of the course (or those in ``exercises``), a missing notebook scoring zero.
    ``more_follow``: this process grades other submissions after this one (bulk workers).
    """
    started = _now()
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
    results = [grade_exercise(e, notebook, config, another_follows=more_follow or i < last_run)
               for i, (e, notebook) in enumerate(zip(wanted, loaded))]
    return SubmissionResult(
        submission_id=submission.id,
        exercises=results,
        source=str(path),
        grader_version=__version__,
        started_at=started,
        finished_at=_now(),
        problems=submission.problems,
        hidden_checks=config.hidden,
    )
