"""Public checks of 05_kfold: data splits, K-fold indices, cross validation and grid search."""

from __future__ import annotations

import itertools
import math

import numpy as np
from practice_checklib import answers, as_index_list, as_number, close, contiguous, short

from grader.checks import T, check, describe, fail

# ----------------------------------------------------------------------------- probes
# Probes run in the student's kernel and only observe; every expectation is computed here.


def probe_split(ns, cases):
    split = ns["train_val_test_split"]
    answers = []
    for n, val_fraction, test_fraction, seed in cases:
        first = split(n, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
        # The global generators move between calls: the same seed must still give the same split.
        random.random(), np.random.rand(), torch.rand(1)
        again = split(n, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
        other = split(n, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed + 1)
        answers.append({"first": first, "again": again, "other": other})
    return answers


def probe_kfold(ns, cases):
    answers = []
    for n, k, shuffle, seed in cases:
        first = ns["kfold_indices"](n, k, shuffle=shuffle, seed=seed)
        random.random(), np.random.rand(), torch.rand(1)
        again = ns["kfold_indices"](n, k, shuffle=shuffle, seed=seed)
        other = ns["kfold_indices"](n, k, shuffle=shuffle, seed=seed + 1)
        answers.append({"first": first, "again": again, "other": other})
    return answers


def probe_split_defaults(ns, n):
    # Called with its defaults left out, and with them written out; the global generators move in
    # between (a default seed is a seed, not the global random state).
    split = ns["train_val_test_split"]
    default = split(n)
    random.random(), np.random.rand(), torch.rand(1)
    return {"default": default, "explicit": split(n, val_fraction=0.1, test_fraction=0.1, seed=0)}


def probe_kfold_defaults(ns, n, k):
    kfold = ns["kfold_indices"]
    default = kfold(n, k)
    random.random(), np.random.rand(), torch.rand(1)
    return {"default": default, "explicit": kfold(n, k, shuffle=True, seed=0)}


def probe_cross_validate(ns, n, k, seed, scores):
    class IndexDataset(torch.utils.data.Dataset):
        """Item i is the int 10000 + i, so a subset shows which samples it holds."""

        def __len__(self):
            return n

        def __getitem__(self, index):
            index = int(index)
            if not 0 <= index < n:
                raise IndexError(index)
            return 10000 + index

    made, calls = [], []

    def serial(model):
        return next((i for i, m in enumerate(made) if m is model), -1)

    def items(subset):
        return [int(subset[j]) for j in range(len(subset))]

    def make_model():
        made.append(torch.nn.Linear(1, 1))
        calls.append(["make", len(made) - 1, []])
        return made[-1]

    def train_fn(model, subset):
        calls.append(["train", serial(model), items(subset)])

    def eval_fn(model, subset):
        calls.append(["eval", serial(model), items(subset)])
        evaluated = sum(1 for call in calls if call[0] == "eval")
        return scores[min(evaluated, len(scores)) - 1]

    dataset = IndexDataset()
    if seed is None:
        result = ns["cross_validate"](dataset, k, make_model, train_fn, eval_fn)
    else:
        result = ns["cross_validate"](dataset, k, make_model, train_fn, eval_fn, seed=seed)
    # The student's own folds, when kfold_indices works and is deterministic, are the reference.
    def folds_now():
        got = ns["kfold_indices"](n, k, shuffle=True, seed=0 if seed is None else seed)
        return [[[int(i) for i in train], [int(i) for i in val]] for train, val in got]

    try:
        folds = folds_now()
        if folds != folds_now():
            folds = None
    except Exception:
        folds = None
    return {"result": result, "calls": calls, "folds": folds}


def probe_grid_search(ns, grid_items, table):
    grid = {key: list(values) for key, values in grid_items}
    keys = [key for key, _ in grid_items]
    scores = {tuple(combo): score for combo, score in table}
    seen = []

    def score_fn(params):
        combo = tuple(params[key] for key in keys)
        seen.append(list(combo))
        return scores[combo]

    return {"answer": ns["grid_search"](grid, score_fn), "seen": seen}


# ----------------------------------------------------------------------------- reading answers

SPLIT_NAMES = ("train", "val", "test")


def read_split(got, call):
    __tracebackhide__ = True
    parts = [as_index_list(part) for part in got] if type(got) in (tuple, list) and len(got) == 3 else None
    if parts is None or any(part is None for part in parts):
        fail(T("`{call}` 은(는) 인덱스 리스트 세 개 `(train, val, test)` 를 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return three lists of indices `(train, val, test)`; got {got}.")
             .format(call=call, got=describe(got)),
             T("`return train, val, test` 처럼 세 리스트를 튜플로 돌려주세요.",
               "Return the three lists as a tuple, as in `return train, val, test`."),
             why=T("리스트 세 개를 돌려주지 않음", "does not return three lists"), observed=got)
    return parts


def read_folds(got, call, k):
    __tracebackhide__ = True
    folds = None
    if type(got) in (list, tuple) and all(type(f) in (list, tuple) and len(f) == 2 for f in got):
        folds = [(as_index_list(train), as_index_list(val)) for train, val in got]
        if any(train is None or val is None for train, val in folds):
            folds = None
    if folds is None:
        fail(T("`{call}` 은(는) `(train_idx, val_idx)` 쌍의 리스트를 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return a list of `(train_idx, val_idx)` pairs; got {got}.")
             .format(call=call, got=describe(got)),
             T("조각마다 `(train_idx, val_idx)` 튜플 하나를 리스트에 넣으세요.",
               "Put one `(train_idx, val_idx)` tuple per fold in a list."),
             why=T("(train_idx, val_idx) 쌍의 리스트가 아님", "no list of (train_idx, val_idx) pairs"), observed=got)
    if len(folds) != k:
        fail(T("`{call}` 이(가) {got}개의 조각을 돌려주었습니다. 기대값은 k={k}개입니다.",
               "`{call}` returned {got} folds; expected k={k}.").format(call=call, got=len(folds), k=k),
             T("조각의 수는 k 입니다.", "There are k folds."),
             why=T("조각 수가 k 가 아님", "not k folds"), observed=f"{len(folds)} folds")
    return folds


def split_call(n, val_fraction, test_fraction, seed):
    return f"train_val_test_split({n}, {val_fraction}, {test_fraction}, seed={seed})"


def kfold_call(n, k, shuffle, seed):
    return f"kfold_indices({n}, {k}, shuffle={shuffle}, seed={seed})"


# ----------------------------------------------------------------------------- split judges

def judge_split_partition(case, answer):
    __tracebackhide__ = True
    n = case[0]
    call = split_call(*case)
    parts = read_split(answer["first"], call)
    owner: dict[int, str] = {}
    for name, part in zip(SPLIT_NAMES, parts):
        for index in part:
            if not 0 <= index < n:
                fail(T("`{call}`: `{name}` 에 범위를 벗어난 인덱스 {i} 가 있습니다 (0..{last}).",
                       "`{call}`: `{name}` holds index {i}, outside 0..{last}.")
                     .format(call=call, name=name, i=index, last=n - 1),
                     T("인덱스는 `range(n)` 에서 나와야 합니다.", "Indices come from `range(n)`."),
                     why=T("범위를 벗어난 인덱스", "an index out of range"))
            if index in owner:
                fail(T("`{call}`: 인덱스 {i} 가 `{a}` 와 `{b}` 에 모두 들어 있습니다. 세 리스트는 겹치면 안 됩니다.",
                       "`{call}`: index {i} is in both `{a}` and `{b}`; the three lists must be disjoint.")
                     .format(call=call, i=index, a=owner[index], b=name),
                     T("섞은 인덱스를 세 구간으로 자를 때 구간의 경계를 확인하세요.",
                       "When you cut the shuffled indices into three parts, check where each part starts and ends."),
                     why=T("`{a}` 와 `{b}` 가 겹침", "`{a}` and `{b}` overlap").format(a=owner[index], b=name))
            owner[index] = name
    missing = sorted(set(range(n)) - set(owner))
    if missing:
        fail(T("`{call}`: 인덱스 {missing} 이(가) 어느 리스트에도 없습니다.",
               "`{call}`: indices {missing} are in none of the three lists.").format(call=call, missing=short(missing)),
             T("`val` 과 `test` 를 뺀 나머지는 모두 `train` 입니다.", "Everything not in `val` or `test` belongs to `train`."),
             why=T("빠진 인덱스가 있음", "indices are missing"))


def judge_split_sizes(case, answer):
    __tracebackhide__ = True
    n, val_fraction, test_fraction, _ = case
    call = split_call(*case)
    parts = read_split(answer["first"], call)
    want_val, want_test = int(n * val_fraction), int(n * test_fraction)
    expected = (n - want_val - want_test, want_val, want_test)
    got = tuple(len(part) for part in parts)
    if got != expected:
        why = T("길이가 틀림", "wrong lengths")
        if got[1:] in ((round(n * val_fraction), round(n * test_fraction)),
                       (math.ceil(n * val_fraction), math.ceil(n * test_fraction))):
            why = T("버림 대신 반올림/올림", "rounds instead of truncating")
        fail(T("`{call}` 의 (train, val, test) 길이가 {got} 입니다. 기대값은 {expected} 입니다.",
               "`{call}` gave (train, val, test) lengths {got}; expected {expected}.")
             .format(call=call, got=got, expected=expected),
             T("`len(val) == int(n * val_fraction)` 입니다: 반올림이나 올림이 아니라 버림입니다.",
               "`len(val) == int(n * val_fraction)`: truncate, do not round up or to nearest."),
             why=why, observed=got)


def judge_split_seed(case, answer):
    __tracebackhide__ = True
    n = case[0]
    call = split_call(*case)
    first = [set(part) for part in read_split(answer["first"], call)]
    again = [set(part) for part in read_split(answer["again"], call)]
    other = [set(part) for part in read_split(answer["other"], call)]
    if all(contiguous(sorted(part)) for part in first if len(part) > 1) and n >= 20:
        fail(T("`{call}`: 인덱스가 섞이지 않았습니다 (각 리스트가 이어진 구간입니다).",
               "`{call}`: the indices were not shuffled (each list is a contiguous range).").format(call=call),
             T("나누기 전에 `seed` 로 만든 난수 생성기로 인덱스를 섞으세요.",
               "Shuffle the indices with a random generator made from `seed` before splitting."),
             why=T("섞지 않음", "does not shuffle"))
    if first != again:
        fail(T("`{call}` 을 두 번 호출했더니 결과가 달랐습니다. 같은 seed 에서는 같은 분할이어야 합니다.",
               "`{call}` called twice gave two different splits; the same seed must give the same split.")
             .format(call=call),
             T("전역 난수 상태가 아니라 `seed` 로 만든 생성기를 쓰세요.",
               "Use a generator made from `seed`, not the global random state."),
             why=T("같은 seed 에서 다른 결과 (전역 난수)", "differs for one seed (global random state)"))
    if first == other:
        fail(T("`{call}` 과 seed={s} 의 결과가 같습니다. `seed` 가 섞는 순서를 정해야 합니다.",
               "`{call}` and seed={s} gave the same split; `seed` must decide the shuffle.")
             .format(call=call, s=case[3] + 1),
             T("`seed` 인자를 난수 생성기에 넘기세요.", "Pass the `seed` argument on to the random generator."),
             why=T("seed 를 무시함", "ignores the seed"))


def judge_split_defaults(answer, n, *, sizes: bool):
    """``train_val_test_split(n)`` takes the defaults val_fraction=0.1, test_fraction=0.1 (``sizes``)
    and seed=0 (otherwise): the same split as with them written out."""
    __tracebackhide__ = True
    call = f"train_val_test_split({n})"
    default = read_split(answer["default"], call)
    explicit = read_split(answer["explicit"], split_call(n, 0.1, 0.1, 0))
    want = (n - 2 * int(n * 0.1), int(n * 0.1), int(n * 0.1))
    got = tuple(len(part) for part in default)
    if sizes and got != want:
        fail(T("`{call}` 의 (train, val, test) 길이가 {got} 입니다. 기본값 val_fraction=0.1, test_fraction=0.1 이면 {want} 입니다.",
               "`{call}` gave (train, val, test) lengths {got}; with the defaults val_fraction=0.1, test_fraction=0.1 "
               "they are {want}.").format(call=call, got=got, want=want),
             T("`val_fraction` 과 `test_fraction` 의 기본값은 0.1 입니다.", "`val_fraction` and `test_fraction` default to 0.1."),
             why=T("분할 비율의 기본값이 틀림", "wrong default fractions"), observed=got)
    if not sizes and got == want and [set(p) for p in default] != [set(p) for p in explicit]:
        fail(T("`{call}` 이(가) `{explicit}` 와 다른 분할을 돌려주었습니다. `seed` 의 기본값은 0 입니다.",
               "`{call}` gave another split than `{explicit}`; `seed` defaults to 0.")
             .format(call=call, explicit=split_call(n, 0.1, 0.1, 0)),
             T("`seed` 를 주지 않아도 seed=0 으로 만든 생성기로 섞어야 합니다 (전역 난수 상태가 아니라).",
               "Without a `seed` argument, shuffle with a generator made from seed 0 (not the global random state)."),
             why=T("seed 의 기본값이 0 이 아님", "seed does not default to 0"))


# ----------------------------------------------------------------------------- kfold judges

def judge_kfold_partition(case, answer):
    __tracebackhide__ = True
    n, k = case[0], case[1]
    call = kfold_call(*case)
    folds = read_folds(answer["first"], call, k)
    owner: dict[int, int] = {}
    for fold, (_, val) in enumerate(folds):
        for index in val:
            if not 0 <= index < n:
                fail(T("`{call}`: 조각 {f} 의 `val_idx` 에 범위를 벗어난 인덱스 {i} 가 있습니다.",
                       "`{call}`: fold {f}'s `val_idx` holds index {i}, outside range({n}).")
                     .format(call=call, f=fold, i=index, n=n),
                     T("인덱스는 `range(n)` 에서 나와야 합니다.", "Indices come from `range(n)`."),
                     why=T("범위를 벗어난 인덱스", "an index out of range"))
            if index in owner:
                fail(T("`{call}`: 인덱스 {i} 가 조각 {a} 와 조각 {b} 의 `val_idx` 에 모두 있습니다. 검증 조각은 겹치면 안 됩니다.",
                       "`{call}`: index {i} is in the `val_idx` of both fold {a} and fold {b}; validation folds must not overlap.")
                     .format(call=call, i=index, a=owner[index], b=fold),
                     T("각 조각이 시작하고 끝나는 위치를 확인하세요: 한 조각의 끝이 다음 조각의 시작입니다.",
                       "Check where each fold starts and ends: one fold ends where the next begins."),
                     why=T("검증 조각이 겹침", "validation folds overlap"))
            owner[index] = fold
    missing = sorted(set(range(n)) - set(owner))
    if missing:
        fail(T("`{call}`: 인덱스 {missing} 이(가) 어느 조각의 `val_idx` 에도 없습니다.",
               "`{call}`: indices {missing} are in no fold's `val_idx`.").format(call=call, missing=short(missing)),
             T("n 이 k 로 나누어떨어지지 않을 때 남는 샘플도 어떤 조각엔가 들어가야 합니다.",
               "When n is not a multiple of k, the leftover samples must still go into some fold."),
             why=T("남는 샘플을 버림", "drops the leftover samples"), observed=f"{len(missing)} missing")


def judge_kfold_complement(case, answer):
    __tracebackhide__ = True
    n, k = case[0], case[1]
    call = kfold_call(*case)
    for fold, (train, val) in enumerate(read_folds(answer["first"], call, k)):
        leaked = sorted(set(train) & set(val))
        if leaked:
            fail(T("`{call}`: 조각 {f} 에서 인덱스 {leaked} 가 `train_idx` 와 `val_idx` 에 모두 있습니다 (검증 데이터가 학습에 새어 들어갑니다).",
                   "`{call}`: in fold {f}, indices {leaked} are in both `train_idx` and `val_idx` (validation data leaks into training).")
                 .format(call=call, f=fold, leaked=short(leaked)),
                 T("`train_idx` 는 그 조각의 `val_idx` 를 뺀 나머지 전부입니다.",
                   "`train_idx` is everything except that fold's `val_idx`."),
                 why=T("검증 인덱스가 학습에 들어감", "validation indices in training"))
        missing = sorted(set(range(n)) - set(train) - set(val))
        if missing or len(train) != len(set(train)):
            fail(T("`{call}`: 조각 {f} 의 `train_idx` 가 `val_idx` 의 여집합이 아닙니다 (빠진 인덱스: {missing}, 길이 {got}, 기대값 {want}).",
                   "`{call}`: fold {f}'s `train_idx` is not the complement of its `val_idx` (missing: {missing}; length {got}, expected {want}).")
                 .format(call=call, f=fold, missing=short(missing), got=len(train), want=n - len(set(val))),
                 T("`val_idx` 에 없는 인덱스는 모두, 한 번씩 `train_idx` 에 들어가야 합니다.",
                   "Every index not in `val_idx` goes into `train_idx`, once."),
                 why=T("train_idx 가 여집합이 아님", "train_idx is not the complement"))


def judge_kfold_sizes(case, answer):
    __tracebackhide__ = True
    call = kfold_call(*case)
    sizes = [len(val) for _, val in read_folds(answer["first"], call, case[1])]
    if max(sizes) - min(sizes) > 1:
        why = T("조각 크기가 고르지 않음", "uneven fold sizes")
        if sizes[-1] == max(sizes) and sizes.count(max(sizes)) == 1:
            why = T("마지막 조각이 나머지를 모두 가짐", "the last fold takes the rest")
        elif sizes[0] == max(sizes) and sizes[-1] < sizes[0] - 1:
            why = T("올림한 크기로 잘라 마지막 조각이 짧음", "ceil-sized folds leave the last ones short")
        fail(T("`{call}` 의 조각 크기가 {sizes} 입니다. 크기 차이는 많아야 1 이어야 합니다.",
               "`{call}` gave fold sizes {sizes}; they must differ by at most one.").format(call=call, sizes=sizes),
             T("`n % k` 개의 남는 샘플을 한 조각에 몰지 말고 여러 조각에 하나씩 나누세요.",
               "Spread the `n % k` leftover samples one per fold instead of putting them all in one fold."),
             why=why, observed=sizes)


def judge_kfold_unshuffled(case, answer):
    __tracebackhide__ = True
    call = kfold_call(*case)
    folds = read_folds(answer["first"], call, case[1])
    starts = []
    for fold, (_, val) in enumerate(folds):
        if not contiguous(val):
            fail(T("`{call}`: 조각 {f} 의 `val_idx` {val} 가 이어진 구간이 아닙니다.",
                   "`{call}`: fold {f}'s `val_idx` {val} is not a contiguous block.")
                 .format(call=call, f=fold, val=short(sorted(val))),
                 T("`shuffle=False` 면 섞지 말고 `range(n)` 을 순서대로 자르세요.",
                   "With `shuffle=False`, cut `range(n)` in order without shuffling."),
                 why=T("shuffle=False 인데 섞음", "shuffles with shuffle=False"))
        starts.append(min(val) if val else None)
    present = [s for s in starts if s is not None]
    if present != sorted(present):
        fail(T("`{call}`: 조각의 시작 인덱스가 {starts} 입니다. 조각은 순서대로 놓여야 합니다.",
               "`{call}`: the folds start at {starts}; the folds must come in order.").format(call=call, starts=starts),
             T("첫 조각이 `range(n)` 의 맨 앞 구간입니다.", "The first fold is the first block of `range(n)`."),
             why=T("조각의 순서가 틀림", "folds out of order"))


def judge_kfold_shuffled(case, answer):
    __tracebackhide__ = True
    n, k, _, seed = case
    call = kfold_call(*case)
    first = [set(val) for _, val in read_folds(answer["first"], call, k)]
    again = [set(val) for _, val in read_folds(answer["again"], call, k)]
    other = [set(val) for _, val in read_folds(answer["other"], call, k)]
    if all(contiguous(sorted(val)) for val in first):
        fail(T("`{call}`: `shuffle=True` 인데 조각이 이어진 구간입니다. 섞이지 않았습니다.",
               "`{call}`: with `shuffle=True` the folds are contiguous blocks; nothing was shuffled.").format(call=call),
             T("`shuffle` 이 참이면 나누기 전에 `seed` 로 인덱스를 섞으세요.",
               "When `shuffle` is true, shuffle the indices with `seed` before cutting the folds."),
             why=T("shuffle=True 인데 섞지 않음", "does not shuffle with shuffle=True"))
    if first != again:
        fail(T("`{call}` 을 두 번 호출했더니 조각이 달랐습니다. 같은 seed 에서는 같은 조각이어야 합니다.",
               "`{call}` called twice gave different folds; the same seed must give the same folds.").format(call=call),
             T("전역 난수 상태가 아니라 `seed` 로 만든 생성기를 쓰세요.",
               "Use a generator made from `seed`, not the global random state."),
             why=T("같은 seed 에서 다른 결과 (전역 난수)", "differs for one seed (global random state)"))
    if first == other:
        fail(T("`{call}` 과 seed={s} 의 조각이 같습니다. `seed` 가 섞는 순서를 정해야 합니다.",
               "`{call}` and seed={s} gave the same folds; `seed` must decide the shuffle.").format(call=call, s=seed + 1),
             T("`seed` 인자를 난수 생성기에 넘기세요.", "Pass the `seed` argument on to the random generator."),
             why=T("seed 를 무시함", "ignores the seed"))


def judge_kfold_defaults(answer, n, k):
    """``kfold_indices(n, k)`` takes the defaults shuffle=True, seed=0: the same folds as written out."""
    __tracebackhide__ = True
    call = f"kfold_indices({n}, {k})"
    default = [set(val) for _, val in read_folds(answer["default"], call, k)]
    explicit = [set(val) for _, val in read_folds(answer["explicit"], kfold_call(n, k, True, 0), k)]
    if default != explicit:
        why = T("shuffle/seed 의 기본값이 틀림", "wrong shuffle or seed defaults")
        if all(contiguous(sorted(val)) for val in default):
            why = T("shuffle 의 기본값이 True 가 아님", "shuffle does not default to True")
        fail(T("`{call}` 의 조각이 `{explicit}` 의 조각과 다릅니다. 기본값은 shuffle=True, seed=0 입니다.",
               "`{call}` gave other folds than `{explicit}`; the defaults are shuffle=True, seed=0.")
             .format(call=call, explicit=kfold_call(n, k, True, 0)),
             T("`shuffle` 과 `seed` 의 기본값을 확인하세요: 인자를 주지 않아도 seed=0 으로 섞습니다.",
               "Check the defaults of `shuffle` and `seed`: without them, the indices are shuffled with seed 0."),
             why=why)


# ----------------------------------------------------------------------------- cross_validate judges

def cv_call(n, k, seed):
    return f"cross_validate(<{n} samples>, k={k}" + ("" if seed is None else f", seed={seed}") + ")"


SAMPLE_OFFSET = 10000  # the probe's data set holds the sample 10000 + i at index i


def run_cross_validate(nb, cases):
    """``probe_cross_validate``'s answer for each (n, k, seed, scores) in turn, from one round trip."""
    return answers(nb, [(probe_cross_validate, case) for case in cases])


def fold_calls(answer, kind):
    return [call for call in answer["calls"] if call[0] == kind]


def subset_indices(call, name, fold, items, n):
    """The data set indices behind the samples a function received, or a failure."""
    __tracebackhide__ = True
    if any(type(v) is not int or not SAMPLE_OFFSET <= v < SAMPLE_OFFSET + n for v in items):
        fail(T("`{call}`: 조각 {f} 에서 `{name}` 이(가) 데이터셋의 샘플이 아닌 것을 받았습니다 (처음 몇 개: {got}).",
               "`{call}`: in fold {f}, `{name}` received items that are not samples of the data set (first ones: {got}).")
             .format(call=call, f=fold, name=name, got=short(items, 5)),
             T("인덱스 리스트가 아니라 `Subset(dataset, 인덱스)` 를 넘기세요.",
               "Pass `Subset(dataset, indices)`, not the list of indices itself."),
             why=T("Subset 대신 인덱스를 넘김", "passes indices, not a Subset"))
    return {v - SAMPLE_OFFSET for v in items}


def judge_cv_folds(n, k, seed, answer):
    __tracebackhide__ = True
    call = cv_call(n, k, seed)
    trains, evals = fold_calls(answer, "train"), fold_calls(answer, "eval")
    for name, seen in (("train_fn", trains), ("eval_fn", evals)):
        if len(seen) != k:
            fail(T("`{call}` 이(가) `{name}` 을(를) {got}번 불렀습니다. 조각마다 한 번, k={k}번이어야 합니다.",
                   "`{call}` called `{name}` {got} times; expected once per fold, k={k} times.")
                 .format(call=call, name=name, got=len(seen), k=k),
                 T("조각마다 학습 한 번, 평가 한 번입니다.", "Each fold trains once and scores once."),
                 why=T("`{name}` 호출 횟수가 k 가 아님", "calls `{name}` other than k times").format(name=name),
                 observed=f"{len(seen)} calls")
    order = [c[0] for c in answer["calls"] if c[0] != "make"]
    if order != ["train", "eval"] * k:
        fail(T("`{call}`: 호출 순서가 {order} 입니다. 조각마다 `train_fn` 다음에 `eval_fn` 이어야 합니다.",
               "`{call}`: the calls came in the order {order}; each fold calls `train_fn`, then `eval_fn`.")
             .format(call=call, order=short(order)),
             T("한 조각에서 학습을 마친 모델을 평가한 뒤 다음 조각으로 넘어가세요.",
               "Score the model trained on a fold before moving on to the next fold."),
             why=T("학습과 평가의 순서가 틀림", "trains and scores out of order"))
    reference = None
    try:
        reference = read_folds(answer["folds"], "kfold_indices", k) if answer["folds"] is not None else None
    except AssertionError:
        reference = None  # the student's kfold_indices is judged by its own checks
    seen_val: set[int] = set()
    for fold, (train_call, eval_call) in enumerate(zip(trains, evals)):
        train = subset_indices(call, "train_fn", fold, train_call[2], n)
        val = subset_indices(call, "eval_fn", fold, eval_call[2], n)
        leaked = sorted(train & val)
        # A leak that the student's own kfold_indices hands over is judged by the K-fold checks.
        inherited = reference is not None and set(reference[fold][0]) & set(reference[fold][1])
        if leaked and not inherited:
            fail(T("`{call}`: 조각 {f} 에서 인덱스 {leaked} 가 학습 부분집합과 검증 부분집합에 모두 있습니다 (검증 데이터가 학습에 새어 들어갑니다).",
                   "`{call}`: in fold {f}, indices {leaked} are in both the training and the validation subset (validation data leaks into training).")
                 .format(call=call, f=fold, leaked=short(leaked)),
                 T("학습에는 `train_idx`, 평가에는 `val_idx` 의 `Subset` 을 쓰세요.",
                   "Train on the `Subset` of `train_idx` and score on the `Subset` of `val_idx`."),
                 why=T("검증 데이터로도 학습함", "trains on validation data"))
        if reference is not None:
            want_train, want_val = set(reference[fold][0]), set(reference[fold][1])
            if (train, val) != (want_train, want_val):
                why = T("kfold_indices(..., seed=seed) 와 다른 조각", "other folds than kfold_indices(..., seed=seed)")
                if len(val) > 1 and contiguous(sorted(val)):
                    why = T("섞지 않은 조각을 씀", "uses unshuffled folds")
                fail(T("`{call}`: 조각 {f} 의 검증 부분집합이 {got} 입니다. `kfold_indices(len(dataset), k, shuffle=True, seed=seed)` 의 조각 {f} 는 {want} 입니다.",
                       "`{call}`: fold {f} scored on {got}; fold {f} of `kfold_indices(len(dataset), k, shuffle=True, seed=seed)` validates on {want}.")
                     .format(call=call, f=fold, got=short(sorted(val)), want=short(sorted(want_val))),
                     T("조각은 `kfold_indices(len(dataset), k, shuffle=True, seed=seed)` 의 것을 순서대로 쓰세요.",
                       "Use the folds of `kfold_indices(len(dataset), k, shuffle=True, seed=seed)`, in order."),
                     why=why)
        elif train | val != set(range(n)) or val & seen_val:
            fail(T("`{call}`: 조각 {f} 의 학습/검증 부분집합이 `range({n})` 을 나누지 않습니다.",
                   "`{call}`: fold {f}'s training and validation subsets do not split `range({n})`.")
                 .format(call=call, f=fold, n=n),
                 T("`kfold_indices` 의 조각을 그대로 쓰세요.", "Use the folds of `kfold_indices` as they are."),
                 why=T("조각이 데이터를 나누지 않음", "the folds do not split the data"))
        seen_val |= val


def judge_cv_models(n, k, seed, answer):
    __tracebackhide__ = True
    call = cv_call(n, k, seed)
    trains, evals = fold_calls(answer, "train"), fold_calls(answer, "eval")
    used: dict[int, int] = {}
    for fold, train_call in enumerate(trains):
        model = train_call[1]
        if model < 0:
            fail(T("`{call}`: 조각 {f} 의 `train_fn` 이 `make_model()` 이 만들지 않은 모델을 받았습니다.",
                   "`{call}`: in fold {f}, `train_fn` got a model that `make_model()` did not create.")
                 .format(call=call, f=fold),
                 T("조각마다 `model = make_model()` 로 만든 모델을 그대로 넘기세요.",
                   "Pass on the model that `model = make_model()` made for this fold."),
                 why=T("make_model() 의 모델이 아님", "a model make_model() did not make"))
        if model in used:
            fail(T("`{call}`: 조각 {a} 와 조각 {f} 가 같은 모델을 학습했습니다. 앞 조각에서 학습된 모델은 이 조각의 검증 데이터를 이미 보았습니다.",
                   "`{call}`: folds {a} and {f} trained the same model; a model trained on an earlier fold has already seen this fold's validation data.")
                 .format(call=call, a=used[model], f=fold),
                 T("조각마다 `make_model()` 을 새로 불러 새 모델을 만드세요.", "Call `make_model()` again for every fold."),
                 why=T("조각마다 같은 모델을 학습", "trains one model across folds"))
        used[model] = fold
        if fold < len(evals) and evals[fold][1] != model:
            fail(T("`{call}`: 조각 {f} 에서 `eval_fn` 이 `train_fn` 이 학습한 모델과 다른 모델을 받았습니다.",
                   "`{call}`: in fold {f}, `eval_fn` got a different model from the one `train_fn` trained.")
                 .format(call=call, f=fold),
                 T("그 조각에서 학습한 모델을 평가하세요.", "Score the model trained on that fold."),
                 why=T("학습하지 않은 모델을 평가", "scores another model than the trained one"))


def judge_cv_summary(n, k, seed, scores, answer):
    __tracebackhide__ = True
    call = cv_call(n, k, seed)
    result = answer["result"]
    if type(result) is not dict or not {"fold_scores", "mean", "std"} <= set(result):
        fail(T("`{call}` 은(는) 키 `fold_scores`, `mean`, `std` 가 있는 dict 를 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return a dict with the keys `fold_scores`, `mean` and `std`; got {got}.")
             .format(call=call, got=describe(result)),
             T("`return {\"fold_scores\": ..., \"mean\": ..., \"std\": ...}`", "`return {\"fold_scores\": ..., \"mean\": ..., \"std\": ...}`"),
             why=T("fold_scores/mean/std dict 가 아님", "no dict of fold_scores, mean and std"), observed=result)
    fold_scores = result["fold_scores"]
    if isinstance(fold_scores, np.ndarray) and fold_scores.ndim == 1:
        fold_scores = fold_scores.tolist()  # a 1-D array of scores is a list of floats as well
    got_scores = [as_number(s) for s in fold_scores] if type(fold_scores) in (list, tuple) else None
    if got_scores is None or None in got_scores or len(got_scores) != k \
            or not all(close(g, w) for g, w in zip(got_scores, scores)):
        fail(T("`{call}` 의 `fold_scores` 가 {got} 입니다. 조각 순서대로 `eval_fn` 이 돌려준 값은 {want} 입니다.",
               "`{call}` gave `fold_scores` {got}; `eval_fn` returned {want}, fold by fold.")
             .format(call=call, got=describe(fold_scores, 120), want=scores),
             T("조각마다 `eval_fn` 의 점수를 float 로 리스트에 순서대로 모으세요.",
               "Collect each fold's `eval_fn` score, as a float, in order."),
             why=T("fold_scores 가 틀림", "wrong fold_scores"), observed=fold_scores)
    mean = sum(scores) / k
    population = (sum((s - mean) ** 2 for s in scores) / k) ** 0.5
    sample = (sum((s - mean) ** 2 for s in scores) / (k - 1)) ** 0.5
    for key, want in (("mean", mean), ("std", population)):
        got = as_number(result[key])
        if got is None:
            fail(T("`{call}` 의 `{key}` 는 float 여야 합니다. 받은 값: {got}",
                   "`{call}`: `{key}` must be a float; got {got}.").format(call=call, key=key, got=describe(result[key])),
                 T("텐서라면 `.item()` 이나 `float(...)` 로 바꾸세요.", "Turn a tensor into a number with `.item()` or `float(...)`."),
                 why=T("`{key}` 가 숫자가 아님", "`{key}` is not a number").format(key=key), observed=result[key])
        if not close(got, want):
            hint = T("점수들의 평균과 표준편차입니다.", "They are the mean and standard deviation of the fold scores.")
            why = T("`{key}` 가 틀림", "a wrong `{key}`").format(key=key)
            if key == "std" and close(got, sample):
                hint = T("표본 표준편차(k-1 로 나눔)가 아니라 모표준편차(k 로 나눔)입니다.",
                         "Use the population standard deviation (divide by k), not the sample one (divide by k-1).")
                why = T("표본 표준편차 (k-1)", "the sample std (k-1)")
            fail(T("`{call}` 의 `{key}` 가 {got:.6g} 입니다. 점수 {scores} 에서 기대값은 {want:.6g} 입니다.",
                   "`{call}` gave `{key}` = {got:.6g}; for the scores {scores} it is {want:.6g}.")
                 .format(call=call, key=key, got=got, want=want, scores=scores), hint, why=why)


# ----------------------------------------------------------------------------- grid_search judges

def run_grids(nb, grids):
    """Ask the student's grid_search about each (grid, scores), whose combinations score ``scores`` in
    order, in one round trip: (answer, combinations) for each in turn."""
    asked = []
    for grid, scores in grids:
        combos = list(itertools.product(*grid.values()))
        table = [[list(combo), score] for combo, score in zip(combos, scores)]
        asked.append(((probe_grid_search, ([[key, list(values)] for key, values in grid.items()], table)), combos))
    for (_, combos), answer in zip(asked, answers(nb, [call for call, _ in asked])):
        yield answer, combos


def judge_grid(grid, scores, answer, combos):
    __tracebackhide__ = True
    keys = list(grid)
    call = f"grid_search({grid!r}, score_fn)"
    seen = {tuple(combo) for combo in answer["seen"]}
    missing = [dict(zip(keys, combo)) for combo in combos if combo not in seen]
    if missing:
        fail(T("`{call}` 이(가) 조합 {missing} 을(를) 시도하지 않았습니다 ({total}개 중 {tried}개만 시도).",
               "`{call}` never tried {missing} (tried {tried} of {total} combinations).")
             .format(call=call, missing=short(missing, 3), tried=len(seen), total=len(combos)),
             T("모든 키의 후보 값의 모든 조합을 시도하세요 (`itertools.product`).",
               "Try every combination of every key's candidate values (`itertools.product`)."),
             why=T("모든 조합을 시도하지 않음", "does not try every combination"), observed=f"{len(seen)} of {len(combos)}")
    got = answer["answer"]
    best = max(scores)
    want_params = dict(zip(keys, combos[scores.index(best)]))
    if type(got) not in (tuple, list) or len(got) != 2:
        fail(T("`{call}` 은(는) `(params, score)` 쌍을 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return a pair `(params, score)`; got {got}.").format(call=call, got=describe(got)),
             T("`return best_params, best_score`", "`return best_params, best_score`"),
             why=T("(params, score) 쌍이 아님", "no (params, score) pair"), observed=got)
    params, score = got
    if params != want_params:
        hint = T("가장 높은 점수의 조합을 기억하세요. 같은 dict 를 재사용해 고치면 기억한 조합도 바뀝니다.",
                 "Remember the combination with the highest score; reusing and changing one dict changes the remembered one too.")
        why = T("최고가 아닌 조합을 고름", "does not choose the best combination")
        ties = [dict(zip(keys, c)) for c, s in zip(combos, scores) if s == best]
        retested = ()
        if len(ties) > 1 and params in ties:
            hint = T("점수가 같으면 `itertools.product` 순서에서 먼저 나온 조합이 이깁니다: 더 높을 때만 바꾸세요.",
                     "On a tie the combination that comes first in `itertools.product` order wins: replace only when strictly better.")
            retested = ("test_grid_search_ties",)  # a hidden grid's tie, caught: the tie rule's fault
            why = T("동점에서 다른 조합을 고름", "breaks ties another way")
            if isinstance(params, dict) and list(params) != keys:
                why = T("키를 다른 순서로 돎 (동점이 다르게 갈림)", "walks the keys in another order (ties break differently)")
            elif params == ties[-1]:
                why = T("동점이면 마지막 조합을 남김", "keeps the last of equal scores")
        elif best < 0:
            hint = T("점수는 모두 음수일 수 있습니다. 최고 점수의 처음 값을 0 으로 두지 마세요.",
                     "Scores may all be negative: do not start the best score at 0.")
            why = T("최고 점수를 0 에서 시작", "starts the best score at 0")
        fail(T("`{call}` 이(가) {got} 을(를) 골랐습니다. 기대값은 {want} (점수 {best}) 입니다.",
               "`{call}` chose {got}; expected {want} (score {best}).")
             .format(call=call, got=describe(params, 120), want=want_params, best=best), hint, retests=retested,
             why=why)
    number = as_number(score)
    if number is None or not close(number, best):
        fail(T("`{call}` 이(가) 돌려준 점수가 {got} 입니다. 기대값은 {best} 입니다.",
               "`{call}` returned the score {got}; expected {best}.").format(call=call, got=describe(score), best=best),
             T("고른 조합에 대해 `score_fn` 이 돌려준 점수를 돌려주세요.",
               "Return the score that `score_fn` gave for the chosen combination."),
             why=T("고른 조합의 점수가 아님", "returns another score"), observed=score)


# ----------------------------------------------------------------------------- checks

SPLIT_CASES = [(100, 0.1, 0.1, 0), (35, 0.1, 0.1, 2), (99, 0.2, 0.2, 1)]
KFOLD_CASES = [(10, 3, True, 0), (10, 4, True, 1), (23, 5, True, 2)]
SPLIT_DEFAULTS_N, KFOLD_DEFAULTS = 40, (40, 4)  # n, and (n, k), for the functions called with their defaults


@check(points=1, title=T("train/val/test 분할: 겹치지 않고 빠짐없이", "train/val/test split: disjoint and complete"))
def test_split_partition(nb):
    for case, answer in zip(SPLIT_CASES, nb.run(probe_split, SPLIT_CASES)):
        judge_split_partition(case, answer)


@check(points=1, title=T("train/val/test 분할의 크기", "train/val/test split sizes"))
def test_split_sizes(nb):
    for case, answer in zip(SPLIT_CASES, nb.run(probe_split, SPLIT_CASES)):
        judge_split_sizes(case, answer)
    judge_split_defaults(nb.run(probe_split_defaults, SPLIT_DEFAULTS_N), SPLIT_DEFAULTS_N, sizes=True)


@check(points=1, title=T("train/val/test 분할: 섞기와 seed", "train/val/test split: shuffling and seed"))
def test_split_seed(nb):
    for case, answer in zip(SPLIT_CASES, nb.run(probe_split, SPLIT_CASES)):
        judge_split_seed(case, answer)
    judge_split_defaults(nb.run(probe_split_defaults, SPLIT_DEFAULTS_N), SPLIT_DEFAULTS_N, sizes=False)


@check(points=1, title=T("K-겹: 검증 조각이 데이터를 나눔", "K-fold: validation folds partition the data"))
def test_kfold_partition(nb):
    for case, answer in zip(KFOLD_CASES, nb.run(probe_kfold, KFOLD_CASES)):
        judge_kfold_partition(case, answer)


@check(points=1, title=T("K-겹: 학습 인덱스는 검증의 여집합", "K-fold: training indices complement validation"))
def test_kfold_complement(nb):
    for case, answer in zip(KFOLD_CASES, nb.run(probe_kfold, KFOLD_CASES)):
        judge_kfold_complement(case, answer)


@check(points=1, title=T("K-겹: 조각 크기", "K-fold: fold sizes"))
def test_kfold_sizes(nb):
    for case, answer in zip(KFOLD_CASES, nb.run(probe_kfold, KFOLD_CASES)):
        judge_kfold_sizes(case, answer)


@check(points=1, title=T("K-겹: shuffle=False 면 순서대로", "K-fold: in order without shuffle"))
def test_kfold_unshuffled(nb):
    cases = [(10, 3, False, 0), (10, 4, False, 0), (7, 2, False, 0)]
    for case, answer in zip(cases, nb.run(probe_kfold, cases)):
        judge_kfold_unshuffled(case, answer)


@check(points=1, title=T("K-겹: 섞기와 seed", "K-fold: shuffling and seed"))
def test_kfold_shuffle_seed(nb):
    cases = [(20, 4, True, 0), (30, 3, True, 5)]
    for case, answer in zip(cases, nb.run(probe_kfold, cases)):
        judge_kfold_shuffled(case, answer)
    judge_kfold_defaults(nb.run(probe_kfold_defaults, *KFOLD_DEFAULTS), *KFOLD_DEFAULTS)


CV_CASES = [(12, 3, None, [0.5, 0.75, 0.25]), (10, 4, 3, [0.9, 0.6, 0.7, 0.8])]


@check(points=1, title=T("교차 검증: 조각마다 학습과 평가", "Cross validation: train and score each fold"))
def test_cross_validate_folds(nb):
    for (n, k, seed, scores), answer in zip(CV_CASES, run_cross_validate(nb, CV_CASES)):
        judge_cv_folds(n, k, seed, answer)


@check(points=1, title=T("교차 검증: 조각마다 새 모델", "Cross validation: a fresh model per fold"))
def test_cross_validate_fresh_models(nb):
    for (n, k, seed, scores), answer in zip(CV_CASES, run_cross_validate(nb, CV_CASES)):
        judge_cv_models(n, k, seed, answer)


@check(points=1, title=T("교차 검증: 점수, 평균, 표준편차", "Cross validation: scores, mean and std"))
def test_cross_validate_summary(nb):
    for (n, k, seed, scores), answer in zip(CV_CASES, run_cross_validate(nb, CV_CASES)):
        judge_cv_summary(n, k, seed, scores, answer)


@check(points=1, title=T("격자 탐색: 가장 좋은 조합", "Grid search: the best combination"))
def test_grid_search_best(nb):
    grids = [
        ({"lr": [0.1, 0.01, 0.001], "hidden": [32, 64]}, [0.61, 0.70, 0.84, 0.79, 0.55, 0.58]),
        ({"depth": [1, 2, 3], "act": ["relu", "tanh"]}, [-0.9, -0.7, -0.3, -0.5, -0.6, -1.2]),
    ]
    for (grid, scores), (answer, combos) in zip(grids, run_grids(nb, grids)):
        judge_grid(grid, scores, answer, combos)


@check(points=1, title=T("격자 탐색: 동점이면 먼저 나온 조합", "Grid search: ties go to the first combination"))
def test_grid_search_ties(nb):
    # Keys deliberately not in alphabetical order: the product runs over insertion order.
    grid = {"wd": [0.0, 0.001], "lr": [0.1, 0.01, 0.001]}
    scores = [0.5, 0.8, 0.6, 0.8, 0.7, 0.4]
    ((answer, combos),) = run_grids(nb, [(grid, scores)])
    judge_grid(grid, scores, answer, combos)
