"""Per-check profile of a warm grading process: prints numbers, asserts nothing.

    python -m tests.benchmarks.bench_checks [--copies 2] [--exercise ID]

Grades the sample class (samples/make_sample_class.py: every exercise's reference solution with
one golden mistake per student, a perfect student and a few broken ones), ``--copies`` times over,
one submission after another in one grading session, as a bulk worker does (``expect_more``),
after the start a bulk worker makes (the session opened with ``warm_checks``: its zygote started,
the checks collected meanwhile; timed and printed apart). The first submission is a worker's first (the
first kernels forked, reference values computed); the rest are its steady state. Per exercise, separately for both: the
notebook's cells, the checks inside the check functions (the sum of their ``duration_s``) and
outside them (pytest's session, collection, module imports, fixtures), the whole grading wall
against the cells, and the five slowest checks of the steady state; per submission, its wall,
alone and against its notebooks' cells.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "samples"))

from grader.course.manifest import load_course  # noqa: E402
from grader.intake.submissions import discover  # noqa: E402
from grader.session import GradingSession  # noqa: E402
from tests.benchmarks.bench_bulk import bench_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="times the class is graded over")
    parser.add_argument("--exercise", help="only this exercise")
    args = parser.parse_args(argv)
    from make_sample_class import build

    course = load_course(ROOT / "exercises")
    scratch = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    try:
        config = bench_config(course, scratch)
        build(scratch / "class")
        entries = [e for e in discover(scratch / "class", scratch / "unpacked") if e.path is not None]
        started = time.perf_counter()
        session = GradingSession(config, expect_more=True, warm_checks=True).__enter__()
        start_up = time.perf_counter() - started
        rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        slowest: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        first = True
        for _ in range(args.copies):
            for entry in entries:
                started = time.perf_counter()
                result = session.grade(entry.path, submission_id=entry.student_id,
                                       exercises=[args.exercise] if args.exercise else None)
                took = time.perf_counter() - started
                phase = "first" if first else "steady"
                for exercise in result.exercises:
                    if exercise.status.value not in ("graded",) or not exercise.checks:
                        continue
                    inside = sum(c.duration_s for c in exercise.checks)
                    rows[exercise.exercise_id][f"{phase} cells"].append(exercise.cell_s)
                    rows[exercise.exercise_id][f"{phase} inside"].append(inside)
                    rows[exercise.exercise_id][f"{phase} outside"].append(exercise.check_s - inside)
                    rows[exercise.exercise_id][f"{phase} checks"].append(exercise.check_s)
                    rows[exercise.exercise_id][f"{phase} wall"].append(exercise.wall_s + exercise.check_s)
                    if not first:
                        for check in exercise.checks:
                            slowest[exercise.exercise_id][check.id.split("::", 1)[1]].append(check.duration_s)
                rows["(submission)"][f"{phase} wall"].append(took)
                cells = sum(e.cell_s for e in result.exercises)
                if cells:
                    rows["(submission)"][f"{phase} wall/cells"].append(took / cells)
                first = False
        median = lambda values: statistics.median(values) if values else float("nan")  # noqa: E731
        print(f"{len(entries)} submissions x {args.copies}; a worker's start (zygote, checks collected) {start_up:.2f} s; "
              "medians in seconds (first submission | steady state)")
        print(f"{'exercise':16} {'cells':>13} {'checks':>13} {'inside':>13} {'outside':>13} {'wall/cells':>13}")
        for exercise, values in sorted(rows.items()):
            if exercise.startswith("("):
                continue
            cells = [median(values[f'{p} cells']) for p in ('first', 'steady')]
            cols = [f"{median(values[f'first {k}']):5.2f} | {median(values[f'steady {k}']):5.2f}"
                    for k in ("cells", "checks", "inside", "outside")]
            ratio = [median(values[f"{p} wall"]) / c if c else float("nan") for p, c in zip(("first", "steady"), cells)]
            print(f"{exercise:16} " + " ".join(f"{c:>13}" for c in cols) + f" {ratio[0]:5.2f} | {ratio[1]:5.2f}")
        total = rows["(submission)"]
        print(f"a submission's wall: first {median(total['first wall']):.2f} s, steady {median(total['steady wall']):.2f} s "
              f"(first / steady {median(total['first wall']) / median(total['steady wall']):.2f}; target <= 2); "
              f"against its cells: first {median(total['first wall/cells']):.2f}x, "
              f"steady {median(total['steady wall/cells']):.2f}x (target <= 1.3)")
        for exercise, checks in sorted(slowest.items()):
            top = sorted(((median(v), name) for name, v in checks.items()), reverse=True)[:5]
            print(f"  {exercise} slowest: " + ", ".join(f"{name} {s * 1000:.0f} ms" for s, name in top))
        session.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
