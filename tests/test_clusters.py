"""Mistake clusters over a planted class: the golden cases, three students each, varied cosmetically.

Each wrong golden case is a mistake of its own, so a perfect clustering puts its three students
together (inverse purity) and nobody else with them (purity). Two cases the checks cannot tell
apart (their original students get one signature) count as one mistake: the test prints them.
The checks run in-process on the reference solution's namespace, as in ``test_golden``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from math import comb
from pathlib import Path

import pytest

from grader.i18n import T
from grader.insight.mistakes import cluster_id, clusters, diagnosis, signature
from grader.checking.plugin import GradingContext
from grader.checking.remote import LocalNotebook
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult
from grader.checking.runner import run_checks

from .planted import renamed, reordered
from .test_golden import CASES, expected_failures, solution_namespace

ROOT = Path(__file__).resolve().parent.parent


def _graded(course, case: Path, code: str, data_root: Path, work: Path) -> ExerciseResult:
    exercise = course.exercise(case.parent.name)
    namespace = solution_namespace(exercise.solution, data_root)
    exec(compile(code, str(case), "exec"), namespace)  # noqa: S102 - our own golden cases
    context = GradingContext(exercise_id=exercise.id, data_root=data_root, work_dir=work)
    checks = run_checks(course, exercise, LocalNotebook(namespace), context, hidden=True)
    return ExerciseResult(exercise.id, exercise.title, ExerciseStatus.GRADED, checks)


@pytest.fixture(scope="module")
def planted(course, data_root, session_dir) -> dict:
    """student → (golden case, exercise result): three students per wrong case, one per right one."""
    students = {}
    for case in CASES:
        text = case.read_text(encoding="utf-8")
        variants = [text] if not expected_failures(case) else [text, renamed(text), reordered(text)]
        for number, code in enumerate(variants):
            result = _graded(course, case, code, data_root, session_dir / "planted")
            students[f"{case.parent.name}-{case.stem}-{number}"] = (f"{case.parent.name}/{case.stem}", result)
    return students


def _submissions(planted: dict) -> dict[str, SubmissionResult]:
    return {sid: SubmissionResult(sid, [result]) for sid, (_, result) in planted.items()}


def adjusted_rand_index(truth: list, found: list) -> float:
    pairs = Counter(zip(truth, found))
    index = sum(comb(n, 2) for n in pairs.values())
    rows = sum(comb(n, 2) for n in Counter(truth).values())
    columns = sum(comb(n, 2) for n in Counter(found).values())
    expected = rows * columns / comb(len(truth), 2)
    best = (rows + columns) / 2
    return 1.0 if best == expected else (index - expected) / (best - expected)


def purity(truth: list, found: list) -> float:
    """How much of each found cluster its largest true mistake holds (low: mistakes merged)."""
    groups: dict = defaultdict(list)
    for t, f in zip(truth, found):
        groups[f].append(t)
    return sum(Counter(g).most_common(1)[0][1] for g in groups.values()) / len(truth)


def test_planted_class_clusters_match_the_golden_mistakes(planted, course) -> None:
    for sid, (case, result) in planted.items():  # a variant that behaves differently is not cosmetic
        original = planted[sid.rsplit("-", 1)[0] + "-0"][1]
        assert {c.id for c in result.checks if c.status is not CheckStatus.PASSED} == \
            {c.id for c in original.checks if c.status is not CheckStatus.PASSED}, sid
    found = clusters(_submissions(planted), course)
    member_of = {s: c.id for every in found.values() for c in every for s in c.members}
    # Cases whose original students share a signature cannot be told apart: one mistake.
    originals = defaultdict(list)
    for sid, (case, result) in planted.items():
        if sid.endswith("-0"):
            originals[(result.exercise_id, signature(result))].append(case)
    sharing = [cases for (_, parts), cases in originals.items() if len(cases) > 1 and parts]  # right ones share ()
    print(f"\n{len(originals)} distinct signatures over {len(CASES)} golden cases; cases still sharing one:")
    for cases in sharing:
        print("   ", ", ".join(sorted(cases)))
    mistake = {case: min(cases) for cases in originals.values() for case in cases}
    wrong = [sid for sid, (case, _) in planted.items() if sid in member_of]
    assert wrong, "no student landed in a cluster"
    truth = [mistake[planted[sid][0]] for sid in wrong]
    labels = [member_of[sid] for sid in wrong]
    scores = {"purity": purity(truth, labels), "inverse purity": purity(labels, truth),
              "adjusted Rand index": adjusted_rand_index(truth, labels)}
    print("   ", ", ".join(f"{name} {value:.3f}" for name, value in scores.items()))
    assert scores["purity"] == 1.0
    assert scores["inverse purity"] >= 0.95
    assert scores["adjusted Rand index"] >= 0.95
    # Every student whose case expects failures is in a cluster; every correct one in none.
    for sid, (case, result) in planted.items():
        failing = any(c.status is not CheckStatus.PASSED for c in result.checks if c.counts)
        assert (sid in member_of) == failing, sid
    # Distinct mistakes are distinct clusters: the 03_transforms had 16 mistakes in 4.
    transforms = {mistake[c] for s, (c, _) in planted.items() if s in member_of and c.startswith("03_")}
    assert len(found["03_transforms"]) == len(transforms) >= 16


def test_names_come_from_the_checks_words_in_both_languages(planted, course) -> None:
    found = clusters(_submissions(planted), course)
    every = [c for clusters_ in found.values() for c in clusters_]
    for cluster in every:
        assert cluster.name("en").startswith(f"{cluster.size} student")
        assert cluster.name("ko").startswith(f"{cluster.size}명: ")
        assert cluster.label.en and cluster.label.ko and cluster.label.en != cluster.label.ko
    reads_one_batch = [c for c in found["02_dataset"] if "one batch" in c.label.en or "batch file" in c.label.en]
    assert reads_one_batch, [c.label.en for c in found["02_dataset"]]


def test_the_key_masks_numbers_when_no_why_was_given() -> None:
    def failing(message: str) -> CheckResult:
        return CheckResult("e::test_x", T.same("x"), CheckStatus.FAILED, 0, 1, message=T.same(message))

    assert diagnosis(failing("returned 1000; expected 50000"))[0] == diagnosis(failing("returned 999; expected 50000"))[0]
    assert diagnosis(failing("shape (3, 32, 32)"))[0] == diagnosis(failing("shape (32, 32, 3)"))[0]
    assert diagnosis(failing("returned a list"))[0] != diagnosis(failing("returned a tuple"))[0]
    public_only = CheckResult("e::test_x", T.same("x"), CheckStatus.PUBLIC_ONLY, 0, 1, message=T.same("returned 1"))
    assert diagnosis(public_only)[0] != diagnosis(failing("returned 1"))[0]


_IDS_SCRIPT = """
import json, random, sys
from grader.course.manifest import load_course
from grader.insight.mistakes import clusters
from grader.results import SubmissionResult
course = load_course(sys.argv[1])
results = {sid: SubmissionResult.from_dict(data) for sid, data in json.load(open(sys.argv[2])).items()}
order = list(results)
random.Random(int(sys.argv[3])).shuffle(order)
found = clusters({sid: results[sid] for sid in order}, course)
print(json.dumps({c.id: sorted(c.members) for every in found.values() for c in every}, sort_keys=True))
"""


def test_cluster_ids_do_not_depend_on_the_hash_seed_or_the_order(planted, course, tmp_path) -> None:
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps({sid: result.to_dict() for sid, result in _submissions(planted).items()}))
    runs = []
    for seed, shuffle in (("1", "7"), ("4242", "99")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _IDS_SCRIPT, str(ROOT / "exercises"), str(saved), shuffle],
                              capture_output=True, text=True, env=env, check=True, timeout=300)
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]
    here = {c.id: sorted(c.members) for every in clusters(_submissions(planted), course).values() for c in every}
    assert here == runs[0]
    some = next(iter(here))
    assert len(some) == 10 and all(ch in "0123456789abcdef" for ch in some)


def test_a_cell_error_that_stopped_the_notebook_is_part_of_the_signature() -> None:
    from grader.results import CellError

    def stopped(ename: str) -> ExerciseResult:
        checks = [CheckResult("e::test_a", T.same("a"), CheckStatus.NOT_RUN, 0, 1)]
        return ExerciseResult("e", T.same("e"), ExerciseStatus.GRADED, checks,
                              cell_errors=[CellError(3, "error", ename, "in cell 3")])

    assert signature(stopped("NameError")) != signature(stopped("TypeError"))
    assert cluster_id("e", signature(stopped("NameError"))) == cluster_id("e", list(reversed(signature(stopped("NameError")))))
