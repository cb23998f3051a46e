"""What every request and response of the service goes through: a cap on the body, the security
headers, and the CSRF token of each session.

- **The body cap** is checked before the app reads anything: a declared ``Content-Length`` over
  it is answered 413 at once, and a body that grows past it while it is read (chunked, or lying
  about its length) is cut off with 413 too.
- **Headers**: a strict Content-Security-Policy (scripts and styles from the service itself only,
  no inline script, no framing, forms post only here), no ``Referer`` sent anywhere (a personal
  link must not leak), no MIME sniffing, and pages never cached (they hold a student's work).
  Under HTTPS, Strict-Transport-Security too.
- **CSRF**: each session holds a random token; a form (or a script's upload) sends it back, and a
  state-changing request without the right one is refused with 403.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "CSP", "SecurityHeaders", "csrf_token", "csrf_valid"]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body over ``limit`` bytes with 413, before it is read whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _too_large(send, self.limit)


async def _too_large(send: Send, limit: int) -> None:
    body = (f"413: the upload is larger than this service takes ({limit / 1024 / 1024:g} MB in all). "
            f"올린 파일이 너무 큽니다 (최대 {limit / 1024 / 1024:g} MB).").encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode()), *_headers(secure=False)]})
    await send({"type": "http.response.body", "body": body})


def _headers(*, secure: bool) -> list[tuple[bytes, bytes]]:
    found = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
             (b"cross-origin-opener-policy", b"same-origin")]
    if secure:
        found.append((b"strict-transport-security", b"max-age=31536000"))
    return found


class SecurityHeaders:
    """Add the security headers to every response; pages are never cached."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app, self.secure = app, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"cache-control" or static]
                headers += _headers(secure=self.secure)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_valid(session: MutableMapping[str, Any], sent: object) -> bool:
    token = session.get("csrf")
    return isinstance(token, str) and isinstance(sent, str) and secrets.compare_digest(token, sent)
