"""Results as terminal tables (rich), for ``grader check`` and the notebook's plain-text self-check."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.i18n import points_text, ui
from grader.results import CheckStatus, ExerciseResult, SubmissionResult

__all__ = ["exercise_table_text", "print_submission"]

_STYLES = {
    CheckStatus.PASSED: "green",
    CheckStatus.PARTIAL: "cyan",
    CheckStatus.FAILED: "red",
    CheckStatus.ERROR: "dark_orange",
    CheckStatus.TIMEOUT: "magenta",
    CheckStatus.NOT_RUN: "dim",
    CheckStatus.PUBLIC_ONLY: "yellow",
}


def _table(exercise: ExerciseResult, lang: str) -> Table:
    table = Table(title=escape(f"{exercise.title(lang)} ({exercise.exercise_id})"), title_justify="left",
                  show_lines=False, expand=False)
    table.add_column(ui("check", lang))
    table.add_column(ui("status", lang))
    table.add_column(ui("points", lang), justify="right")
    table.add_column(ui("message", lang), overflow="fold")
    for check in exercise.checks:
        name = escape(check.title(lang) + (f" [{check.device}]" if check.device else ""))
        points = (f"{points_text(check.points)}/{points_text(check.max_points)}" if check.counts
                  else f"({points_text(check.max_points)})")
        message = check.message(lang) if check.message else ""
        if check.hint:
            message += f"\n{ui('hint', lang)}: {check.hint(lang)}"
        message = escape(message)  # student text must not be read as rich markup
        style = _STYLES[check.status]
        table.add_row(name, f"[{style}]{ui(check.status.value, lang)}[/]", points, message,)
    table.add_section()
    table.add_row(ui("total", lang), "", f"{points_text(exercise.score)}/{points_text(exercise.max_score)}", "")
    return table


def exercise_table_text(exercise: ExerciseResult, lang: str, width: int = 110) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(_table(exercise, lang))
    return buffer.getvalue()


def print_submission(result: SubmissionResult, lang: str, console: Console) -> None:
    for problem in result.problems:
        console.print(f"[yellow]! {escape(problem(lang))}[/]", highlight=False)
    for exercise in result.exercises:
        for problem in exercise.problems:
            console.print(f"[yellow]! {escape(problem(lang))}[/]", highlight=False)
        console.print(_table(exercise, lang))
        for cell in exercise.cell_errors:
            console.print(f"[red]{ui('cell', lang)} {cell.index}: {escape(cell.ename)}: {escape(cell.evalue[:200])}[/]",
                          highlight=False)
    console.print(f"[bold]{ui('total', lang)}: {points_text(result.score)} / {points_text(result.max_score)}[/]")
