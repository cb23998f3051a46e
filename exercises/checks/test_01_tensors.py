"""Public checks of 01_tensors: to_chw_float, stack_batch, gradient and to_device."""

from __future__ import annotations

import numpy as np
import torch
from practice_checklib import answers

from grader.checks import T, check, describe, fail, reference

# ----------------------------------------------------------------------------- probes
# Probes run in the student's kernel and only observe; every expectation is computed here.


def probe_chw(ns, images):
    answers = []
    for image in images:
        before = image.copy()
        got = ns["to_chw_float"](image)
        answers.append((got, bool(np.array_equal(image, before))))
    return answers


def probe_stack(ns, groups):
    answers = []
    for images in groups:
        answers.append((ns["stack_batch"](list(images)), ns["stack_batch"](tuple(images))))
    return answers


def probe_gradient(ns, cases):
    # Each case says whether the caller's x already requires grad; the function must leave it so.
    def ask(f, start, requires_grad):
        x = start.clone().requires_grad_(requires_grad)
        first = ns["gradient"](f, x)
        if isinstance(first, torch.Tensor):
            first = first.detach().clone()  # before a second call can add to it
        state = {"requires_grad": bool(x.requires_grad), "grad": x.grad,
                 "unchanged": bool(torch.equal(x.detach(), start))}
        second = ns["gradient"](f, x)
        if isinstance(second, torch.Tensor):
            second = second.detach().clone()
        answer = {"first": first, "second": second, "state": state}
        if requires_grad:  # the same function and values in an x that does not require grad
            plain = ns["gradient"](f, start.clone())
            answer["plain"] = plain.detach().clone() if isinstance(plain, torch.Tensor) else plain
        return answer

    answers = []
    for expression, start, requires_grad in cases:
        f = eval("lambda x: " + expression, {"torch": torch})  # noqa: S307 - the checks' own text
        if not requires_grad:
            answers.append(ask(f, start, False))
            continue
        try:
            answers.append(ask(f, start, True))
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - what raised on an x that requires grad is the answer
            answers.append({"raised": [type(error).__name__, str(error)[:300]]})
    return answers


def probe_to_device(ns, batches, device_name, as_object):
    def tree(value):
        # A description of a (nested) batch that survives any device, the meta device included.
        if isinstance(value, torch.Tensor):
            return ["tensor", value.device.type, list(value.shape), str(value.dtype)]
        if type(value) is list:
            return ["list", [tree(v) for v in value]]
        if type(value) is tuple:
            return ["tuple", [tree(v) for v in value]]
        if type(value) is dict:
            return ["dict", [[k, tree(v)] for k, v in value.items()]]
        if value is None or type(value) in (int, float, str, bool):
            return ["value", type(value).__name__, value]
        return ["value", type(value).__name__, None]

    def tensors(value):
        if isinstance(value, torch.Tensor):
            return [value.detach().cpu()]
        if type(value) in (list, tuple):
            return [t for v in value for t in tensors(v)]
        if type(value) is dict:
            return [t for v in value.values() for t in tensors(v)]
        return []

    device = torch.device(device_name) if as_object else device_name
    answers = []
    for batch in batches:
        moved = ns["to_device"](batch, device)
        answers.append({"before": tree(batch), "after": tree(moved),
                        "values": tensors(moved) if device_name != "meta" else []})
    return answers


# ----------------------------------------------------------------------------- to_chw_float

def expected_chw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.copy()).permute(2, 0, 1).to(torch.float32) / 255.0


def check_chw_layout(got, image):
    __tracebackhide__ = True
    h, w, c = image.shape
    call = f"to_chw_float(<uint8 {h}x{w}x{c}>)"
    if not isinstance(got, torch.Tensor):
        fail(T("`{call}` 이 {got} 을(를) 돌려주었습니다. torch.Tensor 가 필요합니다.",
               "`{call}` returned {got}; expected a torch.Tensor.").format(call=call, got=describe(got)),
             T("numpy 배열을 텐서로 바꾸는 함수는 강의 2-5 에 있습니다.",
               "Lecture 2-5 shows how a numpy array becomes a tensor."),
             why=T("텐서가 아닌 값을 돌려줌", "returns no tensor"), observed=got)
    shape = tuple(got.shape)
    if shape != (c, h, w):
        hint = T("`(H, W, C)` 의 각 축이 어디로 가야 하는지 생각해 보세요: 채널이 맨 앞입니다.",
                 "Think about where each axis of `(H, W, C)` must go: channels come first.")
        why = T("모양이 (C, H, W) 가 아님", "the shape is not (C, H, W)")
        if shape == (c, w, h):
            hint = T("높이와 너비가 바뀌었습니다. 두 축만 맞바꾸는 연산은 축의 순서를 원하는 대로 정하지 못합니다.",
                     "Height and width are swapped: swapping two axes once cannot give every order you need.")
            why = T("높이와 너비를 맞바꿈", "swaps height and width")
        elif shape == (h, w, c):
            hint = T("축의 순서가 그대로입니다. 채널 축을 맨 앞으로 옮기세요.",
                     "The axes were not reordered: move the channel axis to the front.")
            why = T("축을 (H, W, C) 그대로 둠", "keeps the (H, W, C) order")
        fail(T("`{call}` 의 모양이 {got} 입니다. 기대값은 (C, H, W) = {want} 입니다.",
               "`{call}` has shape {got}; expected (C, H, W) = {want}.").format(call=call, got=shape, want=(c, h, w)),
             hint, why=why)
    if got.dtype != torch.float32:
        hint = T("모델은 float32 텐서를 받습니다. 정수형으로 나누거나 numpy 에서 계산하면 다른 dtype 이 됩니다.",
                 "Models take float32 tensors; integer maths or computing in numpy gives another dtype.")
        fail(T("`{call}` 의 dtype 이 {got} 입니다. 기대값은 torch.float32 입니다.",
               "`{call}` has dtype {got}; expected torch.float32.").format(call=call, got=got.dtype), hint,
             why=T("float32 가 아님", "not float32"), observed=str(got.dtype))


def check_chw_values(got, unchanged, image):
    __tracebackhide__ = True
    h, w, c = image.shape
    call = f"to_chw_float(<uint8 {h}x{w}x{c}>)"
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (c, h, w):
        fail(T("`{call}` 이 {got} 을(를) 돌려주어 값을 비교할 수 없습니다. 기대값은 모양 {want} 의 텐서입니다.",
               "`{call}` returned {got}, so its values cannot be compared; expected a tensor of shape {want}.")
             .format(call=call, got=describe(got), want=(c, h, w)),
             T("먼저 모양과 dtype 검사를 통과하세요.", "Pass the shape and dtype check first."),
             why=T("모양이 틀려 값을 비교할 수 없음", "the wrong shape: values not compared"))
    expected = expected_chw(image)
    values = got.detach().to(torch.float64)
    if torch.allclose(values, expected.double(), atol=1e-6, rtol=0):
        if not unchanged:
            fail(T("`{call}` 이 넘겨받은 이미지 배열을 바꾸었습니다.", "`{call}` changed the image array it was given.")
                 .format(call=call),
                 T("입력은 읽기만 하고, 결과는 새 텐서로 만드세요.", "Only read the input; build the result as a new tensor."),
                 why=T("입력 배열을 바꿈", "changes the input array"))
        return
    hint = T("각 값은 픽셀 값 / 255 이고, 위치 [c, h, w] 의 값은 원래 이미지의 [h, w, c] 에서 와야 합니다.",
             "Each value is pixel / 255, and the value at [c, h, w] must come from [h, w, c] of the image.")
    why = T("값이 틀림", "wrong values")
    if torch.allclose(values, expected.double() * 255, atol=1e-4):
        hint = T("값이 0..255 범위입니다. [0, 1] 범위로 바꾸었나요?",
                 "The values are in 0..255: did you scale them to [0, 1]?")
        why = T("255 로 나누지 않음", "not scaled to [0, 1]")
    elif torch.allclose(values, torch.from_numpy(image.copy()).reshape(c, h, w).double() / 255, atol=1e-6):
        hint = T("값이 뒤섞였습니다: reshape 는 모양만 바꾸고 축의 순서는 바꾸지 않습니다.",
                 "The values are scrambled: reshape changes the shape, not the order of the axes.")
        why = T("permute 대신 reshape", "reshape instead of permute")
    elif h == w and torch.allclose(values, expected.double().transpose(1, 2), atol=1e-6):
        hint = T("높이와 너비가 바뀌었습니다 (정사각형 이미지라 모양으로는 드러나지 않았습니다).",
                 "Height and width are swapped (the image is square, so the shape did not show it).")
        why = T("높이와 너비를 맞바꿈", "swaps height and width")
    index = tuple(int(i) for i in torch.nonzero(~torch.isclose(values, expected.double(), atol=1e-6))[0])
    fail(T("`{call}` 의 값이 다릅니다: 위치 {index} 에서 {want:.4f} 이어야 하는데 {got:.4f} 입니다.",
           "`{call}` has wrong values: at {index} expected {want:.4f}, got {got:.4f}.")
         .format(call=call, index=list(index), want=float(expected[index]), got=float(values[index])), hint, why=why)


@reference
def public_images() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    square = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    square[0, 0], square[-1, -1] = 0, 255
    return [rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8), square]


# ----------------------------------------------------------------------------- stack_batch

def check_stack(got, images, kind):
    __tracebackhide__ = True
    n, shape = len(images), tuple(images[0].shape)
    call = f"stack_batch(<{kind} of {n} tensors {shape}>)"
    want = (n, *shape)
    if not isinstance(got, torch.Tensor):
        fail(T("`{call}` 이 {got} 을(를) 돌려주었습니다. 모양 {want} 의 텐서가 필요합니다.",
               "`{call}` returned {got}; expected a tensor of shape {want}.").format(call=call, got=describe(got), want=want),
             T("텐서 여러 개를 하나의 텐서로 합치는 torch 함수를 쓰세요.", "Use a torch function that joins tensors into one."),
             why=T("텐서가 아닌 값을 돌려줌", "returns no tensor"), observed=got)
    if tuple(got.shape) != want:
        hint = T("배치 축은 새로 생기는 맨 앞 축입니다.", "The batch axis is a new, first axis.")
        why = T("모양이 (N, C, H, W) 가 아님", "the shape is not (N, C, H, W)")
        joined = tuple(got.shape) == (n * shape[0], *shape[1:])
        squeezed = tuple(got.shape) == tuple(d for d in want if d != 1)
        if joined:
            hint = T("이미 있는 축을 따라 이어 붙였습니다. 배치에는 새 축이 필요합니다.",
                     "The tensors were joined along an existing axis; a batch needs a new axis.")
            why = T("이미 있는 축으로 이어 붙임 (cat)", "joins along an existing axis (cat)")
        if squeezed:
            why = T("크기 1인 축을 없앰", "squeezes size-1 axes away")
        if joined and squeezed:  # a batch of one, or single-channel images: either mistake
            why = T("크기 1인 축을 없애거나 이어 붙임", "squeezes or joins along an existing axis")
        fail(T("`{call}` 의 모양이 {got} 입니다. 기대값은 (N, C, H, W) = {want} 입니다.",
               "`{call}` has shape {got}; expected (N, C, H, W) = {want}.").format(call=call, got=tuple(got.shape), want=want),
             hint, why=why)
    expected = torch.stack(list(images))
    if got.dtype != expected.dtype or not torch.equal(got.detach(), expected):
        fail(T("`{call}` 의 값이 다릅니다 (dtype {got}, 기대 dtype {want}): 결과[i] 는 i 번째 이미지여야 합니다.",
               "`{call}` has wrong values (dtype {got}, expected {want}): result[i] must be image i.")
             .format(call=call, got=got.dtype, want=expected.dtype),
             T("이미지의 순서와 값은 그대로 두고 쌓기만 하세요.", "Keep the images' order and values; only stack them."),
             why=T("값이나 dtype 이 바뀜", "changes the values or the dtype"))


def public_groups() -> list[list[torch.Tensor]]:
    generator = torch.Generator().manual_seed(2)
    return [[torch.rand(3, 5, 6, generator=generator) for _ in range(4)],
            [torch.rand(3, 4, 4, generator=generator)]]


# ----------------------------------------------------------------------------- gradient

def expected_gradient(expression: str, start: torch.Tensor) -> torch.Tensor:
    f = eval("lambda x: " + expression, {"torch": torch})  # noqa: S307 - the checks' own text
    x = start.clone().requires_grad_(True)
    f(x).backward()
    return x.grad


def gradient_call(expression: str, requires_grad: bool) -> str:
    call = f"gradient(lambda x: {expression}, x)"
    return call + " (x.requires_grad=True)" if requires_grad else call


def check_gradient_value(got, expression, start, requires_grad=False):
    __tracebackhide__ = True
    call = gradient_call(expression, requires_grad)
    shape = tuple(start.shape)
    if got is None:
        fail(T("`{call}` 이 None 을 돌려주었습니다.", "`{call}` returned None.").format(call=call),
             T("`.grad` 는 requires_grad 인 leaf 텐서에만 남습니다. 어느 텐서의 기울기를 읽었나요?",
               "`.grad` is kept only on leaf tensors that require grad: whose gradient did you read?"),
             why=T("None 을 돌려줌 (leaf 가 아닌 텐서의 .grad)", "returns None (the .grad of a non-leaf)"))
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != shape:
        fail(T("`{call}` (x 의 모양 {shape}) 이 {got} 을(를) 돌려주었습니다. x 와 같은 모양의 텐서가 필요합니다.",
               "`{call}` (x of shape {shape}) returned {got}; expected a tensor of x's shape.")
             .format(call=call, shape=shape, got=describe(got)),
             T("스칼라 f(x) 를 x 로 미분한 값은 x 와 모양이 같습니다.", "The derivative of a scalar f(x) by x has x's shape."),
             why=T("x 와 모양이 다름", "not of x's shape"), observed=got)
    expected = expected_gradient(expression, start)
    values = got.detach().to(expected.dtype)
    if not torch.allclose(values, expected, rtol=1e-4, atol=1e-5):
        index = tuple(int(i) for i in torch.nonzero(~torch.isclose(values, expected, rtol=1e-4, atol=1e-5))[0])
        fail(T("`{call}` 의 값이 다릅니다: 위치 {index} 에서 {want:.5g} 이어야 하는데 {got:.5g} 입니다.",
               "`{call}` has wrong values: at {index} expected {want:.5g}, got {got:.5g}.")
             .format(call=call, index=list(index), want=float(expected[index]), got=float(values[index])),
             T("f 를 x 에서 계산한 스칼라에 대해 역전파하고, 그 기울기를 돌려주세요.",
               "Backpropagate from the scalar f computes at x and return that gradient."),
             why=T("기울기 값이 틀림", "wrong gradient values") if not requires_grad
             else T("requires_grad 인 x 에서 기울기 값이 틀림", "wrong gradient values when x requires grad"))


_KEEP_X = T("호출한 쪽의 텐서 대신, 그래프에서 떼어 낸 복사본으로 미분하세요.",
            "Differentiate a copy detached from the graph instead of the caller's tensor.")
_KEEP_GRAPH_X = T("이 x 는 이미 requires_grad 입니다: x 자신이나 x 의 그래프에 이어진 복사본으로 미분하면 역전파가 x.grad 를 채웁니다. "
                  "x 의 그래프에서 떼어 낸 복사본으로 미분하고, x 의 requires_grad 는 건드리지 마세요.",
                  "This x already requires grad: differentiating x itself, or a copy still joined to its graph, makes "
                  "backward fill x.grad. Differentiate a copy detached from x's graph and leave x.requires_grad alone.")


def check_gradient_raised(answer, expression):
    """An x that requires grad made ``gradient`` raise (the probe caught it for this case only)."""
    __tracebackhide__ = True
    if "raised" in answer:
        ename, evalue = answer["raised"]
        fail(T("x.requires_grad 가 True 인 x 로 `{call}` 을 부르자 오류가 났습니다: {e}: {v}",
               "`{call}` raised {e}: {v} for an x that already requires grad.")
             .format(call=gradient_call(expression, False), e=ename, v=evalue), _KEEP_GRAPH_X,
             why=T("requires_grad 인 x 에서 오류", "raises when x requires grad"), observed=ename)


def check_gradient_state(answer, expression, requires_grad=False):
    __tracebackhide__ = True
    check_gradient_raised(answer, expression)
    call = gradient_call(expression, requires_grad)
    state = answer["state"]
    hint = _KEEP_GRAPH_X if requires_grad else _KEEP_X
    if state["requires_grad"] is not requires_grad and not requires_grad:
        why = T("호출한 쪽 x 의 requires_grad 를 켬", "turns requires_grad on for the caller's x")
        if state["grad"] is not None:
            why = T("호출한 쪽 x 로 직접 미분 (.grad 가 남음)", "differentiates the caller's x itself (.grad left on it)")
        fail(T("`{call}` 뒤에 호출한 쪽의 x.requires_grad 가 True 가 되었습니다. x 는 그대로여야 합니다.",
               "After `{call}` the caller's x.requires_grad became True; x must be left as it was.").format(call=call), hint,
             why=why)
    if state["requires_grad"] is not requires_grad:
        fail(T("`{call}` 뒤에 호출한 쪽의 x.requires_grad 가 False 가 되었습니다. 호출 전처럼 True 여야 합니다.",
               "After `{call}` the caller's x.requires_grad became False; it must stay True, as before the call.")
             .format(call=call), hint,
             why=T("호출한 쪽 x 의 requires_grad 를 끔", "turns requires_grad off for the caller's x"))
    if state["grad"] is not None:
        fail(T("`{call}` 뒤에 호출한 쪽의 x 에 .grad 가 남았습니다 ({got}). 호출 전처럼 None 이어야 합니다.",
               "`{call}` left a .grad on the caller's x ({got}); it must stay None, as before the call.")
             .format(call=call, got=describe(state["grad"])), hint,
             why=T("requires_grad 인 x 에 .grad 를 남김", "leaves a .grad on an x that requires grad") if requires_grad
             else T("호출한 쪽 x 에 .grad 를 남김", "leaves a .grad on the caller's x"))
    if state["unchanged"] is not True:
        fail(T("`{call}` 이 호출한 쪽의 x 의 값을 바꾸었습니다.", "`{call}` changed the values of the caller's x.")
             .format(call=call), hint, why=T("호출한 쪽 x 의 값을 바꿈", "changes the caller's x"))
    first, second = answer["first"], answer["second"]
    if not (isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor)
            and first.shape == second.shape and torch.allclose(first.detach(), second.detach())):
        fail(T("같은 x 로 `{call}` 을 두 번 부르니 결과가 달랐습니다 ({a} → {b}). 기울기가 누적되지 않았나요?",
               "Calling `{call}` twice with the same x gave different results ({a} → {b}): do gradients accumulate?")
             .format(call=call, a=describe(first), b=describe(second)), hint,
             why=T("두 번 부르면 기울기가 누적됨", "gradients accumulate over calls"))


def gradient_matches(got, expression, start) -> bool:
    expected = expected_gradient(expression, start)
    return (isinstance(got, torch.Tensor) and got.shape == expected.shape
            and bool(torch.allclose(got.detach().to(expected.dtype), expected, rtol=1e-4, atol=1e-5)))


def check_gradient_keeps_x(answer, expression, start, requires_grad):
    """``test_gradient_leaves_x``'s judgement of one case. For an x that already requires grad, the
    gradient must still be right: judged here where the same function gives the right gradient for
    an x that does not require grad (otherwise the values are wrong whatever x is: the value checks')."""
    __tracebackhide__ = True
    check_gradient_state(answer, expression, requires_grad)
    if requires_grad and gradient_matches(answer["plain"], expression, start):
        check_gradient_value(answer["first"], expression, start, requires_grad)


# (expression, shape, seed, whether the caller's x already requires grad)
PUBLIC_GRADIENT_CASES = [
    ("(x ** 3).sum()", (4,), 3, False),
    ("(torch.sin(x) * x).sum() + x.mean()", (2, 3), 4, False),
    ("(x ** 2 * torch.cos(x)).sum()", (3,), 5, True),
]


def gradient_cases(specs) -> list[tuple[str, torch.Tensor, bool]]:
    cases = []
    for expression, shape, seed, requires_grad in specs:
        generator = torch.Generator().manual_seed(seed)
        cases.append((expression, torch.randn(shape, generator=generator), requires_grad))
    return cases


# ----------------------------------------------------------------------------- to_device

def _path_text(path: list[str]) -> str:
    return "batch" + "".join(path)


def _first_difference(got, want, path: list[str]):
    """The first place where two batch descriptions differ: (path, got node, wanted node)."""
    if got[0] != want[0]:
        return path, got, want
    if want[0] in ("tensor", "value"):
        return (path, got, want) if got[1:] != want[1:] else None
    if want[0] in ("list", "tuple"):
        if len(got[1]) != len(want[1]):
            return path, got, want
        for i, (g, w) in enumerate(zip(got[1], want[1])):
            found = _first_difference(g, w, [*path, f"[{i}]"])
            if found:
                return found
        return None
    if [k for k, _ in got[1]] != [k for k, _ in want[1]]:
        return path, got, want
    for (key, g), (_, w) in zip(got[1], want[1]):
        found = _first_difference(g, w, [*path, f"[{key!r}]"])
        if found:
            return found
    return None


def _node_text(node) -> str:
    kind = node[0] if isinstance(node, list) and node else "?"
    if kind == "tensor":
        return f"tensor(device={node[1]}, shape={tuple(node[2])}, dtype={node[3]})"
    if kind in ("list", "tuple", "dict"):
        keys = [k for k, _ in node[1]] if kind == "dict" else None
        return f"{kind}(keys={keys})" if keys is not None else f"{kind}(len={len(node[1])})"
    if kind == "value":
        return f"{node[1]} {node[2]!r}"
    return describe(node)


def moved_tree(node, device: str):
    """What the description of a batch must become once its tensors are on ``device``."""
    if node[0] == "tensor":
        return ["tensor", device, node[2], node[3]]
    if node[0] in ("list", "tuple"):
        return [node[0], [moved_tree(v, device) for v in node[1]]]
    if node[0] == "dict":
        return ["dict", [[k, moved_tree(v, device)] for k, v in node[1]]]
    return node


def check_moved(answer, device: str, call: str):
    __tracebackhide__ = True
    want = moved_tree(answer["before"], device)
    found = _first_difference(answer["after"], want, [])
    if found is None:
        return
    path, got, expected = found
    hint = T("텐서는 옮기고, list / tuple / dict 는 같은 종류로 다시 만들면서 안쪽까지 내려가고, 나머지 값은 그대로 두세요.",
             "Move tensors; rebuild lists, tuples and dicts as the same kind, going all the way down; keep everything else.")
    why = T("배치의 구조가 바뀜", "changes the batch's structure")
    if expected[0] == "tensor" and got[0] == "tensor" and got[1] != expected[1]:
        hint = T("이 텐서는 옮겨지지 않았습니다. 중첩된 컨테이너 안쪽까지 내려가나요?",
                 "This tensor was not moved: do you go down into nested containers?")
        why = T("중첩된 텐서를 옮기지 않음", "does not move nested tensors")
    elif expected[0] == "tensor" and got[0] == "tensor":
        why = T("텐서의 dtype 이나 모양을 바꿈", "changes a tensor's dtype or shape")
    elif expected[0] == "value" and expected[1] == "str":
        hint = T("문자열은 그대로 두어야 할 값입니다. 문자열도 시퀀스라서 컨테이너처럼 다루면 안 됩니다.",
                 "A string is a value to keep as is: it is a sequence too, but not a container to go into.")
        why = T("문자열을 컨테이너로 다룸", "treats a string as a container")
    elif {got[0], expected[0]} == {"list", "tuple"}:
        hint = T("컨테이너의 종류가 바뀌었습니다: tuple 은 tuple 로, list 는 list 로 돌려주세요.",
                 "The container changed type: give a tuple back as a tuple and a list as a list.")
        why = T("tuple 과 list 를 바꿈", "swaps tuples and lists")
    elif expected[0] == "dict" and got[0] != "dict":
        why = T("dict 를 다른 컨테이너로 바꿈", "turns a dict into another container")
    elif got[0] == expected[0] and got[0] in ("list", "tuple") and len(got[1]) != len(expected[1]):
        why = T("항목을 빠뜨리거나 더함", "drops or adds elements")
    elif expected[0] == "value":
        why = T("텐서가 아닌 값을 바꿈", "changes a value that is not a tensor")
    fail(T("`{call}`: {where} 이(가) {got} 입니다. 기대값은 {want} 입니다.",
           "`{call}`: {where} is {got}; expected {want}.")
         .format(call=call, where=_path_text(path), got=_node_text(got), want=_node_text(expected)), hint, why=why)


def public_batches() -> list:
    generator = torch.Generator().manual_seed(5)

    def t(*shape):
        return torch.rand(*shape, generator=generator)

    return [
        t(2, 3),
        [t(2), t(3, 1)],
        (t(4), 3, "label"),
        {"x": t(2, 2), "meta": {"ids": [torch.arange(3), 5], "name": "cat"}, "pair": (t(1), None)},
        [[(t(2),)], {"k": [t(1), 2.5]}, True],
    ]


def device_batch() -> dict:
    generator = torch.Generator().manual_seed(6)
    return {"x": torch.rand(2, 3, generator=generator),
            "y": [torch.arange(4), (torch.rand(3, generator=generator).double(), "s")]}


# ----------------------------------------------------------------------------- checks

@check(points=1, title=T("to_chw_float: 모양과 dtype", "to_chw_float: shape and dtype"))
def test_to_chw_float_layout(nb):
    images = public_images()
    for image, (got, _) in zip(images, nb.run(probe_chw, images)):
        check_chw_layout(got, image)


@check(points=2, title=T("to_chw_float: 값", "to_chw_float: values"))
def test_to_chw_float_values(nb):
    images = public_images()
    for image, (got, unchanged) in zip(images, nb.run(probe_chw, images)):
        check_chw_values(got, unchanged, image)


@check(points=2, title=T("stack_batch", "stack_batch"))
def test_stack_batch(nb):
    groups = public_groups()
    for images, (from_list, from_tuple) in zip(groups, nb.run(probe_stack, groups)):
        check_stack(from_list, images, "list")
        check_stack(from_tuple, images, "tuple")


@check(points=2, title=T("gradient: 값", "gradient: values"))
def test_gradient_values(nb):
    cases = gradient_cases(PUBLIC_GRADIENT_CASES)
    for (expression, start, requires_grad), answer in zip(cases, nb.run(probe_gradient, cases)):
        if not requires_grad:  # an x that requires grad: test_gradient_leaves_x
            check_gradient_value(answer["first"], expression, start)


@check(points=2, title=T("gradient: 호출한 쪽의 x 는 그대로", "gradient: the caller's x is left as it was"))
def test_gradient_leaves_x(nb):
    # An x that does not require grad, and one that already does: each must come back as it was.
    cases = gradient_cases(PUBLIC_GRADIENT_CASES)
    for (expression, start, requires_grad), answer in zip(cases, nb.run(probe_gradient, cases)):
        check_gradient_keeps_x(answer, expression, start, requires_grad)


@check(points=2, title=T("to_device: 중첩된 컨테이너", "to_device: nested containers"))
def test_to_device_containers(nb):
    # The meta device holds no data, so moving there is visible on any machine, GPU or not.
    batches, flags = public_batches(), (False, True)
    calls = [(probe_to_device, (batches, "meta", as_object)) for as_object in flags]
    for as_object, moved in zip(flags, answers(nb, calls)):
        call = "to_device(batch, torch.device('meta'))" if as_object else "to_device(batch, 'meta')"
        for answer in moved:
            check_moved(answer, "meta", call)


@check(points=1, title=T("to_device: 장치와 값", "to_device: device and values"))
def test_to_device_values(nb, device):
    batch = device_batch()
    (answer,) = nb.run(probe_to_device, [batch], device, False)
    call = f"to_device(batch, {device!r})"
    check_moved(answer, device, call)
    expected = [batch["x"], batch["y"][0], batch["y"][1][0]]
    for got, want in zip(answer["values"], expected):
        if got.dtype != want.dtype or not torch.equal(got, want):
            fail(T("`{call}` 이 텐서의 값이나 dtype 을 바꾸었습니다 ({got}, 기대값 {want}).",
                   "`{call}` changed a tensor's values or dtype ({got}; expected {want}).")
                 .format(call=call, got=describe(got), want=describe(want)),
                 T("장치만 옮기고 dtype 은 그대로 두세요.", "Move the device only; keep the dtype."),
                 why=T("텐서의 값이나 dtype 을 바꿈", "changes a tensor's values or dtype"))
