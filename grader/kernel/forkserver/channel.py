"""The zygote's control channel: one JSON message per packet, file descriptors alongside.

A ``SOCK_SEQPACKET`` socket pair keeps message boundaries, so a message and the descriptors sent
with it (pidfds, via ``SCM_RIGHTS``) arrive together. Descriptors rather than pids cross the
channel because a pidfd names the same process in every pid namespace: the sandbox may run the
zygote in its own.
"""

from __future__ import annotations

import json
import select
import socket
from typing import Any

__all__ = ["MAX_MESSAGE", "recv", "send", "socket_pair"]

MAX_MESSAGE = 1 << 20  # a spawn request is an environment and a few paths: far below this
_MAX_FDS = 4


def socket_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode()
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"control message of {len(data)} bytes is too large")
    socket.send_fds(sock, [data], list(fds))


def recv(sock: socket.socket, timeout: float | None = None) -> tuple[dict[str, Any], list[int]] | None:
    """The next message and its descriptors; ``None`` at end of file (the peer is gone).

    Raises ``TimeoutError`` when nothing arrives within ``timeout`` seconds.
    """
    if timeout is not None:
        ready, _, _ = select.select([sock], [], [], max(timeout, 0.0))
        if not ready:
            raise TimeoutError("no message from the fork server")
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, _MAX_FDS)
    except ConnectionResetError:
        return None
    if not data:
        for fd in fds:
            socket.close(fd)
        return None
    return json.loads(data), fds
