"""A student's answer to a rubric item, as the desk shows it beside the rubric.

The answer is the cell of the handed-in notebook whose metadata names the item
(``grader.answer``): a markdown cell's text, rendered with every piece of raw HTML escaped (a
student's markdown is never markup of ours), or a code cell's image outputs (a plot), inline as
``data:`` URIs of raster types only. It comes from the student's latest graded hand-in that
brought the exercise, unpacked with the safe extractor's rules, and is read, never run.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup

from grader.course.manifest import Course, Exercise
from grader.course.rubric import ANSWER_KEY, RubricItem
from grader.errors import GraderError
from grader.intake.extract import ArchiveRejected
from grader.intake.notebooks import METADATA_KEY, load_submission
from grader.results import ExerciseStatus
from grader.service.intake import unpack
from grader.store.service import FileStore, Upload

__all__ = ["StudentAnswer", "find_answer", "render_markdown"]

_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")  # raster only: no SVG and its scripts
# CommonMark with raw HTML off: a student's <script> or <img onerror> is text. markdown-it's own
# link check refuses javascript:, vbscript: and file: links, and data: except raster images.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@dataclass
class StudentAnswer:
    upload_id: int | None  # the hand-in it came from (None: no hand-in brought the exercise)
    html: Markup = Markup("")
    images: list[str] = field(default_factory=list)  # data: URIs
    problem: str = ""  # why nothing is shown


def render_markdown(text: str) -> Markup:
    return Markup(_MARKDOWN.render(text))


def counted_handin(uploads: list[Upload], exercise_id: str) -> Upload | None:
    """The hand-in that decides ``exercise_id``: the latest graded one that brought its notebook."""
    for upload in uploads:  # newest first
        if upload.kind == "handin" and upload.state == "graded" and upload.result is not None and any(
                e.exercise_id == exercise_id and e.status is not ExerciseStatus.MISSING
                for e in upload.result.exercises):
            return upload
    return None


def find_answer(uploads: list[Upload], files: FileStore, course: Course, exercise: Exercise,
                item: RubricItem) -> StudentAnswer:
    """The student's answer to ``item`` from their uploads (newest first)."""
    upload = counted_handin(uploads, exercise.id)
    if upload is None:
        return StudentAnswer(None, problem="no graded hand-in brought this exercise")
    with tempfile.TemporaryDirectory(prefix="grader-answer-") as scratch:
        try:
            folder = unpack(upload.files, files, Path(scratch) / "submission")
            loaded = load_submission(folder, course).notebooks.get(exercise.id)
        except (ArchiveRejected, GraderError, OSError) as error:
            return StudentAnswer(upload.id, problem=f"the hand-in cannot be read: {error}")
    if loaded is None or loaded.notebook is None:
        return StudentAnswer(upload.id, problem="the hand-in has no readable notebook for this exercise")
    for cell in loaded.notebook.cells:
        if (cell.get("metadata", {}).get(METADATA_KEY) or {}).get(ANSWER_KEY) != item.answer:
            continue
        if cell.cell_type == "markdown":
            return StudentAnswer(upload.id, html=render_markdown(str(cell.source)))
        return StudentAnswer(upload.id, images=_images(cell))
    return StudentAnswer(upload.id, problem=f"no cell answers {item.id} (the answer cell was deleted?)")


def _images(cell: dict) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        for mime in _IMAGES:
            data = (output.get("data") or {}).get(mime)
            if isinstance(data, str):
                try:
                    base64.b64decode(data, validate=False)
                except (binascii.Error, ValueError):
                    continue
                found.append(f"data:{mime};base64,{''.join(data.split())}")
    return found
