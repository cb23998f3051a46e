"""The class report (``OUT/index.html``): score histogram, per-check pass rates, the common
mistakes per exercise, the students, the failures.

Built from gradebook rows only, so it can be regenerated at any time without grading. One
self-contained page: inline CSS, inline SVG, a little inline JavaScript for sorting and
filtering; no network. Student ids, file names and error texts are untrusted: the template is
autoescaped and they reach the script only through escaped ``data-`` attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.clock import utc_stamp
from grader.course.manifest import Course
from grader.grades.final import FinalGrade
from grader.i18n import T, points_text, ui
from grader.insight.annotations import Found, notes, orphaned
from grader.insight.mistakes import Cluster, clusters
from grader.intake.extract import safe_name
from grader.publish.report import SUBMISSION_COLOURS, environment
from grader.results import CheckStatus, ExerciseStatus
from grader.store.gradebook import Gradebook
from grader.store.records import Annotation, Row, Status

__all__ = ["ClassSummary", "MistakeSection", "mistake_sections", "render_class_report", "student_report_path",
           "summarise", "write_class_report", "write_reports"]

BINS = 10
WORDS: dict[str, T] = {
    "title": T("반 전체 채점 결과", "Class grading report"),
    "students": T("학생 수", "students"),
    "mean": T("평균", "mean"),
    "median": T("중앙값", "median"),
    "histogram": T("점수 분포", "Score distribution"),
    "rates": T("검사별 통과율 (어려운 것부터)", "Pass rate per check (hardest first)"),
    "table": T("학생별 결과", "Students"),
    "problems": T("오류, 시간 초과, 읽을 수 없는 제출물", "Submissions that errored, timed out or could not be read"),
    "student": T("학생", "student"),
    "score": T("점수", "score"),
    "percent": T("백분율", "percent"),
    "status": T("상태", "status"),
    "late": T("지각", "late"),
    "report": T("보고서", "report"),
    "check": T("검사", "check"),
    "rate": T("통과율", "pass rate"),
    "filter": T("학생 또는 내용 검색…", "Filter students…"),
    "all": T("모든 상태", "all statuses"),
    "none": T("없음", "none"),
    "detail": T("내용", "details"),
    "generated": T("생성 시각", "generated"),
    "sort_hint": T("열 제목을 누르면 정렬됩니다.", "Click a column heading to sort."),
    "adjusted": T("교수자 조정", "adjusted"),
    "stale": T("이전 제출물에 대한 조정", "stale adjustments"),
    "auto": T("자동 점수", "automatic"),
    "mistakes": T("흔한 실수", "Common mistakes"),
    "mistakes_hint": T("검사가 알아본 실수가 같은 학생들의 묶음입니다. "
                       "'grader annotate OUT 묶음ID' 로 한 번에 답할 수 있습니다.",
                       "Students whose checks recognised the same mistakes. Answer a cluster once with "
                       "'grader annotate OUT CLUSTER_ID'."),
    "mistake": T("실수", "mistake"),
    "checks": T("실패한 검사", "failing checks"),
    "examples": T("예", "examples"),
    "observed": T("돌려준 값", "what came back"),
    "other": T("기타", "other"),
    "other_students": T("명은 각자 다른 실수 (혼자인 묶음)", "students alone in their mistake"),
    "answered": T("답변", "answered"),
    "orphaned": T("묶음이 사라진 답변 (지금 아무도 없음)", "answers whose cluster is now empty"),
    "no_mistakes": T("모두 통과했습니다.", "every check passed"),
}


@dataclass
class StudentLine:
    id: str
    status: str
    score: float
    max_score: float
    percent: float
    late: bool
    exercises: dict[str, str]  # exercise id → "score/max" or a status word
    href: str | None
    notes: list[str] = field(default_factory=list)  # why it errored / what was not graded
    name: str = ""  # the LMS's name for the student, where the layout gave one
    auto: float = 0.0  # the automatic score (``score`` is the final one)
    adjusted: bool = False
    stale: bool = False
    public_only: bool = False  # a public check passed on the public data only


@dataclass
class CheckRate:
    exercise_id: str
    check_id: str
    title: str
    passed: int
    total: int
    public_only: int = 0  # passed on the public data only: hard-coded, or not general

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class ClassSummary:
    students: list[StudentLine]
    histogram: list[int]  # BINS counts of percent scores (the last bin includes 100)
    rates: list[CheckRate]  # hardest first
    problems: list[StudentLine]
    mean: float
    median: float


def _exercise_cell(row: Row, exercise_id: str, lang: str, grade: FinalGrade | None) -> str:
    """An exercise's cell: its final score (the one every export writes), "EX" where excused."""
    final = next((e for e in grade.exercises if e.exercise_id == exercise_id), None) if grade else None
    if final is not None and final.excused:
        return "EX"
    if row.result is None:
        return "—"
    for exercise in row.result.exercises:
        if exercise.exercise_id == exercise_id:
            if exercise.status in (ExerciseStatus.MISSING, ExerciseStatus.INVALID) and not (final and final.applied):
                return ui(exercise.status.value, lang)
            score, possible = (final.final, final.possible) if final else (exercise.score, exercise.max_score)
            return f"{points_text(score)}/{points_text(possible)}"
    return "—"


def _notes(row: Row, lang: str) -> list[str]:
    notes = [row.error] if row.error else []
    if row.result is not None:
        notes += [p(lang) for p in row.result.problems]
        for exercise in row.result.exercises:
            if exercise.status not in (ExerciseStatus.GRADED,):
                notes.append(f"{exercise.exercise_id}: {exercise.status.value}")
            notes += [f"{exercise.exercise_id}: {p(lang)}" for p in exercise.problems]
    return notes


def summarise(rows: list[Row], course: Course, lang: str = "en",
              report_href: Callable[[str], str] | None = None,
              grades: Mapping[str, FinalGrade] | None = None) -> ClassSummary:
    """The numbers the class report shows, from gradebook rows and their final grades."""
    students, percents = [], []
    counts: dict[tuple[str, str], list] = {}
    for row in rows:
        grade = (grades or {}).get(row.student_id)
        score, possible = (grade.final, grade.possible) if grade else (row.score, row.max_score)
        percent = 100 * score / possible if possible else 0.0
        percents.append(percent)
        students.append(StudentLine(
            id=row.student_id, status=row.status.value, score=score, max_score=possible,
            percent=round(percent, 1), late=bool(row.info.late) or bool(grade and grade.late),
            exercises={e.id: _exercise_cell(row, e.id, lang, grade) for e in course.exercises},
            href=report_href(row.student_id) if report_href and row.result is not None else None,
            notes=_notes(row, lang), name=row.info.name or "", auto=row.score,
            adjusted=bool(grade and grade.applied), stale=bool(grade and grade.stale),
            public_only=any(c.status is CheckStatus.PUBLIC_ONLY for e in (row.result.exercises if row.result else [])
                            for c in e.checks)))
        if row.result is None:
            continue
        for exercise in row.result.exercises:
            for check in exercise.checks:
                if check.counts:
                    entry = counts.setdefault((exercise.exercise_id, check.id), [check.title(lang), 0, 0, 0])
                    entry[1] += check.status is CheckStatus.PASSED
                    entry[2] += 1
                    entry[3] += check.status is CheckStatus.PUBLIC_ONLY
    histogram = [0] * BINS
    for percent in percents:
        histogram[min(BINS - 1, int(percent // (100 / BINS)))] += 1
    rates = sorted((CheckRate(ex, cid, title, passed, total, only) for (ex, cid), (title, passed, total, only)
                    in counts.items()), key=lambda r: (r.rate, r.exercise_id, r.check_id))
    ordered = sorted(percents)
    middle = len(ordered) // 2
    median = (ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2) if ordered else 0.0
    return ClassSummary(students=students, histogram=histogram, rates=rates,
                        problems=[s for s in students if s.status != Status.GRADED.value],
                        mean=sum(percents) / len(percents) if percents else 0.0, median=median)


@dataclass
class MistakeSection:
    """One exercise's common mistakes: the clusters of two or more, the rest folded into "other"."""

    exercise_id: str
    title: str
    graded: int  # students with a graded notebook for it: the share's denominator
    clusters: list[Cluster]
    alone: int  # students alone in their cluster
    answers: dict[str, list[Annotation]]  # cluster id → its annotations
    orphaned: list[Annotation]

    def share(self, cluster: Cluster) -> float:
        return 100 * cluster.size / self.graded if self.graded else 0.0


def mistake_sections(rows: list[Row], course: Course, lang: str = "en", *,
                     found: Mapping[str, list[Cluster]] | None = None,
                     annotations: Sequence[Annotation] = ()) -> list[MistakeSection]:
    """Every exercise's common mistakes, from the gradebook rows (``found``: clusters already computed)."""
    found = found if found is not None else clusters({r.student_id: r.result for r in rows}, course)
    lost = orphaned(annotations, found)
    sections = []
    for exercise in course.exercises:
        every = found.get(exercise.id, [])
        graded = sum(1 for r in rows if r.result is not None for e in r.result.exercises
                     if e.exercise_id == exercise.id
                     and e.status not in (ExerciseStatus.MISSING, ExerciseStatus.INVALID))
        answers: dict[str, list[Annotation]] = {}
        for a in annotations:
            if a.exercise_id == exercise.id:
                answers.setdefault(a.cluster_id, []).append(a)
        sections.append(MistakeSection(
            exercise.id, exercise.title(lang), graded, [c for c in every if c.size > 1],
            sum(c.size for c in every if c.size == 1), answers, [a for a in lost if a.exercise_id == exercise.id]))
    return sections


def render_class_report(rows: list[Row], course: Course, *, lang: str = "en",
                        report_href: Callable[[str], str] | None = None,
                        grades: Mapping[str, FinalGrade] | None = None,
                        mistakes: list[MistakeSection] | None = None) -> str:
    summary = summarise(rows, course, lang, report_href, grades)
    tallest = max(summary.histogram + [1])
    return environment().get_template("class.html.j2").render(
        s=summary, course=course, lang=lang, w=lambda key: word(key, lang), tallest=tallest, bins=BINS,
        status_colour=SUBMISSION_COLOURS, generated=utc_stamp(),
        statuses=[s.value for s in Status],
        mistakes=mistakes if mistakes is not None else mistake_sections(rows, course, lang),
        href=report_href or _no_report)


def _no_report(student_id: str) -> str | None:
    return None


def word(key: str, lang: str) -> str:
    """A word of the class report, or an engine word (a status's)."""
    return WORDS[key](lang) if key in WORDS else ui(key, lang)


def write_class_report(rows: list[Row], path: Path, course: Course, *, lang: str = "en",
                       report_href: Callable[[str], str] | None = None,
                       grades: Mapping[str, FinalGrade] | None = None,
                       mistakes: list[MistakeSection] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_class_report(rows, course, lang=lang, report_href=report_href, grades=grades,
                                        mistakes=mistakes), encoding="utf-8")
    return path


def student_report_path(out_dir: Path, student_id: str) -> Path:
    return out_dir / "students" / safe_name(student_id) / "report.html"


def write_reports(out: Path, book: Gradebook, course: Course, *, lang: str = "en",
                  students: set[str] | None = None, rows: list[Row] | None = None, found: Found | None = None) -> Path:
    """The student reports (every one, or those of ``students`` and any still missing), then the
    class report, with final grades: from the gradebook alone, whenever an input changed.
    ``rows`` and ``found`` (the mistake clusters): where the caller has them from this gradebook."""
    from grader.grades.book import class_grades
    from grader.publish.report import write_student_report

    rows = book.rows() if rows is None else rows
    grades = class_grades(book, course, rows)
    found = clusters({r.student_id: r.result for r in rows}, course) if found is None else found
    annotations = book.annotations()
    answered = notes(annotations, found)
    # A student leaves a cluster only by being graded again; one answered now may not have been.
    wanted = None if students is None else set(students) | set(answered)
    for row in rows:
        report = student_report_path(out, row.student_id)
        if row.result is not None and (wanted is None or row.student_id in wanted or not report.exists()):
            write_student_report(row.result, report, lang, grades.get(row.student_id), answered.get(row.student_id))
    return write_class_report(rows, out / "index.html", course, lang=lang, grades=grades,
                              report_href=lambda sid: str(student_report_path(out, sid).relative_to(out)),
                              mistakes=mistake_sections(rows, course, lang, found=found, annotations=annotations))
