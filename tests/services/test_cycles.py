"""Cashback and debt cycle ledgers: each column's rule with worked examples, on both engines.

The tenant's zone is America/Panama (UTC-5); the clock starts at 2026-03-15 12:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rewardledger.domain.cycles import CycleStatus, DebtStatus, Eligibility
from rewardledger.domain.errors import (
    CycleNotClosed,
    IdempotencyConflict,
    ProgramNotConfigured,
    ValidationError,
)
from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles, debt
from tests.builders import FakeClock
from tests.conftest import owner_engine
from tests.services.cycles_support import (
    accrue,
    all_rows,
    cashback_row,
    debt_row,
    owe,
    programmes,
)

# Cashback ------------------------------------------------------------------------------------


def test_an_accrual_below_the_cap_is_credited_in_full_and_the_row_is_pending_below_minimum(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "40.00", "2.00")
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert (row.total_spend_minor, row.total_cashback_minor) == (4000, 200)
    assert (row.budget_cap_minor, row.remaining_budget_minor) == (5000, 4800)
    assert row.eligibility is Eligibility.PENDING
    assert row.status is CycleStatus.OPEN
    assert str(ledger.balance(tenant_id, "card-1").posted) == "2.00"


def test_an_accrual_that_would_pass_the_cap_is_credited_only_up_to_it(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "800.00", "40.00")
    result = accrue(ledger, tenant_id, "card-1", "400.00", "20.00")
    assert (result.movement.requested_minor, result.movement.cashback_minor) == (2000, 1000)
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert row.total_cashback_minor == 5000
    assert row.remaining_budget_minor == 0
    assert row.eligibility is Eligibility.REACHED_CAP
    assert str(ledger.balance(tenant_id, "card-1").posted) == "50.00"
    capped = accrue(ledger, tenant_id, "card-1", "10.00", "1.00")
    assert capped.movement.cashback_minor == 0
    assert capped.movement.transfer_id is None


def test_an_override_may_take_the_remaining_budget_below_zero_and_says_so(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "900.00", "45.00")
    accrue(ledger, tenant_id, "card-1", "200.00", "10.00", override=True)
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert row.total_cashback_minor == 5500
    assert row.remaining_budget_minor == -500
    assert row.eligibility is Eligibility.REACHED_CAP
    assert row.notes is not None
    assert "5.00 past its cap" in row.notes


def test_the_latest_cap_snapshot_wins_over_the_account_default_and_the_programme(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id)
    cashback.set_account(ledger, tenant_id, "card-1", default_cap="30.00")
    accrue(ledger, tenant_id, "card-1", "150.00", "5.00")
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").budget_cap_minor == 3000
    clock.advance(minutes=1)
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00", cap="80.00")
    clock.advance(minutes=1)
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00")
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert row.budget_cap_minor == 8000
    assert row.eligibility is Eligibility.ELIGIBLE


def test_minimum_spend_not_met_is_pending_while_open_and_not_eligible_once_closed(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id, grace_days=3)
    accrue(ledger, tenant_id, "card-1", "60.00", "3.00")
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").eligibility is Eligibility.PENDING
    # March ends at 2026-04-01 00:00 Panama = 05:00 UTC; three days of grace follow.
    clock.set(datetime(2026, 4, 4, 4, 59, tzinfo=UTC))
    cycles.run_due(ledger, tenant_id)
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").status is CycleStatus.OPEN
    clock.set(datetime(2026, 4, 4, 5, 0, tzinfo=UTC))
    report = cycles.run_due(ledger, tenant_id)
    assert report["cycle_rows_changed"] == 1
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert row.status is CycleStatus.CLOSED
    assert row.eligibility is Eligibility.NOT_ELIGIBLE


def test_minimum_spend_met_is_eligible(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "100.00", "5.00")
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").eligibility is Eligibility.ELIGIBLE


def test_an_account_not_enrolled_is_not_eligible_whatever_it_spends(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "300.00", "5.00")
    cashback.set_account(ledger, tenant_id, "card-1", enrolled=False)
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert row.eligibility is Eligibility.NOT_ELIGIBLE
    assert row.notes == "account not enrolled"


def test_cycle_boundaries_follow_the_tenants_zone_not_utc(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id)
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    # 2026-04-01 03:00 UTC is still March 31 in Panama; 05:00 UTC is April 1.
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00", at=datetime(2026, 4, 1, 3, tzinfo=UTC))
    accrue(ledger, tenant_id, "card-1", "20.00", "2.00", at=datetime(2026, 4, 1, 5, tzinfo=UTC))
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").total_spend_minor == 1000
    assert cashback_row(ledger, tenant_id, "card-1", "2026-04").total_spend_minor == 2000


def test_a_reversal_takes_back_exactly_what_its_accrual_credited_once(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "800.00", "45.00")
    accrue(ledger, tenant_id, "card-1", "200.00", "10.00", movement_id="buy-2")  # 5.00 credited
    first = cashback.reverse(ledger, tenant_id, cashback.Reversal("buy-2"))
    again = cashback.reverse(ledger, tenant_id, cashback.Reversal("buy-2"))
    assert first.movement.cashback_minor == -500
    assert again.replayed
    assert again.movement == first.movement
    row = cashback_row(ledger, tenant_id, "card-1", "2026-03")
    assert (row.total_spend_minor, row.total_cashback_minor) == (80000, 4500)
    assert str(ledger.balance(tenant_id, "card-1").posted) == "45.00"


def test_a_replayed_accrual_returns_the_first_result_and_a_changed_one_conflicts(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    first = accrue(ledger, tenant_id, "card-1", "10.00", "1.00", movement_id="m-1")
    again = accrue(ledger, tenant_id, "card-1", "10.00", "1.00", movement_id="m-1")
    assert again.replayed
    assert again.movement == first.movement
    with pytest.raises(IdempotencyConflict):
        accrue(ledger, tenant_id, "card-1", "10.00", "2.00", movement_id="m-1")
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").total_cashback_minor == 100


def test_movements_before_a_programme_exists_are_refused(ledger: Ledger, tenant_id: str) -> None:
    ledger.create_asset(tenant_id, "USD", scale=2)
    with pytest.raises(ProgramNotConfigured):
        accrue(ledger, tenant_id, "card-1", "10.00", "1.00")
    with pytest.raises(ProgramNotConfigured):
        owe(ledger, tenant_id, "ana", "charge", "1.00")


def test_in_job_mode_rows_change_only_when_a_refresh_runs(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id, mode="job")
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00")
    assert all_rows(ledger, tenant_id) == ([], [])
    assert cycles.count_dirty(ledger, tenant_id) == 1
    report = cycles.refresh(ledger, tenant_id)
    assert (report.pairs, report.rows_changed) == (1, 1)
    assert cashback_row(ledger, tenant_id, "card-1", "2026-03").total_cashback_minor == 100
    assert cycles.count_dirty(ledger, tenant_id) == 0


# Debt ----------------------------------------------------------------------------------------


def test_net_debt_is_initial_plus_new_minus_repayments_minus_discount(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    owe(ledger, tenant_id, "ana", "opening", "100.00")
    owe(ledger, tenant_id, "ana", "charge", "50.00")
    owe(ledger, tenant_id, "ana", "repayment", "30.00")
    owe(ledger, tenant_id, "ana", "discount", "5.00")
    row = debt_row(ledger, tenant_id, "ana", "2026-03")
    assert (row.initial_debt_minor, row.new_debt_minor) == (10000, 5000)
    assert (row.repayments_minor, row.debt_discount_minor) == (3000, 500)
    assert row.net_debt_minor == 11500
    assert row.status is DebtStatus.PARTIAL
    assert str(ledger.balance(tenant_id, "debt:ana").posted) == "-115.00"


def test_debt_carries_forward_and_a_late_change_to_an_earlier_cycle_moves_it(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id, mode="job")
    owe(ledger, tenant_id, "ana", "charge", "80.00", tag="2026-03")
    owe(ledger, tenant_id, "ana", "charge", "20.00", tag="2026-04")
    cycles.refresh(ledger, tenant_id)
    april = debt_row(ledger, tenant_id, "ana", "2026-04")
    assert (april.initial_debt_minor, april.net_debt_minor) == (8000, 10000)
    # A repayment booked into March changes March's net, hence April's initial debt.
    owe(ledger, tenant_id, "ana", "repayment", "30.00", tag="2026-03")
    cycles.refresh(ledger, tenant_id)
    april = debt_row(ledger, tenant_id, "ana", "2026-04")
    assert (april.initial_debt_minor, april.net_debt_minor) == (5000, 7000)


def test_an_opening_movement_replaces_the_carried_debt(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id)
    owe(ledger, tenant_id, "ana", "charge", "80.00", tag="2026-02")
    owe(ledger, tenant_id, "ana", "opening", "60.00", tag="2026-03")
    assert debt_row(ledger, tenant_id, "ana", "2026-03").initial_debt_minor == 6000


def test_an_overpayment_is_visible_as_negative_net_debt_and_carries_forward(
    ledger: Ledger, tenant_id: str
) -> None:
    programmes(ledger, tenant_id)
    owe(ledger, tenant_id, "ana", "charge", "40.00", tag="2026-03")
    owe(ledger, tenant_id, "ana", "repayment", "50.00", tag="2026-03")
    owe(ledger, tenant_id, "ana", "charge", "25.00", tag="2026-04")
    march = debt_row(ledger, tenant_id, "ana", "2026-03")
    assert march.net_debt_minor == -1000
    assert march.status is DebtStatus.REPAID
    assert march.notes == "overpaid by 10.00"
    april = debt_row(ledger, tenant_id, "ana", "2026-04")
    assert (april.initial_debt_minor, april.net_debt_minor) == (-1000, 1500)


def test_debt_becomes_overdue_after_the_due_date_and_grace(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id, due_day=31, debt_grace_days=2)
    owe(ledger, tenant_id, "ana", "charge", "40.00")
    row = debt_row(ledger, tenant_id, "ana", "2026-03")
    # Due at the end of April 30 (clamped from 31) in Panama = 2026-05-01 05:00 UTC.
    assert row.due_at == datetime(2026, 5, 1, 5, tzinfo=UTC)
    assert row.status is DebtStatus.OPEN
    clock.set(datetime(2026, 5, 3, 4, 59, tzinfo=UTC))
    assert cycles.run_due(ledger, tenant_id)["cycle_rows_due"] == 0
    assert debt_row(ledger, tenant_id, "ana", "2026-03").status is DebtStatus.OPEN
    clock.set(datetime(2026, 5, 3, 5, tzinfo=UTC))
    # The count of rows marked due is the statement's own (it was -1 on PostgreSQL).
    assert cycles.run_due(ledger, tenant_id)["cycle_rows_due"] == 1
    assert debt_row(ledger, tenant_id, "ana", "2026-03").status is DebtStatus.OVERDUE
    assert cycles.run_due(ledger, tenant_id)["cycle_rows_due"] == 0


def test_a_movements_own_due_date_overrides_the_programmes(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id)
    owe(ledger, tenant_id, "ana", "charge", "40.00", due_at=datetime(2026, 3, 20, tzinfo=UTC))
    clock.set(datetime(2026, 3, 21, tzinfo=UTC))
    cycles.run_due(ledger, tenant_id)
    assert debt_row(ledger, tenant_id, "ana", "2026-03").status is DebtStatus.OVERDUE


def test_with_a_closing_day_the_tag_names_the_month_the_statement_closes(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id, closing_day=20)
    clock.set(datetime(2026, 3, 25, tzinfo=UTC))
    # March 20 23:30 Panama (21st 04:30 UTC) is in March's statement; March 21 in April's.
    owe(ledger, tenant_id, "ana", "charge", "1.00", at=datetime(2026, 3, 21, 4, 30, tzinfo=UTC))
    owe(ledger, tenant_id, "ana", "charge", "2.00", at=datetime(2026, 3, 21, 5, 30, tzinfo=UTC))
    assert debt_row(ledger, tenant_id, "ana", "2026-03").new_debt_minor == 100
    assert debt_row(ledger, tenant_id, "ana", "2026-04").new_debt_minor == 200


# Cashback to debt -----------------------------------------------------------------------------


def test_a_closed_cycles_cashback_is_applied_to_debt_once(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "150.00", "7.50")
    owe(ledger, tenant_id, "ana", "charge", "40.00")
    with pytest.raises(CycleNotClosed):
        cashback.apply_to_debt(ledger, tenant_id, "card-1", "2026-03", person_id="ana")
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    first = cashback.apply_to_debt(
        ledger, tenant_id, "card-1", "2026-03", person_id="ana", debt_cycle_tag="2026-03"
    )
    again = cashback.apply_to_debt(
        ledger, tenant_id, "card-1", "2026-03", person_id="ana", debt_cycle_tag="2026-03"
    )
    assert again.replayed
    assert again.movement == first.movement
    with pytest.raises(IdempotencyConflict):
        cashback.apply_to_debt(ledger, tenant_id, "card-1", "2026-03", person_id="bob")
    row = debt_row(ledger, tenant_id, "ana", "2026-03")
    assert (row.debt_discount_minor, row.net_debt_minor) == (750, 3250)
    assert str(ledger.balance(tenant_id, "card-1").posted) == "0.00"


def test_settings_are_validated(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id)
    with pytest.raises(ValidationError):
        debt.set_program(ledger, tenant_id, currency="USD", closing_day=32)
    with pytest.raises(ValidationError):
        cycles.set_refresh_mode(ledger, tenant_id, "sometimes")
    with pytest.raises(ValidationError):
        accrue(ledger, tenant_id, "card-1", "10.001", "1.00")


def test_a_change_to_a_ledger_row_writes_an_outbox_event(ledger: Ledger, tenant_id: str) -> None:
    from sqlalchemy import select

    from rewardledger.storage.schema import outbox

    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00")
    owe(ledger, tenant_id, "ana", "charge", "1.00")
    engine = owner_engine(ledger)
    with engine.connect() as connection:
        types = set(
            connection.scalars(select(outbox.c.event_type).where(outbox.c.tenant_id == tenant_id))
        )
    assert {"cashback_ledger.changed", "debt_ledger.changed"} <= types


def test_a_cycle_that_closes_and_debt_that_becomes_overdue_each_write_their_event_once(
    ledger: Ledger, tenant_id: str, clock: FakeClock
) -> None:
    from sqlalchemy import select

    from rewardledger.storage.schema import outbox

    def events() -> list[tuple[str, str]]:
        with owner_engine(ledger).connect() as connection:
            rows = connection.execute(
                select(outbox.c.event_type, outbox.c.subject_id).where(
                    outbox.c.tenant_id == tenant_id,
                    outbox.c.event_type.in_(("cashback_cycle.closed", "debt.overdue")),
                )
            )
            return sorted((row.event_type, row.subject_id) for row in rows)

    programmes(ledger, tenant_id, grace_days=0, due_day=31, debt_grace_days=0)
    accrue(ledger, tenant_id, "card-1", "60.00", "3.00")
    owe(ledger, tenant_id, "ana", "charge", "40.00")
    assert events() == []
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))
    cycles.run_due(ledger, tenant_id)
    closed_and_overdue = [
        ("cashback_cycle.closed", "card-1/2026-03"),
        ("debt.overdue", "ana/2026-03"),
    ]
    assert events() == closed_and_overdue
    # A later change to a row already overdue is not announced as overdue again.
    owe(ledger, tenant_id, "ana", "charge", "5.00", at=datetime(2026, 3, 20, tzinfo=UTC))
    assert debt_row(ledger, tenant_id, "ana", "2026-03").net_debt_minor == 4500
    cycles.run_due(ledger, tenant_id)
    cycles.refresh(ledger, tenant_id)
    assert events() == closed_and_overdue


def test_a_rebuild_gives_the_rows_the_refreshes_gave(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id, mode="job")
    for index in range(7):
        accrue(ledger, tenant_id, f"card-{index % 3}", "60.00", "9.00")
        owe(ledger, tenant_id, f"p{index % 2}", "charge", "10.00", tag=f"2026-0{1 + index % 3}")
    cycles.refresh(ledger, tenant_id)
    refreshed = all_rows(ledger, tenant_id)
    report = cycles.rebuild(ledger, tenant_id, batch_size=2)
    assert report.rows_changed == 0
    assert report.pairs == 3 + 6
    assert all_rows(ledger, tenant_id) == refreshed


@pytest.mark.parametrize("table", ["cashback_movements", "debt_movements"])
def test_cycle_movements_refuse_plain_sql_updates_and_deletes(
    ledger: Ledger, tenant_id: str, table: str
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    programmes(ledger, tenant_id)
    accrue(ledger, tenant_id, "card-1", "10.00", "1.00")
    owe(ledger, tenant_id, "ana", "charge", "1.00")
    engine = owner_engine(ledger)
    for statement in (
        f"UPDATE {table} SET cycle_tag = '1999-01' WHERE tenant_id = :t",
        f"DELETE FROM {table} WHERE tenant_id = :t",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement), {"t": tenant_id})
    assert all_rows(ledger, tenant_id)[0][0].total_cashback_minor == 100


@pytest.mark.parametrize("tag", ["0000-01", "1899-12", "9001-01", "9999-12"])
@pytest.mark.parametrize("mode", ["inline", "job"])
def test_a_cycle_tag_outside_the_computable_years_is_refused_at_the_edge(
    ledger: Ledger, tenant_id: str, tag: str, mode: str
) -> None:
    programmes(ledger, tenant_id, mode=mode)
    with pytest.raises(ValidationError, match='from "1900-01" to "9000-12"'):
        owe(ledger, tenant_id, "ana", "charge", "1.00", tag=tag)
    with pytest.raises(ValidationError, match='from "1900-01" to "9000-12"'):
        accrue(ledger, tenant_id, "card-1", "10.00", "1.00", tag=tag)
    # Nothing was stored, so the tenant's due work still runs.
    assert cycles.count_dirty(ledger, tenant_id) == 0
    assert cycles.run_due(ledger, tenant_id)["cycle_rows_due"] == 0


def test_the_edge_years_themselves_are_computed(ledger: Ledger, tenant_id: str) -> None:
    programmes(ledger, tenant_id, mode="job", grace_days=30, debt_grace_days=30)
    for tag in ("1900-01", "9000-12"):
        owe(ledger, tenant_id, "ana", "charge", "1.00", tag=tag)
        accrue(ledger, tenant_id, "card-1", "10.00", "1.00", tag=tag)
    assert cycles.refresh(ledger, tenant_id).rows_changed == 4
    assert cycles.rebuild(ledger, tenant_id).pairs == 4
    assert debt_row(ledger, tenant_id, "ana", "9000-12").net_debt_minor == 200  # 1.00 carried
