"""Course service benchmark: the service beside ``grader bulk`` in one run, real kernels, same workers.

    python -m tests.benchmarks.bench_service [--count 12] [--workers 2]

Prints numbers and ratios; asserts nothing (run it, read it, write the numbers down).

1. Latency: 02_dataset's solution uploaded as a self-check to a warm service (its worker has
   graded once already), from the upload's request to the result on the page's status endpoint,
   against ``grader bulk``'s time per notebook with a warm worker ((T(1 + n) - T(1)) / n, so that
   the worker's start cancels out). Target: at most 1.5 s beyond bulk.
2. The rush: ``--count`` distinct hand-ins of the solution at once; the service's throughput (from
   the first upload to the last recorded result) against bulk's warm throughput on the same
   notebooks and workers. Target: within 10 %.
3. While the rush is graded, a student's page and a status endpoint are fetched again and again:
   the p95 of their response times. Target: at most 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import nbformat

from tests.service import ROOT, make_service

SOLUTION = ROOT / "solutions" / "02_dataset.ipynb"


def variant(n: int) -> bytes:
    """The solution with a markdown cell of its own: another content, so nothing is reused."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(f"variant {n}"))
    return nbformat.writes(notebook).encode()


def bulk_seconds(work: Path, count: int, workers: int, data_root: Path) -> float:
    """``grader bulk``'s wall time over ``count`` students, each handing in one variant of the solution."""
    classroom = work / f"class-{count}"
    for n in range(count):
        folder = classroom / f"s{n:03d}"
        folder.mkdir(parents=True)
        (folder / "02_dataset.ipynb").write_bytes(variant(1000 + n))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CIFAR10_ROOT": str(data_root)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "bulk", str(classroom), "--out", str(work / f"out-{count}"),
                    "--workers", str(workers), "--quiet"], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def wait_graded(client: httpx.Client, number: int, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"/me/uploads/{number}/status").json()["state"] in ("graded", "failed"):
            return time.perf_counter()
        time.sleep(0.02)
    raise TimeoutError(f"upload {number} was not graded in {timeout} s")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12, help="hand-ins in the rush (and bulk's class size)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    data_root = work / "data"

    students = [f"s{n:03d}" for n in range(args.count)]
    service = make_service(work / "svc", data_root, ["alice", *students], checks_per_hour=1000)
    service.workers = args.workers
    service.start(timeout=300)
    try:
        alice = service.browser_session("alice")
        # Warm every worker: as many self-checks as workers, graded before anything is timed.
        warm = [service.api_upload("alice", "02_dataset.ipynb", variant(-1 - w), kind="check").json()["id"]
                for w in range(args.workers)]
        for number in warm:
            wait_graded(alice, number)

        latencies = []
        for run in range(args.latency_runs):
            started = time.perf_counter()
            number = service.api_upload("alice", "02_dataset.ipynb", variant(run), kind="check").json()["id"]
            latencies.append(wait_graded(alice, number) - started)

        pages: list[float] = []
        rushing = threading.Event()

        def browse() -> None:
            with httpx.Client(base_url=service.url, cookies=alice.cookies, timeout=30) as reader:
                while rushing.is_set():
                    for path in ("/me", f"/me/uploads/{number}/status"):
                        started = time.perf_counter()
                        assert reader.get(path).status_code == 200
                        pages.append(time.perf_counter() - started)
                    time.sleep(0.05)

        rushing.set()
        browser = threading.Thread(target=browse)
        browser.start()
        first = time.perf_counter()
        sent: list[int] = []
        threads = [threading.Thread(target=lambda n=n, s=s: sent.append(
            service.api_upload(s, "02_dataset.ipynb", variant(1000 + n)).json()["id"]))
            for n, s in enumerate(students)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows = service.wait_all_graded(len(warm) + args.latency_runs + args.count, timeout=1800)
        rush_seconds = time.perf_counter() - first
        rushing.clear()
        browser.join()
        assert all(r[3] == "graded" for r in rows), [r[3] for r in rows]
    finally:
        service.stop()

    one = bulk_seconds(work / "bulk1", 1, 1, data_root)
    few = bulk_seconds(work / "bulkn", 1 + args.latency_runs, 1, data_root)
    per_notebook = (few - one) / args.latency_runs
    rush_bulk_one = bulk_seconds(work / "rush1", 1, args.workers, data_root)
    rush_bulk = bulk_seconds(work / "rushn", args.count, args.workers, data_root)
    bulk_rate = (args.count - 1) / (rush_bulk - rush_bulk_one)
    service_rate = args.count / rush_seconds

    latency = statistics.median(latencies)
    print(f"1. latency, 02_dataset's solution, warm worker: service {latency:.2f} s (median of "
          f"{len(latencies)}: {', '.join(f'{x:.2f}' for x in latencies)}), bulk {per_notebook:.2f} s per notebook "
          f"(T(1)={one:.1f} s, T({1 + args.latency_runs})={few:.1f} s); beyond bulk: {latency - per_notebook:+.2f} s "
          f"(target <= +1.5 s)")
    print(f"2. rush of {args.count} hand-ins, {args.workers} workers: service {service_rate * 60:.1f}/min "
          f"({rush_seconds:.1f} s), bulk {bulk_rate * 60:.1f}/min (warm; T(1)={rush_bulk_one:.1f} s, "
          f"T({args.count})={rush_bulk:.1f} s); service/bulk = {service_rate / bulk_rate:.2f} (target >= 0.90)")
    print(f"3. pages during the rush: {len(pages)} responses, median {statistics.median(pages) * 1000:.1f} ms, "
          f"p95 {p95(pages) * 1000:.1f} ms, max {max(pages) * 1000:.1f} ms (target p95 <= 100 ms)")


if __name__ == "__main__":
    main()
