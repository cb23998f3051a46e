"""Build a synthetic class of student submissions from the reference solutions, for demos and benchmarks.

Course tooling, independent of the grader: it reads the course manifest, the solution notebooks
and the golden cases (``tests/data/golden/<exercise>/<case>.py``, snippets that redefine a
student's names on top of the solution), and writes one submission per synthetic student.

A student with a mistake is every solution notebook, with one golden snippet inserted as a
code cell just before that exercise's self-check cell. Beside them: a perfect student, one
whose notebook crashes its kernel, one stuck in an infinite loop, one who submitted no
notebook, one with a malformed notebook, one whose upload is a corrupt zip, and one who
renamed a notebook (matched by its metadata). The layouts are mixed as a real class's are: a
folder per student, a zip per student (one with a nested folder), and Canvas-named flat files
(one marked LATE).

Usage: python samples/make_sample_class.py OUT [--mistakes N] [--seed S]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["kim_minjun", "lee_seoyeon", "park_jihoon", "choi_yuna", "jung_hyunwoo", "kang_jiwoo", "cho_eunji",
         "yoon_taeyang", "jang_soyeon", "lim_dohyun", "han_yerin", "oh_seungmin", "seo_harin", "shin_joon",
         "kwon_nayoung", "hwang_minseo", "ahn_jaewon", "song_dahye", "ryu_sunghoon", "hong_gaeun"]
SELF_CHECK = "run_selfcheck"


def course_notebooks(course_dir: Path, solutions: Path) -> dict[str, dict]:
    """exercise id → its solution notebook (as JSON), for the exercises the manifest lists."""
    manifest = tomllib.loads((course_dir / "course.toml").read_text(encoding="utf-8"))
    notebooks = {}
    for exercise in manifest.get("exercises", []):
        path = solutions / exercise["notebook"]
        if path.is_file():
            notebooks[exercise["id"]] = {"name": exercise["notebook"],
                                         "json": json.loads(path.read_text(encoding="utf-8"))}
    return notebooks


def with_cell(notebook: dict, source: str) -> dict:
    """A copy of ``notebook`` with a code cell holding ``source`` just before the self-check cell."""
    changed = copy.deepcopy(notebook)
    cells = changed["cells"]
    at = next((i for i, c in enumerate(cells) if c["cell_type"] == "code" and SELF_CHECK in "".join(c["source"])),
              len(cells))
    cells.insert(at, {"cell_type": "code", "execution_count": None, "id": f"student-{at}", "metadata": {},
                      "outputs": [], "source": source})
    return changed


def golden_cases(golden: Path, exercises: list[str], wanted: int, rng: random.Random) -> list[tuple[str, Path]]:
    """Up to ``wanted`` (exercise, case) pairs, wrong answers first, spread round-robin over exercises."""
    per_exercise = []
    for exercise in exercises:
        cases = sorted((golden / exercise).glob("*.py"))
        wrong = [c for c in cases if "expect: nothing" not in c.read_text(encoding="utf-8").splitlines()[0]]
        right = [c for c in cases if c not in wrong]
        rng.shuffle(wrong)
        per_exercise.append([(exercise, c) for c in wrong + right])
    picked: list[tuple[str, Path]] = []
    while len(picked) < wanted and any(per_exercise):
        for queue in per_exercise:
            if queue and len(picked) < wanted:
                picked.append(queue.pop(0))
    return picked


def write_folder(folder: Path, notebooks: dict[str, dict], names: dict[str, str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for exercise_id, notebook in notebooks.items():
        name = (names or {}).get(exercise_id, exercise_id + ".ipynb")
        (folder / name).write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")


def write_zip(path: Path, notebooks: dict[str, dict], inner: str = "") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for exercise_id, notebook in notebooks.items():
            archive.writestr(f"{inner}{exercise_id}.ipynb", json.dumps(notebook, ensure_ascii=False, indent=1))


def write_canvas(folder: Path, student: str, user_id: int, notebooks: dict[str, dict], late: bool) -> None:
    marker = "_LATE" if late else ""
    flat = student.replace("_", "")  # Canvas writes the name without separators
    for n, (exercise_id, notebook) in enumerate(notebooks.items()):
        name = f"{flat}{marker}_{user_id}_{user_id * 10 + n}_{exercise_id}.ipynb"
        (folder / name).write_text(json.dumps(notebook, ensure_ascii=False, indent=1), encoding="utf-8")


def build(out: Path, *, mistakes: int = 8, seed: int = 0, course_dir: Path = ROOT / "exercises",
          solutions: Path = ROOT / "solutions", golden: Path = ROOT / "tests" / "data" / "golden") -> list[str]:
    """Write the class into ``out`` (emptied first); the student ids, in order, are returned."""
    rng = random.Random(seed)
    solution = {e: n["json"] for e, n in course_notebooks(course_dir, solutions).items()}
    if not solution:
        raise SystemExit(f"no solution notebooks found for {course_dir / 'course.toml'} in {solutions}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    first = next(iter(solution))
    names = iter(NAMES)
    students: list[str] = []
    layouts = ["folder", "zip", "canvas", "folder", "zip-nested", "canvas-late", "folder"]

    def place(notebooks: dict[str, dict], layout: str) -> None:
        student = next(names, None) or f"student_{len(students) + 1:03d}"
        students.append(student)
        if layout == "folder":
            write_folder(out / student, notebooks)
        elif layout in ("zip", "zip-nested"):
            write_zip(out / f"{student}.zip", notebooks, inner="homework/section2/" if layout == "zip-nested" else "")
        else:
            write_canvas(out, student, 1000 + len(students), notebooks, late=layout == "canvas-late")

    place(dict(solution), "folder")  # the perfect student
    for n, (exercise_id, case) in enumerate(golden_cases(golden, list(solution), mistakes, rng)):
        place({**solution, exercise_id: with_cell(solution[exercise_id], case.read_text(encoding="utf-8"))},
              layouts[n % len(layouts)])
    place({**solution, first: with_cell(solution[first], "# 메모리를 아끼려다 커널이 죽었다\nimport os\nos.abort()\n")},
          "folder")
    place({**solution, first: with_cell(solution[first], "# 학습이 끝날 때까지 기다리기\nwhile True:\n    pass\n")},
          "folder")
    missing = next(names, None) or "student_missing"  # submitted only a note, no notebook
    students.append(missing)
    (out / missing).mkdir()
    (out / missing / "README.txt").write_text("과제는 다음 주에 제출하겠습니다.\n", encoding="utf-8")
    malformed = next(names, None) or "student_malformed"  # a notebook cut off mid-upload
    students.append(malformed)
    write_folder(out / malformed, {e: n for e, n in solution.items() if e != first})
    text = json.dumps(solution[first], ensure_ascii=False, indent=1)
    (out / malformed / f"{first}.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    renamed = next(names, None) or "student_renamed"  # renamed notebooks: matched by their metadata
    students.append(renamed)
    write_folder(out / renamed, dict(solution), names={e: f"my homework {i + 1}.ipynb" for i, e in enumerate(solution)})
    corrupt = next(names, None) or "student_corrupt"  # an upload that is not a whole zip
    students.append(corrupt)
    (out / f"{corrupt}.zip").write_bytes(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(200)))
    return students


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the class into (emptied first)")
    parser.add_argument("--mistakes", type=int, default=8, help="students with a golden-case mistake")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    students = build(args.out, mistakes=args.mistakes, seed=args.seed)
    print(f"{len(students)} students in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
