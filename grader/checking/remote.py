"""The notebook a check talks to: one API, two back ends.

``KernelNotebook`` sends a probe's source and wire-encoded arguments to a live kernel and reads
the answer from the kernel's signed reply (never from the kernel's output, never as pickle).
``LocalNotebook`` runs the same probe in-process against a namespace, for the self-check
inside a student's own notebook, where there is no adversary. Both decode the answer through
:mod:`grader.checking.wire`, so a check sees the same values either way.
"""

from __future__ import annotations

import ast
import contextvars
import functools
import inspect
import socket
import textwrap
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, Protocol

import zmq

from grader.checking import probe as probe_runtime
from grader.checking import wire
from grader.errors import (
    CourseError,
    KernelDied,
    NotDefined,
    NotebookUnavailable,
    ProbeTimeout,
    StudentError,
    WireError,
)
from grader.kernel.replies import Receive, await_reply

__all__ = ["Answers", "KernelNotebook", "LocalNotebook", "MissingNotebook", "Notebook", "probes_refused"]

Probe = Callable[..., Any]

# The reference value being computed, if any (grader.checking.reference): no probe may run meanwhile.
_REFUSING: contextvars.ContextVar[str | None] = contextvars.ContextVar("grader_probes_refused", default=None)


@contextmanager
def probes_refused(computing: str) -> Iterator[None]:
    """Within the block every back end refuses probes: ``computing`` is memoised for all students."""
    token = _REFUSING.set(computing)
    try:
        yield
    finally:
        _REFUSING.reset(token)


def _refuse_if_computing_reference(probe: Probe) -> None:
    computing = _REFUSING.get()
    if computing is not None:
        raise CourseError(f"the reference value {computing} asked the notebook for {probe.__name__}: a reference "
                          "value is shared by every student and must not depend on one's answers")


class Notebook(Protocol):
    """What a check can do with a student's notebook."""

    def run(self, probe: Probe, *args: Any, timeout: float | None = None) -> Any:
        """``probe(ns, *args)`` evaluated on the student's side; its value, as data."""

    def cuda_available(self) -> bool:
        """Whether the student's side can use CUDA."""


def _open_envelope(payload: str) -> Any:
    envelope = wire.decode(payload)
    if type(envelope) is not dict:
        raise WireError("answer is not an envelope")
    kind = envelope.get("kind")
    if kind == "value":
        return envelope.get("value")
    if kind == probe_runtime.MISSING_NAME:
        raise NotDefined(str(envelope.get("name", "?")))
    if kind == "raised":
        raise StudentError(
            str(envelope.get("ename", "Exception"))[:200],
            str(envelope.get("evalue", ""))[:2000],
            str(envelope.get("traceback", ""))[-8000:],
        )
    raise WireError(f"unknown answer kind {str(kind)[:40]!r}")


class Answers:
    """What one notebook answered, by probe source and arguments: each probe is asked once.

    A probe only observes (docs/course-authors.md), so two checks asking the same thing of the same
    notebook see the same answer; in the sample class a third of a notebook's probe time went
    to such repeats. The answer's text is kept and decoded again for every call, so each check
    still gets objects of its own. Dies with its notebook: nothing reaches another student's.
    Answers past ``max_chars`` in all are not kept (asked again), so a notebook answering with
    huge values cannot fill the grader's memory.
    """

    def __init__(self, max_chars: int = 16 * 1024 * 1024) -> None:
        self.max_chars = max_chars
        self.kept: dict[tuple[str, str], str] = {}
        self.chars = 0

    def ask(self, source: str, args_json: str, asking: Callable[[], str]) -> Any:
        """The decoded answer to this probe and these arguments: kept, or ``asking()`` it now."""
        key = (source, args_json)
        answer = self.kept.get(key)
        if answer is None:
            answer = asking()
            if self.chars + len(answer) <= self.max_chars:
                self.kept[key] = answer
                self.chars += len(answer)
        return _open_envelope(answer)


def _cuda_probe(ns: Any) -> bool:
    import torch

    return bool(torch.cuda.is_available())


class LocalNotebook:
    """The student's namespace in this very process (self-check inside the notebook)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.answers = Answers()

    def run(self, probe: Probe, *args: Any, timeout: float | None = None) -> Any:
        _refuse_if_computing_reference(probe)
        source, name = probe_source(probe)
        args_json = wire.encode(list(args))
        # Defined from its source, as in a kernel: a probe sees the same names either way.
        return self.answers.ask(source, args_json, lambda: probe_runtime.call(
            probe_runtime.define(source, name), self.namespace, args_json))

    def cuda_available(self) -> bool:
        return bool(self.run(_cuda_probe))


class MissingNotebook:
    """Stands in for a notebook there is no live kernel for: every probe finds nothing, and says
    why (``reason``: the exercise's status, such as ``missing`` or ``timeout``)."""

    def __init__(self, reason: str = "missing") -> None:
        self.reason = reason

    def run(self, probe: Probe, *args: Any, timeout: float | None = None) -> Any:
        _refuse_if_computing_reference(probe)
        raise NotebookUnavailable(self.reason)

    def cuda_available(self) -> bool:
        return False


PROBE_HELPERS = "__probe_helpers__"  # set by grader.checks.probe_uses


def _definition(obj: Any) -> str:
    """The source of a function or class, without its decorators (they are trusted-side only)."""
    source = textwrap.dedent(inspect.getsource(obj))
    node = ast.parse(source).body[0]
    return "\n".join(source.splitlines()[node.lineno - 1:])


@functools.lru_cache(maxsize=probe_runtime.MAX_COMPILED)
def _packed(source: str) -> str:
    """A probe's source compiled for the kernel, once per grading process (grader.checking.probe.pack_code)."""
    return probe_runtime.pack_code(source)


# A probe -> the source and name sent for it: reading and parsing its file for every call cost more
# than sending it. Keyed by the function itself: an edited check file is imported afresh
# (grader.checking.runner), so its probes are new functions, sent as they now read.
_SOURCES: weakref.WeakKeyDictionary[Any, tuple[str, str]] = weakref.WeakKeyDictionary()


def probe_source(probe: Probe) -> tuple[str, str]:
    """The source and name to send: the helpers the probe declared (each after its own, once), then
    the probe itself."""
    sent = _SOURCES.get(probe)
    if sent is None:
        sent = _SOURCES[probe] = _gathered_source(probe)
    return sent


def _gathered_source(probe: Probe) -> tuple[str, str]:
    helpers: list[Any] = []

    def gather(of: Any) -> None:
        for helper in getattr(of, PROBE_HELPERS, ()):
            if helper not in helpers:
                gather(helper)
                helpers.append(helper)

    gather(probe)
    return "\n\n\n".join([*map(_definition, helpers), _definition(probe)]), probe.__name__


class KernelNotebook:
    """A live kernel, reached with a blocking client of our own.

    The first probe turns the kernel into a probe server (grader.checking.probe.serve): from then on each
    probe is one signed message on a socket of its own, read on the kernel's main thread. Where
    that cannot be set up, each probe goes as an execute request on the shell channel.
    """

    def __init__(self, client: Any, *, is_alive: Callable[[], bool], interrupt: Callable[[], None],
                 default_timeout: float = 60.0) -> None:
        self.client = client  # jupyter_client BlockingKernelClient, shell channel started
        self.is_alive = is_alive
        self.interrupt = interrupt
        self.default_timeout = default_timeout
        self.dead = False
        self._cuda: bool | None = None
        self._served = False  # whether the kernel was asked to serve probes yet
        self._channel: Any = None  # the socket to the kernel's probe server, once it serves
        self.answers = Answers()

    def run(self, probe: Probe, *args: Any, timeout: float | None = None) -> Any:
        _refuse_if_computing_reference(probe)
        if self.dead:  # whatever it answered before: the checks after its death are not run
            raise KernelDied("the kernel is no longer running")
        source, name = probe_source(probe)
        args_json = wire.encode(list(args))
        return self.answers.ask(source, args_json, lambda: self._ask(source, name, args_json, timeout))

    def _ask(self, source: str, name: str, args_json: str, timeout: float | None) -> str:
        """The kernel's answer (an envelope's wire text) to one probe call."""
        timeout = timeout if timeout is not None else self.default_timeout
        if not self._served:
            self._served = True
            self._channel = self._serve(timeout)
        if self._channel is not None:
            content = {"source": source, "name": name, "args": args_json, "code": _packed(source)}
            message = self.client.session.msg(probe_runtime.REQUEST, content)
            self.client.session.send(self._channel, message)
            content = self._reply(message["header"]["msg_id"], timeout, self._from_channel)["content"]
            if content.get("status") != "ok":
                raise StudentError(str(content.get("ename", "Error"))[:200], str(content.get("evalue", ""))[:2000])
            answer = content.get("answer")
            if type(answer) is not str:
                raise WireError("the kernel's answer is not a string")
            return answer
        code = (f"__import__('grader.checking.probe', fromlist=['run_source'])"
                f".run_source({source!r}, {name!r}, {args_json!r})")
        content = self._execute(code, "__import__('grader.checking.probe', fromlist=['LAST']).LAST", timeout)
        if content.get("status") != "ok":
            # The probe catches everything but an interrupt; the student's code may have
            # broken the runtime itself, which is its own doing.
            raise StudentError(str(content.get("ename", "Error")), str(content.get("evalue", "")))
        return self._literal(self._expression(content))

    def close(self) -> None:
        """Close the socket to the kernel's probe server (the kernel itself is the caller's)."""
        if self._channel is not None:
            self._channel.close(linger=0)
            self._channel = None

    def _serve(self, timeout: float) -> Any:
        """The socket to the kernel's probe server (grader.checking.probe.serve), or None where it does not serve.

        The server runs as an execute request that never ends: that it serves, it says on its socket;
        an execute reply means it could not.
        """
        endpoint = self._endpoint()
        channel = self.client.context.socket(zmq.PAIR)
        channel.linger = 0
        channel.setsockopt(zmq.RECONNECT_IVL, 2)  # connected before the kernel binds: retry soon
        channel.connect(endpoint)
        msg_id = self.client.execute(f"__import__('grader.checking.probe', fromlist=['serve']).serve({endpoint!r})",
                                     silent=True, store_history=False, allow_stdin=False)
        shell = self.client.shell_channel.socket
        poller = zmq.Poller()
        poller.register(channel, zmq.POLLIN)
        poller.register(shell, zmq.POLLIN)
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                ready = dict(poller.poll(int(min(remaining, 1.0) * 1000)))
                if not ready and not self.is_alive():
                    self.dead = True
                    raise KernelDied("the kernel died while the check was running")
                if channel in ready and (self._signed(channel) or {}).get("msg_type") == probe_runtime.SERVING:
                    serving, channel = channel, None  # kept open: not closed below
                    return serving
                if shell in ready and (self._from_shell(0) or {}).get("parent_header", {}).get("msg_id") == msg_id:
                    return None  # it could not serve: probes as execute requests, then
            self._give_up(msg_id, timeout, self._from_shell)
        finally:
            if channel is not None:
                channel.close(linger=0)

    def _endpoint(self) -> str:
        if self.client.transport == "ipc":  # beside the kernel's own sockets, in its runtime folder
            return probe_runtime.ipc_endpoint(self.client.ip)
        # Windows has no IPC transport: a free loopback port, found as jupyter_client finds its own.
        with socket.socket() as probe_port:
            probe_port.bind((self.client.ip, 0))
            return f"tcp://{self.client.ip}:{probe_port.getsockname()[1]}"

    @staticmethod
    def _expression(content: dict[str, Any]) -> Any:
        answer = content.get("user_expressions", {}).get("answer", {})
        if answer.get("status") != "ok":
            raise WireError("the kernel did not return an answer")
        return answer.get("data", {}).get("text/plain", "")

    @staticmethod
    def _literal(text: Any) -> str:
        # IPython shows the answer as the repr of a str; read it back as a string literal only.
        if not isinstance(text, str) or len(text) > wire.MAX_PAYLOAD + 1024 or text[:1] not in "'\"":
            raise WireError("the kernel's answer is not a string")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise WireError("the kernel's answer is not a string literal") from None
        if type(value) is not str:
            raise WireError("the kernel's answer is not a string")
        return value

    def _execute(self, code: str, expression: str, timeout: float) -> dict[str, Any]:
        """Run ``code`` as an execute request; the reply's content (``expression`` as "answer")."""
        msg_id = self.client.execute(code, silent=False, store_history=False, allow_stdin=False,
                                     user_expressions={"answer": expression})
        return self._reply(msg_id, timeout, self._from_shell)["content"]

    def _from_shell(self, wait: float) -> dict[str, Any] | None:
        try:
            return self.client.get_shell_msg(timeout=wait)
        except Exception:  # noqa: BLE001 - queue.Empty (nothing yet), or channels already stopped
            return None

    def _from_channel(self, wait: float) -> dict[str, Any] | None:
        if not self._channel.poll(int(wait * 1000)):
            return None
        return self._signed(self._channel) or {}

    def _signed(self, channel: Any) -> dict[str, Any] | None:
        """The message waiting on ``channel``; None if it is not signed with this kernel's key (or garbled)."""
        frames = channel.recv_multipart(copy=True)
        try:
            _, frames = self.client.session.feed_identities(frames, copy=True)
            return self.client.session.deserialize(frames, content=True, copy=True)
        except Exception:  # noqa: BLE001 - dropped
            return None

    def _reply(self, msg_id: str, timeout: float, receive: Receive) -> dict[str, Any]:
        reply = await_reply(receive, msg_id, time.monotonic() + timeout, still_waiting=self._still_alive)
        if reply is not None:
            return reply
        if self.dead:
            raise KernelDied("the kernel died while the check was running")
        self._give_up(msg_id, timeout, receive)

    def _still_alive(self) -> bool:
        """No answer yet: is the kernel still there? (Once it is not, it is dead for good.)"""
        if not self.is_alive():
            self.dead = True
        return not self.dead

    def _give_up(self, msg_id: str, timeout: float, receive: Receive) -> NoReturn:
        """Interrupt a probe that ran out of time; a kernel that will not stop is declared dead."""
        self.interrupt()
        if await_reply(receive, msg_id, time.monotonic() + 5.0, step=0.5) is None:
            self.dead = True
        raise ProbeTimeout(timeout)

    def cuda_available(self) -> bool:
        if self._cuda is None:
            try:
                self._cuda = self.run(_cuda_probe) is True
            except Exception:  # noqa: BLE001 - no answer means no CUDA we can rely on
                self._cuda = False
        return self._cuda
