"""The platform's services on the tool's own authority: the roster (NRPS) and grades (AGS)."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from grader.service.lti.errors import PlatformError, with_path, with_query
from grader.service.lti.registration import Registration, ToolKey
from grader.service.lti.roles import map_role
from grader.service.lti.store import ScoreLedger

__all__ = ["LineItem", "Member", "PlatformServices", "PublishReport", "Score"]


SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOKEN_MARGIN_S = 60  # an access token is renewed this long before the platform says it expires
ACTIVITY = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING = ("NotReady", "Failed", "Pending", "PendingManual", "FullyGraded")


@dataclass(frozen=True)
class Member:
    user_id: str  # the same id as a launch's user_id
    role: str  # ours: instructor, ta or student
    roles: tuple[str, ...]
    name: str
    email: str
    status: str  # Active, Inactive or Deleted
    sourced_id: str  # lis_person_sourcedid: often the student number the roster CSV has; "" when not shared


@dataclass(frozen=True)
class LineItem:
    id: str  # its URL
    label: str
    score_maximum: float
    resource_id: str
    tag: str
    resource_link_id: str

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> LineItem:
        return cls(str(item["id"]), str(item.get("label", "")), float(item.get("scoreMaximum", 0)),
                   str(item.get("resourceId", "")), str(item.get("tag", "")), str(item.get("resourceLinkId", "")))


@dataclass(frozen=True)
class Score:
    """One user's score on one line item, as the caller decided it; nothing is added but the timestamp."""

    user_id: str
    score_given: float
    score_maximum: float
    comment: str | None = None  # sent as given; None sends no comment
    activity_progress: str = "Completed"  # or "Submitted"
    grading_progress: str = "FullyGraded"

    def __post_init__(self) -> None:
        if self.activity_progress not in ACTIVITY or self.grading_progress not in GRADING:
            raise ValueError(f"activityProgress {self.activity_progress!r} / gradingProgress "
                             f"{self.grading_progress!r} are not AGS values")
        if self.score_given < 0 or self.score_maximum <= 0:
            raise ValueError(f"a score of {self.score_given} out of {self.score_maximum} cannot be sent")

    def body(self, timestamp: str) -> dict[str, Any]:
        body: dict[str, Any] = {"userId": self.user_id, "scoreGiven": self.score_given,
                                "scoreMaximum": self.score_maximum, "activityProgress": self.activity_progress,
                                "gradingProgress": self.grading_progress, "timestamp": timestamp}
        if self.comment is not None:
            body["comment"] = self.comment
        return body

    def digest(self) -> str:
        """What makes two sends the same, the timestamp aside."""
        return hashlib.sha256(json.dumps(self.body(""), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PublishReport:
    timestamp: str  # every score of this publish carries it
    sent: tuple[Score, ...]
    unchanged: tuple[Score, ...]  # sent before as they are now: not sent again
    failed: tuple[tuple[Score, str], ...]  # with the platform's reason; a later publish sends them again


class PlatformServices:
    """Calls to the platform on the tool's own authority: OAuth2 client credentials with a JWT assertion
    signed by the tool's key (RFC 7523), a token cached per set of scopes until it expires. Every method
    does network I/O; a 5xx, a 429 or a broken connection is tried again (``attempts`` in all)."""

    def __init__(self, registration: Registration, *, key: ToolKey, http: httpx.Client | None = None,
                 attempts: int = 3, backoff_s: float = 0.5) -> None:
        self.registration = registration
        self.key = key
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=10.0)
        self._attempts, self._backoff_s = max(1, attempts), backoff_s
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._token_lock = threading.Lock()
        self._line_item_lock = threading.Lock()  # one find-or-create at a time: no line item made twice

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PlatformServices:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def access_token(self, scopes: Iterable[str]) -> str:
        wanted = tuple(sorted(set(scopes)))
        with self._token_lock:
            cached = self._tokens.get(wanted)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            now = int(time.time())
            registration = self.registration
            assertion = self.key.sign({
                "iss": registration.client_id, "sub": registration.client_id,
                "aud": registration.auth_audience or registration.auth_token_url,
                "iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(16)})
            response = self._request("POST", registration.auth_token_url, scopes=None, data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion, "scope": " ".join(wanted)})
            try:
                body = response.json()
                token, lifetime = str(body["access_token"]), float(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                raise PlatformError(f"{registration.auth_token_url}: the token response has no access_token") \
                    from None
            self._tokens[wanted] = token, time.monotonic() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
            return token

    def members(self, memberships_url: str) -> list[Member]:
        """The course's whole roster, page after page (``Link: rel="next"``)."""
        accept = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        members = []
        for page in self._pages(memberships_url, scopes=(SCOPE_NRPS,), accept=accept):
            for member in page.get("members", []) if isinstance(page, dict) else []:
                roles = tuple(role for role in member.get("roles", []) if isinstance(role, str))
                members.append(Member(
                    user_id=str(member["user_id"]), role=map_role(roles), roles=roles,
                    name=str(member.get("name") or " ".join(filter(None, (member.get("given_name"),
                                                                          member.get("family_name"))))),
                    email=str(member.get("email", "")), status=str(member.get("status", "Active")),
                    sourced_id=str(member.get("lis_person_sourcedid", ""))))
        return members

    def line_items(self, lineitems_url: str, *, resource_id: str = "", tag: str = "") -> list[LineItem]:
        """The context's line items (those with this resource id and tag, when given), every page."""
        url = with_query(lineitems_url, {"resource_id": resource_id, "tag": tag})
        accept = "application/vnd.ims.lis.v2.lineitemcontainer+json"
        items = [LineItem.from_json(item) for page in self._pages(url, scopes=(SCOPE_LINEITEM,), accept=accept)
                 for item in (page if isinstance(page, list) else [])]
        # A platform may ignore the filters: they are applied here too.
        return [item for item in items if (not resource_id or item.resource_id == resource_id)
                and (not tag or item.tag == tag)]

    def ensure_line_item(self, lineitems_url: str, *, resource_id: str, label: str, score_maximum: float,
                         tag: str = "grader", resource_link_id: str = "") -> LineItem:
        """Ours for ``resource_id`` and ``tag`` (an exercise, or the whole assignment: the caller decides), made
        when the platform has none; an existing one is used as it is (its label and maximum are the LMS's)."""
        with self._line_item_lock:
            found = self.line_items(lineitems_url, resource_id=resource_id, tag=tag)
            if found:
                return found[0]
            body: dict[str, Any] = {"label": label, "scoreMaximum": score_maximum, "resourceId": resource_id,
                                    "tag": tag}
            if resource_link_id:
                body["resourceLinkId"] = resource_link_id
            response = self._request("POST", lineitems_url, scopes=(SCOPE_LINEITEM,), content=json.dumps(body),
                                     headers={"Content-Type": "application/vnd.ims.lis.v2.lineitem+json",
                                              "Accept": "application/vnd.ims.lis.v2.lineitem+json"})
            return LineItem.from_json(_json(response))

    def post_score(self, line_item_url: str, score: Score, *, timestamp: str) -> None:
        self._request("POST", with_path(line_item_url, "/scores"), scopes=(SCOPE_SCORE,),
                      content=json.dumps(score.body(timestamp)),
                      headers={"Content-Type": "application/vnd.ims.lis.v1.score+json"})

    def results(self, line_item_url: str) -> list[dict[str, Any]]:
        """The platform's results for a line item, as it sends them."""
        accept = "application/vnd.ims.lis.v2.resultcontainer+json"
        return [result for page in self._pages(with_path(line_item_url, "/results"), scopes=(SCOPE_RESULT,),
                                               accept=accept)
                for result in (page if isinstance(page, list) else [])]

    def publish(self, line_item: LineItem | str, scores: Iterable[Score], *, ledger: ScoreLedger,
                force: bool = False, now: datetime | None = None) -> PublishReport:
        """Every score that differs from what was last sent for its user, each with this publish's time; a
        score the platform took is recorded in ``ledger`` at once, so that a retry sends only the rest."""
        url = line_item.id if isinstance(line_item, LineItem) else line_item
        timestamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")
        sent, unchanged, failed = [], [], []
        for score in scores:
            digest = score.digest()
            if not force and ledger.sent_digest(url, score.user_id) == digest:
                unchanged.append(score)
                continue
            try:
                self.post_score(url, score, timestamp=timestamp)
            except PlatformError as error:
                failed.append((score, str(error)))
                continue
            ledger.record_sent(url, score.user_id, digest, timestamp=timestamp)
            sent.append(score)
        return PublishReport(timestamp, tuple(sent), tuple(unchanged), tuple(failed))

    def _pages(self, url: str, *, scopes: tuple[str, ...], accept: str) -> Iterator[Any]:
        seen: set[str] = set()
        next_url: str | None = url
        while next_url and next_url not in seen:
            seen.add(next_url)
            response = self._request("GET", next_url, scopes=scopes, headers={"Accept": accept})
            yield _json(response)
            link = response.links.get("next", {}).get("url")
            next_url = urljoin(next_url, link) if link else None

    def _request(self, method: str, url: str, *, scopes: tuple[str, ...] | None, **options: Any) -> httpx.Response:
        """One call, tried again on a 5xx, a 429 or a broken connection, and once with a new token on a 401."""
        headers = dict(options.pop("headers", {}))
        renewed = False
        problem, status = "", None
        attempt = 0
        while attempt < self._attempts:
            if scopes is not None:
                headers["Authorization"] = f"Bearer {self.access_token(scopes)}"
            try:
                response = self._http.request(method, url, headers=headers, **options)
            except httpx.TransportError as error:
                problem, status = f"{method} {url}: {type(error).__name__}: {error}", None
            else:
                if response.is_success:
                    return response
                if response.status_code == 401 and scopes is not None and not renewed:
                    renewed = True  # the platform forgot our token (say, it restarted): one new token, once
                    with self._token_lock:
                        self._tokens.pop(tuple(sorted(set(scopes))), None)
                    continue
                problem, status = f"{method} {url}: HTTP {response.status_code}: {response.text[:300]}", \
                    response.status_code
                if response.status_code < 500 and response.status_code != 429:
                    break
            attempt += 1
            if attempt < self._attempts:
                time.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise PlatformError(problem, status)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise PlatformError(f"{response.request.url}: the platform answered with no JSON") from None
