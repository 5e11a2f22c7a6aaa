"""The benchmark's million-holder tenant (``bench/large_tenant.py``, written set-based in SQL)
is one the ledger and the points service accept as their own: CI-sized here, 250 holders.

PostgreSQL only, as the generator is (its SQL is PostgreSQL's: generate_series, sha256)."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import event, select

from rewardledger.bootstrap import Ledger
from rewardledger.domain.cycles import LedgerFilter
from rewardledger.domain.points import CODE_ALPHABET, CODE_LENGTH
from rewardledger.services import cycles, demo, points, redemptions
from rewardledger.storage.journal_digest import DIGEST_COLUMNS, row_digest
from rewardledger.storage.schema import transfers

HOLDERS = 250
BENCH = Path(__file__).resolve().parents[2] / "bench" / "large_tenant.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("large_tenant", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def large(postgres_owner_url: str) -> Iterator[tuple[Ledger, str]]:
    tenant = f"large{secrets.token_hex(4)}"
    ledger = Ledger.open(postgres_owner_url)
    demo.seed(ledger, demo.DemoSize(members=3, days=2), tenant_id=tenant)
    _generator().add_holders(postgres_owner_url, tenant, HOLDERS)
    yield ledger, tenant
    ledger.close()


def test_the_generated_journal_verifies_clean(large: tuple[Ledger, str]) -> None:
    ledger, tenant = large
    report = ledger.verify(tenant)
    assert report.discrepancy_count == 0, report.discrepancies
    engine = ledger.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        row = connection.execute(
            select(transfers).where(
                transfers.c.tenant_id == tenant, transfers.c.transfer_id.like("imp.%")
            )
        ).first()
    assert row is not None
    values = [row._mapping[name] for name in DIGEST_COLUMNS]
    assert bytes(row.digest) == row_digest(values)


def test_every_generated_holder_balances_with_its_lots(large: tuple[Ledger, str]) -> None:
    ledger, tenant = large
    lines, _ = points.summary_page(ledger, tenant, limit=HOLDERS + 10)
    bulk = [line for line in lines if line.user_id.startswith("h")]
    assert len(bulk) == HOLDERS
    for line in bulk:
        assert line.balance == line.ledger_balance == line.lots_balance, line
    assert points.balance(ledger, tenant, "h0000003").balance.minor == 103 + 40
    assert points.balance(ledger, tenant, "h0000100").balance.minor == 100 + 0 - 10


def test_redemptions_and_cycle_rows_read_as_the_services_write_them(
    large: tuple[Ledger, str],
) -> None:
    ledger, tenant = large
    made = redemptions.get(ledger, tenant, "bulk-redemption-200")
    assert made.holder_id == "h0000200"
    assert len(made.code) == CODE_LENGTH
    assert set(made.code) <= set(CODE_ALPHABET)
    rows = points.accumulations(ledger, tenant, "h0000200").rows
    assert [row.redemption_id for row in rows if row.accum_type == "spend"] == [
        "bulk-redemption-200"
    ]
    debt_rows = list(cycles.every_debt_row(ledger, tenant, LedgerFilter()))
    assert sum(1 for row, _ in debt_rows if row.person_id.startswith("h")) == HOLDERS // 10


def test_a_page_of_holders_deep_in_the_list_starts_its_index_walk_at_the_cursor(
    large: tuple[Ledger, str],
) -> None:
    """The holder list's keyset is one row comparison in the index condition (an OR of two
    comparisons left PostgreSQL filtering every holder before the cursor: a second at 1M)."""
    ledger, tenant = large
    engine = ledger.store.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, Any]] = []

    def keep(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "points_holders" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        page = points.store_of(ledger).holders(tenant, "LUMIS\x1fh0000200", 5)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert [holder for _, holder in page] == [f"h{n:07d}" for n in range(201, 206)]
    ((statement, parameters),) = seen
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
    text = "\n".join(plan)
    conditions = [line for line in plan if "Index Cond" in line]
    assert any("holder_id" in line for line in conditions), text
    assert "Filter" not in text, text
