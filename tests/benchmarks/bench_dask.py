"""Dask benchmark: the local pool against a LocalCluster of as many worker processes, side by side.

    python -m tests.benchmarks.bench_dask [--workers 2] [--rounds 2] [--quick 200]

Prints numbers, asserts nothing. Each round grades, in turn, with the local pool and then with
``--cluster local:N`` (so that a busy machine slows both alike), from an empty gradebook each time:

1. The sample class (samples/make_sample_class.py) with real kernels: wall time per submission,
   the Dask run's overhead over the pool's (target ≤ 5 %), the peak memory of one worker.
2. ``--quick`` synthetic submissions graded by the benchmark's quick unit of work (no kernel),
   so that what remains is each backend's own cost per submission: shipping the bytes, the
   scheduler's round trip, the JSON back, against the pool's pipes.

Both walls include starting the workers (and, for Dask, the cluster) and writing the reports,
as ``grader bulk`` pays them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from grader.bulk.run import BulkOptions, grade_class
from grader.bulk.dask.spec import ClusterSpec
from grader.config import GradeConfig
from grader.course.manifest import load_course

from .bench_bulk import QUICK, bench_config, synthetic_class

ROOT = Path(__file__).resolve().parents[2]
REAL = "grader.session:grade"


def timed(source: Path, config: GradeConfig, out: Path, workers: int, unit: str, dask: bool) -> tuple[float, int, float]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = grade_class(source, config, BulkOptions(out_dir=out, workers=workers, unit=unit,
                                                      cluster=ClusterSpec(local=workers) if dask else None))
    return time.perf_counter() - started, summary.graded, summary.peak_worker_mb


def compare(name: str, source: Path, config: GradeConfig, scratch: Path, workers: int, unit: str, rounds: int) -> None:
    walls: dict[str, list[float]] = {"pool": [], "dask": []}
    peaks: dict[str, float] = {"pool": 0.0, "dask": 0.0}
    graded = 0
    for _ in range(rounds):
        for backend in ("pool", "dask"):
            wall, graded, peak = timed(source, config, scratch / f"out-{backend}", workers, unit, backend == "dask")
            walls[backend].append(wall)
            peaks[backend] = max(peaks[backend], peak)
    pool, dask = statistics.median(walls["pool"]), statistics.median(walls["dask"])
    print(f"{name}: {graded} submissions, {workers} workers, median of {rounds}")
    for backend, wall in (("pool", pool), ("dask", dask)):
        print(f"  {backend:5} wall {wall:7.2f} s  per submission {1000 * wall / graded:8.1f} ms  "
              f"peak worker {peaks[backend]:7.1f} MB  (rounds: {', '.join(f'{w:.2f}' for w in walls[backend])})")
    print(f"  Dask overhead: {100 * (dask - pool) / pool:+.1f} % of the pool's time per submission "
          f"({1000 * (dask - pool) / graded:+.1f} ms each; target ≤ 5 %)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", type=int, default=200, help="synthetic submissions for the quick unit (0: skip)")
    parser.add_argument("--skip-sample", action="store_true")
    args = parser.parse_args(argv)
    course = load_course(ROOT / "exercises")
    scratch = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    try:
        config = bench_config(course, scratch)
        if args.quick:
            source = synthetic_class(scratch / "quick", args.quick, course)
            compare("quick unit (no kernels)", source, config, scratch, args.workers, QUICK, args.rounds)
        if not args.skip_sample:
            sys.path.insert(0, str(ROOT / "samples"))
            from make_sample_class import build

            build(scratch / "sample")
            compare("sample class (real kernels)", scratch / "sample", config, scratch, args.workers, REAL, args.rounds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
