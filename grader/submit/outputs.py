"""Strip a notebook's outputs down to what the grader keeps (``Limits.output_bytes``).

Grading re-runs every cell, so stored outputs are never graded; above the cap they only make the
upload large (a printed tensor, an image per epoch). The largest cells go first.
"""

from __future__ import annotations

import json
from typing import Any

from grader.i18n import T

__all__ = ["strip_large_outputs"]


def _size(cell: Any) -> int:
    return len(json.dumps(cell.get("outputs", []), ensure_ascii=False).encode("utf-8"))


def strip_large_outputs(notebook: Any, cap: int) -> list[T]:
    """Clear the outputs of the largest code cells until all outputs together fit in ``cap`` bytes;
    one line per cleared cell (empty when nothing was over)."""
    cells = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code" and c.get("outputs")]
    sizes = {i: _size(c) for i, c in cells}
    total = sum(sizes.values())
    said = []
    for index, cell in sorted(cells, key=lambda item: sizes[item[0]], reverse=True):
        if total <= cap:
            break
        cell.outputs = []
        cell.execution_count = None
        total -= sizes[index]
        said.append(T(f"셀 {index}: 출력 {sizes[index]:,} 바이트를 지웠습니다 "
                      f"(채점기가 보관하는 최대 {cap:,} 바이트 초과).",
                      f"cell {index}: removed {sizes[index]:,} bytes of output "
                      f"(over the grader's cap of {cap:,} bytes)."))
    return said
