"""Due jobs, on SQLite and PostgreSQL: a step that fails for one tenant stops neither its
other steps nor the other tenants; it is recorded, listed, retried, and resolved."""

from __future__ import annotations

import secrets

import pytest

from rewardledger.domain.errors import NotFound, ValidationError
from rewardledger.domain.transfers import TransferRequest, TransferState
from rewardledger.ledger.engine import Ledger
from rewardledger.services import jobs
from tests.builders import FakeClock, fund, programme
from tests.services.cycles_support import (
    clear_the_bad_mark,
    plant_an_uncomputable_cycle,
    programmes,
)


def short_hold(ledger: Ledger, tenant_id: str, ident: str) -> None:
    """A one-second hold between two funded wallets (the asset USD exists already)."""
    ledger.create_account(tenant_id, "funding", asset="USD")
    ledger.create_account(tenant_id, "w0", asset="USD", no_negative=True)
    ledger.create_account(tenant_id, "w1", asset="USD", no_negative=True)
    ledger.transfer(tenant_id, TransferRequest(f"{ident}-fund", "funding", "w0", "USD", "5.00"))
    ledger.transfer(
        tenant_id,
        TransferRequest(ident, "w0", "w1", "USD", "1.00", pending=True, timeout_seconds=1),
    )


def new_tenant(ledger: Ledger, prefix: str) -> str:
    tenant = f"{prefix}{secrets.token_hex(5)}"
    ledger.create_tenant(tenant, timezone="America/Panama")
    return tenant


def test_a_failing_step_stops_neither_its_tenants_other_steps_nor_other_tenants(
    ledger: Ledger, clock: FakeClock
) -> None:
    bad, good = new_tenant(ledger, "a"), new_tenant(ledger, "b")
    programmes(ledger, bad, mode="job")
    plant_an_uncomputable_cycle(ledger, bad)
    short_hold(ledger, bad, "bad-hold")
    p = programme(ledger, good)
    fund(ledger, p, p.wallets[0], "10.00")
    ledger.transfer(
        good,
        TransferRequest(
            "hold-1", p.wallets[0], p.wallets[1], "USD", "1.00", pending=True, timeout_seconds=1
        ),
    )
    clock.advance(seconds=2)

    reports = jobs.run_every_tenant(ledger, [bad, good])

    first, second = reports
    assert [f.step for f in first.failures] == ["cycles"]
    failure = first.failures[0]
    assert (failure.code, failure.attempts) == ("internal_error", 1)
    assert failure.message == "ValueError: year 0 is out of range"
    # The bad tenant's other steps ran, before and after nothing: its own hold expired.
    assert first.steps["holds"] == {"holds_expired": 1}
    assert set(first.steps) == {"holds", "budgets", "points"}
    assert ledger.get_transfer(bad, "bad-hold").state is TransferState.EXPIRED
    # The next tenant got its due work.
    assert second.failures == []
    assert second.steps["holds"] == {"holds_expired": 1}
    assert ledger.get_transfer(good, "hold-1").state is TransferState.EXPIRED
    listed = jobs.failures(ledger, bad)
    assert [(f.step, f.code, f.attempts, f.resolved_at) for f in listed] == [
        ("cycles", "internal_error", 1, None)
    ]
    assert listed[0].first_failed_at == clock.now
    assert jobs.failures(ledger, good) == []


def test_the_next_run_retries_the_step_and_resolves_its_failure_once_it_succeeds(
    ledger: Ledger, clock: FakeClock
) -> None:
    tenant = new_tenant(ledger, "r")
    programmes(ledger, tenant, mode="job")
    plant_an_uncomputable_cycle(ledger, tenant)
    first_at = clock.now
    assert jobs.run_due_jobs(ledger, tenant).failures[0].attempts == 1
    clock.advance(minutes=5)
    again = jobs.run_due_jobs(ledger, tenant)
    assert [(f.step, f.attempts) for f in again.failures] == [("cycles", 2)]
    (still_open,) = jobs.failures(ledger, tenant)
    assert (still_open.attempts, still_open.first_failed_at) == (2, first_at)
    assert still_open.last_failed_at == clock.now

    clear_the_bad_mark(ledger, tenant)  # what an operator's repair leaves
    clock.advance(minutes=5)
    fixed = jobs.run_due_jobs(ledger, tenant)
    assert fixed.failures == []
    assert "cycles" in fixed.steps
    assert jobs.failures(ledger, tenant) == []
    (resolved,) = jobs.failures(ledger, tenant, include_resolved=True)
    assert (resolved.attempts, resolved.resolved_at) == (2, clock.now)

    # A later failure of the same step is a new one, counted from 1.
    plant_an_uncomputable_cycle(ledger, tenant, movement=False)
    assert jobs.run_due_jobs(ledger, tenant).failures[0].attempts == 1
    assert len(jobs.failures(ledger, tenant, include_resolved=True)) == 2


def test_listing_failures_checks_its_tenant_and_limit(ledger: Ledger, tenant_id: str) -> None:
    with pytest.raises(NotFound):
        jobs.failures(ledger, "no-such-tenant")
    with pytest.raises(ValidationError):
        jobs.failures(ledger, tenant_id, limit=0)
    assert jobs.failures(ledger, tenant_id) == []
