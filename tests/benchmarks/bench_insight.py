"""Class-insight benchmark: prints numbers, asserts nothing.

    python -m tests.benchmarks.bench_insight [--students 1000]

A synthetic class of N students × 6 exercises built from the golden cases: each student gets,
per exercise, one golden case's real check results (the checks run once per case, in-process)
and as code the reference solution's own cells plus that case, cosmetically varied (locals
renamed, reformatted), plus a helper of their own: a dozen statements of random structure, as students' extra code
differs. Students given the same golden case share its snippet, as students who make the same
mistake often write the same few lines. One student in fifty copies another's whole
exercise, disguised (tests/planted.py).

1. Mistake clusters for the whole class plus the class report with its "Common mistakes"
   section (target: ≤ 2 s together for 1,000 students).
2. Similarity over the six exercises (target: ≤ 60 s), with the pairs compared against all N²/2
   and the pairs flagged against the copies planted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.publish.classreport import mistake_sections, write_class_report  # noqa: E402
from grader.course.manifest import load_course  # noqa: E402
from grader.store.records import Row, SubmissionInfo
from grader.insight.mistakes import clusters  # noqa: E402
from grader.insight.fingerprints import CELL_BREAK, notebook_code, own_code  # noqa: E402
from grader.insight.similarity import LISTED_FROM, compare_exercise  # noqa: E402
from grader.checking.plugin import GradingContext  # noqa: E402
from grader.checking.remote import LocalNotebook  # noqa: E402
from grader.results import ExerciseResult, ExerciseStatus, SubmissionResult  # noqa: E402
from grader.checking.runner import run_checks  # noqa: E402
from tests.planted import disguised, renamed  # noqa: E402
from tests.test_golden import CASES, solution_namespace  # noqa: E402


OPERATORS = ["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>"]
CALLS = ["abs", "min", "max", "len", "round", "int", "sum", "sorted", "list", "tuple", "str", "hash", "bool", "divmod"]


def expression(rng: random.Random, names: list[str], depth: int) -> str:
    """A random expression: what makes two students' extra code differ after normalisation."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(names) if rng.random() < 0.7 else str(rng.randrange(1, 9))
    kind = rng.randrange(4)
    if kind == 0:
        return f"({expression(rng, names, depth - 1)} {rng.choice(OPERATORS)} {expression(rng, names, depth - 1)})"
    if kind == 1:
        return f"{rng.choice(CALLS)}({expression(rng, names, depth - 1)})"
    if kind == 2:
        return f"[{expression(rng, names, depth - 1)} for _ in range({rng.randrange(1, 5)})]"
    return f"({expression(rng, names, depth - 1)} if {rng.choice(names)} else {expression(rng, names, depth - 1)})"


def helper(rng: random.Random, name: str) -> str:
    """A student's own extra code: a dozen statements of random structure."""
    names = ["data"]
    lines = []
    for n in range(12):
        lines.append(f"v{n} = {expression(rng, names, 3)}")
        names.append(f"v{n}")
    return f"def {name}(data):\n    " + "\n    ".join(lines) + "\n    return data\n"


def golden_results(course, data_root: Path, work: Path) -> dict[Path, ExerciseResult]:
    found = {}
    for case in CASES:
        exercise = course.exercise(case.parent.name)
        with contextlib.redirect_stdout(io.StringIO()):
            namespace = solution_namespace(exercise.solution, data_root)
            exec(compile(case.read_text(encoding="utf-8"), str(case), "exec"), namespace)  # noqa: S102
            context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=work)
            checks = run_checks(course, exercise, LocalNotebook(namespace), context, hidden=True)
        found[case] = ExerciseResult(exercise.id, exercise.title, ExerciseStatus.GRADED, checks)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    course = load_course(ROOT / "exercises")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="grader-bench-insight-") as temp:
        data = Path(temp) / "data"
        course.data_preparer()(data)
        started = time.perf_counter()
        results = golden_results(course, data, Path(temp) / "work")
        print(f"golden cases graded once: {len(results)} in {time.perf_counter() - started:.1f} s")
        by_exercise = {e.id: [c for c in CASES if c.parent.name == e.id] for e in course.exercises}
        reference = {e.id: own_code(nbformat.read(e.solution, as_version=4), course.root / e.notebook)
                     for e in course.exercises}
        students = [f"s{n:04d}" for n in range(args.students)]
        rows, code = [], {e.id: {} for e in course.exercises}
        case_of: dict[tuple[str, str], Path] = {}  # (exercise, student) → the golden case they were given
        planted: set[tuple[str, str, str]] = set()  # (exercise, copier, the student copied)
        for number, student in enumerate(students):
            exercises = []
            for exercise in course.exercises:
                case = case_of[exercise.id, student] = rng.choice(by_exercise[exercise.id])
                exercises.append(results[case])
                snippet = renamed(case.read_text(encoding="utf-8"), suffix=f"x{rng.randrange(99)}")
                own = helper(rng, f"helper_{number}")
                code[exercise.id][student] = f"{reference[exercise.id]}\n{CELL_BREAK}\n{snippet}\n{CELL_BREAK}\n{own}"
            rows.append(Row.from_result(SubmissionResult(student, exercises), "h", SubmissionInfo()))
            if number % 50 == 49:  # a copier: another student's exercise, disguised
                exercise, source = rng.choice(course.exercises).id, rng.choice(students[:number])
                code[exercise][student] = disguised(code[exercise][source].replace(CELL_BREAK, ""))
                planted.add((exercise, *sorted((student, source))))

        started = time.perf_counter()
        found = clusters({r.student_id: r.result for r in rows}, course)
        cluster_s = time.perf_counter() - started
        index = write_class_report(rows, Path(temp) / "index.html", course,
                                   report_href=lambda sid: f"students/{sid}/report.html",
                                   mistakes=mistake_sections(rows, course, found=found))
        both_s = time.perf_counter() - started
        sizes = sorted((c.size for every in found.values() for c in every), reverse=True)
        print(f"{args.students} students × {len(course.exercises)} exercises: {len(sizes)} clusters "
              f"(largest {sizes[:5]}); clusters {cluster_s:.2f} s, clusters + class report {both_s:.2f} s "
              f"(target ≤ 2 s; page {index.stat().st_size / 1e6:.1f} MB)")

        total_s, compared, all_pairs, flagged, found_planted, same_case = 0.0, 0, 0, 0, 0, 0
        missed: list[str] = []  # the similarity of each planted copy not flagged
        for exercise in course.exercises:
            skeleton = notebook_code(course.root / exercise.notebook)
            cluster_of = {s: (c.id, c.size) for c in found[exercise.id] for s in c.members}
            started = time.perf_counter()
            result = compare_exercise(exercise.id, code[exercise.id], skeleton, cluster_of=cluster_of)
            took = time.perf_counter() - started
            total_s += took
            compared += result.compared
            all_pairs += result.programs * (result.programs - 1) // 2
            flagged += len(result.flagged)
            found_planted += sum((exercise.id, p.a, p.b) in planted for p in result.flagged)
            listed = {(p.a, p.b): p for p in result.pairs}
            missed += [f"{listed[a, b].similarity:.2f}" if (a, b) in listed else f"<{LISTED_FROM:.2f}"
                       for e, a, b in planted if e == exercise.id and not (listed.get((a, b)) and listed[a, b].flagged)]
            same_case += sum((exercise.id, p.a, p.b) not in planted
                             and case_of[exercise.id, p.a] == case_of[exercise.id, p.b] for p in result.flagged)
            print(f"  {exercise.id}: {result.programs} programs, {result.compared} pairs compared "
                  f"({100 * result.compared / max(1, result.programs * (result.programs - 1) // 2):.2f}% of all), "
                  f"{len(result.flagged)} flagged, {took:.1f} s")
        print(f"similarity, 6 exercises: {total_s:.1f} s (target ≤ 60 s); {compared} pairs compared of "
              f"{all_pairs} ({100 * compared / max(1, all_pairs):.2f}%); {flagged} flagged: "
              f"{found_planted} of the {len(planted)} copies planted, {same_case} pairs given the same golden "
              f"case (its snippet verbatim), {flagged - found_planted - same_case} others; the copies missed: "
              f"similarity {', '.join(sorted(missed)) or 'none'}")


if __name__ == "__main__":
    main()
