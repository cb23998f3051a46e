"""What LTI can refuse or fail, and the URL helpers every part uses."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from grader.errors import GraderError

__all__ = ["LaunchRefused", "LtiError", "PlatformError", "same_origin", "with_path", "with_query"]


class LtiError(GraderError):
    """Base of what LTI can refuse or fail."""


class LaunchRefused(LtiError):
    """A login or launch that must sign nobody in; the message says why and can be shown."""


class PlatformError(LtiError):
    """The platform refused or failed a call (after the retries); ``status`` is None without a response."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *((k, v) for k, v in params.items() if v)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_path(url: str, suffix: str) -> str:
    # A line item's URL may carry a query (some LMSs put the item's id there): the suffix goes on the path.
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))
