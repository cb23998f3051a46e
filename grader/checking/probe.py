"""The kernel's side of a check: run one probe against the student's namespace, answer as data.

This module is imported *inside the student's kernel* (and, for the in-notebook self-check, in
the student's own process). It runs a probe function sent by a check, seeds the random number
generators for it and restores them afterwards, and leaves the wire-encoded answer in ``LAST``
for the trusted side to read. Nothing here is trusted: the grader treats ``LAST`` as an
observation to validate, never as a verdict.
"""

from __future__ import annotations

import base64
import importlib.util
import marshal
import random
import sys
import traceback
from collections.abc import Callable
from typing import Any

from grader.checking import seeds, wire
from grader.checking.seeds import seeded_rngs

__all__ = ["LAST", "MISSING_NAME", "NameMissing", "Namespace", "REPLY", "REQUEST", "SERVING", "bind_ahead", "call",
           "define", "ipc_endpoint", "pack_code", "run_source", "serve"]

LAST = ""
# On the probe server's socket (serve): that it serves; a probe and its answer.
SERVING, REQUEST, REPLY = "grader_probe_serving", "grader_probe_request", "grader_probe_reply"
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


# A probe's source -> its compiled code: compiling cost ~0.3 ms a probe, as much as the round
# trip, and a notebook's checks send a few dozen distinct sources seventy times. Only the code is
# kept: each call still runs it in a fresh scope, so nothing a probe leaves there carries over.
# The probe server is sent the code compiled already (pack_code), once per grading process: a
# kernel starts with none of it, and compiling a notebook's sources cost ~10 ms a submission.
_COMPILED: dict[str, Any] = {}
MAX_COMPILED = 256


def _compile(source: str) -> Any:
    return compile(source, "<grader probe>", "exec")


def pack_code(source: str) -> str:
    """``source`` compiled, marshalled for a kernel of this interpreter (base64, after its bytecode
    magic: a kernel of another Python compiles the source itself)."""
    return base64.b64encode(importlib.util.MAGIC_NUMBER + marshal.dumps(_compile(source))).decode("ascii")


def _unpack_code(packed: str) -> Any:
    raw = base64.b64decode(packed)
    magic = importlib.util.MAGIC_NUMBER
    return marshal.loads(raw[len(magic):]) if raw[:len(magic)] == magic else None


def _adopt(source: str, packed: Any) -> None:
    """Keep the code the grader sent compiled for ``source``, unless it is kept already or unreadable
    here (another Python's): ``define`` then compiles the source."""
    if source not in _COMPILED and isinstance(packed, str):
        code = _unpack_code(packed)
        if code is not None:
            _remember(source, code)


def _remember(source: str, code: Any) -> Any:
    if len(_COMPILED) >= MAX_COMPILED:
        _COMPILED.clear()
    _COMPILED[source] = code
    return code


def define(source: str, name: str) -> Callable[..., Any]:
    """The probe function defined from its source, in a scope of its own."""
    scope: dict[str, Any] = {"__name__": "grader_probe", "math": __import__("math"), "random": random}
    # Probes may use the libraries a notebook of the course has loaded, without importing them.
    for alias, module in (("np", "numpy"), ("torch", "torch")):
        if module in sys.modules:
            scope[alias] = sys.modules[module]
    code = _COMPILED.get(source)
    if code is None:
        code = _remember(source, _compile(source))
    exec(code, scope)
    return scope[name]


def run_source(source: str, name: str, args_json: str) -> None:
    """Define the probe from its source and call it on the running IPython's namespace."""
    shell = sys.modules["IPython"].get_ipython()
    call(define(source, name), shell.user_ns, args_json)


def serve(endpoint: str) -> None:
    """Answer probe requests on a socket bound at ``endpoint``, on this (the main) thread, until
    the kernel is killed. Sent by the grader as an execute request that never ends.

    ipykernel's own dispatch costs ~2.5 ms a message (from its shell-channel thread to the main
    thread and back, busy and idle published, both output streams flushed); a whole round trip
    here ~1 ms (measured with a probe that returns a constant). Every message is signed with the
    kernel's key (jupyter_client's ``Session``): unsigned, wrongly signed or replayed requests are
    dropped. An interrupt (the grader's, on a probe's timeout) ends the probe it hits, which
    answers so; one that comes between probes is dropped.
    """
    import signal

    seeds.put_back(False)  # this kernel now runs probes only, each from fresh seeds, until it is killed
    session = sys.modules["IPython"].get_ipython().kernel.session
    socket = _BOUND.pop(endpoint, None) or _bind(endpoint)
    session.send(socket, SERVING, {})

    def between_probes(signum: int, frame: Any) -> None:
        pass  # the probe it was meant for has answered already

    while True:
        signal.signal(signal.SIGINT, between_probes)
        try:
            _, frames = session.feed_identities(socket.recv_multipart(copy=True), copy=True)
            request = session.deserialize(frames, content=True, copy=True)
        except Exception:  # noqa: BLE001 - not from the grader (or garbled): not answered
            continue
        content = request.get("content") or {}
        source = str(content.get("source"))
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _adopt(source, content.get("code"))
            run_source(source, str(content.get("name")), str(content.get("args")))
            reply = {"status": "ok", "answer": LAST}
        except KeyboardInterrupt:  # the grader's interrupt on timeout: it waits for this reply
            reply = {"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}
        except BaseException as exc:  # noqa: BLE001 - the runtime itself broken by student code
            reply = {"status": "error", "ename": type(exc).__name__, "evalue": str(exc)[:2000]}
        signal.signal(signal.SIGINT, between_probes)
        session.send(socket, REPLY, reply, parent=request)


def ipc_endpoint(ip: str) -> str:
    """Where a kernel whose sockets are ``ipc://{ip}-N`` serves probes: beside them, in its runtime folder."""
    return f"ipc://{ip}-probes"


# Sockets bound as the kernel started (bind_ahead), by endpoint, until serve takes them.
_BOUND: dict[str, Any] = {}


def bind_ahead(endpoint: str) -> None:
    """Bind the probe server's socket now, as the kernel starts: the first socket a kernel binds
    costs 5-30 ms (measured; later ones ~0.3 ms), which would otherwise fall on its first probe."""
    _BOUND[endpoint] = _bind(endpoint)


def _bind(endpoint: str) -> Any:
    import zmq

    socket: Any = zmq.Context.instance().socket(zmq.PAIR)
    socket.linger = 0
    socket.bind(endpoint)
    return socket
