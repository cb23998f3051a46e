"""Build what an instructor uploads: a Gradescope autograder zip, or a PrairieLearn image folder (zipped).

Both hold the grader as a wheel built from this checkout, the course manifest, the public checks
and their helper modules, the data generator, the student notebooks (the given cells'
fingerprints come from them), the hidden checks (never a solution notebook), a short README and
``MANIFEST.json``: the grader's version, a hash of the course and the sha256 of every file. Scripts
are stored with LF endings and mode 0755; every file has the same time, so a package built twice
from the same sources is the same archive.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

from grader import __version__
from grader.course.manifest import Course
from grader.errors import GraderError

__all__ = ["PLATFORMS", "build"]

PLATFORMS = {
    "gradescope": {"setup.sh": "gradescope_setup.sh", "run_autograder": "gradescope_run_autograder",
                   "README.md": "gradescope_README.md"},
    "prairielearn": {"Dockerfile": "prairielearn_Dockerfile", "README.md": "prairielearn_README.md"},
}
_EXECUTABLE = {"setup.sh", "run_autograder"}
_STAMP = (2026, 1, 1, 0, 0, 0)  # every entry's time: the archive depends on its contents only


def _course_files(course: Course) -> dict[str, Path]:
    """Archive path → file, for what the package carries of the course."""
    exercises = course.root
    files: dict[str, Path] = {"course/exercises/course.toml": exercises / "course.toml"}
    generator = exercises / course.data_generator.partition(":")[0]
    files[f"course/exercises/{generator.relative_to(exercises)}"] = generator
    for exercise in course.exercises:
        files[f"course/exercises/{exercise.notebook}"] = exercises / exercise.notebook
        for check in exercise.public_checks:
            for helper in sorted(check.parent.glob("*.py")):  # the checks and the helpers beside them
                files[f"course/exercises/{helper.relative_to(exercises)}"] = helper
        for check in exercise.hidden_checks:
            assert course.solutions_dir is not None
            rel = check.relative_to(course.solutions_dir.parent)
            files[f"course/{rel}"] = check
            for helper in sorted(check.parent.glob("*.py")):
                files[f"course/{helper.relative_to(course.solutions_dir.parent)}"] = helper
    return files


def _wheel(project: Path, into: Path) -> Path:
    """The grader as a wheel, built from a copy of this checkout's sources (the checkout itself
    stays untouched, and may be read-only) without reaching any index."""
    sources = into / "sources"
    shutil.copytree(project / "grader", sources / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(project / name, sources / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(into), str(sources)], capture_output=True, text=True, check=False)
    wheels = sorted(into.glob("notebook_grader-*.whl"))
    if done.returncode != 0 or not wheels:
        raise GraderError(f"the grader's wheel could not be built from {project}: {done.stderr.strip()[-600:]}")
    return wheels[-1]


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template.replace("\r\n", "\n")


def build(platform: str, out: Path, course: Course, *, torch_index: str = "", exercises: tuple[str, ...] = ()) -> Path:
    """Write the package for ``platform`` to ``out`` (a zip) and return its path.

    ``exercises``: a Gradescope assignment that grades these exercises only, out of their points
    (one assignment per practical); none: the whole course. The package carries the whole course
    all the same, so that a ``grader submit`` manifest made against it is recognised.
    """
    if platform not in PLATFORMS:
        raise GraderError(f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
    if exercises and platform != "gradescope":
        raise GraderError("--exercise is for Gradescope; a PrairieLearn question names its exercise in its params")
    graded = [course.exercise(e) for e in dict.fromkeys(exercises)] or list(course.exercises)
    if not course.has_hidden_checks:
        raise GraderError(f"{course.root}: the package needs the hidden checks (the solutions folder's checks)")
    project = Path(__file__).resolve().parents[2]
    if not (project / "pyproject.toml").is_file():
        raise GraderError(f"{project}: not a checkout of the grader (no pyproject.toml): cannot build its wheel")
    slug = re.sub(r"[^a-z0-9]+", "-", course.title.en.lower()).strip("-")[:40] or "course"
    values = {"VERSION": __version__, "COURSE": course.title.en, "SLUG": slug, "TORCH_INDEX": torch_index,
              "SMOKE_NOTEBOOK": graded[0].notebook,
              "EXERCISE_ARGS": " ".join(f"--exercise {e.id}" for e in graded) if exercises else ""}
    contents: dict[str, bytes] = {}
    templates = resources.files("grader.platforms") / "templates"
    for name, template in PLATFORMS[platform].items():
        contents[name] = _fill(templates.joinpath(template).read_text(encoding="utf-8"), values).encode()
    with tempfile.TemporaryDirectory(prefix="grader-package-") as scratch:
        wheel = _wheel(project, Path(scratch))
        contents[f"dist/{wheel.name}"] = wheel.read_bytes()
    course_files = {name: path.read_bytes() for name, path in sorted(_course_files(course).items())}
    leaks = [name for name in course_files if name.endswith(".ipynb") and name.startswith("course/solutions/")]
    if leaks:
        raise GraderError(f"a solution notebook would be packaged: {leaks}")
    contents.update(course_files)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(contents.items())}
    course_hash = hashlib.sha256("".join(f"{n}:{d}\n" for n, d in digests.items() if n.startswith("course/")).encode())
    manifest = {"platform": platform, "grader_version": __version__, "course_hash": course_hash.hexdigest(),
                "exercises": [e.id for e in graded], "files": digests}
    contents["MANIFEST.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(contents):
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.external_attr = (0o100755 if name in _EXECUTABLE else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, contents[name])
    partial.replace(out)
    return out
