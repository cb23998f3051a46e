"""The kernel's side of a check: run one probe against the student's namespace, answer as data.

This module is imported *inside the student's kernel* (and, for the in-notebook self-check, in
the student's own process). It runs a probe function sent by a check, seeds the random number
generators for it and restores them afterwards, and leaves the wire-encoded answer in ``LAST``
for the trusted side to read. Nothing here is trusted: the grader treats ``LAST`` as an
observation to validate, never as a verdict.
"""

from __future__ import annotations

import random
import sys
import traceback
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from . import wire

__all__ = ["LAST", "MISSING_NAME", "NameMissing", "Namespace", "REPLY", "REQUEST", "call", "define", "install",
           "manual_seed", "run_source", "seeded_rngs"]

LAST = ""
REQUEST, REPLY = "grader_probe_request", "grader_probe_reply"
PROBE_SEED = 0
MISSING_NAME = "missing"


class NameMissing(Exception):
    """Raised by :class:`Namespace` for a name the student has not defined."""


class Namespace:
    """Read access to the student's globals that says clearly when a name is missing."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            raise NameMissing(name)
        return self._values[name]

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)


def _cuda(torch: Any) -> Any:
    """torch.cuda where the student's code has already started CUDA; else None.

    Only then are its generators seeded and restored: ``torch.manual_seed`` would queue a lazy
    CUDA seeding (with a formatted stack) on every probe call of a CPU-only notebook.
    """
    cuda = getattr(torch, "cuda", None)
    return cuda if cuda is not None and cuda.is_initialized() else None


def _rng_state() -> tuple[Any, ...]:
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    cuda = _cuda(torch) if torch else None
    return (
        random.getstate(),
        numpy.random.get_state() if numpy else None,
        torch.random.get_rng_state() if torch else None,
        cuda.get_rng_state_all() if cuda else None,
    )


@contextmanager
def seeded_rngs(seed: int = PROBE_SEED) -> Iterator[None]:
    """random, numpy and torch (CPU, and CUDA once started) seeded for the block, then restored.

    Used for each probe here and for each check on the trusted side (grader.plugin).
    """
    state = _rng_state()
    try:
        random.seed(seed)
        if state[1] is not None:
            sys.modules["numpy"].random.seed(seed)
        if state[2] is not None:
            sys.modules["torch"].random.default_generator.manual_seed(seed)
        if state[3] is not None:
            sys.modules["torch"].cuda.manual_seed_all(seed)
        yield
    finally:
        random.setstate(state[0])
        if state[1] is not None:
            sys.modules["numpy"].random.set_state(state[1])
        if state[2] is not None:
            sys.modules["torch"].random.set_rng_state(state[2])
        if state[3] is not None:
            sys.modules["torch"].cuda.set_rng_state_all(state[3])


def manual_seed(seed: int, *, cuda: bool = False) -> None:
    """``torch.manual_seed`` for a probe (or the check running it as a reference): CUDA's generators
    too once CUDA has started or when the probe is about to use it (``cuda``), else the CPU's alone,
    without the lazy CUDA seeding (and its formatted stack, milliseconds) that would be queued."""
    torch = sys.modules["torch"]
    if cuda or _cuda(torch) is not None:
        torch.manual_seed(seed)
    else:
        torch.random.default_generator.manual_seed(seed)


def call(probe: Callable[..., Any], user_ns: dict[str, Any], args_json: str) -> str:
    """Run ``probe(ns, *args)``; return the wire-encoded envelope (also kept in ``LAST``)."""
    global LAST
    try:
        with seeded_rngs():
            args = wire.decode(args_json)
            envelope = {"kind": "value", "value": probe(Namespace(user_ns), *args)}
    except NameMissing as exc:
        envelope = {"kind": MISSING_NAME, "name": str(exc.args[0] if exc.args else "")}
    except KeyboardInterrupt:
        raise  # the grader's interrupt on timeout: let the kernel report it
    except BaseException as exc:  # noqa: BLE001 - SystemExit in student code is an answer too
        envelope = {
            "kind": "raised",
            "ename": type(exc).__name__,
            "evalue": str(exc)[:2000],
            "traceback": "".join(traceback.format_exception(exc))[-8000:],
        }
    try:
        LAST = wire.encode(envelope)
    except Exception as exc:  # noqa: BLE001 - e.g. too deep: report it as the student's value
        LAST = wire.encode({"kind": "raised", "ename": "UnencodableValue", "evalue": str(exc)[:500]})
    return LAST


def define(source: str, name: str) -> Callable[..., Any]:
    """The probe function defined from its source, in a scope of its own."""
    scope: dict[str, Any] = {"__name__": "grader_probe", "math": __import__("math"), "random": random}
    # Probes may use the libraries a notebook of the course has loaded, without importing them.
    for alias, module in (("np", "numpy"), ("torch", "torch")):
        if module in sys.modules:
            scope[alias] = sys.modules[module]
    exec(compile(source, "<grader probe>", "exec"), scope)  # noqa: S102 - source from the trusted side
    return scope[name]


def run_source(source: str, name: str, args_json: str) -> None:
    """Define the probe from its source and call it on the running IPython's namespace."""
    shell = sys.modules["IPython"].get_ipython()
    call(define(source, name), shell.user_ns, args_json)


def install() -> bool:
    """Answer ``grader_probe_request`` messages on the kernel's shell channel from now on.

    A probe sent as an execute request costs ~5 ms a call (IPython's cell machinery, output
    flushes, the answer formatted as an expression); as a message of its own, ~2.5 ms. The reply
    carries ``LAST`` as a string. Whether it worked is the return value, read by the grader.
    """
    shell = sys.modules["IPython"].get_ipython()
    kernel = getattr(shell, "kernel", None)
    handlers = getattr(kernel, "shell_handlers", None)
    if kernel is None or not isinstance(handlers, dict):
        return False

    def handle(stream: Any, ident: Any, parent: dict[str, Any]) -> None:
        content = parent.get("content") or {}
        try:
            run_source(str(content.get("source")), str(content.get("name")), str(content.get("args")))
            reply = {"status": "ok", "answer": LAST}
        except KeyboardInterrupt:  # the grader's interrupt on timeout: it waits for this reply
            reply = {"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}
        except BaseException as exc:  # noqa: BLE001 - the runtime itself broken by student code
            reply = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc)[:2000]}
        kernel.session.send(stream, REPLY, reply, parent, ident)

    handlers[REQUEST] = handle
    return True
