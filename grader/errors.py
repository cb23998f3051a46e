"""The grader's exception tree: infrastructure failures, never a student's mistake.

A student's mistake is data (it goes into the result); these exceptions mean the grader
itself could not do its job, or was asked to do something impossible::

    GraderError
    ├── CourseError          the course manifest or its files are wrong
    ├── SubmissionError      a submission cannot be read at all (not a notebook, not a zip...)
    ├── KernelError          a kernel could not be started or reached
    │   └── SandboxError     no cage can hold a kernel here (or the one asked for cannot)
    └── WireError            a kernel answered with data that is not in the safe wire format

Inside checks, a second family describes what happened on the student's side of a probe;
they are turned into check statuses by the pytest plugin, never shown as grader crashes::

    ProbeOutcome
    ├── StudentError         the student's code raised (status "error")
    ├── NotDefined           a name the check needs is not defined (status "not run")
    ├── ProbeTimeout         the student's code did not return in time (status "timeout")
    ├── KernelDied           the kernel died during the probe (status "not run")
    └── NotebookUnavailable  no live notebook to ask: missing, unreadable, out of time (status "not run")
"""

from __future__ import annotations

__all__ = [
    "CourseError",
    "GraderError",
    "KernelDied",
    "KernelError",
    "NotDefined",
    "NotebookUnavailable",
    "ProbeOutcome",
    "ProbeTimeout",
    "SandboxError",
    "StudentError",
    "SubmissionError",
    "WireError",
]


class GraderError(Exception):
    """Base of every error the grader raises about itself or its inputs."""


class CourseError(GraderError):
    """The course manifest, a notebook of the course or a check file is wrong."""


class SubmissionError(GraderError):
    """A submission cannot be read at all."""


class KernelError(GraderError):
    """A kernel could not be started or reached."""


class SandboxError(KernelError):
    """No cage can hold a kernel on this machine, or the one asked for cannot run here."""


class WireError(GraderError):
    """Data from a kernel is not in the safe wire format."""


class ProbeOutcome(Exception):
    """Base of what can happen to a call into student code, other than a value."""


class StudentError(ProbeOutcome):
    """The student's code raised an exception during a probe."""

    def __init__(self, ename: str, evalue: str, traceback: str = "") -> None:
        super().__init__(f"{ename}: {evalue}")
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback

    @property
    def not_implemented(self) -> bool:
        return self.ename == "NotImplementedError"

    @property
    def where(self) -> str:
        """The innermost function of the student's code in the traceback ("" if unknown)."""
        import re

        frames = re.findall(r'File "([^"]*)", line \d+, in (\S+)', self.traceback)
        ours = ("<grader probe>", "/grader/probe.py")
        names = [name for file, name in frames if not file.endswith(ours)]
        return names[-1] if names else ""


class NotDefined(ProbeOutcome):
    """A name the check needs is not defined in the student's namespace."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class ProbeTimeout(ProbeOutcome):
    """The student's code did not return within the probe's time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


class KernelDied(ProbeOutcome):
    """The kernel process died while a probe was running (or before it)."""


class NotebookUnavailable(ProbeOutcome):
    """There is no live notebook to ask: ``reason`` is the exercise's status that says why
    (``missing``, ``invalid``, ``timeout``, ``kernel_died``, ``limit``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
