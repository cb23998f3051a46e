"""Public checks of 06_training: metrics, a hand-written cross-entropy, one epoch, evaluation."""

from __future__ import annotations

import functools

import numpy as np
import torch
from practice_checklib import (
    REFERENCE,
    answers,
    as_number,
    batch_mistakes,
    close,
    macro,
    macro_over,
    metric_case,
    short,
)

from grader.checks import T, check, describe, fail, partial, probe_uses, reference
from grader.errors import StudentError

# ----------------------------------------------------------------------------- probes
# Probes run in the student's kernel and only observe; every expectation is computed here.
# The training probes build their model and loader from a seed, so the trusted side can build
# the very same ones and run its own loop on them (see ``expected``).


def probe_accuracy(ns, cases):
    return [ns["accuracy"](torch.tensor(p), torch.tensor(t)) for p, t in cases]


def probe_prf(ns, cases):
    return [ns["precision_recall_f1"](torch.tensor(p), torch.tensor(t), c) for p, t, c in cases]


def probe_cross_entropy(ns, cases):
    answers = []
    for logits, targets in cases:
        logits = torch.tensor(logits, dtype=torch.float32, requires_grad=True)
        loss = ns["cross_entropy"](logits, torch.tensor(targets))
        grad = None
        if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
            loss.reshape(()).backward()
            grad = logits.grad
        answers.append({"loss": loss, "grad": grad})
    return answers


def probe_cross_entropy_calls(ns, logits, targets):
    # Everything PyTorch's own cross-entropy goes through ends in these kernels: record their use.
    names = ["cross_entropy_loss", "nll_loss", "nll_loss_nd", "nll_loss2d"]
    kernels = torch._C._nn
    originals = {name: getattr(kernels, name) for name in names}
    used = []

    def recorder(name):
        def call(*args, **kwargs):
            used.append(name)
            return originals[name](*args, **kwargs)
        return call

    try:
        for name in names:
            setattr(kernels, name, recorder(name))
        ns["cross_entropy"](torch.tensor(logits), torch.tensor(targets))
    finally:
        for name, function in originals.items():
            setattr(kernels, name, function)
    return sorted(set(used))


class Spy(torch.nn.Module):
    """Passes its input through; notes the mode and whether a graph is built (sent with the probes)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append([self.training, torch.is_grad_enabled()])
        return x


@probe_uses(Spy)
def probe_train(ns, seed, n, batch_size, lr, device, start_training=True, smoothing=0.0):
    # device None: the function is called without it, and must work on the CPU by default.
    from grader.checking.seeds import manual_seed

    manual_seed(seed, cuda=device not in (None, "cpu"))
    inputs, targets = torch.randn(n, 5), torch.randint(0, 3, (n,))
    spy = Spy()
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3), spy).to(device or "cpu")
    model.train(start_training)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets), batch_size=batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)
    if device is None:
        loss = ns["train_one_epoch"](model, loader, loss_fn, optimizer)
    else:
        loss = ns["train_one_epoch"](model, loader, loss_fn, optimizer, device=device)
    return {"loss": loss, "params": [p.detach().cpu() for p in model.parameters()], "seen": spy.seen}


@probe_uses(Spy)
def probe_evaluate(ns, seed, n, batch_size, device, start_training=False, smoothing=0.0):
    # device None: the function is called without it, and must work on the CPU by default.
    from grader.checking.seeds import manual_seed

    manual_seed(seed, cuda=device not in (None, "cpu"))
    inputs, targets = torch.randn(n, 5), torch.randint(0, 3, (n,))
    spy = Spy()
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), spy).to(device or "cpu")
    model.train(start_training)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets), batch_size=batch_size)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)
    if device is None:
        result = ns["evaluate"](model, loader, loss_fn)
    else:
        result = ns["evaluate"](model, loader, loss_fn, device=device)
    return {"result": result, "seen": spy.seen, "training_after": model.training}


PROBES_RUN_HERE = {probe.__name__: probe for probe in (probe_train, probe_evaluate)}


def expected(probe, *args):
    """The probe run here on the trusted side's own loop, on the same seeded model and data.

    Its ``batches`` are the reference's per-batch values, which name the common wrong loops."""
    return _expected(probe.__name__, *args)


@reference
def _expected(probe_name, *args):
    batches: list[dict] = []
    answer = PROBES_RUN_HERE[probe_name](
        {name: functools.partial(function, batches=batches) for name, function in REFERENCE.items()}, *args)
    return {**answer, "batches": batches}


# ----------------------------------------------------------------------------- judges

def run_default_device(nb, probe, name: str, *args):
    """``probe``'s answer for a call that leaves ``device`` out (its default is "cpu"): a function
    that cannot be called so fails the check, said plainly."""
    __tracebackhide__ = True
    try:
        return nb.run(probe, *args)
    except StudentError as error:
        if error.not_implemented or error.ename != "TypeError" or "device" not in error.evalue:
            raise
        fail(T("`device` 없이 부른 `{name}(...)` 이(가) 오류를 냈습니다: {e}: {v}. `device` 의 기본값은 \"cpu\" 입니다.",
               "`{name}(...)` called without `device` raised {e}: {v}. `device` defaults to \"cpu\".")
             .format(name=name, e=error.ename, v=error.evalue[:200]),
             T("함수 정의에서 `device` 인자에 기본값을 주세요.", "Give the `device` parameter its default value in the definition."),
             why=T("device 의 기본값이 없음", "no default for device"), observed=error.ename)


def need_number(value, what, hint=None):
    __tracebackhide__ = True
    number = as_number(value)
    if number is None:
        fail(T("{what} 은(는) float 여야 합니다. 받은 값: {got}", "{what} must be a float; got {got}.")
             .format(what=what, got=describe(value)),
             hint or T("텐서라면 `.item()` 으로 숫자를 꺼내세요.", "Take the number out of a tensor with `.item()`."),
             why=T("숫자가 아닌 값을 돌려줌", "returns no plain number"), observed=value)
    return number


def judge_accuracy(cases, answers):
    __tracebackhide__ = True
    for (preds, targets), got in zip(cases, answers):
        call = f"accuracy({short(preds, 8)}, {short(targets, 8)})"
        number = need_number(got, f"`{call}`")
        want = sum(p == t for p, t in zip(preds, targets)) / len(targets)
        if not close(number, want):
            why = T("정확도가 틀림", "a wrong accuracy")
            if close(number, want * len(targets)):
                why = T("비율 대신 개수", "a count, not a fraction")
            fail(T("`{call}` 이(가) {got:.6g} 을(를) 돌려주었습니다. 기대값은 {want:.6g} 입니다.",
                   "`{call}` returned {got:.6g}; expected {want:.6g}.").format(call=call, got=number, want=want),
                 T("같은 항목의 수를 전체 항목 수로 나눈 비율입니다.", "It is the number of equal entries over the number of entries."),
                 why=why)


def read_prf(got, call):
    __tracebackhide__ = True
    if type(got) not in (tuple, list) or len(got) != 3:
        fail(T("`{call}` 은(는) float 세 개 `(precision, recall, f1)` 을 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return three floats `(precision, recall, f1)`; got {got}.").format(call=call, got=describe(got)),
             T("`return precision, recall, f1`", "`return precision, recall, f1`"),
             why=T("(P, R, F1) 세 값이 아님", "not three values (P, R, F1)"), observed=got)
    return [need_number(v, f"`{call}` ({name})") for v, name in zip(got, ("precision", "recall", "f1"))]


def judge_precision_recall(case, got):
    __tracebackhide__ = True
    preds, targets, classes = case
    call = f"precision_recall_f1(<{len(preds)} predictions>, num_classes={classes})"
    precision, recall, _ = read_prf(got, call)
    want_p, want_r, _ = macro(preds, targets, classes)
    if close(precision, want_p) and close(recall, want_r):
        return
    hint = T("클래스마다 정밀도와 재현율을 구한 뒤 클래스 수로 평균하세요 (매크로 평균).",
             "Compute precision and recall for each class, then average over the classes (macro average).")
    why = T("매크로 평균이 틀림", "a wrong macro average")
    accuracy = sum(p == t for p, t in zip(preds, targets)) / len(preds)
    if close(precision, want_r) and close(recall, want_p):
        hint = T("정밀도와 재현율이 바뀐 것 같습니다: 정밀도의 분모는 그 클래스로 *예측한* 수, 재현율의 분모는 *실제* 그 클래스인 수입니다.",
                 "Precision and recall look swapped: precision divides by the samples *predicted* as the class, recall by the samples that *are* the class.")
        why = T("정밀도와 재현율을 맞바꿈", "swaps precision and recall")
    elif close(precision, accuracy) or close(recall, accuracy):
        hint = T("모든 샘플을 한꺼번에 센 마이크로 평균(= 정확도)처럼 보입니다. 클래스마다 구해 같은 가중치로 평균하세요.",
                 "That looks like a micro average over all samples (= accuracy); compute per class and give each class the same weight.")
        why = T("마이크로 평균 (= 정확도)", "a micro average (= accuracy)")
    fail(T("`{call}` 의 (precision, recall) 이 ({p:.4f}, {r:.4f}) 입니다. 기대값은 ({wp:.4f}, {wr:.4f}) 입니다.",
           "`{call}` gave (precision, recall) = ({p:.4f}, {r:.4f}); expected ({wp:.4f}, {wr:.4f}).")
         .format(call=call, p=precision, r=recall, wp=want_p, wr=want_r), hint, why=why)


def judge_f1(case, got):
    __tracebackhide__ = True
    preds, targets, classes = case
    call = f"precision_recall_f1(<{len(preds)} predictions>, num_classes={classes})"
    _, _, f1 = read_prf(got, call)
    want_p, want_r, want_f1 = macro(preds, targets, classes)
    if close(f1, want_f1):
        return
    hint = T("클래스마다 F1 = 2PR/(P+R) 을 구해 평균하세요.", "Compute F1 = 2PR/(P+R) for each class, then average.")
    why = T("F1 이 틀림", "a wrong F1")
    if close(f1, 2 * want_p * want_r / (want_p + want_r)):
        hint = T("매크로 정밀도와 재현율의 조화 평균이 아니라, 클래스별 F1 의 평균입니다.",
                 "It is the mean of the per-class F1 scores, not the harmonic mean of the macro precision and recall.")
        why = T("매크로 P, R 의 조화 평균", "the harmonic mean of macro P and R")
    fail(T("`{call}` 의 F1 이 {got:.4f} 입니다. 기대값은 {want:.4f} 입니다.",
           "`{call}` gave F1 = {got:.4f}; expected {want:.4f}.").format(call=call, got=f1, want=want_f1), hint, why=why)


PRF_NAMES = (T("정밀도", "precision"), T("재현율", "recall"), T("F1", "F1"))
# The Korean particles after each name (정밀도 ends in a vowel; 재현율 and F1, read 에프원, do not).
_TOPIC = {"정밀도": "는", "재현율": "은", "F1": "은"}
_SUBJECT = {"정밀도": "가", "재현율": "이", "F1": "이"}


def _names(indices) -> T:
    """"precision and F1" in both languages (the Korean "and" after each name: 와 after a vowel, 과 otherwise)."""
    names = [PRF_NAMES[i] for i in indices]
    ko = "".join(n.ko + ("와 " if n.ko == "정밀도" else "과 ") for n in names[:-1]) + names[-1].ko
    return T(ko, " and ".join(n.en for n in names))


def judge_zero_division(cases, got_all):
    """The three macro averages, each judged over every case. Where some of the three are right
    in every case and the others are not (precision and recall right, a NaN F1), the check earns
    that share of its points, and says which value is wrong and what it should be."""
    __tracebackhide__ = True
    judged = []
    for case, got in zip(cases, got_all):
        preds, targets, classes = case
        call = f"precision_recall_f1({preds}, {targets}, num_classes={classes})"
        got_values = read_prf(got, call)
        judged.append((case, call, got_values, macro(preds, targets, classes)))
    right = [all(close(g[i], w[i]) for _, _, g, w in judged) for i in range(3)]
    if all(right):
        return
    if any(right):
        judge_zero_division_part(judged, right)
    case, call, got_values, want = next((j for j in judged if not all(close(g, w) for g, w in zip(j[2], j[3]))))
    preds, targets, classes = case
    if any(not np.isfinite(v) for v in got_values):
        fail(T("`{call}` 이(가) {got} 을(를) 돌려주었습니다. 분모가 0 인 클래스가 NaN 을 만들었습니다.",
               "`{call}` returned {got}: a class with a zero denominator produced NaN.").format(call=call, got=got_values),
             T("한 번도 예측되지 않았거나 한 번도 나오지 않은 클래스는 분모가 0 입니다. 그때 그 값은 0 으로 셉니다.",
               "A class never predicted, or never present, has a zero denominator; count that value as 0."),
             why=T("분모 0 에서 NaN", "NaN on a zero denominator"))
    hint = T("분모가 0 이면 그 클래스의 값은 0 입니다. 평균은 `num_classes` 개 클래스 전체에 대해 냅니다.",
             "A zero denominator makes that class's value 0; the average runs over all `num_classes` classes.")
    why = T("분모가 0 인 클래스를 잘못 다룸", "mishandles a zero denominator")
    present = sorted(set(preds) | set(targets))
    if all(close(g, w) for g, w in zip(got_values, macro_over(preds, targets, present))):
        why = T("나온 클래스만 평균함", "averages over the classes present only")
    fail(T("`{call}` 이(가) (P, R, F1) = {got} 을(를) 돌려주었습니다. 기대값은 {want} 입니다.",
           "`{call}` returned (P, R, F1) = {got}; expected {want}.")
         .format(call=call, got=[round(v, 4) for v in got_values], want=[round(v, 4) for v in want]), hint, why=why)


def judge_zero_division_part(judged, right):
    """Partial credit: ``right[i]`` says whether value i (precision, recall, F1) is right in every case."""
    __tracebackhide__ = True
    good = [i for i in range(3) if right[i]]
    wrong = [i for i in range(3) if not right[i]]
    items_ko, items_en, nonfinite = [], [], False
    for i in wrong:  # each wrong value, where it first goes wrong
        _, call, got_values, want = next(j for j in judged if not close(j[2][i], j[3][i]))
        nonfinite = nonfinite or not np.isfinite(got_values[i])
        name = PRF_NAMES[i].ko
        items_ko.append(f"`{call}` 의 {name}{_SUBJECT[name]} {got_values[i]:.4g} 입니다 (기대값 {want[i]:.4g})")
        items_en.append(f"`{call}` gave {PRF_NAMES[i].en} = {got_values[i]:.4g}; expected {want[i]:.4g}")
    right_names, wrong_names = _names(good), _names(wrong)
    message = T("{right}{topic} 맞지만, {items}.".format(right=right_names.ko, topic=_TOPIC[PRF_NAMES[good[-1]].ko],
                                                       items="; ".join(items_ko)),
                "{right} {verb} right, but {items}.".format(right=right_names.en[:1].upper() + right_names.en[1:],
                                                            verb="are" if len(good) > 1 else "is",
                                                            items="; ".join(items_en)))
    hint = T("분모가 0 이면 그 클래스의 값은 0 입니다. 평균은 `num_classes` 개 클래스 전체에 대해 냅니다.",
             "A zero denominator makes that class's value 0; the average runs over all `num_classes` classes.")
    if wrong == [2]:
        hint = T("정밀도와 재현율이 모두 0 인 클래스는 F1 = 2PR/(P+R) 의 분모도 0 입니다: 그 클래스의 F1 도 0 으로 셉니다.",
                 "A class whose precision and recall are both 0 has a zero denominator in F1 = 2PR/(P+R) as well: "
                 "count its F1 as 0 too.")
    if nonfinite:
        why = T(f"분모가 0 일 때 {wrong_names.ko} 만 NaN", f"NaN {wrong_names.en} only, on a zero denominator")
    else:
        why = T(f"분모가 0 일 때 {wrong_names.ko} 만 틀림", f"only {wrong_names.en} wrong on a zero denominator")
    partial(len(good) / 3, message, hint, why=why, observed=[PRF_NAMES[i].en for i in wrong])


def reference_cross_entropy(logits, targets):
    logits = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets))
    loss.backward()
    return float(loss), logits.grad.numpy()


def read_loss(got, call):
    __tracebackhide__ = True
    if not isinstance(got, torch.Tensor) or got.numel() != 1 or not got.is_floating_point():
        fail(T("`{call}` 은(는) 스칼라 텐서(실수)를 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return a scalar floating-point tensor; got {got}.").format(call=call, got=describe(got)),
             T("배치 전체의 평균 손실 하나를 텐서로 돌려주세요 (`.item()` 을 부르지 마세요).",
               "Return the batch's mean loss as one tensor (do not call `.item()`)."),
             why=T("스칼라 텐서가 아님", "no scalar tensor"), observed=got)
    return float(got.reshape(()))


def judge_cross_entropy_value(case, answer):
    __tracebackhide__ = True
    logits, targets = case
    call = f"cross_entropy(<logits {len(logits)}x{len(logits[0])}>, {short(targets, 8)})"
    got = read_loss(answer["loss"], call)
    want, _ = reference_cross_entropy(logits, targets)
    if close(got, want, 1e-4):
        return
    hint = T("각 샘플의 `-log softmax(logits)[정답]` 을 구해 배치에 대해 평균하세요.",
             "Take each sample's `-log softmax(logits)[target]` and average over the batch.")
    why = T("손실 값이 틀림", "a wrong loss value")
    if close(got, want * len(targets), 1e-4):
        hint = T("합이 아니라 평균입니다.", "It is the mean over the batch, not the sum.")
        why = T("평균 대신 합", "the sum, not the mean")
    elif not np.isfinite(got):
        hint = T("큰 logit 에서 `exp` 가 넘쳤습니다: 행마다 최댓값을 빼고 계산해도 softmax 는 같습니다.",
                 "`exp` overflowed on large logits: subtracting each row's maximum leaves the softmax unchanged.")
        why = unstable_mistake(logits, got)
    fail(T("`{call}` 이(가) {got:.6g} 을(를) 돌려주었습니다. 기대값은 {want:.6g} 입니다.",
           "`{call}` returned {got:.6g}; expected {want:.6g}.").format(call=call, got=got, want=want), hint, why=why)


def unstable_mistake(logits, got: float) -> T:
    """Which unstable formula gave a non-finite loss: the value it ends in tells them apart."""
    row_max = [max(row) for row in logits]
    if max(row_max) - min(row_max) > 100:  # rows of very different size: one shift cannot fit all
        return T("배치 전체의 최댓값 하나만 뺌", "shifts by the batch's maximum, not each row's")
    if np.isnan(got):
        return T("최댓값을 빼지 않아 exp 가 넘침 (nan)", "exp overflows: no max shift (nan)")
    return T("softmax 가 0 으로 떨어진 뒤 log (inf)", "log of a softmax that underflows to 0 (inf)")


def judge_cross_entropy_grad(case, answer):
    __tracebackhide__ = True
    logits, targets = case
    call = f"cross_entropy(<logits {len(logits)}x{len(logits[0])}>, ...)"
    loss = answer["loss"]
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad or answer["grad"] is None:
        fail(T("`{call}` 의 결과로 역전파를 할 수 없습니다 (requires_grad={rg}). 손실은 logits 에 대해 미분 가능해야 합니다.",
               "Cannot backpropagate through `{call}` (requires_grad={rg}); the loss must be differentiable with respect to the logits.")
             .format(call=call, rg=getattr(loss, "requires_grad", None)),
             T("`.item()`, `.detach()`, numpy, 파이썬 수학을 거치지 말고 텐서 연산만 쓰세요.",
               "Use tensor operations only: no `.item()`, `.detach()`, numpy or Python math on the way."),
             why=T("미분할 수 없는 손실", "a loss that cannot be differentiated"))
    _, want = reference_cross_entropy(logits, targets)
    got = answer["grad"].double().numpy()
    if got.shape != want.shape or not np.allclose(got, want, atol=1e-5, rtol=1e-4):
        fail(T("`{call}` 의 logits 에 대한 기울기가 기대값과 다릅니다 (최대 차이 {diff:.3g}).",
               "The gradient of `{call}` with respect to the logits differs from the expected one (largest difference {diff:.3g}).")
             .format(call=call, diff=float(np.abs(got - want).max()) if got.shape == want.shape else float("nan")),
             T("기울기는 (softmax - 정답의 원-핫) / B 입니다. 상수가 아닌 부분을 떼어 내지 않았는지 보세요.",
               "The gradient is (softmax - one-hot target) / B: check that nothing but a constant was detached."),
             why=T("기울기가 틀림", "a wrong gradient"))


def judge_train_loss(args, got, want, plain=None):
    """``plain``: gives the reference run with an unsmoothed loss, when ``want``'s loss_fn is another one
    (called only for a wrong loss)."""
    __tracebackhide__ = True
    call = f"train_one_epoch(<{args[1]} samples, batch_size={args[2]}>)"
    number = need_number(got["loss"], f"`{call}`")
    if not close(number, want["loss"], 1e-4):
        why = loop_mistake(number, "loss", want["batches"], T("평균 손실이 틀림", "a wrong mean loss"))
        if plain is not None and close(number, plain()["loss"], 1e-4):
            why = T("loss_fn 대신 다른 손실을 씀", "uses its own loss instead of loss_fn")
        fail(T("`{call}` 이(가) {got:.6g} 을(를) 돌려주었습니다. 본 샘플 전체의 평균 손실은 {want:.6g} 입니다.",
               "`{call}` returned {got:.6g}; the mean loss over the samples seen is {want:.6g}.")
             .format(call=call, got=number, want=want["loss"]),
             T("배치마다 (평균 손실 × 그 배치의 샘플 수) 를 더해 전체 샘플 수로 나누세요. 마지막 배치는 더 작을 수 있습니다.",
               "Add up (mean loss × samples in that batch) over the batches and divide by the number of samples; the last batch may be smaller."),
             why=why)


def loop_mistake(got: float, key: str, batches: list[dict], otherwise: T) -> T:
    for value, why in batch_mistakes(key, batches):
        if close(got, value, 1e-4):
            return why
    return otherwise


def judge_train_params(args, got, want):
    __tracebackhide__ = True
    call = f"train_one_epoch(<{args[1]} samples, batch_size={args[2]}>)"
    params = got["params"]
    if len(params) != len(want["params"]):
        fail(T("`{call}` 뒤의 파라미터를 읽을 수 없습니다.", "Could not read the parameters after `{call}`.").format(call=call),
             why=T("파라미터의 수가 다름", "another number of parameters"))
    for index, (p, w) in enumerate(zip(params, want["params"])):
        if not isinstance(p, torch.Tensor) or p.shape != w.shape or not torch.allclose(p.double(), w.double(), atol=1e-4, rtol=1e-4):
            fail(T("`{call}` 뒤 파라미터 {i} 의 값이 한 epoch 의 경사 하강법 결과와 다릅니다.",
                   "After `{call}`, parameter {i} differs from the result of one epoch of gradient descent.")
                 .format(call=call, i=index),
                 T("모든 배치에서: 기울기 초기화 → 순전파 → 손실 → 역전파 → step. 기울기를 초기화하지 않으면 배치마다 기울기가 쌓입니다.",
                   "For every batch: zero the gradients → forward → loss → backward → step. Without zeroing, gradients pile up from batch to batch."),
                 why=T("경사 하강법의 결과가 다름", "parameters differ after the epoch"))


def judge_evaluate_values(args, got, want):
    __tracebackhide__ = True
    call = f"evaluate(<{args[1]} samples, batch_size={args[2]}>)"
    result = got["result"]
    if type(result) is not dict or not {"loss", "accuracy"} <= set(result):
        fail(T("`{call}` 은(는) 키 `loss`, `accuracy` 가 있는 dict 를 돌려줘야 합니다. 받은 값: {got}",
               "`{call}` must return a dict with the keys `loss` and `accuracy`; got {got}.").format(call=call, got=describe(result)),
             T("`return {\"loss\": ..., \"accuracy\": ...}`", "`return {\"loss\": ..., \"accuracy\": ...}`"),
             why=T("loss/accuracy dict 가 아님", "no dict of loss and accuracy"), observed=result)
    for key in ("loss", "accuracy"):
        number = need_number(result[key], f"`{call}['{key}']`")
        if not close(number, want["result"][key], 1e-4):
            fail(T("`{call}` 의 `{key}` 가 {got:.6g} 입니다. loader 전체에 대한 기대값은 {want:.6g} 입니다.",
                   "`{call}` gave `{key}` = {got:.6g}; over the whole loader it is {want:.6g}.")
                 .format(call=call, key=key, got=number, want=want["result"][key]),
                 T("모든 배치를 보고, 배치 크기로 가중해 평균하세요 (마지막 배치는 더 작을 수 있습니다). 정확도는 logit 의 argmax (dim=1) 로 셉니다.",
                   "Go through every batch and weight by batch size (the last one may be smaller); accuracy counts the argmax of the logits over dim=1."),
                 why=loop_mistake(number, key, want["batches"], T("`{key}` 가 틀림", "a wrong `{key}`").format(key=key)))


# ----------------------------------------------------------------------------- checks

ACCURACY_CASES = [([0, 1, 2, 2, 1], [0, 1, 1, 2, 0]), ([3, 3, 3, 3], [3, 3, 3, 3]), ([1, 0, 1, 0, 1, 1, 0], [0, 1, 1, 0, 0, 1, 1])]
PRF_CASES = [(*metric_case(1, 40, 3, every_class_hit=True), 3), (*metric_case(2, 60, 4, every_class_hit=True), 4)]
# Class 2 is never predicted (precision 0/0), class 3 never occurs at all, class 1 is predicted but absent.
ZERO_CASES = [([0, 1, 0, 0, 1, 0], [0, 0, 2, 0, 2, 0], 4), ([0, 1, 1, 0], [0, 1, 1, 0], 3)]
CE_CASES = [(np.round(np.random.default_rng(3).normal(0, 3, (6, 4)), 3).tolist(), [0, 3, 1, 2, 2, 0])]
LARGE_CASES = [([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0], [-1000.0, -1000.0, 1000.0]], [0, 2, 1]),
               ([[-1000.0, -1001.0], [-1200.0, -1000.0]], [1, 0]),
               # Rows of very different size: one maximum for the whole batch is not enough.
               ([[1000.0, 999.0], [-1000.0, -1001.0]], [0, 1])]


@check(points=1, title=T("정확도", "Accuracy"))
def test_accuracy(nb):
    judge_accuracy(ACCURACY_CASES, nb.run(probe_accuracy, ACCURACY_CASES))


@check(points=1, title=T("매크로 정밀도와 재현율", "Macro precision and recall"))
def test_precision_recall(nb):
    for case, got in zip(PRF_CASES, nb.run(probe_prf, PRF_CASES)):
        judge_precision_recall(case, got)


@check(points=1, title=T("매크로 F1", "Macro F1"))
def test_f1_macro(nb):
    for case, got in zip(PRF_CASES, nb.run(probe_prf, PRF_CASES)):
        judge_f1(case, got)


@check(points=1, title=T("분모가 0 인 클래스", "Classes with a zero denominator"))
def test_zero_division(nb):
    # Judged as one answer (P, R, F1): two of the three right earns two thirds of the point.
    judge_zero_division(ZERO_CASES, nb.run(probe_prf, ZERO_CASES))


@check(points=1, title=T("교차 엔트로피의 값", "Cross-entropy value"))
def test_cross_entropy_value(nb):
    for case, answer in zip(CE_CASES, nb.run(probe_cross_entropy, CE_CASES)):
        judge_cross_entropy_value(case, answer)


@check(points=1, title=T("큰 logit 에서의 교차 엔트로피", "Cross-entropy on large logits"))
def test_cross_entropy_stable(nb):
    for case, answer in zip(LARGE_CASES, nb.run(probe_cross_entropy, LARGE_CASES)):
        judge_cross_entropy_value(case, answer)


@check(points=1, title=T("교차 엔트로피의 기울기", "Cross-entropy gradient"))
def test_cross_entropy_grad(nb):
    for case, answer in zip(CE_CASES, nb.run(probe_cross_entropy, CE_CASES)):
        judge_cross_entropy_grad(case, answer)


@check(points=1, title=T("교차 엔트로피를 직접 구현", "Cross-entropy written by hand"))
def test_cross_entropy_own(nb):
    used = nb.run(probe_cross_entropy_calls, CE_CASES[0][0], CE_CASES[0][1])
    if used:
        fail(T("`cross_entropy` 가 PyTorch 의 교차 엔트로피/NLL 손실 ({used}) 을 불렀습니다.",
               "`cross_entropy` called PyTorch's own cross-entropy / NLL loss ({used}).").format(used=describe(used)),
             T("`F.cross_entropy`, `F.nll_loss`, `nn.CrossEntropyLoss` 없이 softmax 의 로그로 직접 계산하세요.",
               "Compute it from the log of the softmax yourself, without `F.cross_entropy`, `F.nll_loss` or `nn.CrossEntropyLoss`."),
             why=T("PyTorch 의 {used} 를 부름", "calls PyTorch's {used}").format(used=", ".join(used)))


@check(points=1, title=T("한 epoch 의 평균 손실", "One epoch's mean loss"))
def test_train_one_epoch_loss(nb, device):
    # Two batches (4 + 2): the second batch's loss does not depend on zeroing the gradients.
    args = (0, 6, 4, 0.5)
    judge_train_loss(args, nb.run(probe_train, *args, device), expected(probe_train, *args, "cpu"))


@check(points=1, title=T("한 epoch 의 파라미터 갱신", "One epoch's parameter updates"))
def test_train_one_epoch_updates(nb, device):
    args = (1, 10, 4, 0.5)
    judge_train_params(args, nb.run(probe_train, *args, device), expected(probe_train, *args, "cpu"))


@check(points=1, title=T("학습 모드에서 학습", "Training runs in train mode"))
def test_train_one_epoch_mode(nb):
    got = run_default_device(nb, probe_train, "train_one_epoch", 2, 8, 4, 0.1, None, False)  # device left out
    if not got["seen"] or not all(training for training, _ in got["seen"]):
        fail(T("`train_one_epoch` 의 순전파가 평가 모드에서 실행되었습니다 (평가 모드였던 모델을 받았을 때).",
               "`train_one_epoch` ran its forward passes in eval mode (given a model that was in eval mode)."),
             T("학습을 시작할 때 모델을 학습 모드로 두세요 (dropout, batch norm 이 달라집니다).",
               "Put the model in train mode when training starts (dropout and batch norm behave differently)."),
             why=T("학습 모드로 바꾸지 않음", "never switches to train mode"))


@check(points=1, title=T("평가의 손실과 정확도", "Evaluation loss and accuracy"))
def test_evaluate_values(nb, device):
    args = (3, 10, 4)
    judge_evaluate_values(args, nb.run(probe_evaluate, *args, device), expected(probe_evaluate, *args, "cpu"))


@check(points=1, title=T("평가는 평가 모드에서", "Evaluation runs in eval mode"))
def test_evaluate_eval_mode(nb):
    got = run_default_device(nb, probe_evaluate, "evaluate", 4, 6, 4, None, True)  # device left out
    if not got["seen"] or any(training for training, _ in got["seen"]):
        fail(T("`evaluate` 의 순전파가 학습 모드에서 실행되었습니다 (학습 모드였던 모델을 받았을 때).",
               "`evaluate` ran its forward passes in train mode (given a model that was in train mode)."),
             T("평가 전에 모델을 평가 모드로 바꾸세요 (dropout 과 batch norm 이 평가용으로 동작합니다).",
               "Switch the model to eval mode before evaluating (so dropout and batch norm behave for evaluation)."),
             why=T("평가 모드로 바꾸지 않음", "never switches to eval mode"))


@check(points=1, title=T("평가는 그래프 없이", "Evaluation builds no graph"))
def test_evaluate_no_grad(nb):
    got = nb.run(probe_evaluate, 4, 6, 4, "cpu", False)
    if not got["seen"] or any(grad for _, grad in got["seen"]):
        fail(T("`evaluate` 의 순전파가 autograd 그래프를 만들었습니다 (기울기 계산이 켜져 있었습니다).",
               "`evaluate` built an autograd graph in its forward passes (gradient tracking was on)."),
             T("평가에는 기울기가 필요 없습니다: 계산 그래프를 만들지 않는 문맥 안에서 순전파하세요.",
               "Evaluation needs no gradients: run the forward passes in a context that builds no graph."),
             why=T("autograd 를 켠 채로 평가", "evaluates with autograd on"))


@check(points=1, title=T("평가 뒤 모드 복원", "Evaluation restores the mode"))
def test_evaluate_restores_mode(nb):
    starts = (True, False)
    calls = [(probe_evaluate, (5, 6, 4, "cpu", start)) for start in starts]
    for start, got in zip(starts, answers(nb, calls)):
        if got["training_after"] is not start:
            before, after = ("train", "eval") if start else ("eval", "train")
            fail(T("`evaluate` 전에는 {before} 모드였던 모델이 끝난 뒤 {after} 모드입니다.",
                   "A model in {before} mode before `evaluate` is in {after} mode afterwards.").format(before=before, after=after),
                 T("시작할 때 `model.training` 을 기억해 두었다가 끝에서 그 모드로 되돌리세요.",
                   "Remember `model.training` at the start and return to that mode at the end."),
                 # which way it went tells "leaves it in eval" from "always switches back to train"
                 why=T("evaluate 뒤 {after} 모드로 남김", "leaves the model in {after} mode").format(after=after))
