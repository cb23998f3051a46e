"""The self-check at the end of a student's notebook: the public checks, run in-process.

Inside the student's own notebook there is no adversary, so the same checks run against the
live namespace (:class:`grader.checking.remote.LocalNotebook`) and show a table: HTML in Jupyter, text
elsewhere, and nothing else (the returned result displays as that same table, once). Under the
grader the cell does nothing: the grader runs the checks itself, from the outside, and never
trusts what a notebook prints. Nothing on this path imports a POSIX-only module: students run it
on Windows, macOS and Colab.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checking.plugin import GradingContext
from grader.checking.remote import LocalNotebook
from grader.checking.runner import run_checks
from grader.course.manifest import find_course, load_course
from grader.i18n import default_language
from grader.kernel.sandbox import GRADING_FLAG
from grader.results import ExerciseResult, ExerciseStatus

__all__ = ["SelfCheckResult", "run_selfcheck"]


@dataclass
class SelfCheckResult(ExerciseResult):
    """An exercise's result that shows itself as its table once per Jupyter cell.

    :func:`run_selfcheck` shows the table as it returns; when the call is the cell's last
    expression, Jupyter would show the returned object a second time. It does not: a result
    already shown by this cell shows nothing more, and shows its table again in a later cell.
    """

    lang: str = field(default="en", repr=False, compare=False)
    shown_in: int | None = field(default=None, repr=False, compare=False)  # the IPython execution count

    # Elsewhere (IPython's terminal, a notebook's rich output) it shows as its table too, not as
    # the dataclass's repr.
    def _repr_html_(self) -> str:
        from grader.publish.report import exercise_table_html

        return exercise_table_html(self, self.lang)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from grader.publish.terminal import exercise_table_text

        printer.text(exercise_table_text(self, self.lang))

    def _ipython_display_(self) -> None:
        from IPython import get_ipython

        shell = get_ipython()
        count = getattr(shell, "execution_count", None)
        if self.shown_in is not None and self.shown_in == count:
            return
        self.shown_in = count
        _show(self, self.lang, in_kernel=getattr(shell, "kernel", None) is not None)


def run_selfcheck(exercise_id: str, namespace: dict[str, Any], *, data_root: str | os.PathLike = "data",
                  lang: str | None = None, course: str | os.PathLike | None = None,
                  download: bool = False) -> SelfCheckResult | None:
    """Run ``exercise_id``'s public checks against ``namespace`` and show the table.

    ``download``: first let the course's data preparer download the real data set into
    ``data_root`` where it is not there (it falls back to the offline stand-in, saying so in one
    line); without it, nothing here touches the network.
    """
    if os.environ.get(GRADING_FLAG):
        print("(self-check skipped: the grader runs the checks itself)")
        return None
    lang = lang or default_language(os.environ)
    loaded = load_course(Path(course) if course else find_course(Path.cwd()))
    exercise = loaded.exercise(exercise_id)
    if download:
        loaded.prepare_data(Path(data_root), download=True)
    context = GradingContext(exercise_id=exercise_id, data_root=Path(data_root).resolve(),
                             work_dir=Path.home() / ".cache" / "grader-selfcheck")
    checks = run_checks(loaded, exercise, LocalNotebook(namespace), context, hidden=False)
    result = SelfCheckResult(exercise_id=exercise_id, title=exercise.title, status=ExerciseStatus.GRADED,
                             checks=checks, lang=lang)
    try:
        from IPython import get_ipython
    except ImportError:
        _show(result, lang, in_kernel=False)
    else:
        if get_ipython() is None:
            _show(result, lang, in_kernel=False)
        else:
            result._ipython_display_()
    return result


def _show(result: ExerciseResult, lang: str, *, in_kernel: bool) -> None:
    if in_kernel:
        from IPython.display import HTML, display

        from grader.publish.report import exercise_table_html

        display(HTML(exercise_table_html(result, lang)))
        return
    from grader.publish.terminal import exercise_table_text

    print(exercise_table_text(result, lang))
