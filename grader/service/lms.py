"""The course service in an LMS, over LTI 1.3 (:mod:`grader.service.lti` does the protocol):
a launch signs a person in, the roster comes from the LMS, and grades go back to it.

- **People.** An LTI user is linked to one person of the service: the one whose id is the
  user's ``lis_person_sourcedid`` (the student number a roster CSV has), else their LTI id. A
  person first seen in a launch or a roster sync is added, with the role the LMS gives.
- **Where the LMS's services are.** An instructor's launch carries the course's line items and
  roster URLs; the service keeps the latest, so that publishing and syncing work from the desk.
- **Publishing.** Only what is released to the whole class is published: one line item per
  exercise (``line_items = "exercise"``, the default), or one for the whole assignment, made
  once and found again by its ``resourceId``. Each score is the final grade (``scoreGiven``,
  ``scoreMaximum``), with a comment that says only the points and the lateness: never a check's
  text. A preview lists what would change; a publish sends what changed, with one timestamp,
  logs each answer, and sends again only what failed (the ledger never sends a score twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.course.manifest import Course
from grader.grades.book import class_grades
from grader.grades.final import FinalGrade
from grader.service.lti import (
    LtiLaunch,
    LtiTool,
    Registration,
    Score,
    SqliteLtiStore,
    load_or_create_key,
    load_registration,
)
from grader.store.desk import SentScore
from grader.store.service import Person, ServiceStore

__all__ = ["Lms", "Planned", "lms_for"]

ASSIGNMENT = "assignment"


@dataclass(frozen=True)
class Planned:
    """One score a publish would send: to whom, on which line item (its resourceId), and whether
    the LMS has it already."""

    student_id: str
    resource_id: str
    label: str
    score: Score
    sent_before: bool


class Lms:
    def __init__(self, registration: Registration, database: Path, launch_url: str, line_items: str) -> None:
        self.registration = registration
        self.store = SqliteLtiStore(database)
        self.tool = LtiTool(registration, key=load_or_create_key(registration.key_file), store=self.store,
                            launch_url=launch_url)
        self.line_items = line_items  # "exercise" or "assignment"

    def close(self) -> None:
        self.tool.services.close()
        self.tool.close()

    # ------------------------------------------------------------------ people
    def person_for(self, store: ServiceStore, launch: LtiLaunch) -> Person:
        """The person this launch signs in (added where new); their endpoints kept from an instructor's."""
        lis = launch.claims.get("https://purl.imsglobal.org/spec/lti/claim/lis") or {}
        person_id = store.lti_person(launch.user_id) or str(lis.get("person_sourcedid") or launch.user_id)
        if launch.role == "instructor" and launch.ags is not None:
            store.set_lti_endpoints(launch.ags.lineitems, launch.memberships_url, launch.resource_link_id)
        return store.link_lti_person(launch.user_id, person_id, launch.role, launch.name or person_id)

    def sync_roster(self, store: ServiceStore) -> int:
        """Everyone the LMS lists, linked or added; how many. Network I/O."""
        _, memberships, _ = store.lti_endpoints()
        if not memberships:
            raise LookupError("no roster service known yet: launch the tool once from the LMS as an instructor")
        count = 0
        for member in self.tool.services.members(memberships):
            if member.status != "Active":
                continue
            person_id = store.lti_person(member.user_id) or member.sourced_id or member.user_id
            store.link_lti_person(member.user_id, person_id, member.role, member.name or person_id)
            count += 1
        return count

    # ------------------------------------------------------------------ grades
    def plan(self, store: ServiceStore, course: Course) -> list[Planned]:
        """What a publish would send now, and whether each was sent before as it is."""
        released = store.released_to_all()
        exercises = [e for e in course.exercises if e.id in released]
        grades = class_grades(store, course)
        planned = []
        for user_id, person_id in store.lti_people("student"):
            grade = grades.get(person_id)
            if grade is None or not exercises:
                continue
            for resource_id, label, given, most in _scores(grade, exercises, course, self.line_items):
                if most <= 0:
                    continue
                score = Score(user_id, round(given, 4), round(most, 4), comment=_comment(grade, given, most))
                planned.append(Planned(person_id, resource_id, label, score,
                                       self._sent(store, resource_id, user_id) == score.digest()))
        return planned

    def _sent(self, store: ServiceStore, resource_id: str, user_id: str) -> str | None:
        line_item = store.lti_line_item(resource_id)
        return self.store.sent_digest(line_item, user_id) if line_item else None

    def publish(self, store: ServiceStore, course: Course) -> tuple[int, int, int]:
        """Send what changed; (sent, unchanged, failed). Network I/O."""
        lineitems, _, link = store.lti_endpoints()
        if not lineitems:
            raise LookupError("no grade service known yet: launch the tool once from the LMS as an instructor")
        plan = self.plan(store, course)
        sent = unchanged = failed = 0
        for resource_id in dict.fromkeys(p.resource_id for p in plan):
            mine = [p for p in plan if p.resource_id == resource_id]
            item = self.tool.services.ensure_line_item(lineitems, resource_id=resource_id, label=mine[0].label,
                                                       score_maximum=max(p.score.score_maximum for p in mine),
                                                       resource_link_id=link)
            store.set_lti_line_item(resource_id, item.id)
            report = self.tool.services.publish(item, [p.score for p in mine], ledger=self.store)
            who = {p.score.user_id: p.student_id for p in mine}
            answers = [(s, True, "accepted") for s in report.sent] + [(s, False, why) for s, why in report.failed]
            for score, ok, answer in answers:
                store.log_score(SentScore(who[score.user_id], item.id, score.score_given, score.score_maximum,
                                          report.timestamp, ok, answer))
            sent, unchanged, failed = sent + len(report.sent), unchanged + len(report.unchanged), \
                failed + len(report.failed)
        return sent, unchanged, failed


def _scores(grade: FinalGrade, exercises: list, course: Course, line_items: str) -> list[tuple[str, str, float, float]]:
    """(resourceId, label, given, maximum) per line item."""
    by_id = {e.exercise_id: e for e in grade.exercises}
    rows = [(e.id, e.title("en"), by_id[e.id].final if e.id in by_id else 0.0,
             by_id[e.id].possible if e.id in by_id else e.possible) for e in exercises]
    if line_items == ASSIGNMENT:
        return [(ASSIGNMENT, course.title("en") or "Practicals", sum(r[2] for r in rows), sum(r[3] for r in rows))]
    return rows


def _comment(grade: FinalGrade, given: float, most: float) -> str:
    # Only numbers and lateness: a check's message may quote hidden inputs, so none goes to the LMS.
    late = f"; handed in {grade.late_seconds / 3600:.1f} h late" if grade.late else ""
    return f"{given:g} / {most:g} points{late}"


def lms_for(settings_path: Path, database: Path, base_url: str, line_items: str) -> Lms | None:
    """The service's LMS link, where ``service.toml`` has an ``[lti]`` table."""
    registration = load_registration(settings_path)
    if registration is None:
        return None
    return Lms(registration, database, f"{base_url.rstrip('/')}/lti/launch", line_items)
