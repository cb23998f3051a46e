"""Hidden checks of 05_kfold: other sizes, fractions, seeds and grids than the public checks use."""

from __future__ import annotations

from practice_checklib import answers
from test_05_kfold import (
    judge_cv_folds,
    judge_cv_models,
    judge_cv_summary,
    judge_grid,
    judge_kfold_complement,
    judge_kfold_partition,
    judge_kfold_shuffled,
    judge_kfold_sizes,
    judge_kfold_unshuffled,
    judge_split_partition,
    judge_split_seed,
    judge_split_sizes,
    probe_kfold,
    probe_split,
    run_cross_validate,
    run_grids,
)

from grader.checks import T, check, retests


def judge_kfold(case, answer):
    __tracebackhide__ = True
    with retests("test_kfold_partition"):
        judge_kfold_partition(case, answer)
    with retests("test_kfold_complement"):
        judge_kfold_complement(case, answer)
    with retests("test_kfold_sizes"):
        judge_kfold_sizes(case, answer)


@check(points=1, title=T("다른 크기의 train/val/test 분할", "train/val/test splits of other sizes"))
def test_hidden_split(nb):
    # A zero-sized part and fractions that do not divide n evenly.
    cases = [(1000, 0.15, 0.05, 42), (13, 0.3, 0.0, 3), (50, 0.0, 0.26, 1), (77, 0.33, 0.17, 9)]
    for case, answer in zip(cases, nb.run(probe_split, cases)):
        with retests("test_split_partition"):
            judge_split_partition(case, answer)
        with retests("test_split_sizes"):
            judge_split_sizes(case, answer)
        if case[0] >= 50:
            with retests("test_split_seed"):
                judge_split_seed(case, answer)


@check(points=1, title=T("다른 n 과 k 의 K-겹", "K-fold with other n and k"))
def test_hidden_kfold(nb):
    shuffled = [(7, 7, True, 4), (101, 10, True, 8), (5, 2, True, 1), (64, 6, True, 13)]
    ordered = [(11, 3, False, 0), (9, 9, False, 0), (26, 4, False, 0)]
    got = answers(nb, [(probe_kfold, (shuffled,)), (probe_kfold, (ordered,))])
    for case, answer in zip(shuffled, next(got)):
        judge_kfold(case, answer)
        if case[0] >= 20:  # with a handful of samples a shuffle may look like blocks by chance
            with retests("test_kfold_shuffle_seed"):
                judge_kfold_shuffled(case, answer)
    for case, answer in zip(ordered, next(got)):
        judge_kfold(case, answer)
        with retests("test_kfold_unshuffled"):
            judge_kfold_unshuffled(case, answer)


@check(points=1, title=T("다른 데이터와 seed 의 교차 검증", "Cross validation with other data and seeds"))
def test_hidden_cross_validate(nb):
    cases = [(17, 5, 11, [0.2, 0.4, 0.9, 0.3, 0.6]), (9, 2, 6, [1.5, -0.5])]
    for (n, k, seed, scores), answer in zip(cases, run_cross_validate(nb, cases)):
        with retests("test_cross_validate_folds"):
            judge_cv_folds(n, k, seed, answer)
        with retests("test_cross_validate_fresh_models"):
            judge_cv_models(n, k, seed, answer)
        with retests("test_cross_validate_summary"):
            judge_cv_summary(n, k, seed, scores, answer)


@check(points=1, title=T("다른 격자의 격자 탐색", "Grid search on other grids"))
def test_hidden_grid_search(nb):
    grids = [
        ({"optimizer": ["sgd", "adam"], "batch": [16, 64, 256], "dropout": [0.0, 0.5]},
         [0.3, 0.1, 0.1, 0.9, 0.2, 0.2, 0.9, 0.6, 0.9, 0.0, 0.4, 0.7]),
        ({"momentum": [0.9], "lr": [0.3, 0.03, 0.003, 0.0003]}, [-2.0, -1.25, -1.25, -3.5]),
        ({"seed": [0, 1, 2, 3, 4]}, [0.1, 0.2, 0.3, 0.2, 0.05]),
    ]
    for (grid, scores), (answer, combos) in zip(grids, run_grids(nb, grids)):
        with retests("test_grid_search_best"):  # a wrong pick among ties says so itself (judge_grid)
            judge_grid(grid, scores, answer, combos)
