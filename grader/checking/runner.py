"""Run one exercise's checks (pytest, in this trusted process) against a notebook back end.

A grading session keeps one pytest session per exercise (:class:`CheckRunner`) (public checks alone, or with the
hidden ones): the first notebook pays for pytest's set-up, collection and the check modules'
imports; every later one re-runs the collected items. Each run ends with every fixture torn down
(its last item has no next one), so what carries over from one notebook to the next is
module-level state only: the course's tables and :func:`grader.checks.reference` memos, never a
kernel's answer. A check file edited, or a helper module beside it, is seen at the next notebook:
that session is closed and the folder's modules are imported afresh.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from grader.checking.plugin import CheckPlugin, GradingContext
from grader.checking.seeds import seeded_rngs
from grader.checking.twins import gate
from grader.course.manifest import Course, Exercise
from grader.errors import CourseError
from grader.results import CheckResult

if TYPE_CHECKING:
    from grader.checking.remote import Notebook

try:  # how pytest builds a session is not public API: proven at import, else pytest.main per notebook
    from _pytest.config import Config, _prepareconfig
except ImportError:  # pragma: no cover - exercised by forcing it off in the tests
    _prepareconfig = None  # type: ignore[assignment]


def _private_api_present() -> bool:
    """Whether this pytest still has every private piece a kept session is built from. Where one
    has moved (a pytest release the grader has not met), checks run through ``pytest.main`` for
    each notebook, as before sessions were kept: slower, never wrong."""
    private = ("_do_configure", "_ensure_unconfigure")
    return (_prepareconfig is not None and all(hasattr(Config, name) for name in private)
            and hasattr(pytest.Session, "from_config"))


KEEPS_SESSIONS = _private_api_present()

__all__ = ["CheckRunner", "KEEPS_SESSIONS", "run_checks"]

_INI = Path(__file__).with_name("checks_pytest.ini")
# pytest's plugins that checks never use; each costs set-up time, some of them time per check.
_UNUSED_PLUGINS = ("doctest", "junitxml", "pastebin", "legacypath", "stepwise", "nose", "setuponly",
                   "setupplan", "faulthandler", "debugging", "logging", "subtests", "threadexception",
                   # its clean-up runs a full gc.collect(), ~85 ms with torch loaded
                   "unraisableexception",
                   # it would keep every report of every notebook; nothing of pytest's output is shown
                   "terminal")


class CheckRunner:
    """The pytest sessions a grading session keeps, one per exercise (public checks alone, or
    with the hidden ones), and the one lock that runs them one at a time (a session's plugin
    holds the notebook being checked). Whoever makes one closes it."""

    MAX_SESSIONS = 16  # a course has a dozen (exercise, hidden) pairs; tests load many courses

    def __init__(self) -> None:
        self._sessions: OrderedDict[tuple[Any, ...], CheckSession] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, course: Course, exercise: Exercise, notebook: Notebook, context: GradingContext,
            *, hidden: bool) -> list[CheckResult]:
        """Every check of ``exercise`` (public, and hidden when asked), in file and definition order;
        with the hidden ones, a public check whose hidden twin caught it is ``public_only``."""
        files = exercise.check_files(hidden=hidden)
        if not files:
            return []
        with self._lock:
            session = self._session(course, exercise, files)
            try:
                results = session.run(notebook, context)
            except BaseException:
                self._drop(session)  # stopped half-way: its fixtures are not torn down
                raise
        if hidden and not course.independent_points:
            results = gate(results, exercise.twins)  # hard-coded public answers earn nothing
        return results

    def prepare(self, course: Course, exercise: Exercise, *, hidden: bool) -> None:
        """Collect ``exercise``'s checks now (a worker's start), so that its first notebook need not."""
        files = exercise.check_files(hidden=hidden)
        if files:
            with self._lock:
                self._session(course, exercise, files)

    def _session(self, course: Course, exercise: Exercise, files: tuple[Path, ...]) -> CheckSession:
        key = (str(course.root), files, exercise.hidden_checks, course.cuda_counts)
        session = self._sessions.get(key)
        if session is not None:
            stamps = _stamps(session.folders)
            if stamps != session.stamps:
                # Every session importing from these folders goes, not this one alone: the modules
                # are imported afresh, and a kept session would hold classes no module names any more.
                for other in list(self._sessions.values()):
                    if set(other.folders) & set(session.folders):
                        self._drop(other)
                _forget_modules(session.folders, changed=set(session.stamps) ^ set(stamps))
                session = None
        if session is None:
            session = CheckSession(course, exercise, files)
            self._sessions[key] = session
            while len(self._sessions) > self.MAX_SESSIONS:
                self._drop(next(iter(self._sessions.values())))
        self._sessions.move_to_end(key)
        return session

    def _drop(self, session: CheckSession) -> None:
        for key, kept in list(self._sessions.items()):
            if kept is session:
                del self._sessions[key]
        session.close()

    def close(self) -> None:
        with self._lock:
            for session in list(self._sessions.values()):
                self._drop(session)

    def __enter__(self) -> CheckRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_checks(course: Course, exercise: Exercise, notebook: Notebook, context: GradingContext,
               *, hidden: bool) -> list[CheckResult]:
    """One notebook's checks in a runner of their own (a self-check: nothing to keep warm)."""
    with CheckRunner() as runner:
        return runner.run(course, exercise, notebook, context, hidden=hidden)


def _stamps(folders: tuple[Path, ...]) -> tuple[Any, ...]:
    """What says a check file, or a helper beside it, changed: each Python file's size and times."""
    stamps: list[tuple[Any, ...]] = []
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            stamps.append((str(folder), None))
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                stamps.append((entry.path, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(stamps)


def _forget_modules(folders: tuple[Path, ...], changed: set[tuple[Any, ...]]) -> None:
    """Drop the modules imported from these folders, so that the next session imports them again.

    A changed file's bytecode cache goes too: Python trusts it while the file's size and
    modification second are the same, and an edit can keep both.
    """
    for stamp in changed:
        with contextlib.suppress(OSError, ValueError):
            os.unlink(importlib.util.cache_from_source(stamp[0]))
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().parent in folders:
            del sys.modules[name]


def _args(course: Course, files: tuple[Path, ...]) -> list[str]:
    return [
        *map(str, files),
        "-c", str(_INI),
        "--rootdir", str(course.root),
        "--import-mode=importlib",
        "-p", "no:cacheprovider",
        "--capture=no",
        *[f"-pno:{name}" for name in _UNUSED_PLUGINS],
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]


@contextlib.contextmanager
def _quiet(sink: io.StringIO) -> Iterator[None]:
    """pytest's output and the checks' prints kept out of the grader's; no plugin loaded by itself
    (a third-party plugin installed beside the grader has no say in how checks run)."""
    autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield
    finally:
        if autoload is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = autoload


class CheckSession:
    """One exercise's checks, collected once, run against one notebook after another."""

    def __init__(self, course: Course, exercise: Exercise, files: tuple[Path, ...]) -> None:
        self.exercise_id = exercise.id
        self.folders = tuple(sorted({f.resolve().parent for f in files}))
        self.stamps = _stamps(self.folders)
        for folder in self.folders:
            # Check files may share a helper module that sits beside them.
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        self.args = _args(course, files)
        self.plugin = CheckPlugin(hidden_files=frozenset(exercise.hidden_checks), cuda_counts=course.cuda_counts)
        self._config: Any = None
        self._session: pytest.Session | None = None
        if KEEPS_SESSIONS:
            self._open()

    def _open(self) -> None:
        sink = io.StringIO()
        with _quiet(sink):
            try:
                config = _prepareconfig(self.args, [self.plugin])
            except Exception as exc:  # noqa: BLE001 - a usage error in the arguments, a plugin that failed
                raise CourseError(f"pytest could not run the checks of {self.exercise_id}: {exc}\n"
                                  f"{sink.getvalue()[-3000:]}") from None
            try:
                config._do_configure()
                session = pytest.Session.from_config(config)
                config.hook.pytest_sessionstart(session=session)
                config.hook.pytest_collection(session=session)
            except BaseException:
                config._ensure_unconfigure()
                raise
        self._config, self._session = config, session
        if self.plugin.collection_errors:
            self.close()
            _forget_modules(self.folders, changed=set())  # pytest keeps a module that failed half-way
            self.plugin.raise_collection_errors()

    def run(self, notebook: Notebook, context: GradingContext) -> list[CheckResult]:
        self.plugin.begin(notebook, context)
        with seeded_rngs(0):  # each check is seeded as it starts (CheckPlugin); the caller's put back here
            return self._run()

    def _run(self) -> list[CheckResult]:
        sink = io.StringIO()
        if self._session is None:  # no session to keep: pytest collects again for this notebook
            with _quiet(sink):
                code = pytest.main(self.args, plugins=[self.plugin])
            if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
                raise CourseError(f"pytest could not run the checks of {self.exercise_id}:\n{sink.getvalue()[-3000:]}")
            if self.plugin.collection_errors:
                _forget_modules(self.folders, changed=set())
            return self.plugin.ordered_results()
        items = self._session.items
        hook = self._config.hook
        with _quiet(sink):
            try:
                for index, item in enumerate(items):
                    following = items[index + 1] if index + 1 < len(items) else None
                    hook.pytest_runtest_protocol(item=item, nextitem=following)
            except pytest.exit.Exception as stopped:  # what pytest.main would have ended the run with
                raise CourseError(f"a check of {self.exercise_id} stopped the run: "
                                  f"pytest.exit({stopped.msg!r})") from None
        return self.plugin.ordered_results()

    def close(self) -> None:
        if self._config is None:
            return
        config, session, self._config, self._session = self._config, self._session, None, None
        with _quiet(io.StringIO()), contextlib.suppress(Exception):
            config.hook.pytest_sessionfinish(session=session, exitstatus=pytest.ExitCode.OK)
        config._ensure_unconfigure()
