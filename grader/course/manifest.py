"""The course manifest (``course.toml``): which exercises exist, their titles, points and checks.

The engine knows nothing else about a course. Paths in the manifest are relative to the
folder that holds it (the student-facing ``exercises/``); hidden checks live under the
solutions folder that the manifest names, which students never receive.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course.late import LatePolicy, LatePolicyError, parse_policy
from grader.errors import CourseError
from grader.i18n import T

if TYPE_CHECKING:
    from grader.course.rubric import RubricItem

__all__ = ["Course", "Exercise", "find_course", "load_course"]

MANIFEST = "course.toml"
RUBRIC_PREFIX = "rubric:"


@dataclass(frozen=True)
class Exercise:
    id: str
    title: T
    notebook: str  # the student notebook's file name
    points: float
    public_checks: tuple[Path, ...]
    hidden_checks: tuple[Path, ...]
    solution: Path | None  # the reference notebook, where the solutions folder is present
    # A public check's name → the hidden checks that re-test its behaviour on other inputs (grader.checking.twins).
    twins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rubric: tuple[RubricItem, ...] = ()  # what people score (grader.course.rubric)

    def check_files(self, *, hidden: bool) -> tuple[Path, ...]:
        return self.public_checks + (self.hidden_checks if hidden else ())

    @property
    def possible(self) -> float:
        """The exercise's points possible: its checks' and its rubric items'."""
        return self.points + sum(item.points for item in self.rubric)

    def rubric_check_id(self, item: RubricItem) -> str:
        """The id a rubric item's score goes under, as a check's does (``06_training::rubric:why``)."""
        return f"{self.id}::{RUBRIC_PREFIX}{item.id}"

    def rubric_item(self, check_id: str) -> RubricItem | None:
        return next((item for item in self.rubric if self.rubric_check_id(item) == check_id), None)


@dataclass(frozen=True)
class Course:
    root: Path  # the folder holding course.toml (the exercises)
    title: T
    exercises: tuple[Exercise, ...]
    solutions_dir: Path | None
    data_env: str  # the environment variable that carries the data root into a kernel
    data_generator: str  # "file.py:function", relative to root; prepares a data root
    cuda_counts: bool  # whether CUDA-only checks count towards the score
    late: LatePolicy | None = None  # the late policy ([late], and each exercise's "due")
    independent_points: bool = False  # True: public checks count without their hidden twins

    def automatic_only(self) -> Course:
        """The course without its rubric items: what an autograder on a platform grades (Gradescope and
        PrairieLearn score what people judge in their own manual grading)."""
        return replace(self, exercises=tuple(replace(e, rubric=()) for e in self.exercises))

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise CourseError(f"{self.root / MANIFEST}: no exercise {exercise_id!r} (known: {known})")

    @property
    def has_hidden_checks(self) -> bool:
        return any(e.hidden_checks for e in self.exercises)

    def data_root(self, given: str | Path | None, environ: Mapping[str, str]) -> Path:
        """Where the data set lives: ``given`` (an option), else the course's data environment
        variable, else ``data`` beside the course manifest."""
        return Path(given or environ.get(self.data_env) or self.root / "data").resolve()

    def data_preparer(self) -> Callable[[Path], Any]:
        """The course's own function that makes sure a data root holds the data set."""
        file_name, _, function = self.data_generator.partition(":")
        path = self.root / file_name
        spec = importlib.util.spec_from_file_location(f"course_data_{path.stem}", path)
        if spec is None or spec.loader is None or not path.is_file():
            raise CourseError(f"{self.root / MANIFEST}: data generator {path} does not exist")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            return getattr(module, function)
        except AttributeError:
            raise CourseError(f"{path}: has no function {function!r} (named in {MANIFEST})") from None

    def prepare_data(self, root: Path, *, download: bool = False) -> Any:
        """Run the course's data preparer on ``root``; ``download``: let it fetch the real data set
        (only where the user asked: without it the preparer decides, offline by default)."""
        preparer = self.data_preparer()
        if not download:
            return preparer(root)
        if "download" not in inspect.signature(preparer).parameters:
            raise CourseError(f"{self.root / MANIFEST}: data generator {self.data_generator} cannot download "
                              "(it takes no download argument)")
        return preparer(root, download=True)  # type: ignore[call-arg]  # checked just above


def _title(data: Any, where: str) -> T:
    if not isinstance(data, dict) or not {"ko", "en"} <= set(data):
        raise CourseError(f"{where}: a title needs both 'ko' and 'en'")
    return T(str(data["ko"]), str(data["en"]))


def _paths(base: Path, names: Any, where: str) -> tuple[Path, ...]:
    if names is None:
        return ()
    if isinstance(names, str):
        names = [names]
    paths = tuple((base / name).resolve() for name in names)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CourseError(f"{where}: check file(s) not found: {', '.join(missing)}")
    return paths


def _check_names(files: tuple[Path, ...]) -> set[str]:
    """The check functions (``test_*``) the files define, read without importing them."""
    names: set[str] = set()
    for path in files:
        tree = _parse(path.read_text(encoding="utf-8"), str(path))
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    return names


def _parse(source: str, filename: str) -> ast.Module:
    # CPython before 3.11.8 (gh-106905) may raise "AST constructor recursion depth mismatch" when
    # another thread builds an AST meanwhile (its counter is the interpreter's): parse again.
    for _ in range(2):
        try:
            return ast.parse(source, filename)
        except SystemError:
            continue
    return ast.parse(source, filename)


def _twins(table: Any, public: tuple[Path, ...], hidden: tuple[Path, ...], where: str) -> dict[str, tuple[str, ...]]:
    if not table or not hidden:  # no hidden checks here (a student's copy of the course): nothing to pair
        return {}
    if not isinstance(table, dict):
        raise CourseError(f"{where}: twins is a table of public check = [hidden checks]")
    public_names, hidden_names = _check_names(public), _check_names(hidden)
    twins = {}
    for name, twin in table.items():
        twin = [twin] if isinstance(twin, str) else twin
        if name not in public_names:
            raise CourseError(f"{where} twins: {name!r} is not a public check of this exercise")
        unknown = [t for t in twin if t not in hidden_names] if isinstance(twin, list) else [twin]
        if unknown or not twin:
            raise CourseError(f"{where} twins.{name}: not hidden checks of this exercise: {unknown or twin!r}")
        twins[str(name)] = tuple(str(t) for t in twin)
    return twins


def load_course(path: Path) -> Course:
    """Read and validate a manifest (a ``course.toml`` or the folder that holds one)."""
    from grader.course.rubric import parse_rubric  # a course's own part: only where one is loaded

    path = Path(path)
    manifest = path / MANIFEST if path.is_dir() else path
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{manifest}: no course manifest here") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CourseError(f"{manifest}: not valid TOML: {exc}") from None
    root = manifest.parent.resolve()
    course = data.get("course", {})
    solutions = course.get("solutions")
    solutions_dir = (root / solutions).resolve() if solutions else None
    if solutions_dir is not None and not solutions_dir.is_dir():
        solutions_dir = None  # a student's copy of the course: public checks only
    exercises = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("exercises", [])):
        where = f"{manifest} [[exercises]] #{index + 1}"
        try:
            exercise_id = str(entry["id"])
            notebook = str(entry["notebook"])
            points = float(entry["points"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CourseError(f"{where}: needs id, notebook and points ({exc})") from None
        if exercise_id in seen:
            raise CourseError(f"{where}: exercise id {exercise_id!r} appears twice")
        seen.add(exercise_id)
        hidden: tuple[Path, ...] = ()
        solution = None
        if solutions_dir is not None:
            hidden = _paths(solutions_dir, entry.get("hidden_checks"), where)
            candidate = solutions_dir / notebook
            solution = candidate if candidate.is_file() else None
        public = _paths(root, entry.get("public_checks"), where)
        exercises.append(Exercise(
            id=exercise_id,
            title=_title(entry.get("title"), where),
            notebook=notebook,
            points=points,
            public_checks=public,
            hidden_checks=hidden,
            solution=solution,
            twins=_twins(entry.get("twins"), public, hidden, where),
            rubric=parse_rubric(entry.get("rubric"), where),
        ))
    if not exercises:
        raise CourseError(f"{manifest}: lists no exercises")
    data_section = data.get("data", {})
    dues = {str(e["id"]): e["due"] for e in data.get("exercises", []) if isinstance(e, dict) and "due" in e}
    try:
        late = parse_policy(data.get("late"), dues, f"{manifest} [late]", due_lines=_due_lines(manifest))
    except LatePolicyError as exc:
        raise CourseError(str(exc)) from None
    return Course(
        root=root,
        title=_title(course.get("title", {"ko": "", "en": ""}), f"{manifest} [course]"),
        exercises=tuple(exercises),
        solutions_dir=solutions_dir,
        data_env=str(data_section.get("env", "COURSE_DATA_ROOT")),
        data_generator=str(data_section.get("generator", "")),
        cuda_counts=bool(course.get("cuda_counts", False)),
        late=late,
        independent_points=bool(course.get("independent_points", False)),
    )


def _due_lines(manifest: Path) -> dict[str, int]:
    """Where each ``due`` is written in ``course.toml`` (1-based lines): ``""`` for ``[late]``'s, else
    the id of the ``[[exercises]]`` entry it belongs to. TOML's parser keeps no positions."""
    found: dict[str, int] = {}
    table, exercise_line, exercise_id = "", None, None
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text.startswith("["):
            table, exercise_line, exercise_id = text, None, None
        elif table == "[late]" and re.match(r"due\s*=", text):
            found[""] = number
        elif table == "[[exercises]]":
            match = re.match(r"id\s*=\s*[\"']([^\"']+)", text)
            if match:
                exercise_id = match.group(1)
                if exercise_line is not None:
                    found[exercise_id] = exercise_line
            elif re.match(r"due\s*=", text):
                exercise_line = number
                if exercise_id is not None:
                    found[exercise_id] = number
    return found


def find_course(start: Path) -> Path:
    """The manifest a command means when none is given: here, in ``exercises/``, or above."""
    for folder in (start, *start.parents):
        for candidate in (folder / MANIFEST, folder / "exercises" / MANIFEST):
            if candidate.is_file():
                return candidate
    bundled = Path(__file__).resolve().parent.parent / "exercises" / MANIFEST
    if bundled.is_file():
        return bundled
    raise CourseError(f"no {MANIFEST} found in {start} or above; pass --course")
