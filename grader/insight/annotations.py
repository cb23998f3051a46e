"""An instructor's answer to a mistake cluster, given once for all of its students.

An annotation holds a comment in both languages, shown under one check (or the exercise) in the
report of every student in the cluster, and optionally points. The points go through the
adjustments history of the final grades, one ``add`` per member with the annotation as its
``source``, so the audit trail shows each student's change like any other.

Membership is recomputed from the gradebook whenever results change (:func:`sync`, after every
``grader bulk`` run and every ``grader annotate``): a student who lands in the cluster later gets
the same note and adjustment, and one who left it (a resubmission that fixed or changed the
mistake) has theirs revoked, with that as the reason. An adjustment an instructor revoked by hand
stays revoked. An annotation whose cluster no longer has anyone in it is *orphaned*: listed by
``grader clusters`` and the class report, never dropped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from grader.errors import GraderError
from grader.grades.adjustments import now
from grader.i18n import T
from grader.store.records import Adjustment, Annotation

if TYPE_CHECKING:
    from grader.course.manifest import Course
    from grader.insight.mistakes import Cluster
    from grader.store.gradebook import Gradebook
    from grader.store.records import Row

__all__ = ["Annotation", "AnnotationError", "annotate", "find_cluster", "notes", "orphaned", "sync", "sync_plan"]


class AnnotationError(GraderError):
    """An annotation that cannot be recorded: no such cluster, a check outside it, no comment..."""


Found = Mapping[str, list["Cluster"]]  # exercise id → its clusters (clusters.clusters)


def _members(found: Found) -> dict[tuple[str, str], list[str]]:
    return {(c.exercise_id, c.id): c.members for every in found.values() for c in every}


def find_cluster(found: Found, wanted: str) -> Cluster:
    """The cluster with this id, or the one whose id starts with it (at least 4 characters)."""
    every = [c for clusters in found.values() for c in clusters]
    exact = [c for c in every if c.id == wanted]
    if exact:
        return exact[0]
    matches = [c for c in every if len(wanted) >= 4 and c.id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AnnotationError(f"cluster id {wanted!r} is ambiguous: {', '.join(c.id for c in matches)}")
    raise AnnotationError(f"no mistake cluster {wanted!r} in this gradebook ('grader clusters OUT' lists them)")


def _member_adjustment(annotation: Annotation, student: str, files_hash: str | None) -> Adjustment:
    return Adjustment(student_id=student, exercise_id=annotation.exercise_id, kind="add",
                      reason=f"answer to mistake cluster {annotation.cluster_id}", author=annotation.author,
                      check_id=annotation.check_id, value=annotation.points, created_at=now(), files_hash=files_hash,
                      source=annotation.source if annotation.id is not None else None)


def sync_plan(annotations: Iterable[Annotation], adjustments: Iterable[Adjustment], found: Found,
              files: Mapping[str, str | None]) -> list[Adjustment]:
    """The adjustments that bring every annotation's points in line with its cluster's members now."""
    members = _members(found)
    every = list(adjustments)
    revoked_by = {a.revokes: a for a in every if a.kind == "revoke"}
    plan = []
    for annotation in annotations:
        if annotation.points is None:
            continue
        issued = [a for a in every if a.source == annotation.source and a.kind != "revoke"]
        active = {a.student_id: a for a in issued if a.id not in revoked_by}
        by_hand = {a.student_id for a in issued if a.id in revoked_by and revoked_by[a.id].source is None}
        now_in = set(members.get((annotation.exercise_id, annotation.cluster_id), []))
        for student in sorted(now_in - set(active) - by_hand):
            plan.append(_member_adjustment(annotation, student, files.get(student)))
        for student in sorted(set(active) - now_in):
            plan.append(Adjustment(student_id=student, exercise_id=annotation.exercise_id, kind="revoke",
                                   reason=f"no longer in mistake cluster {annotation.cluster_id}",
                                   author=annotation.author, check_id=annotation.check_id,
                                   revokes=active[student].id, created_at=now(), files_hash=files.get(student),
                                   source=annotation.source))
    return plan


def _found(rows: list[Row], course: Course) -> Found:
    from grader.insight.mistakes import clusters

    return clusters({row.student_id: row.result for row in rows}, course)


def sync(book: Gradebook, course: Course, rows: list[Row] | None = None) -> int:
    """Apply :func:`sync_plan` to the gradebook (its writer holds the lock); how many rows it added.
    ``rows``: the gradebook's, where the caller has them already (adjustments change no row)."""
    annotations = book.annotations()
    if not any(a.points is not None for a in annotations):
        return 0
    rows = book.rows() if rows is None else rows
    plan = sync_plan(annotations, book.adjustments(), _found(rows, course), {r.student_id: r.files_hash for r in rows})
    book.add_adjustments(plan)
    return len(plan)


def annotate(book: Gradebook, course: Course, cluster: str, *, comment_ko: str | None, comment_en: str | None,
             author: str, points: float | None = None, check: str | None = None) -> tuple[Annotation, int]:
    """Answer a cluster: record the annotation and one adjustment per member (with ``points``);
    the annotation and how many members it reached."""
    ko, en = (comment_ko or "").strip(), (comment_en or "").strip()
    if not ko and not en:
        raise AnnotationError("a comment is required (--comment-ko, --comment-en, or both)")
    if points is not None and not math.isfinite(points):
        raise AnnotationError(f"--points needs a finite number (got {points})")
    rows = book.rows()
    target = find_cluster(_found(rows, course), cluster)
    check_id = None
    if check:
        name = check.split("::", 1)[-1]
        if name not in target.checks:
            raise AnnotationError(f"check {check!r} is not one this cluster fails "
                                  f"(it fails: {', '.join(target.checks) or 'none: a cell error'})")
        check_id = f"{target.exercise_id}::{name}"
    # One language given: the other shows the same words rather than nothing.
    annotation = Annotation(exercise_id=target.exercise_id, cluster_id=target.id, comment=T(ko or en, en or ko),
                            author=author, check_id=check_id, points=points, created_at=now())
    files = {r.student_id: r.files_hash for r in rows}
    members = [_member_adjustment(annotation, s, files.get(s)) for s in target.members] if points is not None else []
    number = book.add_annotation(annotation, members)
    return dataclasses.replace(annotation, id=number), len(target.members)


def orphaned(annotations: Iterable[Annotation], found: Found) -> list[Annotation]:
    """The annotations whose cluster has no one in it now."""
    members = _members(found)
    return [a for a in annotations if not members.get((a.exercise_id, a.cluster_id))]


def notes(annotations: Iterable[Annotation], found: Found) -> dict[str, dict[str, list[T]]]:
    """student id → (check id, or exercise id for a note on the whole exercise) → the comments
    their clusters were answered with."""
    members = _members(found)
    shown: dict[str, dict[str, list[T]]] = {}
    for annotation in annotations:
        for student in members.get((annotation.exercise_id, annotation.cluster_id), []):
            key = annotation.check_id or annotation.exercise_id
            shown.setdefault(student, {}).setdefault(key, []).append(annotation.comment)
    return shown
