"""The budget seeds' meanings (seeds 002 and 003), each in the seed's own words and numbers,
on SQLite and PostgreSQL: what ported code expects of alerts, ledger entries, funding,
period resets and the fix of a discrepancy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rewardledger.domain.errors import ValidationError
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets
from tests.builders import FakeClock


def _kinds(ledger: Ledger, tenant_id: str) -> list[str]:
    return sorted(a.kind for a in budgets.alerts(ledger, tenant_id))


def test_the_soft_cap_alert_fires_with_default_settings(ledger: Ledger, tenant_id: str) -> None:
    # Seed 002: "Configurable alert thresholds (80% soft, 95% hard)"; seed 003:
    #   newBalance := budget.Balance + amount
    #   if newBalance > budget.SoftCap { s.alertSoftCapExceeded(...) }
    policy = budgets.create_budget(ledger, tenant_id, "b", currency="USD", hard_cap="10000.00")
    assert policy.soft_cap_minor == 800_000  # 80 % of the hard cap, not the hard cap itself
    budgets.topup(ledger, tenant_id, "b", amount="10000.00", currency="USD", idempotency_key="k")
    budgets.reserve(ledger, tenant_id, "b", reference="r1", amount="8000.00", currency="USD")
    # 8,000.00 is not above the soft cap of 8,000.00 (the seed's ">"), but reaches 80 %.
    assert _kinds(ledger, tenant_id) == ["hard_cap_approaching"]
    budgets.reserve(ledger, tenant_id, "b", reference="r2", amount="0.01", currency="USD")
    assert _kinds(ledger, tenant_id) == ["hard_cap_approaching", "soft_cap_exceeded"]
    assert budgets.utilization(ledger, tenant_id, "b").soft_cap_exceeded


def test_threshold_alerts_fire_once_per_crossing(ledger: Ledger, tenant_id: str) -> None:
    # Seed 002's CheckSoftCapAlert: "Alert when balance exceeds soft cap", "Triggered on
    # reservation completion". Staying above adds nothing; release below, cross again: alert.
    budgets.create_budget(
        ledger, tenant_id, "b", currency="USD", hard_cap="10000.00", soft_cap="7000.00"
    )
    budgets.topup(ledger, tenant_id, "b", amount="10000.00", currency="USD", idempotency_key="k")
    budgets.reserve(ledger, tenant_id, "b", reference="r1", amount="7500.00", currency="USD")
    budgets.reserve(ledger, tenant_id, "b", reference="r2", amount="100.00", currency="USD")
    assert _kinds(ledger, tenant_id) == ["soft_cap_exceeded"]
    budgets.release(ledger, tenant_id, "b", "r1")  # used 100.00: below the soft cap again
    budgets.reserve(ledger, tenant_id, "b", reference="r3", amount="7000.00", currency="USD")
    assert _kinds(ledger, tenant_id) == ["soft_cap_exceeded", "soft_cap_exceeded"]
    # A replay of the crossing reserve writes no third alert.
    budgets.reserve(ledger, tenant_id, "b", reference="r3", amount="7000.00", currency="USD")
    assert len(budgets.alerts(ledger, tenant_id)) == 2


def test_ledger_entries_are_newest_first_within_a_date_range(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    # Seed 002, GetLedgerEntries: "Date range filtering", "Pagination support",
    # "Sorted by created_at DESC".
    clock.set(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    budgets.create_budget(ledger, tenant_id, "b", currency="USD", hard_cap="1000.00")
    budgets.topup(ledger, tenant_id, "b", amount="500.00", currency="USD", idempotency_key="k")
    for day, ref in ((3, "r3"), (4, "r4"), (5, "r5")):
        clock.set(datetime(2026, 3, day, 15, 0, tzinfo=UTC))
        budgets.reserve(ledger, tenant_id, "b", reference=ref, amount="1.00", currency="USD")
    every = [e.transfer_id for e in budgets.entries(ledger, tenant_id, "b").entries]
    assert every == ["budget:b:res:r5", "budget:b:res:r4", "budget:b:res:r3", "budget:b:fund:k"]
    ranged = budgets.entries(ledger, tenant_id, "b", date_from="2026-03-03", date_to="2026-03-04")
    assert [e.transfer_id for e in ranged.entries] == ["budget:b:res:r4", "budget:b:res:r3"]
    first = budgets.entries(ledger, tenant_id, "b", limit=1, date_from="2026-03-03")
    second = budgets.entries(
        ledger, tenant_id, "b", limit=2, date_from="2026-03-03", cursor=first.next_cursor
    )
    assert [e.transfer_id for e in first.entries + second.entries] == every[:3]
    assert budgets.entries(ledger, tenant_id, "b", date_to="2026-03-02").entries[0].entry_type == (
        "fund"
    )
    with pytest.raises(ValidationError):
        budgets.entries(ledger, tenant_id, "b", date_from="2026-03-05", date_to="2026-03-04")
