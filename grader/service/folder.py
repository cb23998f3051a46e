"""A course service's folder: what ``grader service init`` makes and ``grader service start`` serves.

::

    FOLDER/
      service.toml     the settings: the course folder, the public address, the limits (edit freely)
      secret.key       signs the session cookies (0600); a new one signs everyone out
      gradebook.sqlite the gradebook, with the people, uploads and queue beside it (grader.store.service)
      files/           every uploaded file, by its SHA-256
      work/            the graders' scratch: uploads unpacked for grading
      links.csv        every personal link, for handing out (0600)

The roster is a CSV with a ``student_id`` column and optionally ``name`` and ``role`` (``student``,
``ta``, ``instructor``); its dialect (comma, semicolon, tab) is sniffed, as LMS exports differ.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.store.service import ServiceStore

__all__ = ["ROLES", "RosterEntry", "ServiceFolder", "ServiceSettings", "read_roster"]

ROLES = ("student", "ta", "instructor")
SETTINGS = "service.toml"


@dataclass(frozen=True)
class ServiceSettings:
    course: str  # the course folder (its course.toml), absolute
    url: str = "http://127.0.0.1:8000"  # where students reach the service; https:// makes cookies Secure
    lang: str = "ko"  # the pages' language until a person picks the other
    checks_per_hour: int = 20  # self-checks per student per hour; hand-ins are never refused
    upload_mb: float = 20.0  # one upload, all its files together
    workers: int = 0  # grading worker processes (0: one per core); `start --workers` overrides
    scheduler: str = ""  # a Dask scheduler's address: grade there instead of here
    line_items: str = "exercise"  # publishing to an LMS: a line item per "exercise", or one for the "assignment"

    @property
    def secure(self) -> bool:
        return self.url.startswith("https://")

    @property
    def upload_bytes(self) -> int:
        return int(self.upload_mb * 1024 * 1024)


def _toml_value(value: Any) -> str:
    # TOML's basic strings take JSON's escapes; numbers are written as Python writes them.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


_COMMENTS = {
    "course": "the course folder (its course.toml)",
    "url": "where students reach the service; https:// makes the session cookie Secure",
    "lang": "the pages' language until a person picks the other: ko or en",
    "checks_per_hour": "self-checks per student per hour (hand-ins are never refused)",
    "upload_mb": "one upload's size, all its files together",
    "workers": "grading worker processes (0: one per core)",
    "scheduler": "a Dask scheduler's address, to grade there instead of here",
    "line_items": "publishing grades to an LMS (an [lti] table, see docs/lti.md): exercise or assignment",
}


@dataclass(frozen=True)
class RosterEntry:
    id: str
    name: str
    role: str


def read_roster(path: Path) -> list[RosterEntry]:
    """The people in a roster CSV; a bad line is refused with the file and line named."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise GraderError(f"{path}: cannot read the roster: {error}") from None
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    if "student_id" not in (reader.fieldnames or []):
        raise GraderError(f"{path} line 1: the roster needs a student_id column (found: "
                          f"{', '.join(reader.fieldnames or []) or 'nothing'})")
    people: list[RosterEntry] = []
    seen: set[tuple[str, str]] = set()
    for line in reader:
        where = f"{path} line {reader.line_num}"
        person = (line.get("student_id") or "").strip()
        role = (line.get("role") or "student").strip().lower() or "student"
        if not person:
            raise GraderError(f"{where}: no student_id")
        if role not in ROLES:
            raise GraderError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        if (person, role) in seen:
            raise GraderError(f"{where}: {person} ({role}) is on the roster twice")
        seen.add((person, role))
        people.append(RosterEntry(person, (line.get("name") or "").strip() or person, role))
    return people


class ServiceFolder:
    """The paths of a service folder, and its settings."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS

    @property
    def database(self) -> Path:
        return self.root / "gradebook.sqlite"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def links(self) -> Path:
        return self.root / "links.csv"

    def settings(self) -> ServiceSettings:
        """The settings, checked: an unknown key or a wrong type is refused naming the file."""
        try:
            data = tomllib.loads(self.settings_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GraderError(f"{self.root}: not a service folder (no {SETTINGS}; make one with "
                              "'grader service init')") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise GraderError(f"{self.settings_path}: {error}") from None
        data.pop("lti", None)  # the LMS registration: grader.service.lti reads and checks it
        known = set(ServiceSettings.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise GraderError(f"{self.settings_path}: unknown setting {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
        if "course" not in data:
            raise GraderError(f"{self.settings_path}: no course (the course folder)")
        settings = ServiceSettings(**data)
        if settings.line_items not in ("exercise", "assignment"):
            raise GraderError(f"{self.settings_path}: line_items must be exercise or assignment, "
                              f"not {settings.line_items!r}")
        for name, kind in (("checks_per_hour", int), ("upload_mb", (int, float)), ("workers", int)):
            value = getattr(settings, name)
            if not isinstance(value, kind) or isinstance(value, bool) or value < 0:
                raise GraderError(f"{self.settings_path}: {name} must be a number of at least 0, not {value!r}")
        if settings.lang not in ("ko", "en"):
            raise GraderError(f"{self.settings_path}: lang must be ko or en, not {settings.lang!r}")
        if not settings.url.startswith(("http://", "https://")):
            raise GraderError(f"{self.settings_path}: url must start with http:// or https://, not {settings.url!r}")
        return settings

    def write_settings(self, settings: ServiceSettings) -> None:
        lines = ["# The course service's settings (grader service start reads them)."]
        for key, value in asdict(settings).items():
            lines.append(f"# {_COMMENTS[key]}")
            lines.append(f"{key} = {_toml_value(value)}")
        self.settings_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def secret(self) -> str:
        try:
            return (self.root / "secret.key").read_text(encoding="ascii").strip()
        except OSError as error:
            raise GraderError(f"{self.root / 'secret.key'}: cannot read the service's secret: {error}") from None

    def make_private(self) -> None:
        """The secret, the database and the file store, readable by their owner only (SQLite gives
        its journal files the database's permissions)."""
        descriptor = os.open(self.root / "secret.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as sink:
            sink.write(secrets.token_urlsafe(48) + "\n")
        os.close(os.open(self.database, os.O_WRONLY | os.O_CREAT, 0o600))
        self.files.mkdir(mode=0o700, exist_ok=True)

    def store(self) -> ServiceStore:
        return ServiceStore(self.database)

    def link(self, settings: ServiceSettings, token: str) -> str:
        return f"{settings.url.rstrip('/')}/s/{token}"

    def write_links(self, rows: list[tuple[str, str, str, str]], *, append: bool) -> None:
        """``links.csv`` (student_id, name, role, link), readable by its owner only."""
        new = not append or not self.links.exists()
        descriptor = os.open(self.links, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o600)
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as sink:
            writer = csv.writer(sink)
            if new:
                writer.writerow(["student_id", "name", "role", "link"])
            writer.writerows(rows)
