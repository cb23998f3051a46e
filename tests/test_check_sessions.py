"""One pytest session per exercise per grading process: what it keeps, and what it must not.

The checks of a small course written here run in-process (the self-check back end) against
one namespace after another, as a bulk worker runs them against one kernel after another.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

from grader.checking import runner
from grader.course.manifest import Course, load_course
from grader.errors import CourseError
from grader.checking.plugin import GradingContext
from grader.checking.remote import LocalNotebook, MissingNotebook
from grader.i18n import T
from grader.results import CheckStatus

_names = itertools.count()

def manifest(**exercises: tuple[str, int]) -> str:
    """A course.toml: each exercise's id, its public check file's name and its points."""
    parts = ['[course]\ntitle = { ko = "k", en = "e" }']
    for exercise, (check, points) in exercises.items():
        parts.append(f'[[exercises]]\nid = "{exercise}"\nnotebook = "{exercise}.ipynb"\npoints = {points}\n'
                     f'title = {{ ko = "k", en = "e" }}\npublic_checks = "checks/{check}.py"')
    return "\n".join(parts) + "\n"

CHECK = '''
import pytest
from grader.checks import T, check, fail
from {helper} import EXPECTED


def probe_answer(ns):
    return ns["answer"]


@pytest.fixture(scope="module")
def answer(nb):
    return nb.run(probe_answer)


@check(points=1, title=T("답", "answer"))
def test_answer(answer):
    if answer != EXPECTED:
        fail(T("틀림", "expected {{e}}, got {{g}}").format(e=EXPECTED, g=answer), observed=answer)


@check(points=1, title=T("다시", "answer again"))
def test_answer_again(nb):
    if nb.run(probe_answer) != EXPECTED:
        fail(T("틀림", "not {{e}}").format(e=EXPECTED))


@check(points={points}, title=T("모듈", "module"))
def test_module_fixture_is_this_notebooks(nb, answer):
    if nb.run(probe_answer) != answer:
        fail(T("섞임", "the module fixture holds another notebook's answer"))
'''


def make_course(root: Path, *, expected: int = 1, points: int = 1) -> Course:
    token = next(_names)  # module names are per process: each course of this file has its own
    check, helper = f"test_sessions_{token}", f"sessions_helper_{token}"
    (root / "checks").mkdir(parents=True, exist_ok=True)
    (root / "course.toml").write_text(manifest(ex=(check, 3)), encoding="utf-8")
    (root / "ex.ipynb").write_text("{}", encoding="utf-8")
    (root / "checks" / f"{helper}.py").write_text(f"EXPECTED = {expected}\n", encoding="utf-8")
    (root / "checks" / f"{check}.py").write_text(CHECK.format(helper=helper, points=points), encoding="utf-8")
    return load_course(root)


@pytest.fixture
def checks():
    """This test's own check runner (a grading session's), closed after it."""
    with runner.CheckRunner() as made:
        yield made


@pytest.fixture
def grade(checks, tmp_path):
    """``grade(course, answer)``: the exercise's public checks against a namespace holding ``answer``."""

    def grade_answer(course: Course, answer: object) -> dict[str, tuple[str, str, float]]:
        exercise = course.exercise("ex")
        context = GradingContext(exercise_id="ex", data_root=tmp_path, work_dir=tmp_path)
        results = checks.run(course, exercise, LocalNotebook({"answer": answer}), context, hidden=False)
        return {r.id: (r.status.value, r.message.en if r.message else "", r.max_points) for r in results}

    return grade_answer


def session_count(checks: runner.CheckRunner, course: Course) -> int:
    return sum(1 for key in checks._sessions if key[0] == str(course.root))


def test_a_session_is_kept_and_each_notebook_gets_its_own_results_and_fixtures(tmp_path, grade, checks) -> None:
    course = make_course(tmp_path / "course")
    wrong, right = grade(course, 7), grade(course, 1)
    assert session_count(checks, course) == 1
    assert wrong["ex::test_answer"] == ("failed", "expected 1, got 7", 1.0)
    assert wrong["ex::test_answer_again"][0] == "failed"
    assert all(status == "passed" for status, _, _ in right.values()), right
    # the module-scoped fixture was computed again for the second notebook, not reused
    assert right["ex::test_module_fixture_is_this_notebooks"][0] == "passed"
    assert grade(course, 7) == wrong  # the first student again: the same result, nothing of the second's


def test_an_edited_check_file_takes_effect_at_the_next_notebook(tmp_path, grade, checks) -> None:
    course = make_course(tmp_path / "course", points=1)
    assert grade(course, 1)["ex::test_module_fixture_is_this_notebooks"][2] == 1.0
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    # Same size, most likely the same second: neither the size nor the second may be trusted.
    check.write_text(check.read_text(encoding="utf-8").replace("@check(points=1, title=T(\"모듈\"",
                                                               "@check(points=2, title=T(\"모듈\""), encoding="utf-8")
    assert grade(course, 1)["ex::test_module_fixture_is_this_notebooks"][2] == 2.0
    assert session_count(checks, course) == 1  # the old session was closed, not kept beside the new one


def test_an_edited_probe_is_sent_as_it_now_reads(tmp_path, grade) -> None:
    course = make_course(tmp_path / "course", expected=1)
    assert grade(course, 1)["ex::test_answer"][0] == "passed"
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    check.write_text(check.read_text(encoding="utf-8").replace('return ns["answer"]', 'return ns["answer"] + 1'),
                     encoding="utf-8")
    assert grade(course, 0)["ex::test_answer"][0] == "passed"  # 0 + 1: the probe's new source ran


def test_an_edited_helper_module_beside_the_checks_takes_effect(tmp_path, monkeypatch, grade) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # its bytecode cached, as on most machines
    course = make_course(tmp_path / "course", expected=1)
    assert grade(course, 2)["ex::test_answer"][0] == "failed"
    helper = next((tmp_path / "course" / "checks").glob("sessions_helper_*.py"))
    before = helper.stat().st_mtime_ns
    helper.write_text("EXPECTED = 2\n", encoding="utf-8")  # the same size as before
    os.utime(helper, ns=(before + 1, before + 1))  # and the same second, which Python's bytecode cache trusts
    assert grade(course, 2)["ex::test_answer"][0] == "passed"


def test_without_pytests_session_api_each_notebook_runs_pytest_main_with_the_same_results(tmp_path, monkeypatch, grade,
                                                                                           checks) -> None:
    course = make_course(tmp_path / "course")
    kept = [grade(course, answer) for answer in (7, 1)]
    monkeypatch.setattr(runner, "KEEPS_SESSIONS", False)
    other = make_course(tmp_path / "other")  # the same checks, a session never built
    rerun = [grade(other, answer) for answer in (7, 1)]
    assert rerun == kept
    assert all(session._session is None for key, session in checks._sessions.items() if key[0] == str(other.root))


def test_sessions_are_kept_only_where_pytests_private_api_is_all_there(monkeypatch) -> None:
    # pytest is not pinned below its next major release: the kept-session path proves at import
    # that every private piece it builds on is there, and pytest.main serves otherwise.
    assert runner._private_api_present() and runner.KEEPS_SESSIONS  # this pytest has them all
    monkeypatch.delattr(runner.Config, "_do_configure")
    assert not runner._private_api_present()


@pytest.mark.parametrize("session_api", [True, False], ids=["kept-session", "pytest-main"])
def test_a_check_file_that_cannot_be_collected_is_a_course_error_every_time(tmp_path, monkeypatch, session_api, grade,
                                                                            checks) -> None:
    if not session_api:
        monkeypatch.setattr(runner, "KEEPS_SESSIONS", False)
    course = make_course(tmp_path / "course")
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    check.write_text("def broken(:\n", encoding="utf-8")
    for _ in range(2):  # not cached as a session without checks
        with pytest.raises(CourseError, match="could not be collected"):
            grade(course, 1)
    assert session_count(checks, course) == 0


def test_a_run_stopped_half_way_drops_its_session(tmp_path, grade, checks) -> None:
    course = make_course(tmp_path / "course")
    grade(course, 1)

    class Interrupting(dict):
        def __getitem__(self, name):  # the grader's Ctrl-C, arriving while a probe runs
            raise KeyboardInterrupt

    exercise = course.exercise("ex")
    context = GradingContext(exercise_id="ex", data_root=tmp_path, work_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        checks.run(course, exercise, LocalNotebook(Interrupting(answer=1)), context, hidden=False)
    assert session_count(checks, course) == 0  # its fixtures were never torn down: not reused
    assert all(status == "passed" for status, _, _ in grade(course, 1).values())
    assert grade(course, 7)["ex::test_answer"][0] == CheckStatus.FAILED.value


def test_a_workers_start_collects_every_exercises_checks(make_config, checks, kernel_host) -> None:
    from grader.session import GradingSession

    config = make_config(kernel="fresh")  # no zygote to wait for: the checks' part alone
    with GradingSession(config, host=kernel_host, checks=checks, warm_checks=True):
        kept = {(key[0], key[1]) for key in checks._sessions}
    wanted = {(str(config.course.root), e.check_files(hidden=config.hidden)) for e in config.course.exercises}
    assert kept == wanted
    assert all(session._session is not None and session.plugin.collected for session in checks._sessions.values())


PARTIAL = '''
from grader.checks import T, check, fail, partial


def probe_answers(ns):
    return list(ns["answer"])


@check(points=3, title=T("세 값", "three values"))
def test_three_values(nb):
    got = nb.run(probe_answers)
    right = sum(a == b for a, b in zip(got, [1, 2, 3]))
    if right == 0:
        fail(T("모두 틀림", "all three wrong"))
    if right < 3:
        partial(right / 3, T("일부 틀림", "{n} of 3 right").format(n=right), why=T("일부", "some wrong"))
'''


def test_a_check_may_award_part_of_its_points_with_a_message_saying_why(tmp_path, checks) -> None:
    course = make_course(tmp_path / "course")
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    check.write_text(PARTIAL, encoding="utf-8")
    context = GradingContext(exercise_id="ex", data_root=tmp_path, work_dir=tmp_path)
    graded = {}
    for answer in ([1, 2, 3], [1, 2, 0], [0, 0, 0]):
        (only,) = checks.run(course, course.exercise("ex"), LocalNotebook({"answer": answer}), context, hidden=False)
        graded[str(answer)] = (only.status, only.points, only.max_points, only.message.en if only.message else "")
    assert graded == {"[1, 2, 3]": (CheckStatus.PASSED, 3.0, 3.0, ""),
                      "[1, 2, 0]": (CheckStatus.PARTIAL, 2.0, 3.0, "2 of 3 right"),
                      "[0, 0, 0]": (CheckStatus.FAILED, 0.0, 3.0, "all three wrong")}


def test_partial_credit_must_lie_between_0_and_1() -> None:
    from grader.checks import partial

    with pytest.raises(ValueError, match="between 0 and 1"):
        partial(1.5, T("x", "x"))


def test_a_check_that_calls_pytest_exit_is_a_course_error_and_its_session_goes(tmp_path, grade, checks) -> None:
    course = make_course(tmp_path / "course")
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    check.write_text(check.read_text(encoding="utf-8") + "\n\n@check(points=0, title=T('끝', 'stop'))\ndef test_zz_stops():\n    pytest.exit('done')\n",
                     encoding="utf-8")
    with pytest.raises(CourseError, match=r"stopped the run: pytest.exit\('done'\)"):
        grade(course, 1)
    assert session_count(checks, course) == 0



FIRST = '''
from grader.checks import T, check, fail
from {helper} import EXPECTED


class Reader:  # a probe helper that travels into the kernel: its source is read from this module
    @staticmethod
    def read(ns):
        return ns["answer"]


@check(points=1, title=T("하나", "one"))
def test_one(nb):
    if nb.run(probe_answer) != EXPECTED:
        fail(T("틀림", "wrong"))


def probe_answer(ns):
    return ns["answer"]
'''

SECOND = '''
from grader.checks import T, check, fail, probe_uses
from {first} import Reader
from {helper} import EXPECTED


@probe_uses(Reader)
def probe_read(ns):
    return Reader.read(ns)


@check(points=1, title=T("둘", "two"))
def test_two(nb):
    if nb.run(probe_read) != EXPECTED:
        fail(T("틀림", "wrong"))
'''


def test_an_edit_renews_every_session_that_shares_the_folder(tmp_path, checks) -> None:
    # Exercise two's checks import exercise one's module by name; after an edit, neither session
    # may keep objects of modules that the other's renewal dropped.
    token = next(_names)
    first, second, helper = f"test_shared_a_{token}", f"test_shared_b_{token}", f"shared_helper_{token}"
    root = tmp_path / "course"
    (root / "checks").mkdir(parents=True)
    (root / "course.toml").write_text(manifest(one=(first, 1), two=(second, 1)), encoding="utf-8")
    for name in ("one", "two"):
        (root / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    (root / "checks" / f"{helper}.py").write_text("EXPECTED = 1\n", encoding="utf-8")
    (root / "checks" / f"{first}.py").write_text(FIRST.format(helper=helper), encoding="utf-8")
    (root / "checks" / f"{second}.py").write_text(SECOND.format(first=first, helper=helper), encoding="utf-8")
    course = load_course(root)

    def status(exercise_id: str) -> str:
        context = GradingContext(exercise_id=exercise_id, data_root=tmp_path, work_dir=tmp_path)
        results = checks.run(course, course.exercise(exercise_id), LocalNotebook({"answer": 2}), context,
                             hidden=False)
        return results[0].status.value + (f": {results[0].message.en}" if results[0].message else "")

    assert (status("two"), status("one")) == ("failed: wrong", "failed: wrong")
    (root / "checks" / f"{helper}.py").write_text("EXPECTED = 2\n", encoding="utf-8")
    assert [status(e) for e in ("two", "one", "two", "one")] == ["passed"] * 4


def test_checks_run_with_this_process_torch_on_one_thread_and_its_count_is_put_back(tmp_path, kernel_host, checks) -> None:
    import torch

    from grader.config import GradeConfig
    from grader.session import GradingSession

    course = make_course(tmp_path / "course")
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    check.write_text(check.read_text(encoding="utf-8") + (
        "\n\n@check(points=0, title=T('스레드', 'threads'))\ndef test_zz_threads():\n    import torch\n"
        "    if torch.get_num_threads() != 1:\n        fail(T('스레드', 'torch ran on {n} threads').format(n=torch.get_num_threads()))\n"),
        encoding="utf-8")
    # Fresh kernels, trusted: no zygote to launch and no cage to find for a run that starts no kernel.
    config = GradeConfig(course=course, data_root=tmp_path / "data", work_dir=tmp_path / "work", kernel="fresh",
                         trusted_code=True)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with GradingSession(config, host=kernel_host, checks=checks) as session:
            result = session.grade_exercise(course.exercises[0], None)  # no notebook: no kernel, the checks still run
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    (threads,) = [c for c in result.checks if c.id.endswith("test_zz_threads")]
    assert threads.status is CheckStatus.PASSED, threads.message


def test_a_failing_check_is_judged_without_pytest_formatting_its_traceback(tmp_path, monkeypatch, grade, checks) -> None:
    import _pytest.nodes
    import _pytest.python

    formatted: list[str] = []

    def recording(real):
        def format_failure(node, *args, **kwargs):
            formatted.append(node.nodeid)
            return real(node, *args, **kwargs)
        return format_failure

    course = make_course(tmp_path / "course")
    for owner, name in ((_pytest.python.Function, "repr_failure"), (_pytest.nodes.Node, "_repr_failure_py")):
        monkeypatch.setattr(owner, name, recording(getattr(owner, name)))
    wrong = grade(course, 7)
    assert wrong["ex::test_answer"] == ("failed", "expected 1, got 7", 1.0)  # the plugin's own words
    missing = checks.run(course, course.exercise("ex"), MissingNotebook("missing"),
                         GradingContext(exercise_id="ex", data_root=tmp_path, work_dir=tmp_path), hidden=False)
    assert {r.status for r in missing} == {CheckStatus.NOT_RUN}  # raised in a fixture's set-up too
    assert formatted == []


SEEDED = '''
import random

import numpy as np
import pytest
import torch
from grader.checks import T, check, fail

DRAWN = []


def draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


@pytest.fixture(scope="module")
def at_the_modules_first_check():
    return draws()


@check(points=1, title=T("하나", "one"))
def test_one(at_the_modules_first_check):
    DRAWN.append(at_the_modules_first_check)
    DRAWN.append(draws())
    random.random(), np.random.rand(3), torch.rand(5)  # more draws, which the next check must not see


@check(points=1, title=T("둘", "two"))
def test_two():
    DRAWN.append(draws())
'''


def test_each_check_starts_from_the_same_seeds_and_the_callers_generators_are_put_back(tmp_path, grade) -> None:
    import random

    import numpy as np
    import torch

    course = make_course(tmp_path / "course")
    check = next((tmp_path / "course" / "checks").glob("test_sessions_*.py"))
    check.write_text(SEEDED, encoding="utf-8")
    random.seed(11), np.random.seed(11), torch.manual_seed(11)
    expected_after = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    random.seed(11), np.random.seed(11), torch.manual_seed(11)
    grade(course, 1)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected_after  # as if nothing ran
    (module,) = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(check)]
    drawn = module.DRAWN
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    from_seed_0 = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    assert drawn == [from_seed_0] * 3  # the module's fixture, then each check once it is set up: from seed 0
