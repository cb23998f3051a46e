"""The engine's layout stays as docs/architecture.md draws it: no import circle, short import
chains, a small top level, click only in the CLI, and no process-wide teardown by exit handlers."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

GRADER = Path(__file__).resolve().parent.parent / "grader"
MAX_CHAIN = 10  # modules on the longest chain of import-time imports
MAX_TOP_LEVEL = 12  # modules at grader/'s top level, besides its packages


def _modules() -> dict[str, Path]:
    found = {}
    for path in GRADER.rglob("*.py"):
        parts = list(path.relative_to(GRADER.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> set[str]:
    """The grader modules ``name`` imports when it is imported (not inside functions, not for types only)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, None) or [])
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in found if m in MODULES and m != name}


EDGES = {name: _imported(name, path) for name, path in MODULES.items()}


@cache
def _chain(name: str) -> tuple[str, ...]:
    longest: tuple[str, ...] = ()
    for other in EDGES[name]:
        chain = _chain(other)
        if len(chain) > len(longest):
            longest = chain
    return (name, *longest)


def test_no_module_imports_another_in_a_circle() -> None:
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for other in EDGES[start]:
            if other == goal or (other not in seen and reaches(other, goal, seen | {other})):
                return True
        return False

    circles = sorted(name for name in EDGES if reaches(name, name, {name}))
    assert circles == [], circles


def test_the_longest_import_chain_is_short() -> None:
    longest = max((_chain(name) for name in EDGES), key=len)
    assert len(longest) <= MAX_CHAIN, " -> ".join(longest)


def test_the_top_level_is_small() -> None:
    top = sorted(name for name, path in MODULES.items() if name.count(".") == 1 and path.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL, top


def test_only_the_cli_imports_click() -> None:
    outside = sorted(name for name, path in MODULES.items() if not name.startswith("grader.cli")
                     and "import click" in path.read_text(encoding="utf-8")
                     and name != "grader.bulk.dask.worker")  # Dask's preload takes its options through click
    assert outside == [], outside


def test_no_exit_handler_tears_down_what_a_grading_process_holds() -> None:
    # A GradingSession closes what it started; only a forked kernel runs its own exit handlers.
    registering = sorted(name for name, path in MODULES.items() if "atexit" in path.read_text(encoding="utf-8")
                         and name != "grader.kernel.forkserver.child")
    assert registering == [], registering
