"""The sandbox's pieces without a kernel: the bwrap command, limits, breach words, tampering, hostile files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader import breaches, sandbox
from grader.config import Limits
from grader.execute import Execution
from grader.load import load_submission, read_notebook
from grader.results import CellError, ExerciseStatus
from grader.tamper import given_cells, tampering

from .notebooks import of_cells

needs_bwrap = pytest.mark.skipif(sandbox.bwrap_problem() is not None,
                                 reason=f"bubblewrap cannot run here: {sandbox.bwrap_problem()}")


def test_plan_none_warns_and_unknown_mode_is_refused(make_config) -> None:
    box = sandbox.plan(make_config(sandbox="none"))
    assert box.mode == "none" and box.warning is not None and "bubblewrap" in box.warning.en
    with pytest.raises(Exception, match="unknown sandbox mode"):
        sandbox.plan(make_config(sandbox="docker"))


@needs_bwrap
def test_prefix_hides_solutions_work_dir_and_protected(make_config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    config = make_config(sandbox="bwrap", protected_paths=(out,))
    runtime, scratch = tmp_path / "rt", tmp_path / "rt" / "work"
    scratch.mkdir(parents=True)
    prefix = sandbox.command_prefix(sandbox.plan(config), config, runtime=runtime, scratch=scratch)
    assert prefix[-1] == "--" and "--unshare-net" in prefix and "--die-with-parent" in prefix
    bound = {prefix[i + 1] for i, word in enumerate(prefix) if word in ("--bind", "--ro-bind")}
    # The one exception, by design: the data the checks hand to student code, read-only.
    bound.discard(str(config.work_dir.resolve() / "checks"))
    for hidden in sandbox.hidden_paths(config):
        assert not any(Path(b) == hidden or hidden in Path(b).parents for b in bound if b != "/"), hidden
    assert str(config.data_root) in bound and str(runtime) in bound


@needs_bwrap
def test_a_project_and_interpreter_under_tmp_stay_visible(make_config, tmp_path: Path) -> None:
    # CI may clone the project (and its venv) under /tmp: the sandbox's fresh /tmp must not hide it.
    config = make_config(sandbox="bwrap")
    runtime, scratch = tmp_path / "rt", tmp_path / "rt" / "work"
    prefix = sandbox.command_prefix(sandbox.plan(config), config, runtime=runtime, scratch=scratch)
    fresh_tmp = next(i for i in range(len(prefix) - 1) if prefix[i:i + 2] == ["--tmpfs", "/tmp"])
    binds = [i for i, word in enumerate(prefix) if word == "--ro-bind" and prefix[i + 1] != "/"
             and not prefix[i + 1].startswith(("/usr", "/etc", "/lib", "/bin", "/sbin", "/opt"))]
    assert binds and all(i > fresh_tmp for i in binds), "the interpreter is bound under the fresh /tmp"


@needs_bwrap
def test_inside_the_sandbox_nothing_secret_is_visible(make_config, tmp_path: Path) -> None:
    config = make_config(sandbox="bwrap")
    runtime, scratch = tmp_path / "rt", tmp_path / "rt" / "work"
    scratch.mkdir(parents=True)
    prefix = sandbox.command_prefix(sandbox.plan(config), config, runtime=runtime, scratch=scratch)
    probe = ("import os, socket, json\n"
             "paths = {p: os.path.exists(p) for p in json.loads(os.environ['PATHS'])}\n"
             "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2); net = True\n"
             "except OSError:\n    net = False\n"
             "print(json.dumps({'paths': paths, 'net': net, 'cwd': os.getcwd()}))")
    solutions = str(config.course.solutions_dir)
    paths = [solutions, str(config.data_root), str(config.work_dir / "scratch")]
    done = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PATHS": json.dumps(paths)}, check=True)
    seen = json.loads(done.stdout)
    assert seen["paths"] == {solutions: False, str(config.data_root): True, paths[2]: False}
    assert seen["net"] is False and seen["cwd"] == str(scratch)


def test_apply_limits_in_a_child() -> None:
    limits = Limits(memory_bytes=3 * 1024**3, file_bytes=1024**2, open_files=100, processes=50)
    code = ("import resource as r, json; print(json.dumps([r.getrlimit(k)[0] for k in "
            "(r.RLIMIT_DATA, r.RLIMIT_FSIZE, r.RLIMIT_NOFILE, r.RLIMIT_CORE)]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          preexec_fn=lambda: sandbox.apply_limits(limits))
    assert json.loads(done.stdout) == [3 * 1024**3, 1024**2, 100, 0]


def _error(ename: str, evalue: str, index: int = 7) -> CellError:
    return CellError(index=index, kind="error", ename=ename, evalue=evalue)


@pytest.mark.parametrize(("ename", "evalue", "words"), [
    ("MemoryError", "", "memory limit 2 GB exceeded in cell 7"),
    ("RuntimeError", "DefaultCPUAllocator: can't allocate memory: you tried", "memory limit 2 GB"),
    ("OSError", "[Errno 27] File too large", "file size limit 1 MB"),
    ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", "process limit of 64"),
    ("OSError", "[Errno 24] Too many open files: '/dev/null'", "open files limit of 100"),
    ("OSError", "[Errno 28] No space left on device", "scratch folder"),
], ids=["memory", "torch-memory", "fsize", "nproc", "nofile", "scratch"])
def test_breaches_become_limit_status(ename: str, evalue: str, words: str) -> None:
    limits = Limits(memory_bytes=2 * 1024**3, file_bytes=1024**2, processes=64, open_files=100)
    execution = Execution(cell_errors=[_error(ename, evalue)])
    breaches.observe(execution, sandbox.Sandbox("bwrap"), limits)
    assert execution.status is ExerciseStatus.LIMIT
    assert any(words in p.en for p in execution.problems), execution.problems


def test_ordinary_error_is_not_a_breach() -> None:
    execution = Execution(cell_errors=[_error("ValueError", "bad shape")])
    breaches.observe(execution, sandbox.Sandbox("bwrap"), Limits())
    assert execution.status is ExerciseStatus.GRADED and execution.problems == []


@pytest.mark.parametrize(("mode", "code", "words"), [
    ("bwrap", 128 + signal.SIGSEGV, "killed by SIGSEGV"),
    ("none", -signal.SIGKILL, "killed by SIGKILL"),
    ("none", 3, "exited by itself with status 3"),
], ids=["bwrap-segv", "plain-kill", "exit-3"])
def test_kernel_death_is_explained(mode: str, code: int, words: str) -> None:
    died = CellError(index=4, kind="kernel_died", ename="KernelDied")
    execution = Execution(status=ExerciseStatus.KERNEL_DIED, cell_errors=[died])
    breaches.observe(execution, sandbox.Sandbox(mode), Limits(), exit_code=code)
    assert any(words in p.en and "(cell 4)" in p.en for p in execution.problems), execution.problems
    assert execution.kernel["exit_code"] == code and words in died.evalue


# ----------------------------------------------------------------------------- tampering

def _student(course) -> tuple[Path, nbformat.NotebookNode]:
    path = course.root / course.exercise("02_dataset").notebook
    return path, nbformat.read(path, as_version=4)


def test_untouched_and_moved_given_cells_are_fine(course) -> None:
    path, notebook = _student(course)
    assert tampering(notebook, path) == []
    notebook.cells.reverse()
    for cell in notebook.cells:
        cell.id = f"renamed-{cell.id}"  # some editors rewrite ids: the source is what counts
    assert tampering(notebook, path) == []


def test_edited_and_deleted_given_cells_are_flagged(course) -> None:
    path, notebook = _student(course)
    given = given_cells(path)
    assert len(given) >= 2
    edited = next(c for c in notebook.cells if c.id == given[0].cell_id)
    edited.source += "\nDATA_ROOT = '/elsewhere'"
    notebook.cells = [c for c in notebook.cells if c.id != given[-1].cell_id]
    notebook.metadata["grader"]["given_cells"] = {}  # the submission's own record is not trusted
    problems = [p.en for p in tampering(notebook, path)]
    assert len(problems) == 2
    assert f"Given cell {given[0].index}" in problems[0] and "edited" in problems[0]
    assert f"Given cell {given[-1].index}" in problems[1] and "deleted" in problems[1]


# ----------------------------------------------------------------------------- hostile files

@pytest.mark.parametrize(("content", "words"), [
    (b"this is not json", "not valid JSON"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode(), "nbformat 3"),
    (bytes(range(256)) * 64, "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    (json.dumps([1, 2, 3]).encode(), "not a Jupyter notebook"),
], ids=["not-json", "nbformat-3", "binary-junk", "deep-nesting", "json-list"])
def test_hostile_files_give_a_clear_problem(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "02_dataset.ipynb"
    path.write_bytes(content)
    notebook, problem = read_notebook(path)
    assert notebook is None and problem is not None and words in problem.en


def test_huge_notebook_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "02_dataset.ipynb"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024**2)  # 100 MB, sparse
    notebook, problem = read_notebook(path)
    assert notebook is None and "too large" in problem.en


@pytest.mark.skipif(sys.platform != "linux", reason="file names as raw bytes are a Linux file system feature")
def test_non_utf8_file_name_is_reported_as_text(course, tmp_path: Path) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    name = os.fsdecode(b"02_dataset-\xff\xfe.ipynb")
    (folder / name).write_bytes(b"junk")
    submission = load_submission(folder, course)
    loaded = submission.notebooks["02_dataset"]
    assert loaded.relative == "02_dataset-\\xff\\xfe.ipynb"
    json.dumps(loaded.problem.to_dict()).encode("utf-8")  # would raise on a lone surrogate
    assert "not valid JSON" in loaded.problem.en



@needs_bwrap
def test_forked_kernels_live_under_the_zygotes_shared_root(make_config) -> None:
    config = make_config(sandbox="bwrap", kernel="forkserver")
    box = sandbox.plan(config)
    first, second = sandbox.forked_runtime(box, config.limits), sandbox.forked_runtime(box, config.limits)
    prefix = sandbox.zygote_prefix(box, config)
    assert prefix == sandbox.zygote_prefix(box, config)  # one zygote serves every kernel of the config
    root = prefix[prefix.index("--bind") + 1]
    assert first.parent == second.parent == Path(root) and first != second
    assert "--unshare-net" in prefix and "--unshare-pid" in prefix


_SNOOP = """import json, os
here = os.getcwd(); runtime = os.path.dirname(here); root = os.path.dirname(runtime)
open('/dev/shm/left-by-' + os.path.basename(runtime), 'w').write('x')
SEEN = json.dumps({"runtime": os.path.basename(runtime), "root": sorted(os.listdir(root)),
                   "shm": sorted(os.listdir('/dev/shm'))})"""


def _seen(backend) -> dict:
    return json.loads(backend.run(_read_seen))


def _read_seen(ns):
    return ns["SEEN"]


@pytest.mark.slow
@needs_bwrap
def test_forked_kernels_alive_together_cannot_see_each_others_folders(make_config) -> None:
    # The next notebook's kernel is started while the current one is still being checked: the
    # current student's code must not reach its connection key, its sockets or its /dev/shm.
    from grader.execute import running_notebook

    config = make_config(sandbox="bwrap", kernel="forkserver")
    notebook = of_cells(_SNOOP)
    with running_notebook(notebook, config) as (_, first), running_notebook(notebook, config) as (_, second):
        views = [_seen(first), _seen(second)]
    assert views[0]["runtime"] != views[1]["runtime"]
    for view in views:
        assert view["root"] == [view["runtime"]], view
        assert view["shm"] == ["left-by-" + view["runtime"]], view


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["none", pytest.param("bwrap", marks=needs_bwrap)])
def test_the_zygote_launched_first_is_the_one_the_kernel_uses(make_config, mode: str) -> None:
    # `grader check` launches the zygote before it even imports nbclient; a zygote for other
    # settings than the kernel's would cost a second torch import instead of saving one.
    from grader.execute import running_notebook
    from grader.forkserver.client import fork_server
    from grader.warmup import launch_zygote

    config = make_config(sandbox=mode, kernel="forkserver")
    server = fork_server()
    server.close()  # the zygotes of earlier tests: the next ones start their own
    before = set(server.zygotes)
    launch_zygote(config)
    launched = set(server.zygotes) - before
    assert len(launched) == 1 and server.zygotes[next(iter(launched))].info is None  # not waited for
    with running_notebook(of_cells("x = 1"), config) as (run, _):
        assert run.status is ExerciseStatus.GRADED
    assert set(server.zygotes) - before == launched


@pytest.mark.parametrize("module", ["grader.sandbox", "grader.breaches", "grader.tamper"])
def test_public_names_are_sorted_and_defined(module: str) -> None:
    imported = __import__(module, fromlist=["__all__"])
    assert imported.__all__ == sorted(imported.__all__)
    assert all(hasattr(imported, name) for name in imported.__all__)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["fresh", "forkserver"])
@pytest.mark.parametrize("mode", ["none", "auto"], ids=["limits-only", "auto"])
def test_the_reference_solution_earns_full_marks_in_every_mode(course, make_config, capfd, mode: str,
                                                              kernel: str) -> None:
    from grader.grade import grade_submission

    config = make_config(sandbox=mode, kernel=kernel)
    result = grade_submission(course.exercise("02_dataset").solution, config)
    exercise = result.exercises[0]
    assert result.score == result.max_score > 0, [(c.id, c.status, c.message) for c in exercise.checks]
    expected = "none" if mode == "none" or sandbox.bwrap_problem() else "bwrap"
    assert exercise.kernel["sandbox"] == expected
    warned = any("bubblewrap" in p.en for p in exercise.problems)
    assert warned == (expected == "none")
    # A kernel in bubblewrap has no parent to poll; ipykernel must not take that for a terminal session.
    terminal = capfd.readouterr()
    assert "Ctrl-C will not work" not in terminal.out + terminal.err


@pytest.mark.skipif(os.geteuid() != 0 or not sandbox.pids_cgroups_work(), reason="needs root and a pids cgroup")
def test_leftovers_of_a_dead_grader_are_swept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    root = Path(tempfile.gettempdir()) / f"grader-z{dead.pid}-test"
    root.mkdir()
    group = Path(sandbox._CGROUP_ROOTS[0]) / f"grader-{dead.pid}-test"
    group.mkdir()
    mine = Path(tempfile.mkdtemp(prefix=f"grader-z{os.getpid()}-"))  # a live grader's: kept
    try:
        sandbox.sweep_stale()
        assert not root.exists() and not group.exists() and mine.exists()
    finally:
        mine.rmdir()
