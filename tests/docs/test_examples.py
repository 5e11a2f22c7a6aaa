"""The Python examples in the README and docs/ run as written (on a fresh SQLite file)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def examples() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for number, code in enumerate(BLOCK.findall(document.read_text()), start=1):
            found.append((f"{document.name}#{number}", code))
    return found


@pytest.mark.parametrize(("name", "code"), examples(), ids=[name for name, _ in examples()])
def test_the_example_runs_as_written(name: str, code: str, tmp_path: Path) -> None:
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, name, "exec"), {"__name__": "__example__"})
    finally:
        os.chdir(previous)
