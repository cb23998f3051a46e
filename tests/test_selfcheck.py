"""The self-check cell inside a notebook: the same public checks, run in the student's own kernel."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from grader.kernel.managers import new_kernel_manager, runtime_dir

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def run_by_hand(path: Path, data_root: Path, extra_env: dict[str, str]) -> nbformat.NotebookNode:
    """Execute a notebook as a student would in Jupyter: from its folder, no grader around it."""
    notebook = nbformat.read(path, as_version=4)
    manager = new_kernel_manager(runtime_dir())
    env = {k: v for k, v in os.environ.items() if k != "GRADER_GRADING"}
    env.update({"CIFAR10_ROOT": str(data_root), **extra_env})
    client = NotebookClient(notebook, km=manager, allow_errors=True, timeout=120)
    try:
        with client.setup_kernel(env=env, cwd=str(ROOT / "exercises")):
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
    finally:
        run_sync(manager.shutdown_kernel)(now=True)
    return notebook


def selfcheck_html(notebook: nbformat.NotebookNode) -> str:
    (cell,) = [c for c in notebook.cells if "run_selfcheck" in c.source]
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def test_selfcheck_cell_shows_a_passing_table_for_the_solution(data_root, tmp_path) -> None:
    html = selfcheck_html(run_by_hand(ROOT / "solutions" / "02_dataset.ipynb", data_root, {"LANG": "en_US.UTF-8"}))
    assert html.count('data-status="passed"') == 7 and "failed" not in html
    assert "15 / 15" in html


def test_selfcheck_cell_speaks_korean_and_says_what_is_missing(data_root) -> None:
    html = selfcheck_html(run_by_hand(ROOT / "exercises" / "02_dataset.ipynb", data_root, {"LANG": "ko_KR.UTF-8"}))
    assert html.count('data-status="failed"') == 7
    assert "아직 구현되지 않았습니다" in html and "0 / 15" in html


def test_selfcheck_cell_does_nothing_under_the_grader(data_root) -> None:
    notebook = run_by_hand(ROOT / "solutions" / "02_dataset.ipynb", data_root, {"GRADER_GRADING": "1"})
    (cell,) = [c for c in notebook.cells if "run_selfcheck" in c.source]
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert "skipped" in text and selfcheck_html(notebook) == ""
