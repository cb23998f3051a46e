"""Similarity of students' own code, per exercise: pairs flagged on evidence, identical code as groups.

For each exercise (see :mod:`.fingerprints` for the tokens and fingerprints):

1. Students whose normalised code is identical become one *group*, compared once, and shown as
   a group rather than as every pair inside it. Their copies do not make code look common.
2. A fingerprint leaves the comparison if it also occurs in the course's student notebook (the
   skeleton and given code everyone shares), or in more than ``max(5, 10%)`` of the class's
   distinct programs (what short exercises converge on). What remains is each student's *own*
   code; the fingerprints that remain are the rare ones.
3. An inverted index from fingerprint to students yields the pairs that share any: only those
   are compared, far fewer than all pairs.
4. A pair's *similarity* is the share of the smaller program's own fingerprints that the other
   has too, ``shared / max(min(own_a, own_b), MIN_OWN)``: dead statements or extra code a copier
   adds do not dilute it, and a few lines can never reach a high one. A pair of similarity
   :data:`LISTED_FROM` or more is *listed* and aligned: its *longest fragment* is the longest run
   of tokens both have in the same order, outside the skeleton, holding some of their own code
   (common code inside it does not break it). Less alike pairs
   count in the histogram only (aligning is what costs).
5. A pair is **flagged** only when every piece of evidence is there: similarity at least
   :data:`THRESHOLD`, a fragment of :data:`MIN_FRAGMENT` tokens, :data:`MIN_SHARED` rare shared
   fingerprints, and :data:`MIN_OWN` fingerprints of own code on each side. Short exercises
   converge on the same few lines: a two-line ``__len__`` never reaches that.

Each pair also lists the rare verbatim tokens both share (a name, a comment's words, a string
only these two wrote) and whether both sit in the same small mistake cluster. The word is
similarity: a signal for a person to read the two programs, never a verdict.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

from grader.insight.fingerprints import NONE, Code, K, hashes, library_names, tokens, winnow

if TYPE_CHECKING:
    from grader.insight.archive import Archive

__all__ = ["Document", "ExerciseSimilarity", "LISTED_FROM", "MIN_FRAGMENT", "MIN_OWN", "MIN_SHARED", "Pair",
           "SMALL_CLUSTER", "THRESHOLD", "compare_exercise", "document"]

THRESHOLD = 0.6
MIN_FRAGMENT = 30  # tokens: about three lines of code in the same order
MIN_SHARED = 8  # rare fingerprints both have
MIN_OWN = 12  # fingerprints of own code, each side (a few lines)
SMALL_CLUSTER = 5  # a mistake shared by at most this many students is itself a hint
MIN_RUN = 2  # k-grams in a row that make a fragment worth colouring
LISTED_FROM = THRESHOLD / 2  # pairs below this similarity count in the histogram only
RARE_TOKEN_STUDENTS = 2  # a verbatim token is rare when at most this many programs have it


@dataclass
class Document:
    """One student's own code for an exercise, tokenised and fingerprinted."""

    student: str
    code: str
    tokens: Code
    kgrams: list[int]  # the hash at every token position
    prints: dict[int, int]  # winnowed fingerprints: hash → position
    identity: str  # the hash of the normalised tokens: equal for identical code
    own: set[int] = field(default_factory=set)  # the rare fingerprints: skeleton and common ones left out


def document(student: str, code: str, library: Iterable[str]) -> Document:
    parsed = tokens(code, library)
    kgrams = hashes(parsed)
    identity = hashlib.sha256(" ".join(parsed.normalised).encode()).hexdigest()
    return Document(student, code, parsed, kgrams, winnow(kgrams), identity)


@dataclass
class Pair:
    exercise_id: str
    a: str
    b: str  # a student of this class, or "TERM/student" of a past term
    similarity: float
    longest: int  # tokens in the longest shared fragment
    shared: int  # rare fingerprints both have
    own_a: int
    own_b: int
    flagged: bool
    rare_tokens: list[str] = field(default_factory=list)
    same_cluster: str | None = None  # the small mistake cluster both are in
    fragments: list[tuple[int, int, int, int]] = field(default_factory=list)  # token ranges [a0, a1) ↔ [b0, b1)
    past_term: str | None = None  # b is from this archived term

    @property
    def key(self) -> str:
        """A file-name-safe name for the pair's page."""
        return hashlib.sha256(f"{self.exercise_id}|{self.a}|{self.b}".encode()).hexdigest()[:16]


@dataclass
class ExerciseSimilarity:
    exercise_id: str
    students: int  # with own code stored
    programs: int  # distinct normalised programs among them
    compared: int  # pairs of programs compared (sharing a rare fingerprint)
    pairs: list[Pair]  # the compared pairs of similarity ≥ LISTED_FROM, most similar first
    groups: list[list[str]]  # students with identical normalised code (two or more)
    documents: dict[str, Document]
    skeleton: set[int]  # the course notebook's k-grams
    common: set[int]  # fingerprints too common in the class to count
    past: dict[str, Document] = field(default_factory=dict)  # "TERM/student" → an archived program compared
    similarities: list[float] = field(default_factory=list)  # of every pair compared, listed or not

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]

    def top_match(self) -> dict[str, Pair]:
        """Each student's most similar partner (``pairs`` come ranked: the first one met)."""
        best: dict[str, Pair] = {}
        for pair in self.pairs:
            for student in (pair.a, pair.b):
                if student in self.documents:
                    best.setdefault(student, pair)
        return best

    def group_size(self, student: str) -> int:
        """How many students share this student's normalised code (1: nobody else)."""
        return next((len(g) for g in self.groups if student in g), 1)

    def group_own(self, group: list[str]) -> int:
        """The fingerprints of a group's program beyond the skeleton (the class may share them)."""
        return len(set(self.documents[group[0]].prints) - self.skeleton)


def _runs(a: Document, b: Document, excluded: set[int]) -> list[tuple[int, int, int]]:
    """Maximal aligned runs of shared k-grams outside ``excluded`` (the skeleton) that hold at
    least one of a's own fingerprints: (end position in a, end position in b, length). Common code
    inside a run does not break it; a run of common code alone is no fragment."""
    where: dict[int, list[int]] = defaultdict(list)
    for j, h in enumerate(b.kgrams):
        if h != NONE and h not in excluded:
            where[h].append(j)
    runs: list[tuple[int, int, int]] = []
    previous: dict[int, int] = {}
    for i, h in enumerate(a.kgrams):
        current = {j: previous.get(j - 1, 0) + 1 for j in where.get(h, ())}
        runs.extend((i - 1, j, n) for j, n in previous.items() if j + 1 not in current)
        previous = current
    runs.extend((len(a.kgrams) - 1, j, n) for j, n in previous.items())
    return [(i, j, n) for i, j, n in runs if any(h in a.own for h in a.kgrams[i - n + 1:i + 1])]


def _fragments(runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Non-overlapping runs, longest first, as token ranges in both programs."""
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    chosen = []
    for end_a, end_b, n in sorted(runs, key=lambda r: -r[2]):
        if n < MIN_RUN:
            break
        span_a, span_b = range(end_a - n + 1, end_a + K), range(end_b - n + 1, end_b + K)
        if taken_a.intersection(span_a) or taken_b.intersection(span_b):
            continue
        taken_a.update(span_a)
        taken_b.update(span_b)
        chosen.append((span_a.start, span_a.stop, span_b.start, span_b.stop))
    return sorted(chosen)


def _rare_verbatim(documents: Iterable[Document], skeleton_words: set[str]) -> Counter:
    counts: Counter = Counter()
    for doc in documents:
        counts.update(doc.tokens.verbatim - skeleton_words)
    return counts


def _similarity(a: Document, b: Document, shared: int) -> float:
    return shared / max(min(len(a.own), len(b.own)), MIN_OWN) if shared else 0.0


def _pair(exercise_id: str, a: Document, b: Document, shared: int, skeleton: set[int], rare: Counter,
          skeleton_words: set[str], cluster_of: Mapping[str, tuple[str, int]], past_term: str | None = None) -> Pair:
    own_a, own_b = len(a.own), len(b.own)
    similarity = _similarity(a, b, shared)
    runs = _runs(a, b, skeleton)
    longest = max((n for _, _, n in runs), default=0)
    longest_tokens = longest + K - 1 if longest else 0
    flagged = (similarity >= THRESHOLD and longest_tokens >= MIN_FRAGMENT and shared >= MIN_SHARED
               and min(own_a, own_b) >= MIN_OWN)
    words = sorted(w for w in (a.tokens.verbatim & b.tokens.verbatim) - skeleton_words
                   if rare[w] <= RARE_TOKEN_STUDENTS)
    cluster = None
    if past_term is None and a.student in cluster_of and cluster_of.get(a.student) == cluster_of.get(b.student) \
            and cluster_of[a.student][1] <= SMALL_CLUSTER:
        cluster = cluster_of[a.student][0]
    return Pair(exercise_id, a.student, b.student if past_term is None else f"{past_term}/{b.student}",
                round(similarity, 4), longest_tokens, shared, own_a, own_b, flagged, words[:12], cluster,
                _fragments(runs), past_term)


def compare_exercise(exercise_id: str, code: Mapping[str, str], skeleton: str, *, library: Iterable[str] = (),
                     cluster_of: Mapping[str, tuple[str, int]] | None = None, archive: Archive | None = None,
                     term: str | None = None) -> ExerciseSimilarity:
    """Compare every student's own code for one exercise (``code``: student → code; ``skeleton``:
    the course notebook's code; ``cluster_of``: student → (mistake cluster id, its size))."""
    library = set(library) | set(library_names(skeleton))
    template = document("", skeleton, library)
    skeleton_kgrams, skeleton_words = set(template.kgrams), template.tokens.verbatim
    documents = {student: document(student, text, library) for student, text in sorted(code.items())}
    by_identity: dict[str, list[str]] = defaultdict(list)
    for student, doc in documents.items():
        by_identity[doc.identity].append(student)
    representatives = {members[0]: members for members in by_identity.values()}
    # Document frequency over distinct programs: copies of one program are one voice.
    frequency: Counter = Counter()
    for student in representatives:
        frequency.update(set(documents[student].prints) - skeleton_kgrams)
    ceiling = max(5, 0.1 * len(representatives))
    common = {h for h, n in frequency.items() if n > ceiling}
    excluded = skeleton_kgrams | common
    for doc in documents.values():
        doc.own = set(doc.prints) - excluded
    index: dict[int, list[str]] = defaultdict(list)
    for student in representatives:
        for h in documents[student].own:
            index[h].append(student)
    shared: Counter = Counter()
    for students in index.values():
        shared.update(combinations(students, 2))  # each list is sorted: pairs come as (a, b), a < b
    rare = _rare_verbatim((documents[s] for s in representatives), skeleton_words)
    cluster_of = cluster_of or {}
    # Aligning two programs is what costs; a pair too unalike to list only counts in the histogram.
    similarities = [_similarity(documents[a], documents[b], n) for (a, b), n in shared.items()]
    pairs = [_pair(exercise_id, documents[a], documents[b], n, skeleton_kgrams, rare, skeleton_words, cluster_of)
             for ((a, b), n), similarity in zip(shared.items(), similarities, strict=True)
             if similarity >= LISTED_FROM]
    past: dict[str, Document] = {}
    if archive is not None:
        for student in representatives:
            doc = documents[student]
            # Fewer shared fingerprints than MIN_SHARED can never flag: not worth loading.
            for past_term, past_student, past_code, n in archive.candidates(exercise_id, doc.own, not_term=term,
                                                                             least=MIN_SHARED):
                key = f"{past_term}/{past_student}"
                earlier = past.get(key)
                if earlier is None:  # an archived program is tokenised once, however many match it
                    earlier = past[key] = document(past_student, past_code, library)
                    earlier.own = set(earlier.prints) - excluded
                similarities.append(_similarity(doc, earlier, n))
                if similarities[-1] >= LISTED_FROM:
                    pairs.append(_pair(exercise_id, doc, earlier, n, skeleton_kgrams, rare, skeleton_words, cluster_of,
                                       past_term))
    pairs.sort(key=lambda p: (-p.flagged, -p.similarity, -p.longest, p.a, p.b))
    # A group that wrote nothing beyond the skeleton (untouched stubs) is no group worth showing;
    # one whose code the class shares is: it says how many converged on exactly the same program.
    groups = sorted((members for members in representatives.values()
                     if len(members) > 1 and set(documents[members[0]].prints) - skeleton_kgrams),
                    key=lambda g: (-len(g), g))
    return ExerciseSimilarity(exercise_id, len(documents), len(representatives), len(shared), pairs, groups,
                              documents, skeleton_kgrams, common, past, similarities)
