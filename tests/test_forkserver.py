"""The fork server: forked kernels behave as fresh ones, stay isolated, and the zygote is robust."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from grader.config import GradeConfig, Limits
from grader.kernel.forkserver import PROVISIONER_NAME, client
from grader.kernel.host import KernelHost
from grader.kernel.pool import KernelPool
from grader.kernel.forkserver.process import ForkedProcess
from grader.kernel.managers import new_kernel_manager, runtime_dir
from grader.kernel.sandbox import kernel_env

from .notebooks import of_cells

slow = pytest.mark.slow  # every test here but the first few starts real kernels


@pytest.fixture(autouse=True)
def no_sandbox(monkeypatch):
    """These tests are about the fork server's mechanics, with no cage around the kernel.

    Where the sandbox is bubblewrap, kernels start fresh inside it (the zygote is not wrapped);
    as root without it, they get a uid of their own, which cannot read a Python under /root.
    The sandbox's own tests cover the cage.
    """
    from grader.kernel import sandbox

    monkeypatch.setattr(sandbox, "plan", lambda config: sandbox.Sandbox("none"))


# Fast: no kernel.
def test_only_this_interpreters_ipykernel_can_be_forked() -> None:
    from grader.kernel.forkserver.provisioner import kernel_arguments

    assert kernel_arguments([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]
    for cmd in (["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "c.json"],
                ["bwrap", "--", sys.executable, "-m", "ipykernel_launcher"], [sys.executable, "-c", "pass"]):
        with pytest.raises(client.ForkServerError):
            kernel_arguments(cmd)


def test_zygotes_are_keyed_by_what_is_read_at_interpreter_start() -> None:
    env = {"PATH": "/usr/bin", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "HOME": "/tmp/a", "SECRET": "x"}
    kept = client.ForkServer.zygote_env(env)
    assert kept["PYTHONHASHSEED"] == "0" and kept["OMP_NUM_THREADS"] == "1"
    assert "HOME" not in kept and "SECRET" not in kept  # per-kernel: applied in the child instead
    assert client.ForkServer.zygote_env({**env, "HOME": "/tmp/b"}) == kept


def test_the_zygote_command_takes_a_prefix() -> None:
    assert client.zygote_command(7, ["bwrap", "--"]) == [
        "bwrap", "--", sys.executable, "-m", "grader.kernel.forkserver.zygote", "--fd", "7"]


def test_every_forkserver_module_has_a_sorted_resolvable_all() -> None:
    import importlib

    for name in ("channel", "child", "client", "process", "provisioner", "zygote"):
        module = importlib.import_module(f"grader.kernel.forkserver.{name}")
        assert module.__all__ == sorted(module.__all__), name
        assert all(getattr(module, member) is not None for member in module.__all__)


@pytest.fixture
def forked(make_config) -> GradeConfig:
    return make_config(kernel="forkserver", limits=Limits(cell_timeout=20, notebook_timeout=60))


@pytest.fixture(scope="module")
def host():
    """This module's own host: its tests kill, stop and replace zygotes."""
    with KernelHost() as made:
        yield made


@pytest.fixture
def running(host):
    """``with running(notebook, config) as (execution, nb)``: one notebook in a kernel from ``host``."""

    @contextlib.contextmanager
    def run(notebook, config):
        with KernelPool(config, host) as pool, pool.running(notebook) as outcome:
            yield outcome

    return run


# Probes: their source runs in the kernel (see grader.checking.remote); they only observe.
def executable_probe(ns):
    import sys

    return sys.executable


# What a notebook observes, in a cell of its own (probes run with their RNGs isolated).
STATE_CELL = textwrap.dedent("""
    import builtins, math, os, random
    import numpy, torch
    state = {
        "pi": math.pi,
        "leaked_global": hasattr(builtins, "LEAKED_FROM_A"),
        "leaked_name": "secret" in globals(),
        "env": os.environ.get("LEAKED_VAR"),
        "threads": torch.get_num_threads(),
        "torch_seed": torch.initial_seed(),
        "torch_draw": float(torch.rand(1)),
        "numpy_draw": float(numpy.random.rand()),
        "random_draw": random.random(),
        "cwd": os.getcwd(),
    }
""")


def namespace_probe(ns, name):
    return ns[name]


def channel_probe(ns):
    import os
    import socket

    kinds = []
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        kinds.append((int(sock.family), int(sock.type)))
        sock.close()
    return kinds


def identity_probe(ns):
    import os

    return [os.getpid(), os.getppid(), os.getpgid(0)]


@slow
@pytest.mark.parametrize("kernel", ["forkserver", "fresh"], ids=["forkserver", "fresh"])
def test_kernel_runs_the_graders_interpreter(make_config, kernel, running) -> None:
    with running(of_cells("x = 1"), make_config(kernel=kernel)) as (execution, nb):
        assert not execution.cell_errors
        assert nb.run(executable_probe) == sys.executable


@slow
def test_nothing_set_in_one_notebook_reaches_the_next(forked, running) -> None:
    first = of_cells(textwrap.dedent("""
        import builtins, math, os, random
        import numpy, torch
        math.pi = 3                      # a monkeypatch of a module
        builtins.LEAKED_FROM_A = True    # a global visible everywhere
        secret = 42                      # a name in the namespace
        os.environ["LEAKED_VAR"] = "1"   # an environment variable
        torch.set_num_threads(2)         # a thread setting
        torch.manual_seed(123); numpy.random.seed(123); random.seed(123)
    """), STATE_CELL)
    with running(first, forked) as (execution, nb):
        assert not execution.cell_errors, execution.cell_errors
        polluted = nb.run(namespace_probe, "state")
    assert (polluted["pi"], polluted["threads"], polluted["torch_seed"]) == (3, 2, 123)

    states = []
    for _ in range(2):
        with running(of_cells(STATE_CELL), forked) as (execution, nb):
            assert not execution.cell_errors, execution.cell_errors
            states.append(nb.run(namespace_probe, "state"))
    import math
    for state in states:
        assert state["pi"] == math.pi
        assert not state["leaked_global"] and not state["leaked_name"]
        assert state["env"] is None
        assert state["threads"] == 1  # kernel_env asks for one thread per kernel
        assert state["torch_seed"] != 123
    # Each child is reseeded: two forks of one zygote do not draw the same numbers.
    for key in ("torch_seed", "torch_draw", "numpy_draw", "random_draw"):
        assert states[0][key] != states[1][key], key
    assert states[0]["cwd"] != states[1]["cwd"]  # a scratch folder each


@slow
def test_a_kernel_holds_no_channel_to_the_zygote(forked, running) -> None:
    import socket

    with running(of_cells("x = 1"), forked) as (_, nb):
        kinds = nb.run(channel_probe)
    assert kinds, "the kernel's own zmq sockets should be seen"
    assert (int(socket.AF_UNIX), int(socket.SOCK_SEQPACKET)) not in [tuple(k) for k in kinds]


@slow
def test_a_cell_over_its_time_is_interrupted_and_the_kernel_goes_on(make_config, running) -> None:
    config = make_config(kernel="forkserver", limits=Limits(cell_timeout=2, notebook_timeout=60))
    with running(of_cells("import time\ntime.sleep(30)", "after = 7"), config) as (execution, nb):
        (error,) = execution.cell_errors
        assert error.kind == "timeout"
        assert not execution.kernel_wedged
        assert nb.run(namespace_probe, "after") == 7


@slow
def test_a_kernel_that_exits_is_a_dead_kernel_with_its_exit_status(forked, running) -> None:
    with running(of_cells("x = 1", "import os\nos._exit(3)", "y = 2"), forked) as (execution, _):
        assert execution.status.value == "kernel_died"


def _manager(config: GradeConfig, tmp_path: Path, server: client.ForkServer):
    km = new_kernel_manager(runtime_dir(), provisioner=PROVISIONER_NAME, provisioner_config={"fork_server": server})
    run_sync(km.start_kernel)(env=kernel_env(config, tmp_path), cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    run_sync(kc.wait_for_ready)(timeout=60)
    return km, kc


def _execute(kc, code: str, timeout: float = 20) -> dict:
    return run_sync(kc.execute_interactive)(code, timeout=timeout)


@slow
def test_interrupt_restart_and_kill_work_as_with_a_fresh_kernel(forked, tmp_path, host) -> None:
    km, kc = _manager(forked, tmp_path, host.fork_server)
    try:
        process = km.provisioner.process
        assert isinstance(process, ForkedProcess)
        assert run_sync(km.is_alive)() and process.poll() is None
        assert os.getpgid(process.pid) == process.pid  # its own group, like a Popen kernel's

        msg_id = kc.execute("import time\ntime.sleep(60)")
        time.sleep(0.5)
        started = time.monotonic()
        run_sync(km.interrupt_kernel)()
        reply = run_sync(kc._async_get_shell_msg)(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - started < 5

        _execute(kc, "kept = 1")
        run_sync(km.restart_kernel)(now=True)
        restarted = km.provisioner.process
        assert restarted.pid != process.pid and process.poll() is not None
        run_sync(kc.wait_for_ready)(timeout=60)
        reply = _execute(kc, "kept")
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "NameError"

        run_sync(km.shutdown_kernel)(now=True)
        assert not run_sync(km.is_alive)()
        assert restarted.returncode == -signal.SIGKILL
        assert restarted.cpu_s is not None and 0 < restarted.cpu_s < 10
    finally:
        kc.stop_channels()
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)


@slow
def test_a_killed_zygote_is_replaced_and_its_kernels_live_on(forked, tmp_path, running, host) -> None:
    km, kc = _manager(forked, tmp_path, host.fork_server)
    try:
        server = host.fork_server
        zygote = _zygote_of(km, host.fork_server)
        restarts = server.restarts
        os.kill(zygote.process.pid, signal.SIGKILL)
        zygote.process.wait(10)
        assert _execute(kc, "1 + 1")["content"]["status"] == "ok"  # still alive
        with running(of_cells("z = 5"), forked) as (execution, nb):
            assert nb.run(namespace_probe, "z") == 5
        assert server.restarts == restarts + 1
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)


@slow
def test_a_zygote_stopped_by_a_kernel_is_resumed(forked, running, host) -> None:
    # A kernel shares its zygote's uid (and, in bubblewrap, its pid namespace): SIGSTOP reaches it.
    with running(of_cells("import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)"), forked) as (run, _):
        assert run.status.value == "graded" and not run.cell_errors
    restarts = host.fork_server.restarts
    with running(of_cells("z = 5"), forked) as (execution, nb):
        assert nb.run(namespace_probe, "z") == 5  # not "the fork server did not answer"
    assert host.fork_server.restarts == restarts  # the same zygote, resumed


@slow
def test_a_changed_environment_restarts_the_zygote(forked, monkeypatch, running) -> None:
    with running(of_cells("x = 1"), forked) as (_, nb):
        first = nb.run(identity_probe)
    monkeypatch.setattr(client, "environment_stamp", lambda: ("changed",))
    with running(of_cells("x = 1"), forked) as (_, nb):
        second = nb.run(identity_probe)
    assert first[1] != second[1], "the kernel's parent (the zygote) should be a new process"


@slow
def test_orphaned_workers_are_reaped_by_the_zygote(forked, tmp_path, host) -> None:
    km, kc = _manager(forked, tmp_path, host.fork_server)
    try:
        # A worker that left the kernel's process group: killing the group does not reach it.
        reply = _execute(kc, "import subprocess\nw = subprocess.Popen(['sleep', '120'], start_new_session=True)")
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
    worker = _worker_pid(km)
    zygote = _zygote_of(km, host.fork_server)
    run_sync(km.shutdown_kernel)(now=True)
    deadline = time.monotonic() + 5
    while _ppid(worker) != zygote.process.pid and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ppid(worker) == zygote.process.pid, "the orphan should be reparented to the zygote"
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{worker}"), "the orphan was left a zombie"


def _zygote_of(km, server: client.ForkServer):
    # The zygote that forked this kernel (other tests may have left sandboxed zygotes alive).
    parent = _ppid(km.provisioner.process.pid)
    return next(z for z in server.zygotes.values() if z.alive() and z.process.pid == parent)


def _worker_pid(km) -> int:
    # The kernel's children that run `sleep 120`, found from /proc (no psutil).
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline[:2] == [b"sleep", b"120"] and _ppid(int(entry)) == km.provisioner.process.pid:
                return int(entry)
    raise AssertionError("the worker process was not found")


def _ppid(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


GRADER_THAT_DIES = """
import os, sys, time
from pathlib import Path
from jupyter_core.utils import run_sync
from grader.kernel.forkserver import PROVISIONER_NAME
from grader.kernel.forkserver.client import ForkServer
from grader.kernel.managers import new_kernel_manager, runtime_dir
server = ForkServer()
km = new_kernel_manager(runtime_dir(), provisioner=PROVISIONER_NAME, provisioner_config={"fork_server": server})
run_sync(km.start_kernel)(env={"PATH": os.environ["PATH"], "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}, cwd=sys.argv[1])
zygote = next(iter(server.zygotes.values()))
print(zygote.process.pid, km.provisioner.process.pid, flush=True)
time.sleep(600)
"""


@slow
def test_the_zygote_and_its_kernels_die_with_the_grader(tmp_path) -> None:
    grader = subprocess.Popen([sys.executable, "-c", GRADER_THAT_DIES, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        zygote_pid, kernel_pid = map(int, grader.stdout.readline().split())
        assert os.path.exists(f"/proc/{zygote_pid}") and os.path.exists(f"/proc/{kernel_pid}")
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 10
    while (_alive(zygote_pid) or _alive(kernel_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(zygote_pid), "the zygote outlived the grader"
    assert not _alive(kernel_pid), "the kernel outlived the grader"


def _alive(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]


@slow
def test_the_zygote_imports_without_starting_a_thread(forked, running, host) -> None:
    with running(of_cells("x = 1"), forked):
        zygote = next(z for z in host.fork_server.zygotes.values() if z.alive())
    assert zygote.info["threads"] == 1
    assert zygote.info["import_s"] > 0


@slow
def test_per_kernel_setup_is_applied_in_the_child(forked, tmp_path, host) -> None:
    """The sandbox's hook: rlimits and calls, applied in the forked child before ipykernel."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    km = new_kernel_manager(runtime_dir(), provisioner=PROVISIONER_NAME,
                            provisioner_config={"fork_server": host.fork_server})
    setup = {"rlimits": {"RLIMIT_NOFILE": [200, 200]}, "calls": [["os:chdir", {"path": str(elsewhere)}]]}
    run_sync(km.start_kernel)(env=kernel_env(forked, tmp_path), cwd=str(tmp_path), child_setup=setup)
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        reply = _execute(kc, "import os, resource\nraise SystemExit(repr((os.getcwd(), resource.getrlimit(resource.RLIMIT_NOFILE))))")
        assert reply["content"]["evalue"] == repr((str(elsewhere), (200, 200)))
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)
