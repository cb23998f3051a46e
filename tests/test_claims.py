"""What graders on one machine share, and how they tell whether its owner is gone: pids cgroups
and kernel uids claimed with a lock every grader judges alike (grader.kernel.sandbox.claims), whatever
its /tmp or pid namespace; and a kernel that starts even when its cgroup is gone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.results import ExerciseStatus
from grader.kernel.sandbox import claims, limits

from .notebooks import of_cells

ROOT = Path(__file__).resolve().parent.parent
needs_cgroups = pytest.mark.skipif(os.geteuid() != 0 or not limits.pids_cgroups_work(),
                                   reason="needs root and a writable pids cgroup hierarchy")


def test_a_held_directory_is_not_abandoned_and_a_released_one_is(tmp_path: Path) -> None:
    path = tmp_path / "claim"
    held = claims.hold(path)
    assert held is not None and path.is_dir()
    assert claims.hold(path) is None  # another descriptor, as another process would open it
    assert claims.abandoned(path) is None
    os.close(held)  # its owner died: the kernel drops the lock
    taken = claims.abandoned(path)
    assert taken is not None
    claims.release(path, taken)
    assert not path.exists()


def test_a_claim_removed_before_it_was_locked_is_made_again(tmp_path: Path, monkeypatch) -> None:
    # A sweep that removes the directory between the owner's mkdir and its lock: the owner must
    # not hold a directory that is no longer under its name.
    path = tmp_path / "claim"
    real_open = claims._open
    swept = []

    def open_after_a_sweep(where: Path) -> int | None:
        if not swept:
            swept.append(True)
            fd = real_open(where)
            os.rmdir(where)
            return fd
        return real_open(where)

    monkeypatch.setattr(claims, "_open", open_after_a_sweep)
    held = claims.hold(path)
    assert held is not None and path.is_dir() and swept
    assert os.fstat(held).st_ino == path.stat().st_ino
    claims.release(path, held)


# A command run as another grader on this machine: its own pid namespace, its own /tmp.
_WITH_OWN_TMP = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--propagation", "private",
                 "sh", "-c", 'mount -t tmpfs grader-own-tmp /tmp && exec "$0" "$@"']
_GRADER = textwrap.dedent("""
    import subprocess, sys
    from grader.kernel.sandbox import limits
    rounds, missed = int(sys.argv[1]), []
    owner = limits.CgroupOwner()  # a grading process's own cgroup
    for round in range(rounds):
        group = owner.new(16)
        assert group is not None, "no cgroup could be made"
        limits.sweep_cgroups()  # as every new grading process does, while the other one works
        # A kernel joins its cgroup before anything else, as a fresh kernel's preexec does.
        seen = subprocess.run(["cat", "/proc/self/cgroup"], preexec_fn=lambda: limits.join_cgroup(group),
                              capture_output=True, text=True, check=True).stdout
        relative = group.split("/pids", 1)[1] if "/pids/" in group else group.split("/sys/fs/cgroup", 1)[1]
        if not any(line.endswith(relative) for line in seen.splitlines()):
            missed.append(round)
        limits.kill_cgroup(group)
    owner.close()
    print("MISSED", len(missed), "OF", rounds)
""")


@needs_cgroups
@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare (util-linux) for the graders' namespaces")
def test_two_graders_with_their_own_tmp_and_pid_namespace_never_remove_each_others_cgroups() -> None:
    """Each grader runs in a pid namespace and a mount namespace with a /tmp of its own, as a
    platform's container beside a grader on the host does. Both make cgroups, start processes
    in them and sweep, round after round: no process may find its cgroup gone."""
    rounds = 150
    command = [*_WITH_OWN_TMP, sys.executable, "-c", _GRADER, str(rounds)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    graders = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for _ in range(2)]
    try:
        outputs = [grader.communicate(timeout=300)[0] for grader in graders]
    finally:
        for grader in graders:
            grader.kill()
    for grader, output in zip(graders, outputs):
        assert grader.returncode == 0, output[-3000:]
        assert f"MISSED 0 OF {rounds}" in output, output[-3000:]


@needs_cgroups
def test_a_dead_graders_cgroups_are_swept_and_a_live_ones_kept() -> None:
    # A dead grader: its owner cgroup exists, nobody holds it, one empty kernel cgroup inside.
    base = Path(limits.shared_root())
    dead = base / "grader-o-deadbeef0000"
    (dead / "k-0123456789").mkdir(parents=True)
    # A live one in another process (another pid namespace would do the same: the lock is the proof).
    live = subprocess.Popen([sys.executable, "-c", "import sys\nfrom grader.kernel.sandbox import limits\n"
                             "owner = limits.CgroupOwner()\nprint(owner.new(8), flush=True)\nsys.stdin.read()\n"
                             "owner.close()"],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        group = Path(live.stdout.readline().strip())
        limits.sweep_cgroups()
        assert not dead.exists()
        assert group.is_dir() and group.parent.is_dir()
    finally:
        live.communicate("", timeout=30)
        shutil.rmtree(dead, ignore_errors=True) if dead.exists() else None
    assert not group.parent.exists()  # its owner removed it on the way out


@needs_cgroups
@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["fresh", "forkserver"])
def test_a_kernel_whose_cgroup_is_removed_as_it_starts_still_runs_and_says_so(make_config, monkeypatch,
                                                                              kernel: str, running) -> None:
    made = limits.CgroupOwner.new

    def removed_at_once(self, limit: int) -> str | None:
        group = made(self, limit)
        os.rmdir(group)  # another process removed it before the kernel could join
        return group

    monkeypatch.setattr(limits.CgroupOwner, "new", removed_at_once)
    config = make_config(sandbox="auto", kernel=kernel)
    with running(of_cells("answer = 6 * 7"), config) as (run, backend):
        assert backend.run(_answer) == 42
    assert run.status is ExerciseStatus.GRADED
    assert run.kernel["pids_cgroup"] is False and "processes" in run.kernel["gaps"]
    assert any("removed before the kernel could join it" in problem.en for problem in run.problems), run.problems


def _answer(ns):
    return ns["answer"]


@needs_cgroups
@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare (util-linux) for the second grader's namespaces")
def test_a_kernel_uid_leased_here_is_not_leased_by_a_grader_with_another_tmp() -> None:
    from grader.kernel.sandbox import container

    uid, lease = container.lease_uid(65200)
    where = limits.shared_root() / f"grader-uid-{uid}"
    try:
        assert where.is_dir() and claims.abandoned(where) is None  # held where the whole machine sees it
        lease_next = ("from grader.kernel.sandbox import container\nuid, lease = container.lease_uid(65200)\nprint(uid)\n"
                      "container.end(uid, lease)")
        other = subprocess.run([*_WITH_OWN_TMP, sys.executable, "-c", lease_next], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               capture_output=True, text=True, timeout=120)
        assert other.returncode == 0 and int(other.stdout) == uid - 1, other.stdout + other.stderr
    finally:
        container.end(uid, lease)
    assert not where.exists()
