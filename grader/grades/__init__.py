"""Final grades: what an instructor publishes, derived from the automatic results.

- :mod:`.adjustments`: an instructor's decision (set, add, excuse, revoke), checked;
- :mod:`.late`: the course's late policy, extensions and submission times, and what lateness costs;
- :mod:`.final`: the final grade of a student, derived, never stored;
- :mod:`.book`: these operations on a gradebook file, each under its writer lock.

The gradebook (:mod:`grader.gradebook`) stores the inputs; nothing here runs a notebook. The
names below load lazily: the gradebook imports this package's data types.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Adjustment": "adjustments",
    "AdjustmentError": "adjustments",
    "Extension": "late",
    "FinalGrade": "final",
    "LatePolicy": "late",
    "LatePolicyError": "late",
    "class_grades": "book",
    "final_grade": "final",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
