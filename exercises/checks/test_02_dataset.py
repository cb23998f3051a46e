"""Public checks of 02_dataset: CIFAR10Dataset and make_loader (students can read these)."""

from __future__ import annotations

import numpy as np
from cifar_checklib import read_split
from PIL import Image
from practice_checklib import answers

from grader.checks import T, check, describe, fail

# ----------------------------------------------------------------------------- probes
# Probes run in the student's kernel and only observe; every expectation is computed here.


def probe_len(ns, root, train):
    # train=None: the constructor's default, which is the training split
    dataset = ns["CIFAR10Dataset"](root) if train is None else ns["CIFAR10Dataset"](root, train=train)
    return len(dataset)


def probe_classes(ns, root, train):
    classes = getattr(ns["CIFAR10Dataset"](root, train=train), "classes", None)
    return None if classes is None else list(classes)


def probe_items(ns, root, train, indices):
    dataset = ns["CIFAR10Dataset"](root, train=train)
    return [tuple(dataset[i]) for i in indices]


def probe_transformed(ns, root, indices):
    dataset = ns["CIFAR10Dataset"](
        root, train=False,
        transform=lambda image: ("transformed", np.asarray(image).copy(), type(image).__module__ + "." + type(image).__name__),
        target_transform=lambda target: ("target", target),
    )
    return [tuple(dataset[i]) for i in indices]


def probe_loader_defaults(ns, n, batch_size, workers):
    # Left out, shuffle, drop_last and num_workers take their defaults; num_workers given is passed on
    # (the loader is never iterated, so no worker process starts).
    plain = ns["make_loader"](list(range(n)), batch_size)
    given = ns["make_loader"](list(range(n)), batch_size, num_workers=workers)
    return {"batches": [batch.tolist() for batch in plain], "workers": [plain.num_workers, given.num_workers]}


def probe_loader(ns, n, batch_size, shuffle, drop_last):
    loader = ns["make_loader"](list(range(n)), batch_size, shuffle=shuffle, drop_last=drop_last)
    return {
        "is_loader": isinstance(loader, torch.utils.data.DataLoader),
        "len": len(loader),
        "batches": [batch.tolist() for batch in loader],
    }


# ----------------------------------------------------------------------------- helpers

def check_length(got, split, other, *, train):
    __tracebackhide__ = True
    which = T("학습", "training") if train else T("평가", "test")
    if type(got) is not int:
        fail(T("`__len__` 은 int 를 돌려줘야 합니다. 받은 값: {got}", "`__len__` must return an int; got {got}.")
             .format(got=describe(got)), why=T("길이가 int 가 아님", "the length is not an int"), observed=got)
    expected = len(split.labels)
    if got == expected:
        return
    message = T("{which} 데이터의 `__len__` 이 {got} 을(를) 돌려주었습니다. 기대값은 {expected} 입니다.",
                "`__len__` returned {got} for the {which} split; it has {expected} images.")
    hint = T("어떤 배치 파일을 읽는지 확인하세요.", "Check which batch files you read.")
    why = T("길이가 틀림", "a wrong length")
    if got == split.batch_sizes[0] and train:
        hint = T("학습 데이터는 `data_batch_1` 부터 `data_batch_5` 까지 다섯 파일입니다. 하나만 읽지 않았나요?",
                 "The training split is five files, `data_batch_1` to `data_batch_5`. Did you read only one?")
        why = T("배치 파일 하나만 읽음", "reads one batch only")
    elif got == other:
        hint = T("`train` 값에 따라 다른 파일을 읽나요? 학습 데이터와 평가 데이터가 바뀐 것 같습니다.",
                 "Does `train` choose the files? The training and test splits look swapped.")
        why = T("학습과 평가 데이터를 바꿔 읽음", "reads the other split")
    fail(T(message.ko.format(which=which.ko, got=got, expected=expected),
           message.en.format(which=which.en, got=got, expected=expected)), hint, why=why, observed=got)


def check_image(got, expected, row, index):
    __tracebackhide__ = True
    if not isinstance(got, Image.Image):
        fail(T("`__getitem__({i})` 의 이미지는 PIL.Image 여야 합니다 (transform 이 없을 때). 받은 값: {got}",
               "`__getitem__({i})` must give a PIL.Image (when there is no transform); got {got}.")
             .format(i=index, got=describe(got)),
             T("`Image.fromarray(배열)` 로 (32, 32, 3) uint8 배열을 이미지로 만드세요.",
               "`Image.fromarray(array)` makes an image from a (32, 32, 3) uint8 array."),
             why=T("PIL 이미지가 아님", "not a PIL image"), observed=got)
    if got.mode != "RGB" or got.size != (32, 32):
        fail(T("`__getitem__({i})` 의 이미지가 mode={mode}, size={size} 입니다. 32x32 RGB 여야 합니다.",
               "`__getitem__({i})` gave an image with mode={mode}, size={size}; expected a 32x32 RGB image.")
             .format(i=index, mode=got.mode, size=got.size),
             T("이미지 배열의 모양은 (높이, 너비, 채널) = (32, 32, 3) 이어야 합니다.",
               "The image array must be (height, width, channels) = (32, 32, 3)."),
             why=T("32x32 RGB 가 아님", "not a 32x32 RGB image"), observed=f"mode={got.mode} size={got.size}")
    pixels = np.asarray(got)
    if np.array_equal(pixels, expected):
        return
    if np.array_equal(pixels, row.reshape(32, 32, 3)):
        fail(T("`__getitem__({i})` 의 색이 뒤섞였습니다: 한 행을 (32, 32, 3) 으로 바로 reshape 했나요?",
               "`__getitem__({i})` has scrambled colours: was a row reshaped straight to (32, 32, 3)?")
             .format(i=index),
             T("한 행은 빨강 1024, 초록 1024, 파랑 1024 순서입니다. (3, 32, 32) 로 바꾼 다음 축의 순서를 바꾸세요.",
               "A row is 1024 red, then 1024 green, then 1024 blue values: make it (3, 32, 32), then reorder the axes."),
             why=T("행을 (32, 32, 3) 으로 바로 reshape (색이 뒤섞임)", "reshapes a row straight to (32, 32, 3): colours scrambled"))
    fail(T("`__getitem__({i})` 의 픽셀이 데이터 파일의 {i}번째 이미지와 다릅니다.",
           "`__getitem__({i})` returned pixels that differ from image {i} of the batch files.").format(i=index),
         T("배치 파일을 1번부터 5번까지 순서대로 이어 붙였는지, 같은 순서로 레이블을 모았는지 확인하세요.",
           "Check that the batches are concatenated in order 1 to 5, with the labels in the same order."),
         why=T("다른 이미지를 돌려줌 (배치의 순서나 파일)", "returns another image (batch order or files)"))


def check_target(got, expected, index):
    __tracebackhide__ = True
    if type(got) is not int:
        fail(T("`__getitem__({i})` 의 레이블은 int 여야 합니다. 받은 값: {got} ({kind})",
               "`__getitem__({i})` must give the label as an int; got {got} ({kind}).")
             .format(i=index, got=describe(got), kind=type(got).__name__),
             T("numpy 정수나 텐서는 `int(...)` 로 바꾸세요.", "Turn a numpy integer or a tensor into an `int(...)`."),
             why=T("레이블이 int 가 아님", "the label is not an int"), observed=type(got).__name__)
    if got != expected:
        fail(T("`__getitem__({i})` 의 레이블이 {got} 입니다. 기대값은 {expected} 입니다.",
               "`__getitem__({i})` gave label {got}; expected {expected}.").format(i=index, got=got, expected=expected),
             T("이미지와 레이블을 같은 순서로 모았나요?", "Are images and labels collected in the same order?"),
             why=T("다른 항목의 레이블", "another item's label"))


INDICES = (0, 1, 57, 199, 200, 433, 999)


def _indices(n):
    return [i for i in INDICES if i < n] + [n - 1]


# ----------------------------------------------------------------------------- checks

@check(points=2, title=T("학습 데이터의 길이", "Length of the training split"))
def test_len_train(nb, data_root):
    train, test = read_split(data_root, train=True), read_split(data_root, train=False)
    check_length(nb.run(probe_len, str(data_root), True), train, len(test.labels), train=True)
    # train=True is the default: CIFAR10Dataset(root) is the training split as well.
    got = nb.run(probe_len, str(data_root), None)
    if got != len(train.labels):
        fail(T("`len(CIFAR10Dataset(root))` 가 {got} 입니다. `train` 의 기본값은 True 이므로 학습 데이터의 길이 {want} 이어야 합니다.",
               "`len(CIFAR10Dataset(root))` is {got}; `train` defaults to True, so it must be the training split's {want}.")
             .format(got=describe(got), want=len(train.labels)),
             T("`__init__` 의 `train` 인자의 기본값을 확인하세요.", "Check the default value of `__init__`'s `train` argument."),
             why=T("train 의 기본값이 학습 데이터가 아님", "train does not default to the training split"), observed=got)


@check(points=2, title=T("평가 데이터의 길이", "Length of the test split"))
def test_len_test(nb, data_root):
    train, test = read_split(data_root, train=True), read_split(data_root, train=False)
    check_length(nb.run(probe_len, str(data_root), False), test, len(train.labels), train=False)


@check(points=1, title=T("클래스 이름", "Class names"))
def test_classes(nb, data_root):
    expected = list(read_split(data_root, train=False).classes)
    splits = (False, True)
    for train, got in zip(splits, answers(nb, [(probe_classes, (str(data_root), train)) for train in splits])):
        call = f"CIFAR10Dataset(root, train={train}).classes"
        if got is None:
            fail(T("`{call}` 이(가) 없습니다. 기대값은 {expected} 입니다.",
                   "`{call}` is missing; expected {expected}.").format(call=call, expected=expected),
                 T("학습 데이터와 평가 데이터 모두 `self.classes` 를 정해야 합니다.",
                   "Both the training and the test split set `self.classes`."),
                 why=T("한쪽 데이터에 classes 가 없음", "no classes on one split"), observed=f"train={train}")
        if got != expected:
            fail(T("`{call}` 가 {got} 입니다. 기대값은 {expected} 입니다.",
                   "`{call}` is {got}; expected {expected}.").format(call=call, got=describe(got, 200), expected=expected),
                 T("`batches.meta` 의 `label_names` 를 쓰세요.", "Use `label_names` from `batches.meta`."),
                 why=T("클래스 이름이 틀림", "wrong class names"), observed=got)


@check(points=3, title=T("항목의 이미지", "Item images"))
def test_item_images(nb, data_root):
    for train in (True, False):
        split = read_split(data_root, train=train)
        indices = _indices(len(split.labels))
        for index, (image, _) in zip(indices, nb.run(probe_items, str(data_root), train, indices)):
            check_image(image, split.images[index], split.rows[index], index)


@check(points=2, title=T("항목의 레이블", "Item labels"))
def test_item_targets(nb, data_root):
    for train in (True, False):
        split = read_split(data_root, train=train)
        indices = _indices(len(split.labels))
        for index, (_, target) in zip(indices, nb.run(probe_items, str(data_root), train, indices)):
            check_target(target, split.labels[index], index)


@check(points=2, title=T("transform 과 target_transform", "transform and target_transform"))
def test_transforms(nb, data_root):
    split = read_split(data_root, train=False)
    indices = [0, 5, len(split.labels) - 1]
    for index, (image, target) in zip(indices, nb.run(probe_transformed, str(data_root), indices)):
        if not (isinstance(image, tuple) and len(image) == 3 and image[0] == "transformed"):
            fail(T("`transform` 이 주어졌는데 이미지에 적용되지 않았습니다 (받은 값: {got}).",
                   "A `transform` was given but not applied to the image (got {got}).").format(got=describe(image)),
                 T("`__getitem__` 에서 `self.transform(image)` 를 돌려주세요.", "Return `self.transform(image)` from `__getitem__`."),
                 why=T("transform 을 적용하지 않음", "ignores transform"))
        if not image[2].startswith("PIL."):
            fail(T("`transform` 이 PIL 이미지가 아니라 {got} 을(를) 받았습니다.",
                   "`transform` received a {got}, not a PIL image.").format(got=image[2]),
                 T("transform 은 PIL 이미지를 만든 다음 그 이미지에 적용합니다 (ToTensor 같은 변환은 PIL 이미지를 받습니다).",
                   "Make the PIL image first, then apply the transform to it (transforms such as ToTensor take a PIL image)."),
                 why=T("transform 에 PIL 이미지가 아닌 것을 넘김", "transforms something other than the PIL image"),
                 observed=image[2])
        if not np.array_equal(image[1], split.images[index]):
            fail(T("`transform` 이 받은 이미지가 {i}번째 이미지가 아닙니다.",
                   "The image passed to `transform` is not image {i}.").format(i=index),
                 T("transform 은 PIL 이미지에 적용해야 합니다.", "Apply the transform to the PIL image."),
                 why=T("transform 에 다른 이미지를 넘김", "transforms another image"))
        if target != ("target", split.labels[index]):
            fail(T("`target_transform` 이 레이블에 적용되지 않았습니다 (받은 값: {got}).",
                   "`target_transform` was not applied to the label (got {got}).").format(got=describe(target)),
                 T("레이블에도 `self.target_transform(target)` 을 적용하세요.",
                   "Apply `self.target_transform(target)` to the label too."),
                 why=T("target_transform 을 적용하지 않음", "ignores target_transform"))


@check(points=3, title=T("make_loader 의 배치", "make_loader's batches"))
def test_make_loader(nb):
    cases = [(50, 8, False), (50, 8, True), (48, 8, True)]
    calls = [(probe_loader, (n, batch_size, False, drop_last)) for n, batch_size, drop_last in cases]
    got_all = answers(nb, [*calls, (probe_loader, (64, 16, True, False))])  # the last one shuffles
    for (n, batch_size, drop_last), got in zip(cases, got_all):
        if not got["is_loader"]:
            fail(T("`make_loader` 는 `torch.utils.data.DataLoader` 를 돌려줘야 합니다.",
                   "`make_loader` must return a `torch.utils.data.DataLoader`."), why=T("DataLoader 가 아님", "not a DataLoader"))
        expected = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
        if drop_last:
            expected = [b for b in expected if len(b) == batch_size]
        if got["batches"] != expected:
            sizes = [len(b) for b in got["batches"]]
            fail(T("`make_loader(n={n}, batch_size={b}, drop_last={d})` 의 배치 크기가 {sizes} 입니다. 기대값은 {want} 입니다.",
                   "`make_loader` with n={n}, batch_size={b}, drop_last={d} gave batches of sizes {sizes}; expected {want}.")
                 .format(n=n, b=batch_size, d=drop_last, sizes=sizes, want=[len(b) for b in expected]),
                 T("`batch_size`, `shuffle`, `drop_last` 를 DataLoader 에 그대로 넘기세요.",
                   "Pass `batch_size`, `shuffle` and `drop_last` on to the DataLoader."),
                 why=T("drop_last 를 넘기지 않음" if drop_last and len(got["batches"]) > len(expected) else "배치 크기가 틀림",
                       "ignores drop_last" if drop_last and len(got["batches"]) > len(expected) else "wrong batch sizes"),
                 observed=sizes)
    shuffled = next(got_all)["batches"]
    flat = [i for batch in shuffled for i in batch]
    if sorted(flat) != list(range(64)) or flat == list(range(64)):
        fail(T("`shuffle=True` 인데 순서가 섞이지 않았거나 항목이 빠졌습니다.",
               "With `shuffle=True` the order was not shuffled, or items went missing."),
             T("`shuffle` 인자를 DataLoader 에 넘기세요.", "Pass `shuffle` on to the DataLoader."),
             why=T("shuffle 을 넘기지 않음", "ignores shuffle"))
    # The defaults (shuffle=False, drop_last=False, num_workers=0), and num_workers passed on.
    defaults = nb.run(probe_loader_defaults, 10, 4, 2)
    expected = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    if defaults["batches"] != expected:
        fail(T("`make_loader(<10 items>, 4)` 의 배치가 {got} 입니다. 기본값 (shuffle=False, drop_last=False) 이면 {want} 입니다.",
               "`make_loader(<10 items>, 4)` gave the batches {got}; with the defaults (shuffle=False, drop_last=False) "
               "they are {want}.").format(got=describe(defaults["batches"], 120), want=expected),
             T("`shuffle` 과 `drop_last` 의 기본값은 False 입니다.", "`shuffle` and `drop_last` default to False."),
             why=T("shuffle/drop_last 의 기본값이 틀림", "wrong shuffle or drop_last defaults"), observed=defaults["batches"])
    if defaults["workers"] != [0, 2]:
        fail(T("`make_loader` 가 만든 DataLoader 의 num_workers 가 (기본값일 때, num_workers=2 일 때) {got} 입니다. 기대값은 [0, 2] 입니다.",
               "The DataLoaders from `make_loader` have num_workers {got} (by default, with num_workers=2); expected [0, 2].")
             .format(got=defaults["workers"]),
             T("`num_workers` 도 DataLoader 에 그대로 넘기세요 (기본값 0).", "Pass `num_workers` on to the DataLoader too (default 0)."),
             why=T("num_workers 를 넘기지 않음", "ignores num_workers"), observed=defaults["workers"])
