"""Bulk grading benchmark: prints numbers, asserts nothing (run it, read it, write the numbers down).

    python -m tests.benchmarks.bench_bulk [--exercises 02_dataset] [--skip-sample] [--sizes 200,1000]

1. The sample class (samples/make_sample_class.py) graded with real kernels, 1 and 2 workers:
   wall time and throughput (submissions per minute), peak memory of a worker.
2. Synthetic classes of 200 and 1,000 submissions graded by a quick unit of work
   (:func:`quick_grade`: the real loader and notebook validation, then a result made up from
   what was found, no kernel), so that the numbers are the scheduler's, the gradebook's and the
   reports' own cost: throughput, the 1000/200 cost ratio (target ≤ 5.2, i.e. linear) and peak
   memory per worker. Pass ``--unit real`` to grade them with kernels instead.
3. The class report's render time for 1,000 students (target ≤ 2 s).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.bulk.run import BulkOptions, grade_class
from grader.publish.classreport import write_class_report
from grader.config import GradeConfig, Limits
from grader.course.manifest import Course, load_course
from grader.store.gradebook import Gradebook
from grader.i18n import T
from grader.intake.notebooks import load_submission
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
from grader.session import GradingSession

ROOT = Path(__file__).resolve().parents[2]
QUICK = "tests.benchmarks.bench_bulk:quick_grade"


def quick_grade(session: GradingSession, path: Path, *, submission_id: str | None = None) -> SubmissionResult:
    """The unit of work without a kernel: load and validate the notebooks, invent check outcomes."""
    config = session.config
    submission = load_submission(path, config.course, submission_id=submission_id)
    exercises = []
    for exercise in config.course.exercises:
        loaded = submission.notebooks.get(exercise.id)
        present = loaded is not None and loaded.notebook is not None
        size = len(loaded.path.read_bytes()) if present else 0
        checks = [CheckResult(f"{exercise.id}::check_{n}", T.same(f"check {n}"),
                              CheckStatus.PASSED if present and (size + n) % 4 else CheckStatus.FAILED,
                              exercise.points / 4 if present and (size + n) % 4 else 0.0, exercise.points / 4)
                  for n in range(4)]
        exercises.append(ExerciseResult(exercise.id, exercise.title,
                                        ExerciseStatus.GRADED if present else ExerciseStatus.MISSING, checks))
    return SubmissionResult(submission.id, exercises, problems=submission.problems, grader_version="bench")


def small_course(exercises: list[str] | None) -> Course:
    course = load_course(ROOT / "exercises")
    if exercises:
        course = dataclasses.replace(course, exercises=tuple(e for e in course.exercises if e.id in exercises))
    return course


def bench_config(course: Course, scratch: Path) -> GradeConfig:
    """The benchmarks' configuration: hidden checks, the sample class's limits, the data set made in ``scratch``."""
    course.data_preparer()(scratch / "data")
    return GradeConfig(course=course, data_root=scratch / "data", work_dir=scratch / "work", hidden=True,
                       limits=Limits(cell_timeout=20, notebook_timeout=120))


def synthetic_class(folder: Path, size: int, course: Course) -> Path:
    """``size`` students, each with a small valid notebook per exercise (content varies by student)."""
    for n in range(size):
        student = folder / f"student_{n:05d}"
        student.mkdir(parents=True)
        for exercise in course.exercises:
            notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {},
                                   "outputs": [], "source": f"x = {n}\n" + "# pad\n" * (n % 7)}],
                        "metadata": {"grader": {"exercise_id": exercise.id}}, "nbformat": 4, "nbformat_minor": 5}
            (student / exercise.notebook).write_text(json.dumps(notebook))
    return folder


def run(source: Path, config: GradeConfig, out: Path, workers: int, unit: str) -> dict:
    started = time.perf_counter()
    summary = grade_class(source, config, BulkOptions(out_dir=out, workers=workers, unit=unit))
    wall = time.perf_counter() - started
    return {"students": summary.total, "workers": workers, "wall_s": round(wall, 2),
            "per_minute": round(60 * summary.total / wall, 1), "peak_worker_mb": summary.peak_worker_mb,
            "statuses": summary.statuses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercises", help="comma-separated exercise ids to grade (default: all)")
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--skip-sample", action="store_true", help="skip the real-kernel sample class")
    parser.add_argument("--unit", choices=["quick", "real"], default="quick", help="unit for the synthetic classes")
    parser.add_argument("--workers", type=int, default=2, help="workers for the synthetic classes")
    args = parser.parse_args(argv)
    course = small_course(args.exercises.split(",") if args.exercises else None)
    scratch = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    try:
        config = bench_config(course, scratch)
        print(f"course: {', '.join(e.id for e in course.exercises)}")
        if not args.skip_sample:
            sys.path.insert(0, str(ROOT / "samples"))
            from make_sample_class import build

            sample = scratch / "sample"
            build(sample)
            for workers in (1, 2):
                print("sample class:", json.dumps(run(sample, config, scratch / f"sample-out-{workers}", workers,
                                                      "grader.session:grade")))
        unit = QUICK if args.unit == "quick" else "grader.session:grade"
        walls = {}
        for size in (int(s) for s in args.sizes.split(",") if s):
            source = synthetic_class(scratch / f"class-{size}", size, course)
            numbers = run(source, config, scratch / f"out-{size}", args.workers, unit)
            walls[size] = numbers["wall_s"]
            print(f"synthetic class of {size} ({args.unit} unit):", json.dumps(numbers))
        if 200 in walls and 1000 in walls:
            print(f"cost ratio 1000/200: {walls[1000] / walls[200]:.2f} (target <= 5.2)")
        largest = max(walls, default=None)
        if largest:
            with Gradebook(scratch / f"out-{largest}" / "gradebook.sqlite") as book:
                rows = book.rows()
            started = time.perf_counter()
            write_class_report(rows, scratch / "render" / "index.html", course,
                               report_href=lambda s: f"students/{s}/report.html")
            print(f"class report for {len(rows)} students: {time.perf_counter() - started:.3f} s (target <= 2 s)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
