"""Students everywhere: the self-check and ``grader check`` on a platform without POSIX process features.

``tests/posixless.py`` runs Python with ``resource``, ``fcntl``, ``pwd``, ``grp`` and ``termios``
unimportable and without ``os.fork`` and ``os.pidfd_open``, as on Windows. It is a simulation of
the grader's side on Linux, not a Windows or macOS run (see the README).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseStatus
from grader.selfcheck import SelfCheckResult

ROOT = Path(__file__).resolve().parent.parent
POSIXLESS = [sys.executable, str(ROOT / "tests" / "posixless.py")]

# Every module a student's path imports: the notebook's self-check cell, `grader check`, `grader submit`.
STUDENT_MODULES = ["grader.selfcheck", "grader.cli", "grader.cli.run", "grader.cli.submit", "grader.session",
                   "grader.kernel.cells", "grader.kernel.choice", "grader.kernel.host", "grader.kernel.pool", "grader.submit.build", "grader.submit.manifest",
                   "grader.publish.terminal", "grader.publish.report", "grader.intake.submissions"]


def posixless(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "GRADER_GRADING"}
    full_env.update(env or {})
    return subprocess.run([*POSIXLESS, *args], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_simulation_really_removes_posix() -> None:
    done = posixless("-c", "import os\ntry:\n    import fcntl\nexcept ImportError:\n    print('no fcntl')\n"
                           "print(hasattr(os, 'fork'), hasattr(os, 'pidfd_open'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["no", "fcntl", "False", "False"]


def test_every_module_of_a_students_path_imports_without_posix() -> None:
    code = (f"import importlib, sys\nfor name in {STUDENT_MODULES!r}:\n    importlib.import_module(name)\n"
            "import grader.kernel.sandbox as s\n"
            "print(s.plan.__module__, s.Premises.__module__)\n"
            "print(sorted(m for m in ('resource', 'fcntl', 'pwd', 'grp', 'termios') if m in sys.modules))")
    done = posixless("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["grader.kernel.sandbox.plain grader.kernel.sandbox.plain", "[]"]


SELFCHECK_CELL = """
import json, os, sys
import nbformat
os.chdir(sys.argv[1])
sys.path.insert(0, ".")
from grader.selfcheck import run_selfcheck
statuses = {}
for which in ("solutions", "exercises"):
    notebook = nbformat.read(os.path.join("..", which, "02_dataset.ipynb"), as_version=4)
    namespace = {"__name__": "__main__"}
    for cell in notebook.cells:
        if cell.cell_type == "code" and "run_selfcheck" not in cell.source:
            try:
                exec(cell.source, namespace)
            except NotImplementedError:
                pass  # a stub's demo cell
    # the self-check cell's own code
    result = run_selfcheck("02_dataset", namespace, data_root=namespace["DATA_ROOT"], lang="en")
    statuses[which] = sorted({c.status.value for c in result.checks})
print("STATUSES " + json.dumps(statuses))
"""


@pytest.mark.slow
def test_selfcheck_cell_runs_the_public_checks_without_posix(data_root: Path) -> None:
    done = posixless("-c", SELFCHECK_CELL, str(ROOT / "exercises"), env={"CIFAR10_ROOT": str(data_root)})
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("STATUSES "))
    assert json.loads(line.removeprefix("STATUSES ")) == {"solutions": ["passed"], "exercises": ["failed"]}


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "code", "total"), [("solutions", 0, "total: 12 / 12"),
                                                        ("exercises", 1, "total: 0 / 12")], ids=["solution", "stub"])
def test_grader_check_uses_a_fresh_kernel_without_posix(folder, code, total, data_root, tmp_path) -> None:
    notebook = ROOT / folder / "01_tensors.ipynb"
    done = posixless("-m", "grader", "check", str(notebook), "--course", str(ROOT / "exercises"), "--lang", "en",
                     "--data-root", str(data_root), "--work-dir", str(tmp_path / "work"))
    assert done.returncode == code, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.splitlines()[0] == "kernel: fresh process, sandbox: none"
    said = done.stdout + done.stderr
    assert said.count("no os.fork") == 1, said[-3000:]  # the reason, once: in the sandbox's warning
    assert total in done.stdout


def _result() -> SelfCheckResult:
    checks = [CheckResult(id="test_a", title=T("가", "a check"), status=CheckStatus.PASSED, points=2, max_points=2)]
    return SelfCheckResult(exercise_id="01_tensors", title=T("텐서", "Tensors"), status=ExerciseStatus.GRADED,
                           checks=checks, lang="en")


def test_a_self_check_result_displays_as_its_table() -> None:
    from IPython.lib.pretty import pretty

    result = _result()
    assert 'data-status="passed"' in result._repr_html_() and "2 / 2" in result._repr_html_()
    text = pretty(result)
    assert "a check" in text and "SelfCheckResult(" not in text


@pytest.mark.slow
def test_the_selfcheck_cell_shows_the_table_and_nothing_else(data_root: Path) -> None:
    from tests.test_selfcheck import run_by_hand

    notebook = run_by_hand(ROOT / "solutions" / "02_dataset.ipynb", data_root, {"LANG": "en_US.UTF-8"})
    (cell,) = [c for c in notebook.cells if "run_selfcheck" in c.source]
    assert [o.output_type for o in cell.outputs] == ["display_data"], cell.outputs
    assert 'data-status="passed"' in cell.outputs[0].data["text/html"]
    assert not any("ExerciseResult(" in str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
