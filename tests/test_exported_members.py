"""The public API: ``grader.__all__`` is sorted and every name in it resolves."""

from __future__ import annotations

import grader


def test_all_is_sorted_and_importable() -> None:
    assert grader.__all__ == sorted(grader.__all__)
    for name in grader.__all__:
        assert getattr(grader, name) is not None, name


def test_importing_the_probe_runtime_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, grader.checking.probe; print(' '.join(m for m in ('nbclient', 'pytest', 'jinja2', 'click') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"a kernel importing grader.checking.probe also loads {loaded}"


def test_every_module_keeps_a_sorted_all_of_names_it_defines() -> None:
    import importlib
    import pkgutil

    checked = 0
    for info in pkgutil.walk_packages(grader.__path__, "grader."):
        if info.name == "grader.__main__":
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        if names is None:
            continue
        assert list(names) == sorted(names), info.name
        assert all(hasattr(module, name) for name in names), info.name
        checked += 1
    assert checked >= 40
