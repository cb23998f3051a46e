"""Grade a whole class: find the submissions, hand them to a back end, keep the gradebook.

The coordinator (this process) is the only gradebook writer: every outcome a back end
(:mod:`grader.bulk.backend`: local worker processes or Dask workers) reports is committed at once,
so a killed run resumes where it stopped. Each worker grades one submission at a time with the
unit of work, :func:`grader.session.grade`, in a grading session of its own. A worker that dies,
or a submission that breaks the grader or runs past its budget, becomes an ``error`` row for that
student; the run goes on with a fresh worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.bulk.backend import Backend
from grader.bulk.local import DEFAULT_UNIT, LocalBackend
from grader.config import GradeConfig
from grader.errors import GraderError
from grader.hashing import config_fingerprint, content_hash, course_hash
from grader.i18n import T, ui
from grader.insight.annotations import sync as sync_annotations
from grader.insight.fingerprints import submission_code
from grader.intake.submissions import Entry, discover
from grader.results import SubmissionResult
from grader.store.gradebook import Gradebook, writer_lock
from grader.store.records import Row, Status

if TYPE_CHECKING:
    from grader.bulk.dask.spec import ClusterSpec

__all__ = ["BulkOptions", "BulkSummary", "backend_for", "grade_class", "print_summary", "rich_progress",
           "with_layout_problems"]

Progress = Callable[[int, int, str, str], None]  # (finished, total, student id, status)


@dataclass(frozen=True)
class BulkOptions:
    out_dir: Path
    gradebook: Path | None = None  # default: OUT/gradebook.sqlite
    workers: int = 0  # 0: one per core
    force: bool = False  # regrade even unchanged submissions
    unit: str = DEFAULT_UNIT  # "module:function": unit(session, path, *, submission_id) (tests use fakes)
    submission_timeout: float | None = None  # default: from the notebook budget and the exercise count
    reports: bool = True  # write per-student reports and OUT/index.html
    submission_times: Mapping[str, datetime] | None = None  # from the LMS (--submission-times), kept in the gradebook
    cluster: ClusterSpec | None = None  # grade on Dask workers instead of a local pool (grader.bulk.dask)

    @property
    def gradebook_path(self) -> Path:
        return self.gradebook or self.out_dir / "gradebook.sqlite"


@dataclass
class BulkSummary:
    total: int  # students found in the input
    graded: int  # graded by this run
    skipped: int  # unchanged since an earlier run
    statuses: dict[str, int] = field(default_factory=dict)  # over the whole gradebook
    mean_percent: float = 0.0
    wall_s: float = 0.0
    peak_worker_mb: float = 0.0  # the largest peak resident memory of one worker process
    gradebook: str = ""
    index: str = ""
    backend: str = "local"  # "local" (a pool of worker processes here) or "dask"
    workers: int = 0  # worker processes that graded in this run

    def line(self) -> str:
        """The machine-readable one-line summary (``--quiet``)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, ensure_ascii=False)


def _sources(entry: Entry) -> list[tuple[str, Path]]:
    base = entry.path if entry.path is not None and entry.path.is_dir() else None
    named = []
    for source in entry.sources:
        try:
            name = str(source.relative_to(base)) if base and source.is_relative_to(base) else source.name
        except ValueError:
            name = source.name
        if source.is_file():
            named.append((name, source))
    return named


def with_layout_problems(result: SubmissionResult, entry: Entry, graded_course: str) -> SubmissionResult:
    """``result`` with what the input's layout found; ``graded_course``: the course's hash as graded here."""
    result.meta.update(entry.info.to_dict())
    ignored = entry.info.ignored_files or []
    if ignored:
        listed = ", ".join(ignored[:10]) + (" …" if len(ignored) > 10 else "")
        result.problems.append(T(f"노트북이 아니어서 채점하지 않은 파일: {listed}",
                                 f"files that are not notebooks, so were not graded: {listed}"))
    if entry.info.metadata_problem is not None:
        result.problems.append(entry.info.metadata_problem)
    if entry.info.submit_manifest:  # grader submit's manifest: files changed after submit, another course
        from grader.submit.manifest import problems as manifest_problems

        result.problems.extend(manifest_problems(entry.info.submit_manifest, graded_course))
    return result


def _for_member(row: Row, member: str) -> Row:
    """A group member's own row: the group's result under the member's id."""
    result = None
    if row.result is not None:
        result = SubmissionResult.from_dict({**row.result.to_dict(), "submission_id": member})
    return dataclasses.replace(row, student_id=member, result=result)


def _own_code(folder: Path | None, row: Row, config: GradeConfig) -> dict[str, str] | None:
    """What the student wrote, per exercise, for similarity (a group's once, under its submitter);
    None where nothing was graded, which keeps what an earlier run stored."""
    if folder is None or row.result is None:
        return None
    try:
        return submission_code(folder, config.course)
    except GraderError:  # unreadable now: the result says why; similarity skips the student
        return {}


def _error_row(entry: Entry, digest: str, error: str, config: GradeConfig, status: Status = Status.ERROR) -> Row:
    # No result came back: the student still scores 0 out of the course's full points.
    total = sum(e.points for e in config.course.exercises)
    return Row(entry.student_id, digest, status, 0.0, total, error=error, info=entry.info)


def grade_class(source: Path, config: GradeConfig, options: BulkOptions, *,
                progress: Progress | None = None) -> BulkSummary:
    """Grade every submission under ``source`` into the gradebook; write the reports.

    Raises :class:`~grader.errors.SandboxError` before the gradebook is touched where no cage can
    hold a kernel (every submission would otherwise become an error row), and
    :class:`~grader.bulk.dask.spec.ClusterError` where ``options.cluster`` cannot be used.
    """
    started = time.monotonic()
    out = options.out_dir.resolve()
    work = config.work_dir / "bulk" / hashlib.sha256(str(out).encode()).hexdigest()[:12]
    entries = discover(Path(source), work)
    with backend_for(config, options, work) as backend:
        return _grade(entries, config, options, backend, started, progress)


def backend_for(config: GradeConfig, options: BulkOptions, work: Path) -> Backend:
    """Where submissions are graded: a local pool, or a Dask cluster (connected to and checked
    before the gradebook is touched, so that no cluster means nothing written)."""
    budget = _budget(config, options)
    if options.cluster is None:
        return LocalBackend(config, unit=options.unit, workers=options.workers, budget=budget, work=work)
    try:
        from grader.bulk.dask.coordinator import DaskBackend
    except ImportError as error:
        from grader.bulk.dask.spec import ClusterError

        raise ClusterError(f"grading on Dask needs the 'dask' extra (pip install 'notebook-grader[dask]'): "
                           f"{error}") from None
    return DaskBackend(options.cluster, config, unit=options.unit, budget=budget)


def _grade(entries: list[Entry], config: GradeConfig, options: BulkOptions, backend: Backend,
           started: float, progress: Progress | None) -> BulkSummary:
    out = options.out_dir.resolve()
    graded_course = course_hash(config.course)
    fingerprint = config_fingerprint(config)
    digests = {e.student_id: content_hash(_sources(e), fingerprint) for e in entries}
    files = {e.student_id: content_hash(_sources(e), "") for e in entries}  # the files alone: for stale overrides
    members = {e.student_id: list(e.info.group or [e.student_id]) for e in entries}
    folders = {e.student_id: e.path for e in entries if e.path is not None}
    graded_now: list[str] = []
    with writer_lock(options.gradebook_path), Gradebook(options.gradebook_path) as book:
        if options.submission_times:
            book.set_submission_times(dict(options.submission_times), source="--submission-times")
        known = {} if options.force else book.hashes()
        todo = [e for e in entries if any(known.get(m) != digests[e.student_id] for m in members[e.student_id])]
        finished = len(entries) - len(todo)

        def done(row: Row) -> None:
            nonlocal finished
            row.files_hash = files.get(row.student_id)
            book.record(row, _own_code(folders.get(row.student_id), row, config))
            for member in members.get(row.student_id, [])[1:]:  # a group: every member gets its result
                book.record(_for_member(row, member))
                graded_now.append(member)
            graded_now.append(row.student_id)
            finished += 1
            if progress:
                progress(finished, len(entries), row.student_id, row.status.value)

        if progress:
            progress(finished, len(entries), "", "")
        readable = []
        for entry in todo:
            if entry.path is None:
                problem = entry.problem or T.same("unreadable")
                done(_error_row(entry, digests[entry.student_id], f"{problem.en}\n{problem.ko}", config,
                                Status.UNREADABLE))
            else:
                readable.append(entry)
        def outcome(entry: Entry, result: dict[str, Any] | None, error: str | None) -> None:
            digest = digests[entry.student_id]
            if result is None:
                done(_error_row(entry, digest, error or "no result", config))
            else:
                done(Row.from_result(with_layout_problems(SubmissionResult.from_dict(result), entry, graded_course),
                                     digest, entry.info))

        if readable:
            backend.grade(readable, outcome)
        rows = book.rows()
        sync_annotations(book, config.course, rows)  # students who moved into or out of an answered cluster
        index = ""
        if options.reports:
            from grader.publish.classreport import write_reports

            index = str(write_reports(out, book, config.course, lang=config.lang, students=set(graded_now),
                                      rows=rows))
    scored = [r for r in rows if r.max_score > 0]
    return BulkSummary(
        total=sum(len(m) for m in members.values()), graded=len(graded_now),
        skipped=sum(len(m) for m in members.values()) - len(graded_now),
        statuses=dict(Counter(r.status.value for r in rows)),
        mean_percent=round(100 * sum(r.score / r.max_score for r in scored) / len(scored), 2) if scored else 0.0,
        wall_s=round(time.monotonic() - started, 2), peak_worker_mb=round(backend.peak_rss_kb / 1024, 1),
        gradebook=str(options.gradebook_path), index=index, backend=backend.name, workers=backend.workers)


def _budget(config: GradeConfig, options: BulkOptions) -> float:
    if options.submission_timeout is not None:
        return options.submission_timeout
    return config.limits.notebook_timeout * 1.5 * max(1, len(config.course.exercises)) + 120


@contextmanager
def rich_progress(console: Any) -> Iterator[Progress]:
    """A rich progress bar (done / total, rate per minute, ETA) fed by :func:`grade_class`."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    started = time.monotonic()
    first: list[int] = []  # submissions already done when the run started (resumed ones)
    with Bar(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
             TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), TextColumn("{task.fields[last]}"),
             console=console, transient=False) as bar:
        task = bar.add_task("grading", total=None, rate="", last="")

        def update(finished: int, total: int, student: str, status: str) -> None:
            if not first:
                first.append(finished)
            minutes = (time.monotonic() - started) / 60
            rate = (finished - first[0]) / minutes if minutes > 0 else 0.0
            bar.update(task, completed=finished, total=total, rate=f"{rate:.1f}/min",
                       last=f"{student} {status}".strip()[:40])

        yield update


def print_summary(summary: BulkSummary, lang: str, console: Any) -> None:
    """The final table: how many of each status, what this run did, where the results are."""
    from rich.markup import escape
    from rich.table import Table

    from grader.publish.classreport import WORDS

    table = Table(title=T("채점 요약", "Grading summary")(lang), title_justify="left")
    table.add_column(WORDS["status"](lang))
    table.add_column(WORDS["students"](lang), justify="right")
    for status in Status:
        if summary.statuses.get(status.value):
            table.add_row(ui(status.value, lang), str(summary.statuses[status.value]))
    table.add_section()
    table.add_row(T("이번에 채점", "graded in this run")(lang), str(summary.graded))
    table.add_row(T("변경 없어 건너뜀", "unchanged, skipped")(lang), str(summary.skipped))
    table.add_row(WORDS["mean"](lang), f"{summary.mean_percent:.1f}%")
    table.add_row(T("걸린 시간", "wall time")(lang), f"{summary.wall_s:.1f} s")
    console.print(table)
    console.print(f"gradebook: {escape(summary.gradebook)}")
    if summary.index:
        console.print(f"class report: {escape(summary.index)}")
