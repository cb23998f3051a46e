"""Shared fixtures: the bundled course, a generated data set, a config writing only to tmp."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader.checking.runner import CheckRunner
from grader.config import GradeConfig, Limits
from grader.course.manifest import Course, load_course
from grader.kernel.host import KernelHost
from grader.kernel.pool import KernelPool
from grader.results import SubmissionResult
from grader.session import GradingSession

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "exercises")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grader-session")


@pytest.fixture(scope="session")
def data_root(course: Course) -> Iterator[Path]:
    """The generated data set, made once for the whole test session (never the real one).

    Outside pytest's temporary folders, which are private to the user that runs the tests: in
    container mode a kernel runs as a user of its own and must read the data.
    """
    folder = Path(tempfile.mkdtemp(prefix="grader-test-data-"))
    os.chmod(folder, 0o755)
    course.data_preparer()(folder / "data")
    yield folder / "data"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def own_code_sandbox() -> list[str]:
    """The ``--sandbox`` option for grading the project's own notebooks through the CLI: the cage
    ``auto`` picks, or none where this machine has no cage (``grade`` would refuse)."""
    from grader.errors import SandboxError
    from grader.kernel.sandbox import plan

    try:
        plan(GradeConfig(course=load_course(ROOT / "exercises"), data_root=DATA, work_dir=DATA))
    except SandboxError:
        return ["--sandbox", "none"]
    return []


@pytest.fixture(scope="session")
def kernel_host() -> Iterator[KernelHost]:
    """One kernel host for the whole run: each zygote imports torch once per run, not once per
    test (a grading session not handed a host makes its own, and closes it)."""
    with KernelHost() as host:
        yield host


@pytest.fixture(scope="session")
def check_runner() -> Iterator[CheckRunner]:
    """One check runner for the whole run: each exercise's checks are collected once."""
    with CheckRunner() as runner:
        yield runner


@pytest.fixture(scope="session")
def grading(kernel_host: KernelHost, check_runner: CheckRunner):
    """``with grading(config) as session``: a grading session on the run's host and check runner."""

    def open_session(config: GradeConfig, **options: object) -> GradingSession:
        return GradingSession(config, host=kernel_host, checks=check_runner, **options)  # type: ignore[arg-type]

    return open_session


@pytest.fixture(scope="session")
def running(kernel_host: KernelHost):
    """``with running(notebook, config) as (execution, notebook_backend)``: one notebook's cells in a
    fresh kernel on the run's host, the kernel alive for the ``with`` block."""

    @contextlib.contextmanager
    def run(notebook: Any, config: GradeConfig, **options: Any) -> Iterator[Any]:
        with KernelPool(config, kernel_host) as pool, pool.running(notebook, **options) as outcome:
            yield outcome

    return run


@pytest.fixture(scope="session")
def grade(grading):
    """``grade(path, config, **options)``: :func:`grader.session.grade_submission` on the run's host."""

    def grade_one(path: Path, config: GradeConfig, **options: object) -> SubmissionResult:
        with grading(config) as session:
            return session.grade(path, **options)  # type: ignore[arg-type]

    return grade_one


@pytest.fixture(scope="session")
def cage_for_students(course: Course, data_root: Path, session_dir: Path) -> str:
    """The cage ``auto`` gives a student's notebook on this machine. Where none can hold one,
    grading refuses (rightly), so a test that needs grades skips, saying why."""
    from grader.errors import SandboxError
    from grader.kernel.sandbox import plan

    try:
        return plan(GradeConfig(course=course, data_root=data_root, work_dir=session_dir / "work")).mode
    except SandboxError as error:
        pytest.skip(f"no cage can hold a student's notebook on this machine, so grading refuses: {error}")


@pytest.fixture(scope="session")
def make_config(course: Course, data_root: Path, session_dir: Path):
    """A GradeConfig with everything under the session's temporary folder; override any field."""

    # The project's own notebooks (solutions, stubs, golden cases) are trusted code: where no cage
    # can run they run without one. Only the hostile suite is untrusted (trusted_code=False).
    def make(**overrides: object) -> GradeConfig:
        values: dict[str, object] = dict(course=course, data_root=data_root, work_dir=session_dir / "work",
                                         hidden=True, lang="en", limits=Limits(cell_timeout=60, notebook_timeout=240),
                                         trusted_code=True)
        values.update(overrides)
        return GradeConfig(**values)  # type: ignore[arg-type]

    return make
