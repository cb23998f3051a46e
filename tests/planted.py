"""Planted students: golden-case code varied the way students vary it, for the class-insight tests.

The variants are cosmetic: the same behaviour, other text. ``renamed`` gives every local name a
function chose another name; ``reordered`` reverses each run of top-level function definitions;
both reformat through ``ast.unparse`` (which also drops comments) and put a comment on top. The
copier in :func:`disguised` goes further, as one trying to hide a copy would: every name the code
chose is renamed (functions and parameters too), literals change, comments are added and a dead
statement follows every few lines. That one is for reading, not running.
"""

from __future__ import annotations

import ast
import builtins
import keyword

__all__ = ["disguised", "renamed", "reordered"]

_BUILTINS = set(dir(builtins))


class _Locals(ast.NodeTransformer):
    """Rename the names assigned inside each function (not its parameters, not globals)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        params = {a.arg for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs}
        params |= {a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None}
        declared = {n for s in ast.walk(node) if isinstance(s, (ast.Global, ast.Nonlocal)) for n in s.names}
        assigned = {n.id for s in node.body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        mapping = {name: f"{name}_{self.suffix}" for name in assigned - params - declared}
        for inner in node.body:
            for n in ast.walk(inner):
                if isinstance(n, ast.Name) and n.id in mapping:
                    n.id = mapping[n.id]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def renamed(code: str, suffix: str = "v") -> str:
    tree = _Locals(suffix).visit(ast.parse(code))
    return "# my solution\n" + ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def reordered(code: str) -> str:
    tree = ast.parse(code)
    body, run = [], []
    for statement in tree.body + [None]:
        if isinstance(statement, ast.FunctionDef) and not statement.decorator_list:
            run.append(statement)
            continue
        body.extend(reversed(run))
        run = []
        if statement is not None:
            body.append(statement)
    tree.body = body
    return "# tidied up\n" + ast.unparse(tree) + "\n"


class _Everything(ast.NodeTransformer):
    """Rename every name the code binds (functions, parameters, locals), change every literal."""

    def __init__(self, chosen: set[str]) -> None:
        self.mapping = {name: f"q{index}_{name[::-1]}" for index, name in enumerate(sorted(chosen))}

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, bool) or node.value is None:
            return node
        if isinstance(node.value, (int, float)):
            node.value = node.value + 7
        elif isinstance(node.value, str):
            node.value = node.value + " (changed)"
        return node


def _chosen(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names -= {a.asname or a.name for a in node.names}
    return {n for n in names if n not in _BUILTINS and not keyword.iskeyword(n) and n != "self"}


def disguised(code: str, every: int = 4) -> str:
    """``code`` as a copier would hide it: renamed, reordered, literals changed, comments and
    dead statements added."""
    tree = ast.parse(reordered(code))
    tree = _Everything(_chosen(tree)).visit(tree)
    lines = ast.unparse(ast.fix_missing_locations(tree)).splitlines()
    out = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        indent = line[: len(line) - len(line.lstrip())]
        opens = line.rstrip().endswith((":", "(", "[", "{", ",", "\\"))
        if number % every == 0 and not opens and line.strip():
            out.append(f"{indent}unused_{number} = {number} * 3  # keeps things tidy")
    return "# written from scratch, honestly\n" + "\n".join(out) + "\n"
