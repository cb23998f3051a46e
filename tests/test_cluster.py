"""``grader bulk`` on Dask distributed: a real ``LocalCluster`` of two single-thread worker processes.

The fast tests use the fake units of work of ``tests/test_bulk.py`` (and one here that leaves a
marker file per attempt), so that they are about scheduling and faults; the slow ones grade
with real kernels. Workers run with fresh-kernel settings where no kernel is started, so that no
zygote imports torch for nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="the 'dask' extra is not installed")

from grader.bulk.run import BulkOptions, grade_class  # noqa: E402
from grader.bulk.dask.spec import ClusterError, ClusterSpec  # noqa: E402
from grader.bulk.dask.worker import NAME, GraderPlugin  # noqa: E402

from .test_bulk import FAKE, ROOT, comparable, committed, make_class  # noqa: E402

MARKING = "tests.test_cluster:marking_grade"


def marking_grade(session, path: Path, *, submission_id: str | None = None):
    """The fake unit, leaving ``<student>.<worker pid>.<time>`` in $GRADER_TEST_MARKS per attempt."""
    from .test_bulk import fake_grade

    marks = Path(os.environ["GRADER_TEST_MARKS"])
    (marks / f"{submission_id}.{os.getpid()}.{time.monotonic_ns()}").touch()
    time.sleep(0.6)
    return fake_grade(session, path, submission_id=submission_id)


def attempts(marks: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for mark in marks.iterdir():
        student = mark.name.split(".")[0]
        counts[student] = counts.get(student, 0) + 1
    return counts


@pytest.fixture
def fake_config(make_config, tmp_path: Path):
    return make_config(work_dir=tmp_path / "work", kernel="fresh")


def run(source: Path, config, out: Path, cluster: ClusterSpec | None, unit: str = FAKE, **kw):
    return grade_class(source, config, BulkOptions(out_dir=out, workers=2, unit=unit, cluster=cluster,
                                                   reports=kw.pop("reports", False), **kw))


@pytest.fixture
def cluster(fake_config, tmp_path: Path):
    """A cluster this test owns, started outside the coordinator: its scheduler's address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "dask-scratch"),
                                  resources={NAME: 1}) as local, distributed.Client(local) as client:
        client.register_plugin(GraderPlugin(str(fake_config.course.root), data_root=str(fake_config.data_root),
                                            work_dir=str(fake_config.work_dir / "dask"), allow_uncaged=True,
                                            kernel="fresh"), name=NAME)
        yield local.scheduler_address


def test_a_dask_run_and_a_local_pool_run_give_identical_gradebooks(tmp_path: Path, fake_config) -> None:
    source = make_class(tmp_path / "in", 12)
    local = run(source, fake_config, tmp_path / "local", None)
    dask = run(source, fake_config, tmp_path / "dask", ClusterSpec(local=2), reports=True)
    assert (local.backend, dask.backend) == ("local", "dask")
    assert dask.graded == 12 and dask.workers == 2 and json.loads(dask.line())["backend"] == "dask"
    assert comparable(tmp_path / "dask" / "gradebook.sqlite") == comparable(tmp_path / "local" / "gradebook.sqlite")
    assert (tmp_path / "dask" / "index.html").is_file()
    again = run(source, fake_config, tmp_path / "dask", ClusterSpec(local=2))
    assert (again.graded, again.skipped) == (0, 12)


def test_a_worker_killed_part_way_costs_one_retry(tmp_path: Path, fake_config, monkeypatch) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("GRADER_TEST_MARKS", str(marks))
    source = make_class(tmp_path / "in", 10)
    killed: list[str] = []

    def killer() -> None:  # SIGKILL the worker grading the fifth submission, mid-submission
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = sorted(marks.iterdir(), key=lambda p: int(p.name.split(".")[2]))
            if len(started) >= 5:
                student, pid, _ = started[4].name.split(".")
                # Half-way through its 0.6 s: the result that worker finished just before has been
                # fetched by now (killed at once, it may still be there, lost, and computed again).
                time.sleep(0.3)
                killed.append(student)
                os.kill(int(pid), signal.SIGKILL)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)  # gives up by its deadline; never holds the run
    thread.start()
    try:
        summary = run(source, fake_config, tmp_path / "dask", ClusterSpec(local=2), unit=MARKING)
    finally:
        thread.join(timeout=120)
    clean = run(source, fake_config, tmp_path / "local", None)
    assert killed and summary.graded == clean.graded == 10
    assert comparable(tmp_path / "dask" / "gradebook.sqlite") == comparable(tmp_path / "local" / "gradebook.sqlite")
    counts = attempts(marks)
    assert counts[killed[0]] == 2, counts  # the one in flight ran again, elsewhere
    assert all(n == 1 for s, n in counts.items() if s != killed[0]), counts


def test_crashing_raising_and_hanging_submissions_are_error_rows(tmp_path: Path, fake_config) -> None:
    source = make_class(tmp_path / "in", 3, {"crasher": "CRASH", "raiser": "RAISE", "hanger": "HANG"})
    summary = run(source, fake_config, tmp_path / "out", ClusterSpec(local=2), submission_timeout=4.0)
    rows = {r[0]: r for r in comparable(tmp_path / "out" / "gradebook.sqlite")}
    assert summary.total == 6 and len(rows) == 6
    assert rows["crasher"][2] == "error" and "worker died" in rows["crasher"][6]
    assert rows["raiser"][2] == "error" and "RuntimeError: the grader tripped" in rows["raiser"][6]
    assert rows["hanger"][2] == "error" and "longer than 4 s" in rows["hanger"][6]
    assert all(rows[f"s{n:03d}"][2] == "graded" for n in range(3))


def test_no_scheduler_exits_3_and_writes_nothing(tmp_path: Path, fake_config) -> None:
    from click.testing import CliRunner

    from grader.cli import cli

    source = make_class(tmp_path / "in", 2)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        run(source, fake_config, tmp_path / "out", ClusterSpec(scheduler="tcp://127.0.0.1:9", timeout=2))
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(cli, ["bulk", str(source), "--out", str(tmp_path / "cli"), "--scheduler",
                                      "tcp://127.0.0.1:9", "--work-dir", str(tmp_path / "work")])
    assert result.exit_code == 3, result.output
    assert "cannot reach the Dask scheduler" in result.output and not (tmp_path / "cli" / "gradebook.sqlite").exists()


def test_a_payload_round_trips_carries_only_notebooks_and_refuses_other_bytes(tmp_path: Path) -> None:
    from grader.bulk.dask.payload import PayloadError, digest, pack, read_message, unpack

    folder = tmp_path / "alice"
    (folder / "sub").mkdir(parents=True)
    (folder / "02_dataset.ipynb").write_text("{}")
    (folder / "sub" / "05_kfold.ipynb").write_text("[]")
    (folder / "weights.bin").write_bytes(b"\0" * 1000)
    payload = pack(folder)
    assert pack(folder) == payload  # the same files, the same bytes: the hash names the submission
    root = unpack(payload, digest(payload), tmp_path / "worker")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == \
        ["02_dataset.ipynb", "sub/05_kfold.ipynb"]
    with pytest.raises(PayloadError, match="sha256"):
        unpack(payload[:-1] + b"x", digest(payload), tmp_path / "other")
    with pytest.raises(PayloadError, match="not JSON bytes"):
        read_message({"kind": "ok"}, "abc")  # an object, not bytes: never deserialised further
    with pytest.raises(PayloadError, match="does not name"):
        read_message(json.dumps({"kind": "ok", "digest": "other"}).encode(), "abc")


def test_nothing_imports_dask_unless_asked_and_the_options_are_checked(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from grader.cli import cli

    code = ("import sys, grader.cli, grader.bulk.run, grader.bulk.dask.spec\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
    source = make_class(tmp_path / "in", 1)
    for extra, words in ((["--cluster", "remote:3"], "expected local:N"),
                         (["--cluster", "local:2", "--scheduler", "tcp://127.0.0.1:9"], "at most one of")):
        result = CliRunner().invoke(cli, ["bulk", str(source), "--out", str(tmp_path / "out"), *extra])
        assert result.exit_code == 2 and words in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_workers_without_the_grader_resource_or_with_another_course_are_refused(tmp_path: Path, fake_config) -> None:
    source = make_class(tmp_path / "in", 2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "dask-scratch")) as bare:
        with pytest.raises(ClusterError, match="no Dask worker offers the 'grader' resource"):
            run(source, fake_config, tmp_path / "out", ClusterSpec(scheduler=bare.scheduler_address))
    other = tmp_path / "course"
    subprocess.run(["cp", "-r", str(fake_config.course.root), str(other)], check=True)
    check = next(other.rglob("test_02_dataset.py"))
    check.write_text(check.read_text() + "\n# a changed check\n")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "dask-scratch"),
                                  resources={NAME: 1}) as local, distributed.Client(local) as client:
        client.register_plugin(GraderPlugin(str(other), data_root=str(fake_config.data_root), allow_uncaged=True,
                                            work_dir=str(tmp_path / "w"), kernel="fresh"), name=NAME)
        with pytest.raises(ClusterError, match="would grade differently"):
            run(source, fake_config, tmp_path / "out", ClusterSpec(scheduler=local.scheduler_address))
    broken = dataclasses.replace(fake_config, data_root=Path("/proc/no-such-folder/data"))  # setup fails there
    with pytest.raises(ClusterError, match="cannot grade: .*no-such-folder"):
        run(source, broken, tmp_path / "out", ClusterSpec(local=1))
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()


DRIVER = """
import sys
from pathlib import Path
from grader.bulk.run import BulkOptions, grade_class
from grader.bulk.dask.spec import ClusterSpec
from grader.config import GradeConfig, Limits
from grader.course.manifest import load_course
if __name__ == "__main__":
    source, out, work, data, unit, scheduler = sys.argv[1:7]
    config = GradeConfig(course=load_course(Path("exercises")), data_root=Path(data), work_dir=Path(work),
                         trusted_code=True, hidden=True, kernel="fresh",
                         limits=Limits(cell_timeout=60, notebook_timeout=240))  # as the tests' make_config
    summary = grade_class(Path(source), config, BulkOptions(out_dir=Path(out), unit=unit, reports=False,
                                                            cluster=ClusterSpec(scheduler=scheduler)))
    print(summary.line())
"""


def test_a_coordinator_killed_part_way_resumes_on_the_same_cluster(tmp_path: Path, fake_config, cluster) -> None:
    source = make_class(tmp_path / "in", 14)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)

    def driver(out: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(script), str(source), str(out), str(tmp_path / "work"),
                                 str(fake_config.data_root), FAKE, cluster], cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)

    book = tmp_path / "killed" / "gradebook.sqlite"
    first = driver(tmp_path / "killed")
    deadline = time.monotonic() + 120
    while committed(book) < 4:
        assert first.poll() is None, first.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    done_before = committed(book)
    assert 4 <= done_before < 14
    resumed = driver(tmp_path / "killed")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()[-3000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["graded"] == 14 - done_before and summary["backend"] == "dask"  # nothing graded twice
    run(source, fake_config, tmp_path / "clean", None)
    assert comparable(book) == comparable(tmp_path / "clean" / "gradebook.sqlite")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def real_cluster(make_config, tmp_path: Path):
    """Two workers that grade with real kernels from a warm zygote each, as ``dask worker --preload`` makes them."""
    config = make_config(work_dir=tmp_path / "work")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  local_directory=str(tmp_path / "dask-scratch"),
                                  resources={NAME: 1}) as local, distributed.Client(local) as client:
        client.register_plugin(GraderPlugin(str(config.course.root), data_root=str(config.data_root),
                                            work_dir=str(tmp_path / "dask"), allow_uncaged=True), name=NAME)
        yield config, local.scheduler_address, client


@pytest.mark.slow
def test_real_kernels_on_dask_grade_as_the_local_pool_and_cannot_reach_the_scheduler(cage_for_students,
                                                                                     tmp_path: Path,
                                                                                     real_cluster) -> None:
    from .notebooks import solution, with_cell, write

    config, address, _ = real_cluster
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    source = tmp_path / "in"
    write(solution(), source / "honest")
    probe = f"import socket\nreached = socket.create_connection(({host!r}, {port}), timeout=5)"
    write(with_cell(probe), source / "prober")
    dask = run(source, config, tmp_path / "dask", ClusterSpec(scheduler=address), unit="grader.session:grade")
    run(source, config, tmp_path / "local", None, unit="grader.session:grade")
    assert dask.backend == "dask" and dask.graded == 2
    rows = comparable(tmp_path / "dask" / "gradebook.sqlite")
    assert rows == comparable(tmp_path / "local" / "gradebook.sqlite")
    prober = json.loads(next(r for r in rows if r[0] == "prober")[5])
    errors = [e for x in prober["exercises"] for e in x["cell_errors"]]
    assert errors and errors[0]["ename"] in ("PermissionError", "OSError", "ConnectionRefusedError"), errors
    assert "reached" in errors[0]["source"]  # the connecting line itself raised
    honest = json.loads(next(r for r in rows if r[0] == "honest")[5])
    assert next(x for x in honest["exercises"] if x["exercise_id"] == "02_dataset")["status"] == "graded"


@pytest.mark.slow
def test_a_killed_worker_leaves_no_zygote_or_kernel_behind(tmp_path: Path, real_cluster) -> None:
    from grader.bulk.run import DEFAULT_UNIT
    from grader.bulk.dask.payload import digest, pack, settings_of
    from grader.bulk.dask.worker import grade_task

    from .notebooks import with_cell, write

    config, _, client = real_cluster
    folder = tmp_path / "sleeper"
    write(with_cell("import time\ntime.sleep(120)"), folder)
    payload = pack(folder)
    future = client.submit(grade_task, payload, digest(payload), "sleeper", None, settings_of(config, DEFAULT_UNIT),
                           resources={NAME: 1}, pure=False)
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 180
    while True:  # until the kernel is in its sleeping cell: the worker's process tree is whole
        busy = [p for p in pids.values() if any("ipykernel" in _cmdline(c) or "zygote" in _cmdline(c)
                                                for c in descendants(p)) and _has_kernel(p)]
        if busy:
            break
        assert time.monotonic() < deadline, "no kernel started"
        time.sleep(0.5)
    worker = busy[0]
    tree = descendants(worker)
    assert len(tree) >= 2  # at least the zygote and the kernel forked from it
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(alive(p) for p in tree):
        assert time.monotonic() < deadline, [(p, _cmdline(p)) for p in tree if alive(p)]
        time.sleep(0.2)
    future.cancel()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _has_kernel(worker: int) -> bool:
    """A kernel forked from the zygote (its children) is running under this worker."""
    zygotes = [p for p in descendants(worker) if "grader.kernel.forkserver.zygote" in _cmdline(p)]
    return any(descendants(z) for z in zygotes)


class CommandLineCluster:
    """``dask scheduler`` and ``dask worker ... --preload grader.bulk.dask.worker`` as the README starts them."""

    def __init__(self, folder: Path, data_root: Path, workers: int = 2) -> None:
        self.folder, self.data_root, self.workers = folder, data_root, workers
        self.address_file = folder / "scheduler.json"
        self.processes: list[subprocess.Popen] = []

    def start(self) -> "CommandLineCluster":
        dask = Path(sys.executable).parent / "dask"
        self.address_file.unlink(missing_ok=True)
        self.scheduler = subprocess.Popen([str(dask), "scheduler", "--scheduler-file", str(self.address_file),
                                           "--no-dashboard", "--host", "127.0.0.1"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(self.scheduler)
        deadline = time.monotonic() + 60
        while not self.address_file.exists():
            assert time.monotonic() < deadline and self.scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.2)
        self.processes.append(subprocess.Popen(
            [str(dask), "worker", "--scheduler-file", str(self.address_file), "--nworkers", str(self.workers),
             "--local-directory", str(self.folder / "dask-scratch"),
             "--nthreads", "1", "--resources", f"{NAME}=1", "--no-dashboard",
             # The preload's own options take their values after "=".
             "--preload", "grader.bulk.dask.worker", f"--grader-course={ROOT / 'exercises'}",
             f"--grader-data-root={self.data_root}", f"--grader-work-dir={self.folder / 'workers'}"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        with distributed.Client(scheduler_file=str(self.address_file)) as client:
            client.wait_for_workers(self.workers, timeout=120)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            process.wait(30)
        self.processes.clear()


@pytest.mark.slow
def test_workers_started_as_the_readme_says_grade_a_class(cage_for_students, tmp_path: Path, fake_config) -> None:
    machines = CommandLineCluster(tmp_path, fake_config.data_root).start()
    try:
        source = make_class(tmp_path / "in", 6)
        summary = run(source, fake_config, tmp_path / "out", ClusterSpec(scheduler_file=machines.address_file))
        assert (summary.backend, summary.graded, summary.workers) == ("dask", 6, 2)
        run(source, fake_config, tmp_path / "local", None)
        assert comparable(tmp_path / "out" / "gradebook.sqlite") == comparable(tmp_path / "local" / "gradebook.sqlite")
    finally:
        machines.stop()


@pytest.mark.slow
def test_a_lost_scheduler_stops_the_run_and_the_same_command_resumes(cage_for_students, tmp_path: Path, fake_config,
                                                                     monkeypatch) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("GRADER_TEST_MARKS", str(marks))  # the workers, started below, inherit it
    source = make_class(tmp_path / "in", 12)
    book = tmp_path / "out" / "gradebook.sqlite"
    machines = CommandLineCluster(tmp_path, fake_config.data_root).start()
    try:
        stop = threading.Event()

        def kill_the_scheduler() -> None:
            while committed(book) < 3:
                if stop.wait(0.05):
                    return  # the run ended first (a failing test): nothing left to wait for
            machines.scheduler.kill()

        thread = threading.Thread(target=kill_the_scheduler, daemon=True)
        thread.start()
        spec = ClusterSpec(scheduler_file=machines.address_file, lost_after=3)
        try:
            with pytest.raises(ClusterError, match="lost the Dask scheduler"):
                run(source, fake_config, tmp_path / "out", spec, unit=MARKING)
        finally:
            stop.set()
            thread.join(timeout=30)
        done_before = committed(book)
        assert 3 <= done_before < 12
    finally:
        machines.stop()
    machines.start()
    try:
        resumed = run(source, fake_config, tmp_path / "out", ClusterSpec(scheduler_file=machines.address_file),
                      unit=MARKING)
    finally:
        machines.stop()
    assert resumed.graded == 12 - done_before
    run(source, fake_config, tmp_path / "clean", None)
    assert comparable(book) == comparable(tmp_path / "clean" / "gradebook.sqlite")


@pytest.mark.slow
def test_a_worker_where_no_cage_holds_refuses_to_start(fake_config) -> None:
    """On a locked-down runner (no bubblewrap, no user namespaces) the plugin refuses, unless told."""
    from .container import problem
    from .test_container import MACHINES, TOOL, shared_folder

    if problem() is not None:
        pytest.skip(problem())

    snippet = ("import sys\nfrom grader.bulk.dask.worker import GraderPlugin\n"
               "plugin = GraderPlugin('exercises', data_root=sys.argv[1], work_dir=sys.argv[2], "
               "allow_uncaged=sys.argv[3] == 'yes', kernel='fresh')\n"
               "try:\n    plugin.setup(None)\nexcept Exception as error:\n    print('REFUSED', error)\n"
               "else:\n    print('STARTED', plugin.cage)\n")
    folder = shared_folder()  # the simulated user's; pytest's folders are private to root
    outputs = {}
    for allow in ("no", "yes"):
        done = subprocess.run([sys.executable, str(TOOL), *MACHINES["locked"], "--", sys.executable, "-c", snippet,
                               str(fake_config.data_root), str(folder / allow), allow], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        outputs[allow] = done.stdout + done.stderr
    __import__("shutil").rmtree(folder, ignore_errors=True)
    assert "REFUSED" in outputs["no"] and "bubblewrap" in outputs["no"], outputs  # the reasons, per cage
    assert "STARTED none" in outputs["yes"], outputs
