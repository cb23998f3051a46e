"""Student notebooks are generated from the solutions: in sync, stubbed, fingerprinted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.course.assign import BEGIN, END, assign_course, fingerprint, make_student_notebook, stub_source
from grader.errors import CourseError


def test_exercises_are_exactly_what_assign_generates(course) -> None:
    assert assign_course(course, check=True) == [], "run `grader assign` after editing solutions/"


def test_every_student_notebook_has_stubs_and_no_solution(course) -> None:
    for exercise in course.exercises:
        text = (course.root / exercise.notebook).read_text(encoding="utf-8")
        assert BEGIN not in text and END not in text
        assert "raise NotImplementedError" in text and "# YOUR CODE HERE" in text
        assert '"outputs": []' in text and '"execution_count": null' in text


def test_stub_keeps_indentation_and_surroundings() -> None:
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\nprint(f)"
    assert stub_source(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n\nprint(f)"


@pytest.mark.parametrize("source,problem", [
    (f"{BEGIN}\nx = 1", "never closed"),
    (f"x = 1\n{END}", "without"),
    (f"{BEGIN}\n{BEGIN}\n{END}", "inside another"),
], ids=["unclosed", "stray-end", "nested"])
def test_broken_markers_are_course_errors(source: str, problem: str) -> None:
    with pytest.raises(CourseError, match=problem):
        stub_source(source, "solutions/x.ipynb, cell 3")


@given(st.lists(st.text(alphabet="abc =()+\n", max_size=30), max_size=5))
def test_sources_without_markers_are_unchanged(lines: list[str]) -> None:
    source = "\n".join(line.replace("\n", "") for line in lines)
    assert stub_source(source) == "\n".join(source.splitlines())


def test_fingerprint_ignores_trailing_space_but_not_edits() -> None:
    assert fingerprint("x = 1\n") == fingerprint("x = 1   \n\n")
    assert fingerprint("x = 1") != fingerprint("x = 2")


def test_student_notebook_records_exercise_and_given_cells(course) -> None:
    import nbformat

    exercise = course.exercise("02_dataset")
    student = make_student_notebook(nbformat.read(exercise.solution, as_version=4), exercise.id)
    meta = student.metadata["grader"]
    assert meta["exercise_id"] == "02_dataset"
    given_cells = [c for c in student.cells if c.id in meta["given_cells"]]
    assert given_cells and all("YOUR CODE HERE" not in c.source for c in given_cells)


def test_an_answer_cell_is_blank_for_the_student_and_keeps_its_tag(course) -> None:
    import nbformat

    from grader.course.assign import ANSWER_PLACEHOLDER

    exercise = course.exercise("06_training")
    solution = nbformat.read(exercise.solution, as_version=4)
    student = make_student_notebook(solution, exercise.id)
    tagged = [(s, t) for s, t in zip(solution.cells, student.cells, strict=True)
              if t.metadata.get("grader", {}).get("answer") == "why_not_accuracy"]
    assert len(tagged) == 1 and tagged[0][1].cell_type == "markdown"
    model, blank = tagged[0]
    assert blank.source == ANSWER_PLACEHOLDER and "step function" in model.source
