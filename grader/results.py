"""The versioned, typed result of grading: submission → exercises → checks.

Everything the gradebook stores, the reports render and the exports write comes from these
dataclasses; ``to_dict``/``from_dict`` are the one JSON form (``SCHEMA`` names its version).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grader.i18n import T

__all__ = ["CellError", "CheckResult", "CheckStatus", "ExerciseResult", "ExerciseStatus", "SCHEMA",
           "SubmissionResult"]

SCHEMA = "grader.result/1"


class CheckStatus(str, enum.Enum):
    PASSED = "passed"
    PARTIAL = "partial"  # part of the answer is right: part of the points, and a message saying why
    FAILED = "failed"
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"
    NOT_RUN = "not_run"  # with a reason: name not defined, no CUDA, notebook missing...
    PUBLIC_ONLY = "public_only"  # passed on the public data, but its hidden twin did not: not counted


class ExerciseStatus(str, enum.Enum):
    GRADED = "graded"  # the notebook ran to its end (cells may have failed)
    TIMEOUT = "timeout"  # the notebook's wall-time budget ran out
    KERNEL_DIED = "kernel_died"
    LIMIT = "limit"  # a resource limit (memory, processes, output...) was breached
    MISSING = "missing"  # no notebook for this exercise in the submission
    INVALID = "invalid"  # a notebook was there but could not be read


def _text(value: T | None) -> dict[str, str] | None:
    return value.to_dict() if value is not None else None


@dataclass
class CellError:
    """A cell that raised, timed out or killed its kernel, with what the student needs to see."""

    index: int
    kind: str  # "error" | "timeout" | "kernel_died" | "limit"
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    source: str = ""  # a trimmed excerpt
    cell_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CellError:
        return cls(**data)


@dataclass
class CheckResult:
    id: str
    title: T
    status: CheckStatus
    points: float
    max_points: float
    hidden: bool = False
    message: T | None = None
    hint: T | None = None
    device: str | None = None  # "cpu" / "cuda" for device-parametrised checks
    counts: bool = True  # False for device-only checks the course does not score
    duration_s: float = 0.0
    error: CellError | None = None  # the student's exception, for status "error"
    retests: list[str] = field(default_factory=list)  # a hidden check's failure: the public checks it re-tested
    why: T | None = None  # the mistake the check recognised (instructors only)
    observed: str | None = None  # a canonical form of what came back (instructors only)
    # A public check that passed but whose hidden twin did not (grader.checking.twins): until the
    # hidden results are released, the student sees it as the pass it was, with its own message.
    gated: bool = False
    own_message: T | None = None

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"retests": self.retests} if self.retests else {}
        if self.gated:
            extra["gated"] = True
            extra["own_message"] = _text(self.own_message)
        if self.why is not None:
            extra["why"] = self.why.to_dict()
        if self.observed is not None:
            extra["observed"] = self.observed
        return {
            "id": self.id,
            "title": self.title.to_dict(),
            "status": self.status.value,
            "points": self.points,
            "max_points": self.max_points,
            "hidden": self.hidden,
            "message": _text(self.message),
            "hint": _text(self.hint),
            "device": self.device,
            "counts": self.counts,
            "duration_s": round(self.duration_s, 4),
            "error": self.error.to_dict() if self.error else None,
            **extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            id=data["id"],
            title=T.from_dict(data["title"]) or T.same(data["id"]),
            status=CheckStatus(data["status"]),
            points=float(data["points"]),
            max_points=float(data["max_points"]),
            hidden=bool(data.get("hidden", False)),
            message=T.from_dict(data.get("message")),
            hint=T.from_dict(data.get("hint")),
            device=data.get("device"),
            counts=bool(data.get("counts", True)),
            duration_s=float(data.get("duration_s", 0.0)),
            error=CellError.from_dict(data["error"]) if data.get("error") else None,
            retests=[str(r) for r in data.get("retests") or []],
            why=T.from_dict(data.get("why")),
            observed=data.get("observed"),
            gated=bool(data.get("gated", False)),
            own_message=T.from_dict(data.get("own_message")),
        )

    def as_public(self) -> CheckResult:
        """This check as a student sees it before the hidden results are released: a gated check
        is the pass it was; what only instructors read (``why``, ``observed``) is left out."""
        if self.gated:
            return replace(self, status=CheckStatus.PASSED, points=self.max_points,
                                       message=self.own_message, hint=None, gated=False, own_message=None,
                                       why=None, observed=None)
        return replace(self, why=None, observed=None)


@dataclass
class ExerciseResult:
    exercise_id: str
    title: T
    status: ExerciseStatus
    checks: list[CheckResult] = field(default_factory=list)
    notebook: str = ""  # the submitted file, relative to the submission
    cell_errors: list[CellError] = field(default_factory=list)
    problems: list[T] = field(default_factory=list)  # load problems, tampering, limits
    wall_s: float = 0.0  # executing the notebook
    cell_s: float = 0.0  # the student's cells' own time, as the kernel measured it
    check_s: float = 0.0
    kernel: dict[str, Any] = field(default_factory=dict)  # exit status, cpu time, sandbox

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks if c.counts)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks if c.counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise_id": self.exercise_id,
            "title": self.title.to_dict(),
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "notebook": self.notebook,
            "checks": [c.to_dict() for c in self.checks],
            "cell_errors": [c.to_dict() for c in self.cell_errors],
            "problems": [p.to_dict() for p in self.problems],
            "wall_s": round(self.wall_s, 4),
            "cell_s": round(self.cell_s, 4),
            "check_s": round(self.check_s, 4),
            "kernel": self.kernel,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseResult:
        return cls(
            exercise_id=data["exercise_id"],
            title=T.from_dict(data["title"]) or T.same(data["exercise_id"]),
            status=ExerciseStatus(data["status"]),
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            notebook=data.get("notebook", ""),
            cell_errors=[CellError.from_dict(c) for c in data.get("cell_errors", [])],
            problems=[t for t in (T.from_dict(p) for p in data.get("problems", [])) if t is not None],
            wall_s=float(data.get("wall_s", 0.0)),
            cell_s=float(data.get("cell_s", 0.0)),
            check_s=float(data.get("check_s", 0.0)),
            kernel=dict(data.get("kernel", {})),
        )


@dataclass
class SubmissionResult:
    submission_id: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    source: str = ""
    grader_version: str = ""
    started_at: str = ""
    finished_at: str = ""
    problems: list[T] = field(default_factory=list)  # files that matched no exercise, etc.
    hidden_checks: bool = False  # graded with hidden checks (instructor) or public only
    meta: dict[str, Any] = field(default_factory=dict)  # layout details: late marker, hashes

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def checks(self) -> list[CheckResult]:
        return [c for e in self.exercises for c in e.checks]

    @property
    def all_passed(self) -> bool:
        counted = [c for c in self.checks if c.counts]
        return bool(counted) and all(c.status is CheckStatus.PASSED for c in counted)

    def as_public(self, released: Collection[str] = ()) -> SubmissionResult:
        """What the student may see: the exercises in ``released`` whole, every other one as their
        self-check would show it (no hidden check, each gated check the pass it was)."""
        exercises = [exercise if exercise.exercise_id in released else
                     replace(exercise, checks=[c.as_public() for c in exercise.checks if not c.hidden])
                     for exercise in self.exercises]
        return replace(self, exercises=exercises, hidden_checks=self.hidden_checks and bool(released))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "submission_id": self.submission_id,
            "source": self.source,
            "grader_version": self.grader_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "hidden_checks": self.hidden_checks,
            "score": self.score,
            "max_score": self.max_score,
            "problems": [p.to_dict() for p in self.problems],
            "meta": self.meta,
            "exercises": [e.to_dict() for e in self.exercises],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unknown result schema {data.get('schema')!r}; expected {SCHEMA!r}")
        return cls(
            submission_id=data["submission_id"],
            exercises=[ExerciseResult.from_dict(e) for e in data.get("exercises", [])],
            source=data.get("source", ""),
            grader_version=data.get("grader_version", ""),
            started_at=data.get("started_at", ""),
            finished_at=data.get("finished_at", ""),
            problems=[t for t in (T.from_dict(p) for p in data.get("problems", [])) if t is not None],
            hidden_checks=bool(data.get("hidden_checks", False)),
            meta=dict(data.get("meta", {})),
        )
