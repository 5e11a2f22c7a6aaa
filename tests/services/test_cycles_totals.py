"""The running cashback totals an accrual reads its cap from: kept in step by every movement,
equal to what summing the movements gives, rebuilt from the movements by a rebuild; a replay,
a first accrual of a new card and a refused transfer each leave them right (both engines)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text, update

from rewardledger.domain.errors import CurrencyMismatch, IdempotencyConflict
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles
from rewardledger.storage.schema_cycles import cashback_totals
from tests.services.cycles_support import accrue, engine_of, programmes

MARCH = "2026-03"


def _running(ledger: Ledger, tenant_id: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    t = cashback_totals.c
    with engine_of(ledger).connect() as connection:
        rows = connection.execute(select(cashback_totals).where(t.tenant_id == tenant_id))
        return {
            (row.account_id, row.cycle_tag): (
                row.spend_minor,
                row.cashback_minor,
                bool(row.overridden),
                row.cap_minor,
                row.cap_movement_id,
            )
            for row in rows
        }


def _summed(ledger: Ledger, tenant_id: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The same figures computed from the movements alone (the cap: latest by occurrence, id)."""
    query = text(
        "SELECT account_id, cycle_tag, movement_id, spend_minor, cashback_minor, override, "
        "budget_cap_minor, occurred_at FROM cashback_movements WHERE tenant_id = :t"
    )
    with engine_of(ledger).connect() as connection:
        movements = connection.execute(query, {"t": tenant_id}).all()
    pairs: dict[tuple[str, str], list[Any]] = {}
    for m in movements:
        pairs.setdefault((m.account_id, m.cycle_tag), []).append(m)
    summed = {}
    for pair, rows in pairs.items():
        capped = sorted(
            (r for r in rows if r.budget_cap_minor is not None),
            key=lambda r: (str(r.occurred_at), r.movement_id),
        )
        latest = capped[-1] if capped else None
        summed[pair] = (
            sum(r.spend_minor for r in rows),
            sum(r.cashback_minor for r in rows),
            any(bool(r.override) for r in rows),
            None if latest is None else latest.budget_cap_minor,
            None if latest is None else latest.movement_id,
        )
    return summed


def _mixed_history(ledger: Ledger, tenant_id: str) -> None:
    early, late = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 14, tzinfo=UTC)
    accrue(ledger, tenant_id, "card-1", "100.00", "10.00", movement_id="a1")
    accrue(ledger, tenant_id, "card-1", "100.00", "30.00", movement_id="a2", cap="35.00", at=late)
    # An earlier-dated cap snapshot does not replace the later one.
    accrue(ledger, tenant_id, "card-1", "50.00", "9.00", movement_id="a3", cap="90.00", at=early)
    accrue(ledger, tenant_id, "card-1", "10.00", "4.00", movement_id="a4", override=True)
    cashback.reverse(ledger, tenant_id, cashback.Reversal("a1"))
    accrue(ledger, tenant_id, "card-2", "20.00", "1.00", movement_id="b1", tag="2026-02")
    accrue(ledger, tenant_id, "card-2", "20.00", "1.00", movement_id="b1", tag="2026-02")


def test_running_totals_equal_the_sums_of_the_movements(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id, mode="job")
    _mixed_history(ledger, tenant_id)
    running = _running(ledger, tenant_id)
    assert running == _summed(ledger, tenant_id)
    # a1 10 + a2 25 (its cap 35 reached) + a3 9 (checked against its own cap, 90) + a4 4 (an
    # override) - a1 10; the pair's cap snapshot stays a2's, the later one.
    assert running[("card-1", MARCH)] == (16000, 3800, True, 3500, "a2")
    assert running[("card-2", "2026-02")] == (2000, 100, False, None, None)  # replay: once


def test_the_cap_check_reads_the_running_totals(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id, default_cap="5.00")
    accrue(ledger, tenant_id, "card-1", "100.00", "4.00")
    second = accrue(ledger, tenant_id, "card-1", "100.00", "4.00")
    assert second.movement.cashback_minor == 100
    t = cashback_totals.c
    with engine_of(ledger).begin() as connection:  # totals said to be at the cap already
        connection.execute(
            update(cashback_totals)
            .where(t.tenant_id == tenant_id, t.account_id == "card-1")
            .values(cashback_minor=0)
        )
    # A wrong running total is what an accrual goes by (it no longer sums the history) ...
    assert accrue(ledger, tenant_id, "card-1", "1.00", "1.00").movement.cashback_minor == 100
    # ... until a rebuild recomputes the totals from the movements.
    cycles.rebuild(ledger, tenant_id)
    assert _running(ledger, tenant_id) == _summed(ledger, tenant_id)
    assert accrue(ledger, tenant_id, "card-1", "1.00", "1.00").movement.cashback_minor == 0


def test_a_rebuild_recomputes_totals_lost_or_never_written(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id, mode="job")
    _mixed_history(ledger, tenant_id)
    expected = _running(ledger, tenant_id)
    with engine_of(ledger).begin() as connection:
        connection.execute(cashback_totals.delete().where(cashback_totals.c.tenant_id == tenant_id))
    cycles.rebuild(ledger, tenant_id)
    assert _running(ledger, tenant_id) == expected


def test_a_refused_accrual_or_a_replay_with_other_values_leaves_no_totals(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    ledger.create_asset(tenant_id, "EUR", scale=2)
    ledger.create_account(tenant_id, "euro-card", asset="EUR")
    with pytest.raises(CurrencyMismatch):  # the transfer is refused: the unit rolled back
        accrue(ledger, tenant_id, "euro-card", "10.00", "1.00")
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00", movement_id="m1")
    with pytest.raises(IdempotencyConflict):
        accrue(ledger, tenant_id, "card-1", "10.00", "2.00", movement_id="m1")
    assert _running(ledger, tenant_id) == {("card-1", MARCH): (1000, 100, False, None, None)}


def test_a_new_cards_first_accrual_opens_its_account_once_with_its_event(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "new-card", "10.00", "1.00")
    accrue(ledger, tenant_id, "new-card", "10.00", "1.00")
    account = ledger.get_account(tenant_id, "new-card")
    assert (account.asset_code, account.managed_by) == ("USD", None)
    assert str(ledger.balance(tenant_id, "new-card").posted) == "2.00"
    with engine_of(ledger).connect() as connection:
        created = connection.execute(
            text(
                "SELECT count(*) FROM outbox WHERE tenant_id = :t "
                "AND event_type = 'account.created' AND subject_id = 'new-card'"
            ),
            {"t": tenant_id},
        ).scalar_one()
    assert created == 1
