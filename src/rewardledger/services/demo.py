"""A realistic small loyalty programme, for trying rewardledger out.

Owns: the demo tenant's shape. Members earn LUMIS points on invoices, daily games and streaks,
spend them on offers (a hold at checkout, posted or voided later), and receive USD cashback.
Every id is derived from the member and day, so running it again writes nothing new.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from rewardledger.domain.limits import BATCH_SIZE_MAX
from rewardledger.domain.transfers import Operation, PostPending, TransferRequest, VoidPending
from rewardledger.ledger.engine import Ledger
from rewardledger.services import demo_programme

DEMO_TENANT = "demo"
POINTS = "LUMIS"
CASH = "USD"
ISSUANCE = "issuance:LUMIS"
REDEMPTIONS = "redemptions:LUMIS"
FUNDING = "funding:USD"
_SEED = 20251216
_EARN_REASONS = (("invoice", 40, 400), ("daily_game", 5, 25), ("streak", 50, 100))


@dataclass(frozen=True, slots=True)
class DemoSize:
    members: int
    days: int

    def __post_init__(self) -> None:
        assert self.members >= 1
        assert self.days >= 1


SMALL = DemoSize(members=25, days=14)


def member_wallet(member: int) -> str:
    return f"member:{member:05d}:{POINTS}"


def member_cash(member: int) -> str:
    return f"member:{member:05d}:{CASH}"


def demo_key_id(tenant_id: str = DEMO_TENANT) -> str:
    """The id of the demo tenant's one demo admin key: derived from the tenant, so that a
    database holds at most one (``rewardledger serve`` mints it at its first start)."""
    return hashlib.sha256(f"rewardledger demo key of {tenant_id}".encode()).hexdigest()[:16]


def estimated_operations(size: DemoSize) -> int:
    """About how many writes ``seed`` performs (for a progress bar's total)."""
    return size.members * 2 + size.members * size.days * 2


def seed(
    ledger: Ledger,
    size: DemoSize = SMALL,
    *,
    tenant_id: str = DEMO_TENANT,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create (or complete) the demo tenant, its activity and its services' programme
    (``demo_programme``); return how many activity transfers it wrote anew.

        ``progress`` is called with the number of operations processed, new or not.
    """
    advance = progress or (lambda _: None)
    ledger.create_tenant(tenant_id, name="Lumis Demo Rewards", timezone="America/Panama")
    ledger.create_asset(tenant_id, POINTS, scale=0, name="Lumis points")
    ledger.create_asset(tenant_id, CASH, scale=2, name="US dollar")
    for system, asset in ((ISSUANCE, POINTS), (REDEMPTIONS, POINTS), (FUNDING, CASH)):
        ledger.create_account(tenant_id, system, asset=asset, metadata={"system": True})
    for member in range(size.members):
        for account, asset in ((member_wallet(member), POINTS), (member_cash(member), CASH)):
            ledger.create_account(tenant_id, account, asset=asset, no_negative=True)
        advance(2)
    written = 0
    batch: list[Operation] = []
    for op in _activity(ledger, size):
        batch.append(op)
        if len(batch) == BATCH_SIZE_MAX // 8:
            written += _flush(ledger, tenant_id, batch, advance)
    if batch:
        written += _flush(ledger, tenant_id, batch, advance)
    demo_programme.seed_programme(ledger, tenant_id)
    return written


def _flush(
    ledger: Ledger, tenant_id: str, batch: list[Operation], advance: Callable[[int], None]
) -> int:
    # Independent items: a member who cannot afford an offer is refused, the rest go through.
    results = ledger.submit(tenant_id, batch, atomic=False)
    advance(len(batch))
    batch.clear()
    return sum(1 for result in results if not result.replayed)


def _activity(ledger: Ledger, size: DemoSize) -> Iterator[Operation]:
    rng = random.Random(_SEED)  # noqa: S311 - demo data, not secrets
    start = ledger.clock() - timedelta(days=size.days)
    for day in range(size.days):
        when = start + timedelta(days=day, hours=rng.randint(8, 20))
        for member in range(size.members):
            reason, low, high = rng.choice(_EARN_REASONS)
            yield TransferRequest(
                f"demo-earn-{member}-{day}",
                ISSUANCE,
                member_wallet(member),
                POINTS,
                str(rng.randint(low, high)),
                kind="earn",
                reason=reason,
                effective_at=when,
            )
            roll = rng.random()
            if roll < 0.25:
                hold = f"demo-redeem-{member}-{day}"
                yield TransferRequest(
                    hold,
                    member_wallet(member),
                    REDEMPTIONS,
                    POINTS,
                    str(rng.choice((100, 150, 250))),
                    kind="spend",
                    reason="points",
                    pending=True,
                    effective_at=when,
                )
                if day < size.days - 1:  # the last day's redemptions stay pending
                    settle = PostPending if rng.random() < 0.8 else VoidPending
                    yield settle(hold)
            elif roll < 0.45:
                cents = rng.randint(25, 500)
                yield TransferRequest(
                    f"demo-cashback-{member}-{day}",
                    FUNDING,
                    member_cash(member),
                    CASH,
                    f"{cents // 100}.{cents % 100:02d}",
                    kind="cashback",
                    reason="purchase",
                    effective_at=when,
                )
