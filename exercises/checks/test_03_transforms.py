"""Public checks of 03_transforms: the evaluation, training and target transforms."""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms as transforms
from PIL import Image
from practice_checklib import answers

from grader.checks import T, check, describe, fail, reference
from grader.errors import StudentError
from grader.checking.seeds import manual_seed

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

# ----------------------------------------------------------------------------- probes
# Probes run in the student's kernel and only observe; every expectation is computed here.


def probe_transform(ns, builder, images, seeds):
    from PIL import Image

    from grader.checking.seeds import manual_seed

    transform = ns[builder]()
    outputs = []
    for image, seed in zip(images, seeds):
        manual_seed(seed)  # the trusted side applies the reference under the same seed
        outputs.append(transform(Image.fromarray(image)))
    return outputs


def probe_target(ns, num_classes, labels):
    build = ns["build_target_transform"]
    transform = build() if num_classes is None else build(num_classes)
    outputs = []
    for label in labels:
        value = transform(label)
        # A copy now: a tensor reused between calls must show what each call returned.
        outputs.append(value.clone() if isinstance(value, torch.Tensor) else value)
    return outputs


def probe_builder_type(ns, builder):
    import torchvision.transforms as transforms

    built = ns[builder]()
    return {"type": type(built).__module__ + "." + type(built).__qualname__,
            "Compose": isinstance(built, transforms.Compose), "Lambda": isinstance(built, transforms.Lambda)}


# ----------------------------------------------------------------------------- references

def _normalize(mean=CIFAR10_MEAN, std=CIFAR10_STD):
    return transforms.Normalize(mean, std)


def eval_reference() -> transforms.Compose:
    return transforms.Compose([transforms.ToTensor(), _normalize()])


def _affine():
    return transforms.RandomAffine(degrees=10, translate=(0.1, 0.1))


def _blur():
    return transforms.GaussianBlur(kernel_size=3, sigma=(0.1, 2.0))


def train_reference() -> transforms.Compose:
    return transforms.Compose([_affine(), _blur(), transforms.ToTensor(), _normalize()])


# Plausible wrong pipelines, to name what a student's output matches instead: (pipeline, hint, why).
EVAL_VARIANTS = [
    (lambda: transforms.Compose([transforms.ToTensor()]),
     T("Normalize 가 빠진 결과와 같습니다.", "It matches the output without Normalize."),
     T("Normalize 가 빠짐", "no Normalize")),
    (lambda: transforms.Compose([transforms.ToTensor(), _normalize(CIFAR10_STD, CIFAR10_MEAN)]),
     T("평균과 표준편차를 바꿔 넣은 결과와 같습니다.", "It matches Normalize with the mean and std swapped."),
     T("평균과 표준편차를 바꿔 넣음", "mean and std swapped")),
    (lambda: transforms.Compose([transforms.ToTensor(), _normalize((0.5,) * 3, (0.5,) * 3)]),
     T("CIFAR10_MEAN / CIFAR10_STD 대신 0.5 를 쓴 결과와 같습니다.",
       "It matches Normalize with 0.5 instead of CIFAR10_MEAN / CIFAR10_STD."),
     T("평균과 표준편차로 0.5 를 씀", "0.5 as the mean and std")),
    (lambda: transforms.Compose([transforms.ToTensor(), _normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]),
     T("ImageNet 의 평균과 표준편차를 쓴 결과와 같습니다. 주어진 CIFAR-10 값을 쓰세요.",
       "It matches the ImageNet mean and std; use the given CIFAR-10 values."),
     T("ImageNet 의 평균과 표준편차를 씀", "ImageNet's mean and std")),
]

_OTHER_AFFINE = T("RandomAffine 의 인자가 다른 파이프라인의 결과와 같습니다: degrees=10, translate=(0.1, 0.1) 입니다.",
                  "It matches RandomAffine with other arguments: degrees=10, translate=(0.1, 0.1).")
_OTHER_BLUR = T("GaussianBlur 의 인자가 다른 파이프라인의 결과와 같습니다: kernel_size=3, sigma=(0.1, 2.0) 입니다.",
                "It matches GaussianBlur with other arguments: kernel_size=3, sigma=(0.1, 2.0).")
TRAIN_VARIANTS = [
    (eval_reference,
     T("무작위 증강이 없는 (평가용) 변환의 결과와 같습니다.", "It matches the evaluation transform, with no random augmentation."),
     T("무작위 증강이 없음", "no random augmentation")),
    (lambda: transforms.Compose([_affine(), transforms.ToTensor(), _normalize()]),
     T("GaussianBlur 가 빠진 파이프라인의 결과와 같습니다.", "It matches the pipeline without GaussianBlur."),
     T("GaussianBlur 가 빠짐", "no GaussianBlur")),
    (lambda: transforms.Compose([_blur(), transforms.ToTensor(), _normalize()]),
     T("RandomAffine 이 빠진 파이프라인의 결과와 같습니다.", "It matches the pipeline without RandomAffine."),
     T("RandomAffine 이 빠짐", "no RandomAffine")),
    (lambda: transforms.Compose([_blur(), _affine(), transforms.ToTensor(), _normalize()]),
     T("GaussianBlur 를 RandomAffine 보다 먼저 적용한 결과와 같습니다. 순서를 확인하세요.",
       "It matches GaussianBlur applied before RandomAffine: check the order."),
     T("GaussianBlur 를 RandomAffine 앞에 둠", "GaussianBlur before RandomAffine")),
    (lambda: transforms.Compose([_affine(), _blur(), transforms.ToTensor()]),
     T("Normalize 가 빠진 파이프라인의 결과와 같습니다.", "It matches the pipeline without Normalize."),
     T("Normalize 가 빠짐", "no Normalize")),
    (lambda: transforms.Compose([transforms.ToTensor(), _affine(), _blur(), _normalize()]),
     T("증강을 ToTensor 뒤의 텐서에 적용한 결과와 같습니다. 증강은 PIL 이미지에 먼저 적용합니다.",
       "It matches the augmentation applied to the tensor after ToTensor; augment the PIL image first."),
     T("증강을 ToTensor 뒤에 적용", "augments after ToTensor")),
    (lambda: transforms.Compose([transforms.RandomHorizontalFlip(), _affine(), _blur(), transforms.ToTensor(), _normalize()]),
     T("RandomHorizontalFlip 이 더 들어간 파이프라인의 결과와 같습니다. 지시된 변환만 쓰세요.",
       "It matches the pipeline with an extra RandomHorizontalFlip; use the transforms asked for only."),
     T("RandomHorizontalFlip 을 더함", "an extra RandomHorizontalFlip")),
    *[(lambda d=degrees, t=shift: transforms.Compose([transforms.RandomAffine(degrees=d, translate=(t, t)), _blur(),
                                                      transforms.ToTensor(), _normalize()]),
       _OTHER_AFFINE, T("RandomAffine 의 인자가 다름", "RandomAffine with other arguments"))
      for degrees, shift in ((15, 0.2), (15, 0.1), (10, 0.2), (20, 0.1), (30, 0.1), (5, 0.1))],
    *[(lambda k=kernel, sigma=sigma: transforms.Compose([_affine(), transforms.GaussianBlur(kernel_size=k, sigma=sigma),
                                                         transforms.ToTensor(), _normalize()]),
       _OTHER_BLUR, T("GaussianBlur 의 인자가 다름", "GaussianBlur with other arguments"))
      for kernel, sigma in ((3, 1.0), (3, 0.5), (3, 2.0), (3, (0.1, 1.0)), (5, (0.1, 2.0)))],
]


PIPELINES = {"eval": [eval_reference], "train": [train_reference],
             "eval variants": [make for make, _, _ in EVAL_VARIANTS],
             "train variants": [make for make, _, _ in TRAIN_VARIANTS]}


def apply(table: str, index: int, image: np.ndarray, seed: int) -> torch.Tensor:
    """``PIPELINES[table][index]``'s output for ``image`` after torch.manual_seed(seed)."""
    return _apply(table, index, image.tobytes(), image.shape, image.dtype.str, seed)


@reference
def _apply(table, index, pixels, shape, dtype, seed):
    image = np.frombuffer(pixels, dtype=dtype).reshape(shape).copy()
    pipeline = PIPELINES[table][index]()
    manual_seed(seed)
    return pipeline(Image.fromarray(image))


def _matches(got, want) -> bool:
    return (isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.shape == want.shape
            and bool(torch.allclose(got.detach().float(), want, atol=1e-5, rtol=0)))


# ----------------------------------------------------------------------------- helpers

def run_transform(nb, builder: str, images, seeds):
    """The student's outputs; an exception inside their pipeline is a failed check, said plainly."""
    __tracebackhide__ = True
    try:
        return nb.run(probe_transform, builder, images, seeds)
    except StudentError as error:
        if error.not_implemented:
            raise
        fail(T("`{b}()` 가 만든 변환을 32x32 PIL 이미지에 적용하자 오류가 났습니다: {e}: {v}",
               "Applying the transform from `{b}()` to a 32x32 PIL image raised {e}: {v}")
             .format(b=builder, e=error.ename, v=error.evalue[:200]),
             T("각 변환은 앞 변환의 결과를 받습니다. 어떤 변환이 PIL 이미지를 받고, 어떤 변환이 텐서를 받나요?",
               "Each transform takes what the one before it returns: which take a PIL image, and which a tensor?"),
             why=T(f"변환이 {error.ename} 를 냄", f"the transform raises {error.ename}"), observed=error.ename)


def check_tensor(got, shape, what: str):
    __tracebackhide__ = True
    if not isinstance(got, torch.Tensor):
        fail(T("{what} 의 결과가 {got} 입니다. 모양 {shape} 의 float32 텐서가 필요합니다.",
               "{what} gave {got}; expected a float32 tensor of shape {shape}.").format(what=what, got=describe(got), shape=shape),
             T("PIL 이미지를 텐서로 바꾸는 변환이 파이프라인에 있나요?", "Does the pipeline turn the PIL image into a tensor?"),
             why=T("텐서가 아닌 값을 돌려줌 (ToTensor 가 없음?)", "returns no tensor (no ToTensor?)"), observed=got)
    if tuple(got.shape) != shape or got.dtype != torch.float32:
        fail(T("{what} 의 결과가 {got} 입니다. 모양 {shape}, dtype torch.float32 여야 합니다.",
               "{what} gave {got}; expected shape {shape} and dtype torch.float32.").format(what=what, got=describe(got), shape=shape),
             T("ToTensor 는 (C, H, W) float32 텐서를 만듭니다.", "ToTensor makes a (C, H, W) float32 tensor."),
             why=T("모양이나 dtype 이 틀림", "the wrong shape or dtype"), observed=got)


def check_eval_outputs(got, images):
    __tracebackhide__ = True
    what = "`build_eval_transform()(image)`"
    for index, image in enumerate(images):
        first, second = got[2 * index], got[2 * index + 1]
        check_tensor(first, (3, *image.shape[:2]), what)
        want = apply("eval", 0, image, 0)
        if _matches(first, want):
            if not _matches(second, want):
                fail(T("평가용 변환이 시드마다 다른 결과를 냅니다.", "The evaluation transform gives a different result for each seed."),
                     T("평가용 변환에는 무작위 증강을 넣지 않습니다.", "The evaluation transform has no random augmentation."),
                     why=T("평가용 변환이 무작위", "the evaluation transform is random"))
            continue
        hint = T("ToTensor 다음에 주어진 CIFAR10_MEAN, CIFAR10_STD 로 Normalize 하세요.",
                 "After ToTensor, Normalize with the given CIFAR10_MEAN and CIFAR10_STD.")
        why = T("기준과 다른 값", "values unlike the reference")
        if not _matches(first, second):
            hint = T("시드마다 결과가 다릅니다: 평가용 변환에는 무작위 증강을 넣지 않습니다.",
                     "The result changes with the seed: the evaluation transform has no random augmentation.")
            why = T("평가용 변환이 무작위", "the evaluation transform is random")
        for variant, (_, named, recognised) in enumerate(EVAL_VARIANTS):
            if _matches(first, apply("eval variants", variant, image, 0)):
                hint, why = named, recognised
                break
        fail(T("{what} 의 값이 기준과 다릅니다 (이미지 {i}, 최대 차이 {d:.4g}).",
               "{what} differs from the reference (image {i}, largest difference {d:.4g}).")
             .format(what=what, i=index, d=float((first.detach().float() - want).abs().max())), hint, why=why)


def check_train_matches(got, images, seeds):
    __tracebackhide__ = True
    what = "`build_train_transform()(image)`"
    for index, (image, seed) in enumerate(zip(images, seeds)):
        want = apply("train", 0, image, seed)
        if _matches(got[index], want):
            continue
        check_tensor(got[index], (3, *image.shape[:2]), what)
        hint = T("RandomAffine(degrees=10, translate=(0.1, 0.1)), GaussianBlur(kernel_size=3, sigma=(0.1, 2.0)), "
                 "ToTensor(), Normalize 의 순서와 인자를 확인하세요.",
                 "Check the order and the arguments: RandomAffine(degrees=10, translate=(0.1, 0.1)), "
                 "GaussianBlur(kernel_size=3, sigma=(0.1, 2.0)), ToTensor(), Normalize.")
        why = T("기준 파이프라인과 다름", "unlike the reference pipeline")
        for variant, (_, named, recognised) in enumerate(TRAIN_VARIANTS):
            if _matches(got[index], apply("train variants", variant, image, seed)):
                hint, why = named, recognised
                break
        fail(T("torch.manual_seed({s}) 뒤의 {what} 가 같은 시드의 기준 파이프라인과 다릅니다 (이미지 {i}, 최대 차이 {d:.4g}).",
               "After torch.manual_seed({s}), {what} differs from the reference pipeline under the same seed "
               "(image {i}, largest difference {d:.4g}).")
             .format(s=seed, what=what, i=index, d=float((got[index].detach().float() - want).abs().max())), hint, why=why)


def check_one_hot(outputs, labels, num_classes):
    __tracebackhide__ = True
    n = 10 if num_classes is None else num_classes
    call = "build_target_transform()" if num_classes is None else f"build_target_transform({num_classes})"
    for label, got in zip(labels, outputs):
        what = f"`{call}({label})`"
        if not isinstance(got, torch.Tensor):
            fail(T("{what} 이 {got} 을(를) 돌려주었습니다. 길이 {n} 의 float32 텐서가 필요합니다.",
                   "{what} returned {got}; expected a float32 tensor of length {n}.").format(what=what, got=describe(got), n=n),
                 T("Lambda 안의 함수가 텐서를 돌려주어야 합니다.", "The function inside the Lambda must return a tensor."),
                 why=T("텐서가 아닌 값을 돌려줌", "returns no tensor"), observed=got)
        if tuple(got.shape) != (n,):
            hint = T("레이블 하나에 대한 one-hot 벡터는 1차원, 길이 num_classes 입니다.",
                     "A one-hot vector for one label is one-dimensional, of length num_classes.")
            why = T("one-hot 벡터의 모양이 아님", "not the shape of a one-hot vector")
            if num_classes is not None and tuple(got.shape) == (10,):
                hint = T("길이가 10 입니다: num_classes 인자를 쓰나요?", "The length is 10: do you use the num_classes argument?")
                why = T("num_classes 를 쓰지 않음 (길이 10)", "ignores num_classes (length 10)")
            elif got.dim() == 0:
                why = T("레이블을 one-hot 이 아닌 텐서로 돌려줌", "returns the label as a tensor, not one-hot")
            elif tuple(got.shape) == (1, n):
                why = T("배치 축을 하나 더 둠 (1, n)", "an extra batch axis (1, n)")
            fail(T("{what} 의 모양이 {got} 입니다. 기대값은 ({n},) 입니다.",
                   "{what} has shape {got}; expected ({n},).").format(what=what, got=tuple(got.shape), n=n), hint,
                 why=why, observed=tuple(got.shape))
        if got.dtype != torch.float32:
            fail(T("{what} 의 dtype 이 {got} 입니다. 기대값은 torch.float32 입니다.",
                   "{what} has dtype {got}; expected torch.float32.").format(what=what, got=got.dtype),
                 T("one-hot 을 만드는 함수가 정수 텐서를 돌려줄 수 있습니다. 손실 함수는 float 타깃을 받습니다.",
                   "A one-hot helper may give an integer tensor; the loss takes float targets."),
                 why=T("float32 가 아님", "not float32"), observed=str(got.dtype))
        want = torch.zeros(n)
        want[label] = 1.0
        if not torch.equal(got, want):
            ones = [int(i) for i in torch.nonzero(got).flatten()][:10]
            hint = T("레이블 번호 위치 하나만 1 이고 나머지는 0 이어야 합니다.", "Only the label's position is 1; all others are 0.")
            why = T("1 의 위치가 틀림", "the 1 in the wrong place")
            if len(ones) > 1:
                hint = T("1 이 여러 개입니다. 앞선 호출의 텐서를 다시 쓰고 있지 않나요? 호출마다 새 텐서를 만드세요.",
                         "There is more than one 1: is a tensor from an earlier call reused? Make a new one per call.")
                why = T("앞선 호출의 텐서를 다시 씀", "reuses a tensor across calls")
            fail(T("{what} 에서 0 이 아닌 위치가 {ones} 입니다. 기대값은 [{label}] 입니다.",
                   "{what} is non-zero at {ones}; expected only at [{label}].").format(what=what, ones=ones, label=label),
                 hint, why=why)


def check_builder_type(nb, builder: str, kind: str):
    """``builder()`` returns a ``transforms.<kind>`` (Compose, or Lambda), as the exercise asks."""
    __tracebackhide__ = True
    got = nb.run(probe_builder_type, builder)
    if got[kind] is not True:
        fail(T("`{b}()` 이(가) {got} 을(를) 돌려주었습니다. `transforms.{kind}` 가 필요합니다.",
               "`{b}()` returned a {got}; expected a `transforms.{kind}`.").format(b=builder, got=got["type"], kind=kind),
             T("결과가 같더라도 강의처럼 torchvision.transforms 의 {kind} 로 만들어 돌려주세요.",
               "Even where the results agree, build and return a {kind} from torchvision.transforms, as in the lecture.")
             .format(kind=kind),
             why=T("transforms.{kind} 가 아닌 것을 돌려줌", "returns no transforms.{kind}").format(kind=kind),
             observed=got["type"])


@reference
def public_images() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:32, 0:32]
    smooth = np.stack([xx * 8, yy * 8, (xx + yy) * 4], axis=-1).astype(np.uint8)
    return [rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8), smooth]


# ----------------------------------------------------------------------------- checks

@check(points=3, title=T("평가용 변환", "The evaluation transform"))
def test_eval_transform(nb):
    images = public_images()
    got = run_transform(nb, "build_eval_transform", [i for i in images for _ in (0, 1)], [0, 1] * len(images))
    check_eval_outputs(got, images)
    check_builder_type(nb, "build_eval_transform", "Compose")


@check(points=1, title=T("학습용 변환: 무작위 float32 텐서", "The training transform: a random float32 tensor"))
def test_train_transform_tensor(nb):
    image = public_images()[1]
    first, again, other = run_transform(nb, "build_train_transform", [image] * 3, [0, 0, 1])
    what = "`build_train_transform()(image)`"
    check_tensor(first, (3, 32, 32), what)
    if not _matches(again, first):
        fail(T("같은 시드 (torch.manual_seed(0)) 에서 {what} 의 결과가 달랐습니다.",
               "Under the same seed (torch.manual_seed(0)) {what} gave different results.").format(what=what),
             T("무작위성은 torch 의 난수 생성기에서만 와야 합니다.", "Randomness must come from torch's random generator only."))
    if _matches(other, first):
        fail(T("시드를 바꿔도 {what} 의 결과가 같습니다. 학습용 변환은 무작위 증강을 합니다.",
               "{what} gives the same result for different seeds; the training transform augments at random.")
             .format(what=what),
             T("학습용 파이프라인에 무작위 변환이 들어 있나요?", "Does the training pipeline contain random transforms?"))
    check_builder_type(nb, "build_train_transform", "Compose")


@check(points=3, title=T("학습용 변환: 같은 시드, 같은 결과", "The training transform: same seed, same result"))
def test_train_transform_matches(nb):
    images, seeds = public_images() * 2, [0, 0, 7, 42]
    check_train_matches(run_transform(nb, "build_train_transform", images, seeds), images, seeds)


@check(points=3, title=T("one-hot target_transform", "The one-hot target_transform"))
def test_target_transform(nb):
    cases = [(None, [3, 0, 9, 3, 7]), (5, [4, 1, 1])]
    for (num_classes, labels), outputs in zip(cases, answers(nb, [(probe_target, c) for c in cases])):
        check_one_hot(outputs, labels, num_classes)
    check_builder_type(nb, "build_target_transform", "Lambda")
