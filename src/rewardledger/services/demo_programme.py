"""The demo tenant's services, so that a first start shows every feature, not only the ledger.

Owns: what ``demo.seed`` adds beside the core activity, each through the services' own calls:
- a campaign budget near its soft cap, with its alerts (``budgets``);
- points holders with earn lots expiring in 90 days (an expiry forecast), a spend, and
  redemptions with their codes and QR images, one pending and one confirmed (``points``,
  ``redemptions``);
- cashback cycles, one at its cap and one taken past it by an override (``cashback``);
- debt cycles open, partial, repaid and overdue (``debt``);
- the cycle ledgers refreshed (``cycles.refresh``).
Every write has a fixed id, so a second run replays instead of writing anew; and a programme
already complete (its last write, the budget's open reservation, exists) is left as it is, so
a start months later does not add a second month of it.
"""

from __future__ import annotations

from datetime import timedelta

from rewardledger.domain.errors import NotFound
from rewardledger.domain.points import ExpiryKind, ExpiryPolicy, RedemptionState
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, cashback, cycles, debt, points, redemptions

POINTS_ASSET = "LUMIS"
CURRENCY = "USD"
BUDGET = "spring-campaign"
BUDGET_HARD_CAP = "1000.00"
BUDGET_SOFT_CAP = "800.00"
# Charged (reference, amount), then one left reserved: 880.00 used of 1,000.00, past the
# 800.00 soft cap.
BUDGET_CHARGED = (("demo-iss-1", "500.00"), ("demo-iss-2", "320.00"))
BUDGET_OPEN_ISSUE = ("demo-iss-3", "60.00")
POINTS_EXPIRY_DAYS = 90
# (holder, earns); each earn is a lot.
POINTS_HOLDERS = (
    ("member-00000", ("400", "150")),
    ("member-00001", ("300",)),
    ("member-00002", ("120", "80", "60")),
)
# Each: its reference, holder, offer, cost and whether it is confirmed at a till.
REDEMPTIONS = (
    ("demo-redemption-1", "member-00000", "coffee", "100", False),
    ("demo-redemption-2", "member-00001", "movie-ticket", "150", True),
)
CASHBACK_MINIMUM_SPEND = "50.00"
CASHBACK_CAP = "20.00"
CASHBACK_AT_CAP = "member-00000"
CASHBACK_OVERRIDE = "member-00001"
# person -> the status their debt cycle shows after the seed
DEBT_OPEN, DEBT_PARTIAL, DEBT_REPAID, DEBT_OVERDUE = (
    "member-00010",
    "member-00011",
    "member-00012",
    "member-00013",
)


def complete(ledger: Ledger, tenant_id: str) -> bool:
    """Whether the demo programme of ``tenant_id`` was seeded in full already."""
    try:
        budgets.get_reservation(ledger, tenant_id, BUDGET, BUDGET_OPEN_ISSUE[0])
    except NotFound:
        return False
    return True


def seed_programme(ledger: Ledger, tenant_id: str) -> bool:
    """Seed the services of the demo tenant; False when they were seeded already."""
    if complete(ledger, tenant_id):
        return False
    _points(ledger, tenant_id)
    _cashback(ledger, tenant_id)
    _debt(ledger, tenant_id)
    cycles.refresh(ledger, tenant_id)
    _budget(ledger, tenant_id)  # last: its open reservation marks the programme complete
    return True


def _points(ledger: Ledger, tenant_id: str) -> None:
    points.configure(
        ledger,
        tenant_id,
        POINTS_ASSET,
        expiry=ExpiryPolicy(ExpiryKind.AFTER, days=POINTS_EXPIRY_DAYS),
    )
    for holder, earns in POINTS_HOLDERS:
        for number, amount in enumerate(earns):
            points.earn(
                ledger,
                tenant_id,
                holder,
                amount,
                dtype="invoice",
                reference=f"demo-points-{holder}-{number}",
            )
    points.spend(
        ledger, tenant_id, "member-00002", "90", dtype="points", reference="demo-points-spend-1"
    )
    for reference, holder, offer, cost, confirmed in REDEMPTIONS:
        made = redemptions.create(
            ledger,
            tenant_id,
            holder,
            offer_id=offer,
            cost=cost,
            reference=reference,
            ttl_seconds=30 * 24 * 3600,
        )
        if confirmed and made.state is RedemptionState.PENDING:
            redemptions.confirm(ledger, tenant_id, made.code, actor="demo till")


def _cashback(ledger: Ledger, tenant_id: str) -> None:
    cashback.set_program(
        ledger,
        tenant_id,
        currency=CURRENCY,
        minimum_spend=CASHBACK_MINIMUM_SPEND,
        default_cap=CASHBACK_CAP,
        grace_days=5,
    )
    # 25.00 asked, 20.00 credited: the cycle is at its cap.
    cashback.accrue(
        ledger,
        tenant_id,
        cashback.Accrual("demo-cashback-1", CASHBACK_AT_CAP, "400.00", "25.00"),
    )
    cashback.accrue(
        ledger,
        tenant_id,
        cashback.Accrual("demo-cashback-2", CASHBACK_OVERRIDE, "300.00", "15.00"),
    )
    # An override credits in full, past the cap (the row's notes say by how much).
    cashback.accrue(
        ledger,
        tenant_id,
        cashback.Accrual("demo-cashback-3", CASHBACK_OVERRIDE, "200.00", "10.00", override=True),
    )


def _debt(ledger: Ledger, tenant_id: str) -> None:
    debt.set_program(ledger, tenant_id, currency=CURRENCY, closing_day=31, due_day=15)
    now = ledger.clock()
    tenant = ledger.get_tenant(tenant_id)
    due_later = now + timedelta(days=25)
    past = now - timedelta(days=62)
    moves = (
        ("demo-debt-open", DEBT_OPEN, "charge", "80.00", None, due_later),
        ("demo-debt-partial", DEBT_PARTIAL, "charge", "200.00", None, due_later),
        ("demo-debt-partial-paid", DEBT_PARTIAL, "repayment", "50.00", None, due_later),
        ("demo-debt-repaid", DEBT_REPAID, "charge", "60.00", None, due_later),
        ("demo-debt-repaid-paid", DEBT_REPAID, "repayment", "60.00", None, due_later),
        ("demo-debt-overdue", DEBT_OVERDUE, "opening", "120.00", past, now - timedelta(days=20)),
    )
    for move_id, person, kind, amount, occurred, due_at in moves:
        tag = tenant.cycle_tag(occurred or now)
        debt.record(
            ledger,
            tenant_id,
            debt.DebtRequest(
                move_id, person, kind, amount, cycle_tag=tag, due_at=due_at, occurred_at=occurred
            ),
        )


def _budget(ledger: Ledger, tenant_id: str) -> None:
    budgets.create_budget(
        ledger,
        tenant_id,
        BUDGET,
        currency=CURRENCY,
        hard_cap=BUDGET_HARD_CAP,
        soft_cap=BUDGET_SOFT_CAP,
        name="Spring campaign",
    )
    budgets.topup(
        ledger,
        tenant_id,
        BUDGET,
        amount=BUDGET_HARD_CAP,
        currency=CURRENCY,
        idempotency_key="demo-budget-topup-1",
    )
    for reference, amount in BUDGET_CHARGED:
        budgets.reserve(
            ledger, tenant_id, BUDGET, reference=reference, amount=amount, currency=CURRENCY
        )
        budgets.charge(ledger, tenant_id, BUDGET, reference, idempotency_key=f"{reference}-charge")
    reference, amount = BUDGET_OPEN_ISSUE
    budgets.reserve(
        ledger, tenant_id, BUDGET, reference=reference, amount=amount, currency=CURRENCY
    )
