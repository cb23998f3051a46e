"""The mistake clusters as two CSV files other tools read."""

from __future__ import annotations

import csv
from pathlib import Path

from grader.course.manifest import Course
from grader.store.records import Row

__all__ = ["CLUSTER_COLUMNS", "MEMBER_COLUMNS", "write_clusters"]

CLUSTER_COLUMNS = ("exercise", "cluster_id", "size", "label_en", "label_ko", "checks")
MEMBER_COLUMNS = ("student_id", "exercise", "cluster_id")


def write_clusters(rows: list[Row], course: Course, dest: Path) -> Path:
    """``clusters.csv`` (one row per mistake cluster, :data:`CLUSTER_COLUMNS`; ``checks`` joined by
    ``;``) and ``cluster_members.csv`` (:data:`MEMBER_COLUMNS`) under ``dest``; other tools read
    these files, so their names and columns stay as they are."""
    from grader.insight.mistakes import clusters

    found = clusters({r.student_id: r.result for r in rows}, course)
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / "clusters.csv", "w", newline="", encoding="utf-8") as f, \
            open(dest / "cluster_members.csv", "w", newline="", encoding="utf-8") as g:
        table, members = csv.writer(f), csv.writer(g)
        table.writerow(CLUSTER_COLUMNS)
        members.writerow(MEMBER_COLUMNS)
        for exercise in course.exercises:
            for cluster in found.get(exercise.id, []):
                table.writerow([exercise.id, cluster.id, cluster.size, cluster.label.en, cluster.label.ko,
                                ";".join(cluster.checks)])
                members.writerows([student, exercise.id, cluster.id] for student in cluster.members)
    return dest / "clusters.csv"
