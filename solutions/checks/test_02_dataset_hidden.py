"""Hidden checks of 02_dataset: a second data set with other batch lengths, other loaders."""

from __future__ import annotations

import pytest
from cifar_checklib import hidden_root, read_split
from practice_checklib import answers
from test_02_dataset import (
    check_image,
    check_length,
    check_target,
    probe_items,
    probe_len,
    probe_loader,
)

from grader.checks import T, check, fail, retests

# The hidden data set is small: its probes share one round trip (the public data set may be the
# real one, whose splits a slow answer may take most of a probe's time limit to read).


@pytest.fixture
def hidden_data(grading):
    return hidden_root(grading.work_dir)


@check(points=2, title=T("다른 데이터셋에서의 길이", "Lengths on another data set"))
def test_hidden_lengths(nb, hidden_data):
    train, test = read_split(hidden_data, train=True), read_split(hidden_data, train=False)
    got = answers(nb, [(probe_len, (str(hidden_data), True)), (probe_len, (str(hidden_data), False))])
    with retests("test_len_train"):
        check_length(next(got), train, len(test.labels), train=True)
    with retests("test_len_test"):
        check_length(next(got), test, len(train.labels), train=False)


@check(points=2, title=T("배치 경계의 항목", "Items at batch boundaries"))
def test_hidden_items_across_batches(nb, hidden_data):
    splits = {}
    for train in (True, False):
        split = read_split(hidden_data, train=train)
        ends = [sum(split.batch_sizes[: k + 1]) for k in range(len(split.batch_sizes))]
        splits[train] = split, sorted({0, *[e - 1 for e in ends], *[e for e in ends[:-1]]})
    got = answers(nb, [(probe_items, (str(hidden_data), train, indices))
                                         for train, (_, indices) in splits.items()])
    for (split, indices), items in zip(splits.values(), got):
        for index, (image, target) in zip(indices, items):
            with retests("test_item_images"):
                check_image(image, split.images[index], split.rows[index], index)
            with retests("test_item_targets"):
                check_target(target, split.labels[index], index)


@check(points=1, title=T("다른 크기의 make_loader", "make_loader with other sizes"))
def test_hidden_loader(nb):
    cases = [(23, 5, True), (23, 5, False), (7, 10, False), (7, 10, True)]
    calls = [(probe_loader, (n, batch_size, False, drop_last)) for n, batch_size, drop_last in cases]
    for (n, batch_size, drop_last), got in zip(cases, answers(nb, calls)):
        expected = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
        if drop_last:
            expected = [b for b in expected if len(b) == batch_size]
        if got["batches"] != expected or got["len"] != len(expected):
            fail(T("`make_loader(n={n}, batch_size={b}, drop_last={d})` 가 {got}개의 배치를 만들었습니다. 기대값은 {want}개입니다.",
                   "`make_loader` with n={n}, batch_size={b}, drop_last={d} made {got} batches; expected {want}.")
                 .format(n=n, b=batch_size, d=drop_last, got=len(got["batches"]), want=len(expected)),
                 T("`drop_last` 는 마지막의 작은 배치를 버릴지 정합니다.", "`drop_last` decides whether the last, smaller batch is dropped."),
                 why=T("배치 수가 틀림 (drop_last)", "a wrong number of batches (drop_last)"), observed=len(got["batches"]))
