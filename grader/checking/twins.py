"""Hard-coded answers earn nothing: a public check's points count only when its hidden twins agree.

Students see the public checks and the public data, so a public check alone cannot tell code that
works from code that returns the number it expects. The course manifest names, per exercise, the
hidden checks that re-test a public check's behaviour on other inputs (``twins``). At grading,
with the hidden checks, a public check that passed while one of its twins did not is reported
as ``public_only``: passed on the public data, not counted, with the twin's own words for why;
where the twin earned part of its points (partial credit), the public check earns the same share.
A hidden check that re-tests several public checks says which part re-tests which
(:func:`grader.checks.retests`); a failure it cannot attribute (the student's code raised on the
other inputs) counts against all its public checks. A student's self-check runs no hidden check,
so nothing changes there; ``independent_points = true`` in ``[course]`` turns the rule off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from grader.i18n import T
from grader.results import CheckResult, CheckStatus

__all__ = ["PARTLY", "PUBLIC_ONLY", "gate", "name_of"]

PUBLIC_ONLY = T("공개 데이터에서만 동작합니다: ", "works on the public data set only: ")
PARTLY = T("다른 입력에서는 일부만 맞습니다: ", "partly right on other inputs: ")
_TWIN_FAILED = T("다른 데이터로 다시 한 숨은 검사 '{ko}'를 통과하지 못했습니다.",
                 "the hidden check '{en}', the same behaviour on other inputs, did not pass.")


def name_of(check_id: str) -> str:
    """A check's function name (``02_dataset::test_len_train[cpu]`` → ``test_len_train``)."""
    return check_id.split("::", 1)[-1].split("[", 1)[0]


def _why(twin: CheckResult) -> T:
    if twin.message is not None and twin.status in (CheckStatus.FAILED, CheckStatus.PARTIAL):
        return twin.message
    return _TWIN_FAILED.format(ko=twin.title.ko, en=twin.title.en)


def _credit(twin: CheckResult) -> float:
    """The share of its points a twin earned: what it grants the public check it re-tests."""
    if twin.status is CheckStatus.PARTIAL and twin.max_points > 0:
        return twin.points / twin.max_points
    return 0.0


def gate(results: Iterable[CheckResult], twins: Mapping[str, tuple[str, ...]]) -> list[CheckResult]:
    """``results`` with each public check whose hidden twin caught it turned ``public_only``, or
    ``partial`` (in the share the twin earned) where the twin found the behaviour partly right."""
    results = list(results)
    by_name: dict[str, list[CheckResult]] = {}
    for result in results:
        by_name.setdefault(name_of(result.id), []).append(result)
    for public, hidden in twins.items():
        caught = [twin for name in hidden for twin in by_name.get(name, [])
                  if twin.counts and twin.status is not CheckStatus.PASSED
                  and (not twin.retests or public in twin.retests)]
        if not caught:
            continue
        worst = min(caught, key=_credit)
        for result in by_name.get(public, []):
            if result.counts and result.status is CheckStatus.PASSED:
                credit = _credit(worst)
                result.gated, result.own_message = True, result.message
                result.status = CheckStatus.PARTIAL if credit > 0 else CheckStatus.PUBLIC_ONLY
                result.points = round(result.max_points * credit, 6)
                result.message = (PARTLY if credit > 0 else PUBLIC_ONLY) + _why(worst)
                result.hint = worst.hint
    return results
