"""Shared pieces of the Section 2 checks: reading CIFAR-10 on the trusted side, hidden data sets.

This runs in the grader's process, never in a student's kernel. The batch files are read with
a restricted unpickler that builds nothing but numpy arrays, plain containers and strings, so
a data file tampered with by a kernel cannot run code here.
"""

from __future__ import annotations

import fcntl
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    images: np.ndarray  # (N, 32, 32, 3) uint8, what item i's PIL image must hold
    labels: list[int]
    batch_sizes: tuple[int, ...]
    classes: list[str]


def read_split(root: str | Path, *, train: bool) -> Split:
    folder = Path(root) / cifar10_offline.BATCH_FOLDER
    names = cifar10_offline.TRAIN_FILES if train else ("test_batch",)
    rows, labels, sizes = [], [], []
    for name in names:
        entry = _load(folder / name)
        rows.append(np.asarray(entry["data"], dtype=np.uint8))
        labels.extend(int(v) for v in entry["labels"])
        sizes.append(len(entry["labels"]))
    data = np.concatenate(rows)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    classes = [str(c) for c in _load(folder / "batches.meta")["label_names"]]
    return Split(np.ascontiguousarray(images), labels, tuple(sizes), classes)


def raw_rows(root: str | Path, *, train: bool) -> np.ndarray:
    """The rows as stored, (N, 3072): for recognising a reshape without a transpose."""
    folder = Path(root) / cifar10_offline.BATCH_FOLDER
    names = cifar10_offline.TRAIN_FILES if train else ("test_batch",)
    return np.concatenate([np.asarray(_load(folder / n)["data"], dtype=np.uint8) for n in names])


HIDDEN_SIZES = {"train_sizes": (37, 41, 29, 53, 40), "test_size": 61, "seed": 20261125}


def hidden_root(work_dir: Path) -> Path:
    """A second generated data set with other lengths, made once per grader work folder."""
    root = Path(work_dir) / "cifar10-hidden-v1"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".cifar10-hidden.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel workers: one writes, the others wait
        folder = root / cifar10_offline.BATCH_FOLDER
        if not all((folder / name).is_file() for name in cifar10_offline.ALL_FILES):
            cifar10_offline.generate(root, **HIDDEN_SIZES)
    return root
