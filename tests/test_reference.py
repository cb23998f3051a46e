"""Reference values memoised per grading process (grader.checking.reference): keyed by every input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from grader.checking import reference as reference_module
from grader.checks import reference
from grader.errors import CourseError
from grader.checking.remote import LocalNotebook, MissingNotebook


def counted():
    """A reference function that counts its computations."""
    calls: list[tuple] = []

    @reference
    def expected(seed: int, shape: tuple[int, ...], data_root: Path | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
        calls.append((seed, shape, data_root, dtype))
        generator = torch.Generator().manual_seed(seed)
        value = torch.rand(shape, generator=generator, dtype=dtype)
        if data_root is not None:
            value = value + sum(p.stat().st_size for p in sorted(data_root.rglob("*")) if p.is_file())
        return value

    return expected, calls


@pytest.fixture
def data_set(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "batches").mkdir(parents=True)
    (root / "batches" / "data_batch_1").write_bytes(b"x" * 10)
    return root


def test_the_same_inputs_compute_once_and_each_changed_input_computes_afresh(data_set) -> None:
    expected, calls = counted()
    first = expected(0, (2, 3), data_set)
    assert torch.equal(expected(0, (2, 3), data_set), first) and len(calls) == 1
    variants = [
        ((1, (2, 3), data_set), {}),  # another seed
        ((0, (3, 2), data_set), {}),  # another shape
        ((0, (2, 3), data_set.parent / "other"), {}),  # another data set
        ((0, (2, 3), data_set), {"dtype": torch.float64}),  # another dtype
    ]
    for args, kwargs in variants:
        before = len(calls)
        expected(*args, **kwargs)
        assert len(calls) == before + 1, (args, kwargs)
    assert len(calls) == 5


def test_a_data_set_changed_in_place_is_a_new_input(data_set) -> None:
    expected, calls = counted()
    before = expected(0, (1,), data_set)
    batch = data_set / "batches" / "data_batch_1"
    batch.write_bytes(b"y" * 12)  # regenerated: another size
    grown = expected(0, (1,), data_set)
    assert len(calls) == 2 and not torch.equal(before, grown)
    stamp = batch.stat().st_mtime_ns
    batch.write_bytes(b"z" * 12)  # the same size, rewritten later
    os.utime(batch, ns=(stamp + 1_000, stamp + 1_000))
    expected(0, (1,), data_set)
    assert len(calls) == 3
    (data_set / "batches" / "test_batch").write_bytes(b"t")  # a file added
    expected(0, (1,), data_set)
    assert len(calls) == 4
    expected(0, (1,), data_set)
    assert len(calls) == 4


def test_numbers_of_different_types_are_different_inputs() -> None:
    seen = []

    @reference
    def echo(value):
        seen.append(value)
        return repr(value)

    assert [echo(1), echo(1.0), echo(True), echo("1")] == ["1", "1.0", "True", "'1'"]
    assert len(seen) == 4


@pytest.mark.parametrize("argument", [[1, 2], {"a": 1}, torch.zeros(2), object()],
                         ids=["list", "dict", "tensor", "object"])
def test_only_plain_values_key_a_reference(argument) -> None:
    expected, calls = counted()
    with pytest.raises(TypeError, match="expected: a reference value is keyed by plain values"):
        expected(argument, (1,))
    assert not calls


def test_each_caller_gets_its_own_copy() -> None:
    expected, _ = counted()
    got = expected(0, (4,))
    got.add_(100)  # a check that changes what it got
    assert float(expected(0, (4,)).max()) < 1


def test_the_value_does_not_depend_on_the_rng_before_it_nor_changes_the_rng_after() -> None:
    @reference
    def draws(n: int) -> torch.Tensor:
        return torch.rand(n)  # the global generator: seeded for the computation

    torch.manual_seed(5)
    first = draws(3)
    draws.memo.clear()
    torch.manual_seed(6)
    assert torch.equal(draws(3), first)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(3), first)  # computed from the seed every check starts from
    torch.manual_seed(3)
    untouched = torch.rand(2)
    torch.manual_seed(3)
    draws.memo.clear()
    draws(3)
    assert torch.equal(torch.rand(2), untouched)


@pytest.mark.parametrize("notebook", [LocalNotebook({"answer": 1}), MissingNotebook("not submitted")],
                         ids=["kernel-like", "missing"])
def test_a_reference_value_cannot_ask_the_notebook(notebook) -> None:
    def probe_answer(ns):
        return ns["answer"]

    @reference
    def leaky(seed: int):
        return notebook.run(probe_answer)

    with pytest.raises(CourseError, match="leaky asked the notebook for probe_answer"):
        leaky(0)
    assert not leaky.memo
    if isinstance(notebook, LocalNotebook):
        assert notebook.run(probe_answer) == 1  # outside a reference computation, probes run as ever


def test_the_memo_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(reference_module, "MAX_ENTRIES", 3)

    @reference
    def square(n: int) -> int:
        return n * n

    for n in range(10):
        square(n)
    assert list(square.memo) == [((("int", n),), ()) for n in (7, 8, 9)]
