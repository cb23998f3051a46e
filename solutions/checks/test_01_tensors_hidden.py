"""Hidden checks of 01_tensors: other image sizes, batch sizes and functions than the public ones."""

from __future__ import annotations

import numpy as np
import torch
from test_01_tensors import (
    check_chw_layout,
    check_chw_values,
    check_gradient_keeps_x,
    check_gradient_value,
    check_stack,
    gradient_cases,
    probe_chw,
    probe_gradient,
    probe_stack,
)

from grader.checks import T, check, reference, retests


@reference
def hidden_images() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.integers(0, 256, size=shape, dtype=np.uint8) for shape in ((9, 4, 3), (3, 11, 1), (2, 2, 4))]


def hidden_groups() -> list[list[torch.Tensor]]:
    generator = torch.Generator().manual_seed(12)
    return [[torch.rand(1, 2, 3, generator=generator) for _ in range(7)],
            [torch.rand(2, 8, 8, generator=generator) for _ in range(2)]]


@check(points=1, title=T("to_chw_float: 다른 크기와 채널 수", "to_chw_float: other sizes and channel counts"))
def test_hidden_to_chw_float(nb):
    images = hidden_images()
    for image, (got, unchanged) in zip(images, nb.run(probe_chw, images)):
        with retests("test_to_chw_float_layout"):
            check_chw_layout(got, image)
        with retests("test_to_chw_float_values"):
            check_chw_values(got, unchanged, image)


@check(points=1, title=T("stack_batch: 다른 배치 크기", "stack_batch: other batch sizes"))
def test_hidden_stack_batch(nb):
    groups = hidden_groups()
    for images, (from_list, from_tuple) in zip(groups, nb.run(probe_stack, groups)):
        with retests("test_stack_batch"):
            check_stack(from_list, images, "list")
            check_stack(from_tuple, images, "tuple")


@check(points=1, title=T("gradient: 다른 함수와 모양", "gradient: other functions and shapes"))
def test_hidden_gradient(nb):
    cases = gradient_cases([
        ("torch.logsumexp(x.flatten(), 0)", (3, 2, 2), 13, False),
        ("3 * x ** 2", (), 14, False),
        ("(x @ x.T).trace() - x.abs().sum()", (2, 4), 15, False),
        ("torch.tanh(x).pow(2).sum() + x.prod()", (2, 2), 16, True),
    ])
    for (expression, start, requires_grad), answer in zip(cases, nb.run(probe_gradient, cases)):
        if not requires_grad:
            with retests("test_gradient_values"):
                check_gradient_value(answer["first"], expression, start)
        with retests("test_gradient_leaves_x"):
            check_gradient_keeps_x(answer, expression, start, requires_grad)
