"""Points under contention on PostgreSQL, with real processes (issue 4): spends of one holder
never drive its balance below zero, and racing confirm / cancel / expire of a redemption end
it exactly once, with at most one refund."""

from __future__ import annotations

import multiprocessing
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import (
    AlreadyRedeemed,
    InsufficientPoints,
    InvalidRedemptionState,
)
from rewardledger.services import points, redemptions

WORKERS = 8
REDEMPTIONS = 12


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[Ledger, str, str]]:
    with Ledger.open(postgres_url) as ledger:
        tenant = f"pc{secrets.token_hex(6)}"
        ledger.create_tenant(tenant)
        points.configure(ledger, tenant, "LUMIS")
        yield ledger, tenant, postgres_url


def _race(target: object, args: list[tuple[object, ...]]) -> list[Counter[str]]:
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(len(args)) as pool:
        pending = [pool.apply_async(target, (*a, start)) for a in args]  # type: ignore[arg-type]
        start.set()
        return [p.get(timeout=300) for p in pending]


def _spend(url: str, tenant: str, worker: int, attempts: int, start: object) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    with Ledger.open(url, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        for attempt in range(attempts):
            try:
                points.spend(
                    ledger, tenant, "u1", "1", dtype="ocr", reference=f"s-{worker}-{attempt}"
                )
                outcomes["ok"] += 1
            except InsufficientPoints:
                outcomes["insufficient_points"] += 1
    return outcomes


@pytest.mark.postgres_only
def test_concurrent_spends_never_drive_a_balance_below_zero(
    pg: tuple[Ledger, str, str],
) -> None:
    ledger, tenant, url = pg
    for lot in range(5):
        points.earn(ledger, tenant, "u1", "30", dtype="invoice", reference=f"e{lot}")
    results = _race(_spend, [(url, tenant, worker, 30) for worker in range(WORKERS)])
    total = sum(results, Counter())
    assert total["ok"] == 150
    assert total["insufficient_points"] == WORKERS * 30 - 150
    assert points.balance(ledger, tenant, "u1").balance.minor == 0
    assert points.validate(ledger, tenant) == []


class _Later:
    """A clock an hour ahead: the redemptions' time to live has passed for it."""

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(hours=1)


def _end(url: str, tenant: str, action: str, codes: list[str], start: object) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    clock = _Later() if action == "expire" else None
    with Ledger.open(url, clock=clock, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        if action == "expire":
            outcomes["expired"] += redemptions.expire_due(ledger, tenant)
            return outcomes
        for index, code in enumerate(codes):
            try:
                if action == "confirm":
                    redemptions.confirm(ledger, tenant, code, actor="till")
                else:
                    redemptions.cancel(ledger, tenant, f"r{index}", actor="ops")
                outcomes[action] += 1
            except (AlreadyRedeemed, InvalidRedemptionState) as error:
                outcomes[error.code] += 1
    return outcomes


@pytest.mark.postgres_only
def test_racing_confirm_cancel_and_expire_end_each_redemption_once_with_one_refund(
    pg: tuple[Ledger, str, str],
) -> None:
    ledger, tenant, url = pg
    points.earn(ledger, tenant, "u1", str(10 * REDEMPTIONS), dtype="invoice", reference="e")
    codes = [
        redemptions.create(
            ledger, tenant, "u1", offer_id="o", cost="10", reference=f"r{i}", ttl_seconds=600
        ).code
        for i in range(REDEMPTIONS)
    ]
    actions = ["confirm", "cancel", "expire"] * 3
    _race(_end, [(url, tenant, action, codes) for action in actions])
    states = Counter(
        redemptions.get(ledger, tenant, f"r{i}").state.value for i in range(REDEMPTIONS)
    )
    assert "pending" not in states
    refunds = 0
    for i in range(REDEMPTIONS):
        ended = redemptions.get(ledger, tenant, f"r{i}")
        refunded = points.accumulations(ledger, tenant, "u1", accum_type="earn").rows
        mine = [r for r in refunded if r.id == f"r{i}.refund"]
        assert len(mine) == (1 if ended.state.value in ("cancelled", "expired") else 0)
        refunds += len(mine)
    assert refunds == states["cancelled"] + states["expired"]
    balance = points.balance(ledger, tenant, "u1").balance.minor
    assert balance == 10 * (states["cancelled"] + states["expired"])
    assert points.validate(ledger, tenant) == []
