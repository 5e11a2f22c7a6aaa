"""Rooms a newcomer can live in: no module in ``src/`` over 500 lines, no function over 70.

Migrations are exempt: each is a frozen record of one schema change, read once.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "rewardledger"
MODULE_LINES_MAX = 500
FUNCTION_LINES_MAX = 70


def _sources() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.relative_to(PACKAGE).parts
    ]


def test_the_walk_reads_the_package() -> None:
    names = {path.name for path in _sources()}
    assert {"money.py", "engine.py", "bootstrap.py"} <= names


def test_no_module_is_over_500_lines() -> None:
    too_long = {
        str(path.relative_to(PACKAGE)): lines
        for path in _sources()
        if (lines := len(path.read_text().splitlines())) > MODULE_LINES_MAX
    }
    assert too_long == {}


def test_no_function_is_over_70_lines() -> None:
    too_long: dict[str, int] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > FUNCTION_LINES_MAX:
                    too_long[f"{path.relative_to(PACKAGE)}:{node.name}"] = lines
    assert too_long == {}
