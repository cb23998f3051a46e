"""What ``grader bulk`` is told about a cluster; importing this costs no Dask."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

__all__ = ["ClusterError", "ClusterSpec", "parse_local"]


class ClusterError(GraderError):
    """No usable cluster: no scheduler, no grading worker, or workers that grade differently."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where ``grader bulk`` sends its submissions instead of a local pool."""

    scheduler: str | None = None  # tcp://HOST:8786 or tls://HOST:8786
    scheduler_file: Path | None = None
    local: int = 0  # --cluster local:N: a LocalCluster of N worker processes, in-process
    timeout: float = 10.0  # seconds to reach the scheduler
    lost_after: float = 30.0  # seconds without the scheduler before the run stops (the same command resumes)

    def describe(self) -> str:
        if self.local:
            return f"local:{self.local}"
        return str(self.scheduler or self.scheduler_file)


def parse_local(text: str) -> int:
    """``local:N`` → N (the only cluster ``--cluster`` starts itself)."""
    kind, _, count = text.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise ValueError(f"--cluster {text!r}: expected local:N with N ≥ 1 (e.g. local:4)")
    return int(count)
