"""The service's grading loop: queued uploads from the database to the bulk engine's warm workers.

One thread of the web process runs it. It opens a new epoch (what a killed server had claimed
goes back to the queue), then hands the bulk engine's back end (:mod:`grader.bulk`: the local
pool, or Dask) a source that never ends while the service runs: each time a worker is free, the
oldest queued upload is claimed, unpacked into the work folder, and graded with the course's
hidden checks. Each outcome is recorded under its claim (:meth:`~grader.store.service.ServiceStore.finish`),
once. The web process only unpacks and records; student code runs in the workers' kernels, and
torch is imported there, never here.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.bulk.backend import Backend
from grader.bulk.run import BulkOptions, backend_for, with_layout_problems
from grader.config import GradeConfig
from grader.errors import GraderError
from grader.hashing import course_hash
from grader.intake.extract import ArchiveRejected
from grader.intake.submissions import Entry, submit_manifest
from grader.results import SubmissionResult
from grader.service.folder import ServiceFolder
from grader.service.intake import unpack
from grader.store.records import SubmissionInfo
from grader.store.service import FileStore, ServiceStore, Upload

__all__ = ["GradingLoop"]

log = logging.getLogger("grader.service")


class GradingLoop(threading.Thread):
    """Grades what the queue holds until :meth:`stop`; ``ready`` is set once the back end is up."""

    def __init__(self, folder: ServiceFolder, config: GradeConfig, options: BulkOptions) -> None:
        super().__init__(name="grader-service-grading", daemon=True)
        self.folder, self.config, self.options = folder, config, options
        self.ready = threading.Event()
        self.failure: str = ""  # why grading could not start (no cage here, no scheduler)
        self.epoch = 0
        self.backend: Backend | None = None
        self._stopping = threading.Event()
        self._course = course_hash(config.course)

    def stop(self, wait: float = 5.0) -> None:
        """Stop taking uploads; what is being graded now goes back to the queue at the next start."""
        self._stopping.set()
        self.join(wait)

    def run(self) -> None:
        store = ServiceStore(self.folder.database)
        try:
            self.epoch = store.start_epoch()
            try:
                self.backend = backend_for(self.config, self.options, self.folder.work)
            except GraderError as error:
                self.failure = str(error)
                log.error("grading cannot start: %s", error)
                return
            finally:
                self.ready.set()
            flying: dict[int, tuple[Upload, Path]] = {}
            try:
                self.backend.grade(self._source(store, flying), lambda entry, result, error:
                                   self._record(store, flying, entry, result, error))
            except Exception as error:
                self.failure = f"grading stopped: {error}"
                log.exception("grading stopped")
        finally:
            if self.backend is not None:
                self.backend.close()
            store.close()

    def _source(self, store: ServiceStore, flying: dict[int, tuple[Upload, Path]]) -> Iterator[Entry | None]:
        """The next upload to grade, each time a worker asks; ``None`` while the queue is empty."""
        files = FileStore(self.folder.files)
        while not self._stopping.is_set():
            claimed = store.claim(self.epoch)
            if not claimed:
                yield None
                continue
            upload = claimed[0]
            folder = self.folder.work / "uploads" / str(upload.id) / "submission"
            try:
                unpack(upload.files, files, folder)
            except (ArchiveRejected, OSError) as error:  # checked when it came; a file gone or changed since
                store.finish(upload.id, self.epoch, None, f"the upload cannot be unpacked: {error}")
                continue
            info = SubmissionInfo(layout="service", submit_manifest=submit_manifest(folder))
            entry = Entry(upload.student_id, folder, [], info)
            flying[id(entry)] = (upload, folder)
            yield entry

    def _record(self, store: ServiceStore, flying: dict[int, tuple[Upload, Path]], entry: Entry,
                result: dict[str, Any] | None, error: str | None) -> None:
        upload, folder = flying.pop(id(entry))
        graded, code = None, None
        if result is not None:
            graded = with_layout_problems(SubmissionResult.from_dict(result), entry, self._course)
            code = _own_code(folder, self.config)
        started = time.monotonic()
        if not store.finish(upload.id, self.epoch, graded, error or ("" if graded else "no result"), code=code):
            log.warning("upload %s was recorded already: not twice", upload.id)
        log.info("upload %s of %s recorded in %.3f s", upload.id, upload.student_id, time.monotonic() - started)
        shutil.rmtree(folder.parent, ignore_errors=True)


def _own_code(folder: Path, config: GradeConfig) -> dict[str, str]:
    from grader.insight.fingerprints import submission_code

    try:
        return submission_code(folder, config.course)
    except GraderError:  # unreadable: the result says why; similarity leaves it out
        return {}
