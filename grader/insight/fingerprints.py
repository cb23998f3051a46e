"""A student's own code, as normalised tokens and winnowed fingerprints.

*Own code* is what the student wrote: the code cells of their notebook that are not given cells
of the course's student notebook (the setup, data paths and self-check cells, found by
fingerprint as :mod:`grader.intake.tamper` does). Each cell is tokenised with Python's own
:mod:`tokenize`; a cell that does not tokenise keeps the tokens before the error.

Normalising keeps the structure and drops what a copier changes for free: comments, docstrings
and layout go; every name the student chose becomes ``V`` and every literal ``0`` or ``S``;
keywords, operators, attributes (``.permute``), builtins and imported names (``torch``, ``nn``)
stay as written, since they are the library the code uses. Grouping parentheses go too (those
of a call stay): ``(a + b)`` and ``((a + b))`` are the same code. Fingerprints are the hashes of every
``K`` consecutive tokens; winnowing (Schleimer, Wilkerson and Aiken, 2003) keeps the smallest of
every ``W`` consecutive ones, so that any shared run of ``W + K - 1`` tokens is always found. The
hash rolls over each token's BLAKE2b: the same on every machine, run and ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import re
import tokenize
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course.assign import fingerprint
from grader.course.manifest import Course
from grader.intake.notebooks import load_submission
from grader.intake.tamper import given_cells

__all__ = ["Code", "K", "NONE", "W", "hashes", "library_names", "notebook_code", "own_code", "submission_code",
           "tokens", "winnow"]

K = 10  # tokens per fingerprint
W = 5  # fingerprints per winnowing window: every shared run of W + K - 1 = 14 tokens is found
CELL_BREAK = "# grader: next cell"  # between cells in stored code (a comment: no token)
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
            tokenize.ENDMARKER, tokenize.ERRORTOKEN}
_STATEMENT_START = {None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL}
_BUILTINS = frozenset(dir(builtins))
_WORD = re.compile(r"[A-Za-z_\uac00-\ud7a3][\w\uac00-\ud7a3]{3,}")


def own_code(notebook: Any, course_notebook: Path) -> str:
    """The student's own code cells of ``notebook``, joined with :data:`CELL_BREAK` lines."""
    given = {cell.digest for cell in given_cells(course_notebook)} if course_notebook.is_file() else set()
    cells = [c.source for c in notebook.cells if c.cell_type == "code" and c.source.strip()
             and fingerprint(c.source) not in given]
    return f"\n{CELL_BREAK}\n".join(cells)


def notebook_code(course_notebook: Path) -> str:
    """Every code cell of the course's student notebook: the skeleton everyone starts from."""
    import nbformat

    notebook = nbformat.read(course_notebook, as_version=4)
    return f"\n{CELL_BREAK}\n".join(c.source for c in notebook.cells if c.cell_type == "code")


def submission_code(path: Path, course: Course) -> dict[str, str]:
    """exercise id → the student's own code, for every readable notebook of a submission."""
    submission = load_submission(path, course)
    found = {}
    for exercise in course.exercises:
        loaded = submission.notebooks.get(exercise.id)
        if loaded is not None and loaded.notebook is not None:
            found[exercise.id] = own_code(loaded.notebook, course.root / exercise.notebook)
    return found


@dataclass
class Code:
    """Tokens of a piece of code: normalised, as written, and where each one is."""

    normalised: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # character offsets in the code
    verbatim: set[str] = field(default_factory=set)  # chosen names, comment words, string texts
    cells: list[int] = field(default_factory=list)  # where each cell's tokens start


def _imported(tokens: list[tokenize.TokenInfo]) -> set[str]:
    """Every name an import statement in these tokens binds, or mentions."""
    names, inside = set(), False
    for token in tokens:
        if token.type == tokenize.NAME and token.string in ("import", "from") and not inside:
            inside = True
        elif token.type in (tokenize.NEWLINE, tokenize.NL) or token.string == ";":
            inside = False
        elif inside and token.type == tokenize.NAME and token.string not in ("import", "from", "as"):
            names.add(token.string)
    return names


def _raw_tokens(text: str) -> list[tokenize.TokenInfo]:
    """The tokens of one cell, magics (``%``, ``!`` lines) blanked; those before an error if any."""
    # A magic line becomes an empty one: the rows of the tokens after it stay those of the cell.
    lines = ["\n" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines(keepends=True)]
    found: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            found.append(token)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # keep what came before: a cell that stops mid-way is still the student's code
    return found


def library_names(code: str) -> frozenset[str]:
    """The names that stay as written: builtins and whatever the code's imports bind."""
    return _BUILTINS | frozenset(name for cell in code.split(CELL_BREAK) for name in _imported(_raw_tokens(cell)))


def tokens(code: str, library: Iterable[str] = ()) -> Code:
    """The normalised tokens of ``code`` (cells split at :data:`CELL_BREAK`); ``library``: the
    names imported elsewhere (the course's given cells) that stay as written, with the code's own."""
    cells = code.split(CELL_BREAK)
    raws = [_raw_tokens(cell) for cell in cells]
    keep = set(library) | _BUILTINS | {name for raw in raws for name in _imported(raw)}
    result = Code()
    offset = 0
    for cell, raw in zip(cells, raws, strict=True):
        starts = [0]
        for line in cell.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        result.cells.append(len(result.normalised))
        previous_type: int | None = None
        previous_text = ""
        opened: list[bool] = []  # per open parenthesis: kept (a call's) or dropped (grouping)
        following: list[int | None] = [None] * len(raw)  # the next token's type, comments and NLs skipped
        ahead: int | None = None
        for index in range(len(raw) - 1, -1, -1):
            following[index] = ahead
            if raw[index].type not in (tokenize.COMMENT, tokenize.NL):
                ahead = raw[index].type
        for index, token in enumerate(raw):
            kind, text = token.type, token.string
            if kind == tokenize.COMMENT:
                result.verbatim.update(f"#{w.lower()}" for w in _WORD.findall(text))
            if kind in _SKIPPED:
                if kind != tokenize.COMMENT:
                    if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                        previous_type = kind
                continue
            if kind == tokenize.STRING and previous_type in _STATEMENT_START \
                    and following[index] in (tokenize.NEWLINE, tokenize.ENDMARKER, None):
                previous_type = kind
                continue  # a docstring, or a string standing alone as a statement
            if text == "(" and kind == tokenize.OP:
                call = previous_text in (")", "]") or previous_type == tokenize.STRING or (
                    previous_type == tokenize.NAME and not keyword.iskeyword(previous_text))
                opened.append(call)
                if not call:
                    previous_type, previous_text = kind, text
                    continue
            elif text == ")" and kind == tokenize.OP and opened and not opened.pop():
                previous_type, previous_text = kind, text
                continue
            if kind == tokenize.NAME:
                if keyword.iskeyword(text) or previous_text == "." or text in keep:
                    word = text
                else:
                    word = "V"
                    result.verbatim.add(text)
            elif kind == tokenize.NUMBER:
                word = "0"
            elif kind == tokenize.STRING:
                word = "S"
                if len(text) > 6:
                    result.verbatim.add(text.strip("rbfRBF\"'"))
            else:
                word = text
            (row, col), (end_row, end_col) = token.start, token.end
            result.normalised.append(word)
            end = offset + starts[min(end_row, len(starts)) - 1] + end_col
            result.spans.append((offset + starts[row - 1] + col, end))
            previous_type, previous_text = kind, text
        offset += len(cell) + len(CELL_BREAK)
    return result


NONE = -1  # no fingerprint here: the run would cross from one cell into the next


_PRIME = (1 << 61) - 1  # the rolling hash's modulus (a Mersenne prime)
_BASE = 1_000_003
_IDS: dict[str, int] = {}  # a token's text → its stable 64-bit id (BLAKE2b, never Python's hash)


def _token_id(text: str) -> int:
    found = _IDS.get(text)
    if found is None:
        found = _IDS[text] = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") % _PRIME
    return found


def hashes(code: Code | list[str], k: int = K) -> list[int]:
    """The hash of every run of ``k`` tokens, in order (empty when there are fewer): a polynomial
    rolling hash of the tokens' stable ids. A run that crosses a cell boundary is :data:`NONE`:
    cells are moved about freely, so runs across them mean nothing."""
    normalised = code.normalised if isinstance(code, Code) else code
    breaks = sorted(code.cells[1:]) if isinstance(code, Code) else []
    ids = [_token_id(t) for t in normalised]
    if len(ids) < k:
        return []
    top = pow(_BASE, k - 1, _PRIME)
    value = 0
    for i in range(k):
        value = (value * _BASE + ids[i]) % _PRIME
    found = [value]
    for i in range(k, len(ids)):
        value = ((value - ids[i - k] * top) * _BASE + ids[i]) % _PRIME
        found.append(value)
    for b in breaks:  # the runs that start before a cell boundary and end after it
        for i in range(max(0, b - k + 1), min(b, len(found))):
            found[i] = NONE
    return found


def winnow(values: list[int], w: int = W) -> dict[int, int]:
    """The fingerprints winnowing keeps: hash → its first position kept (code shorter than one
    window keeps its smallest). The rightmost minimum of each window, as the paper chooses."""
    kept: dict[int, int] = {}
    if not values:
        return kept
    window: deque[int] = deque()  # positions of increasing values: the window's minimum first
    for i, h in enumerate(values):
        if h != NONE:
            while window and values[window[-1]] >= h:
                window.pop()
            window.append(i)
        while window and window[0] <= i - w:
            window.popleft()
        if i >= min(w, len(values)) - 1 and window:
            kept.setdefault(values[window[0]], window[0])
    return kept
