"""Shared pieces of the checks: several probes in one round trip (every exercise's checks); reading
answers and the expected values (05_kfold and 06_training).

This runs in the grader's process, never in a student's kernel, but for :func:`each`, a probe
helper. Values that came back from a kernel are untrusted data: the readers below accept only
plain numbers and index containers and return ``None`` for anything else, so a check can say
clearly what kind of value it got.
"""

from __future__ import annotations

import functools
import math
import types
from typing import Any, Sequence

import numpy as np
import torch

from grader.checks import T, probe_uses, reference

# ----------------------------------------------------------------------------- several probes at once
# A check that asks several probes in turn asks them in one round trip instead, and still judges
# each answer before the next call could have failed it: ``answers(nb, [(probe, args), ...])``.
# Where this differs from asking each probe alone, only ever after an earlier answer was already
# wrong: a later call that hangs, kills the kernel or returns what cannot be sent back turns that
# FAILED into a timeout, "not run" or "unreadable"; the calls share one probe time limit; the later
# calls run even when an earlier answer fails (it matters only to code that keeps state between
# calls). Checks whose calls may each need much of the time limit (the real data set's splits)
# keep them apart.


def each(ns, calls):
    """Probe helper: the answers of ``calls`` ([probe name, args] each), each call run as it would be
    alone (the generators seeded afresh). The probes are the ones sent along (:func:`answers`), found
    by name in the probe's own scope. The first call's exception is the probe's; a later call that
    raises ends the list unanswered from there, to be asked alone (:func:`answers`)."""
    from grader.checking.seeds import seeded_rngs

    sent = globals()
    answered = []
    for name, args in calls:
        try:
            with seeded_rngs():
                answered.append(sent[name](ns, *args))
        except KeyboardInterrupt:  # the grader's interrupt on timeout
            raise
        except BaseException:  # noqa: BLE001 - SystemExit in student code is an answer too
            if not answered:
                raise
            break
    return answered


def probe_each(ns, calls):
    """The probe :func:`answers` sends: ``each`` of its calls."""
    return each(ns, calls)


@functools.lru_cache(maxsize=64)
def _merged(probes):
    """``probe_each`` sent with ``probes`` (and their own helpers): a copy per set of probes, since the
    helpers a probe is sent with are an attribute of the function."""
    merged = types.FunctionType(probe_each.__code__, probe_each.__globals__, probe_each.__name__)
    merged.__qualname__ = probe_each.__qualname__
    return probe_uses(each, *probes)(merged)


def answers(nb, calls):
    """The answers to ``calls`` ((probe, args) each) from one round trip, one at a time.

    A call left unanswered (it raised, after the first) is asked alone when the check gets to it:
    it fails the check as it did alone, and only once the answers before it were judged."""
    merged = _merged(tuple(dict.fromkeys(probe for probe, _ in calls)))
    got = nb.run(merged, [[probe.__name__, list(args)] for probe, args in calls])
    got = got if type(got) is list else []
    for index, (probe, args) in enumerate(calls):
        yield got[index] if index < len(got) else nb.run(probe, *args)


# ----------------------------------------------------------------------------- reading answers


def as_number(value: Any) -> float | None:
    """A Python or NumPy real number as a float; ``None`` for anything else (tensors included)."""
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, np.generic) and value.dtype.kind in "iuf":
        return float(value)
    return None


def as_index(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "iu":
        return int(value)
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.is_floating_point() \
            and value.dtype != torch.bool:
        return int(value)
    return None


def as_index_list(value: Any) -> list[int] | None:
    """A list, tuple, 1-D integer array or 1-D integer tensor of indices as a list of ints."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu":
        return value.tolist()
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size == 0:
        return []
    if isinstance(value, torch.Tensor) and value.dim() == 1 and not value.is_floating_point() \
            and value.dtype != torch.bool:
        return [int(v) for v in value.tolist()]
    if type(value) in (list, tuple):
        if set(map(type, value)) <= {int}:  # the common answer, read without a call per index
            return list(value)
        items = [as_index(v) for v in value]
        return None if any(v is None for v in items) else items  # type: ignore[return-value]
    return None


def short(values: Sequence[Any], limit: int = 12) -> str:
    """A list shown in a message, cut after ``limit`` entries."""
    values = list(values)
    if len(values) <= limit:
        return str(values)
    return "[" + ", ".join(str(v) for v in values[:limit]) + f", … ({len(values)} in all)]"


def close(got: float, expected: float, tol: float = 1e-6) -> bool:
    return math.isfinite(got) and abs(got - expected) <= tol * max(1.0, abs(expected))


def contiguous(values: Sequence[int]) -> bool:
    """Whether the values are a run of consecutive integers (in any order)."""
    ordered = sorted(values)
    return ordered == list(range(ordered[0], ordered[0] + len(ordered))) if ordered else True


# ----------------------------------------------------------------------------- metrics

def confusion(preds: Sequence[int], targets: Sequence[int], num_classes: int) -> np.ndarray:
    """``matrix[t, p]`` counts the samples of class ``t`` predicted as ``p``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for p, t in zip(preds, targets):
        matrix[t, p] += 1
    return matrix


def per_class(preds: Sequence[int], targets: Sequence[int], num_classes: int) -> tuple[np.ndarray, ...]:
    """Per-class precision, recall and F1, a zero denominator counting as 0."""
    matrix = confusion(preds, targets, num_classes)
    tp = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b != 0)

    precision, recall = ratio(tp, predicted), ratio(tp, actual)
    f1 = ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1


def macro(preds: Sequence[int], targets: Sequence[int], num_classes: int) -> tuple[float, float, float]:
    precision, recall, f1 = per_class(preds, targets, num_classes)
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


def macro_over(preds: Sequence[int], targets: Sequence[int], classes: Sequence[int]) -> tuple[float, float, float]:
    """The macro average over ``classes`` only (the mistake of averaging over the classes present)."""
    precision, recall, f1 = per_class(preds, targets, max(classes) + 1)
    return float(precision[classes].mean()), float(recall[classes].mean()), float(f1[classes].mean())


@reference
def metric_case(seed: int, n: int, num_classes: int, *, every_class_hit: bool) -> tuple[list[int], list[int]]:
    """Predictions and targets; with ``every_class_hit`` every class has a true positive."""
    rng = np.random.default_rng(seed)
    while True:
        targets = rng.integers(0, num_classes, n)
        preds = np.where(rng.random(n) < 0.6, targets, rng.integers(0, num_classes, n))
        matrix = confusion(preds, targets, num_classes)
        precision, recall, _ = per_class(preds, targets, num_classes)
        if not every_class_hit or (np.diag(matrix) > 0).all() and abs(precision.mean() - recall.mean()) > 0.02:
            return preds.tolist(), targets.tolist()


# ----------------------------------------------------------------------------- training
# The trusted side's own training loop and evaluation, run on the same seeded model and loader
# as the probe builds in the kernel, to know what the student's functions must produce.

def reference_train_one_epoch(model: Any, loader: Any, loss_fn: Any, optimizer: Any, device: str = "cpu",
                              batches: list | None = None) -> float:
    """One epoch; ``batches`` collects each batch's (mean loss, size) to name a wrong answer by."""
    model.train()
    weighted, seen = 0.0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        weighted += loss.item() * len(targets)
        seen += len(targets)
        if batches is not None:
            batches.append({"loss": loss.item(), "size": len(targets)})
    return weighted / seen


def reference_evaluate(model: Any, loader: Any, loss_fn: Any, device: str = "cpu",
                       batches: list | None = None) -> dict[str, float]:
    """The whole loader's loss and accuracy; ``batches`` collects each batch's, as in training."""
    was_training = model.training
    model.eval()
    weighted, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            loss, hits = loss_fn(outputs, targets).item(), int((outputs.argmax(dim=1) == targets).sum())
            weighted += loss * len(targets)
            correct += hits
            seen += len(targets)
            if batches is not None:
                batches.append({"loss": loss, "accuracy": hits / len(targets), "size": len(targets)})
    model.train(was_training)
    return {"loss": weighted / seen, "accuracy": correct / seen}


REFERENCE = {"train_one_epoch": reference_train_one_epoch, "evaluate": reference_evaluate}


def batch_mistakes(key: str, batches: list[dict]) -> list[tuple[float, T]]:
    """What the common wrong loops return for ``key`` over these batches, each with its diagnosis."""
    values = [batch[key] for batch in batches]
    return [(values[-1], T("마지막 배치의 값만 돌려줌", "returns the last batch's value only")),
            (sum(values) / len(values), T("배치 평균을 가중 없이 평균함", "averages batch means without weighting"))]
