"""``grader service``: the course service (hand-in and feedback in a browser) for one course.

``init`` makes a service folder from a course and a roster, ``roster`` adds, revokes and renews
people's links, and ``start`` serves it with uvicorn and grades what comes in.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import click

from grader.cli.common import EXIT_CODES_HELP, Failure, build_config, cli, course_from
from grader.config import Limits
from grader.errors import GraderError

__all__ = ["service"]


@cli.group(epilog=EXIT_CODES_HELP)
def service() -> None:
    """The course service: students hand in from a browser (or grader submit --to) and see their
    feedback there; grading runs on the bulk engine's warm workers."""


@service.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--course", "course_path", type=click.Path(exists=True), required=True,
              help="The course manifest (course.toml) or its folder; with its solutions, for the hidden checks.")
@click.option("--roster", "roster_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="A CSV of student_id, and optionally name and role (student, ta, instructor).")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="Where people will reach the service (the links start with it); https:// makes cookies Secure.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True,
              help="The pages' language until a person picks the other.")
@click.option("--admin", default="instructor", show_default=True,
              help="The instructor's id, where the roster names no instructor.")
def init(folder: str, course_path: str, roster_path: str, url: str, lang: str, admin: str) -> None:
    """Make a service FOLDER for a course: its settings, secret, database and file store. Every
    person on the roster gets a personal link, written to FOLDER/links.csv; the instructor's
    link (the desk) is printed."""
    from grader.service.folder import ServiceFolder, ServiceSettings, read_roster

    target = ServiceFolder(Path(folder))
    try:
        course = course_from(course_path)
        people = read_roster(Path(roster_path))
        if target.settings_path.exists():
            raise GraderError(f"{target.root}: a service folder already; change its people with 'grader service "
                              "roster'")
        target.root.mkdir(parents=True, exist_ok=True)
        settings = ServiceSettings(course=str(course.root), url=url.rstrip("/"), lang=lang)
        target.make_private()
        target.write_settings(settings)
        links = []
        with target.store() as store:
            for person in people:
                links.append((person.id, person.name, person.role,
                              target.link(settings, store.add_person(person.id, person.role, person.name))))
            if not any(p.role == "instructor" for p in people):
                links.append((admin, admin, "instructor",
                              target.link(settings, store.add_person(admin, "instructor", admin))))
        target.write_links(links, append=False)
    except GraderError as error:
        raise Failure(error) from None
    click.echo(f"service folder: {target.root}")
    click.echo(f"{sum(r[2] == 'student' for r in links)} students' links: {target.links} (hand each one out)")
    for person_id, _, role, link in links:
        if role == "instructor":
            click.echo(f"desk ({person_id}): {link}")
    click.echo(f"start it with: grader service start {target.root}")


@service.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--add", "add_path", type=click.Path(exists=True, dir_okay=False),
              help="A roster CSV of people to add (those already there keep their links).")
@click.option("--revoke", "revoked", multiple=True, metavar="ID", help="Stop this person's link at once (repeatable).")
@click.option("--renew", "renewed", multiple=True, metavar="ID",
              help="Give this person a new link; the old one stops working (repeatable).")
@click.option("--role", type=click.Choice(["student", "ta", "instructor"]), default="student", show_default=True,
              help="The role --revoke and --renew mean.")
def roster(folder: str, add_path: str | None, revoked: tuple[str, ...], renewed: tuple[str, ...], role: str) -> None:
    """Change who may come in: add people from a roster, revoke or renew links. New links are
    appended to FOLDER/links.csv and printed."""
    from grader.service.folder import ServiceFolder, read_roster

    target = ServiceFolder(Path(folder))
    made: list[tuple[str, str, str, str]] = []
    try:
        settings = target.settings()
        with target.store() as store:
            known = {(p.id, p.role) for p in store.people()}
            for person in read_roster(Path(add_path)) if add_path else []:
                if (person.id, person.role) not in known:
                    made.append((person.id, person.name, person.role,
                                 target.link(settings, store.add_person(person.id, person.role, person.name))))
            names = {(p.id, p.role): p.name for p in store.people()}
            for person_id in renewed:
                if (person_id, role) not in names:
                    raise GraderError(f"{target.database}: no {role} {person_id!r} (add them with --add)")
                made.append((person_id, names[person_id, role], role,
                             target.link(settings, store.add_person(person_id, role, names[person_id, role]))))
            for person_id in revoked:
                if not store.revoke(person_id, role):
                    raise GraderError(f"{target.database}: no {role} {person_id!r} with a working link")
                click.echo(f"revoked: {person_id} ({role})")
        if made:
            target.write_links(made, append=True)
    except GraderError as error:
        raise Failure(error) from None
    for person_id, _, person_role, link in made:
        click.echo(f"{person_id} ({person_role}): {link}")


@service.command(epilog=EXIT_CODES_HELP)
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="The port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Grading worker processes. Default: the folder's setting, else the machine's cores.")
@click.option("--scheduler", metavar="ADDRESS", help="Grade on this Dask scheduler instead of here (tcp://HOST:8786).")
@click.option("--cell-timeout", type=float, default=Limits.cell_timeout, show_default=True,
              help="Seconds one cell may run.")
@click.option("--notebook-timeout", type=float, default=Limits.notebook_timeout, show_default=True,
              help="Seconds all of a notebook's cells may run.")
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "container", "userns"]), default="auto",
              show_default=True, help="The kernels' cage (see grader bulk --help); students' code is never run bare.")
@click.option("--unit", default=None, hidden=True, help="module:function grading one submission (tests' stand-ins).")
def start(folder: str, host: str, port: int, workers: int | None, scheduler: str | None, cell_timeout: float,
          notebook_timeout: float, sandbox: str, unit: str | None) -> None:
    """Serve the service FOLDER and grade what comes in, until stopped (Ctrl-C). Uploads are kept
    in the folder's database before they are acknowledged: a server stopped or killed at any
    moment starts again where it was."""
    import uvicorn

    from grader.bulk.dask.spec import ClusterSpec
    from grader.bulk.local import DEFAULT_UNIT
    from grader.bulk.run import BulkOptions
    from grader.service.app import create_app
    from grader.service.folder import ServiceFolder
    from grader.store.gradebook import writer_lock

    target = ServiceFolder(Path(folder))
    try:
        settings = target.settings()
        course = course_from(settings.course)
        config = build_config(course=course, hidden=course.has_hidden_checks, lang=settings.lang, data_root=None,
                              work_dir=str(target.work), cell_timeout=cell_timeout, notebook_timeout=notebook_timeout,
                              protected=(target.root,), sandbox=sandbox)
        _prepare_data(config)
        address = scheduler or settings.scheduler
        options = BulkOptions(out_dir=target.root, gradebook=target.database, workers=workers or settings.workers,
                              cluster=ClusterSpec(scheduler=address) if address else None,
                              unit=unit or DEFAULT_UNIT)
        with writer_lock(target.database):  # the only writer, as grader bulk is for its gradebook
            app = create_app(target.root, config, options)
            click.echo(f"serving {target.root} on http://{host}:{port} (students reach it as {settings.url})")
            uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)
    except GraderError as error:
        raise Failure(error) from None


def _prepare_data(config: object) -> None:
    """The course's data set, made (where missing) in a child process: the web process never imports torch."""
    from grader.session import prepare_data

    child = multiprocessing.get_context("spawn").Process(target=prepare_data, args=(config,), name="grader-data")
    child.start()
    child.join()
    if child.exitcode != 0:
        raise GraderError(f"the course's data set could not be prepared (exit {child.exitcode}); try 'grader data'")
