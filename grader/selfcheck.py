"""The self-check at the end of a student's notebook: the public checks, run in-process.

Inside the student's own notebook there is no adversary, so the same checks run against the
live namespace (:class:`grader.remote.LocalNotebook`) and show a table: HTML in Jupyter, text
elsewhere. Under the grader the cell does nothing: the grader runs the checks itself, from the
outside, and never trusts what a notebook prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .course import find_course, load_course
from .i18n import default_language
from .sandbox import GRADING_FLAG
from .plugin import GradingContext
from .remote import LocalNotebook
from .results import ExerciseResult, ExerciseStatus
from .runner import run_checks

__all__ = ["run_selfcheck"]


def run_selfcheck(exercise_id: str, namespace: dict[str, Any], *, data_root: str | os.PathLike = "data",
                  lang: str | None = None, course: str | os.PathLike | None = None) -> ExerciseResult | None:
    """Run ``exercise_id``'s public checks against ``namespace`` and show the table."""
    if os.environ.get(GRADING_FLAG):
        print("(self-check skipped: the grader runs the checks itself)")
        return None
    lang = lang or default_language(os.environ)
    loaded = load_course(Path(course) if course else find_course(Path.cwd()))
    exercise = loaded.exercise(exercise_id)
    context = GradingContext(exercise_id=exercise_id, data_root=Path(data_root).resolve(),
                             work_dir=Path.home() / ".cache" / "grader-selfcheck", lang=lang)
    checks = run_checks(loaded, exercise, LocalNotebook(namespace), context, hidden=False)
    result = ExerciseResult(exercise_id=exercise_id, title=exercise.title,
                            status=ExerciseStatus.GRADED, checks=checks)
    _show(result, lang)
    return result


def _show(result: ExerciseResult, lang: str) -> None:
    from .report import exercise_table_html
    from .textreport import exercise_table_text

    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None and getattr(get_ipython(), "kernel", None) is not None:
            display(HTML(exercise_table_html(result, lang)))
            return
    except ImportError:
        pass
    print(exercise_table_text(result, lang))
