"""The platform packages and entry points: the Gradescope zip's structure, a simulated
``/autograder`` run (as ``otter run`` does it: a temporary root, the zip extracted into ``source/``,
this project's environment standing in for ``setup.sh``), and the same for PrairieLearn's ``/grade``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader.course.manifest import load_course
from grader.errors import GraderError
from grader.platforms import gradescope, prairielearn
from grader.platforms.package import build

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = json.loads((DATA / "platforms" / "gradescope-results.schema.json").read_text(encoding="utf-8"))
PRAIRIELEARN = json.loads((DATA / "platforms" / "prairielearn-results.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory, course) -> Path:
    return build("gradescope", tmp_path_factory.mktemp("package") / "autograder.zip", course)


def test_the_zip_holds_what_gradescope_runs_and_no_solution(autograder_zip: Path, course, tmp_path: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
        infos = {i.filename: i for i in archive.infolist()}
        for script in ("setup.sh", "run_autograder"):
            assert script in names and "/" not in script
            assert (infos[script].external_attr >> 16) & 0o777 == 0o755
            assert b"\r\n" not in archive.read(script) and archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        manifest = json.loads(archive.read("MANIFEST.json"))
        assert manifest["grader_version"] and set(manifest["files"]) == set(names) - {"MANIFEST.json"}
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
        archive.extract("setup.sh", tmp_path)
        solutions = {hashlib.sha256(e.solution.read_bytes()).hexdigest() for e in course.exercises if e.solution}
        assert not solutions & set(manifest["files"].values())  # no solution notebook, under any name
    assert not [n for n in names if n.startswith("course/solutions/") and not n.startswith("course/solutions/checks/")]
    assert any(n.startswith("dist/notebook_grader-") and n.endswith(".whl") for n in names)
    assert {f"course/exercises/{e.notebook}" for e in course.exercises} <= set(names)
    assert autograder_zip.stat().st_size < 2_000_000
    assert subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")], capture_output=True).returncode == 0


def autograder_root(tmp_path: Path, autograder_zip: Path, notebook: nbformat.NotebookNode, *,
                    created_at: str = "2026-12-15T11:00:00.000000+09:00") -> Path:
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    nbformat.write(notebook, root / "submission" / "02_dataset.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps({
        "created_at": created_at, "users": [{"name": "Kim", "sid": "2024001", "email": "kim@example.com"}],
        "assignment": {"due_date": "2026-12-14T23:59:00.000000+09:00", "late_due_date": None, "total_points": "102"},
        "previous_submissions": []}), encoding="utf-8")
    return root


@pytest.mark.slow
def test_a_simulated_gradescope_run_scores_as_grader_grade_does(cage_for_students, autograder_zip, course,
                                                                make_config, data_root, tmp_path, grade) -> None:
    root = autograder_root(tmp_path, autograder_zip, nbformat.read(course.exercise("02_dataset").solution, as_version=4))
    packaged = load_course(root / "source" / "course" / "exercises")
    written = gradescope.autograde(root, course=packaged, data_root=data_root)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results == written
    jsonschema.validate(results, SCHEMA)
    direct = grade(root / "submission", make_config(), submission_id="2024001")
    assert results["score"] == direct.score == 20 and results["extra_data"]["grader_version"]
    tests = {t["number"]: t for t in results["tests"] if "number" in t}
    hidden = {c.id for e in direct.exercises for c in e.checks if c.hidden}
    assert hidden and all(tests[c]["visibility"] == "after_published" for c in hidden)
    assert all(t["visibility"] == "visible" for n, t in tests.items() if n not in hidden)
    assert "11.0 h late" in results["output"] and results["extra_data"]["late_seconds"] == 11 * 3600 + 60
    assert any(t["name"] == "Late penalty" for t in results["tests"])


@pytest.mark.slow
def test_an_assignment_for_one_practical_gives_a_perfect_notebook_full_marks(cage_for_students, course, data_root,
                                                                            tmp_path) -> None:
    import re
    import shlex

    package = build("gradescope", tmp_path / "02.zip", course, exercises=("02_dataset",))
    with zipfile.ZipFile(package) as archive:
        script = archive.read("run_autograder").decode()
        assert json.loads(archive.read("MANIFEST.json"))["exercises"] == ["02_dataset"]
    # What Gradescope runs: the exercises the package was built for, passed on to autograde.
    exercises = tuple(re.findall(r"--exercise (\S+)", " ".join(shlex.split(script, comments=True))))
    assert exercises == ("02_dataset",)
    root = autograder_root(tmp_path, package, nbformat.read(course.exercise("02_dataset").solution, as_version=4),
                           created_at="2026-12-14T11:00:00.000000+09:00")  # on time
    packaged = load_course(root / "source" / "course" / "exercises")
    results = gradescope.autograde(root, course=packaged, data_root=data_root, exercises=exercises)
    jsonschema.validate(results, SCHEMA)
    points = course.exercise("02_dataset").points
    checks = [t for t in results["tests"] if "number" in t]
    assert results["score"] == points == sum(t["max_score"] for t in checks) > 0, results["output"]
    assert {t["number"].split("::")[0] for t in checks} == {"02_dataset"}  # no other practical, not even missing


def test_an_assignment_for_an_unknown_exercise_is_refused(course, tmp_path) -> None:
    from grader.errors import CourseError

    with pytest.raises(CourseError, match="no exercise '99_nope'"):
        build("gradescope", tmp_path / "x.zip", course, exercises=("99_nope",))
    with pytest.raises(GraderError, match="PrairieLearn question names its exercise"):
        build("prairielearn", tmp_path / "x.zip", course, exercises=("02_dataset",))


HOSTILE = """import os, subprocess, sys
root = {root!r}
for path in (root + "/source/course/solutions/checks/test_02_dataset_hidden.py", root + "/source/MANIFEST.json"):
    try:
        print(open(path).read())
    except OSError as exc:
        print("refused", path, exc)
for attempt in (lambda: open(root + "/results/results.json", "w").write('{{"score": 1000}}'),
                lambda: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3); "
                                          "open(%r, 'w').write('{{\\\\"score\\\\": 1000}}')" % (root + "/results/results.json")])):
    try:
        attempt()
    except OSError as exc:
        print("refused", exc)
"""


@pytest.mark.slow
def test_a_hostile_notebook_reads_nothing_and_changes_nothing(autograder_zip, course, data_root, tmp_path) -> None:
    notebook = nbformat.read(course.root / course.exercise("02_dataset").notebook, as_version=4)
    root = tmp_path / "autograder"
    notebook.cells.insert(1, nbformat.v4.new_code_cell(HOSTILE.format(root=str(root))))
    root = autograder_root(tmp_path, autograder_zip, notebook)
    packaged = load_course(root / "source" / "course" / "exercises")
    written = gradescope.autograde(root, course=packaged, data_root=data_root)
    time.sleep(4)  # past the delayed writer, had it survived the kernel
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results == written and results["score"] == 0
    hidden_source = (root / "source" / "course" / "solutions" / "checks" / "test_02_dataset_hidden.py").read_text()
    text = json.dumps(results)
    assert "def test_hidden_lengths" not in text and hidden_source[-200:] not in text
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]


def test_an_internal_failure_still_writes_json_that_names_it(course, tmp_path, monkeypatch) -> None:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)

    def broken(*args, **kwargs):
        raise RuntimeError("the data set could not be made: disk full")

    monkeypatch.setattr(gradescope, "grade_collected", broken)
    gradescope.autograde(root, course=course, data_root=tmp_path / "data")
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 0 and "disk full" in results["output"] and "disk full" in results["extra_data"]["error"]


def grade_root(tmp_path: Path, files: dict[str, bytes], params: dict | None = None) -> Path:
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "data.json").write_text(json.dumps({"params": params or {}}), encoding="utf-8")
    for name, content in files.items():
        (root / "student" / name).write_bytes(content)
    return root


@pytest.mark.slow
def test_a_simulated_prairielearn_run(cage_for_students, course, data_root, tmp_path) -> None:
    solution = course.exercise("02_dataset").solution.read_bytes()
    root = grade_root(tmp_path, {"02_dataset.ipynb": solution}, {"exercise": "02_dataset"})
    written = prairielearn.autograde(root, course=course, data_root=data_root)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results == written and results["gradable"] is True and results["score"] == 1.0
    jsonschema.validate(results, PRAIRIELEARN)
    assert {"name", "points", "max_points", "message", "output"} <= set(results["tests"][0])
    assert any("hidden" in t["name"].lower() or "another data set" in t["name"] for t in results["tests"])


def test_a_file_that_is_not_a_notebook_is_not_gradable(course, data_root, tmp_path) -> None:
    root = grade_root(tmp_path, {"answers.txt": b"I did it in my head"})
    prairielearn.autograde(root, course=course, data_root=data_root)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["gradable"] is False and results["score"] == 0 and "No readable notebook" in results["message"]
    assert results["format_errors"] == ["no .ipynb file found."]  # where PrairieLearn shows what is wrong with it
    jsonschema.validate(results, PRAIRIELEARN)


def test_prairielearn_results_stay_under_a_megabyte() -> None:
    document = {"gradable": True, "score": 0.5, "message": "m", "output": "x" * 3_000_000,
                "tests": [{"name": f"t{i}", "points": 0, "max_points": 1, "message": "y" * 50_000, "output": ""}
                          for i in range(40)]}
    fitted = prairielearn._fit(document)
    assert len(json.dumps(fitted).encode()) <= prairielearn.LIMIT_BYTES and len(fitted["tests"]) == 40
    assert fitted["output"].endswith("[cut: the results must stay under 1 MB]")


def test_package_command_and_an_unknown_platform(tmp_path) -> None:
    from click.testing import CliRunner

    from grader.cli import ExitCode, cli

    done = CliRunner().invoke(cli, ["package", "prairielearn", "--out", str(tmp_path / "pl.zip")])
    assert done.exit_code == ExitCode.OK, done.output
    with zipfile.ZipFile(tmp_path / "pl.zip") as archive:
        assert "Dockerfile" in archive.namelist() and "setup.sh" not in archive.namelist()
    assert CliRunner().invoke(cli, ["package", "moodle", "--out", str(tmp_path / "x.zip")]).exit_code == ExitCode.USAGE



def edited_after_submit(course, tmp_path: Path) -> tuple[bytes, bytes]:
    """02_dataset's solution edited after submit (a markdown cell: the score cannot change), and the
    ``grader submit`` manifest of the notebook as it was submitted."""
    from grader.submit.manifest import SCHEMA as SUBMIT_SCHEMA, file_entry
    from grader.hashing import course_hash

    solution = course.exercise("02_dataset").solution
    notebook = nbformat.read(solution, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("edited after submit"))
    edited = tmp_path / "edited.ipynb"
    nbformat.write(notebook, edited)
    manifest = {"schema": SUBMIT_SCHEMA, "student": "2024001", "course": {"hash": course_hash(course)},
                "files": [file_entry(solution, "02_dataset.ipynb", "02_dataset")]}
    return edited.read_bytes(), json.dumps(manifest).encode()


CHANGED = "changed after submit (its hash differs from the manifest's; graded as received): 02_dataset.ipynb"


@pytest.mark.slow
def test_gradescope_says_a_notebook_changed_after_submit_and_grades_it(cage_for_students, autograder_zip, course,
                                                                       data_root, tmp_path) -> None:
    from grader.submit.manifest import MANIFEST_NAME

    edited, manifest = edited_after_submit(course, tmp_path)
    results = {}
    for case in ("without", "with"):
        root = autograder_root(tmp_path / case, autograder_zip, nbformat.reads(edited.decode(), as_version=4))
        if case == "with":  # the zip grader submit wrote, its notebook edited since
            (root / "submission" / "02_dataset.ipynb").unlink()
            with zipfile.ZipFile(root / "submission" / "2024001_course.zip", "w") as archive:
                archive.writestr("02_dataset.ipynb", edited)
                archive.writestr(MANIFEST_NAME, manifest)
        packaged = load_course(root / "source" / "course" / "exercises")
        results[case] = gradescope.autograde(root, course=packaged, data_root=data_root)
    assert f"2024001_course.zip: {CHANGED}" in results["with"]["output"], results["with"]["output"]
    assert "changed after submit" not in results["without"]["output"]
    assert "another version of the course" not in results["with"]["output"]  # the package's course is the same
    assert results["with"]["score"] == results["without"]["score"] > 0


@pytest.mark.slow
def test_prairielearn_says_a_notebook_changed_after_submit_and_grades_it(cage_for_students, course, data_root,
                                                                         tmp_path) -> None:
    from grader.submit.manifest import MANIFEST_NAME

    edited, manifest = edited_after_submit(course, tmp_path)
    results = {}
    for case, files in (("without", {"02_dataset.ipynb": edited}),
                        ("with", {"02_dataset.ipynb": edited, MANIFEST_NAME: manifest})):
        root = grade_root(tmp_path / case, files, {"exercise": "02_dataset"})
        results[case] = prairielearn.autograde(root, course=course, data_root=data_root)
    assert CHANGED in results["with"]["output"].splitlines(), results["with"]["output"]
    assert "changed after submit" not in results["without"]["output"]
    # One exercise graded, the manifest still compared with the whole course: the same version.
    assert "another version of the course" not in results["with"]["output"]
    assert results["with"]["gradable"] is True and results["with"]["score"] == results["without"]["score"] > 0


def test_prairielearn_cuts_a_huge_message_and_stops() -> None:
    # An ungradable submission's message is all there is to cut: the cutting must end.
    fitted = prairielearn._fit({"gradable": False, "score": 0.0, "tests": [], "message": "x" * 2_000_000})
    assert len(json.dumps(fitted).encode()) <= prairielearn.LIMIT_BYTES and fitted["message"].startswith("xxx")
