"""Grading a whole class: the coordinator (:mod:`.run`) keeps the gradebook and hands
submissions to a back end, a pool of local worker processes (:mod:`.local`) or Dask workers
(:mod:`.dask`), behind one interface (:mod:`.backend`)."""

from __future__ import annotations

from grader.bulk.run import BulkOptions, BulkSummary, grade_class, print_summary, rich_progress

__all__ = ["BulkOptions", "BulkSummary", "grade_class", "print_summary", "rich_progress"]
