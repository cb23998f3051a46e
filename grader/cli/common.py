"""What every command shares: the group, the options, the exit codes, and the one place where
options and the environment become a configuration."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any

import click

from grader import __version__
from grader.config import GradeConfig, Limits
from grader.course.manifest import Course, find_course, load_course
from grader.errors import GraderError, KernelError

__all__ = ["EXIT_CODES_HELP", "ExitCode", "Failure", "build_config", "cli", "common_options", "course_from"]


class ExitCode(enum.IntEnum):
    OK = 0  # check: every check passed; other commands: the work was done
    CHECKS_FAILED = 1  # check: at least one check did not pass
    USAGE = 2  # the command line is wrong (click's own code)
    BAD_INPUT = 3  # a submission, course or file could not be read
    INTERNAL = 4  # the grader could not do its work (a kernel would not start...)


EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value}  {code.name.lower().replace('_', ' ')}" for code in ExitCode)


class Failure(click.ClickException):
    """A project error, said in one line, with the exit code its kind deserves."""

    def __init__(self, error: GraderError) -> None:
        super().__init__(str(error))
        self.exit_code = int(ExitCode.INTERNAL if isinstance(error, KernelError) else ExitCode.BAD_INPUT)  # type: ignore[misc]


def course_from(path: str | None) -> Course:
    """The course at ``path`` (a ``course.toml`` or its folder), else the one found from here."""
    return load_course(Path(path) if path else find_course(Path.cwd()))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader"


def build_config(*, course: Course, hidden: bool, lang: str, data_root: str | None, work_dir: str | None,
                 cell_timeout: float, notebook_timeout: float, kernel: str = "forkserver",
                 sandbox: str = "auto", protected: tuple[Path, ...] = (), kernel_uid: int = 65534,
                 trusted_code: bool = False) -> GradeConfig:
    """The one place where options and the environment become a configuration."""
    return GradeConfig(
        course=course,
        data_root=course.data_root(data_root, os.environ),
        work_dir=Path(work_dir).resolve() if work_dir else _cache_dir(),
        hidden=hidden,
        lang=lang,
        limits=Limits(cell_timeout=cell_timeout, notebook_timeout=notebook_timeout),
        kernel=kernel,
        sandbox=sandbox,
        protected_paths=protected,
        kernel_uid=kernel_uid,
        trusted_code=trusted_code,
    )


def common_options(function: Any) -> Any:
    options = [
        click.option("--course", "course_path", type=click.Path(exists=True, dir_okay=True),
                     help="The course manifest (course.toml) or its folder. Default: found from here."),
        click.option("--lang", type=click.Choice(["ko", "en"]), default=None,
                     help="Language of messages and reports. Default: from the locale, else en."),
        click.option("--data-root", type=click.Path(file_okay=False),
                     help="Where the data set lives (made there if missing). Default: the course's "
                          "data environment variable, else COURSE/data."),
        click.option("--work-dir", type=click.Path(file_okay=False),
                     help="The grader's scratch folder. Default: ~/.cache/grader."),
        click.option("--cell-timeout", type=float, default=Limits.cell_timeout, show_default=True,
                     help="Seconds one cell may run."),
        click.option("--notebook-timeout", type=float, default=Limits.notebook_timeout, show_default=True,
                     help="Seconds all of a notebook's cells may run."),
        click.option("--sandbox", type=click.Choice(["auto", "bwrap", "container", "userns", "none"]), default="auto",
                     show_default=True,
                     help="The kernel's cage: bwrap (bubblewrap: no network, a minimal file system), container "
                          "(as root where bubblewrap cannot run: a uid of the kernel's own, a syscall filter), "
                          "userns (no root: user, pid and network namespaces), none (limits only, for "
                          "notebooks you trust). auto takes the first that works here, in that order, and "
                          "refuses to grade where none does; a self-check always runs."),
        click.option("--kernel-uid", type=click.IntRange(min=1), default=65534, show_default=True,
                     help="Container mode: kernels run as this uid and gid, and the ones below it, one per "
                          "kernel alive at a time."),
        click.option("--kernel", type=click.Choice(["forkserver", "fresh"]), default="forkserver", show_default=True,
                     help="How each notebook's kernel starts: forkserver (forked from a warm process that "
                          "imported torch once: ~0.1 s) or fresh (a new Python process per notebook, "
                          "~4-9 s with torch; for debugging and comparison)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Grade Jupyter exercise notebooks: each notebook runs in a fresh kernel, checks run
    outside it, results and reports come out."""
