"""Reference values computed once per grading process, keyed by everything they depend on.

A check's expected values come from fixed seeds, shapes and the course's data set: the same for
every student. :func:`reference` memoises such a function by its arguments, so that a bulk
worker computes them for its first notebook only. What keeps one student's answer out of
another's result:

- a key is made of plain values only (numbers, strings, paths, dtypes, tuples of them); a path
  stands for the files under it as well (their sizes and modification times), so a data set
  regenerated in place is a new key;
- the function runs with the notebook out of reach: a probe asked for while a reference value is
  computed is a course error, so nothing memoised ever comes from a kernel;
- it runs from the RNG seeds a check starts from (and leaves the caller's RNG as it was), so its
  value does not depend on what ran before it;
- every caller gets its own deep copy, so a check that changes what it got changes nothing for
  the next one.

The memo belongs to the decorated function: a check module imported again (its file edited)
starts with an empty one.
"""

from __future__ import annotations

import copy
import functools
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, TypeVar

from grader.checking.remote import probes_refused
from grader.checking.seeds import seeded_rngs

__all__ = ["reference"]

F = TypeVar("F", bound=Callable[..., Any])
MAX_ENTRIES = 256  # per function: a key made from a student's answer must not grow the memo forever
_PLAIN = (type(None), bool, int, float, complex, str, bytes)


def _files_under(path: PurePath) -> tuple[Any, ...]:
    """A path's identity: the path, and the size and modification time of every file under it."""
    try:
        stat = os.stat(path)
    except OSError:
        return (str(path), None)
    if not os.path.isdir(path):
        return (str(path), stat.st_size, stat.st_mtime_ns)
    stamps = []
    for folder, subfolders, files in os.walk(path):
        subfolders.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            try:
                own = os.stat(full)
            except OSError:
                continue
            stamps.append((os.path.relpath(full, path), own.st_size, own.st_mtime_ns))
    return (str(path), tuple(stamps))


def _key_part(value: Any, function: Callable[..., Any]) -> Any:
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)  # 1, 1.0 and True are different inputs
    if isinstance(value, PurePath):
        return ("path", _files_under(value))
    if isinstance(value, (tuple, frozenset)):
        parts = tuple(_key_part(v, function) for v in value)
        return (type(value).__name__, parts if isinstance(value, tuple) else frozenset(parts))
    if type(value).__module__ == "torch" and type(value).__name__ in ("dtype", "device", "Size"):
        return (type(value).__name__, str(value))
    raise TypeError(f"{function.__qualname__}: a reference value is keyed by plain values (numbers, strings, "
                    f"paths, dtypes, tuples of them); got a {type(value).__name__}")


def reference(function: F) -> F:
    """Memoise ``function``'s value by its arguments, for the rest of the grading process."""
    memo: OrderedDict[Any, Any] = OrderedDict()

    @functools.wraps(function)
    def memoised(*args: Any, **kwargs: Any) -> Any:
        key = (tuple(_key_part(a, function) for a in args),
               tuple(sorted((name, _key_part(v, function)) for name, v in kwargs.items())))
        if key in memo:
            memo.move_to_end(key)
        else:
            with probes_refused(function.__qualname__), seeded_rngs(0):
                memo[key] = function(*args, **kwargs)
            if len(memo) > MAX_ENTRIES:
                memo.popitem(last=False)
        return copy.deepcopy(memo[key])

    memoised.memo = memo  # type: ignore[attr-defined]  # for the tests
    return memoised  # type: ignore[return-value]
