"""Where a bulk run's submissions are graded, behind one interface (as httpx's transports are):
a pool of worker processes on this machine (:mod:`.local`) or Dask workers (:mod:`.dask`).

A back end is made before the gradebook is touched, and refuses there (no cage for kernels, no
cluster to reach), so that a run that cannot grade writes nothing. It reports each submission's
outcome to the coordinator, which alone writes the gradebook.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from grader.intake.submissions import Entry

__all__ = ["Backend", "Outcome", "load_unit"]

# What became of one submission: (its entry, its result as a dict or None, why there is none).
Outcome = Callable[[Entry, "dict[str, Any] | None", "str | None"], None]


def load_unit(spec: str) -> Callable[..., Any]:
    """The unit of work a ``module:function`` spec names: ``unit(session, path, *, submission_id)``
    returns a :class:`~grader.results.SubmissionResult` (:func:`grader.session.grade`; tests use fakes)."""
    module, _, name = spec.partition(":")
    unit: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return unit


class Backend(ABC):
    """Grades submissions somewhere and says what became of each."""

    name: str = ""
    workers: int = 0  # worker processes that graded in this run
    peak_rss_kb: int = 0  # the largest peak resident memory one of them reported

    @abstractmethod
    def grade(self, entries: Iterable[Entry | None], outcome: Outcome) -> None:
        """Grade every entry ``entries`` yields; ``outcome`` is called once per entry, in this
        thread. A ``None`` from ``entries`` means nothing to grade right now: ask again shortly."""

    def close(self) -> None:  # noqa: B027 - optional: a back end that started nothing has nothing to stop
        """Stop what the back end started (worker processes, a local cluster, a connection)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
