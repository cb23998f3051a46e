"""What a kernel's end says: limit breaches and deaths turned into a status and plain words.

The sandbox (:mod:`grader.kernel.sandbox`) sets the limits; here a cell's exception ("MemoryError",
"File too large"...) or the kernel's exit status (a signal, ``os._exit``) becomes the exercise's
``limit`` status and a bilingual problem such as "memory limit 4 GB exceeded in cell 7".
"""

from __future__ import annotations

import signal
from typing import Any

from grader.config import Limits
from grader.i18n import T
from grader.results import ExerciseStatus

__all__ = ["observe"]



def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} B"


def _breach(error: Any, limits: Limits) -> T | None:
    """The limit a cell's exception says it ran into, in words; None for an ordinary error."""
    text = f"{error.ename}: {error.evalue}"
    if "MemoryError" in error.ename or "allocate memory" in text or "Cannot allocate memory" in text:
        return T("메모리 제한 {n} 을(를) 셀 {cell} 에서 넘었습니다.",
                 "memory limit {n} exceeded in cell {cell}.").format(n=_size(limits.memory_bytes), cell=error.index)
    if "File too large" in text:
        return T("파일 크기 제한 {n} 을(를) 셀 {cell} 에서 넘었습니다.",
                 "file size limit {n} exceeded in cell {cell}.").format(n=_size(limits.file_bytes), cell=error.index)
    if "No space left on device" in text or "Disk quota exceeded" in text:
        return T("작업 폴더의 용량 {n} 을(를) 셀 {cell} 에서 모두 썼습니다.",
                 "the scratch folder's {n} filled up in cell {cell}.").format(n=_size(limits.scratch_bytes),
                                                                              cell=error.index)
    if "Too many open files" in text:
        return T("열린 파일 수 제한 {n} 개를 셀 {cell} 에서 넘었습니다.",
                 "open files limit of {n} exceeded in cell {cell}.").format(n=limits.open_files, cell=error.index)
    if ("Resource temporarily unavailable" in text and error.ename in ("BlockingIOError", "OSError")) \
            or "can't start new thread" in text:
        return T("프로세스 수 제한 {n} 개를 셀 {cell} 에서 넘었습니다.",
                 "process limit of {n} exceeded in cell {cell}.").format(n=limits.processes, cell=error.index)
    return None


def _signal_of(sandbox: Any, exit_code: int | None) -> int | None:
    if exit_code is None:
        return None
    if exit_code < 0:
        return -exit_code
    if sandbox.mode == "bwrap" and exit_code > 128:  # bwrap reports its child's signal as 128 + n
        return exit_code - 128
    return None


def observe(execution: Any, sandbox: Any, limits: Limits, *, exit_code: int | None = None) -> None:
    """Record the sandbox (a :class:`grader.kernel.sandbox.Sandbox`) in ``execution.kernel``, and turn
    limit breaches and the kernel's death into its status and problems."""
    execution.kernel.update(sandbox.info())
    if sandbox.warning is not None:
        execution.problems.append(sandbox.warning)
    breaches = [b for b in (_breach(e, limits) for e in execution.cell_errors if e.kind == "error") if b]
    if execution.output_truncated:
        breaches.append(T("출력 제한 {n} 을(를) 넘었습니다.", "output limit {n} exceeded.")
                        .format(n=_size(limits.output_bytes)))
    for breach in breaches:
        execution.problems.append(breach)
    if breaches and execution.status is ExerciseStatus.GRADED:
        execution.status = ExerciseStatus.LIMIT
    if exit_code is None:
        return
    execution.kernel["exit_code"] = exit_code
    died = next((e for e in execution.cell_errors if e.kind == "kernel_died"), None)
    number = _signal_of(sandbox, exit_code)
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        execution.kernel["signal"] = name
        why = T("커널이 {sig} 신호로 종료되었습니다", "the kernel was killed by {sig}").format(sig=name)
        if number == signal.SIGXFSZ:
            why = T("커널이 파일 크기 제한 {n} 을(를) 넘어 종료되었습니다", "the kernel exceeded the file size limit "
                    "of {n} and was killed").format(n=_size(limits.file_bytes))
    else:
        why = T("커널이 종료 코드 {code} 로 스스로 끝났습니다 (os._exit 나 exit 를 부르지 않았나요?)",
                "the kernel exited by itself with status {code} (did the code call os._exit or exit?)"
                ).format(code=exit_code)
    where = T(" (셀 {cell}).", " (cell {cell}).").format(cell=died.index) if died else T.same(".")
    execution.problems.append(why + where)
    if died is not None:
        died.evalue = why.en
