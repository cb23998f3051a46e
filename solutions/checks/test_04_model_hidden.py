"""Hidden checks of 04_model: other layer sizes and input shapes, other models to count."""

from __future__ import annotations

import torch
from practice_checklib import answers
from test_04_model import (
    BUILDER,
    ask_quietly,
    check_counts,
    check_input_shapes,
    check_mlp_forward,
    check_mlp_no_hidden,
    check_mlp_shapes,
    probe_count,
    probe_mlp_forward,
    probe_mlp_shapes,
    run_no_hidden,
)

from grader.checks import T, check, retests


def hidden_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(41)
    images = torch.randn(3, 5, 2, 2, generator=generator)
    return images, torch.randn(6, 30, generator=generator), torch.randn(5, 2, 2, 2, generator=generator)


@check(points=2, title=T("MLP: 다른 크기의 층과 입력", "MLP: other layer sizes and inputs"))
def test_hidden_mlp_sizes(nb):
    configs = [(20, (16,), 4), (30, [9, 8, 7], 5)]
    no_hidden, witness_config = (8, [], 6), (8, [4], 6)  # no hidden layer at all, the sizes as a list
    images, x, small = hidden_inputs()
    got = answers(nb, [(probe_mlp_shapes, (configs,)),
                       (probe_mlp_forward, (configs[0], [images, images.reshape(3, -1)])),
                       (probe_mlp_forward, (configs[1], [x]))])
    for config, shapes in zip(configs, next(got)):
        with retests("test_mlp_layers"):
            check_mlp_shapes(shapes, config)
    with retests("test_mlp_input_shapes"):
        check_input_shapes(next(got), configs[0], images)
    with retests("test_mlp_forward"):
        check_mlp_forward(next(got), configs[1], x)
    # Asked on their own: what the constructor raises without hidden sizes is the answer there.
    inputs = [small, small.reshape(5, -1)]
    witness = ask_quietly(lambda: nb.run(probe_mlp_forward, witness_config, inputs))
    with retests("test_mlp_layers"):
        answer = run_no_hidden(lambda: nb.run(probe_mlp_forward, no_hidden, inputs), no_hidden)
        check_mlp_no_hidden(answer, no_hidden, small, witness, witness_config)


HIDDEN_COUNT_SPECS = [
    ([["conv", 3, 4, 3], ["flatten"], ["linear", 16, 5, False]], [1]),
    ([["embedding", 7, 3], ["linear", 3, 2]], [0]),
    ([["linear", 5, 5], ["bn1d", 5], ["relu"], ["linear", 5, 1]], [2, 3]),
]


@check(points=1, title=T("count_parameters: 다른 모델", "count_parameters: other models"))
def test_hidden_count_parameters(nb):
    check_counts(nb.run(probe_count, BUILDER, HIDDEN_COUNT_SPECS), HIDDEN_COUNT_SPECS)
