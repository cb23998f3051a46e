"""A small real LTI 1.3 platform for the tests, built on lti1p3platform, served by uvicorn on 127.0.0.1.

It registers one tool (client id, deployment, the tool's login, launch and JWKS URLs), performs launches
(initiation → the tool's login → its authorization endpoint → an id_token form-posted to the tool), and serves
its JWKS, a token endpoint (client credentials with a JWT assertion checked against the tool's JWKS), NRPS
memberships and AGS line items, scores and results. lti1p3platform gives the registration, the launch
message, the signing and the token checks, and the services' request handling; what it lacks is here:
the HTTP routes, paging through ``Link: rel="next"`` (it pages in the body), a scope check per endpoint (it
accepts any of a service's scopes), the assertion's audience, issuer and jti, and the timestamp rule for scores.

Test helper only::

    platform = Platform(tool_url="http://127.0.0.1:PORT")
    with platform.serving():
        table = platform.tool_table(key_file="lti-key.pem")     # the tool's [lti] registration
        attempt = platform.launch(browser, "student-1", roles=[LEARNER])
        attempt.response                                        # the tool's answer to the launch post
        platform.scores[line_item_id]                           # the scores it accepted, in order
"""

from __future__ import annotations

import html.parser
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LineItemNotFoundException, PreflightRequestValidationException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as LtiRequest
from lti1p3platform.request import TRequest
from lti1p3platform.response import Response as LtiResponse
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = LIS + "membership#Learner"
INSTRUCTOR = LIS + "membership#Instructor"
TEACHING_ASSISTANT = LIS + "membership/Instructor#TeachingAssistant"
CONTEXT = "course-1"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def rsa_pem() -> tuple[str, str]:
    """A new RSA key: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


class ServerThread:
    """A uvicorn server in a thread of this process, on a port bound before the app exists (so that two
    servers can name each other's URLs); it stops when its ``serving`` block ends."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # asyncio sets TCP_NODELAY only on sockets made with proto=IPPROTO_TCP: without it, each answer on a
        # kept connection waits some 40 ms for the client's delayed acknowledgement.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    @contextmanager
    def serving(self, app: Any) -> Iterator[ServerThread]:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(10)
            self.socket.close()


@dataclass
class Attempt:
    """One launch as a browser made it: the tool's last answer, and the form posted to it (None when the
    flow stopped before: a refused login, a refused authorization)."""

    response: httpx.Response
    form: dict[str, str] | None = None
    action: str = ""


@dataclass
class _Pending:
    user_id: str
    roles: list[str]
    name: str
    claims: dict[str, Any]  # set in the id_token over the platform's own; None deletes one
    sign_with: str | None  # another private key's PEM, sent under the platform's key id


class _Registration(Registration):
    """The library's registration with its signing key loaded once: it loads the PEM again for every
    signature and every key id, at some 50 ms each."""

    def __init__(self, private_pem: str) -> None:
        self._loaded = serialization.load_pem_private_key(private_pem.encode(), password=None)
        self.set_platform_private_key(private_pem)
        self._kid = Registration.get_jwk(private_pem)["kid"]

    def get_kid(self) -> str:
        return self._kid

    def get_platform_private_key(self) -> Any:
        return self._loaded  # PyJWT signs with a loaded key as with a PEM

    @staticmethod
    def encode_and_sign(payload: dict[str, Any], private_key: str, headers: Any = None,
                        expiration: int | None = None) -> str:
        # The access tokens: a jti makes each its own, as a platform's are (two granted in one second differ).
        return Registration.encode_and_sign({**payload, "jti": secrets.token_hex(8)}, private_key, headers,
                                            expiration)


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration


class _Request(LtiRequest):
    def build_metadata(self, request: TRequest) -> TRequest:
        return request


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, params: dict[str, str], conf: _Conf, pending: _Pending) -> None:
        super().__init__(_Request({"get_data": params, "form_data": {}}), conf)
        self.params, self.pending = params, pending

    def get_preflight_response(self) -> dict[str, Any]:
        return self.params

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data

    def generate_launch_request(self) -> Any:
        if not self.pending.claims and not self.pending.sign_with:
            return super().generate_launch_request()
        assert self._registration is not None
        message, state = self.get_launch_data()
        now = int(time.time())
        message.update({"iat": now, "exp": now + 300})
        for name, value in self.pending.claims.items():
            if value is None:
                message.pop(name, None)
            else:
                message[name] = value
        key = self.pending.sign_with or self._registration.get_platform_private_key()
        assert key is not None
        token = Registration.encode_and_sign(message, key, headers={"kid": self._registration.get_kid()})
        return {"state": state, "id_token": token}


class _FormReader(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", dict[str, str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action") or ""
        elif tag == "input" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


@dataclass
class Platform:
    """The platform, its one registered tool, its course's roster and gradebook, and what it was sent."""

    tool_url: str
    client_id: str = "grader-tool"
    deployment_id: str = "deployment-1"
    page_size: int = 2  # members and line items per page: a roster of three already pages
    server: ServerThread = field(default_factory=ServerThread)
    members: list[dict[str, Any]] = field(default_factory=list)
    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → the line item
    scores: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # line item id → accepted, in order
    score_posts: list[dict[str, Any]] = field(default_factory=list)  # every score post: line_item, body, status
    token_requests: list[str] = field(default_factory=list)  # the scope of each token granted
    service_requests: list[str] = field(default_factory=list)  # "GET /path?query" of each service call
    jwks_requests: int = 0
    issued: list[str] = field(default_factory=list)  # every access token granted
    forgotten: set[str] = field(default_factory=set)  # tokens answered with a 401 (as after a restart)
    score_failures: list[int] = field(default_factory=list)  # statuses the next score posts get instead

    def __post_init__(self) -> None:
        self.url = self.server.url
        self.issuer = self.url
        self.lineitems_url = f"{self.url}/ags/{CONTEXT}/lineitems"
        self.memberships_url = f"{self.url}/nrps/{CONTEXT}/memberships"
        self.private_key, public_key = rsa_pem()
        self.registration = (
            _Registration(self.private_key).set_iss(self.issuer).set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id).set_launch_url(f"{self.tool_url}/lti/launch")
            .set_oidc_login_url(f"{self.tool_url}/lti/login").set_tool_key_set_url(f"{self.tool_url}/lti/jwks")
            .set_platform_public_key(public_key).set_platform_private_key(self.private_key))
        self.conf = _Conf(registration=self.registration)
        self._pending: dict[str, _Pending] = {}
        self._assertions: set[str] = set()
        self._lock = threading.Lock()

    # -- what a test calls --------------------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[Platform]:
        with self.server.serving(self.app()):
            yield self

    def tool_table(self, *, key_file: str) -> dict[str, Any]:
        """The ``[lti]`` table an instructor would copy from this platform's registration page."""
        return {"issuer": self.issuer, "client_id": self.client_id, "deployment_ids": [self.deployment_id],
                "auth_login_url": f"{self.url}/auth", "auth_token_url": f"{self.url}/token",
                "keyset_url": f"{self.url}/jwks", "key_file": key_file}

    def add_member(self, user_id: str, roles: list[str], *, name: str = "", sourced_id: str = "",
                   status: str = "Active") -> None:
        member = {"user_id": user_id, "roles": roles, "name": name or user_id, "status": status}
        if sourced_id:
            member["lis_person_sourcedid"] = sourced_id
        self.members.append(member)

    def launch(self, browser: httpx.Client, user_id: str, *, roles: list[str], name: str = "",
               claims: dict[str, Any] | None = None, sign_with: str | None = None,
               login: dict[str, str] | None = None) -> Attempt:
        """A launch as a browser makes it; ``claims`` and ``sign_with`` spoil the id_token, ``login`` the
        initiation's parameters."""
        hint = secrets.token_urlsafe(8)
        self._pending[hint] = _Pending(user_id, roles, name or user_id, claims or {}, sign_with)
        initiator = _Login(None, self.conf)
        initiator.set_lti_message_hint(hint=hint)
        initiation = httpx.URL(initiator.initiate_login(user_id))
        if login:
            initiation = initiation.copy_merge_params(login)
        response = browser.get(initiation)
        if response.status_code != 302:
            return Attempt(response)
        response = browser.get(response.headers["location"])
        if response.status_code != 200:
            return Attempt(response)
        reader = _FormReader()
        reader.feed(response.text)
        return self.post(browser, Attempt(response, reader.fields, reader.action))

    def post(self, browser: httpx.Client, attempt: Attempt) -> Attempt:
        """Post a launch's form (again: a replay)."""
        assert attempt.form is not None
        return Attempt(browser.post(attempt.action, data=attempt.form), attempt.form, attempt.action)

    def reset(self) -> None:
        """Forget the course's roster and gradebook and what was sent (the registration stays)."""
        for record in (self.members, self.line_items, self.scores, self.score_posts, self.token_requests,
                       self.service_requests, self.score_failures, self._pending, self.issued, self.forgotten):
            record.clear()
        self.jwks_requests = 0

    def forget_tokens(self) -> None:
        """Every token granted so far is unknown from now on, as a platform's after it restarted."""
        self.forgotten.update(self.issued)

    def fail_next_scores(self, *statuses: int) -> None:
        self.score_failures.extend(statuses)

    def accepted(self, user_id: str) -> list[dict[str, Any]]:
        """Every score accepted for one user, on any line item."""
        return [score for scores in self.scores.values() for score in scores if score["userId"] == user_id]

    # -- the HTTP side ------------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        base = f"/ags/{CONTEXT}/lineitems"
        return Starlette(routes=[
            Route("/auth", self._authorize),
            Route("/jwks", self._jwks),
            Route("/token", self._token, methods=["POST"]),
            Route(f"/nrps/{CONTEXT}/memberships", self._memberships),
            Route(base, self._line_items, methods=["GET", "POST"]),
            Route(base + "/{n}/scores", self._score, methods=["POST"]),
            Route(base + "/{n}/results", self._results),
        ])

    async def _authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        pending = self._pending.get(params.get("lti_message_hint", ""))
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
                    "redirect_uri": self.registration.get_launch_url()}
        wrong = [name for name, value in expected.items() if params.get(name) != value]
        if pending is None or params.get("login_hint") != pending.user_id or wrong:
            return PlainTextResponse(f"authorization refused: {wrong or 'unknown hint or user'}", 400)
        launch = _Launch(params, self.conf, pending)
        launch.set_user_data(pending.user_id, pending.roles, full_name=pending.name)
        launch.set_resource_link_claim("link-1", title="Practicals")
        launch.set_launch_context_claim(CONTEXT, context_title="Deep learning", context_label="DL")
        launch.set_ags(lineitems_url=self.lineitems_url, allow_creating_lineitems=True)
        launch.set_nrps(context_memberships_url=self.memberships_url)
        try:
            data = launch.lti_launch()
        except PreflightRequestValidationException:
            return PlainTextResponse("authorization refused: the tool's request is incomplete", 400)
        form = "".join(f'<input type="hidden" name="{name}" value="{escape(data[name])}">'
                       for name in ("id_token", "state"))
        return HTMLResponse(f'<form method="post" action="{escape(data["launch_url"])}">{form}</form>'
                            "<script>document.forms[0].submit()</script>")

    async def _jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        return JSONResponse(self.conf.get_jwks())

    async def _token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        try:
            claims = jwt.decode(form.get("client_assertion", ""), options={"verify_signature": False})
        except jwt.PyJWTError:
            return JSONResponse({"error": "invalid_client"}, 400)
        if (claims.get("aud") != f"{self.url}/token" or claims.get("iss") != self.client_id
                or claims.get("sub") != self.client_id or not claims.get("jti") or claims["jti"] in self._assertions):
            return JSONResponse({"error": "invalid_client"}, 401)
        try:  # the signature, against the tool's JWKS, fetched from its URL (blocking: in a thread)
            granted = await run_in_threadpool(self.conf.get_access_token, form)
        except Exception as error:  # noqa: BLE001 - any refusal of the library is a refused client
            return JSONResponse({"error": "invalid_client", "error_description": str(error)}, 401)
        self._assertions.add(claims["jti"])
        self.token_requests.append(granted["scope"])
        self.issued.append(granted["access_token"])
        return JSONResponse(dict(granted))

    def _refusal(self, request: Request, scope: str) -> Response | None:
        """401 for a token this platform did not issue or has forgotten, 403 for one without ``scope``."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.registration.get_platform_public_key(), algorithms=["RS256"])
        except jwt.PyJWTError:
            return PlainTextResponse("invalid token", 401)
        if token in self.forgotten:
            return PlainTextResponse("unknown token", 401)
        if scope not in claims.get("scopes", "").split():
            return PlainTextResponse(f"the token lacks {scope}", 403)
        return None

    def _service_request(self, request: Request, json_body: Any = None, **extra: Any) -> LtiRequest:
        query: dict[str, Any] = dict(request.query_params)
        for name in ("page", "limit"):  # the library adds 1 to the page: numbers, not strings
            if name in query:
                query[name] = int(query[name])
        query.update(extra)
        self.service_requests.append(f"{request.method} {request.url.path}?{request.url.query}")
        return _Request({"method": request.method, "headers": request.headers, "get_data": query,
                         "form_data": {}, "json": json_body, "path": request.url.path})

    async def _memberships(self, request: Request) -> Response:
        if refusal := self._refusal(request, NRPS_SCOPE):
            return refusal
        service = _Roster(self._service_request(request, limit=self.page_size), self)
        return _paged(service.handle_resp(service.handle_get_members), in_body="members")

    async def _line_items(self, request: Request) -> Response:
        if refusal := self._refusal(request, SCOPE + "lineitem"):
            return refusal
        body = await request.json() if request.method == "POST" else None
        service = _Gradebook(self._service_request(request, body), self)
        if request.method == "POST":
            return _plain(service.handle_resp(service.handle_create_lineitem))
        return _paged(service.handle_resp(service.handle_get_lineitems), in_body="content")

    async def _score(self, request: Request) -> Response:
        if refusal := self._refusal(request, SCOPE + "score"):
            return refusal
        item, body = f"{self.lineitems_url}/{request.path_params['n']}", await request.json()
        post = {"line_item": item, "body": body, "status": 0}
        self.score_posts.append(post)
        with self._lock:
            failure = self.score_failures.pop(0) if self.score_failures else 0
        if failure:
            post["status"] = failure
            return PlainTextResponse("the platform failed", failure)
        service = _Gradebook(self._service_request(request, body), self)
        answer = service.handle_resp(service.handle_update_score, line_item_id=item)
        post["status"] = answer.code
        return PlainTextResponse(answer.message, answer.code)

    async def _results(self, request: Request) -> Response:
        if refusal := self._refusal(request, SCOPE + "result.readonly"):
            return refusal
        service = _Gradebook(self._service_request(request), self)
        item = f"{self.lineitems_url}/{request.path_params['n']}"
        return _paged(service.handle_resp(service.handle_get_results, line_item_id=item), in_body="content")


def _plain(answer: LtiResponse) -> Response:
    if answer.result is None:
        return PlainTextResponse(answer.message, answer.code)
    return JSONResponse(answer.result, answer.code, media_type=answer.media_type)


def _paged(answer: LtiResponse, *, in_body: str) -> Response:
    """The library's page (its next link in the body) as the specifications want it: a Link header."""
    if answer.result is None:
        return _plain(answer)
    result = dict(answer.result)
    following = result.pop("next", None)
    body = result[in_body] if in_body == "content" else result
    headers = {"Link": f'<{following}>; rel="next"'} if following else {}
    return JSONResponse(body, answer.code, headers=headers, media_type=answer.media_type)


def _page(rows: list[Any], page: int, limit: int | None) -> TPage:
    size = limit or len(rows) or 1
    start = (page - 1) * size
    return {"content": rows[start:start + size], "has_next": start + size < len(rows), "next": None}


class _Roster(NamesRoleProvisioningService):
    def __init__(self, request: LtiRequest, platform: Platform) -> None:
        super().__init__(request, platform.conf, platform.memberships_url)
        self.platform = platform

    def get_member_data_page(self, page: int = 1, limit: int | None = None, role: str | None = None,
                             since: str | None = None) -> TPage:
        return _page([dict(member) for member in self.platform.members], page, limit)

    def get_context_by_id(self) -> Context:
        return Context(id=CONTEXT, label="DL", title="Deep learning")


class _Gradebook(AssignmentsGradesService):
    def __init__(self, request: LtiRequest, platform: Platform) -> None:
        super().__init__(request, platform.conf, platform.lineitems_url)
        self.platform = platform

    def find_lineitems(self, page: int = 1, limit: int | None = None, line_item_id: str | None = None,
                       resource_link_id: str | None = None, resource_id: str | None = None,
                       tag: str | None = None) -> TPage:
        rows = [item for item in self.platform.line_items.values()
                if (not resource_id or item.get("resourceId") == resource_id) and (not tag or item.get("tag") == tag)]
        return _page(rows, page, limit or self.platform.page_size)

    def find_lineitem(self, line_item_id: str) -> Any:
        if line_item_id not in self.platform.line_items:
            raise LineItemNotFoundException(line_item_id)
        return self.platform.line_items[line_item_id]

    def create_lineitem(self, creation_data: Any) -> Any:
        item = {**creation_data, "id": f"{self.platform.lineitems_url}/{len(self.platform.line_items) + 1}"}
        self.platform.line_items[item["id"]] = item
        return item

    def update_lineitem(self, update_data: Any) -> Any:
        self.find_lineitem(update_data["id"]).update(update_data)
        return update_data

    def delete_lineitem(self, line_item_id: str) -> None:
        self.platform.line_items.pop(self.find_lineitem(line_item_id)["id"])

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        self.find_lineitem(line_item_id)
        received = self.platform.scores.setdefault(line_item_id, [])
        earlier = [s for s in received if s["userId"] == score["userId"]]
        # The platforms' rule: a score older than the last one taken for that user and line item is refused.
        if earlier and _when(score["timestamp"]) < _when(earlier[-1]["timestamp"]):
            return UpdateScoreStatus.OLD_TIMESTAMP
        received.append(score)
        return UpdateScoreStatus.SUCCESS if earlier else UpdateScoreStatus.CREATED

    def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None,
                    user_id: str | None = None) -> TPage:
        latest: dict[str, dict[str, Any]] = {}
        for score in self.platform.scores.get(self.find_lineitem(line_item_id)["id"], []):
            latest[score["userId"]] = score
        rows = [{"id": f"{line_item_id}/results/{user}", "scoreOf": line_item_id, "userId": user,
                 "resultScore": s["scoreGiven"], "resultMaximum": s["scoreMaximum"], "comment": s.get("comment")}
                for user, s in latest.items()]
        return _page(rows, 1, None)


def _when(stamp: str) -> datetime:
    when = datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        raise ValueError(f"a score's timestamp without a zone: {stamp}")
    return when
