"""Random number generators seeded alike on both sides of the trust boundary: for each probe in
the kernel, around the checks of a notebook and each reference value in the grading process.

Imported in the student's kernel as well as the grader's, so nothing here imports numpy or torch:
only what is already loaded is seeded (``sys.modules``).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["PROBE_SEED", "manual_seed", "put_back", "seed_all", "seeded_rngs"]

PROBE_SEED = 0


def _cuda(torch: Any) -> Any:
    """torch.cuda where the student's code has already started CUDA; else None.

    Only then are its generators seeded and restored: ``torch.manual_seed`` would queue a lazy
    CUDA seeding (with a formatted stack) on every probe call of a CPU-only notebook.
    """
    cuda = getattr(torch, "cuda", None)
    return cuda if cuda is not None and cuda.is_initialized() else None


def _rng_state() -> tuple[Any, ...]:
    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    cuda = _cuda(torch) if torch else None
    return (
        random.getstate(),
        numpy.random.get_state() if numpy else None,
        torch.random.get_rng_state() if torch else None,
        cuda.get_rng_state_all() if cuda else None,
    )


def seed_all(seed: int = PROBE_SEED) -> None:
    """random, numpy and torch (CPU, and CUDA once started) seeded, where loaded: nothing imported."""
    random.seed(seed)
    numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
    if numpy is not None:
        numpy.random.seed(seed)
    if torch is not None:
        torch.random.default_generator.manual_seed(seed)
        if _cuda(torch) is not None:
            torch.cuda.manual_seed_all(seed)


# Whether seeded_rngs puts the generators back after its block. A probe server's kernel
# (grader.checking.probe.serve) runs nothing but probes until it is killed, each from fresh seeds:
# nothing reads what one left, and putting numpy's state back cost ~0.1 ms a call (get_state and
# set_state copy it whole).
_PUT_BACK = True


def put_back(wanted: bool) -> None:
    """Whether :func:`seeded_rngs` restores the generators after its block (see ``_PUT_BACK``)."""
    global _PUT_BACK
    _PUT_BACK = wanted


@contextmanager
def seeded_rngs(seed: int = PROBE_SEED) -> Iterator[None]:
    """random, numpy and torch (CPU, and CUDA once started) seeded for the block, then restored
    (but in a probe server's kernel, see ``_PUT_BACK``).

    Used for each probe here, around the checks of a notebook and each reference value on the
    trusted side (grader.checking.runner, grader.checking.reference).
    """
    if not _PUT_BACK:
        seed_all(seed)
        yield
        return
    state = _rng_state()
    try:
        seed_all(seed)
        yield
    finally:
        random.setstate(state[0])
        if state[1] is not None:
            sys.modules["numpy"].random.set_state(state[1])
        if state[2] is not None:
            sys.modules["torch"].random.set_rng_state(state[2])
        if state[3] is not None:
            sys.modules["torch"].cuda.set_rng_state_all(state[3])


def manual_seed(seed: int, *, cuda: bool = False) -> None:
    """``torch.manual_seed`` for a probe (or the check running it as a reference): CUDA's generators
    too once CUDA has started or when the probe is about to use it (``cuda``), else the CPU's alone,
    without the lazy CUDA seeding (and its formatted stack, milliseconds) that would be queued."""
    torch = sys.modules["torch"]
    if cuda or _cuda(torch) is not None:
        torch.manual_seed(seed)
    else:
        torch.random.default_generator.manual_seed(seed)
