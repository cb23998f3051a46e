"""The pytest plugin that runs a course's checks and turns each outcome into a CheckResult.

Shaped like pytest's own ``junitxml``: fixtures for the checks (``nb``, ``grading``, ``device``),
fresh seeds for each check, and a collector listening to the reports. The student's side
only ever produces data; every status here is decided on the trusted side.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from grader.checking.seeds import seed_all
from grader.checks import CheckFailed, check_meta
from grader.errors import (
    CourseError,
    KernelDied,
    NotDefined,
    NotebookUnavailable,
    ProbeTimeout,
    StudentError,
    WireError,
)
from grader.i18n import T
from grader.results import CellError, CheckResult, CheckStatus

if TYPE_CHECKING:
    from grader.checking.remote import Notebook

__all__ = ["CheckPlugin", "GradingContext"]

DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class GradingContext:
    """What a check may know about the run: where data lives, and for which exercise."""

    exercise_id: str
    data_root: Path  # the data set the notebook was given
    work_dir: Path  # a folder for data the checks generate (readable by kernels)


MSG_NOT_IMPLEMENTED = T(
    "`{where}`이(가) 아직 구현되지 않았습니다 (NotImplementedError).",
    "`{where}` is not implemented yet (NotImplementedError).",
)
HINT_NOT_IMPLEMENTED = T(
    "`# YOUR CODE HERE` 아래의 `raise NotImplementedError`를 여러분의 코드로 바꾸세요.",
    "Replace `raise NotImplementedError` under `# YOUR CODE HERE` with your code.",
)
MSG_RAISED = T("여러분의 코드에서 예외가 발생했습니다: {ename}: {evalue}",
               "Your code raised {ename}: {evalue}")
MSG_NOT_DEFINED = T(
    "`{name}`이(가) 정의되어 있지 않습니다. 정의하는 셀이 오류 없이 실행되었나요?",
    "`{name}` is not defined. Did the cell that defines it run without an error?",
)
MSG_TIMEOUT = T("{seconds:g}초 안에 답이 오지 않았습니다 (무한 루프?).",
                "No answer within {seconds:g} s (an endless loop?).")
MSG_UNAVAILABLE = {
    "missing": T("이 실습의 노트북이 제출되지 않았습니다.", "No notebook was submitted for this exercise."),
    "invalid": T("노트북을 읽을 수 없어 검사를 실행하지 못했습니다.",
                 "The notebook could not be read, so this check could not run."),
    "timeout": T("노트북이 시간 제한을 넘겨 검사를 실행하지 못했습니다.",
                 "The notebook ran out of time, so this check could not run."),
}
MSG_KERNEL_DIED = T("노트북의 커널이 종료되어 검사를 실행할 수 없습니다.",
                    "The notebook's kernel is gone, so this check could not run.")
MSG_UNREADABLE = T("여러분의 코드가 돌려준 값을 읽을 수 없습니다: {reason}",
                   "The value your code returned could not be read: {reason}")
MSG_NO_CUDA = T("실행 안 됨: CUDA 없음", "not run: no CUDA")
MSG_INTERNAL = T("채점기 내부 오류로 이 검사를 실행하지 못했습니다: {reason}",
                 "This check could not run because of an internal grader error: {reason}")


def _where(item: pytest.Item) -> str:
    return item.originalname if hasattr(item, "originalname") else item.name


class CheckPlugin:
    """Collects one exercise's check outcomes; registered with the pytest session that runs them.

    The session may outlive one notebook (grader.checking.runner keeps it for the next): :meth:`begin`
    binds the next notebook and starts its results afresh from what collection found.
    """

    def __init__(self, *, hidden_files: frozenset[Path], cuda_counts: bool) -> None:
        self.hidden_files = hidden_files
        self.cuda_counts = cuda_counts
        self.notebook: Notebook | None = None
        self.context: GradingContext | None = None
        self.collected: dict[str, CheckResult] = {}  # node id -> its result before it runs
        self.results: dict[str, CheckResult] = {}
        self.collection_errors: list[str] = []
        self._started: dict[str, float] = {}

    def begin(self, notebook: Notebook, context: GradingContext) -> None:
        """The next notebook: nothing of the previous one's results, fixtures or timings stays."""
        for library in ("numpy", "torch"):  # seed_all seeds only the libraries already loaded
            importlib.import_module(library)
        self.notebook, self.context = notebook, context
        self.collection_errors = []  # a session is only kept without any; pytest.main collects again
        self._fresh_results()

    def _fresh_results(self) -> None:
        exercise_id = self.context.exercise_id if self.context else ""
        self.results = {node: dataclasses.replace(template, id=f"{exercise_id}::{template.id}", retests=[])
                        for node, template in self.collected.items()}
        self._started = {}

    # -- fixtures -------------------------------------------------------------------------
    # Session-scoped: a run is one notebook (every fixture is torn down after its last check), so
    # a course's module-scoped fixture may ask a notebook once for what several checks judge.
    @pytest.fixture(scope="session")
    def nb(self) -> Notebook:
        return self._notebook()

    @pytest.fixture(scope="session")
    def grading(self) -> GradingContext:
        return self._context()

    @pytest.fixture(scope="session")
    def data_root(self) -> Path:
        return self._context().data_root

    def _notebook(self) -> Notebook:
        assert self.notebook is not None, "no notebook bound: begin() comes first"
        return self.notebook

    def _context(self) -> GradingContext:
        assert self.context is not None, "no notebook bound: begin() comes first"
        return self.context

    # -- hooks ----------------------------------------------------------------------------
    def pytest_addoption(self, parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
        # The terminal reporter is off (grader.checking.runner), and with it the option that says how to
        # report a failure. Its default, "long", parses the check file's source for every failing
        # check (~11 ms, and CPython 3.11 may fail to parse after a student's deep recursion); the
        # plugin reads the exception itself and never that report (none is made for a check:
        # pytest_runtest_makereport_untraced); "native" is for collection errors, which are quoted.
        # Where the terminal reporter is on (a benchmark's plain pytest.main), it owns the option.
        if not pluginmanager.has_plugin("terminal"):
            parser.addoption("--tb", dest="tbstyle", default="native", help="how pytest formats a failure")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "device" in metafunc.fixturenames:
            metafunc.parametrize("device", DEVICES, ids=DEVICES)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected = {}
        for item in items:
            function = getattr(item, "function", None)
            meta = check_meta(function) if function is not None else None
            if meta is None:
                self.collection_errors.append(f"{item.nodeid}: a check needs @check(points=..., title=...)")
                continue
            device = self._device(item)
            self.collected[item.nodeid] = CheckResult(
                id=item.name,
                title=meta.title,
                status=CheckStatus.PASSED,
                points=0.0,
                max_points=meta.points,
                hidden=Path(str(item.path)).resolve() in self.hidden_files,
                device=device,
                counts=device != "cuda" or self.cuda_counts,
            )
        self._fresh_results()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.perf_counter()
        # The fixtures a check sets up, and then the check itself (pytest_runtest_call), start from
        # seed 0, whatever ran before; the caller's generators are put back once the notebook's
        # run ends (grader.checking.runner), not after every check (a full save and restore, ~170 us: numpy's
        # get_state and set_state copy its whole state). Hooks: no fixture to set up per check.
        seed_all(0)
        if self._device(item) == "cuda" and not self._notebook().cuda_available():
            pytest.skip(MSG_NO_CUDA.en)

    def pytest_runtest_call(self, item: pytest.Item) -> None:
        seed_all(0)

    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_untraced(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        """A failure's report without its formatted traceback: pytest's own formats one, ~1 ms a
        failing check (measured; most of a failing check's cost), which nothing here reads (the
        plugin judges from the exception itself, and pytest's terminal output is off).
        Passes and skips are left to pytest (None: the next implementation reports)."""
        if call.excinfo is None or isinstance(call.excinfo.value, pytest.skip.Exception):
            return None
        return pytest.TestReport(item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed",
                                 call.excinfo.typename, call.when, (), call.duration, call.start, call.stop,  # type: ignore[arg-type]
                                 user_properties=item.user_properties)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        report = outcome.get_result()
        result = self.results.get(item.nodeid)
        if result is None:
            return
        if call.when == "teardown":
            result.duration_s = time.perf_counter() - self._started.get(item.nodeid, time.perf_counter())
            if result.status is CheckStatus.PASSED:
                result.points = result.max_points
            return
        if report.passed or result.status is not CheckStatus.PASSED:
            return  # keep the first thing that went wrong
        if report.skipped:
            reason = _skip_reason(call)
            result.status = CheckStatus.NOT_RUN
            result.message = MSG_NO_CUDA if reason == MSG_NO_CUDA.en else T.same(reason)
            return
        self._classify(result, call.excinfo, _where(item))

    @staticmethod
    def _device(item: pytest.Item) -> str | None:
        callspec = getattr(item, "callspec", None)
        return callspec.params.get("device") if callspec else None

    @staticmethod
    def _classify(result: CheckResult, excinfo: Any, where: str) -> None:
        error = excinfo.value if excinfo is not None else None
        if isinstance(error, CheckFailed):
            result.status, result.message, result.hint = CheckStatus.FAILED, error.message, error.hint
            if error.credit >= 1.0:  # every part right after all: the message stays, the points are whole
                result.status = CheckStatus.PASSED
            elif error.credit > 0.0:
                result.status, result.points = CheckStatus.PARTIAL, round(result.max_points * error.credit, 6)
            result.retests, result.why, result.observed = list(error.retests), error.why, error.observed
        elif isinstance(error, StudentError) and error.not_implemented:
            result.status = CheckStatus.FAILED
            result.message = MSG_NOT_IMPLEMENTED.format(where=error.where or where.removeprefix("test_"))
            result.hint = HINT_NOT_IMPLEMENTED
        elif isinstance(error, StudentError):
            result.status = CheckStatus.ERROR
            result.message = MSG_RAISED.format(ename=error.ename, evalue=error.evalue[:300])
            result.error = CellError(index=-1, kind="error", ename=error.ename,
                                     evalue=error.evalue, traceback=error.traceback)
        elif isinstance(error, NotDefined):
            result.status = CheckStatus.NOT_RUN
            result.message = MSG_NOT_DEFINED.format(name=error.name)
        elif isinstance(error, ProbeTimeout):
            result.status = CheckStatus.TIMEOUT
            result.message = MSG_TIMEOUT.format(seconds=error.seconds)
        elif isinstance(error, NotebookUnavailable):
            result.status = CheckStatus.NOT_RUN
            result.message = MSG_UNAVAILABLE.get(error.reason, MSG_KERNEL_DIED)
        elif isinstance(error, KernelDied):
            result.status = CheckStatus.NOT_RUN
            result.message = MSG_KERNEL_DIED
        elif isinstance(error, WireError):
            result.status = CheckStatus.FAILED
            result.message = MSG_UNREADABLE.format(reason=str(error)[:200])
        elif isinstance(error, AssertionError):
            result.status = CheckStatus.FAILED
            result.message = T.same(str(error)[:500] or "assertion failed")
        else:
            result.status = CheckStatus.ERROR
            result.message = MSG_INTERNAL.format(reason=f"{type(error).__name__}: {str(error)[:300]}")

    def raise_collection_errors(self) -> None:
        """A course error naming every check that could not be collected, if any could not."""
        if self.collection_errors:
            raise CourseError("check files could not be collected:\n" + "\n".join(self.collection_errors))

    def ordered_results(self) -> list[CheckResult]:
        self.raise_collection_errors()
        return list(self.results.values())  # in collection order: file, then definition


def _skip_reason(call: pytest.CallInfo) -> str:
    value = call.excinfo.value if call.excinfo is not None else None
    return str(getattr(value, "msg", "") or value or "skipped")
