"""Roles: an LTI launch's or roster's roles as ours (instructor, ta, student)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["map_role"]


_LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


def _role_parts(role: str) -> tuple[str, str, str]:
    """(scope, role, sub-role) of one role URI, short name or LTI 1.1 URN; scope: context, institution, system."""
    role = role.strip()
    if role.startswith(_LIS):
        path, _, name = role[len(_LIS):].partition("#")
        if path.startswith("membership/"):  # membership/Instructor#TeachingAssistant: a sub-role
            return "context", path.split("/", 1)[1], name
        scope = "context" if path == "membership" else path.split("/", 1)[0]
        return scope, name, ""
    for prefix, scope in (("urn:lti:role:ims/lis/", "context"), ("urn:lti:instrole:ims/lis/", "institution"),
                          ("urn:lti:sysrole:ims/lis/", "system")):
        if role.startswith(prefix):
            principal, _, sub = role[len(prefix):].partition("/")
            return scope, principal, sub
    return ("context", role, "") if ":" not in role and "/" not in role else ("other", role, "")


def map_role(roles: Iterable[str]) -> str:
    """Our role for an LTI roles claim: "instructor", "ta" or "student" (the least, when nothing else fits).

    Administrators (of the course, the institution or the system) are instructors; a teaching assistant or a
    grader (the Instructor#TeachingAssistant... and Instructor#Grader sub-roles, sent beside Instructor) is a
    ta; a course role wins over an institution's (a faculty member enrolled as a learner is a student there);
    Instructor or Faculty as an institution role counts only when the course gave no role that fits.
    """
    parts = [_role_parts(role) for role in roles if isinstance(role, str)]
    if any(name == "Administrator" and scope in ("context", "institution", "system") for scope, name, _ in parts):
        return "instructor"
    if any(scope == "context" and (name == "TeachingAssistant" or sub.startswith("TeachingAssistant")
                                   or (name == "Instructor" and sub == "Grader"))
           for scope, name, sub in parts):
        return "ta"
    if any(scope == "context" and name == "Instructor" for scope, name, _ in parts):
        return "instructor"
    if any(scope == "context" and name == "Learner" for scope, name, _ in parts):
        return "student"
    if any(scope == "institution" and name in ("Instructor", "Faculty") for scope, name, _ in parts):
        return "instructor"
    return "student"
