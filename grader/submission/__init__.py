"""What a student hands in: ``grader submit`` builds one zip with a manifest of hashes.

:mod:`.manifest` is the manifest (``grader-submission.json``): written by :mod:`.build`, read back
by bulk grading to tell "changed after submit". It is a consistency check, never proof of
identity or time: the submission time is the LMS's. :mod:`.outputs` strips outputs above the
grader's cap, :mod:`.build` validates, self-checks and writes the zip atomically.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MANIFEST_NAME": "manifest",
    "SubmitOptions": "build",
    "SubmitReport": "build",
    "build_submission": "build",
    "read_manifest": "manifest",
    "verify_folder": "manifest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
