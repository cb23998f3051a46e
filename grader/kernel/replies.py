"""Waiting for a kernel's reply to one request: the one loop every caller shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["await_reply"]

Receive = Callable[[float], "dict[str, Any] | None"]  # the next message, waiting at most that long


def await_reply(receive: Receive, msg_id: str, deadline: float, *, still_waiting: Callable[[], bool] = lambda: True,
                step: float = 1.0) -> dict[str, Any] | None:
    """The reply to request ``msg_id``, or None once ``deadline`` (a ``time.monotonic()``) passes.

    Other messages are dropped on the way. Whenever nothing came, ``still_waiting()`` is asked
    (is the kernel still there?); False ends the wait at once, with None.
    """
    while (remaining := deadline - time.monotonic()) > 0:
        reply = receive(min(remaining, step))
        if reply is None:
            if not still_waiting():
                return None
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return reply
    return None
