"""The sandbox's pieces: which cage plan() picks, the bwrap command, what each cage shows a
kernel, limits, breach words, tampering, hostile files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader.kernel import breaches, sandbox
from grader.config import Limits
from grader.errors import SandboxError
from grader.kernel.pool import KernelPool
from grader.kernel.sandbox import bwrap, cages, folders, limits
from grader.kernel.cells import Execution
from grader.intake.notebooks import load_submission, read_notebook
from grader.results import CellError, ExerciseStatus
from grader.intake.tamper import given_cells, tampering

from .notebooks import of_cells

needs_bwrap = pytest.mark.skipif(bwrap.problem() is not None, reason=f"bubblewrap cannot run here: {bwrap.problem()}")


def test_plan_none_warns_and_unknown_mode_is_refused(make_config) -> None:
    box = sandbox.plan(make_config(sandbox="none"))
    assert box.mode == "none" and box.warning is not None and "No sandbox" in box.warning.en
    assert set(box.gaps) == set(sandbox.GAPS)
    with pytest.raises(SandboxError, match="unknown sandbox mode"):
        sandbox.plan(make_config(sandbox="docker"))


@pytest.fixture
def machine(monkeypatch):
    """Pretend which cages can run here: ``machine(bwrap=..., container=..., userns=...)``, each
    None (it runs) or why not."""

    def pretend(**problems: str | None) -> None:
        monkeypatch.setattr(cages, "_problem", lambda mode, config: problems[mode])

    return pretend


@pytest.mark.parametrize(("problems", "picked"), [
    ({"bwrap": None, "container": None, "userns": None}, "bwrap"),
    ({"bwrap": "not installed", "container": None, "userns": None}, "container"),
    ({"bwrap": "not installed", "container": "needs root", "userns": None}, "userns"),
], ids=["bwrap-first", "container-next", "userns-last"])
def test_auto_takes_the_first_cage_that_runs(make_config, machine, problems: dict, picked: str) -> None:
    machine(**problems)
    box = sandbox.plan(make_config(sandbox="auto"))
    assert box.mode == picked and "hidden_files" not in box.gaps and "network" not in box.gaps


def test_where_no_cage_runs_grading_refuses_and_a_self_check_runs(make_config, machine) -> None:
    machine(bwrap="bwrap is not installed", container="container mode needs root", userns="refused")
    with pytest.raises(SandboxError) as refused:
        sandbox.plan(make_config(sandbox="auto", trusted_code=False))
    words = str(refused.value)
    assert "bwrap is not installed" in words and "needs root" in words and "refused" in words
    assert "apt-get install bubblewrap" in words and "--sandbox none" in words
    own = sandbox.plan(make_config(sandbox="auto", trusted_code=True))
    assert own.mode == "none" and "fine for your own code" in own.warning.en


def test_a_cage_asked_for_by_name_never_falls_back(make_config, machine) -> None:
    machine(bwrap=None, container="container mode needs root", userns=None)
    with pytest.raises(SandboxError, match="--sandbox container was asked for but cannot run here: container mode needs root"):
        sandbox.plan(make_config(sandbox="container"))


def test_each_cage_says_what_it_does_not_stop(make_config, machine, monkeypatch) -> None:
    machine(bwrap=None, container=None, userns=None)
    monkeypatch.setattr(cages, "pids_cgroups_work", lambda: False)
    seen = {mode: sandbox.plan(make_config(sandbox=mode)) for mode in sandbox.CAGES}
    assert set(seen["container"].gaps) == {"other_files", "writes", "process_list", "scratch_size"}
    assert seen["userns"].gaps == ("other_files",) if os.geteuid() != 0 else ("other_files", "processes")
    assert "processes" in seen["bwrap"].gaps if os.geteuid() == 0 else "processes" not in seen["bwrap"].gaps
    assert seen["bwrap"].info()["gaps"] == list(seen["bwrap"].gaps) and seen["container"].info()["sandbox"] == "container"


@needs_bwrap
def test_prefix_hides_solutions_work_dir_and_protected(make_config, tmp_path: Path, kernel_host) -> None:
    out = tmp_path / "out"
    out.mkdir()
    config = make_config(sandbox="bwrap", protected_paths=(out,))
    runtime, scratch = tmp_path / "rt", tmp_path / "rt" / "work"
    scratch.mkdir(parents=True)
    prefix = bwrap.command_prefix(config, runtime=runtime, scratch=scratch, checks_data=kernel_host.premises.checks_data)
    assert prefix[-1] == "--" and "--unshare-net" in prefix and "--die-with-parent" in prefix
    bound = {prefix[i + 1] for i, word in enumerate(prefix) if word in ("--bind", "--ro-bind")}
    assert str(kernel_host.premises.checks_data) in bound  # what the checks hand to student code, read-only
    for hidden in sandbox.hidden_paths(config):
        assert not any(Path(b) == hidden or hidden in Path(b).parents for b in bound if b != "/"), hidden
    assert str(config.data_root) in bound and str(runtime) in bound


@needs_bwrap
def test_a_project_and_interpreter_under_tmp_stay_visible(make_config, tmp_path: Path, kernel_host) -> None:
    # CI may clone the project (and its venv) under /tmp: the sandbox's fresh /tmp must not hide it.
    config = make_config(sandbox="bwrap")
    runtime, scratch = tmp_path / "rt", tmp_path / "rt" / "work"
    prefix = bwrap.command_prefix(config, runtime=runtime, scratch=scratch, checks_data=kernel_host.premises.checks_data)
    fresh_tmp = next(i for i in range(len(prefix) - 1) if prefix[i:i + 2] == ["--tmpfs", "/tmp"])
    binds = [i for i, word in enumerate(prefix) if word == "--ro-bind" and prefix[i + 1] != "/"
             and not prefix[i + 1].startswith(("/usr", "/etc", "/lib", "/bin", "/sbin", "/opt"))]
    assert binds and all(i > fresh_tmp for i in binds), "the interpreter is bound under the fresh /tmp"


@needs_bwrap
def test_inside_the_sandbox_nothing_secret_is_visible(make_config, tmp_path: Path, kernel_host) -> None:
    config = make_config(sandbox="bwrap")
    runtime, scratch = tmp_path / "rt", tmp_path / "rt" / "work"
    scratch.mkdir(parents=True)
    prefix = bwrap.command_prefix(config, runtime=runtime, scratch=scratch, checks_data=kernel_host.premises.checks_data)
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
    wanted = Limits(memory_bytes=3 * 1024**3, file_bytes=1024**2, open_files=100, processes=50)
    code = ("import resource as r, json; print(json.dumps([r.getrlimit(k)[0] for k in "
            "(r.RLIMIT_DATA, r.RLIMIT_FSIZE, r.RLIMIT_NOFILE, r.RLIMIT_CORE)]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          preexec_fn=lambda: limits.apply_limits(wanted))
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
    assert f"Given cell {given[0].position}" in problems[0] and "edited" in problems[0]
    assert f"Given cell {given[-1].position}" in problems[1] and "deleted" in problems[1]


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
def test_forked_kernels_live_under_the_zygotes_shared_root(make_config, kernel_host) -> None:
    config = make_config(sandbox="bwrap", kernel="forkserver")
    premises = kernel_host.premises
    first, second = premises.folders.forked_runtime(config.limits), premises.folders.forked_runtime(config.limits)
    box = sandbox.plan(config)
    prefix = sandbox.zygote_prefix(box, config, premises)
    assert prefix == sandbox.zygote_prefix(box, config, premises)  # one zygote, every kernel
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
def test_forked_kernels_alive_together_cannot_see_each_others_folders(make_config, kernel_host) -> None:
    # The next notebook's kernel is started while the current one is still being checked: the
    # current student's code must not reach its connection key, its sockets or its /dev/shm.
    config = make_config(sandbox="bwrap", kernel="forkserver")
    notebook = of_cells(_SNOOP)
    with KernelPool(config, kernel_host) as pool, pool.running(notebook) as (_, first), \
            pool.running(notebook) as (_, second):
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
    from grader.kernel.host import KernelHost

    config = make_config(sandbox=mode, kernel="forkserver")
    with KernelHost() as host:  # no zygote yet
        host.launch_zygote(config, sandbox.plan(config))
        launched = set(host.fork_server.zygotes)
        assert len(launched) == 1 and host.fork_server.zygotes[next(iter(launched))].info is None  # not waited for
        with KernelPool(config, host) as pool, pool.running(of_cells("x = 1")) as (run, _):
            assert run.status is ExerciseStatus.GRADED
        assert set(host.fork_server.zygotes) == launched


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["fresh", "forkserver"])
@pytest.mark.parametrize("mode", ["none", "auto"], ids=["limits-only", "auto"])
def test_the_reference_solution_earns_full_marks_in_every_mode(course, make_config, capfd, mode: str,
                                                              kernel: str, grade) -> None:
    config = make_config(sandbox=mode, kernel=kernel)
    result = grade(course.exercise("02_dataset").solution, config)
    exercise = result.exercises[0]
    assert result.score == result.max_score > 0, [(c.id, c.status, c.message) for c in exercise.checks]
    expected = "none" if mode == "none" else sandbox.plan(config).mode
    assert exercise.kernel["sandbox"] == expected
    warned = any("No sandbox" in p.en for p in exercise.problems)
    assert warned == (expected == "none")
    # A kernel in bubblewrap has no parent to poll; ipykernel must not take that for a terminal session.
    terminal = capfd.readouterr()
    assert "Ctrl-C will not work" not in terminal.out + terminal.err


def test_a_missing_data_folder_is_made_before_a_cage_is_planned(make_config, tmp_path: Path) -> None:
    missing = tmp_path / "not" / "yet"
    box = sandbox.plan(make_config(data_root=missing, sandbox="auto"))
    assert missing.is_dir() and box.mode in (*sandbox.CAGES, "none")
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(SandboxError, match=r"a-file/data does not exist and cannot be made"):
        sandbox.plan(make_config(data_root=blocked / "data", sandbox="auto"))


def test_leftovers_of_a_dead_grader_are_swept(kernel_host) -> None:
    # A folder whose lock nobody holds is a dead grader's; a held lock keeps it, in any pid namespace.
    dead = Path(tempfile.mkdtemp(prefix="grader-d-test-"))
    Path(f"{dead}.lock").touch()
    alive = kernel_host.premises.checks_data
    folders.sweep()
    assert not dead.exists() and not Path(f"{dead}.lock").exists()
    assert alive.is_dir() and Path(f"{alive}.lock").exists()


# ----------------------------------------------------------------------------- container mode's uids

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="container mode gives kernels uids of their own: needs root")


@needs_root
def test_kernels_alive_together_get_uids_of_their_own_and_a_used_uid_is_skipped() -> None:
    from grader.kernel.sandbox import container

    first = 65000  # far from the uids the rest of the suite uses
    squatter = subprocess.Popen(["sleep", "60"], user=first, group=first)  # a process already runs as it
    try:
        leases = [container.lease_uid(first) for _ in range(3)]
        uids = [uid for uid, _ in leases]
        assert first not in uids and len(set(uids)) == 3 and all(first - container.POOL < u < first for u in uids)
        for uid, lease in leases:
            container.end(uid, lease)
        again, lease = container.lease_uid(first)
        assert again == max(uids)  # given back: the first free one is leased again
        container.end(again, lease)
    finally:
        squatter.kill()
        squatter.wait()


@needs_root
def test_when_a_kernel_is_done_its_uids_processes_and_leftover_files_go() -> None:
    from grader.kernel.sandbox import container

    uid, lease = container.lease_uid(65100)
    left = Path(tempfile.gettempdir()) / f"left-by-{uid}"
    other = Path(tempfile.gettempdir()) / f"not-its-{uid}"
    other.write_text("root's")
    orphan = subprocess.Popen(["sh", "-c", f"echo x > {left}; sleep 60 & sleep 60"], user=uid, group=uid)
    for _ in range(100):
        if left.exists():
            break
        time.sleep(0.05)
    container.end(uid, lease)
    try:
        assert orphan.wait(timeout=5) == -signal.SIGKILL
        assert not left.exists() and other.read_text() == "root's"
        assert container._processes_of(uid) == []
    finally:
        other.unlink()


@needs_root
def test_hidden_paths_are_closed_to_other_users(tmp_path: Path) -> None:
    from grader.kernel.sandbox import container

    solutions, out, gradebook = tmp_path / "solutions", tmp_path / "out", tmp_path / "book.sqlite"
    solutions.mkdir(mode=0o755)
    out.mkdir(mode=0o775)
    gradebook.write_text("")
    os.chmod(gradebook, 0o644)
    container.close([solutions, out, gradebook, tmp_path / "not-there"])
    assert [oct(p.stat().st_mode & 0o777) for p in (solutions, out, gradebook)] == ["0o700", "0o700", "0o600"]


def test_the_security_docs_table_says_what_each_cage_says_it_does_not_stop() -> None:
    import re

    readme = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \|.*\| ([^|]*) \|$", readme, re.M)}
    assert set(rows) >= {*sandbox.CAGES, "none"}
    for mode in ("container", "userns"):
        assert set(re.findall(r"`(\w+)`", rows[mode])) == set(cages._STATIC_GAPS[mode]), mode
    assert set(re.findall(r"`(\w+)`", rows["bwrap"])) <= {"processes"}  # only where no cgroup or namespace bounds them
    assert all(gap in sandbox.GAPS for mode in rows for gap in re.findall(r"`(\w+)`", rows[mode]))
