"""Hidden checks of 06_training: other class counts, shapes, batch sizes and loss functions."""

from __future__ import annotations

import functools

import numpy as np
from practice_checklib import answers, metric_case
from test_06_training import (
    expected,
    judge_accuracy,
    judge_cross_entropy_grad,
    judge_cross_entropy_value,
    judge_evaluate_values,
    judge_f1,
    judge_precision_recall,
    judge_train_loss,
    judge_train_params,
    judge_zero_division,
    probe_accuracy,
    probe_cross_entropy,
    probe_evaluate,
    probe_prf,
    probe_train,
)

from grader.checks import T, check, retests


@check(points=1, title=T("다른 데이터의 평가 지표", "Metrics on other data"))
def test_hidden_metrics(nb):
    accuracy_cases = [metric_case(7, 33, 5, every_class_hit=False), ([4] * 9, [4] * 8 + [0])]
    full = [(*metric_case(8, 90, 6, every_class_hit=True), 6)]
    # Five classes of which two never occur and one is never predicted.
    zero = [([0, 1, 1, 3, 0, 1, 3], [0, 1, 3, 3, 1, 1, 2], 5)]
    got = answers(nb, [(probe_accuracy, (accuracy_cases,)), (probe_prf, (full,)), (probe_prf, (zero,))])
    with retests("test_accuracy"):
        judge_accuracy(accuracy_cases, next(got))
    for case, answer in zip(full, next(got)):
        with retests("test_precision_recall"):
            judge_precision_recall(case, answer)
        with retests("test_f1_macro"):
            judge_f1(case, answer)
    with retests("test_zero_division"):  # partly right: the hidden check earns that share, and so its twin
        judge_zero_division(zero, next(got))


@check(points=1, title=T("다른 모양의 교차 엔트로피", "Cross-entropy of other shapes"))
def test_hidden_cross_entropy(nb):
    rng = np.random.default_rng(11)
    scaled = (np.round(rng.normal(0, 1, (7, 6)), 3) * np.array([[1.0], [10.0], [100.0], [500.0], [2000.0], [1.0], [3000.0]])).tolist()
    cases = [(scaled, [5, 0, 2, 3, 1, 4, 0]), (np.round(rng.normal(0, 2, (1, 10)), 3).tolist(), [9])]
    # The first case's logits run to thousands: its values re-test stability, the second's plain values.
    for number, (case, answer) in enumerate(zip(cases, nb.run(probe_cross_entropy, cases))):
        with retests("test_cross_entropy_stable" if number == 0 else "test_cross_entropy_value"):
            judge_cross_entropy_value(case, answer)
        with retests("test_cross_entropy_grad"):
            judge_cross_entropy_grad(case, answer)


@check(points=1, title=T("다른 크기의 학습과 평가", "Training and evaluation at other sizes"))
def test_hidden_training_loop(nb):
    # 13 samples in batches of 5 (5 + 5 + 3) and a label-smoothed loss the function must not replace.
    args, eval_args = (21, 13, 5, 0.3), (22, 11, 3)
    got = answers(nb, [(probe_train, (*args, "cpu", True, 0.1)), (probe_evaluate, (*eval_args, "cpu", True, 0.2))])
    trained, want = next(got), expected(probe_train, *args, "cpu", True, 0.1)
    with retests("test_train_one_epoch_loss"):
        judge_train_loss(args, trained, want, plain=functools.partial(expected, probe_train, *args, "cpu", True, 0.0))
    with retests("test_train_one_epoch_updates"):
        judge_train_params(args, trained, want)
    with retests("test_evaluate_values"):
        judge_evaluate_values(eval_args, next(got), expected(probe_evaluate, *eval_args, "cpu", True, 0.2))
