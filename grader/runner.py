"""Run one exercise's checks (pytest, in this trusted process) against a notebook back end."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

from .course import Course, Exercise
from .errors import CourseError
from .plugin import CheckPlugin, GradingContext
from .remote import Notebook
from .results import CheckResult
from .twins import gate

__all__ = ["run_checks"]

_INI = Path(__file__).with_name("checks_pytest.ini")
# pytest's plugins that checks never use; each costs set-up time on every run.
_UNUSED_PLUGINS = ("doctest", "junitxml", "pastebin", "legacypath", "stepwise", "nose", "setuponly",
                   "setupplan", "faulthandler", "debugging", "logging", "subtests", "threadexception",
                   # its clean-up runs a full gc.collect(), ~85 ms with torch loaded
                   "unraisableexception")


def run_checks(course: Course, exercise: Exercise, notebook: Notebook, context: GradingContext,
               *, hidden: bool) -> list[CheckResult]:
    """Every check of ``exercise`` (public, and hidden when asked), in file and definition order;
    with the hidden ones, a public check whose hidden twin caught it is ``public_only``."""
    files = exercise.check_files(hidden=hidden)
    if not files:
        return []
    for folder in sorted({str(f.parent) for f in files}):
        # Check files may share a helper module that sits beside them.
        if folder not in sys.path:
            sys.path.insert(0, folder)
    plugin = CheckPlugin(
        notebook=notebook,
        context=context,
        hidden_files=frozenset(exercise.hidden_checks),
        cuda_counts=course.cuda_counts,
    )
    args = [
        *map(str, files),
        "-c", str(_INI),
        "--rootdir", str(course.root),
        "--import-mode=importlib",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        "-p", "no:xdist",
        "-p", "no:hypothesispytest",  # hypothesis is a dev tool: loading it costs every check run
        "--capture=no",
        "--tb=no",  # the plugin keeps what it needs; pytest's own failure reports are never shown
        *[f"-pno:{name}" for name in _UNUSED_PLUGINS],
        "-q",
        "--no-header",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise CourseError(f"pytest could not run the checks of {exercise.id}:\n{sink.getvalue()[-3000:]}")
    results = plugin.ordered_results()
    if hidden and not course.independent_points:
        results = gate(results, exercise.twins)  # hard-coded public answers earn nothing
    return results
