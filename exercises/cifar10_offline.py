"""A small CIFAR-10 look-alike, written in torchvision's python layout, for offline machines.

오프라인 환경을 위한 작은 CIFAR-10 대체 데이터셋을 만듭니다 (torchvision과 같은 파일 형식).

The real data set is used wherever ``ROOT/cifar-10-batches-py`` already holds it. Asked to
(``GRADER_DOWNLOAD_CIFAR=1`` or ``ensure_dataset(ROOT, download=True)``), the real one is
downloaded through torchvision where that folder does not hold it; without that, nothing here
touches the network. Otherwise, or where the download fails,
``ensure_dataset(ROOT)`` writes five training batches and a test batch of class-dependent
32x32 images (a colour and a stripe pattern per class, plus noise: a small MLP learns them well
above chance), deterministic from a seed. Like the real files, they are Python 2 pickles: keys
and strings are byte strings, so both ``pickle.load(f, encoding="latin1")`` (torchvision) and
``encoding="bytes"`` (the CIFAR-10 website's snippet) read them as they read the real data.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

__all__ = ["BATCH_FOLDER", "DOWNLOAD_ENV", "LABEL_NAMES", "download_wanted", "ensure_dataset", "generate"]

BATCH_FOLDER = "cifar-10-batches-py"
DOWNLOAD_ENV = "GRADER_DOWNLOAD_CIFAR"  # "1": download the real data set where it is not there
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
ALL_FILES = TRAIN_FILES + ("test_batch", "batches.meta")
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_PALETTE = np.array([
    [200, 60, 60], [60, 200, 60], [60, 60, 200], [200, 200, 60], [200, 60, 200],
    [60, 200, 200], [230, 140, 40], [120, 60, 160], [140, 140, 140], [40, 110, 70],
], dtype=np.float64)


# ----------------------------------------------------------------------------- Python 2 pickles

class _Py2Pickle:
    """Writes pickle opcodes by hand, so that strings are Python 2 ``str`` (byte strings)."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")  # PROTO 2

    def string(self, value: str | bytes) -> None:
        raw = value.encode("latin1") if isinstance(value, str) else value
        if len(raw) < 256:
            self.out += b"U" + bytes([len(raw)]) + raw  # SHORT_BINSTRING
        else:
            self.out += b"T" + struct.pack("<i", len(raw)) + raw  # BINSTRING

    def integer(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)
        else:
            self.out += b"J" + struct.pack("<i", value)

    def value(self, value: object) -> None:
        if isinstance(value, (str, bytes)):
            self.string(value)
        elif isinstance(value, bool) or value is None:
            self.out += {True: b"\x88", False: b"\x89", None: b"N"}[value]
        elif isinstance(value, (int, np.integer)):
            self.integer(int(value))
        elif isinstance(value, np.ndarray):
            self.array(value)
        elif isinstance(value, list):
            self.out += b"]("  # EMPTY_LIST, MARK
            for item in value:
                self.value(item)
            self.out += b"e"  # APPENDS
        elif isinstance(value, dict):
            self.out += b"}("  # EMPTY_DICT, MARK
            for key, item in value.items():
                self.value(key)
                self.value(item)
            self.out += b"u"  # SETITEMS
        else:
            raise TypeError(f"cannot write {type(value).__name__}")

    def array(self, array: np.ndarray) -> None:
        # numpy's own Python 2 layout: _reconstruct(ndarray, (0,), 'b') then __setstate__.
        assert array.dtype == np.uint8
        self.out += b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
        self.out += b"K\x00\x85"
        self.string("b")
        self.out += b"\x87R("  # TUPLE3, REDUCE, MARK (the state tuple)
        self.integer(1)
        self.out += b"("
        for size in array.shape:
            self.integer(size)
        self.out += b"t"
        self.out += b"cnumpy\ndtype\n"
        self.string("u1")
        self.integer(0)
        self.integer(1)
        self.out += b"\x87R("
        self.integer(3)
        self.string("|")
        self.out += b"NNN" + b"J" + struct.pack("<i", -1) + b"J" + struct.pack("<i", -1)
        self.integer(0)
        self.out += b"tb"  # TUPLE, BUILD (the dtype's state)
        self.out += b"\x89"  # not Fortran order
        self.string(np.ascontiguousarray(array).tobytes())
        self.out += b"tb"

    def dumps(self, value: object) -> bytes:
        self.value(value)
        return bytes(self.out + b".")


def _write_pickle(path: Path, value: dict) -> None:
    path.write_bytes(_Py2Pickle().dumps(value))


# ----------------------------------------------------------------------------- images

def _images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 3072) uint8 rows: red plane, green plane, blue plane, each 32x32 row-major."""
    n = len(labels)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float64)
    angle = labels * (np.pi / 10.0)
    frequency = 1.0 + (labels % 3)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    coordinate = (xx[None] * np.cos(angle)[:, None, None] + yy[None] * np.sin(angle)[:, None, None])
    stripes = np.sin(2 * np.pi * frequency[:, None, None] * coordinate / 32.0 + phase[:, None, None])
    colour = _PALETTE[labels] * rng.uniform(0.75, 1.15, size=(n, 1))
    image = colour[:, :, None, None] * (0.7 + 0.3 * stripes[:, None, :, :])
    image += rng.normal(0.0, 22.0, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8).reshape(n, 3 * 32 * 32)


def _batch(name: str, n: int, rng: np.random.Generator, first_index: int) -> dict:
    labels = rng.integers(0, 10, size=n)
    return {
        "batch_label": name,
        "labels": [int(v) for v in labels],
        "data": _images(labels, rng),
        "filenames": [f"offline_{first_index + i:06d}.png" for i in range(n)],
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def generate(root: str | os.PathLike, *, seed: int = 0,
             train_sizes: Sequence[int] = (200, 200, 200, 200, 200), test_size: int = 250) -> Path:
    """Write a complete data set under ``root/cifar-10-batches-py`` (replacing what is there)."""
    if len(train_sizes) != 5:
        raise ValueError("CIFAR-10 has five training batches")
    folder = Path(root) / BATCH_FOLDER
    folder.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    staging = Path(tempfile.mkdtemp(prefix=".cifar-", dir=folder.parent))
    try:
        first = 0
        for number, size in enumerate(train_sizes, start=1):
            label = f"training batch {number} of 5"
            _write_pickle(staging / f"data_batch_{number}", _batch(label, size, rng, first))
            first += size
        _write_pickle(staging / "test_batch", _batch("testing batch 1 of 1", test_size, rng, first))
        _write_pickle(staging / "batches.meta", {
            "num_cases_per_batch": int(max(train_sizes)),
            "label_names": list(LABEL_NAMES),
            "num_vis": 3072,
        })
        if folder.exists():
            shutil.rmtree(folder)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would hide it from other users (a grader's kernels)
        staging.rename(folder)  # whole or not at all: a reader never sees half a data set
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# ----------------------------------------------------------------------------- the real data set

def download_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the user asked for the real data set to be downloaded (``GRADER_DOWNLOAD_CIFAR``)."""
    return environ.get(DOWNLOAD_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _is_real(folder: Path) -> bool:
    """Every file of ``folder`` is the published one (torchvision's own checksums)."""
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import check_integrity

    published = [*CIFAR10.train_list, *CIFAR10.test_list, (CIFAR10.meta["filename"], CIFAR10.meta["md5"])]
    return all(check_integrity(str(folder / name), md5) for name, md5 in published)


def _download(root: Path) -> Path:
    """The real data set, through torchvision, into ``root/cifar-10-batches-py`` whole or not at all."""
    from torchvision.datasets import CIFAR10

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cifar-download-", dir=root))
    try:
        CIFAR10(str(staging), train=True, download=True)  # downloads, checks the archive's md5, extracts
        folder = root / BATCH_FOLDER
        if folder.exists():
            shutil.rmtree(folder)
        (staging / BATCH_FOLDER).rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def ensure_dataset(root: str | os.PathLike, *, download: bool | None = None) -> Path:
    """The data set under ``root``: the real one if present, else the generated one, made once.

    ``download`` (default: :func:`download_wanted`): where ``root`` does not hold the real data set,
    download it; where that fails (no network, no torchvision), say so in one line and keep, or
    generate, the offline stand-in.
    """
    folder = Path(root) / BATCH_FOLDER
    present = all((folder / name).is_file() for name in ALL_FILES)
    if download_wanted() if download is None else download:
        try:
            return folder if present and _is_real(folder) else _download(Path(root))
        except (ImportError, OSError, RuntimeError) as error:  # urllib's URLError is an OSError
            reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
            print(f"CIFAR-10 could not be downloaded ({reason}): using the offline stand-in in {folder} instead.",
                  file=sys.stderr)
    return folder if present else generate(root)


if __name__ == "__main__":
    print(ensure_dataset(sys.argv[1] if len(sys.argv) > 1 else "data"))
