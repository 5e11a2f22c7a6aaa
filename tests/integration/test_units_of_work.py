"""Units of work: a service's use case commits its transfers and events together, or nothing,
and is run again, whole, when an id it wrote exists already."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rewardledger.domain.errors import InsufficientFunds, NotFound, ValidationError
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.results import TransferResult
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.storage.schema import outbox
from tests.builders import Programme, fund, programme
from tests.conftest import owner_engine


@pytest.fixture
def funded(ledger: Ledger, tenant_id: str) -> Programme:
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "100.00")
    return p


def events_of(ledger: Ledger, tenant_id: str, event_type: str) -> list[str]:
    engine = owner_engine(ledger)
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.subject_id).where(
                outbox.c.tenant_id == tenant_id, outbox.c.event_type == event_type
            )
        )
        return sorted(row.subject_id for row in rows)


def move(p: Programme, ident: str, amount: str) -> TransferRequest:
    return TransferRequest(ident, p.wallets[0], p.wallets[1], "USD", amount)


def test_a_unit_commits_its_transfers_and_events_together(
    ledger: Ledger, funded: Programme
) -> None:
    def use_case(work: UnitOfWork) -> list[TransferResult]:
        work.event("test.moved", "m1", {"why": "a test"})
        return work.submit([move(funded, "m1", "10.00"), move(funded, "m2", "5.00")])

    results = ledger.run(funded.tenant_id, use_case)
    assert [r.ok for r in results] == [True, True]
    assert str(ledger.balance(funded.tenant_id, funded.wallets[1]).posted) == "15.00"
    assert events_of(ledger, funded.tenant_id, "test.moved") == ["m1"]


def test_an_error_in_a_unit_leaves_nothing_written(ledger: Ledger, funded: Programme) -> None:
    def use_case(work: UnitOfWork) -> None:
        work.event("test.moved", "m1")
        work.submit([move(funded, "m1", "10.00")])
        raise ValidationError("refused after the transfer was written")

    with pytest.raises(ValidationError):
        ledger.run(funded.tenant_id, use_case)
    with pytest.raises(NotFound):
        ledger.get_transfer(funded.tenant_id, "m1")
    assert str(ledger.balance(funded.tenant_id, funded.wallets[0]).posted) == "100.00"
    assert events_of(ledger, funded.tenant_id, "test.moved") == []


def test_a_refusal_inside_a_unit_is_returned_not_raised(ledger: Ledger, funded: Programme) -> None:
    results = ledger.run(funded.tenant_id, lambda work: work.submit([move(funded, "m1", "500.00")]))
    assert isinstance(results[0].error, InsufficientFunds)
    assert str(ledger.balance(funded.tenant_id, funded.wallets[0]).posted) == "100.00"


def test_a_unit_run_again_answers_its_written_ids_as_replays(
    ledger: Ledger, funded: Programme
) -> None:
    ledger.transfer(funded.tenant_id, move(funded, "m1", "10.00"))
    calls: list[int] = []

    def use_case(work: UnitOfWork) -> list[TransferResult]:
        calls.append(1)
        return work.submit([move(funded, "m2", "5.00")]) + work.submit(
            [move(funded, "m1", "10.00")]
        )

    fresh, replayed = ledger.run(funded.tenant_id, use_case)
    assert len(calls) == 2  # the first attempt hit m1, the second answered it from the journal
    assert (fresh.ok, fresh.replayed) == (True, False)
    assert (replayed.ok, replayed.replayed) == (True, True)
    # m2 was rolled back with the first attempt and written once by the second.
    assert str(ledger.balance(funded.tenant_id, funded.wallets[1]).posted) == "15.00"
