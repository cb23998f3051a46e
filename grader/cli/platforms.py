"""The platform commands: ``package`` (what an instructor uploads) and ``autograde`` (what runs there)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import EXIT_CODES_HELP, Failure, cli, course_from
from grader.errors import GraderError

_PLATFORMS = click.Choice(["gradescope", "prairielearn"])


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("platform", type=_PLATFORMS)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), required=True, help="The zip to write.")
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--torch-index", default="", metavar="URL",
              help="An index of CPU-only torch wheels for the image to install from (PyTorch's install page "
                   "names one); default: whatever pip finds, which may be a large CUDA build.")
@click.option("--exercise", "exercises", multiple=True, metavar="ID",
              help="Gradescope: an assignment that grades only this exercise (repeat for several), out of its "
                   "points; the usual setup is one assignment per practical. Default: the whole course.")
def package(platform: str, out_file: str, course_path: str | None, torch_index: str,
            exercises: tuple[str, ...]) -> None:
    """Build PLATFORM's package: gradescope, an autograder zip to upload; prairielearn, the folder
    (zipped) to build the external-grading image from. It holds no solution notebook."""
    from grader.platforms.package import build

    try:
        written = build(platform, Path(out_file), course_from(course_path), torch_index=torch_index,
                        exercises=exercises)
    except GraderError as error:
        raise Failure(error) from None
    click.echo(f"{platform}: {written} ({written.stat().st_size / 1e6:.1f} MB)")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("platform", type=_PLATFORMS)
@click.option("--root", type=click.Path(file_okay=False), default=None,
              help="The platform's folder. Default: /autograder (gradescope), /grade (prairielearn).")
@click.option("--course", "course_path", type=click.Path(exists=True), help="The course manifest or its folder.")
@click.option("--data-root", type=click.Path(file_okay=False), required=True, help="The data set the notebooks read.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="en", show_default=True,
              help="Language of the check names and messages the student sees.")
@click.option("--exercise", "exercises", multiple=True, metavar="ID",
              help="Gradescope: grade only this exercise (repeat for several), as the package was built.")
def autograde(platform: str, root: str | None, course_path: str | None, data_root: str, lang: str,
              exercises: tuple[str, ...]) -> None:
    """Grade the submission a PLATFORM container holds and write its results file (always: on a
    failure the file says so). Run by the package's own scripts."""
    from grader.platforms import gradescope, prairielearn

    try:
        course = course_from(course_path)
        for exercise_id in exercises:
            course.exercise(exercise_id)  # an unknown one is said here, not in the student's results
    except GraderError as error:
        raise Failure(error) from None
    where = Path(data_root).resolve()
    if platform == "gradescope":
        gradescope.autograde(Path(root) if root else gradescope.ROOT, course=course, data_root=where, lang=lang,
                             exercises=exercises)
    elif exercises:
        raise click.UsageError("--exercise is for Gradescope; a PrairieLearn question names its exercise in its params")
    else:
        prairielearn.autograde(Path(root) if root else prairielearn.ROOT, course=course, data_root=where, lang=lang)
