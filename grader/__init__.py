"""An automated grader for Jupyter exercise notebooks: fresh sandboxed kernels, pytest checks
across a trust boundary, results, a gradebook and self-contained reports.

The public names load lazily: a student's kernel imports ``grader.checking.probe`` for every check, and
must not pay for nbclient, pytest or jinja2 to do so.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "CheckResult": "results",
    "CheckStatus": "results",
    "Course": "course.manifest",
    "CourseError": "errors",
    "Exercise": "course.manifest",
    "ExerciseResult": "results",
    "ExerciseStatus": "results",
    "GradeConfig": "config",
    "GraderError": "errors",
    "KernelError": "errors",
    "Limits": "config",
    "SubmissionError": "errors",
    "SubmissionResult": "results",
    "WireError": "errors",
    "GradingSession": "session",
    "grade_submission": "session",
    "load_course": "course.manifest",
    "prepare_data": "session",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
