"""The course service (``grader service start``, a real uvicorn) in a real LTI 1.3 platform
(tests/lti_platform.py, built on ``lti1p3platform``, on 127.0.0.1): launches sign people in with
their LMS role, the roster comes through NRPS, and the desk publishes grades through AGS, once,
with nothing hidden in them."""

from __future__ import annotations

import json
import re

import httpx
import nbformat
import pytest

from grader.store.service import ServiceStore

from .lti_platform import INSTRUCTOR, LEARNER, Platform, rsa_pem
from .service import ROOT, Served, make_service

LIS = "https://purl.imsglobal.org/spec/lti/claim/lis"


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _toml(table: dict) -> str:
    return "\n[lti]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())


@pytest.fixture(scope="module")
def lms(tmp_path_factory, data_root):
    service = make_service(tmp_path_factory.mktemp("lti-service"), data_root, ["alice", "bob"])
    platform = Platform(tool_url=service.url)
    with open(service.folder / "service.toml", "a", encoding="utf-8") as settings:
        settings.write(_toml(platform.tool_table(key_file=str(service.folder / "lti-key.pem"))))
    platform.add_member("u-prof", [INSTRUCTOR], name="Prof", sourced_id="prof")
    platform.add_member("u-alice", [LEARNER], name="Alice", sourced_id="alice")
    platform.add_member("u-bob", [LEARNER], name="Bob", sourced_id="bob")
    platform.add_member("u-carol", [LEARNER], name="Carol", sourced_id="carol")
    service.unit = "tests.service:fake_exercises"
    with platform.serving():
        service.start()
        yield service, platform
        service.stop()


def launch(platform: Platform, user: str, roles: list[str], sourced: str, **spoil) -> tuple[httpx.Client, httpx.Response]:
    browser = httpx.Client(timeout=30, follow_redirects=False)
    attempt = platform.launch(browser, user, roles=roles, claims={LIS: {"person_sourcedid": sourced}}, **spoil)
    return browser, attempt.response


def test_a_launch_signs_in_with_the_lms_role(lms) -> None:
    service, platform = lms
    prof, answer = launch(platform, "u-prof", [INSTRUCTOR], "prof")
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"
    assert prof.get(f"{service.url}/desk").status_code == 200
    alice, answer = launch(platform, "u-alice", [LEARNER], "alice")
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    page = alice.get(f"{service.url}/me").text
    assert "alice" in page and alice.get(f"{service.url}/desk").status_code == 403


@pytest.mark.parametrize("spoil, says", [
    ({"sign_with": rsa_pem()[0]}, "signature"),
    ({"claims": {"exp": 1000, LIS: {"person_sourcedid": "alice"}}}, "expired"),
    ({"claims": {"aud": "someone-else", LIS: {"person_sourcedid": "alice"}}}, "audience"),
])
def test_a_bad_launch_is_refused(lms, spoil: dict, says: str) -> None:
    service, platform = lms
    browser = httpx.Client(timeout=30, follow_redirects=False)
    answer = platform.launch(browser, "u-alice", roles=[LEARNER], **spoil).response
    assert answer.status_code == 400 and says in answer.text
    assert browser.get(f"{service.url}/me").status_code == 401  # not signed in


def test_a_replayed_launch_is_refused(lms) -> None:
    service, platform = lms
    browser = httpx.Client(timeout=30, follow_redirects=False)
    first = platform.launch(browser, "u-alice", roles=[LEARNER], claims={LIS: {"person_sourcedid": "alice"}})
    assert first.response.status_code == 303
    again = platform.post(httpx.Client(timeout=30, follow_redirects=False), first)
    assert again.response.status_code == 400 and "replayed" in again.response.text


def test_the_roster_scores_and_a_retry_reach_the_lms_once(lms) -> None:
    service, platform = lms
    prof, _ = launch(platform, "u-prof", [INSTRUCTOR], "prof")  # the LMS's service URLs come with it
    desk = prof.get(f"{service.url}/desk").text
    assert prof.post(f"{service.url}/desk/roster", data={"csrf": csrf_of(desk)}).status_code == 303
    with ServiceStore(service.folder / "gradebook.sqlite") as store:
        linked = dict(store.lti_people("student"))
        people = {p.id for p in store.people("student")}
    assert linked == {"u-alice": "alice", "u-bob": "bob", "u-carol": "carol"} and "carol" in people
    hand_in(service, "alice")
    prof.post(f"{service.url}/desk/release", data={"csrf": csrf_of(desk), "exercise": "06_training"})
    preview = prof.get(f"{service.url}/desk/publish").text
    assert "alice" in preview and "2 / 8" in preview  # test_a's 2, of 2 + 3 + the rubric's 3
    assert not platform.accepted("u-alice")  # a preview sends nothing
    platform.fail_next_scores(500, 500, 500)  # the first score fails three times: reported, sent later
    done = prof.post(f"{service.url}/desk/publish", data={"csrf": csrf_of(preview)})
    assert done.status_code == 200 and "failed 1" in done.text
    done = prof.post(f"{service.url}/desk/publish", data={"csrf": csrf_of(preview)})
    assert "sent 1" in done.text and "failed 0" in done.text
    (score,) = platform.accepted("u-alice")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (2, 8)
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert score["comment"] == "2 / 8 points" and re.match(r"\d{4}-\d\d-\d\dT.*(Z|\+00:00)$", score["timestamp"])
    again = prof.post(f"{service.url}/desk/publish", data={"csrf": csrf_of(preview)})
    assert "sent 0" in again.text and len(platform.accepted("u-alice")) == 1  # nothing twice
    everything = json.dumps(platform.score_posts)
    assert "b is wrong" not in everything and "always b" not in everything  # no check's words reach the LMS
    assert [i["resourceId"] for i in platform.line_items.values()] == ["06_training"]


def hand_in(service: Served, student: str) -> None:
    notebook = nbformat.read(ROOT / "solutions" / "06_training.ipynb", as_version=4)
    assert service.api_upload(student, "06_training.ipynb", nbformat.writes(notebook).encode()).status_code == 201
    service.wait_all_graded(len(service.uploads()), timeout=60)
