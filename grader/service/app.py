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

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from grader.bulk.run import BulkOptions
from grader.config import GradeConfig
from grader.grades.final import FinalGrade
from grader.hashing import config_fingerprint, digests_hash
from grader.i18n import T
from grader.results import ExerciseStatus, SubmissionResult
from grader.service.folder import ServiceFolder, ServiceSettings
from grader.service.grading import GradingLoop
from grader.service.intake import MAX_FILES, Received, UploadRejected, check_upload
from grader.service.security import BodyLimit, SecurityHeaders, csrf_token, csrf_valid
from grader.service.words import word
from grader.store.service import FileStore, Person, QuotaExceeded, ServiceStore, Upload, token_digest

__all__ = ["Service", "create_app"]

Value = TypeVar("Value")
STATIC = Path(__file__).resolve().parent / "static"


class Service:
    """One service folder as the app serves it: its settings, its course, its stores, its grading."""

    def __init__(self, folder: ServiceFolder, config: GradeConfig, options: BulkOptions | None) -> None:
        self.folder = folder
        self.settings: ServiceSettings = folder.settings()
        self.config = config
        self.course = config.course
        self.fingerprint = config_fingerprint(config)
        self.files = FileStore(folder.files)
        self.grading = GradingLoop(folder, config, options) if options is not None else None
        self._local = threading.local()
        self._stores: list[ServiceStore] = []
        self._lock = threading.Lock()
        self.pages = _environment()
        from grader.publish.report import environment

        self.report_css = environment().get_template("_style.css.j2").render()

    def store(self) -> ServiceStore:
        """This thread's connection to the service's database."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = ServiceStore(self.folder.database)
            with self._lock:
                self._stores.append(store)
        return store

    async def db(self, work: Callable[[ServiceStore], Value]) -> Value:
        return await run_in_threadpool(lambda: work(self.store()))

    def close(self) -> None:
        if self.grading is not None:
            self.grading.stop()
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()

    # ------------------------------------------------------------------ uploads
    def accept(self, store: ServiceStore, student_id: str, kind: str, received: list[Received]) -> Upload:
        """Check, keep and queue an upload (files first, then its row, committed before the answer)."""
        listed = check_upload(received)
        for item in received:
            self.files.put(item.data)
        digest = digests_hash([(f.name, f.sha256) for f in listed], self.fingerprint)
        return store.add_upload(student_id, kind, listed, digest, checks_per_hour=self.settings.checks_per_hour)

    def lang(self, request: Request) -> str:
        chosen = request.query_params.get("lang")
        if chosen in ("ko", "en"):
            request.session["lang"] = chosen
        found = request.session.get("lang")
        return found if found in ("ko", "en") else self.settings.lang

    def page(self, request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        lang = self.lang(request)
        html = self.pages.get_template(template).render(
            lang=lang, w=lambda key, **more: word(key, lang, **more), course=self.course,
            csrf=csrf_token(request.session), path=request.url.path, **values)
        return HTMLResponse(html, status_code=status)


def _environment() -> jinja2.Environment:
    from grader.publish.report import environment

    reports = environment()
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.PackageLoader("grader.service", "templates"),
                                    jinja2.PackageLoader("grader.publish", "templates")]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(reports.globals)
    env.filters.update(reports.filters)
    env.filters["when"] = _when
    return env


def _when(moment: str | datetime | None) -> str:
    """A time as people read it: to the minute, with its offset."""
    if moment is None:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.strftime("%Y-%m-%d %H:%M:%S %z").replace("+0000", "UTC")


# ---------------------------------------------------------------------- who is asking

async def _person(service: Service, request: Request) -> Person | None:
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        token = bearer[7:].strip()
        return await service.db(lambda store: store.person(token))
    digest = request.session.get("who")
    if not isinstance(digest, str):
        return None
    return await service.db(lambda store: store.person_by_digest(digest))


async def _require(service: Service, request: Request, *roles: str) -> Person:
    person = await _person(service, request)
    if person is None:
        raise HTTPException(401)
    if person.role not in roles:
        raise HTTPException(403)
    return person


async def _form(request: Request, service: Service) -> Any:
    form = await request.form(max_files=MAX_FILES + 1, max_fields=20)
    if not csrf_valid(request.session, form.get("csrf")):
        raise HTTPException(403, "csrf")
    return form


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


# ---------------------------------------------------------------------- views

def _views(service: Service) -> list[Any]:
    async def home(request: Request) -> Response:
        person = await _person(service, request)
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

    async def sign_out(request: Request) -> Response:
        await _form(request, service)
        request.session.clear()
        return RedirectResponse("/", 303)

    async def me(request: Request) -> Response:
        person = await _require(service, request, "student")

        def read(store: ServiceStore) -> dict[str, Any]:
            left, frees = store.checks_left(person.id, service.settings.checks_per_hour)
            uploads, released = store.uploads(person.id), store.released(person.id)
            return {"uploads": uploads, "shown": {u.id: _shown(u, released) for u in uploads}, "released": released,
                    "left": left, "frees": frees, "dues": _dues(service, store, person.id)}

        return service.page(request, "student.html.j2", person=person, limit=service.settings.checks_per_hour,
                            **await service.db(read))

    async def upload(request: Request) -> Response:
        person = await _require(service, request, "student")
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await _form(request, service)
            kind = str(form.get("kind") or "")
            received = [Received(item.filename or "", await item.read()) for item in form.getlist("files")
                        if isinstance(item, UploadFile) and item.filename]
        else:  # grader submit --to: the file itself, its name in the query (bearer token: no cookie, no CSRF)
            if "authorization" not in request.headers:
                raise HTTPException(403, "csrf")
            kind = request.query_params.get("kind", "handin")
            received = [Received(request.query_params.get("name", ""), await request.body())]
        if kind not in ("check", "handin"):
            return _refused(service, request, 400, T.same(f"kind must be check or handin, not {kind[:20]!r}"))
        try:
            made = await service.db(lambda store: service.accept(store, person.id, kind, received))
        except UploadRejected as rejected:
            return _refused(service, request, 400, rejected.text)
        except QuotaExceeded as quota:
            said = {lang: word("rate_limited", lang, n=quota.limit, at=_when(quota.frees_at)) for lang in ("ko", "en")}
            return _refused(service, request, 429, T(said["ko"], said["en"]))
        if _wants_json(request) or "authorization" in request.headers:
            return JSONResponse(_receipt(made, service.settings.url), status_code=201)
        return RedirectResponse(f"/me/uploads/{made.id}", 303)

    async def one_upload(request: Request) -> Response:
        person = await _require(service, request, "student")
        found, released = await _own_upload(service, request, person)
        if "authorization" in request.headers:
            return JSONResponse(_receipt(found, service.settings.url))
        return service.page(request, "upload.html.j2", person=person, upload=found,
                            shown=_shown(found, released))

    async def upload_status(request: Request) -> Response:
        person = await _require(service, request, "student")
        found, released = await _own_upload(service, request, person)
        html = ""
        if found.state in ("graded", "failed"):
            lang = service.lang(request)
            html = service.pages.get_template("_result.html.j2").render(
                lang=lang, w=lambda key, **more: word(key, lang, **more), upload=found, shown=_shown(found, released))
        return JSONResponse({"state": found.state, "word": word(found.state, service.lang(request)), "html": html})

    async def feedback(request: Request) -> Response:
        person = await _require(service, request, "student")
        result, grade, released, notes = await service.db(lambda store: _released_feedback(service, store, person.id))
        context: dict[str, Any] = {}
        if result is not None:
            from grader.publish.report import report_context

            context = report_context(result, service.lang(request), grade, notes)
        return service.page(request, "feedback.html.j2", person=person, released=released,
                            report=context, **{"has_report": result is not None})

    async def desk(request: Request) -> Response:
        person = await _require(service, request, "ta", "instructor")

        def read(store: ServiceStore) -> dict[str, Any]:
            return {"people": store.people("student"), "uploads": store.uploads(),
                    "releases": store.releases(), "queue": store.queue_depth()}

        return service.page(request, "desk.html.j2", person=person, failure=_failure(service), **await service.db(read))

    async def release(request: Request) -> Response:
        person = await _require(service, request, "instructor")
        form = await _form(request, service)
        exercise = str(form.get("exercise") or "")
        student = str(form.get("student") or "").strip() or None
        if exercise not in {e.id for e in service.course.exercises}:
            return _refused(service, request, 400, T.same(f"no exercise {exercise[:40]!r} in this course"))
        known = await service.db(lambda store: {p.id for p in store.people("student")})
        if student is not None and student not in known:
            return _refused(service, request, 400, T.same(f"no student {student[:40]!r} on the roster"))
        await service.db(lambda store: store.release(exercise, person.id, student))
        return RedirectResponse("/desk", 303)

    async def health(request: Request) -> Response:
        import sys

        queue = await service.db(lambda store: store.queue_depth())
        grading = service.grading
        return JSONResponse({"queue": queue, "grading": bool(grading and grading.is_alive()),
                             "failure": _failure(service), "epoch": grading.epoch if grading else 0,
                             "torch_loaded": "torch" in sys.modules})

    async def report_css(request: Request) -> Response:
        return Response(service.report_css, media_type="text/css")

    return [
        Route("/", home), Route("/s/{token}", sign_in), Route("/signout", sign_out, methods=["POST"]),
        Route("/me", me), Route("/me/uploads", upload, methods=["POST"]),
        Route("/me/uploads/{id:int}", one_upload), Route("/me/uploads/{id:int}/status", upload_status),
        Route("/me/feedback", feedback),
        Route("/api/uploads", upload, methods=["POST"]), Route("/api/uploads/{id:int}", one_upload),
        Route("/desk", desk), Route("/desk/release", release, methods=["POST"]),
        Route("/health", health), Route("/static/report.css", report_css),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def _failure(service: Service) -> str:
    grading = service.grading
    if grading is None:
        return ""
    return grading.failure or ("" if grading.is_alive() or not grading.ready.is_set() else "grading stopped")


async def _own_upload(service: Service, request: Request, person: Person) -> tuple[Upload, set[str]]:
    upload_id = int(request.path_params["id"])
    found, released = await service.db(lambda store: (store.upload(upload_id), store.released(person.id)))
    if found is None or found.student_id != person.id:
        raise HTTPException(404)  # another student's is as absent as one never made
    return found, released


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


def _refused(service: Service, request: Request, status: int, why: T) -> Response:
    lang = service.lang(request)
    if _wants_json(request) or "authorization" in request.headers:
        return JSONResponse({"error": why(lang), "error_ko": why.ko, "error_en": why.en}, status_code=status)
    return service.page(request, "message.html.j2", status, title="rejected", text=why(lang))


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
    rows = store.rows()
    row = next((r for r in rows if r.student_id == student_id), None)
    if row is None or row.result is None or not released:
        return None, None, released, {}
    shown = [e for e in row.result.exercises if e.exercise_id in released]
    if not shown:
        return None, None, released, {}
    grade = class_grades(store, service.course, rows)[student_id]
    grade = replace(grade, exercises=[e for e in grade.exercises if e.exercise_id in released])
    found = clusters({r.student_id: r.result for r in rows}, service.course)
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
        if _wants_json(request) or "authorization" in request.headers:
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
