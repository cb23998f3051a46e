"""The course manifest: validated with clear messages; points add up."""

from __future__ import annotations

import pytest

from grader.course.manifest import load_course
from grader.errors import CourseError
from grader.checking.plugin import GradingContext
from grader.checking.remote import MissingNotebook
from grader.results import CheckStatus
from grader.checking.runner import run_checks

_ENTRY = 'id = "a"\nnotebook = "a.ipynb"\npoints = 1\ntitle = { ko = "k", en = "e" }\n'
MANIFEST = """
[course]
title = {{ ko = "k", en = "e" }}
[[exercises]]
{entry}
"""


@pytest.mark.parametrize("entry,message", [
    ('id = "a"\nnotebook = "a.ipynb"', "needs id, notebook and points"),
    ('id = "a"\nnotebook = "a.ipynb"\npoints = 1\ntitle = { en = "x" }', "both 'ko' and 'en'"),
    ('id = "a"\nnotebook = "a.ipynb"\npoints = 1\ntitle = { ko = "k", en = "e" }\npublic_checks = "nope.py"',
     "not found"),
    (_ENTRY + '[[exercises.rubric]]\nid = "Why"\ntitle = { ko = "k", en = "e" }\npoints = 3', "lower-case"),
    (_ENTRY + '[[exercises.rubric]]\nid = "why"\ntitle = { ko = "k", en = "e" }\npoints = 0', "more than 0"),
    (_ENTRY + '[[exercises.rubric]]\nid = "why"\ntitle = { ko = "k", en = "e" }\npoints = 3\n'
              'levels = [{ points = 4, comment = { ko = "k", en = "e" } }]', "outside 0..3"),
    (_ENTRY + '[[exercises.rubric]]\nid = "why"\ntitle = { ko = "k", en = "e" }\npoints = 3\n'
              'levels = [{ points = 1, comment = { en = "e" } }]', "both 'ko' and 'en'"),
], ids=["no-points", "one-language-title", "missing-check-file", "rubric-id", "rubric-points", "rubric-level",
        "rubric-comment"])
def test_manifest_problems_name_the_file(tmp_path, entry: str, message: str) -> None:
    (tmp_path / "course.toml").write_text(MANIFEST.format(entry=entry), encoding="utf-8")
    with pytest.raises(CourseError, match=message) as error:
        load_course(tmp_path)
    assert "course.toml" in str(error.value)


def test_points_in_the_manifest_equal_the_checks_points(course, data_root, tmp_path) -> None:
    for exercise in course.exercises:
        context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=tmp_path)
        checks = run_checks(course, exercise, MissingNotebook("not submitted"), context, hidden=True)
        counted = sum(c.max_points for c in checks if c.counts)
        assert counted == exercise.points, exercise.id
        assert all(c.status is CheckStatus.NOT_RUN for c in checks)
        assert all(c.title.ko and c.title.en for c in checks)


def test_every_exercise_has_public_and_hidden_checks(course) -> None:
    for exercise in course.exercises:
        assert exercise.public_checks and exercise.hidden_checks, exercise.id
        assert exercise.solution is not None and (course.root / exercise.notebook).is_file()


def test_checks_speak_through_fail_never_a_bare_assert(course) -> None:
    # A bare assert reaches a student as "assert 50000 == 10000": checks say what and why with fail().
    import ast

    for exercise in course.exercises:
        for path in exercise.check_files(hidden=True):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
            assert not asserts, f"{path.name}: bare assert on lines {asserts}"


def test_a_check_file_parse_hit_by_cpythons_ast_counter_race_is_parsed_again(monkeypatch) -> None:
    import ast

    from grader.course import manifest as course_module

    real, failures = ast.parse, []

    def racing(source, filename="<unknown>", *args, **kwargs):
        if len(failures) < 2:  # what CPython < 3.11.8 raises when another thread builds an AST meanwhile
            failures.append(filename)
            raise SystemError("AST constructor recursion depth mismatch (before=150, after=200)")
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(course_module.ast, "parse", racing)
    course = load_course(course_module.Path(__file__).resolve().parent.parent / "exercises")
    assert len(failures) == 2 and course.exercises  # loaded all the same, twins paired from the parse
    assert any(exercise.twins for exercise in course.exercises)


def test_a_rubric_item_adds_to_the_points_possible(course) -> None:
    training = course.exercise("06_training")
    (item,) = training.rubric
    assert training.possible == training.points + item.points == 21
    assert [level.points for level in item.levels] == [3, 1, 0]
    assert training.rubric_item("06_training::rubric:why_not_accuracy") is item
    assert course.automatic_only().exercise("06_training").possible == training.points
