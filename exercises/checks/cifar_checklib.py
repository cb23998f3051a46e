"""Shared pieces of the Section 2 checks: reading CIFAR-10 on the trusted side, hidden data sets.

This runs in the grader's process, never in a student's kernel. The batch files are read with
a restricted unpickler that builds nothing but numpy arrays, plain containers and strings, so
a data file tampered with by a kernel cannot run code here.
"""

from __future__ import annotations

import functools
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock  # torch's own dependency; fcntl.flock on Linux, and works on Windows

COURSE_DIR = Path(__file__).resolve().parent.parent
if str(COURSE_DIR) not in sys.path:
    sys.path.insert(0, str(COURSE_DIR))

import cifar10_offline  # noqa: E402  (the course's own generator, beside the notebooks)

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a data batch")
        return super().find_class(module, name)


def _load(path: Path) -> dict:
    with open(path, "rb") as handle:
        return _DataUnpickler(handle, encoding="latin1").load()


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, 32, 32, 3) uint8, what item i's PIL image must hold (read-only)
    rows: np.ndarray  # (N, 3072) as stored: for recognising a reshape without a transpose (read-only)
    labels: tuple[int, ...]
    batch_sizes: tuple[int, ...]
    classes: tuple[str, ...]


@functools.lru_cache(maxsize=32)
def _files(root: str | Path, train: bool) -> tuple[Path, ...]:
    folder = Path(root) / cifar10_offline.BATCH_FOLDER
    names = cifar10_offline.TRAIN_FILES if train else ("test_batch",)
    return tuple(folder / name for name in (*names, "batches.meta"))


def read_split(root: str | Path, *, train: bool) -> Split:
    """One split as the checks expect it; read once per process while its files are unchanged."""
    files = _files(root, train)
    return _read_split(files, tuple(f.stat().st_mtime_ns for f in files))


@functools.lru_cache(maxsize=8)
def _read_split(files: tuple[Path, ...], stamp: tuple[int, ...]) -> Split:
    # Every check of every submission needs these; the real training split is 150 MB to unpickle.
    *batches, meta = files
    rows, labels, sizes = [], [], []
    for path in batches:
        entry = _load(path)
        rows.append(np.asarray(entry["data"], dtype=np.uint8))
        labels.extend(int(v) for v in entry["labels"])
        sizes.append(len(entry["labels"]))
    data = np.concatenate(rows)
    images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    data.flags.writeable = images.flags.writeable = False
    classes = tuple(str(c) for c in _load(meta)["label_names"])
    return Split(images, data, tuple(labels), tuple(sizes), classes)


HIDDEN_SIZES = {"train_sizes": (37, 41, 29, 53, 40), "test_size": 61, "seed": 20261125}


def hidden_root(work_dir: Path) -> Path:
    """A second generated data set with other lengths, made once per grader work folder."""
    root = Path(work_dir) / "cifar10-hidden-v1"
    folder = root / cifar10_offline.BATCH_FOLDER
    if all((folder / name).is_file() for name in cifar10_offline.ALL_FILES):
        return root  # the generator renames a complete folder into place: no half-written data set here
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(root.parent / ".cifar10-hidden.lock"):  # parallel workers: one writes, the others wait
        if not all((folder / name).is_file() for name in cifar10_offline.ALL_FILES):
            cifar10_offline.generate(root, **HIDDEN_SIZES)
    return root
