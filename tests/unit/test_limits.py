"""Every named limit is enforced somewhere: a limit declared and never used protects nothing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rewardledger.domain import limits
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import TIME_TEXT_LENGTH_MAX, TIME_YEAR_MIN
from rewardledger.domain.transfers import parse_instant

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "rewardledger"
LIMITS_FILE = PACKAGE / "domain" / "limits.py"


def declared_limits() -> list[str]:
    tree = ast.parse(LIMITS_FILE.read_text())
    return [
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]


def test_the_limits_module_declares_its_limits() -> None:
    names = declared_limits()
    assert names
    assert all(hasattr(limits, name) for name in names)


@pytest.mark.parametrize("name", declared_limits())
def test_every_limit_is_used_outside_the_limits_module(name: str) -> None:
    pattern = re.compile(rf"\b{name}\b")
    users = [
        path
        for path in PACKAGE.rglob("*.py")
        if path != LIMITS_FILE and pattern.search(path.read_text())
    ]
    assert users, f"{name} is declared in domain/limits.py and used nowhere in src"


def test_a_time_text_longer_than_the_limit_is_refused_before_it_is_parsed() -> None:
    text = "2025-10-31T23:59:00" + "0" * TIME_TEXT_LENGTH_MAX + "-05:00"
    with pytest.raises(ValidationError) as caught:
        parse_instant(text, "at")
    assert caught.value.context["field"] == "at"


def test_a_time_text_within_the_limit_is_read_with_its_offset() -> None:
    parsed = parse_instant("2025-10-31T23:59:00-05:00", "at")
    assert parsed.utcoffset() is not None
    assert parsed.isoformat() == "2025-10-31T23:59:00-05:00"


@pytest.mark.parametrize(
    "text",
    ["2025-10-31T23:59:00", "not a time", f"{TIME_YEAR_MIN - 1}-01-01T00:00:00Z", 20251031],
)
def test_a_time_text_without_offset_unreadable_or_out_of_range_is_refused(text: object) -> None:
    with pytest.raises(ValidationError):
        parse_instant(text, "at")
