"""Similarity of students' own code: what must be flagged, what must never be, and where it shows.

The class is built like the sample class: every student is the reference solution's own cells
plus one golden case, so the reference code is what the whole class shares. A student with a
solution of their own (``DISTINCT``) is copied by another (:func:`tests.planted.disguised`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.errors import GraderError
from grader.store.gradebook import Gradebook
from grader.insight.archive import Archive
from grader.insight.fingerprints import CELL_BREAK, hashes, notebook_code, own_code, tokens, winnow
from grader.insight.pages import CSV_COLUMNS, write_csv, write_pages
from grader.insight.similarity import MIN_OWN, THRESHOLD, compare_exercise

from .planted import disguised
from .test_classreport import CHROMIUM, chromium, console_lines

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
EXERCISE = "06_training"
# A whole solution of one student's own making: other names, other structure than the reference.
DISTINCT = '''
def accuracy(preds, targets):
    hits = 0
    for guess, truth in zip(preds.tolist(), targets.tolist()):
        if guess == truth:
            hits = hits + 1
    return hits / max(len(targets), 1)


def precision_recall_f1(preds, targets, num_classes):
    table = torch.zeros(num_classes, num_classes)
    for guess, truth in zip(preds.tolist(), targets.tolist()):
        table[truth, guess] += 1
    diagonal = table.diagonal()
    column_sums, row_sums = table.sum(dim=0), table.sum(dim=1)
    prec = torch.where(column_sums > 0, diagonal / column_sums.clamp(min=1), torch.zeros_like(diagonal))
    rec = torch.where(row_sums > 0, diagonal / row_sums.clamp(min=1), torch.zeros_like(diagonal))
    both = prec + rec
    scores = torch.where(both > 0, 2 * prec * rec / both.clamp(min=1e-12), torch.zeros_like(both))
    return float(prec.mean()), float(rec.mean()), float(scores.mean())


def cross_entropy(logits, targets):
    peak = logits.max(dim=1, keepdim=True).values
    moved = logits - peak
    normaliser = moved.exp().sum(dim=1).log()
    chosen = moved.gather(1, targets.view(-1, 1)).squeeze(1)
    return (normaliser - chosen).mean()


def train_one_epoch(model, loader, loss_fn, optimizer, device="cpu"):
    model.train()
    running, count = 0.0, 0
    for batch_x, batch_y in loader:
        batch_x, batch_y = batch_x.to(device), batch_y.to(device)
        optimizer.zero_grad()
        value = loss_fn(model(batch_x), batch_y)
        value.backward()
        optimizer.step()
        running += value.item() * batch_y.shape[0]
        count += batch_y.shape[0]
    return running / count


def evaluate(model, loader, loss_fn, device="cpu"):
    previous = model.training
    model.eval()
    running, hits, count = 0.0, 0, 0
    with torch.no_grad():
        for batch_x, batch_y in loader:
            batch_x, batch_y = batch_x.to(device), batch_y.to(device)
            scores = model(batch_x)
            running += loss_fn(scores, batch_y).item() * batch_y.shape[0]
            hits += (scores.argmax(dim=1) == batch_y).sum().item()
            count += batch_y.shape[0]
    model.train(previous)
    return {"loss": running / count, "accuracy": hits / count}
'''


def reference_code(course, exercise_id: str) -> str:
    exercise = course.exercise(exercise_id)
    return own_code(nbformat.read(exercise.solution, as_version=4), course.root / exercise.notebook)


def skeleton(course, exercise_id: str) -> str:
    return notebook_code(course.root / course.exercise(exercise_id).notebook)


def golden_class(course, exercise_id: str) -> dict[str, str]:
    """A student per golden case: the reference's own cells, then the case as a cell of its own."""
    reference = reference_code(course, exercise_id)
    return {case.stem: f"{reference}\n{CELL_BREAK}\n{case.read_text(encoding='utf-8')}"
            for case in sorted((GOLDEN / exercise_id).glob("*.py"))}


def test_the_given_cells_and_the_self_check_are_not_the_students_code(course) -> None:
    exercise = course.exercise(EXERCISE)
    notebook = nbformat.read(exercise.solution, as_version=4)
    mine = own_code(notebook, course.root / exercise.notebook)
    assert "run_selfcheck" not in mine  # the self-check cell is given
    assert "def train_one_epoch" in mine
    given = [c.source for c in nbformat.read(course.root / exercise.notebook, as_version=4).cells
             if c.cell_type == "code" and "YOUR CODE HERE" not in c.source and c.source.strip()]
    assert given and not any(cell in mine for cell in given)


def test_normalising_drops_what_a_copier_changes_and_keeps_the_library() -> None:
    one = tokens('def f(images):\n    """Doc."""\n    # scale\n    return torch.stack([x / 255 for x in images])\n')
    two = tokens("def g(batch):\n    return torch.stack([item / 256.0 for item in batch])  # other words\n")
    assert one.normalised == two.normalised
    assert "stack" in one.normalised and "torch" not in one.normalised  # torch was not imported here
    imported = tokens("import torch\nx = torch.zeros(3)\n")
    assert imported.normalised[:2] == ["import", "torch"] and "torch" in imported.normalised[2:]
    broken = tokens("def f(:\n    return (1,\n")  # a cell that does not parse still has tokens
    assert broken.normalised[:2] == ["def", "V"]
    assert winnow(hashes(one.normalised)) == winnow(hashes(two.normalised))


def test_grouping_parentheses_vanish_and_a_calls_stay() -> None:
    plain = tokens("x = a + b * len(c) if d else (e, f)\n")
    wrapped = tokens("x = ((a + (b * (len(c))))) if (d) else ((e, f))\n")
    assert plain.normalised == wrapped.normalised
    assert plain.normalised.count("(") == 1  # len's call; the tuple's grouping went
    assert tokens("f(a)(b)\n").normalised.count("(") == 2  # a call of a call's result


def test_common_code_inside_a_copied_run_does_not_break_it(course) -> None:
    # Every student has the common line; only the copier and the author have the rare ones around it.
    common = "    total = sum(len(str(item)) for item in items)\n"
    rare = ["    weird = [(k ** 3) % 7 for k in range(13) if k & 1]\n",
            "    other = sorted(set(weird), key=lambda z: -z)[:5]\n",
            "    return {str(i): w for i, w in enumerate(other)}, total\n"]
    author = "def helper(items):\n" + rare[0] + common + rare[1] + rare[2]
    code = {f"s{n:02d}": f"def helper(items):\n{common}    return total{' + total' * n}\n" for n in range(30)}
    code["author"], code["copier"] = author, author.replace("weird", "odd") + "\n\ndef extra():\n    pass\n"
    result = compare_exercise(EXERCISE, code, skeleton(course, EXERCISE))
    common_prints = set(result.documents["s00"].prints)
    assert common_prints & result.common  # the shared line is common code, and does not count
    pair = next(p for p in result.pairs if {p.a, p.b} == {"author", "copier"})
    whole = len(tokens(author).normalised) - len(tokens("def helper(items):\n").normalised)
    assert pair.longest >= whole - 1, (pair.longest, whole)  # one fragment across the common line


def test_a_planted_copy_is_its_sources_top_match_and_is_flagged(course) -> None:
    code = golden_class(course, EXERCISE)
    reference = reference_code(course, EXERCISE)
    code["author"] = f"{reference}\n{CELL_BREAK}\n{DISTINCT}"
    code["copier"] = disguised(DISTINCT)
    assert "hits" not in code["copier"] and "unused_" in code["copier"] and "#" in code["copier"]
    result = compare_exercise(EXERCISE, code, skeleton(course, EXERCISE))
    top = result.top_match()
    pair = top["author"]
    assert {pair.a, pair.b} == {"author", "copier"} and pair.flagged, pair
    assert {top["copier"].a, top["copier"].b} == {"author", "copier"}
    assert pair.longest >= 30 and pair.shared >= 8
    flagged = {frozenset((p.a, p.b)) for p in result.flagged}
    assert all("author" in f or "copier" in f for f in flagged), flagged
    assert result.compared < result.programs * (result.programs - 1) // 2  # an index, not all pairs


def test_one_line_functions_formatted_differently_are_never_flagged(course) -> None:
    writers = {
        "a": "def accuracy(preds, targets):\n    return (preds == targets).float().mean().item()\n",
        "b": "def accuracy(p, t):\n    return (p == t).float().mean().item()   # one line\n",
        "c": "def accuracy(preds, targets):\n    return (\n        (preds == targets)\n        .float()\n        .mean()\n        .item()\n    )\n",
        "d": "def accuracy(x, y):\n    '''Share of equal entries.'''\n    return (x == y).float().mean().item()\n",
        "e": "def accuracy(preds, targets):\n    return float((preds == targets).sum()) / len(targets)\n",
        "f": "def accuracy(a, b):\n    return float((a == b).sum()) / len(b)\n",
        # the same line, and one more of its own: a pair, not a group
        "g": "def accuracy(a, b):\n    n = len(b)\n    return float((a == b).sum()) / len(b)\n",
    }
    result = compare_exercise(EXERCISE, writers, skeleton(course, EXERCISE))
    assert result.groups == [["a", "b", "c", "d"], ["e", "f"]]  # formatting and names do not count
    assert all(result.group_own(g) < MIN_OWN for g in result.groups)
    # g is compared with the others, and scores low: a few shared prints over the MIN_OWN floor
    assert result.compared >= 1 and max(result.similarities) <= 4 / MIN_OWN < THRESHOLD, result.similarities
    assert result.flagged == []


def test_ten_identical_solutions_are_one_group_and_no_flagged_pair(course) -> None:
    reference = reference_code(course, EXERCISE)
    code = {f"same{n}": reference for n in range(10)}
    code.update({f"own-{case.stem}": f"{reference}\n{CELL_BREAK}\n{case.read_text(encoding='utf-8')}"
                 for case in sorted((GOLDEN / EXERCISE).glob("prf_*.py"))})
    code["own-distinct"] = DISTINCT
    result = compare_exercise(EXERCISE, code, skeleton(course, EXERCISE))
    assert [sorted(g) for g in result.groups] == [sorted(f"same{n}" for n in range(10))]
    assert not any(p.a.startswith("same") and p.b.startswith("same") for p in result.pairs)
    assert result.flagged == []


def test_an_untouched_stub_scores_zero_against_everyone(course) -> None:
    code = golden_class(course, EXERCISE)
    code["stub"] = own_code(nbformat.read(course.root / course.exercise(EXERCISE).notebook, as_version=4),
                            course.root / course.exercise(EXERCISE).notebook)
    assert "NotImplementedError" in code["stub"]
    result = compare_exercise(EXERCISE, code, skeleton(course, EXERCISE))
    assert result.documents["stub"].own == set()
    assert not [p for p in result.pairs if "stub" in (p.a, p.b) and p.similarity > 0]
    assert result.groups == [] or all("stub" not in g for g in result.groups)


def test_a_copy_is_found_in_a_past_terms_archive(course, tmp_path) -> None:
    reference = reference_code(course, EXERCISE)
    everyone = golden_class(course, EXERCISE)
    # Two terms, two halves of the golden cases: only the copy may match across them.
    last_year = {s: c for s, c in everyone.items() if s.startswith(("ce_", "eval_"))}
    last_year["author"] = f"{reference}\n{CELL_BREAK}\n{DISTINCT}"
    path = tmp_path / "terms.sqlite"
    with Archive(path) as archive:
        before = compare_exercise(EXERCISE, last_year, skeleton(course, EXERCISE), archive=archive, term="2025-fall")
        archive.store("2025-fall", EXERCISE, {s: (d.code, set(d.prints) - before.skeleton)
                                             for s, d in before.documents.items()})
    this_year = {s: c for s, c in everyone.items() if s not in last_year}
    this_year["copier"] = disguised(DISTINCT)
    with Archive(path) as archive:
        assert archive.terms() == ["2025-fall"]
        result = compare_exercise(EXERCISE, this_year, skeleton(course, EXERCISE), archive=archive, term="2026-fall")
    past = [p for p in result.flagged if p.past_term]
    assert [(p.a, p.b) for p in past] == [("copier", "2025-fall/author")]
    gradebook = tmp_path / "gradebook.sqlite"
    Gradebook(gradebook).close()
    before = gradebook.read_bytes()
    with pytest.raises(GraderError, match="not a similarity archive"):
        Archive(gradebook)
    assert gradebook.read_bytes() == before  # refused without writing a byte


@pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium browser (Debian package 'chromium')")
def test_pages_and_csv_open_in_chromium(course, tmp_path) -> None:
    code = golden_class(course, EXERCISE)
    code["author"] = f"{reference_code(course, EXERCISE)}\n{CELL_BREAK}\n{DISTINCT}"
    code["copier <script>alert(1)</script>"] = disguised(DISTINCT)
    result = compare_exercise(EXERCISE, code, skeleton(course, EXERCISE))
    index = write_pages([result], course, tmp_path)
    table = write_csv([result], tmp_path / "export" / "similarity.csv")
    with open(table, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(result.pairs)
    flagged = [r for r in rows[1:] if r[5] == "yes"]
    assert flagged and all(float(r[3]) >= 0 and int(r[4]) >= 0 for r in rows[1:])
    html = index.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "plagiarism" not in html.lower() and "표절" not in html
    pages = sorted((tmp_path / "similarity" / "pairs").glob("*.html"))
    page = next(p for p in pages if "copier" in p.read_text(encoding="utf-8"))
    text = page.read_text(encoding="utf-8")
    assert len(re.findall(r"<mark style=", text)) >= 4  # shared fragments coloured on both sides
    for number, path in enumerate((index, page)):
        shown = chromium(["--dump-dom", path.as_uri()], tmp_path / f"profile{number}")
        assert console_lines(shown.stderr) == [], shown.stderr[-2000:]
        assert "<script>alert" not in shown.stdout
    assert "copier &lt;script&gt;" in shown.stdout and shown.stdout.count("<mark") >= 4


def test_the_similarity_command_on_a_graded_class(tmp_path, make_config) -> None:
    from grader.bulk.run import BulkOptions, grade_class

    from .test_bulk import FAKE

    config = make_config(work_dir=tmp_path / "work")
    exercise = config.course.exercise(EXERCISE)
    base = nbformat.read(config.course.root / exercise.notebook, as_version=4)
    source = tmp_path / "in"
    for student, extra in (("author", DISTINCT), ("copier", disguised(DISTINCT)), ("other", "x = 1\n")):
        notebook = nbformat.from_dict(base)
        notebook.cells.append(nbformat.v4.new_code_cell(extra))
        (source / student).mkdir(parents=True)
        nbformat.write(notebook, source / student / exercise.notebook)
    out = tmp_path / "out"
    grade_class(source, config, BulkOptions(out_dir=out, workers=1, unit=FAKE))
    archive = tmp_path / "archive.sqlite"
    done = CliRunner().invoke(cli, ["similarity", str(out), "--exercise", EXERCISE, "--archive", str(archive),
                                    "--term", "2026-fall"])
    assert done.exit_code == 0, done.output
    assert "1 flagged" in done.output
    assert (out / "similarity" / "index.html").is_file()
    with open(out / "export" / "similarity.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["student_a"], r["student_b"], r["flagged"]) for r in rows if r["flagged"] == "yes"] == \
        [("author", "copier", "yes")]
    with Archive(archive) as kept:
        assert kept.terms() == ["2026-fall"]
    refused = CliRunner().invoke(cli, ["similarity", str(out), "--term", "x"])
    assert refused.exit_code == 2 and "--term needs --archive" in refused.output
