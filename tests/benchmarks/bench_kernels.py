"""Kernel start-up benchmark: the fork server against stock fresh kernels, interleaved in one run.

    .venv/bin/python tests/benchmarks/bench_kernels.py [--rounds 3] [--exercise 02_dataset]
        [--sandbox auto|bwrap|none] [--skip-cli]

Prints numbers and ratios; asserts nothing (it is not collected by pytest). What it measures,
each mode in turn within every round so that a busy machine slows both alike:

1. Per notebook, steady state (one grading process, many notebooks, as bulk grading runs):
   grade ``solutions/<exercise>.ipynb`` in-process; *overhead* = grade wall time minus the
   student cells' own time (``ExerciseResult.cell_s``): kernel start, readiness, checks, kill.
   In a fresh kernel the notebook's own ``import torch`` runs inside its first cell, so its cell
   time hides most of what the fork server saves: the notebook's compute is therefore taken as
   its cell time under the fork server (libraries already loaded) for both modes, and the raw
   ``wall - cell_s`` is printed too. The fork server's first notebook (the zygote importing
   torch) is a warm-up, shown apart. As in a bulk worker, each grading is told that more
   follow, so the fork server starts the next kernel while the current notebook is checked.
2. A multi-notebook submission end to end: ``grader grade solutions/`` (every exercise of the
   course) as a new process, wall time and peak memory.
3. ``grader check solutions/<exercise>.ipynb`` as a new process, against what it cannot beat:
   a bare ``python -c "import torch, torchvision"`` plus the notebook's own compute.

CPU is the CPU seconds of that whole process tree (a loaded machine stretches wall time, not
CPU time), sampled from ``/proc`` by a thread; in part 1 it comes from a second, separate grading,
so that the sampling does not slow the timed one; memory is the peak, over the run, of the summed PSS (proportional set size, from
``/proc/PID/smaps_rollup``) of the grading process and all its descendants: pages a forked kernel
shares with its zygote count once, shared among them, as the machine really pays for them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODES = ("forkserver", "fresh")


# ----------------------------------------------------------------------------- memory of a process tree

def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


_TICK = os.sysconf("SC_CLK_TCK")


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_mib(root: int) -> float:
    """The summed PSS of ``root`` and every process below it, in MiB."""
    children = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_kib(pid)
        todo.extend(children.get(pid, []))
    return total / 1024


class TreeSampler:
    """Samples a process tree every ``interval`` seconds in a thread: peak PSS and CPU seconds.

    CPU is each process's own user+system time as last seen, summed over every process that was
    ever in the tree (keyed by pid and start time). Waited-for children (``cutime``) are not
    used: a kernel in bubblewrap's pid namespace is killed with its namespace and never waited
    for, so its time would not reach any parent. What a process spends after the last sample
    (at most ``interval``) is missed.
    """

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self.root, self.interval, self.peak_mib = root, interval, 0.0
        self.cpu_ticks: dict[tuple[int, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        children = _children_map()
        pss, todo = 0, [self.root]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                self.cpu_ticks[(pid, int(fields[19]))] = int(fields[11]) + int(fields[12])
            except (OSError, ValueError, IndexError):
                pass
            pss += _pss_kib(pid)
            todo.extend(children.get(pid, []))
        self.peak_mib = max(self.peak_mib, pss / 1024)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_ticks.values()) / _TICK

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Run ``cmd``; its wall time, the peak PSS of its process tree (MiB), its exit code and the
    CPU seconds of the whole tree (see :class:`TreeSampler`)."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TreeSampler(process.pid) as memory:
        _, stderr = process.communicate()
    wall = time.monotonic() - started
    cpu = memory.cpu_s
    if process.returncode not in (0, 1):  # 1: some check failed, still a full run
        sys.stderr.write(stderr.decode("utf-8", "replace")[-2000:])
    return wall, memory.peak_mib, process.returncode, cpu


# ----------------------------------------------------------------------------- the benchmark

def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return f"{os.cpu_count()} cores ({model}), load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--exercise", default="02_dataset")
    parser.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    parser.add_argument("--skip-cli", action="store_true", help="only the in-process per-notebook numbers")
    args = parser.parse_args(argv)

    from grader.config import GradeConfig
    from grader.course.manifest import load_course
    from grader.checking.runner import CheckRunner
    from grader.kernel.host import KernelHost
    from grader.session import GradingSession, prepare_data

    course = load_course(ROOT / "exercises")
    scratch = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    data_root, work_dir = scratch / "data", scratch / "work"
    notebook = ROOT / "solutions" / f"{args.exercise}.ipynb"
    configs = {mode: GradeConfig(course=course, data_root=data_root, work_dir=work_dir, hidden=True,
                                 kernel=mode, sandbox=args.sandbox) for mode in MODES}
    prepare_data(configs["fresh"])
    print(f"machine: {machine()}; python {sys.version.split()[0]}; sandbox {args.sandbox}")

    # 1. Per notebook, steady state, in this process: one session per mode, as a bulk worker keeps one.
    host, checks = KernelHost(), CheckRunner()
    sessions = {m: GradingSession(configs[m], host=host, checks=checks, expect_more=True) for m in MODES}
    started = time.monotonic()
    warm = sessions["forkserver"].__enter__().grade(notebook).exercises[0]
    print(f"fork server warm-up (zygote start + first notebook): {time.monotonic() - started:.2f} s; "
          f"its score {warm.score:g}/{warm.max_score:g}")
    sessions["fresh"].__enter__().grade(notebook)  # the checks' own first-time imports, for fairness
    per: dict[str, dict[str, list[float]]] = {
        m: {"wall": [], "overhead": [], "kernel": [], "cells": [], "checks": [], "cpu": []} for m in MODES}
    for round_ in range(args.rounds):
        for mode in (MODES if round_ % 2 == 0 else MODES[::-1]):
            # Timed alone: the sampler's thread would otherwise compete with the grading it times.
            started = time.monotonic()
            result = sessions[mode].grade(notebook)
            wall = time.monotonic() - started
            with TreeSampler(os.getpid()) as sampler:  # then once more, for its CPU seconds
                sampler.sample()
                baseline = dict(sampler.cpu_ticks)
                sessions[mode].grade(notebook)
            # Only what was spent during this grading: the zygote's and our own time before it is not.
            per[mode]["cpu"].append(sum(v - baseline.get(k, 0) for k, v in sampler.cpu_ticks.items()) / _TICK)
            (exercise,) = result.exercises
            if exercise.score != exercise.max_score:
                print(f"  warning: {mode} scored {exercise.score:g}/{exercise.max_score:g}")
            per[mode]["wall"].append(wall)
            per[mode]["overhead"].append(wall - exercise.cell_s)
            per[mode]["kernel"].append(wall - exercise.cell_s - exercise.check_s)
            per[mode]["cells"].append(exercise.cell_s)
            per[mode]["checks"].append(exercise.check_s)
            print(f"  round {round_ + 1} {mode:10s} wall {wall:6.2f} s  cells {exercise.cell_s:5.2f} s  "
                  f"checks {exercise.check_s:5.2f} s  CPU {per[mode]['cpu'][-1]:5.2f} s")
    for session in sessions.values():
        session.close()
    checks.close()
    host.close()
    compute = median(per["forkserver"]["cells"])
    for mode in MODES:
        per[mode]["overhead_compute"] = [w - compute for w in per[mode]["wall"]]
        per[mode]["kernel_cost"] = [w - compute - c for w, c in zip(per[mode]["wall"], per[mode]["checks"])]
    fork, fresh = ({k: median(v) for k, v in per[m].items()} for m in MODES)
    print("\n1. one notebook, steady state (medians)")
    print(f"   {'':29s}{'fork server':>12s}{'fresh':>10s}{'ratio':>8s}")
    for key, label in (("wall", "grade wall"), ("cells", "cell time"),
                       ("overhead_compute", "overhead (wall-compute)"), ("overhead", "wall - own cell time"),
                       ("kernel", "  minus check time"), ("checks", "check time"),
                       ("kernel_cost", "kernel (wall-compute-checks)"), ("cpu", "CPU-s, grader + kernel")):
        print(f"   {label:29s}{fork[key]:11.2f}s{fresh[key]:9.2f}s{fresh[key] / fork[key]:7.1f}x")
    print("   targets: fresh/fork >= 15x per notebook; fork server overhead <= 0.4 s")

    if args.skip_cli:
        shutil.rmtree(scratch, ignore_errors=True)
        return 0

    # 2 and 3: new processes, as a user runs them.
    env = {**os.environ, course.data_env: str(data_root)}
    grader = [str(Path(sys.executable).parent / "grader")]
    common = ["--data-root", str(data_root), "--work-dir", str(work_dir), "--sandbox", args.sandbox]
    multi: dict[str, list[tuple[float, float, float]]] = {m: [] for m in MODES}
    check: dict[str, list[tuple[float, float, float]]] = {m: [] for m in MODES}
    bare: list[tuple[float, float]] = []
    for round_ in range(args.rounds):
        for mode in (MODES if round_ % 2 == 0 else MODES[::-1]):
            out = scratch / f"out-{mode}-{round_}"
            wall, peak, code, cpu = run_measured(
                [*grader, "grade", str(ROOT / "solutions"), "--out", str(out), "--kernel", mode, *common], env)
            multi[mode].append((wall, peak, cpu))
            print(f"  round {round_ + 1} grade solutions/ {mode:10s} {wall:6.2f} s  CPU {cpu:6.2f} s  "
                  f"peak {peak:6.0f} MiB  exit {code}")
            wall, peak, code, cpu = run_measured([*grader, "check", str(notebook), "--kernel", mode, *common], env)
            check[mode].append((wall, peak, cpu))
            print(f"  round {round_ + 1} check {args.exercise} {mode:10s} {wall:6.2f} s  CPU {cpu:6.2f} s  "
                  f"peak {peak:6.0f} MiB  exit {code}")
        wall, _, _, cpu = run_measured([sys.executable, "-c", "import torch, torchvision"], env)
        bare.append((wall, cpu))
    exercises = len(course.exercises)
    print(f"\n2. grader grade solutions/ ({exercises} notebooks), new process (medians)")
    for label, index, unit in (("wall", 0, "s"), ("CPU", 2, "s"), ("peak", 1, "MiB")):
        f, r = (median([run[index] for run in multi[m]]) for m in MODES)
        print(f"   {label:5s} fork server {f:7.1f} {unit:3s}  fresh {r:7.1f} {unit:3s}  ratio {r / f:5.1f}x")
    print(f"\n3. grader check {args.exercise}, new process (medians)")
    bare_wall, bare_cpu = median([w for w, _ in bare]), median([c for _, c in bare])
    floor_wall, floor_cpu = bare_wall + fork["cells"], bare_cpu + fork["cells"]
    print(f"   bare 'import torch, torchvision' {bare_wall:.2f} s ({bare_cpu:.2f} CPU-s) + the notebook's "
          f"cells {fork['cells']:.2f} s = {floor_wall:.2f} s ({floor_cpu:.2f} CPU-s)")
    for mode in MODES:
        wall, cpu = median([w for w, _, _ in check[mode]]), median([c for _, _, c in check[mode]])
        peak = median([p for _, p, _ in check[mode]])
        print(f"   {mode:10s} {wall:6.2f} s = {wall / floor_wall:4.2f}x that;  {cpu:6.2f} CPU-s = "
              f"{cpu / floor_cpu:4.2f}x;  peak {peak:5.0f} MiB")
    print("   target: fork server <= 1.3x the bare import + compute")
    print(f"\nmachine after: {machine()}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
