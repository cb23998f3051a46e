"""The real CIFAR-10 or the offline stand-in: downloaded only when asked (``GRADER_DOWNLOAD_CIFAR=1``,
``grader data --download``, ``run_selfcheck(download=True)``), the stand-in with one line where the
download fails, and a real data set already present used as it is. This machine has no network:
every test here also makes any connection attempt fail, so nothing can reach out by accident."""

from __future__ import annotations

import hashlib
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from torchvision.datasets import CIFAR10

from grader.cli import ExitCode, cli
from grader.selfcheck import run_selfcheck

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "exercises" / "checks"))  # the checks' own reader, as the grader imports it

from cifar_checklib import read_split  # noqa: E402

import cifar10_offline  # noqa: E402  (put on the path by cifar_checklib, the module the checks use)

FALLBACK = "CIFAR-10 could not be downloaded"
COURSE = ["--course", str(ROOT / "exercises")]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No network, as on this machine, and a record of every attempt to reach it."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv(cifar10_offline.DOWNLOAD_ENV, raising=False)
    return attempts


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch, offline: list[str]) -> None:
    def called(*args, **kwargs):
        pytest.fail("the data set was downloaded although nobody asked for it")

    monkeypatch.setattr(CIFAR10, "download", called)
    monkeypatch.setattr(cifar10_offline, "_download", called)


def is_stand_in(folder: Path) -> bool:
    return all((folder / name).is_file() for name in cifar10_offline.ALL_FILES) and \
        read_split(folder.parent, train=False).batch_sizes == (250,)


def fake_real(root: Path, per_batch: int = 3) -> Path:
    """A tiny data set in the published files' own format (Python 2 pickles, one per batch)."""
    folder = root / cifar10_offline.BATCH_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    for name in (*cifar10_offline.TRAIN_FILES, "test_batch"):
        cifar10_offline._write_pickle(folder / name, {
            "batch_label": name, "labels": [9] * per_batch, "filenames": [f"real_{i}.png" for i in range(per_batch)],
            "data": rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)})
    cifar10_offline._write_pickle(folder / "batches.meta", {"label_names": list(cifar10_offline.LABEL_NAMES),
                                                            "num_cases_per_batch": per_batch, "num_vis": 3072})
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def published_as(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make torchvision's checksums those of ``folder``'s files, as if they were the published ones."""
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5[n]] for n in cifar10_offline.TRAIN_FILES])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5["batches.meta"]})


def test_without_the_opt_in_nothing_is_downloaded(tmp_path, no_download, offline, capsys) -> None:
    folder = cifar10_offline.ensure_dataset(tmp_path / "data")
    assert is_stand_in(folder), f"{folder}: the offline stand-in was not generated"
    done = CliRunner().invoke(cli, ["data", *COURSE, "--data-root", str(tmp_path / "cli")])
    assert done.exit_code == ExitCode.OK, done.output
    assert is_stand_in(tmp_path / "cli" / cifar10_offline.BATCH_FOLDER)
    assert offline == [] and FALLBACK not in capsys.readouterr().err + done.output


def test_with_the_opt_in_and_no_network_the_stand_in_comes_with_one_line(tmp_path, offline, monkeypatch,
                                                                         capsys) -> None:
    monkeypatch.setenv(cifar10_offline.DOWNLOAD_ENV, "1")
    folder = cifar10_offline.ensure_dataset(tmp_path / "data")  # torchvision's real download, refused by the socket
    said = capsys.readouterr().err
    assert offline, "torchvision never tried to download"
    assert is_stand_in(folder), f"{folder}: no stand-in after the failed download"
    assert [line for line in said.splitlines() if FALLBACK in line] == [said.strip().splitlines()[-1]]
    assert f"using the offline stand-in in {folder}" in said
    assert not list((tmp_path / "data").glob(".cifar-download-*")), "the download's staging folder was left behind"

    monkeypatch.delenv(cifar10_offline.DOWNLOAD_ENV)
    done = CliRunner().invoke(cli, ["data", *COURSE, "--data-root", str(tmp_path / "cli"), "--download"])
    assert done.exit_code == ExitCode.OK, done.output
    assert FALLBACK in done.output and is_stand_in(tmp_path / "cli" / cifar10_offline.BATCH_FOLDER)


def test_the_selfcheck_downloads_only_when_asked(tmp_path, offline, monkeypatch, capsys) -> None:
    course = ROOT / "exercises"
    run_selfcheck("01_tensors", {}, data_root=tmp_path / "plain", lang="en", course=course)
    assert offline == [] and not (tmp_path / "plain").exists(), "the self-check prepared data unasked"
    run_selfcheck("01_tensors", {}, data_root=tmp_path / "asked", lang="en", course=course, download=True)
    assert FALLBACK in capsys.readouterr().err and offline
    assert is_stand_in(tmp_path / "asked" / cifar10_offline.BATCH_FOLDER)


def test_a_real_data_set_present_is_used_as_it_is(tmp_path, no_download, monkeypatch, capsys) -> None:
    folder = fake_real(tmp_path / "data")
    before = snapshot(folder)
    assert cifar10_offline.ensure_dataset(tmp_path / "data") == folder and snapshot(folder) == before
    split = read_split(tmp_path / "data", train=True)
    assert split.labels == (9,) * 15 and split.batch_sizes == (3,) * 5, "the checks did not read the real layout"
    published_as(monkeypatch, folder)  # with the opt-in, the published files are kept, never downloaded again
    assert cifar10_offline.ensure_dataset(tmp_path / "data", download=True) == folder and snapshot(folder) == before
    assert FALLBACK not in capsys.readouterr().err


def test_a_download_replaces_the_stand_in_whole(tmp_path, offline, monkeypatch) -> None:
    published = fake_real(tmp_path / "published")
    published_as(monkeypatch, published)

    def download(self) -> None:  # what torchvision's download leaves: the extracted folder under its root
        import shutil

        shutil.copytree(published, Path(self.root) / cifar10_offline.BATCH_FOLDER)

    monkeypatch.setattr(CIFAR10, "download", download)
    stand_in = cifar10_offline.ensure_dataset(tmp_path / "data")
    assert is_stand_in(stand_in)
    assert cifar10_offline.ensure_dataset(tmp_path / "data", download=True) == stand_in
    assert snapshot(stand_in) == snapshot(published), "the downloaded files did not replace the stand-in"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [cifar10_offline.BATCH_FOLDER]
