"""Class insight: what a class got wrong together, and whose code is suspiciously alike.

- :mod:`.clusters`: mistake clusters from the checks' own diagnoses (``why``), with stable ids;
- :mod:`.annotations`: an instructor's answer to a cluster (a comment, optionally points through
  the adjustments history), kept in step with who is in the cluster now;
- :mod:`.fingerprints`: a student's own code, normalised into winnowed token fingerprints;
- :mod:`.similarity`: pairs and groups of students whose own code is alike, flagged on evidence;
- :mod:`.archive`: past terms' fingerprints in SQLite, searched through an index;
- :mod:`.pages`: the similarity pages and CSV.

Nothing here runs a notebook: every input is already in the gradebook. The names below load
lazily, so that the gradebook and the reports import only what they use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Annotation": "annotations",
    "Cluster": "clusters",
    "cluster_id": "clusters",
    "clusters": "clusters",
    "compare_class": "similarity",
    "signature": "clusters",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
