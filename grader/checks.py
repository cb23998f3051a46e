"""The API a course's check files are written in.

A check is a pytest test decorated with :func:`check`, which gives it points and a bilingual
title. It receives the ``nb`` fixture (a :class:`grader.checking.remote.Notebook`) and asks the
student's side for observations with ``nb.run(probe, *args)``; a *probe* is a plain function
``probe(ns, *args)`` whose source is sent to the kernel, so it must import what it needs (``np``,
``torch``, ``math`` and ``random`` are provided) and hold no expected values. Expected values are
computed here, on the trusted side. A failed expectation calls :func:`fail` with a message and a
hint in both languages::

    @check(points=2, title=T("길이", "Length"))
    def test_len(nb, data_root):
        got = nb.run(probe_len, str(data_root))
        if got != 10000:
            fail(T("...", "`__len__` returned {got}; the test split has 10000 images").format(got=got),
                 hint=T("...", "Which batch files does the test split read?"))

A branch that recognises a particular mistake names it with ``why=`` (a few words in both
languages) and may pass what came back as ``observed=``: the class report groups students by
the mistakes their checks recognised.

Device-parametrised checks take a ``device`` argument: they run once with ``"cpu"`` and once
with ``"cuda"``, the latter "not run: no CUDA" where the kernel sees no GPU.

A hidden check that re-tests public checks on other inputs says which part re-tests which with
:func:`retests`, so that its failure costs exactly the public checks whose behaviour it caught
(``twins`` in the course manifest, :mod:`grader.checking.twins`)::

    with retests("test_split_sizes"):
        judge_split_sizes(case, answer)

Expected values that depend only on fixed inputs (seeds, shapes, the data set) are computed once
per grading process with :func:`reference` (:mod:`grader.checking.reference`), keyed by their arguments::

    @reference
    def expected_epoch(seed: int, data_root: Path) -> float:
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from grader.checking.reference import reference
from grader.checking.remote import PROBE_HELPERS
from grader.checking.wire import Opaque
from grader.i18n import T

__all__ = ["CheckFailed", "CheckMeta", "Opaque", "T", "check", "check_meta", "describe", "fail", "partial",
           "probe_uses", "reference", "retests"]

F = TypeVar("F", bound=Callable[..., Any])
_ATTRIBUTE = "__grader_check__"


@dataclass(frozen=True)
class CheckMeta:
    points: float
    title: T


class CheckFailed(AssertionError):
    """A check's verdict that the student's answer is wrong, with what to tell them."""

    def __init__(self, message: T, hint: T | None = None, *, why: T | None = None, observed: str | None = None,
                 retests: tuple[str, ...] = (), credit: float = 0.0) -> None:
        super().__init__(message.en)
        self.credit = credit  # the share of the check's points earned all the same (partial credit)
        self.message = message
        self.hint = hint
        self.why = why  # the mistake recognised, in a few words (for the class's mistake clusters)
        self.observed = observed  # a canonical form of what came back
        self.retests = tuple(retests)  # the public checks whose behaviour this failure shows broken


def check(*, points: float, title: T) -> Callable[[F], F]:
    """Mark a pytest test as a graded check worth ``points``."""
    if points < 0:
        raise ValueError("points must not be negative")

    def mark(function: F) -> F:
        setattr(function, _ATTRIBUTE, CheckMeta(points=float(points), title=title))
        return function

    return mark


def probe_uses(*helpers: Callable[..., Any] | type) -> Callable[[F], F]:
    """Send these module-level functions or classes into the kernel along with the probe.

    A probe runs from its source alone; helpers shared by several probes are declared here
    rather than copied into each one. Like the probe, a helper must only observe.
    """
    def mark(probe: F) -> F:
        setattr(probe, PROBE_HELPERS, helpers)
        return probe

    return mark


def check_meta(function: Callable[..., Any]) -> CheckMeta | None:
    return getattr(function, _ATTRIBUTE, None)


def fail(message: T, hint: T | None = None, *, why: T | None = None, observed: Any = None,
         retests: tuple[str, ...] = ()) -> NoReturn:
    """End the check as failed, telling the student what was expected and what came back.

    ``why``: the mistake this branch recognised, in a few words ("reads one batch only"); students
    who fail alike form one of the class's mistake clusters (:mod:`grader.insight`). ``observed``:
    what came back (a value, described with :func:`describe`), counted per cluster. Neither is
    shown to the student. ``retests``: in a judge shared by several checks, the public checks this
    branch's failure concerns (it refines an enclosing :func:`retests`).
    """
    __tracebackhide__ = True
    raise CheckFailed(message, hint, why=why, observed=None if observed is None else describe(observed),
                      retests=retests)


def partial(credit: float, message: T, hint: T | None = None, *, why: T | None = None, observed: Any = None,
            retests: tuple[str, ...] = ()) -> NoReturn:
    """End the check with part of its points: ``credit`` (between 0 and 1) is the share earned, and
    ``message`` tells the student which part is wrong, as :func:`fail` does::

        right = sum(abs(got - want) < 1e-6 for got, want in zip(answer, expected))
        if right < 3:
            partial(right / 3, T("...", "precision is right, recall and F1 are not"))

    Zero credit is :func:`fail`, full credit is no call at all. ``why``, ``observed`` and
    ``retests`` mean what they mean for :func:`fail`.
    """
    __tracebackhide__ = True
    if not 0.0 <= credit <= 1.0:
        raise ValueError(f"partial credit must lie between 0 and 1, not {credit!r}")
    raise CheckFailed(message, hint, why=why, observed=None if observed is None else describe(observed),
                      retests=retests, credit=credit)


@contextmanager
def retests(*public_checks: str) -> Iterator[None]:
    """In a hidden check: the part inside re-tests these public checks (by function name) on other
    inputs; a failure raised there is attributed to them, unless a branch inside named its own."""
    __tracebackhide__ = True
    try:
        yield
    except CheckFailed as failed:
        failed.retests = failed.retests or tuple(public_checks)
        raise


def describe(value: Any, limit: int = 80) -> str:
    """A short, safe description of a value that came back from the student's side."""
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        return f"tensor(shape={tuple(value.shape)}, dtype={value.dtype})"
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return f"numpy.{type(value).__name__}({value})"
    if type(value).__module__ == "numpy" and hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"ndarray(shape={tuple(value.shape)}, dtype={value.dtype})"
    if isinstance(value, Opaque):
        return f"<{value.type_name}>"
    if type(value).__module__.startswith("PIL."):
        return f"PIL.Image(mode={value.mode}, size={value.size})"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _torch() -> Any:
    import sys

    return sys.modules.get("torch")
