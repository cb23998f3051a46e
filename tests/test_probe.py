"""The kernel's side of a check (grader.checking.probe): seeded draws that leave the student's streams alone."""

from __future__ import annotations

import random

import numpy as np
import torch

from grader.checking import probe, seeds, wire


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seeded_rngs_repeat_and_restore() -> None:
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    expected_after = _draws()
    random.seed(5), np.random.seed(5), torch.manual_seed(5)

    with seeds.seeded_rngs(0):
        first = _draws()
    with seeds.seeded_rngs(0):
        second = _draws()

    assert first == second  # every probe (and every check) starts from the same seeds
    assert _draws() == expected_after  # and the caller's streams go on as if nothing was drawn


def test_seeded_rngs_restore_after_an_exception() -> None:
    torch.manual_seed(9)
    expected = torch.rand(3)
    torch.manual_seed(9)
    try:
        with seeds.seeded_rngs(0):
            torch.rand(100)
            raise ValueError("student code failed")
    except ValueError:
        pass
    assert torch.equal(torch.rand(3), expected)


def test_a_probe_draws_the_same_numbers_whatever_the_student_seeded() -> None:
    def draw(ns):
        return [float(x) for x in torch.rand(2)]

    answers = []
    for student_seed in (1, 2):
        torch.manual_seed(student_seed)
        answers.append(wire.decode(probe.call(draw, {}, wire.encode([])))["value"])
    assert answers[0] == answers[1]


class _FakeCuda:
    """torch.cuda's generator calls, recorded (no GPU needed to see which are made)."""

    def __init__(self, started: bool) -> None:
        self.started, self.calls = started, []

    def is_initialized(self) -> bool:
        return self.started

    def get_rng_state_all(self):
        self.calls.append("get")
        return ["state"]

    def manual_seed_all(self, seed):
        self.calls.append(f"seed {seed}")

    def set_rng_state_all(self, states):
        self.calls.append(f"set {states}")


def test_cuda_generators_are_left_alone_until_cuda_has_started(monkeypatch) -> None:
    # torch.manual_seed would queue a lazy CUDA seeding (and format a stack) on every call.
    idle = _FakeCuda(started=False)
    monkeypatch.setattr(torch, "cuda", idle)
    with seeds.seeded_rngs(3):
        pass
    assert idle.calls == []

    started = _FakeCuda(started=True)
    monkeypatch.setattr(torch, "cuda", started)
    with seeds.seeded_rngs(3):
        assert started.calls == ["get", "seed 3"]
    assert started.calls == ["get", "seed 3", "set ['state']"]  # and restored afterwards


def test_manual_seed_draws_what_torch_manual_seed_draws_and_seeds_cuda_only_when_asked(monkeypatch) -> None:
    import torch

    from grader.checking.seeds import manual_seed

    torch.manual_seed(7)
    want = torch.rand(4)
    manual_seed(7)
    assert torch.equal(torch.rand(4), want)
    asked = []
    monkeypatch.setattr(torch, "manual_seed", lambda seed: asked.append(seed))
    manual_seed(8)
    assert asked == ([] if not torch.cuda.is_initialized() else [8])  # CPU alone until CUDA has started
    manual_seed(9, cuda=True)
    assert asked[-1] == 9


COUNTING = '''
calls = 0


def counted(ns):
    global calls
    calls += 1
    return calls
'''


def test_a_probe_defined_again_starts_from_a_fresh_scope_and_its_own_source() -> None:
    # Compiled once, run in a new scope each time: what one call left behind is gone for the next.
    assert [probe.define(COUNTING, "counted")({}) for _ in range(3)] == [1, 1, 1]
    assert probe.define(COUNTING, "counted") is not probe.define(COUNTING, "counted")
    # Another source under the same name (a check file edited) is compiled afresh.
    edited = COUNTING.replace("calls += 1", "calls += 10")
    assert probe.define(edited, "counted")({}) == 10
    assert probe.define(COUNTING, "counted")({}) == 1


def test_packed_code_runs_in_a_kernel_of_this_python_only(monkeypatch) -> None:
    import importlib.util

    code = probe._unpack_code(probe.pack_code(COUNTING))
    scope: dict = {}
    exec(code, scope)
    assert scope["counted"]({}) == 1
    # A kernel of another Python (another bytecode magic) reads none of it: it compiles the source.
    monkeypatch.setattr(importlib.util, "MAGIC_NUMBER", b"\x00\x00\r\n")
    packed_elsewhere = probe.pack_code(COUNTING)
    monkeypatch.undo()
    assert probe._unpack_code(packed_elsewhere) is None
