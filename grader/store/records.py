"""What the gradebook stores, as plain records: a submission's row and status, what its layout
said about it, and the instructors' decisions (adjustments, extensions, answers to mistake
clusters). Nothing here reads or writes the store (:mod:`.gradebook` does), and nothing here
imports what derives grades from them (:mod:`grader.grades`, :mod:`grader.insight`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from grader.i18n import T
from grader.results import ExerciseStatus, SubmissionResult

__all__ = ["Adjustment", "Annotation", "Extension", "Row", "Status", "SubmissionInfo", "status_of"]


@dataclass
class SubmissionInfo:
    """What a submission's layout said about it, beside its files (:mod:`grader.intake.submissions`)."""

    layout: str = ""  # folder, zip, canvas, gradescope, ...
    archive: str | None = None  # the student's zip, where it came as one
    late: bool | None = None  # the LMS's own late marker (Canvas's file names)
    name: str | None = None  # the student's name, as the LMS gave it
    lms_user_id: str | None = None
    lms_submission_id: str | None = None
    lms_submission_ids: list[str] = field(default_factory=list)  # several files, several submissions (Canvas)
    group: list[str] = field(default_factory=list)  # a group's members, its submitter first
    submitted_at: str | None = None  # the LMS's submission time (ISO 8601, with its zone)
    exercise_times: dict[str, str] | None = None  # per exercise, where each came separately (the service's hand-ins)
    ignored_files: list[str] | None = None  # what was not a notebook (None: not looked at, unreadable)
    metadata_problem: T | None = None  # the LMS's metadata file could not be read
    submit_manifest: dict[str, Any] | None = None  # grader submit's manifest, compared with the files

    def to_dict(self) -> dict[str, Any]:
        """The stored form: what was said, under the keys the gradebook has always kept."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None or (item.name in ("group", "lms_submission_ids") and not value):
                continue
            data[item.name] = value.to_dict() if isinstance(value, T) else value
        if not self.layout:
            data.pop("layout", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SubmissionInfo:
        data = dict(data or {})
        known = {item.name for item in fields(cls)}
        info = cls(**{k: v for k, v in data.items() if k in known and k != "metadata_problem"})
        info.metadata_problem = T.from_dict(data.get("metadata_problem"))
        return info


class Status(str, enum.Enum):
    """A submission's overall state in the class (a student's mistakes still count as graded)."""

    GRADED = "graded"
    TIMEOUT = "timeout"  # a notebook ran out of time (the rest was still graded)
    ERROR = "error"  # the grader failed on it, or a kernel died
    MISSING = "missing"  # no notebook for any exercise
    UNREADABLE = "unreadable"  # the archive was rejected, or no notebook could be read


def status_of(result: SubmissionResult) -> Status:
    states = {e.status for e in result.exercises}
    timed_out = any(c.kind == "timeout" for e in result.exercises for c in e.cell_errors)
    if ExerciseStatus.TIMEOUT in states or timed_out:
        return Status.TIMEOUT
    if states & {ExerciseStatus.KERNEL_DIED, ExerciseStatus.LIMIT}:
        return Status.ERROR
    if states and states <= {ExerciseStatus.MISSING}:
        return Status.MISSING
    if states and states <= {ExerciseStatus.MISSING, ExerciseStatus.INVALID}:
        return Status.UNREADABLE
    return Status.GRADED


@dataclass
class Row:
    student_id: str
    content_hash: str
    status: Status
    score: float = 0.0
    max_score: float = 0.0
    result: SubmissionResult | None = None
    error: str = ""
    info: SubmissionInfo = field(default_factory=SubmissionInfo)
    graded_at: str = ""
    files_hash: str | None = None  # the submission's files alone (None: graded before schema 2)

    @classmethod
    def from_result(cls, result: SubmissionResult, content_hash: str, info: SubmissionInfo, *,
                    files_hash: str | None = None) -> Row:
        return cls(result.submission_id, content_hash, status_of(result), result.score, result.max_score,
                   result, "", info, files_hash=files_hash)


@dataclass(frozen=True)
class Adjustment:
    student_id: str
    exercise_id: str
    kind: str
    reason: str
    author: str
    check_id: str | None = None
    value: float | None = None
    created_at: str = ""
    files_hash: str | None = None  # the submission files it was made against (None: unknown)
    revokes: int | None = None
    id: int | None = None  # given by the gradebook
    source: str | None = None  # None: made by hand; "annotation:N": the points of an answer to a mistake cluster

    def stale_against(self, files_hash: str | None) -> bool:
        """Made by hand against other files than the student's current ones. A cluster's answer
        follows who is in the cluster now (:mod:`grader.insight.annotations`): never stale."""
        return bool(self.kind != "revoke" and self.source is None and self.files_hash and files_hash
                    and self.files_hash != files_hash)

    def describe(self) -> str:
        """What it does, in a few words ("set 12", "add +2", "excuse", "revoke #4")."""
        if self.kind == "revoke":
            return f"revoke #{self.revokes}"
        if self.kind == "excuse":
            return "excuse"
        return f"{self.kind} {self.value:+g}" if self.kind == "add" else f"set {self.value:g}"


@dataclass(frozen=True)
class Extension:
    student_id: str
    exercise_id: str  # "*" for every exercise
    new_due: datetime | None
    extra_hours: float | None
    reason: str

    def covers(self, exercise_id: str) -> bool:
        return self.exercise_id in ("*", exercise_id)


@dataclass(frozen=True)
class Annotation:
    exercise_id: str
    cluster_id: str
    comment: T
    author: str
    check_id: str | None = None  # ``exercise::test_name``; None: the exercise as a whole
    points: float | None = None  # None: a comment only
    created_at: str = ""
    id: int | None = None  # given by the gradebook

    @property
    def source(self) -> str:
        """What its adjustments carry as their ``source``."""
        return f"annotation:{self.id}"
