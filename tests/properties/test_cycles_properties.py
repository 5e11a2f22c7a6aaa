"""Any interleaving of cashback and debt movements, refreshes, refresh-mode switches and the
passing of time ends, after the due-jobs run, with exactly the rows a full rebuild computes
(DESIGN.md, "Cycle projections"), on both engines."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rewardledger.ledger.engine import Ledger
from rewardledger.services import cashback, cycles
from tests.builders import FakeClock
from tests.services.cycles_support import accrue, all_rows, owe, programmes

ACCOUNTS = ("card-0", "card-1")
PEOPLE = ("ana", "bob")
TAGS = ("2026-02", "2026-03", "2026-04")


@dataclass(frozen=True)
class Accrue:
    account: str
    tag: str
    spend_minor: int
    cashback_minor: int
    override: bool


@dataclass(frozen=True)
class Reverse:
    index: int


@dataclass(frozen=True)
class Owe:
    person: str
    kind: str
    tag: str
    amount_minor: int


@dataclass(frozen=True)
class Refresh:
    pass


@dataclass(frozen=True)
class SwitchMode:
    mode: str


@dataclass(frozen=True)
class AdvanceDays:
    days: int


def _cents(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


operations = st.lists(
    st.one_of(
        st.builds(
            Accrue,
            st.sampled_from(ACCOUNTS),
            st.sampled_from(TAGS),
            st.integers(1, 20_000),
            st.integers(1, 3_000),
            st.booleans(),
        ),
        st.builds(Reverse, st.integers(0, 20)),
        st.builds(
            Owe,
            st.sampled_from(PEOPLE),
            st.sampled_from(("opening", "charge", "repayment", "discount")),
            st.sampled_from(TAGS),
            st.integers(1, 10_000),
        ),
        st.just(Refresh()),
        st.builds(SwitchMode, st.sampled_from(("inline", "job"))),
        st.builds(AdvanceDays, st.integers(1, 40)),
    ),
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=operations)
# A late movement in an earlier cycle, refreshed after the later cycle (carry-forward), and an
# accrual past the cap reversed after a refresh.
@example(
    operations=[
        Owe("ana", "charge", "2026-03", 500),
        Refresh(),
        Owe("ana", "charge", "2026-02", 700),
        Refresh(),
    ]
)
@example(
    operations=[
        Accrue("card-0", "2026-03", 100, 1_500, False),
        Accrue("card-0", "2026-03", 100, 1_500, False),
        Refresh(),
        Reverse(0),
        SwitchMode("inline"),
        AdvanceDays(30),
        Owe("bob", "repayment", "2026-03", 100),
    ]
)
def test_any_interleaving_of_movements_and_refreshes_ends_with_the_rows_of_a_rebuild(
    ledger: Ledger, clock: FakeClock, operations: list[object]
) -> None:
    clock.set(FakeClock().now)
    tenant_id = f"p{secrets.token_hex(6)}"
    ledger.create_tenant(tenant_id, timezone="America/Panama")
    programmes(ledger, tenant_id, mode="job", default_cap="20.00", grace_days=1, due_day=10)
    accruals: list[str] = []
    for step, operation in enumerate(operations):
        if isinstance(operation, Accrue):
            movement_id = f"a{step}"
            accrue(
                ledger, tenant_id, operation.account, _cents(operation.spend_minor),
                _cents(operation.cashback_minor), override=operation.override,
                movement_id=movement_id, tag=operation.tag,
            )  # fmt: skip
            accruals.append(movement_id)
        elif isinstance(operation, Reverse) and accruals:
            target = accruals[operation.index % len(accruals)]
            cashback.reverse(ledger, tenant_id, cashback.Reversal(target))
        elif isinstance(operation, Owe):
            owe(ledger, tenant_id, operation.person, operation.kind,
                _cents(operation.amount_minor), tag=operation.tag)  # fmt: skip
        elif isinstance(operation, Refresh):
            cycles.refresh(ledger, tenant_id, batch_size=2)
        elif isinstance(operation, SwitchMode):
            cycles.set_refresh_mode(ledger, tenant_id, operation.mode)
        elif isinstance(operation, AdvanceDays):
            clock.advance(days=operation.days)
    cycles.run_due(ledger, tenant_id)
    assert cycles.count_dirty(ledger, tenant_id) == 0
    refreshed = all_rows(ledger, tenant_id)
    report = cycles.rebuild(ledger, tenant_id, batch_size=3)
    assert all_rows(ledger, tenant_id) == refreshed
    assert report.rows_changed == 0
