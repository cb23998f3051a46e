"""The cages on machines where bubblewrap cannot run, simulated by ``tests/container.py``.

Three machines: a Docker-like container (root, Docker's capabilities and syscall filter), a
laptop (a non-root user, no bubblewrap) and a locked-down runner (non-root, no bubblewrap, the
Docker filter: no user namespace either). On each: which cage ``auto`` picks, the whole hostile
suite (``tests/test_hostile.py``, each case and the bulk class) in that cage, and on the locked
one, that grading refuses while a self-check runs. The platform entry points
(``tests/test_platforms.py``) run on the first two as well: Gradescope and PrairieLearn grade in
exactly such containers. The three runs go side by side: most of their time is kernels waiting
out their timeouts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from .container import problem as simulation_problem
from .test_hostile import CASES, header

TOOL = Path(__file__).resolve().parent / "container.py"
ROOT = TOOL.parent.parent
USER = 1000
MACHINES = {
    "container": [],
    "laptop": ["--user", str(USER), "--no-bwrap"],
    "locked": ["--user", str(USER), "--no-bwrap", "--filter", "docker"],
}
CAGE = {"container": "container", "laptop": "userns", "locked": None}

SIMULATION_PROBLEM = simulation_problem()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(SIMULATION_PROBLEM is not None, reason=str(SIMULATION_PROBLEM))]


def on(machine: str, *command: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """Start ``command`` on a simulated machine, in the project folder."""
    return subprocess.Popen([sys.executable, str(TOOL), *MACHINES[machine], "--", *command], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **kwargs)


def shared_folder() -> Path:
    """A folder every simulated user may write (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-machine-"))
    os.chmod(folder, 0o777)
    return folder


@pytest.fixture(scope="module")
def hostile_runs():
    """The hostile suite on every machine, all at once; each machine's outcome per test id."""
    reports = shared_folder()
    started = {}
    for machine in MACHINES:
        env = {"GRADER_TEST_SANDBOX": CAGE[machine] or ""}
        files = ["tests/test_hostile.py", *(["tests/test_platforms.py"] if CAGE[machine] else [])]
        started[machine] = on(machine, sys.executable, "-m", "pytest", *files, "-q", "-rs",
                              "-p", "no:cacheprovider", f"--junitxml={reports / machine}.xml", env=env)
    runs = {}
    try:
        for machine, process in started.items():
            output, _ = process.communicate(timeout=1800)
            runs[machine] = (process.returncode, output, _outcomes(reports / f"{machine}.xml"))
    finally:
        for process in started.values():
            process.kill()
        shutil.rmtree(reports, ignore_errors=True)
    return runs


def _outcomes(report: Path) -> dict[str, tuple[str, str]]:
    """test name → (passed | failed | skipped, the skip or failure message)."""
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        child = next(iter(case), None)
        kind = "passed" if child is None or child.tag in ("system-out", "system-err") else child.tag
        kind = {"failure": "failed", "error": "failed"}.get(kind, kind)
        outcomes[case.get("name", "")] = (kind, (child.get("message", "") if child is not None else ""))
    return outcomes


def _ids() -> list[str]:
    return [f"test_hostile_submission[{case.stem}]" for case in CASES] + ["test_whole_suite_as_one_class_through_bulk"]


def test_which_cage_auto_picks_on_each_machine(make_config, data_root) -> None:
    probe = ("import json, sys\nfrom pathlib import Path\nfrom grader.kernel import sandbox\nfrom grader.kernel.sandbox import bwrap\n"
             "from grader.config import GradeConfig\nfrom grader.course.manifest import load_course\n"
             "config = GradeConfig(course=load_course(Path('exercises')), data_root=Path(sys.argv[1]), "
             "work_dir=Path(sys.argv[2]))\n"
             "try:\n    mode = sandbox.plan(config).mode\nexcept Exception as exc:\n    mode = f'refused: {exc}'\n"
             "print(json.dumps({'bwrap': bwrap.problem(), 'auto': mode}))")
    work = shared_folder()
    try:
        # A data folder that does not exist yet (before `grader data`): made, never "unreadable".
        started = {m: on(m, sys.executable, "-c", probe, str(work / m / "data"), str(work / m)) for m in MACHINES}
        seen = {m: json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for m, p in started.items()}
        made = {m: (work / m / "data").is_dir() for m in MACHINES}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert made == {m: True for m in MACHINES}, made
    if shutil.which("bwrap"):  # installed here, so in the simulated image too: Docker's filter refuses it
        assert "Operation not permitted" in seen["container"]["bwrap"], seen
    else:
        assert seen["container"]["bwrap"] == "bwrap is not installed", seen
    assert seen["container"]["auto"] == "container"
    assert seen["laptop"]["bwrap"] == "bwrap is not installed" and seen["laptop"]["auto"] == "userns"
    locked = seen["locked"]["auto"]
    assert "cannot read" not in locked, locked
    assert locked.startswith("refused: no sandbox can hold student code") and "apt-get install bubblewrap" in locked


@pytest.mark.parametrize("machine", ["container", "laptop"])
def test_the_hostile_suite_holds(hostile_runs, machine: str) -> None:
    code, output, outcomes = hostile_runs[machine]
    assert code == 0, ({n: o for n, o in outcomes.items() if o[0] == "failed"}, output[-3000:])
    skipped = {name for name, (kind, _) in outcomes.items() if kind == "skipped"}
    assert {name for name, (kind, _) in outcomes.items() if kind == "passed"} >= set(_ids()) - skipped
    # Only what the cage says it does not stop is skipped.
    expected = {f"test_hostile_submission[{c.stem}]" for c in CASES if header(c).get("needs") == "scratch_size"}
    assert skipped == (expected if machine == "container" else set()), {n: outcomes[n] for n in skipped}
    platforms = {n for n in outcomes if "gradescope" in n or "prairielearn" in n}
    assert len(platforms) >= 4 and all(outcomes[n][0] == "passed" for n in platforms), platforms


def test_where_nothing_can_cage_a_kernel_no_hostile_code_runs(hostile_runs) -> None:
    code, output, outcomes = hostile_runs["locked"]
    assert code == 0, output[-6000:]
    for name in _ids():
        kind, why = outcomes[name]
        assert kind == "skipped" and "no cage can hold a hostile notebook" in why, (name, kind, why)


def test_on_the_locked_machine_grading_refuses_and_a_self_check_runs(data_root) -> None:
    work = shared_folder()
    try:
        common = ["--data-root", str(data_root), "--work-dir", str(work), "--lang", "en"]
        grader = str(Path(sys.executable).parent / "grader")
        grade = on("locked", grader, "grade", "exercises/02_dataset.ipynb", "--out", str(work / "out"), *common)
        check = on("locked", grader, "check", "solutions/02_dataset.ipynb", *common)
        refused, checked = grade.communicate(timeout=300)[0], check.communicate(timeout=300)[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert grade.returncode == 4, refused
    lines = [line for line in refused.splitlines() if line.strip()]
    assert len(lines) == 1 and "no sandbox can hold student code" in lines[0] and "--sandbox none" in lines[0], refused
    assert check.returncode == 0, checked
    words = " ".join(checked.split())  # the terminal table wraps long lines
    assert "fine for your own code" in words and "total: 15 / 15" in words, checked
