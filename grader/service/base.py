"""What every view of the course service shares: the :class:`Service` (one service folder as the
app serves it: its settings, course, stores, grading and pages), who is asking, and how a
refusal is answered (a page, or JSON for the shell and the page's scripts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from grader.config import GradeConfig
from grader.hashing import config_fingerprint, digests_hash
from grader.i18n import T
from grader.service.folder import ServiceFolder, ServiceSettings
from grader.service.intake import MAX_FILES, Received, check_upload
from grader.service.lms import lms_for
from grader.service.security import csrf_token, csrf_valid
from grader.service.words import word
from grader.store.service import FileStore, Person, ServiceStore, Upload

if TYPE_CHECKING:
    from grader.bulk.run import BulkOptions
    from grader.service.grading import GradingLoop

__all__ = ["Service", "checked_form", "failure", "person_of", "refused", "require", "wants_json", "when"]

Value = TypeVar("Value")


class Service:
    """One service folder as the app serves it: its settings, its course, its stores, its grading."""

    def __init__(self, folder: ServiceFolder, config: GradeConfig, options: BulkOptions | None) -> None:
        self.folder = folder
        self.settings: ServiceSettings = folder.settings()
        self.config = config
        self.course = config.course
        self.fingerprint = config_fingerprint(config)
        self.files = FileStore(folder.files)
        from grader.service.grading import GradingLoop  # the bulk engine: only where this process grades

        self.grading: GradingLoop | None = GradingLoop(folder, config, options) if options is not None else None
        self.lms = lms_for(folder.settings_path, folder.database, self.settings.url, self.settings.line_items)
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
        if self.lms is not None:
            self.lms.close()
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
    env.filters["when"] = when
    return env


def when(moment: str | datetime | None) -> str:
    """A time as people read it: to the minute, with its offset."""
    if moment is None:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.strftime("%Y-%m-%d %H:%M:%S %z").replace("+0000", "UTC")


# ---------------------------------------------------------------------- who is asking

async def person_of(service: Service, request: Request) -> Person | None:
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        token = bearer[7:].strip()
        return await service.db(lambda store: store.person(token))
    digest = request.session.get("who")
    if not isinstance(digest, str):
        return None
    return await service.db(lambda store: store.person_by_digest(digest))


async def require(service: Service, request: Request, *roles: str) -> Person:
    person = await person_of(service, request)
    if person is None:
        raise HTTPException(401)
    if person.role not in roles:
        raise HTTPException(403)
    return person


async def checked_form(request: Request, service: Service) -> Any:
    form = await request.form(max_files=MAX_FILES + 1, max_fields=20)
    if not csrf_valid(request.session, form.get("csrf")):
        raise HTTPException(403, "csrf")
    return form


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def failure(service: Service) -> str:
    grading = service.grading
    if grading is None:
        return ""
    return grading.failure or ("" if grading.is_alive() or not grading.ready.is_set() else "grading stopped")


def refused(service: Service, request: Request, status: int, why: T) -> Response:
    lang = service.lang(request)
    if wants_json(request) or "authorization" in request.headers:
        return JSONResponse({"error": why(lang), "error_ko": why.ko, "error_en": why.en}, status_code=status)
    return service.page(request, "message.html.j2", status, title="rejected", text=why(lang))
