"""Writes a unit keeps for its next statement or its COMMIT (``SqlUnit.later``, PostgreSQL):
a read in the same unit sees them, a rolled-back unit keeps none of them, and a taken key
among them is a ``DuplicateIdError`` that runs the unit again. Both engines (on SQLite the
writes run at once, and the same must hold)."""

from __future__ import annotations

from datetime import datetime

import pytest

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.points import Lot, LotState
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import points
from rewardledger.services.points.port import store_of


def lot(lot_id: str, now: datetime, remaining: int = 7) -> Lot:
    return Lot(
        lot_id, "ann", "LUMIS", "invoice", 7, remaining, LotState.ACTIVE, now, now, None, None
    )


@pytest.fixture
def configured(ledger: Ledger, tenant_id: str) -> str:
    points.configure(ledger, tenant_id, "LUMIS")
    return tenant_id


def test_a_read_in_the_unit_sees_the_writes_kept_before_it(ledger: Ledger, configured: str) -> None:
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> tuple[Lot | None, dict[str, Lot]]:
        store.insert_lots(work.unit, configured, [lot("k1", work.now), lot("k2", work.now)])
        store.update_lots(work.unit, configured, [lot("k2", work.now, remaining=3)])
        return store.get_lot(work.unit, configured, "k1"), store.get_lots(
            work.unit, configured, ["k2"]
        )

    first, others = ledger.run(configured, use_case)
    assert first is not None
    assert first.remaining_minor == 7
    assert others["k2"].remaining_minor == 3
    assert store.get_lot(None, configured, "k2") == others["k2"]  # and committed


def test_a_unit_that_fails_after_keeping_writes_keeps_none(ledger: Ledger, configured: str) -> None:
    store = store_of(ledger)

    def use_case(work: UnitOfWork) -> None:
        store.insert_lots(work.unit, configured, [lot("gone", work.now)])
        work.event("test.kept", "gone")
        raise ValidationError("refused after the write was kept", field="x")

    with pytest.raises(ValidationError):
        ledger.run(configured, use_case)
    assert store.get_lot(None, configured, "gone") is None


def test_a_taken_key_among_kept_writes_runs_the_unit_again(ledger: Ledger, configured: str) -> None:
    store = store_of(ledger)
    ledger.run(
        configured, lambda work: store.insert_lots(work.unit, configured, [lot("t1", work.now)])
    )
    calls: list[str] = []

    def use_case(work: UnitOfWork) -> str:
        lot_id = "t1" if not calls else "t2"  # the first run collides at its COMMIT
        calls.append(lot_id)
        store.insert_lots(work.unit, configured, [lot(lot_id, work.now)])
        return lot_id

    assert ledger.run(configured, use_case) == "t2"
    assert calls == ["t1", "t2"]
    assert store.get_lot(None, configured, "t2") is not None
