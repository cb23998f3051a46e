"""What the commands that work on a graded OUT folder share: its gradebook, its reports, an author.

``override``, ``history``, ``late`` (:mod:`.grades`), ``clusters``, ``annotate``, ``similarity``
(:mod:`.insight`) and ``export`` (:mod:`.grading`) read or write the gradebook a ``grader bulk`` run
left in OUT; the ones that write refresh the reports there.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from grader.i18n import default_language

__all__ = ["COURSE_OPTION", "GRADEBOOK_OPTION", "LANG_OPTION", "author_name", "gradebook_in", "refresh_reports"]

GRADEBOOK_OPTION = click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False),
                                help="The SQLite gradebook. Default: OUT/gradebook.sqlite.")
COURSE_OPTION = click.option("--course", "course_path", type=click.Path(exists=True),
                             help="The course manifest or its folder.")
LANG_OPTION = click.option("--lang", type=click.Choice(["ko", "en"]), default=None,
                           help="Language of the refreshed reports. Default: from the locale.")


def gradebook_in(out_dir: str, gradebook_path: str | None, *, must_exist: bool = False, param: str = "OUT") -> Path:
    """The gradebook of OUT (``--gradebook`` if given); with ``must_exist``, a usage error naming it when absent."""
    book = Path(gradebook_path) if gradebook_path else Path(out_dir) / "gradebook.sqlite"
    if must_exist and not book.is_file():
        raise click.BadParameter(f"{book}: no gradebook here (run 'grader bulk' first)", param_hint=param)
    return book


def refresh_reports(out_dir: str, book: Path, course, lang: str | None, students: set[str] | None) -> None:
    """Rewrite the class report and the reports of ``students`` (None: every one; answered and
    missing ones always), where OUT has reports."""
    from grader.publish.classreport import write_reports
    from grader.store.gradebook import Gradebook

    out = Path(out_dir)
    if (out / "index.html").is_file():
        with Gradebook(book) as gradebook:
            write_reports(out, gradebook, course, lang=lang or default_language(os.environ), students=students)


def author_name(author: str | None) -> str:
    """``--by``, else the login name."""
    if author:
        return author
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without an account: say so rather than guess
        return f"uid {os.getuid()}"
