"""The course: its manifest (``course.toml``), its late policy, and the student notebooks made
from the reference ones."""

from __future__ import annotations

from grader.course.manifest import Course, Exercise, find_course, load_course

__all__ = ["Course", "Exercise", "find_course", "load_course"]
