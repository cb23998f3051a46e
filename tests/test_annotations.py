"""Mistake clusters on a real gradebook: the class report's section, the exports, and answering a
cluster once, as the class changes around it (students joining it, leaving it, a hand revoke).

The unit of work is a fake that reads each notebook's words (``MISTAKE_A``, ``MISTAKE_B``): the
clusters, the annotations and the reports are real, the checks are not what is under test.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.bulk.run import BulkOptions, grade_class
from grader.cli import cli
from grader.publish.exports import CLUSTER_COLUMNS, MEMBER_COLUMNS, gradescope_results
from grader.store.gradebook import Gradebook
from grader.grades.book import class_grades
from grader.i18n import T
from grader.results import CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, SubmissionResult

from .test_classreport import CHROMIUM, chromium, console_lines

UNIT = "tests.test_annotations:grade_by_words"
EXERCISE = "02_dataset"
# What only instructors may read: a diagnosis quoting a hidden input, and what came back.
SECRET_WHY = T("숨은 입력 4711 에서 한 배치만 읽음", "reads one batch only on hidden input 4711")
SECRET_OBSERVED = "tensor(shape=(4711,), secret)"


def grade_by_words(session, path: Path, *, submission_id: str | None = None) -> SubmissionResult:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(Path(path).rglob("*.ipynb")))
    length = CheckResult(f"{EXERCISE}::test_len_train", T("학습 데이터의 길이", "length of the training split"),
                         CheckStatus.PASSED, 2, 2)
    items = CheckResult(f"{EXERCISE}::test_getitem", T("항목", "items"), CheckStatus.PASSED, 2, 2)
    if "MISTAKE_A" in text:
        length.status, length.points = CheckStatus.FAILED, 0
        length.message = T("`len` 이 10000 입니다.", "`len(train)` returned 10000; expected 50000.")
        length.why, length.observed = SECRET_WHY, SECRET_OBSERVED
    if "MISTAKE_B" in text:
        items.status, items.points = CheckStatus.FAILED, 0
        items.message = T("항목이 틀립니다.", "wrong items")
        items.why = T("채널 순서가 틀림", "wrong channel order")
    result = ExerciseResult(EXERCISE, T("데이터셋", "Dataset"), ExerciseStatus.GRADED, [length, items])
    return SubmissionResult(submission_id or "", [result], grader_version="fake", hidden_checks=True)


def write_student(root: Path, student: str, words: str) -> None:
    folder = root / student
    folder.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {words}\nx = 1\n")])
    nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")


def bulk(source: Path, out: Path, config) -> None:
    grade_class(source, config, BulkOptions(out_dir=out, workers=1, unit=UNIT))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def graded(tmp_path: Path, make_config):
    """Three students with mistake A, one with B, one with both, one right."""
    config = make_config(work_dir=tmp_path / "work")
    source, out = tmp_path / "in", tmp_path / "out"
    for student, words in (("amy", "MISTAKE_A"), ("bo", "MISTAKE_A"), ("cy", "MISTAKE_A"), ("dee", "MISTAKE_B"),
                           ("eun", "MISTAKE_A MISTAKE_B"), ("fay", "all right")):
        write_student(source, student, words)
    bulk(source, out, config)
    return source, out, config


def cluster_list(out: Path) -> list[dict]:
    done = run("clusters", str(out), "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.output)["clusters"]


def reads_one_batch(out: Path) -> dict:
    return next(c for c in cluster_list(out) if c["members"] == ["amy", "bo", "cy"])


def report(out: Path, student: str) -> str:
    return (out / "students" / student / "report.html").read_text(encoding="utf-8")


def test_clusters_command_and_the_class_reports_section(graded) -> None:
    _, out, _ = graded
    found = cluster_list(out)
    assert sorted((c["size"], c["members"][0]) for c in found) == [(1, "dee"), (1, "eun"), (3, "amy")]
    big = reads_one_batch(out)
    assert big["label_en"] == "length of the training split — reads one batch only on hidden input 4711"
    assert big["observed"] == {f"test_len_train: {SECRET_OBSERVED}": 3}
    text = run("clusters", str(out), "--exercise", EXERCISE)
    assert text.exit_code == 0 and big["id"] in text.output and "other: each alone" in text.output
    page = (out / "index.html").read_text(encoding="utf-8")
    section = page.split('id="mistakes"')[1].split('<h2>')[0]
    assert f'id="cluster-{big["id"]}"' in section and "3 students: length of the training split" in section
    assert "(50%)" in section  # 3 of the 6 graded
    assert 'href="students/amy/report.html"' in section
    assert SECRET_OBSERVED in section  # what came back, for the instructor
    assert "other: 2 students alone in their mistake" in section
    unknown = run("clusters", str(out), "--exercise", "99_nope")
    assert unknown.exit_code != 0 and "99_nope" in unknown.output


def test_the_clusters_export_has_exactly_its_files_and_columns(graded) -> None:
    _, out, _ = graded
    done = run("export", str(out), "--format", "clusters")
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (out / "export").iterdir()) == ["cluster_members.csv", "clusters.csv"]
    with open(out / "export" / "clusters.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    with open(out / "export" / "cluster_members.csv", newline="", encoding="utf-8") as f:
        members = list(csv.reader(f))
    assert tuple(table[0]) == CLUSTER_COLUMNS and tuple(members[0]) == MEMBER_COLUMNS
    big = reads_one_batch(out)
    assert [EXERCISE, big["id"], "3", big["label_en"], big["label_ko"], "test_len_train"] in table
    assert sorted(m[0] for m in members[1:] if m[2] == big["id"]) == ["amy", "bo", "cy"]
    assert len(members) - 1 == sum(int(row[2]) for row in table[1:])


def test_an_answer_reaches_every_member_and_follows_the_cluster(graded, course) -> None:
    source, out, config = graded
    big = reads_one_batch(out)
    done = run("annotate", str(out), big["id"][:6], "--comment-ko", "배치 파일 다섯 개를 모두 읽으세요.",
               "--comment-en", "Read all five batch files.", "--points", "1", "--check", "test_len_train", "--by", "ta")
    assert done.exit_code == 0, done.output
    assert "3 students" in done.output and "+1 on test_len_train" in done.output
    for student in ("amy", "bo", "cy"):
        assert "Read all five batch files." in report(out, student)
    assert "Read all five batch files." not in report(out, "dee")

    def points() -> dict[str, float]:
        with Gradebook(out / "gradebook.sqlite") as book:
            return {sid: g.final for sid, g in class_grades(book, course).items()}

    assert points() == {"amy": 3, "bo": 3, "cy": 3, "dee": 2, "eun": 0, "fay": 4}
    # A student who makes the same mistake later gets the same answer; one who fixed it loses it.
    write_student(source, "gus", "MISTAKE_A")
    write_student(source, "bo", "fixed it")
    bulk(source, out, config)
    assert points() == {"amy": 3, "bo": 4, "cy": 3, "dee": 2, "eun": 0, "fay": 4, "gus": 3}
    assert "Read all five batch files." in report(out, "gus")
    assert "Read all five batch files." not in report(out, "bo")
    with Gradebook(out / "gradebook.sqlite") as book:
        made = book.adjustments()
    trail = [(a.student_id, a.kind, a.source, a.reason) for a in made]
    assert ("bo", "revoke", "annotation:1", f"no longer in mistake cluster {big['id']}") in trail
    assert sum(1 for t in trail if t[0] == "gus" and t[1] == "add") == 1
    # An instructor's own revoke of a member's points stays: the next run does not add them again.
    amy = next(a.id for a in made if a.student_id == "amy" and a.kind == "add")
    assert run("override", str(out), "--revoke", str(amy), "--reason", "copied the fix").exit_code == 0
    bulk(source, out, config)
    assert points()["amy"] == 2
    # Everyone leaves: the answer is orphaned, listed, never dropped.
    for student in ("amy", "cy", "gus"):
        write_student(source, student, "fixed it")
    bulk(source, out, config)
    listed = run("clusters", str(out))
    assert "orphaned: annotation #1" in listed.output
    assert json.loads(run("clusters", str(out), "--json").output)["annotations"][0]["orphaned"] is True
    assert "answers whose cluster is now empty" in (out / "index.html").read_text(encoding="utf-8")


def test_bad_answers_are_refused_without_writing(graded) -> None:
    _, out, _ = graded
    big = reads_one_batch(out)
    for args, words in ((["nope123", "--comment-en", "x"], "no mistake cluster"), ([big["id"]], "a comment is required"),
                        ([big["id"], "--comment-en", "x", "--check", "test_getitem"], "not one this cluster fails")):
        done = run("annotate", str(out), *args)
        assert done.exit_code != 0 and words in done.output, done.output
    with Gradebook(out / "gradebook.sqlite") as book:
        assert book.annotations() == [] and book.adjustments() == []


def test_diagnoses_and_observed_values_never_reach_a_student(graded, course) -> None:
    _, out, _ = graded
    big = reads_one_batch(out)
    assert run("annotate", str(out), big["id"], "--comment-en", "See lecture 2-6.").exit_code == 0
    with Gradebook(out / "gradebook.sqlite") as book:
        rows, grades = {r.student_id: r for r in book.rows()}, class_grades(book, course)
    for student in ("amy", "eun"):
        page = report(out, student)
        shown = json.dumps(gradescope_results(rows[student], "en", grades[student]), ensure_ascii=False)
        shown_ko = json.dumps(gradescope_results(rows[student], "ko", grades[student]), ensure_ascii=False)
        for secret in (SECRET_WHY.en, SECRET_WHY.ko, "4711", "wrong channel order", "채널 순서가 틀림"):
            assert secret not in page and secret not in shown and secret not in shown_ko, (student, secret)
    assert "See lecture 2-6." in report(out, "amy")  # the instructor's answer is the student's to read
    assert SECRET_WHY.en in (out / "index.html").read_text(encoding="utf-8")  # the instructor's page has it


@pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium browser (Debian package 'chromium')")
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_common_mistakes_section_opens_clean_in_chromium(graded, tmp_path, lang) -> None:
    _, out, _ = graded
    big = reads_one_batch(out)
    assert run("annotate", str(out), big["id"], "--comment-en", "<b>bold?</b>", "--lang", lang).exit_code == 0
    page = out / "index.html"
    shown = chromium(["--dump-dom", page.as_uri()], tmp_path / "profile")
    assert console_lines(shown.stderr) == [], shown.stderr[-2000:]
    assert f'data-cluster="{big["id"]}"' in shown.stdout and "&lt;b&gt;bold?&lt;/b&gt;" in shown.stdout
    word = "흔한 실수" if lang == "ko" else "Common mistakes"
    assert word in shown.stdout
