"""Hidden checks of 03_transforms: other images, sizes, seeds and class counts than the public ones."""

from __future__ import annotations

import numpy as np
from practice_checklib import answers
from test_03_transforms import (
    check_eval_outputs,
    check_one_hot,
    check_train_matches,
    probe_target,
    run_transform,
)

from grader.checks import T, check, reference


@reference
def hidden_images() -> list[np.ndarray]:
    rng = np.random.default_rng(31)
    flat = np.full((32, 32, 3), (200, 30, 90), dtype=np.uint8)
    return [rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8), flat,
            rng.integers(0, 256, size=(24, 40, 3), dtype=np.uint8)]


@check(points=1, title=T("평가용 변환: 다른 이미지", "The evaluation transform: other images"))
def test_hidden_eval_transform(nb):
    images = hidden_images()
    got = run_transform(nb, "build_eval_transform", [i for i in images for _ in (0, 1)], [5, 6] * len(images))
    check_eval_outputs(got, images)


@check(points=2, title=T("학습용 변환: 다른 시드와 이미지", "The training transform: other seeds and images"))
def test_hidden_train_transform(nb):
    images, seeds = hidden_images(), [1234, 99, 2026]
    check_train_matches(run_transform(nb, "build_train_transform", images, seeds), images, seeds)


@check(points=2, title=T("target_transform: 다른 클래스 수", "target_transform: other class counts"))
def test_hidden_target_transform(nb):
    cases = [(3, [2, 0, 1, 2]), (100, [99, 42, 0])]
    for (num_classes, labels), outputs in zip(cases, answers(nb, [(probe_target, c) for c in cases])):
        check_one_hot(outputs, labels, num_classes)
