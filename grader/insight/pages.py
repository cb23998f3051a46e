"""The similarity report: ``OUT/similarity/index.html``, a page per pair worth reading, and
``export/similarity.csv``.

Self-contained pages (inline CSS and SVG, no script, no network) rendered by the reports' own
autoescaping jinja2 environment: the students' code is shown as text, never markup. A pair's page
shows the two programs side by side with each shared fragment in its own colour.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.clock import utc_stamp
from grader.course.manifest import Course
from grader.i18n import T
from grader.insight.similarity import MIN_FRAGMENT, MIN_OWN, MIN_SHARED, THRESHOLD, Document, ExerciseSimilarity, Pair
from grader.publish.report import environment

__all__ = ["CSV_COLUMNS", "write_csv", "write_pages"]

CSV_COLUMNS = ("exercise", "student_a", "student_b", "similarity", "longest_fragment", "flagged")
BINS = 20
LISTED = 200  # pairs listed per exercise on the index (all of them are in the CSV)
COLOURS = ("#ffd8b5", "#c8e1ff", "#d8f3dc", "#f5d0fe", "#fff3b0", "#ffd6e0", "#d0f4f4", "#e8e0ff")
WORDS: dict[str, T] = {
    "title": T("코드 유사도", "Code similarity"),
    "intro": T("학생이 직접 쓴 코드만 비교합니다: 주어진 셀, 뼈대 코드, 반의 많은 학생이 공유하는 코드는 뺐습니다. "
               "표시는 사람이 두 코드를 읽어 볼 신호일 뿐, 판정이 아닙니다.",
               "Only what students wrote is compared: given cells, the skeleton and code much of the class "
               "shares are left out. A flag is a signal for a person to read both programs, not a verdict."),
    "rule": T("표시 조건: 유사도 ≥ {t}, 공통 조각 ≥ {f} 토큰, 공유한 드문 지문 ≥ {s}, 양쪽 자기 코드 지문 ≥ {o}.",
              "Flagged when similarity ≥ {t}, a shared fragment ≥ {f} tokens, ≥ {s} rare shared fingerprints, "
              "and ≥ {o} fingerprints of own code on each side."),
    "students": T("학생", "students"), "programs": T("서로 다른 프로그램", "distinct programs"),
    "compared": T("비교한 쌍", "pairs compared"), "all_pairs": T("모든 쌍이라면", "all pairs would be"),
    "flagged": T("표시된 쌍", "flagged pairs"),
    "histogram": T("유사도 분포 (비교한 쌍)", "Similarity of the pairs compared"),
    "threshold": T("기준", "threshold"), "pairs": T("유사한 쌍", "Most similar pairs"),
    "a": T("학생 A", "student A"), "b": T("학생 B", "student B"), "similarity": T("유사도", "similarity"),
    "longest": T("가장 긴 공통 조각 (토큰)", "longest fragment (tokens)"),
    "shared": T("공유한 드문 지문", "rare shared"),
    "rare_tokens": T("둘만 쓴 토큰", "tokens only these two wrote"),
    "cluster": T("같은 작은 실수 묶음", "same small mistake cluster"),
    "page": T("나란히 보기", "side by side"),
    "groups": T("정규화한 코드가 똑같은 학생들", "Students with identical normalised code"),
    "own": T("자기 코드 지문", "own fingerprints"), "short": T("짧아서 근거가 되지 않음", "too short to be evidence"),
    "top": T("학생별 가장 비슷한 상대", "Each student's top match"), "none": T("없음", "none"),
    "missing": T("저장된 코드가 없는 학생 (이 버전 이전에 채점됨: grader bulk --force 로 다시 채점)",
                 "students without stored code (graded before this grader version: regrade with grader bulk --force)"),
    "past": T("지난 학기", "past term"), "is_flagged": T("표시됨", "flagged"),
    "same_code": T("같은 코드의 학생 {n}명 더", "and {n} more with the same code"),
    "back": T("목록으로", "back to the list"), "yes": T("예", "yes"),
    "generated": T("생성 시각", "generated"), "more": T("나머지는 export/similarity.csv 에 있습니다.",
                                                    "The rest are in export/similarity.csv."),
}


@dataclass
class Segment:
    text: str
    colour: str | None


def _segments(doc: Document, ranges: list[tuple[int, int]]) -> list[Segment]:
    """The code cut into plain and coloured pieces, one colour per shared fragment."""
    marks = []
    for number, (first, stop) in enumerate(ranges):
        if first < len(doc.tokens.spans) and stop > first:
            start, end = doc.tokens.spans[first][0], doc.tokens.spans[min(stop, len(doc.tokens.spans)) - 1][1]
            marks.append((start, end, COLOURS[number % len(COLOURS)]))
    pieces, at = [], 0
    for start, end, colour in sorted(marks):
        if start < at:
            continue
        pieces.append(Segment(doc.code[at:start], None))
        pieces.append(Segment(doc.code[start:end], colour))
        at = end
    pieces.append(Segment(doc.code[at:], None))
    return [p for p in pieces if p.text]


def _histogram(result: ExerciseSimilarity) -> list[int]:
    counts = [0] * BINS
    for similarity in result.similarities:
        counts[min(BINS - 1, int(similarity * BINS))] += 1
    return counts


def _has_page(pair: Pair) -> bool:
    return bool(pair.fragments)


def write_pages(results: list[ExerciseSimilarity], course: Course, out: Path, *, lang: str = "en",
                missing: dict[str, list[str]] | None = None,
                report_href: Callable[[str], str | None] | None = None) -> Path:
    """Write ``out/similarity/``: the index and a page per pair that has shared fragments."""
    folder = out / "similarity"
    (folder / "pairs").mkdir(parents=True, exist_ok=True)
    env = environment()
    w = lambda key: WORDS[key](lang)  # noqa: E731 - the templates' word lookup
    titles = {e.id: e.title(lang) for e in course.exercises}
    for result in results:
        for pair in result.pairs:
            if not _has_page(pair):
                continue
            a = result.documents[pair.a]
            b = result.past[pair.b] if pair.past_term else result.documents[pair.b]
            html = env.get_template("similarity_pair.html.j2").render(
                w=w, lang=lang, pair=pair, title=titles.get(pair.exercise_id, pair.exercise_id),
                left=_segments(a, [(f[0], f[1]) for f in pair.fragments]),
                right=_segments(b, [(f[2], f[3]) for f in pair.fragments]))
            (folder / "pairs" / f"{pair.key}.html").write_text(html, encoding="utf-8")
    index = folder / "index.html"
    index.write_text(env.get_template("similarity_index.html.j2").render(
        w=w, lang=lang, results=results, titles=titles, histogram=_histogram, bins=BINS, listed=LISTED,
        has_page=_has_page, missing=missing or {}, href=report_href or (lambda sid: None),
        threshold=THRESHOLD, min_own=MIN_OWN,
        rule=WORDS["rule"].format(t=THRESHOLD, f=MIN_FRAGMENT, s=MIN_SHARED, o=MIN_OWN)(lang),
        generated=utc_stamp()), encoding="utf-8")
    return index


def write_csv(results: list[ExerciseSimilarity], path: Path) -> Path:
    """``export/similarity.csv``: every pair listed (similarity ≥ ``LISTED_FROM``), with exactly
    :data:`CSV_COLUMNS`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for result in results:
            for pair in result.pairs:
                writer.writerow([pair.exercise_id, pair.a, pair.b, f"{pair.similarity:.4f}", pair.longest,
                                 "yes" if pair.flagged else "no"])
    return path
