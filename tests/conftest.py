"""Shared fixtures: the bundled course, a generated data set, a config writing only to tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.config import GradeConfig, Limits
from grader.course import Course, load_course

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "exercises")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grader-session")


@pytest.fixture(scope="session")
def data_root(course: Course, session_dir: Path) -> Path:
    """The generated data set, made once for the whole test session (never the real one)."""
    root = session_dir / "data"
    course.data_preparer()(root)
    return root


@pytest.fixture(scope="session")
def make_config(course: Course, data_root: Path, session_dir: Path):
    """A GradeConfig with everything under the session's temporary folder; override any field."""

    def make(**overrides: object) -> GradeConfig:
        values: dict[str, object] = dict(course=course, data_root=data_root, work_dir=session_dir / "work",
                                         hidden=True, lang="en", limits=Limits(cell_timeout=60, notebook_timeout=240))
        values.update(overrides)
        return GradeConfig(**values)  # type: ignore[arg-type]

    return make
