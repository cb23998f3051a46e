"""Mistake clusters: students whose checks recognised the same mistakes, per exercise.

A student's *signature* for an exercise is the set of (check, diagnosis key) over its counted
checks that did not pass, plus the root cell error where a cascade of "not run" started. The key
is the check's ``why`` (what the branch that failed recognised), else its hint, else its message
with every number and shape masked, so that "returned 1000" and "returned 999" are one mistake.
Students with equal signatures form a cluster; its id is a hash of the exercise and the
signature alone, so it is the same across reruns, student orders and ``PYTHONHASHSEED``. Its
name comes from words the checks already have in both languages (the check's title, then the
diagnosis): no source text, no language model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from grader.course.manifest import Course
from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

__all__ = ["Cluster", "cluster_id", "clusters", "diagnosis", "signature"]

_NUMBER = re.compile(r"0x[0-9a-fA-F]+|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_UNGRADED = (ExerciseStatus.MISSING, ExerciseStatus.INVALID)


def _masked(text: str) -> str:
    return _NUMBER.sub("#", " ".join(text.split()))


def diagnosis(check: CheckResult) -> tuple[str, T]:
    """The check's diagnosis: its key (what makes two failures the same) and its words."""
    status = check.status.value  # a public check caught by its hidden twin is another mistake than a failure
    if check.why is not None:
        return f"{status}:why:{check.why.en}", check.why
    if check.hint is not None:
        return f"{status}:hint:{_masked(check.hint.en)}", check.hint
    message = check.message or T.same(status)
    return f"{status}:{_masked(message.en)}", T(_masked(message.ko), _masked(message.en))


def _name(check_id: str) -> str:
    return check_id.split("::", 1)[-1]


def signature(exercise: ExerciseResult) -> tuple[tuple[str, str], ...]:
    """What the exercise's checks recognised, as sorted (check, key) pairs; empty when all passed."""
    parts = {(_name(c.id), diagnosis(c)[0]) for c in exercise.checks
             if c.counts and c.status not in (CheckStatus.PASSED,)}
    if any(c.status is CheckStatus.NOT_RUN for c in exercise.checks) and exercise.cell_errors:
        root = exercise.cell_errors[0]
        parts.add(("cell", f"{root.kind}:{root.ename}:{_masked(root.evalue)[:120]}"))
    return tuple(sorted(parts))


def cluster_id(exercise_id: str, signature_: Iterable[tuple[str, str]]) -> str:
    """A stable id: a hash of the exercise and the signature (never of Python's ``hash``)."""
    text = json.dumps([exercise_id, sorted(list(part) for part in signature_)], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


@dataclass
class Cluster:
    id: str
    exercise_id: str
    signature: tuple[tuple[str, str], ...]
    label: T  # "check title — diagnosis" (and how many other checks), without the count
    checks: list[str]  # the failing checks' names
    members: list[str] = field(default_factory=list)
    observed: Counter = field(default_factory=Counter)  # what came back, over the members

    @property
    def size(self) -> int:
        return len(self.members)

    def name(self, lang: str) -> str:
        """"37 students: length of the training split — reads one batch only"."""
        count = T(f"{self.size}명: ", f"{self.size} student{'s' if self.size != 1 else ''}: ")
        return (count + self.label)(lang)

    def to_dict(self) -> dict:
        return {"id": self.id, "exercise": self.exercise_id, "size": self.size, "label_en": self.label.en,
                "label_ko": self.label.ko, "checks": self.checks, "members": self.members,
                "signature": [list(part) for part in self.signature],
                "observed": dict(self.observed.most_common())}


def _label(exercise: ExerciseResult, order: Mapping[str, int]) -> T:
    failing = sorted((c for c in exercise.checks if c.counts and c.status is not CheckStatus.PASSED),
                     key=lambda c: (order.get(_name(c.id), len(order)), c.id))
    if not failing:
        root = exercise.cell_errors[0]
        return T(f"셀 오류: {root.ename}", f"a cell error: {root.ename}")
    first = failing[0]
    label = first.title + T.same(" — ") + diagnosis(first)[1]
    if len(failing) > 1:
        label = label + T(f" 외 {len(failing) - 1}개", f" and {len(failing) - 1} more")
    return label


def clusters(results: Mapping[str, SubmissionResult | None], course: Course) -> dict[str, list[Cluster]]:
    """Every exercise's mistake clusters over the class, largest first (``results``: student → result)."""
    found: dict[str, dict[str, Cluster]] = {e.id: {} for e in course.exercises}
    for student in sorted(results):
        result = results[student]
        for exercise in result.exercises if result is not None else []:
            if exercise.exercise_id not in found or exercise.status in _UNGRADED:
                continue
            parts = signature(exercise)
            if not parts:
                continue  # every check passed: no mistake to group
            number = cluster_id(exercise.exercise_id, parts)
            cluster = found[exercise.exercise_id].get(number)
            if cluster is None:
                order = {_name(c.id): i for i, c in enumerate(exercise.checks)}
                cluster = found[exercise.exercise_id][number] = Cluster(
                    number, exercise.exercise_id, parts, _label(exercise, order),
                    sorted({name for name, _ in parts if name != "cell"}))
            cluster.members.append(student)
            cluster.observed.update(f"{_name(c.id)}: {c.observed}" for c in exercise.checks
                                    if c.observed is not None and c.status is not CheckStatus.PASSED)
    return {exercise: sorted(by_id.values(), key=lambda c: (-c.size, c.id)) for exercise, by_id in found.items()}
