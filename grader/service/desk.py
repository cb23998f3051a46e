"""The instructors' desk: the class, a student, rubric items, regrade requests, releases.

TAs and instructors may grade (adjust, score rubric items, answer requests and clusters); only
instructors release and publish. Every decision goes into the gradebook's append-only records
(adjustments, annotations, requests, releases) with its author, so ``grader history`` and the
student's page show it as they show the command line's. A rubric item's score is a ``set``
adjustment of the item (:mod:`grader.grades.final`), with the level's reusable comment (in the
course's language) or the scorer's own as its reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from grader.course.manifest import Exercise
from grader.course.rubric import RubricItem
from grader.errors import GraderError
from grader.grades.book import class_grades, record_adjustment
from grader.grades.final import FinalGrade
from grader.i18n import T
from grader.results import ExerciseStatus
from grader.service.answers import find_answer
from grader.service.base import Service, checked_form, failure, refused, require
from grader.store.desk import RequestRefused
from grader.store.records import Adjustment, Row
from grader.store.service import ServiceStore

__all__ = ["desk_routes"]

GRADERS = ("ta", "instructor")


@dataclass
class ClassLine:
    """One student as the class view shows them."""

    id: str
    name: str
    row: Row | None
    grade: FinalGrade | None
    clusters: list[str]

    @property
    def status(self) -> str:
        return self.row.status.value if self.row is not None else "missing"


def _class(service: Service, store: ServiceStore) -> tuple[list[ClassLine], dict[str, Any]]:
    """Every student on the roster with their row, final grade and mistake clusters; the clusters."""
    from grader.insight.mistakes import clusters

    rows = store.rows()
    grades = class_grades(store, service.course, rows)
    found = clusters({r.student_id: r.result for r in rows}, service.course)
    member: dict[str, list[str]] = {}
    for every in found.values():
        for cluster in every:
            for student in cluster.members:
                member.setdefault(student, []).append(cluster.id)
    by_id = {r.student_id: r for r in rows}
    lines = [ClassLine(p.id, p.name, by_id.get(p.id), grades.get(p.id), member.get(p.id, []))
             for p in store.people("student")]
    return lines, found


def _filtered(lines: list[ClassLine], query: Any) -> list[ClassLine]:
    status, cluster, late = query.get("status", ""), query.get("cluster", ""), query.get("late", "")
    return [line for line in lines
            if (not status or line.status == status) and (not cluster or cluster in line.clusters)
            and (late != "yes" or (line.grade is not None and line.grade.late))
            and (late != "no" or line.grade is None or not line.grade.late)]


def _rubric_target(service: Service, exercise_id: str, item_id: str) -> tuple[Exercise, RubricItem]:
    exercise = next((e for e in service.course.exercises if e.id == exercise_id), None)
    item = next((i for i in exercise.rubric if i.id == item_id), None) if exercise else None
    if exercise is None or item is None:
        raise HTTPException(404)
    return exercise, item


def scoring_order(scorer: str, item: str, students: list[str]) -> list[str]:
    """The students in a random order of the scorer's own, the same on every visit (no one is
    always scored first, or last, when the scorer is tired)."""
    return sorted(students, key=lambda s: hashlib.sha256(f"{scorer}|{item}|{s}".encode()).hexdigest())


def _brought(row: Row | None, exercise_id: str) -> bool:
    return row is not None and row.result is not None and any(
        e.exercise_id == exercise_id and e.status is not ExerciseStatus.MISSING for e in row.result.exercises)


def _number(text: Any, what: str) -> float | None:
    if text in (None, ""):
        return None
    try:
        return float(str(text))
    except ValueError:
        raise _Invalid(f"{what} must be a number, not {str(text)[:20]!r}") from None


class _Invalid(Exception):
    """A desk form with a bad field: answered 400 with the reason."""


def desk_routes(service: Service) -> list[Route]:
    async def desk(request: Request) -> Response:
        person = await require(service, request, *GRADERS)

        def read(store: ServiceStore) -> dict[str, Any]:
            lines, found = _class(service, store)
            return {"lines": _filtered(lines, request.query_params), "every": lines,
                    "clusters": [c for every in found.values() for c in every],
                    "statuses": sorted({line.status for line in lines}),
                    "releases": store.releases(), "queue": store.queue_depth(),
                    "open_requests": sum(r.open for r in store.requests()),
                    "scored": _rubric_progress(service, lines)}

        return service.page(request, "desk.html.j2", person=person, failure=failure(service),
                            query=request.query_params, **await service.db(read))

    async def student(request: Request) -> Response:
        person = await require(service, request, *GRADERS)
        student_id = request.path_params["student"]

        def read(store: ServiceStore) -> dict[str, Any] | None:
            found = next((p for p in store.people("student") if p.id == student_id), None)
            if found is None:
                return None
            lines, _ = _class(service, store)
            line = next(line for line in lines if line.id == student_id)
            return {"student": found, "line": line, "uploads": store.uploads(student_id),
                    "requests": store.requests(student_id), "released": store.released(student_id)}

        values = await service.db(read)
        if values is None:
            raise HTTPException(404)
        return service.page(request, "desk_student.html.j2", person=person, **values)

    async def adjust(request: Request) -> Response:
        person = await require(service, request, *GRADERS)
        form = await checked_form(request, service)
        student_id = str(form.get("student") or "")
        try:
            made = Adjustment(student_id=student_id, exercise_id=str(form.get("exercise") or ""),
                              kind=str(form.get("kind") or ""), reason=str(form.get("reason") or ""),
                              author=person.id, check_id=str(form.get("check") or "").strip() or None,
                              value=_number(form.get("value"), "points"))
            await service.db(lambda store: record_adjustment(store, service.course, made))
        except (_Invalid, GraderError) as error:
            return refused(service, request, 400, T.same(str(error)))
        return RedirectResponse(f"/desk/students/{student_id}", 303)

    async def annotate(request: Request) -> Response:
        from grader.insight.annotations import annotate as record

        person = await require(service, request, *GRADERS)
        form = await checked_form(request, service)
        try:
            points = _number(form.get("points"), "points")
            await service.db(lambda store: record(
                store, service.course, str(form.get("cluster") or ""), comment_ko=str(form.get("comment_ko") or ""),
                comment_en=str(form.get("comment_en") or ""), author=person.id, points=points))
        except (_Invalid, GraderError) as error:
            return refused(service, request, 400, T.same(str(error)))
        return RedirectResponse("/desk", 303)

    async def rubric(request: Request) -> Response:
        person = await require(service, request, *GRADERS)
        exercise, item = _rubric_target(service, request.path_params["exercise"], request.path_params["item"])
        check_id = exercise.rubric_check_id(item)
        if request.method == "POST":
            form = await checked_form(request, service)
            student_id = str(form.get("student") or "")
            try:
                level = _number(form.get("level"), "the level")
                chosen = item.level_of(level) if level is not None else None
                points = chosen.points if chosen is not None else _number(form.get("points"), "points")
                comment = (chosen.comment(service.settings.lang) if chosen is not None
                           else str(form.get("comment") or ""))
                if points is None:
                    raise _Invalid("choose a level, or give points of your own with a comment")
                made = Adjustment(student_id=student_id, exercise_id=exercise.id, kind="set", reason=comment,
                                  author=person.id, check_id=check_id, value=points)
                await service.db(lambda store: record_adjustment(store, service.course, made))
            except (_Invalid, GraderError) as error:
                return refused(service, request, 400, T.same(str(error)))
            return RedirectResponse(request.url.path, 303)

        wanted = request.query_params.get("student")

        def read(store: ServiceStore) -> dict[str, Any]:
            lines, _ = _class(service, store)
            brought = {line.id: line for line in lines if _brought(line.row, exercise.id)}
            order = scoring_order(person.id, check_id, list(brought))
            given = {s: _given(brought[s].grade, check_id) for s in order}
            current = wanted if wanted in brought else next((s for s in order if given[s] is None), None)
            answer = find_answer(store.uploads(current), service.files, service.course, exercise, item) \
                if current else None
            return {"order": order, "given": given, "current": current, "answer": answer,
                    "line": brought.get(current) if current else None}

        return service.page(request, "rubric.html.j2", person=person, exercise=exercise, item=item,
                            check_id=check_id, **await service.db(read))

    async def requests(request: Request) -> Response:
        person = await require(service, request, *GRADERS)
        found = await service.db(lambda store: store.requests())
        return service.page(request, "requests.html.j2", person=person, requests=list(reversed(found)))

    async def answer(request: Request) -> Response:
        person = await require(service, request, *GRADERS)
        form = await checked_form(request, service)
        number = int(request.path_params["id"])
        decision, reply = str(form.get("decision") or ""), str(form.get("reply") or "")

        def record(store: ServiceStore) -> None:
            from grader.grades.book import checked_adjustment

            found = store.request(number)
            if found is None:
                raise HTTPException(404)
            made = None
            if decision == "accepted":
                made = checked_adjustment(store, service.course, Adjustment(
                    student_id=found.student_id, exercise_id=found.exercise_id, kind=str(form.get("kind") or "add"),
                    reason=reply or "regrade request accepted", author=person.id, check_id=found.target,
                    value=_number(form.get("value"), "points")))
            store.answer_regrade(number, decision, reply, person.id, made)

        try:
            await service.db(record)
        except (_Invalid, GraderError, RequestRefused) as error:
            return refused(service, request, 400, T.same(str(error)))
        return RedirectResponse("/desk/requests", 303)

    async def release(request: Request) -> Response:
        person = await require(service, request, "instructor")
        form = await checked_form(request, service)
        exercise = str(form.get("exercise") or "")
        student_id = str(form.get("student") or "").strip() or None
        if exercise not in {e.id for e in service.course.exercises}:
            return refused(service, request, 400, T.same(f"no exercise {exercise[:40]!r} in this course"))
        known = await service.db(lambda store: {p.id for p in store.people("student")})
        if student_id is not None and student_id not in known:
            return refused(service, request, 400, T.same(f"no student {student_id[:40]!r} on the roster"))
        await service.db(lambda store: store.release(exercise, person.id, student_id))
        return RedirectResponse(f"/desk/students/{student_id}" if student_id else "/desk", 303)

    async def publish(request: Request) -> Response:
        """GET: what a publish would change in the LMS, and what was sent; POST: send it."""
        person = await require(service, request, "instructor")
        said = ""
        if request.method == "POST":
            await checked_form(request, service)
            if service.lms is None:
                raise HTTPException(404)
            lms = service.lms
            try:
                sent, unchanged, failed = await service.db(lambda store: lms.publish(store, service.course))
            except (LookupError, GraderError) as error:
                return refused(service, request, 400 if isinstance(error, LookupError) else 502, T.same(str(error)))
            said = f"sent {sent}, unchanged {unchanged}, failed {failed}"

        def read(store: ServiceStore) -> dict[str, Any]:
            lms = service.lms
            return {"plan": lms.plan(store, service.course) if lms else [], "log": store.score_log()[:500],
                    "endpoints": store.lti_endpoints(), "registered": lms is not None}

        return service.page(request, "publish.html.j2", person=person, said=said, **await service.db(read))

    async def sync_roster(request: Request) -> Response:
        await require(service, request, "instructor")
        await checked_form(request, service)
        if service.lms is None:
            raise HTTPException(404)
        lms = service.lms
        try:
            await service.db(lms.sync_roster)
        except (LookupError, GraderError) as error:
            return refused(service, request, 400 if isinstance(error, LookupError) else 502, T.same(str(error)))
        return RedirectResponse("/desk", 303)

    return [
        Route("/desk/publish", publish, methods=["GET", "POST"]),
        Route("/desk/roster", sync_roster, methods=["POST"]),
        Route("/desk", desk), Route("/desk/students/{student}", student),
        Route("/desk/adjust", adjust, methods=["POST"]), Route("/desk/annotate", annotate, methods=["POST"]),
        Route("/desk/rubric/{exercise}/{item}", rubric, methods=["GET", "POST"]),
        Route("/desk/requests", requests), Route("/desk/requests/{id:int}", answer, methods=["POST"]),
        Route("/desk/release", release, methods=["POST"]),
    ]


def _given(grade: FinalGrade | None, check_id: str) -> float | None:
    if grade is None:
        return None
    return next((i.given for e in grade.exercises for i in e.rubric_items if i.check_id == check_id), None)


def _rubric_progress(service: Service, lines: list[ClassLine]) -> list[dict[str, Any]]:
    """Each rubric item with how many of the students who handed its exercise in are scored."""
    progress = []
    for exercise in service.course.exercises:
        for item in exercise.rubric:
            check_id = exercise.rubric_check_id(item)
            brought = [line for line in lines if _brought(line.row, exercise.id)]
            scored = sum(_given(line.grade, check_id) is not None for line in brought)
            progress.append({"exercise": exercise, "item": item, "scored": scored, "of": len(brought)})
    return progress
