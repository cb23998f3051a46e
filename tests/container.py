"""Run a command on a simulated machine where bubblewrap cannot run, for the project's own tests.

    python tests/container.py [--user UID] [--no-bwrap] [--filter docker|none] [--closed-python] -- COMMAND...

By default the machine is a Docker container as the grader meets it in Docker, Gradescope or
PrairieLearn: the command runs as root with Docker's default capabilities only, under a syscall
filter like Docker's default profile (no ``unshare``, ``setns``, ``mount`` or the namespace flags
of ``clone``; ``clone3`` answers ``ENOSYS``, so libc falls back to ``clone``), so bubblewrap
fails there. ``--user UID`` runs it as that non-root user instead; with ``--no-bwrap`` and
``--filter none`` that is a laptop without bubblewrap, with ``--filter docker`` a locked-down CI
runner where not even a user namespace can be made.

Whatever the machine, the command also runs:

- in a pid namespace of its own, which dies with this tool: a cage that fails there takes down
  the command, not the machine that runs the tests;
- in a mount namespace of its own laid out as a container image is: the project folder is an
  overlay (what the command changes there, ``chmod`` included, stays inside), the folders above
  the interpreter are open to every user (as in an image whose Python lives in ``/usr/local``;
  with ``--closed-python`` they keep their modes, as in an image whose Python lives under
  ``/root``, where no kernel uid can read it and container mode cannot hold a kernel), and the
  cgroup file system is not there (as in a container without a writable one).

It needs root on the machine that runs the tests (for the namespaces); it is a test tool, never
part of the grader.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Docker's default capability set (moby's oci/caps/defaults.go).
DOCKER_CAPS = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
               "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")
_NO_NAMESPACES = ("unshare", "setns", "mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen",
                  "fsmount", "fspick", "mount_setattr")
_CLONE_NEW = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


def problem() -> str | None:
    """Why machines cannot be simulated here (the tests that need them skip with it), or None."""
    if os.geteuid() != 0:
        return "simulating a machine needs root, for its namespaces"
    missing = [tool for tool in ("unshare", "setpriv") if not shutil.which(tool)]
    if missing:
        return f"simulating a machine needs {' and '.join(missing)} (util-linux)"
    trial = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--propagation", "private", "true"],
                           capture_output=True, text=True, check=False)
    if trial.returncode != 0:  # inside a container itself: its filter refuses new namespaces
        return f"this machine cannot make the namespaces a simulated one needs: {trial.stderr.strip()[:200]}"
    return None


def _docker_filter() -> None:
    """Load a filter that refuses what Docker's default profile refuses without CAP_SYS_ADMIN."""
    import errno

    import pyseccomp as sc

    rules = sc.SyscallFilter(sc.ALLOW)
    for name in _NO_NAMESPACES:
        rules.add_rule(sc.ERRNO(errno.EPERM), name)
    for flag in _CLONE_NEW:
        rules.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    rules.load()


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def _open_to_everyone(folder: Path, layers: Path) -> None:
    """Show ``folder`` with its mode opened to every user, its content unchanged: an overlay
    whose upper layer's root carries the new mode."""
    upper, work = layers / f"upper{len(list(layers.iterdir()))}", layers / f"work{len(list(layers.iterdir()))}"
    upper.mkdir()
    work.mkdir()
    os.chmod(upper, os.stat(folder).st_mode & 0o7777 | 0o711)
    _mount("-t", "overlay", "overlay", "-o", f"lowerdir={folder},upperdir={upper},workdir={work}", str(folder))


def _image(layers: Path, *, hide_bwrap: bool, closed_python: bool) -> None:
    """Lay the mount namespace out as a container image (see the module docstring)."""
    _mount("-t", "tmpfs", "-o", "mode=0711", "image-layers", str(layers))
    python = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    needed = {PROJECT} if closed_python else {*python, PROJECT}
    closed = sorted({p for n in needed for p in [n, *n.parents] if not os.stat(p).st_mode & 0o001},
                    key=lambda p: len(p.parts))
    for folder in closed:
        _open_to_everyone(folder, layers)
    if PROJECT not in closed:
        _open_to_everyone(PROJECT, layers)  # an overlay all the same: nothing done inside leaks out
    _mount("-t", "tmpfs", "-o", "mode=0755", "no-cgroups", "/sys/fs/cgroup")
    bwrap = shutil.which("bwrap")
    if hide_bwrap and bwrap:
        _mount("--bind", "/dev/null", bwrap)  # not executable: as if it were not installed


def _inside(args: argparse.Namespace) -> None:
    layers = Path(args.layers)
    _image(layers, hide_bwrap=args.no_bwrap, closed_python=args.closed_python)
    if args.filter == "docker":
        _docker_filter()  # loaded while still privileged: no need for no_new_privs
    env = dict(os.environ)
    if args.user:
        home = layers / "home"
        home.mkdir(mode=0o700)
        os.chown(home, args.user, args.user)
        env.update(HOME=str(home), USER=f"uid{args.user}", LOGNAME=f"uid{args.user}")
        who = ["--reuid", str(args.user), "--regid", str(args.user), "--clear-groups"]
    else:
        who = ["--bounding-set", "-all," + ",".join(f"+{cap}" for cap in DOCKER_CAPS), "--inh-caps", "-all"]
    command = ["setpriv", *who, "--", *args.command]
    sys.exit(subprocess.run(command, env=env, check=False).returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", type=int, default=0, help="run as this non-root uid instead of root")
    parser.add_argument("--no-bwrap", action="store_true", help="as if bubblewrap were not installed")
    parser.add_argument("--filter", choices=["docker", "none"], default=None,
                        help="the syscall filter (default: docker as root, none as another user)")
    parser.add_argument("--closed-python", action="store_true",
                        help="leave the folders above the interpreter closed to other users")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--layers", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    if args.filter is None:
        args.filter = "none" if args.user else "docker"
    if args.inside:
        _inside(args)
        return
    if os.geteuid() != 0:
        sys.exit("tests/container.py needs root to make the container's namespaces")
    layers = tempfile.mkdtemp(prefix="grader-image-")  # a mount point: its tmpfs lives in the namespace only
    options = [f"--user={args.user}", f"--filter={args.filter}", f"--layers={layers}",
               *(["--no-bwrap"] if args.no_bwrap else []), *(["--closed-python"] if args.closed_python else [])]
    stage2 = [sys.executable, __file__, "--inside", *options, "--", *args.command]
    try:
        done = subprocess.run(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--mount",
                               "--propagation", "private", *stage2], check=False)
    finally:
        os.rmdir(layers)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
