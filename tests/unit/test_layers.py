"""Imports point down (CONVENTIONS.md): the domain is pure; only storage imports SQLAlchemy."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "rewardledger"


def imported_modules(folder: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (PACKAGE / folder).rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update((path.name, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path.name, node.module))
    return found


# Storage implements the ledger's storage contracts, so it may import the modules that state
# them (protocols only: no engine, no rules) and nothing else of the ledger.
STORAGE_MAY_IMPORT = {"rewardledger.ledger.storage_unit"}


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    for filename, module in imported_modules("domain"):
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or module.startswith("rewardledger.domain"), (
            f"domain/{filename} imports {module}"
        )


@pytest.mark.parametrize("layer", ["domain", "ledger", "services"])
def test_only_storage_imports_sqlalchemy(layer: str) -> None:
    for filename, module in imported_modules(layer):
        assert not module.startswith(("sqlalchemy", "alembic", "psycopg")), (
            f"{layer}/{filename} imports {module}"
        )


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("domain", ("rewardledger.ledger", "rewardledger.storage", "rewardledger.services")),
        ("ledger", ("rewardledger.storage", "rewardledger.services", "rewardledger.http")),
        ("storage", ("rewardledger.ledger.", "rewardledger.services", "rewardledger.http")),
        ("services", ("rewardledger.storage", "rewardledger.http", "rewardledger.cli")),
    ],
)
def test_imports_point_down(layer: str, forbidden: tuple[str, ...]) -> None:
    for filename, module in imported_modules(layer):
        if layer == "storage" and module in STORAGE_MAY_IMPORT:
            continue
        assert not module.startswith(forbidden), f"{layer}/{filename} imports {module}"
