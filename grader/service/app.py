"""The course service's web app: Starlette, served by uvicorn, in front of one service folder.

Who may see what is decided here, on every request: a personal link (``/s/TOKEN``) becomes a
signed session cookie that names the person by the link's hash, and every request looks that
hash up again, so a revoked link stops working at once, cookie or not. A student sees their own
uploads and feedback only (anyone else's is "not found"); the desk is for TAs and instructors,
and a release for instructors. Shell uploads (``grader submit --to``) send the same token as a
bearer token instead of a cookie.

Database work runs in worker threads, each with its own connection (WAL: readers never wait for
the writer), so a slow disk never holds the event loop; grading runs in :class:`GradingLoop`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from grader.config import GradeConfig
from grader.grades.final import FinalGrade
from grader.i18n import T
from grader.results import ExerciseStatus, SubmissionResult
from grader.service.base import Service, checked_form, failure, person_of, refused, require, wants_json, when
from grader.service.desk import desk_routes
from grader.service.folder import ServiceFolder
from grader.service.intake import Received, UploadRejected
from grader.service.lms import Lms
from grader.service.lti import LaunchRefused, LtiError
from grader.service.security import BodyLimit, SecurityHeaders
from grader.service.words import word
from grader.store.desk import RequestRefused
from grader.store.service import Person, QuotaExceeded, ServiceStore, Upload, token_digest

if TYPE_CHECKING:
    from grader.bulk.run import BulkOptions

__all__ = ["Service", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"


# ---------------------------------------------------------------------- views

def _views(service: Service) -> list[Any]:
    async def home(request: Request) -> Response:
        person = await person_of(service, request)
        if person is not None:
            return RedirectResponse("/me" if person.role == "student" else "/desk", 303)
        return service.page(request, "home.html.j2")

    async def sign_in(request: Request) -> Response:
        token = request.path_params["token"]
        person = await service.db(lambda store: store.person(token))
        if person is None:
            return service.page(request, "message.html.j2", 401, title="bad_link", text=None)
        lang = request.session.get("lang")
        request.session.clear()  # a new person: nothing of the last one's session stays
        request.session.update(who=token_digest(token), **({"lang": lang} if lang else {}))
        # The token leaves the address bar (and the history) at once.
        return RedirectResponse("/me" if person.role == "student" else "/desk", 303)

    async def lti_login(request: Request) -> Response:
        """An LMS's third-party initiated login: on to its authorization endpoint (no CSRF token: it
        comes from the LMS; the state and the nonce it gets are what the launch is checked by)."""
        lms = _lms(service)
        params = dict(request.query_params) if request.method == "GET" else dict(await request.form())
        try:
            redirect = await run_in_threadpool(lms.tool.login, {k: str(v) for k, v in params.items()})
        except LaunchRefused as refusal:
            return service.page(request, "message.html.j2", 400, title="rejected", text=str(refusal))
        response = RedirectResponse(redirect.url, 302)
        if service.settings.secure:  # the launch comes back as a cross-site POST: only SameSite=None reaches it
            response.set_cookie("lti_state", redirect.state, max_age=600, httponly=True, secure=True,
                                samesite="none")
        return response

    async def lti_launch(request: Request) -> Response:
        lms = _lms(service)
        form = {k: str(v) for k, v in (await request.form()).items()}
        cookie = request.cookies.get("lti_state") if service.settings.secure else None
        try:
            launch = await run_in_threadpool(lambda: lms.tool.launch(form, state_cookie=cookie))
        except LaunchRefused as refusal:
            return service.page(request, "message.html.j2", 400, title="rejected", text=str(refusal))
        except LtiError as error:
            return service.page(request, "message.html.j2", 502, title="rejected", text=str(error))

        def sign(store: ServiceStore) -> tuple[Person, str | None]:
            person = lms.person_for(store, launch)
            return person, store.digest_of(person.id, person.role)

        person, digest = await service.db(sign)
        if digest is None:  # a revoked person stays out, whatever the LMS says
            raise HTTPException(401)
        lang = request.session.get("lang")
        request.session.clear()
        request.session.update(who=digest, **({"lang": lang} if lang else {}))
        return RedirectResponse("/me" if person.role == "student" else "/desk", 303)

    async def lti_jwks(request: Request) -> Response:
        return JSONResponse(_lms(service).tool.jwks())

    async def sign_out(request: Request) -> Response:
        await checked_form(request, service)
        request.session.clear()
        return RedirectResponse("/", 303)

    async def me(request: Request) -> Response:
        person = await require(service, request, "student")

        def read(store: ServiceStore) -> dict[str, Any]:
            left, frees = store.checks_left(person.id, service.settings.checks_per_hour)
            uploads, released = store.uploads(person.id), store.released(person.id)
            return {"uploads": uploads, "shown": {u.id: _shown(u, released) for u in uploads}, "released": released,
                    "left": left, "frees": frees, "dues": _dues(service, store, person.id)}

        return service.page(request, "student.html.j2", person=person, limit=service.settings.checks_per_hour,
                            **await service.db(read))

    async def upload(request: Request) -> Response:
        person = await require(service, request, "student")
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await checked_form(request, service)
            kind = str(form.get("kind") or "")
            received = [Received(item.filename or "", await item.read()) for item in form.getlist("files")
                        if isinstance(item, UploadFile) and item.filename]
        else:  # grader submit --to: the file itself, its name in the query (bearer token: no cookie, no CSRF)
            if "authorization" not in request.headers:
                raise HTTPException(403, "csrf")
            kind = request.query_params.get("kind", "handin")
            received = [Received(request.query_params.get("name", ""), await request.body())]
        if kind not in ("check", "handin"):
            return refused(service, request, 400, T.same(f"kind must be check or handin, not {kind[:20]!r}"))
        try:
            made = await service.db(lambda store: service.accept(store, person.id, kind, received))
        except UploadRejected as rejected:
            return refused(service, request, 400, rejected.text)
        except QuotaExceeded as quota:
            said = {lang: word("rate_limited", lang, n=quota.limit, at=when(quota.frees_at)) for lang in ("ko", "en")}
            return refused(service, request, 429, T(said["ko"], said["en"]))
        if wants_json(request) or "authorization" in request.headers:
            return JSONResponse(_receipt(made, service.settings.url), status_code=201)
        return RedirectResponse(f"/me/uploads/{made.id}", 303)

    async def one_upload(request: Request) -> Response:
        person = await require(service, request, "student")
        found, released = await _own_upload(service, request, person)
        if "authorization" in request.headers:
            return JSONResponse(_receipt(found, service.settings.url))
        return service.page(request, "upload.html.j2", person=person, upload=found,
                            shown=_shown(found, released))

    async def upload_status(request: Request) -> Response:
        person = await require(service, request, "student")
        found, released = await _own_upload(service, request, person)
        html = ""
        if found.state in ("graded", "failed"):
            lang = service.lang(request)
            html = service.pages.get_template("_result.html.j2").render(
                lang=lang, w=lambda key, **more: word(key, lang, **more), upload=found, shown=_shown(found, released))
        return JSONResponse({"state": found.state, "word": word(found.state, service.lang(request)), "html": html})

    async def feedback(request: Request) -> Response:
        person = await require(service, request, "student")
        result, grade, released, notes = await service.db(lambda store: _released_feedback(service, store, person.id))
        asked = await service.db(lambda store: store.requests(person.id))
        context: dict[str, Any] = {}
        targets: list[tuple[str, str, str]] = []  # (exercise, check or rubric item id, title) a request may name
        if result is not None:
            from grader.publish.report import report_context

            lang = service.lang(request)
            context = report_context(result, lang, grade, notes)
            for exercise in result.exercises:
                declared = service.course.exercise(exercise.exercise_id)
                targets += [(exercise.exercise_id, c.id, c.title(lang)) for c in exercise.checks if c.counts]
                targets += [(exercise.exercise_id, declared.rubric_check_id(i), i.title(lang)) for i in declared.rubric]
        return service.page(request, "feedback.html.j2", person=person, released=released, report=context,
                            asked=asked, targets=targets, **{"has_report": result is not None})

    async def ask_regrade(request: Request) -> Response:
        person = await require(service, request, "student")
        form = await checked_form(request, service)
        target, reason = str(form.get("target") or ""), str(form.get("reason") or "")
        exercise = target.split("::")[0]  # a check's id, or a rubric item's, starts with its exercise

        def record(store: ServiceStore) -> int:
            # Only on what the student can see: a released exercise's check or rubric item.
            if exercise not in store.released(person.id):
                raise RequestRefused(f"{exercise[:40]!r} is not released yet")
            row = store.row(person.id)
            known = {c.id for e in (row.result.exercises if row and row.result else []) if e.exercise_id == exercise
                     for c in e.checks}
            declared = next(e for e in service.course.exercises if e.id == exercise)
            known |= {declared.rubric_check_id(item) for item in declared.rubric}
            if target not in known:
                raise RequestRefused(f"no check or rubric item {target[:80]!r} in {exercise}")
            return store.ask_regrade(person.id, exercise, target, reason)

        try:
            await service.db(record)
        except RequestRefused as error:
            return refused(service, request, 400, T.same(str(error)))
        return RedirectResponse("/me/feedback", 303)

    async def health(request: Request) -> Response:
        import sys

        queue = await service.db(lambda store: store.queue_depth())
        grading = service.grading
        return JSONResponse({"queue": queue, "grading": bool(grading and grading.is_alive()),
                             "failure": failure(service), "epoch": grading.epoch if grading else 0,
                             "torch_loaded": "torch" in sys.modules})

    async def report_css(request: Request) -> Response:
        return Response(service.report_css, media_type="text/css")

    return [
        Route("/", home), Route("/s/{token}", sign_in), Route("/signout", sign_out, methods=["POST"]),
        Route("/lti/login", lti_login, methods=["GET", "POST"]), Route("/lti/launch", lti_launch, methods=["POST"]),
        Route("/lti/jwks", lti_jwks),
        Route("/me", me), Route("/me/uploads", upload, methods=["POST"]),
        Route("/me/uploads/{id:int}", one_upload), Route("/me/uploads/{id:int}/status", upload_status),
        Route("/me/feedback", feedback),
        Route("/api/uploads", upload, methods=["POST"]), Route("/api/uploads/{id:int}", one_upload),
        Route("/me/requests", ask_regrade, methods=["POST"]), *desk_routes(service),
        Route("/health", health), Route("/static/report.css", report_css),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def _own_upload(service: Service, request: Request, person: Person) -> tuple[Upload, set[str]]:
    upload_id = int(request.path_params["id"])
    found, released = await service.db(lambda store: (store.upload(upload_id), store.released(person.id)))
    if found is None or found.student_id != person.id:
        raise HTTPException(404)  # another student's is as absent as one never made
    return found, released


def _lms(service: Service) -> Lms:
    if service.lms is None:
        raise HTTPException(404)  # not registered with an LMS: service.toml has no [lti]
    return service.lms


def _shown(upload: Upload, released: set[str]) -> SubmissionResult | None:
    """What the student may see of an upload's result: the self-check of the exercises it brought,
    and those released whole."""
    if upload.result is None:
        return None
    seen = upload.result.as_public(released)
    brought = [e for e in seen.exercises if e.status is not ExerciseStatus.MISSING]
    return replace(seen, exercises=brought or seen.exercises)


def _receipt(upload: Upload, base_url: str) -> dict[str, Any]:
    """What an upload's answer says: the server's receipt time (the submission time), each file's
    SHA-256, the id; and the self-check's score once graded."""
    return {"id": upload.id, "kind": upload.kind, "received_at": upload.received_at, "state": upload.state,
            "files": [{"name": f.name, "sha256": f.sha256, "bytes": f.bytes} for f in upload.files],
            "url": f"{base_url.rstrip('/')}/me/uploads/{upload.id}",
            "score": ({"points": seen.score, "of": seen.max_score} if (seen := _shown(upload, set())) else None)}


def _dues(service: Service, store: ServiceStore, student_id: str) -> dict[str, datetime | None]:
    from grader.grades.late import effective_due

    policy = service.course.late
    if policy is None:
        return {e.id: None for e in service.course.exercises}
    mine = [e for e in store.extensions() if e.student_id == student_id]
    return {e.id: effective_due(policy, e.id, mine) for e in service.course.exercises}


def _released_feedback(service: Service, store: ServiceStore, student_id: str) -> tuple[
        SubmissionResult | None, FinalGrade | None, set[str], dict[str, list[T]]]:
    """The counted hand-ins' result, final grade and the instructors' notes, for the released
    exercises only."""
    from grader.grades.book import class_grades
    from grader.insight.annotations import notes
    from grader.insight.mistakes import clusters

    released = store.released(student_id)
    row = store.row(student_id)
    if row is None or row.result is None or not released:
        return None, None, released, {}
    shown = [e for e in row.result.exercises if e.exercise_id in released]
    if not shown:
        return None, None, released, {}
    # Their own row only: a cluster's id comes from the mistake itself, so theirs are found alone.
    grade = class_grades(store, service.course, [row])[student_id]
    grade = replace(grade, exercises=[e for e in grade.exercises if e.exercise_id in released])
    found = clusters({student_id: row.result}, service.course)
    mine = notes(store.annotations(), found).get(student_id, {})
    keep = {k: v for k, v in mine.items() if k.split("::")[0] in released}
    return replace(row.result, exercises=shown), grade, released, keep


def create_app(folder: Path, config: GradeConfig, options: BulkOptions | None = None) -> Starlette:
    """The app for the service folder ``folder``; ``options``: grade the queue with the bulk engine
    (None: serve only, for a second look at a folder another process grades)."""
    service = Service(ServiceFolder(folder), config, options)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if service.grading is not None:
            service.grading.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.close)

    async def on_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        key = {401: "bad_link", 403: "csrf" if error.detail == "csrf" else "forbidden", 404: "not_found"}.get(
            error.status_code, "not_found")
        if wants_json(request) or "authorization" in request.headers:
            return JSONResponse({"error": word(key, "en"), "error_ko": word(key, "ko")},
                                status_code=error.status_code)
        return service.page(request, "message.html.j2", error.status_code, title=key, text=None)

    settings = service.settings
    app = Starlette(routes=_views(service), lifespan=lifespan, exception_handlers={HTTPException: on_error},
                    middleware=[Middleware(SecurityHeaders, secure=settings.secure),
                                Middleware(BodyLimit, limit=settings.upload_bytes),
                                Middleware(SessionMiddleware, secret_key=service.folder.secret(),
                                           session_cookie="grader_session", same_site="lax",
                                           https_only=settings.secure, max_age=14 * 24 * 3600)])
    app.state.service = service
    return app
