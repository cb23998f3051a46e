"""Public checks of 04_model: the MLP, count_parameters and predict."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from practice_checklib import answers

from grader.checks import CheckFailed, T, check, describe, fail, reference
from grader.errors import StudentError

# Small models the checks build on both sides from a spec (a list of layers), so that
# count_parameters and predict are judged on models that do not depend on the student's MLP.
BUILDER = '''
def build(spec, freeze=()):
    nn = torch.nn
    makers = {
        "linear": lambda i, o, bias=True: nn.Linear(i, o, bias=bias),
        "relu": nn.ReLU,
        "dropout": lambda p: nn.Dropout(p),
        "bn1d": nn.BatchNorm1d,
        "conv": lambda i, o, k: nn.Conv2d(i, o, k),
        "flatten": nn.Flatten,
        "embedding": lambda n, d: nn.Embedding(n, d),
    }
    model = nn.Sequential(*[makers[kind](*args) for kind, *args in spec])
    for index, parameter in enumerate(model.parameters()):
        if index in freeze:
            parameter.requires_grad_(False)
    return model
'''

# ----------------------------------------------------------------------------- probes
# Probes run in the student's kernel and only observe; every expectation is computed here.


def probe_mlp_shapes(ns, configs):
    # Shapes only: each model is built on the meta device first (no memory, no initialisation:
    # the default MLP's 1.7 M parameters take ~19 ms to initialise on one thread); a constructor
    # that cannot run there is run again as usual, and what it raises then is the answer.
    answers = []
    for config in configs:
        def build():
            return ns["MLP"]() if config is None else ns["MLP"](
                in_features=config[0], hidden_sizes=config[1], num_classes=config[2])
        try:
            with torch.device("meta"):
                model = build()
        except Exception:  # noqa: BLE001 - e.g. .item() of a meta tensor: built on the CPU instead
            model = build()
        answers.append([list(p.shape) for p in model.parameters()])
    return answers


def probe_mlp_forward(ns, config, inputs):
    model = ns["MLP"]() if config is None else ns["MLP"](
        in_features=config[0], hidden_sizes=config[1], num_classes=config[2])
    outputs = []
    for x in inputs:
        try:
            with torch.no_grad():
                outputs.append(["value", model(x)])
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - which input failed is what the student needs to know
            outputs.append(["raised", type(error).__name__, str(error)[:300]])
    return {"params": [p.detach().clone() for p in model.parameters()] if config is not None else [],
            "outputs": outputs}


def probe_mlp_device(ns, config, x, device):
    model = ns["MLP"](in_features=config[0], hidden_sizes=config[1], num_classes=config[2])
    model.eval()  # parity is about devices; randomness in forward is the other checks' business
    with torch.no_grad():
        on_cpu = model(x)
        model.to(device)
        on_device = model(x.to(device))
    return {"device": on_device.device.type, "on_device": on_device.cpu(), "on_cpu": on_cpu}


def probe_count(ns, builder, specs):
    scope = {"torch": torch}
    exec(builder, scope)  # noqa: S102 - the checks' own model builder
    return [ns["count_parameters"](scope["build"](spec, freeze)) for spec, freeze in specs]


def probe_predict(ns, builder, spec, seed, x, start_training):
    scope = {"torch": torch}
    exec(builder, scope)  # noqa: S102 - the checks' own model builder
    from grader.checking.seeds import manual_seed

    manual_seed(seed)
    model = scope["build"](spec)
    model.train(start_training)
    seen = []
    # On the first layer, so that model.forward(x) is seen as well as model(x).
    model[0].register_forward_hook(lambda module, args, output: seen.append(
        [any(m.training for m in model.modules()), torch.is_grad_enabled()]))
    params = [p.detach().clone() for p in model.parameters()]
    answer = ns["predict"](model, x)
    parts = answer if isinstance(answer, (tuple, list)) else [answer]
    return {
        "answer": answer,
        "graph": any(isinstance(t, torch.Tensor) and t.requires_grad for t in parts),
        "seen": seen,
        "after": model.training,
        "params": params,
    }


# ----------------------------------------------------------------------------- the MLP

def mlp_call(config) -> str:
    if config is None:
        return "MLP()"
    return f"MLP(in_features={config[0]}, hidden_sizes={config[1]!r}, num_classes={config[2]})"


def expected_shapes(config) -> list[tuple[int, ...]]:
    in_features, hidden, classes = config if config is not None else (3072, (512, 256), 10)
    widths = [in_features, *hidden, classes]
    shapes = []
    for a, b in zip(widths, widths[1:]):
        shapes += [(b, a), (b,)]
    return shapes


def _layers_text(shapes) -> str:
    """Weight shapes as the reader thinks of them: 12→7, 7→5, ..."""
    weights = [s for s in shapes if len(s) == 2]
    others = [s for s in shapes if len(s) != 2 and not (len(s) == 1 and any(w[0] == s[0] for w in weights))]
    text = ", ".join(f"{w[1]}→{w[0]}" for w in weights) or "-"
    return text + (f" (+ {len(others)} other)" if others else "")


def check_mlp_shapes(got, config):
    __tracebackhide__ = True
    want = expected_shapes(config)
    shapes = [tuple(s) for s in got]
    if sorted(shapes) == sorted(want):
        return
    hint = T("은닉 크기마다 Linear 하나 (그리고 ReLU), 마지막에 num_classes 로 가는 Linear 하나입니다.",
             "One Linear (and a ReLU) per hidden size, then one Linear to num_classes.")
    why = T("Linear 층의 크기가 틀림", "wrong Linear layer sizes")
    if not shapes:
        why = T("층이 등록되지 않음", "the layers are not registered")
        hint = T("층을 파이썬 list 에 담으면 모듈에 등록되지 않습니다. nn.Module 의 속성, nn.Sequential, nn.ModuleList 를 쓰세요.",
                 "Layers kept in a plain Python list are not registered: use attributes, nn.Sequential or nn.ModuleList.")
    if config is not None and sorted(shapes) == sorted(expected_shapes((config[0], (512, 256), config[2]))):
        hint = T("은닉층 크기가 (512, 256) 입니다: hidden_sizes 인자를 쓰나요?",
                 "The hidden layers are (512, 256): do you use the hidden_sizes argument?")
        why = T("hidden_sizes 를 무시함", "ignores hidden_sizes")
    fail(T("`{call}` 의 Linear 층이 {got} 입니다. 기대값은 {want} 입니다 (입력→출력).",
           "`{call}` has Linear layers {got}; expected {want} (in→out).")
         .format(call=mlp_call(config), got=_layers_text(shapes), want=_layers_text(want)), hint,
         why=why, observed=_layers_text(shapes))


def linear_chain(params, in_features):
    """The student's (weight, bias) pairs in the order the widths connect them, or None."""
    layers = []
    for p in params:
        if p.dim() == 2:
            layers.append([p, None])
        elif p.dim() == 1 and layers and layers[-1][1] is None and p.shape[0] == layers[-1][0].shape[0]:
            layers[-1][1] = p
        else:
            return None
    ordered, width, left = [], in_features, list(range(len(layers)))
    while left:
        nxt = next((i for i in left if layers[i][0].shape[1] == width), None)
        if nxt is None:
            return None
        ordered.append(layers[nxt])
        left.remove(nxt)
        width = layers[nxt][0].shape[0]
    return ordered or None


def reference_logits(chain, x, *, relu=True):
    h = x.flatten(1)
    for index, (weight, bias) in enumerate(chain):
        h = F.linear(h, weight, bias)
        if relu and index < len(chain) - 1:
            h = torch.relu(h)
    return h


def _close(got, want) -> bool:
    return (isinstance(got, torch.Tensor) and got.shape == want.shape
            and bool(torch.allclose(got.detach().float(), want, rtol=1e-4, atol=1e-5)))


def _unwrap(output, call, shape):
    __tracebackhide__ = True
    if output[0] == "raised":
        hint = T("배치 축(0번)은 그대로 두고 나머지 축만 펼치세요.", "Flatten every axis but the batch axis (axis 0).")
        fail(T("입력 모양 {shape} 로 `{call}(x)` 를 부르자 오류가 났습니다: {e}: {v}",
               "`{call}(x)` with x of shape {shape} raised {e}: {v}").format(call=call, shape=shape, e=output[1], v=output[2]),
             hint, why=T("입력 모양 {shape} 에서 오류", "raises on input of shape {shape}").format(shape=shape),
             observed=output[1])
    return output[1]


def check_mlp_forward(answer, config, x):
    __tracebackhide__ = True
    call = mlp_call(config)
    got = _unwrap(answer["outputs"][0], call, tuple(x.shape))
    want_shape = (x.shape[0], config[2])
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != want_shape:
        fail(T("`{call}(x)` (x 의 모양 {shape}) 가 {got} 을(를) 돌려주었습니다. 모양 {want} 의 로짓이 필요합니다.",
               "`{call}(x)` with x of shape {shape} returned {got}; expected logits of shape {want}.")
             .format(call=call, shape=tuple(x.shape), got=describe(got), want=want_shape),
             T("마지막 Linear 의 출력 크기는 num_classes 입니다.", "The last Linear's output size is num_classes."),
             why=T("로짓의 모양이 틀림", "logits of the wrong shape"), observed=got)
    if not answer["params"]:
        fail(T("`{call}` 에 파라미터가 없습니다.", "`{call}` has no parameters.").format(call=call),
             T("층을 파이썬 list 에 담으면 모듈에 등록되지 않습니다. nn.Module 의 속성, nn.Sequential, nn.ModuleList 를 쓰세요.",
               "Layers kept in a plain Python list are not registered: use attributes, nn.Sequential or nn.ModuleList."),
             why=T("층이 등록되지 않음", "the layers are not registered"))
    chain = linear_chain(answer["params"], config[0])
    if chain is None:
        fail(T("`{call}` 의 파라미터가 in_features 에서 num_classes 까지 이어지는 Linear 층들이 아닙니다.",
               "The parameters of `{call}` are not Linear layers that lead from in_features to num_classes.")
             .format(call=call),
             T("층은 Linear 와 ReLU 만 씁니다.", "Use only Linear and ReLU layers."),
             why=T("Linear 가 아닌 파라미터", "parameters that are not a Linear chain"))
    want = reference_logits(chain, x)
    if _close(got, want):
        return
    hint = T("Linear 뒤마다 ReLU 를 두되, 마지막 Linear 뒤에는 아무 것도 두지 않습니다 (로짓).",
             "A ReLU after every Linear except the last one: the last Linear gives the logits as they are.")
    why = T("로짓이 틀림", "wrong logits")
    variants = [
        (torch.softmax(want, dim=1), T("출력이 softmax 를 거친 값입니다. forward 는 로짓을 돌려줘야 합니다.",
                                       "The output went through a softmax; forward must return logits."),
         T("로짓 대신 softmax", "softmax instead of logits")),
        (torch.log_softmax(want, dim=1), T("출력이 log_softmax 를 거친 값입니다. forward 는 로짓을 돌려줘야 합니다.",
                                           "The output went through a log_softmax; forward must return logits."),
         T("로짓 대신 log_softmax", "log_softmax instead of logits")),
        (torch.relu(want), T("마지막 Linear 뒤에 ReLU 가 있습니다: 음수 로짓이 0 이 됩니다.",
                             "There is a ReLU after the last Linear: negative logits become 0."),
         T("마지막 Linear 뒤에 ReLU", "a ReLU after the last Linear")),
        (reference_logits(chain, x, relu=False), T("층 사이에 ReLU 가 없습니다: Linear 만 쌓으면 하나의 Linear 와 같습니다.",
                                                   "There is no ReLU between the layers: stacked Linears are one Linear."),
         T("층 사이에 ReLU 가 없음", "no ReLU between the layers")),
    ]
    for candidate, named, recognised in variants:
        if _close(got, candidate):
            hint, why = named, recognised
            break
    fail(T("`{call}(x)` 의 로짓이 층들의 계산과 다릅니다 (최대 차이 {d:.4g}).",
           "`{call}(x)` gives logits that differ from what its layers compute (largest difference {d:.4g}).")
         .format(call=call, d=float((got.detach().float() - want).abs().max())), hint, why=why)


def check_input_shapes(answer, config, images):
    __tracebackhide__ = True
    call = mlp_call(config)
    classes = 10 if config is None else config[2]
    flat_shape = (images.shape[0], images[0].numel())
    from_images = _unwrap(answer["outputs"][0], call, tuple(images.shape))
    from_flat = _unwrap(answer["outputs"][1], call, flat_shape)
    for got, shape in ((from_images, tuple(images.shape)), (from_flat, flat_shape)):
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != (images.shape[0], classes):
            fail(T("`{call}(x)` (x 의 모양 {shape}) 가 {got} 을(를) 돌려주었습니다. 기대값은 모양 {want} 입니다.",
                   "`{call}(x)` with x of shape {shape} returned {got}; expected shape {want}.")
                 .format(call=call, shape=shape, got=describe(got), want=(images.shape[0], classes)),
                 T("배치 축(0번)은 그대로 두고 나머지 축만 펼치세요.", "Flatten every axis but the batch axis (axis 0)."),
                 why=T("{n}차원 입력에서 출력 모양이 틀림", "a wrong output shape for {n}-d input").format(n=len(shape)),
                 observed=got)
    if not _close(from_images, from_flat.detach().float()):
        fail(T("`{call}` 이 이미지 배치와 같은 값을 펼친 입력에 대해 다른 로짓을 냅니다.",
               "`{call}` gives different logits for a batch of images and for the same values flattened.")
             .format(call=call),
             T("펼치는 순서는 C, H, W 순서 그대로여야 하고, forward 는 무작위가 아니어야 합니다.",
               "Flatten in C, H, W order, as the values are stored; forward must not be random."),
             why=T("이미지와 펼친 입력의 로짓이 다름", "images and flat input give different logits"))


# ----------------------------------------------------------------------------- an MLP without hidden layers
# "for each hidden size a Linear followed by ReLU": with no hidden size that is flatten, then one Linear.

_NO_HIDDEN_HINT = T("hidden_sizes 가 비어 있으면 은닉 크기에 대한 반복은 한 번도 돌지 않습니다: 그때 마지막 Linear 의 입력 크기는 무엇인가요?",
                    "When hidden_sizes is empty, the loop over the hidden sizes never runs: what is the last Linear's input size then?")


def run_no_hidden(ask, config):
    """``ask()``: probe_mlp_forward's answer for ``config`` (no hidden sizes); what the student's
    constructor or forward raised there fails the check, said plainly."""
    __tracebackhide__ = True
    try:
        return ask()
    except StudentError as error:
        if error.not_implemented:
            raise
        fail(T("`{call}` 을(를) 만들고 부르자 오류가 났습니다: {e}: {v}. 은닉 크기가 없으면 MLP 는 펼친 다음 in_features 에서 "
               "num_classes 로 가는 Linear 하나입니다.",
               "Building and calling `{call}` raised {e}: {v}. With no hidden sizes the MLP is flatten, then a single "
               "Linear from in_features to num_classes.").format(call=mlp_call(config), e=error.ename, v=error.evalue[:200]),
             _NO_HIDDEN_HINT, why=T("은닉층이 없으면 오류", "raises without hidden layers"), observed=error.ename)


def ask_quietly(ask):
    """``ask()``'s answer, or None where the student's code raised (not where it is not written yet)."""
    try:
        return ask()
    except StudentError as error:
        if error.not_implemented:
            raise
        return None


def _passes(judge, *args) -> bool:
    try:
        judge(*args)
    except CheckFailed:
        return False
    return True


def check_mlp_no_hidden(answer, config, images, witness, witness_config):
    """``MLP(in_features, hidden_sizes=(), num_classes)`` is flatten + one Linear: its parameters and
    their count, then its output shapes (images and flat input) and logits. ``witness``: the same
    inputs through an MLP with one hidden layer (``witness_config``, or None where that raised): the
    forward pass is judged here only where the witness's is right, so that a mistake of every MLP
    (no flatten, a softmax, a ReLU after the last Linear) costs the forward checks alone."""
    __tracebackhide__ = True
    call = mlp_call(config)
    shapes = [tuple(p.shape) for p in answer["params"]]
    want = expected_shapes(config)
    if sorted(shapes) != sorted(want):
        hint, why = _NO_HIDDEN_HINT, T("은닉층이 없을 때 층이 틀림", "wrong layers without hidden sizes")
        if sorted(shapes) == sorted(expected_shapes((config[0], (512, 256), config[2]))):
            hint = T("빈 hidden_sizes 도 그대로 써야 합니다: 은닉층이 없다는 뜻이지, 기본값을 쓰라는 뜻이 아닙니다.",
                     "An empty hidden_sizes means no hidden layer, not the default sizes: use it as it is.")
            why = T("빈 hidden_sizes 를 기본값으로 바꿈", "an empty hidden_sizes becomes the default")
        elif not shapes:
            why = T("층이 등록되지 않음", "the layers are not registered")
        fail(T("`{call}` 의 Linear 층이 {got} (파라미터 {n}개) 입니다. 기대값은 Linear 하나 {want} (파라미터 {m}개) 입니다.",
               "`{call}` has Linear layers {got} ({n} parameters); expected one Linear {want} ({m} parameters).")
             .format(call=call, got=_layers_text(shapes), n=sum(math.prod(s) for s in shapes),
                     want=_layers_text(want), m=sum(math.prod(s) for s in want)),
             hint, why=why, observed=_layers_text(shapes))
    if witness is not None and _passes(check_input_shapes, witness, witness_config, images):
        check_input_shapes(answer, config, images)
    if witness is not None and _passes(check_mlp_forward, witness, witness_config, images):
        check_mlp_forward(answer, config, images)


MLP_NO_HIDDEN, MLP_ONE_HIDDEN = (12, (), 3), (12, (5,), 3)


def no_hidden_images() -> torch.Tensor:
    return torch.rand(4, 3, 2, 2, generator=torch.Generator().manual_seed(24))


MLP_SMALL = (12, (7, 5), 3)


def small_input(rows: int = 8, seed: int = 21) -> torch.Tensor:
    return torch.randn(rows, MLP_SMALL[0], generator=torch.Generator().manual_seed(seed))


def image_batch() -> torch.Tensor:
    return torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(22))


# ----------------------------------------------------------------------------- count_parameters

def _builder():
    """The probes' model builder, defined here once."""
    scope = {"torch": torch}
    exec(BUILDER, scope)  # noqa: S102 - our own builder, the same text the probe runs
    return scope["build"]


_build = _builder()


_COUNT_MISTAKES = {
    # what a wrong count added up instead, tried in this order over every spec at once
    "state_dict": (T("버퍼 (BatchNorm 의 running_mean 등) 도 세었습니다: state_dict 에는 파라미터가 아닌 것도 들어 있습니다.",
                     "Buffers (BatchNorm's running_mean, ...) were counted too: a state_dict holds more than parameters."),
                   T("버퍼까지 셈 (state_dict)", "counts buffers too (state_dict)")),
    "every": (T("얼린 (requires_grad=False) 파라미터도 세었습니다.", "Frozen (requires_grad=False) parameters were counted too."),
              T("얼린 파라미터까지 셈", "counts frozen parameters too")),
    "tensors": (T("파라미터 텐서의 개수를 세었습니다. 각 텐서의 원소 수를 더해야 합니다.",
                  "That is the number of parameter tensors; add up their element counts."),
                T("텐서의 개수를 셈", "counts tensors, not elements")),
}


def _counts(spec, freeze) -> dict[str, int]:
    return _model_counts(tuple(map(tuple, spec)), tuple(freeze))


@reference
def _model_counts(spec, freeze) -> dict[str, int]:
    model = _build(spec, freeze)
    return {"want": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "every": sum(p.numel() for p in model.parameters()),
            "state_dict": sum(v.numel() for v in model.state_dict().values()),
            "tensors": len(list(model.parameters()))}


def check_counts(got_values, specs):
    __tracebackhide__ = True
    counts = [_counts(spec, freeze) for spec, freeze in specs]
    for got, (spec, freeze), count in zip(got_values, specs, counts):
        layers = " → ".join(kind for kind, *_ in spec)
        frozen = f", {len(freeze)} frozen" if freeze else ""
        what = f"count_parameters(<{layers}{frozen}>)"
        if isinstance(got, bool) or not (isinstance(got, int) or type(got).__module__ == "numpy"
                                         and getattr(got, "dtype", None) is not None and got.dtype.kind in "iu"):
            fail(T("`{what}` 이 {got} 을(를) 돌려주었습니다. int 가 필요합니다.",
                   "`{what}` returned {got}; expected an int.").format(what=what, got=describe(got)),
                 T("텐서나 float 은 `int(...)` 로 바꾸세요.", "Turn a tensor or a float into an `int(...)`."),
                 why=T("int 가 아닌 값을 돌려줌", "returns no int"), observed=got)
    for got, (spec, freeze), count in zip(got_values, specs, counts):
        if int(got) == count["want"]:
            continue
        layers = " → ".join(kind for kind, *_ in spec)
        frozen = f", {len(freeze)} frozen" if freeze else ""
        hint = T("학습 가능한 (requires_grad 인) 파라미터의 원소 수를 모두 더하세요.",
                 "Add up the number of elements of every trainable (requires_grad) parameter.")
        why = T("개수가 틀림", "a wrong count")
        # one mistake explains every spec's answer (a state_dict also counts frozen parameters)
        for name, (named, recognised) in _COUNT_MISTAKES.items():
            if all(int(g) == c[name] for g, c in zip(got_values, counts)):
                hint, why = named, recognised
                break
        fail(T("`{what}` 이 {got} 을(를) 돌려주었습니다. 기대값은 {want} 입니다.",
               "`{what}` returned {got}; expected {want}.")
             .format(what=f"count_parameters(<{layers}{frozen}>)", got=int(got), want=count["want"]), hint, why=why)


PUBLIC_COUNT_SPECS = [
    ([["linear", 10, 4], ["relu"], ["linear", 4, 2]], []),
    ([["linear", 10, 4], ["relu"], ["linear", 4, 2]], [0, 1]),
    ([["linear", 6, 3], ["bn1d", 3]], []),
]

# ----------------------------------------------------------------------------- predict

PREDICT_SPEC = [["linear", 6, 16], ["relu"], ["linear", 16, 4]]
DROPOUT_SPEC = [["linear", 6, 16], ["relu"], ["dropout", 0.5], ["linear", 16, 4]]


def predict_input(seed: int = 31, rows: int = 7) -> torch.Tensor:
    return torch.randn(rows, 6, generator=torch.Generator().manual_seed(seed)) * 3


def check_predict_outputs(answer, spec, x):
    __tracebackhide__ = True
    got = answer["answer"]
    rows = x.shape[0]
    model = _build(spec)
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), answer["params"]):
            parameter.copy_(value)
        model.eval()
        logits = model(x)
    want_probs, want_classes = torch.softmax(logits, dim=1), logits.argmax(dim=1)
    if not (isinstance(got, tuple | list) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got)):
        fail(T("`predict(model, x)` 가 {got} 을(를) 돌려주었습니다. (확률, 클래스) 두 텐서의 튜플이 필요합니다.",
               "`predict(model, x)` returned {got}; expected a tuple of two tensors (probabilities, classes).")
             .format(got=describe(got)),
             T("`return probabilities, classes` 처럼 두 값을 돌려주세요.", "Return two values: probabilities, then classes."),
             why=T("(확률, 클래스) 튜플이 아님", "no (probabilities, classes) tuple"), observed=got)
    probs, classes = got
    if tuple(probs.shape) != tuple(want_probs.shape):
        fail(T("`predict` 의 확률 모양이 {got} 입니다. 기대값은 {want} 입니다.",
               "`predict` gave probabilities of shape {got}; expected {want}.")
             .format(got=tuple(probs.shape), want=tuple(want_probs.shape)),
             T("샘플마다 클래스 수만큼의 확률이 있어야 합니다.", "Each sample has one probability per class."),
             why=T("확률의 모양이 틀림", "probabilities of the wrong shape"), observed=probs)
    if not _close(probs, want_probs):
        hint = T("로짓에 클래스 축을 따라 softmax 를 적용하세요.", "Apply softmax to the logits along the class axis.")
        why = T("확률이 틀림", "wrong probabilities")
        sums = probs.detach().float().sum(dim=1)
        if _close(probs, torch.softmax(logits, dim=0)):
            hint = T("softmax 를 배치 축으로 적용했습니다: 각 열의 합이 1 입니다. 클래스 축이어야 합니다.",
                     "The softmax ran over the batch axis (each column sums to 1); it must run over the classes.")
            why = T("배치 축으로 softmax", "softmax over the batch axis")
        elif _close(probs, logits):
            hint = T("로짓을 그대로 돌려주었습니다: softmax 가 필요합니다.", "The logits came back as they are: apply softmax.")
            why = T("softmax 없이 로짓을 돌려줌", "returns the logits, no softmax")
        elif _close(probs, torch.log_softmax(logits, dim=1)):
            hint = T("log_softmax 값입니다: 확률은 softmax 입니다.", "These are log_softmax values; probabilities are softmax.")
            why = T("softmax 대신 log_softmax", "log_softmax instead of softmax")
        elif not torch.allclose(sums, torch.ones(rows), atol=1e-4):
            hint = T("각 행의 합이 1 이 아닙니다 (예: {s:.4g}).", "The rows do not sum to 1 (for example {s:.4g}).").format(s=float(sums[0]))
            why = T("행의 합이 1 이 아님", "rows do not sum to 1")
        fail(T("`predict` 의 확률이 softmax(model(x)) 와 다릅니다 (최대 차이 {d:.4g}).",
               "`predict` gave probabilities that differ from softmax(model(x)) (largest difference {d:.4g}).")
             .format(d=float((probs.detach().float() - want_probs).abs().max())), hint, why=why)
    if classes.dtype.is_floating_point or tuple(classes.shape) != (rows,) or not torch.equal(classes.long(), want_classes):
        fail(T("`predict` 의 클래스가 {got} 입니다. 기대값은 각 행에서 가장 큰 확률의 번호 (모양 ({rows},), 정수) 입니다.",
               "`predict` gave classes {got}; expected the index of each row's largest probability (shape ({rows},), integers).")
             .format(got=describe(classes), rows=rows),
             T("클래스 축을 따라 가장 큰 값의 위치를 구하세요.", "Take the position of the largest value along the class axis."),
             why=T("클래스가 argmax 가 아님", "classes are not the argmax"), observed=classes)


def check_predict_mode(answer, start_training: bool):
    __tracebackhide__ = True
    start = "train" if start_training else "eval"
    if not answer["seen"]:
        fail(T("`predict(model, x)` 가 model 을 호출하지 않았습니다 ({start} 모드에서 시작).",
               "`predict(model, x)` did not call the model (starting in {start} mode).").format(start=start),
             T("로짓은 model(x) 로 구합니다.", "The logits come from model(x)."),
             why=T("model 을 호출하지 않음", "never calls the model"))
    if any(training for training, _ in answer["seen"]):
        fail(T("`predict` 안에서 model 이 train 모드로 실행되었습니다 ({start} 모드에서 시작): Dropout 이 켜져 있습니다.",
               "Inside `predict` the model ran in train mode (starting in {start} mode): Dropout was active.")
             .format(start=start),
             T("예측 전에 모델을 평가 모드로 바꾸세요.", "Switch the model to evaluation mode before predicting."),
             why=T("train 모드로 예측", "predicts in train mode"))
    if any(grad for _, grad in answer["seen"]) or answer["graph"]:
        fail(T("`predict` 가 계산 그래프를 만들었습니다 (forward 중에 autograd 가 켜져 있었습니다).",
               "`predict` built a computation graph (autograd was on during the forward pass)."),
             T("예측에는 기울기가 필요 없습니다: autograd 를 끈 채로 계산하세요.",
               "Prediction needs no gradients: compute with autograd switched off."),
             why=T("autograd 를 켠 채로 예측", "predicts with autograd on"))


def check_mode_restored(answer, start_training: bool):
    __tracebackhide__ = True
    if answer["after"] is not start_training:
        start = "train" if start_training else "eval"
        after = "train" if answer["after"] else "eval"
        fail(T("`predict` 뒤에 model 이 {after} 모드입니다. 호출 전처럼 {start} 모드여야 합니다.",
               "After `predict` the model is in {after} mode; it must be back in {start} mode, as before the call.")
             .format(after=after, start=start),
             T("호출 전의 model.training 을 기억해 두었다가 끝나면 그 모드로 되돌리세요.",
               "Remember model.training before, and put the model back in that mode afterwards."),
             # which way it went tells "leaves it in eval" from "always switches to train"
             why=T("predict 뒤 {after} 모드로 남김", "leaves the model in {after} mode").format(after=after))


# ----------------------------------------------------------------------------- checks

@check(points=2, title=T("MLP 의 층 구성", "The MLP's layers"))
def test_mlp_layers(nb):
    configs = [None, MLP_SMALL]
    for config, got in zip(configs, nb.run(probe_mlp_shapes, configs)):
        check_mlp_shapes(got, config)
    # No hidden size at all: flatten, then one Linear (its parameters, output shape and logits).
    images = no_hidden_images()
    inputs = [images, images.reshape(len(images), -1)]
    answer = run_no_hidden(lambda: nb.run(probe_mlp_forward, MLP_NO_HIDDEN, inputs), MLP_NO_HIDDEN)
    witness = ask_quietly(lambda: nb.run(probe_mlp_forward, MLP_ONE_HIDDEN, inputs))
    check_mlp_no_hidden(answer, MLP_NO_HIDDEN, images, witness, MLP_ONE_HIDDEN)


@check(points=3, title=T("MLP.forward: Linear 와 ReLU, 로짓 출력", "MLP.forward: Linear and ReLU, logits out"))
def test_mlp_forward(nb):
    x = small_input()
    check_mlp_forward(nb.run(probe_mlp_forward, MLP_SMALL, [x]), MLP_SMALL, x)


@check(points=2, title=T("MLP: 이미지 배치와 펼친 입력", "MLP: image batches and flat input"))
def test_mlp_input_shapes(nb):
    images = image_batch()
    answer = nb.run(probe_mlp_forward, None, [images, images.reshape(2, -1)])
    check_input_shapes(answer, None, images)


@check(points=1, title=T("MLP: 장치에서 forward, CPU 와 같은 결과", "MLP: forward on a device, same result as on CPU"))
def test_mlp_on_device(nb, device):
    x = small_input(5, 23)
    got = nb.run(probe_mlp_device, MLP_SMALL, x, device)
    call = mlp_call(MLP_SMALL)
    if got["device"] != device:
        fail(T("model.to({d!r}) 뒤 `{call}(x)` 의 출력이 {got} 에 있습니다.",
               "After model.to({d!r}), `{call}(x)` returned a tensor on {got}.").format(d=device, call=call, got=got["device"]),
             T("forward 안에서 새 텐서를 만들 때는 입력과 같은 장치에 만드세요.",
               "Tensors created inside forward belong on the input's device."),
             why=T("출력이 다른 장치에 있음", "the output is on another device"), observed=got["device"])
    if not (got["on_device"].shape == got["on_cpu"].shape
            and torch.allclose(got["on_device"].float(), got["on_cpu"].float(), rtol=1e-3, atol=1e-4)):
        fail(T("`{call}(x)` 의 결과가 CPU 와 {d} 에서 다릅니다 (최대 차이 {diff:.3g}).",
               "`{call}(x)` differs between CPU and {d} (largest difference {diff:.3g}).")
             .format(call=call, d=device, diff=float((got["on_device"].float() - got["on_cpu"].float()).abs().max())
                     if got["on_device"].shape == got["on_cpu"].shape else float("nan")),
             T("모든 층이 model.to(device) 로 함께 옮겨지도록 nn.Module 의 속성으로 등록하세요.",
               "Register every layer as an attribute of the nn.Module so that model.to(device) moves it."),
             why=T("장치에서 결과가 다름", "differs on the device"))


@check(points=2, title=T("count_parameters", "count_parameters"))
def test_count_parameters(nb):
    check_counts(nb.run(probe_count, BUILDER, PUBLIC_COUNT_SPECS), PUBLIC_COUNT_SPECS)


@check(points=2, title=T("predict: 확률과 클래스", "predict: probabilities and classes"))
def test_predict_outputs(nb):
    x = predict_input()
    check_predict_outputs(nb.run(probe_predict, BUILDER, PREDICT_SPEC, 3, x, True), PREDICT_SPEC, x)


@check(points=1, title=T("predict: 평가 모드, 그래프 없이", "predict: eval mode, no graph"))
def test_predict_eval_no_grad(nb):
    x, starts = predict_input(32), (True, False)
    calls = [(probe_predict, (BUILDER, DROPOUT_SPEC, 4, x, start)) for start in starts]
    for start_training, answer in zip(starts, answers(nb, calls)):
        check_predict_mode(answer, start_training)


@check(points=1, title=T("predict: 원래 모드로 되돌리기", "predict: the model's mode is restored"))
def test_predict_restores_mode(nb):
    x, starts = predict_input(33), (True, False)
    calls = [(probe_predict, (BUILDER, DROPOUT_SPEC, 5, x, start)) for start in starts]
    for start_training, answer in zip(starts, answers(nb, calls)):
        check_mode_restored(answer, start_training)
