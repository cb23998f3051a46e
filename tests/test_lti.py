"""The course service as an LTI 1.3 tool (grader.service.lti) against a real platform (tests/lti_platform.py):
launches, refused launches, the roster through NRPS and grades through AGS, each side served by uvicorn."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from grader.errors import GraderError
from grader.service.lti import (
    LaunchRefused,
    LtiTool,
    PlatformServices,
    Registration,
    Score,
    SqliteLtiStore,
    ToolKey,
    load_or_create_key,
    load_registration,
    map_role,
)
from tests.lti_platform import INSTRUCTOR, LEARNER, LIS, TEACHING_ASSISTANT, Platform, ServerThread, rsa_pem

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def tool_app(current: Callable[[], LtiTool]) -> Starlette:
    """The tool's three routes, as the service will serve them (a stand-in for app.py's): everything that
    touches the store or the network runs in the thread pool, never on the event loop. ``current`` gives
    the tool of the test under way (one server serves the whole module: starting one costs 0.2 s)."""

    async def login(request: Request) -> Response:
        params = dict(request.query_params) if request.method == "GET" else dict(await request.form())
        try:
            redirect = await run_in_threadpool(current().login, {k: str(v) for k, v in params.items()})
        except LaunchRefused as refusal:
            return PlainTextResponse(str(refusal), 400)
        response = RedirectResponse(redirect.url, 302)
        response.set_cookie("lti_state", redirect.state, httponly=True)
        return response

    async def launch(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            cookie = request.cookies.get("lti_state")
            launched = await run_in_threadpool(lambda: current().launch(form, state_cookie=cookie))
        except LaunchRefused as refusal:
            return PlainTextResponse(str(refusal), 400)
        return JSONResponse({"user_id": launched.user_id, "role": launched.role, "name": launched.name,
                             "context_id": launched.context_id, "resource_link_id": launched.resource_link_id,
                             "lineitems": launched.ags.lineitems if launched.ags else "",
                             "memberships_url": launched.memberships_url})

    async def jwks(request: Request) -> Response:
        return JSONResponse(current().jwks())

    return Starlette(routes=[Route("/lti/login", login, methods=["GET", "POST"]),
                             Route("/lti/launch", launch, methods=["POST"]), Route("/lti/jwks", jwks)])


@dataclass
class Lms:
    platform: Platform
    tool: LtiTool
    services: PlatformServices
    store: SqliteLtiStore
    browser: httpx.Client  # the person's: it keeps the tool's state cookie between login and launch


@dataclass
class Served:
    platform: Platform
    key_file: Path
    key: ToolKey
    http: httpx.Client  # the tool's, to the platform (a client costs 30 ms to make: one a module)
    tools: list[LtiTool]  # the last is the tool the test under way launches into


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tool_server = ServerThread()
    platform = Platform(tool_url=tool_server.url)
    key_file = tmp_path_factory.mktemp("lti") / "lti-key.pem"
    key = load_or_create_key(key_file)
    tools: list[LtiTool] = []
    with platform.serving(), tool_server.serving(tool_app(lambda: tools[-1])), httpx.Client(timeout=10) as http:
        yield Served(platform, key_file, key, http, tools)


@pytest.fixture
def lms(served: Served, tmp_path: Path) -> Iterator[Lms]:
    """A fresh course at the platform, and a fresh tool (its own store) behind the tool's routes."""
    platform = served.platform
    platform.reset()
    registration = Registration.from_table(platform.tool_table(key_file=str(served.key_file)),
                                           source=tmp_path / "service.toml")
    key, http = served.key, served.http
    store = SqliteLtiStore(tmp_path / "gradebook.sqlite")
    launch_url = platform.registration.get_launch_url()
    with (LtiTool(registration, key=key, store=store, launch_url=launch_url, http=http) as tool,
          PlatformServices(registration, key=key, backoff_s=0, http=http) as services,
          httpx.Client(timeout=10) as browser):
        served.tools.append(tool)
        yield Lms(platform, tool, services, store, browser)


def launched(lms: Lms, user: str, roles: list[str]) -> dict[str, str]:
    attempt = lms.platform.launch(lms.browser, user, roles=roles)
    assert attempt.response.status_code == 200, attempt.response.text
    return attempt.response.json()


# -- launches --------------------------------------------------------------------------------------------------

def test_a_student_launch_signs_in_a_student_with_the_services_of_the_course(lms: Lms) -> None:
    attempt = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER], name="Kim Minji")
    assert attempt.response.status_code == 200, attempt.response.text
    assert attempt.response.json() == {
        "user_id": "student-1", "role": "student", "name": "Kim Minji", "context_id": "course-1",
        "resource_link_id": "link-1", "lineitems": lms.platform.lineitems_url,
        "memberships_url": lms.platform.memberships_url}


@pytest.mark.parametrize(("roles", "role"), [
    ([INSTRUCTOR], "instructor"),
    ([INSTRUCTOR, TEACHING_ASSISTANT], "ta"),
    ([LIS + "institution/person#Administrator", LEARNER], "instructor"),
], ids=["instructor", "teaching-assistant", "institution-administrator"])
def test_a_staff_launch_maps_the_roles_claim(lms: Lms, roles: list[str], role: str) -> None:
    assert launched(lms, "staff-1", roles)["role"] == role


def test_the_platform_key_set_is_fetched_once_for_many_launches(lms: Lms) -> None:
    for user in ("student-1", "student-2", "student-3"):
        launched(lms, user, [LEARNER])
    assert lms.platform.jwks_requests == 1


@pytest.mark.parametrize(("roles", "role"), [
    (["Instructor"], "instructor"),
    (["Learner"], "student"),
    ([LIS + "membership#Administrator"], "instructor"),
    ([LIS + "membership#TeachingAssistant"], "ta"),
    (["urn:lti:role:ims/lis/Instructor/TeachingAssistant"], "ta"),
    ([INSTRUCTOR, LIS + "membership/Instructor#Grader"], "ta"),
    ([INSTRUCTOR, LIS + "membership/Instructor#PrimaryInstructor"], "instructor"),
    ([LIS + "institution/person#Instructor"], "instructor"),
    ([LIS + "institution/person#Instructor", LEARNER], "student"),
    ([LIS + "system/person#Administrator"], "instructor"),
    ([LIS + "membership#Mentor"], "student"),
    ([LIS + "membership#ContentDeveloper"], "student"),
    ([], "student"),
], ids=["short-instructor", "short-learner", "context-admin", "ta-principal", "ta-urn", "grader",
        "primary-instructor", "institution-instructor",
        "faculty-enrolled-as-learner", "system-admin", "mentor", "content-developer", "no-role"])
def test_roles_map_to_ours(roles: list[str], role: str) -> None:
    assert map_role(roles) == role


# -- refused launches ------------------------------------------------------------------------------------------

REFUSALS = {
    "bad-signature": ({"sign_with": rsa_pem()[0]}, "signature does not verify"),
    "expired": ({"claims": {"iat": int(time.time()) - 900, "exp": int(time.time()) - 600}}, "expired"),
    "wrong-audience": ({"claims": {"aud": "another-tool", "azp": "another-tool"}}, "not for this tool"),
    "unknown-issuer": ({"claims": {"iss": "https://other-lms.example"}}, "unknown issuer"),
    "unknown-deployment": ({"claims": {CLAIM + "deployment_id": "deployment-9"}}, "unknown deployment"),
    "other-nonce": ({"claims": {"nonce": "not-the-one"}}, "nonce is not the one"),
    "several-audiences-no-azp": ({"claims": {"aud": ["grader-tool", "x"], "azp": None}}, "no azp"),
    "deep-linking": ({"claims": {CLAIM + "message_type": "LtiDeepLinkingRequest"}}, "not a resource link"),
    "lti-1.1": ({"claims": {CLAIM + "version": "1.1.0"}}, "not 1.3.0"),
    "no-roles": ({"claims": {CLAIM + "roles": None}}, "no roles claim"),
    "foreign-target": ({"claims": {CLAIM + "target_link_uri": "https://elsewhere.example/x"}}, "not on this service"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS), ids=sorted(REFUSALS))
def test_a_spoiled_id_token_signs_nobody_in(lms: Lms, case: str) -> None:
    spoil, reason = REFUSALS[case]
    attempt = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER], **spoil)  # type: ignore[arg-type]
    assert attempt.form is not None, "the flow reached the launch"
    assert attempt.response.status_code == 400
    assert reason in attempt.response.text


def test_several_audiences_are_taken_when_azp_names_this_tool(lms: Lms) -> None:
    attempt = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER],
                                  claims={"aud": ["grader-tool", "x"], "azp": "grader-tool"})
    assert attempt.response.status_code == 200, attempt.response.text


def test_the_same_id_token_posted_twice_is_a_replay(lms: Lms) -> None:
    first = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER])
    assert first.response.status_code == 200
    again = lms.platform.post(lms.browser, first)
    assert again.response.status_code == 400
    assert "replayed" in again.response.text


def test_a_replay_is_refused_after_a_restart(lms: Lms) -> None:
    first = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER])
    assert first.response.status_code == 200 and first.form is not None
    with (LtiTool(lms.tool.registration, key=lms.tool.key, store=SqliteLtiStore(lms.store.path),
                  launch_url=lms.tool.launch_url) as restarted,
          pytest.raises(LaunchRefused, match="replayed")):
        restarted.launch(first.form)


def test_a_launch_needs_the_state_this_browser_was_given(lms: Lms) -> None:
    first = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER])
    assert first.form is not None
    with pytest.raises(LaunchRefused, match="did not start this login"):
        lms.tool.launch(first.form, state_cookie="someone-else's")
    with pytest.raises(LaunchRefused, match="unknown or expired login"):
        lms.tool.launch({**first.form, "state": "made-up"})


@pytest.mark.parametrize(("login", "reason"), [
    ({"iss": "https://other-lms.example"}, "unknown issuer"),
    ({"lti_deployment_id": "deployment-9"}, "unknown deployment"),
    ({"client_id": "another-tool"}, "unknown client_id"),
    ({"target_link_uri": "https://elsewhere.example/x"}, "not on this service"),
], ids=["issuer", "deployment", "client-id", "target"])
def test_a_login_from_an_unknown_platform_goes_nowhere(lms: Lms, login: dict[str, str], reason: str) -> None:
    attempt = lms.platform.launch(lms.browser, "student-1", roles=[LEARNER], login=login)
    assert attempt.form is None and attempt.response.status_code == 400
    assert reason in attempt.response.text


# -- the roster ------------------------------------------------------------------------------------------------

def test_the_roster_comes_whole_through_every_page(lms: Lms) -> None:
    platform = lms.platform
    platform.add_member("u1", [INSTRUCTOR], name="Prof. Lee")
    platform.add_member("u2", [INSTRUCTOR, TEACHING_ASSISTANT])
    for n in range(3, 6):
        platform.add_member(f"u{n}", [LEARNER], sourced_id=f"202400{n}", status="Inactive" if n == 5 else "Active")
    url = launched(lms, "u1", [INSTRUCTOR])["memberships_url"]
    members = lms.services.members(url)
    assert [(m.user_id, m.role, m.status, m.sourced_id) for m in members] == [
        ("u1", "instructor", "Active", ""), ("u2", "ta", "Active", ""), ("u3", "student", "Active", "2024003"),
        ("u4", "student", "Active", "2024004"), ("u5", "student", "Inactive", "2024005")]
    assert members[0].name == "Prof. Lee"
    pages = [r for r in platform.service_requests if "/memberships" in r]
    assert len(pages) == 3, pages  # five members, two a page


# -- grades ----------------------------------------------------------------------------------------------------

def test_line_items_are_made_once_and_found_by_resource_id_and_tag(lms: Lms) -> None:
    lms.platform.line_items["foreign"] = {"id": "foreign", "label": "Quiz", "scoreMaximum": 5,
                                          "resourceId": "02_dataset", "tag": "another-tool"}
    url = launched(lms, "u1", [INSTRUCTOR])["lineitems"]
    first = [lms.services.ensure_line_item(url, resource_id=ex, label=f"Practical {ex}", score_maximum=20)
             for ex in ("02_dataset", "03_model", "04_loop")]
    second = [lms.services.ensure_line_item(url, resource_id=ex, label="renamed", score_maximum=99)
              for ex in ("02_dataset", "03_model", "04_loop")]
    assert second == first
    assert len(lms.platform.line_items) == 4  # the other tool's and our three
    assert {(item.resource_id, item.tag, item.label, item.score_maximum) for item in first} == {
        ("02_dataset", "grader", "Practical 02_dataset", 20), ("03_model", "grader", "Practical 03_model", 20),
        ("04_loop", "grader", "Practical 04_loop", 20)}
    assert len(lms.services.line_items(url)) == 4  # two pages, unfiltered


def _line_item(lms: Lms) -> str:
    url = launched(lms, "u1", [INSTRUCTOR])["lineitems"]
    return lms.services.ensure_line_item(url, resource_id="assignment", label="Practicals", score_maximum=100).id


def test_scores_arrive_with_the_values_and_fields_given(lms: Lms) -> None:
    item = _line_item(lms)
    before = datetime.now(UTC)
    report = lms.services.publish(item, [
        Score("u3", 87.5, 100, comment="hidden checks: 7/8"),
        Score("u4", 40, 100, activity_progress="Submitted"),
    ], ledger=lms.store)
    assert len(report.sent) == 2 and not report.failed and not report.unchanged
    received = lms.platform.scores[item]
    assert received == [
        {"userId": "u3", "scoreGiven": 87.5, "scoreMaximum": 100, "comment": "hidden checks: 7/8",
         "activityProgress": "Completed", "gradingProgress": "FullyGraded", "timestamp": report.timestamp},
        {"userId": "u4", "scoreGiven": 40, "scoreMaximum": 100, "activityProgress": "Submitted",
         "gradingProgress": "FullyGraded", "timestamp": report.timestamp}]
    stamp = datetime.fromisoformat(report.timestamp)
    assert stamp.tzinfo is not None and before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)
    assert {r["userId"]: r["resultScore"] for r in lms.services.results(item)} == {"u3": 87.5, "u4": 40}
    assert lms.platform.token_requests.count(SCORE_SCOPE) == 1  # one token for both scores


def test_a_second_publish_sends_only_what_changed(lms: Lms) -> None:
    item = _line_item(lms)
    lms.services.publish(item, [Score("u3", 80, 100), Score("u4", 40, 100)], ledger=lms.store)
    posts = len(lms.platform.score_posts)
    again = lms.services.publish(item, [Score("u3", 80, 100), Score("u4", 45, 100, comment="regraded")],
                                 ledger=lms.store)
    assert [s.user_id for s in again.sent] == ["u4"] and [s.user_id for s in again.unchanged] == ["u3"]
    assert [p["body"]["userId"] for p in lms.platform.score_posts[posts:]] == ["u4"]
    assert [s["scoreGiven"] for s in lms.platform.accepted("u4")] == [40, 45]


def test_a_score_the_platform_failed_once_is_sent_again_and_nothing_twice(lms: Lms) -> None:
    item = _line_item(lms)
    lms.platform.fail_next_scores(500)
    scores = [Score("u3", 80, 100), Score("u4", 40, 100), Score("u5", 10, 100)]
    report = lms.services.publish(item, scores, ledger=lms.store)
    assert len(report.sent) == 3 and not report.failed
    assert [(p["body"]["userId"], p["status"]) for p in lms.platform.score_posts] == [
        ("u3", 500), ("u3", 201), ("u4", 201), ("u5", 201)]
    assert [len(lms.platform.accepted(user)) for user in ("u3", "u4", "u5")] == [1, 1, 1]
    posts = len(lms.platform.score_posts)
    assert len(lms.services.publish(item, scores, ledger=lms.store).unchanged) == 3
    assert len(lms.platform.score_posts) == posts


def test_a_score_still_failing_is_reported_and_only_it_is_sent_by_the_next_publish(lms: Lms) -> None:
    item = _line_item(lms)
    lms.platform.fail_next_scores(503, 503, 503)  # every attempt of the first score
    scores = [Score("u3", 80, 100), Score("u4", 40, 100)]
    report = lms.services.publish(item, scores, ledger=lms.store)
    assert [s.user_id for s, _ in report.failed] == ["u3"] and "503" in report.failed[0][1]
    assert [s.user_id for s in report.sent] == ["u4"] and lms.platform.accepted("u3") == []
    posts = len(lms.platform.score_posts)
    retry = lms.services.publish(item, scores, ledger=lms.store)
    assert [s.user_id for s in retry.sent] == ["u3"] and not retry.failed
    assert [p["body"]["userId"] for p in lms.platform.score_posts[posts:]] == ["u3"]


def test_a_token_the_platform_forgot_is_replaced_once(lms: Lms) -> None:
    item = _line_item(lms)
    lms.services.publish(item, [Score("u3", 80, 100)], ledger=lms.store)
    lms.platform.forget_tokens()
    report = lms.services.publish(item, [Score("u3", 90, 100)], ledger=lms.store)
    assert [s.user_id for s in report.sent] == ["u3"] and not report.failed
    assert lms.platform.token_requests.count(SCORE_SCOPE) == 2
    assert [s["scoreGiven"] for s in lms.platform.accepted("u3")] == [80, 90]


def test_a_score_older_than_the_last_one_is_refused_by_the_platform(lms: Lms) -> None:
    item = _line_item(lms)
    now = datetime.now(UTC)
    lms.services.publish(item, [Score("u3", 80, 100)], ledger=lms.store, now=now)
    late = lms.services.publish(item, [Score("u3", 20, 100)], ledger=lms.store, now=now - timedelta(hours=1))
    assert late.failed and "409" in late.failed[0][1]
    assert [s["scoreGiven"] for s in lms.platform.accepted("u3")] == [80]


def test_a_score_out_of_the_vocabulary_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="not AGS values"):
        Score("u3", 1, 10, activity_progress="Done")
    with pytest.raises(ValueError, match="cannot be sent"):
        Score("u3", 1, 0)


# -- the tool's key and registration ---------------------------------------------------------------------------

def test_the_tool_key_is_made_once_private_and_its_jwks_is_public_only(tmp_path: Path) -> None:
    path = tmp_path / "lti-key.pem"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path).kid == key.kid
    (public,) = key.jwks()["keys"]
    assert public["kid"] == key.kid and public["alg"] == "RS256" and public["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(public)
    os.chmod(path, 0o640)
    with pytest.raises(GraderError, match="readable by others"):
        load_or_create_key(path)


def test_a_registration_is_read_from_the_lti_table_of_service_toml(tmp_path: Path) -> None:
    settings = tmp_path / "service.toml"
    settings.write_text('course = "/c"\n')
    assert load_registration(settings) is None
    settings.write_text('course = "/c"\n[lti]\nissuer = "https://lms.example.edu"\nclient_id = "1"\n'
                        'deployment_ids = ["d1"]\nauth_login_url = "https://lms.example.edu/auth"\n'
                        'auth_token_url = "https://lms.example.edu/token"\nkeyset_url = "https://lms.example.edu/jwks"\n')
    registration = load_registration(settings)
    assert registration is not None
    assert registration.deployment_ids == ("d1",) and registration.key_file == tmp_path / "lti-key.pem"


@pytest.mark.parametrize(("change", "message"), [
    ({"client_id": None}, "[lti]: no client_id"),
    ({"keyset_url": "http://lms.example.edu/jwks"}, "keyset_url must be an https:// URL"),
    ({"deployment_ids": "d1"}, "deployment_ids must be a list"),
    ({"issuer": ""}, "issuer must be a non-empty string"),
    ({"client_secret": "x"}, "unknown key client_secret"),
], ids=["missing", "plain-http", "deployments-not-a-list", "empty", "unknown"])
def test_a_bad_registration_is_refused_naming_the_file_and_key(change: dict[str, object], message: str) -> None:
    table: dict[str, object] = {"issuer": "https://lms.example.edu", "client_id": "1", "deployment_ids": ["d1"],
                                "auth_login_url": "https://lms.example.edu/auth",
                                "auth_token_url": "https://lms.example.edu/token",
                                "keyset_url": "https://lms.example.edu/jwks"}
    for name, value in change.items():
        if value is None:
            del table[name]
        else:
            table[name] = value
    with pytest.raises(GraderError) as refused:
        Registration.from_table(table, source=Path("/srv/course/service.toml"))
    assert str(refused.value).startswith("/srv/course/service.toml: [lti]") and message in str(refused.value)
