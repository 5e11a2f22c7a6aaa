"""Builders for tests: a controllable clock and a small funded loyalty programme."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rewardledger.domain.budgets import BudgetPeriod, BudgetPolicy
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.engine import Ledger

_ids = itertools.count(1)


def new_id(prefix: str = "tr") -> str:
    return f"{prefix}-{next(_ids)}"


class FakeClock:
    """A clock that stands still until moved; starts at a fixed, known instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, instant: datetime) -> None:
        self.now = instant


@dataclass(frozen=True)
class Programme:
    """A tenant with USD (scale 2), a funding account that may go negative, and wallets."""

    tenant_id: str
    funding: str
    wallets: tuple[str, ...]


def programme(ledger: Ledger, tenant_id: str, wallets: int = 2, asset: str = "USD") -> Programme:
    ledger.create_asset(tenant_id, asset, scale=2)
    funding = f"funding:{asset}"
    ledger.create_account(tenant_id, funding, asset=asset)
    names = tuple(f"wallet:{i}:{asset}" for i in range(wallets))
    for name in names:
        ledger.create_account(tenant_id, name, asset=asset, no_negative=True)
    return Programme(tenant_id, funding, names)


def wide_programme(ledger: Ledger, tenant_id: str, wallets: int, asset: str = "USD") -> Programme:
    """Like ``programme``, with ``wallets`` wallets opened in one transaction (as a batch that
    brings new holders opens them) instead of one transaction each: for tests about a tenant's
    size, not about opening accounts. These wallets may go negative."""
    ledger.create_asset(tenant_id, asset, scale=2)
    funding = f"funding:{asset}"
    ledger.create_account(tenant_id, funding, asset=asset)
    names = tuple(f"wallet:{i}:{asset}" for i in range(wallets))
    ledger.run(tenant_id, lambda unit: unit.open_accounts(names, asset=asset))
    return Programme(tenant_id, funding, names)


def fund(ledger: Ledger, p: Programme, wallet: str, amount: str, asset: str = "USD") -> None:
    ledger.transfer(
        p.tenant_id, TransferRequest(new_id("fund"), p.funding, wallet, asset, amount, kind="fund")
    )


def request(
    debit: str, credit: str, amount: str, *, asset: str = "USD", **fields: object
) -> TransferRequest:
    return TransferRequest(new_id(), debit, credit, asset, amount, **fields)  # type: ignore[arg-type]


def budget_policy(**changes: object) -> BudgetPolicy:
    """A valid monthly USD budget policy (hard cap 10,000.00, soft 7,000.00), with ``changes``."""
    values: dict[str, object] = {
        "tenant_id": "t",
        "id": "b",
        "name": "b",
        "currency": "USD",
        "scale": 2,
        "hard_cap_minor": 1_000_000,
        "soft_cap_minor": 700_000,
        "thresholds_percent": (80, 95),
        "period": BudgetPeriod.MONTHLY,
        "rollover": False,
        "member_cap_amount_minor": None,
        "member_cap_count": None,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(changes)
    return BudgetPolicy(**values)  # type: ignore[arg-type]
