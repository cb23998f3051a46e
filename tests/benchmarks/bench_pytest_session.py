"""pytest's own cost per notebook, three ways side by side: prints numbers, asserts nothing.

    python -m tests.benchmarks.bench_pytest_session [--rounds 15]

Each exercise's checks (public and hidden) run against its reference solution in this process
(the self-check back end, so that no kernel's time blurs pytest's), ``--rounds`` times each way,
interleaved:

- ``main``: one ``pytest.main`` per notebook, with third-party plugins and the terminal reporter
  (how the checks ran before grader.checking.runner kept sessions);
- ``main, lean``: one ``pytest.main`` per notebook with the kept session's arguments (no plugin
  autoload, no terminal reporter): what grader.checking.runner falls back to without pytest's session API;
- ``kept``: one session per exercise, its collected items run again for every notebook.

"outside" is a run's wall time minus its checks' own (the sum of their ``duration_s``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pytest  # noqa: E402

from grader.checking import runner  # noqa: E402
from grader.course.manifest import load_course  # noqa: E402
from grader.checking.plugin import CheckPlugin, GradingContext  # noqa: E402
from grader.checking.remote import LocalNotebook  # noqa: E402
from test_golden import solution_namespace  # noqa: E402

# The arguments before sessions were kept: plugins autoloaded (three named off), the terminal on.
BEFORE = ["-p", "no:randomly", "-p", "no:xdist", "-p", "no:hypothesispytest", "--tb=no", "-q", "--no-header"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    course = load_course(ROOT / "exercises")
    scratch = Path(tempfile.mkdtemp(prefix="bench-pytest-"))
    course.data_preparer()(scratch / "data")
    print(f"median per notebook over {args.rounds} rounds, in ms: whole run (outside the check functions)")
    print(f"{'exercise':16} {'main':>16} {'main, lean':>16} {'kept':>16}")
    checks = runner.CheckRunner()
    for exercise in course.exercises:
        with contextlib.redirect_stdout(io.StringIO()):  # what the solution's cells print
            namespace = solution_namespace(exercise.solution, scratch / "data")
        context = GradingContext(exercise_id=exercise.id, data_root=scratch / "data", work_dir=scratch / "work")
        files = exercise.check_files(hidden=True)
        checks.prepare(course, exercise, hidden=True)  # also puts the check folders on sys.path
        lean = runner._args(course, files)
        before = [a for a in lean if a != "-pno:terminal"] + BEFORE

        def by_main(arguments: list[str], autoload: bool) -> float:
            plugin = CheckPlugin(hidden_files=frozenset(exercise.hidden_checks), cuda_counts=course.cuda_counts)
            plugin.begin(LocalNotebook(namespace), context)
            if not autoload:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    pytest.main(arguments, plugins=[plugin])
            finally:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            return sum(r.duration_s for r in plugin.ordered_results())

        def kept() -> float:
            results = checks.run(course, exercise, LocalNotebook(namespace), context, hidden=True)
            return sum(r.duration_s for r in results)

        ways = {"main": lambda: by_main(before, True), "main, lean": lambda: by_main(lean, False), "kept": kept}
        walls: dict[str, list[float]] = {name: [] for name in ways}
        outside: dict[str, list[float]] = {name: [] for name in ways}
        for way in ways.values():
            way()  # imports, collection, first reference values: not what is compared
        for _ in range(args.rounds):
            for name, way in ways.items():
                started = perf_counter()
                inside = way()
                walls[name].append(perf_counter() - started)
                outside[name].append(walls[name][-1] - inside)
        cells = [f"{statistics.median(walls[n]) * 1000:6.1f} ({statistics.median(outside[n]) * 1000:5.1f})" for n in ways]
        print(f"{exercise.id:16} " + " ".join(f"{c:>16}" for c in cells))
    checks.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
