"""Concurrency on PostgreSQL, with real processes: the lock order and the database constraints
must hold under contention (invariants 3, 5 and 7)."""

from __future__ import annotations

import multiprocessing
import secrets
from collections import Counter
from collections.abc import Iterator

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import PostPending, TransferRequest, VoidPending

WORKERS = 8


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[Ledger, str, str]]:
    with Ledger.open(postgres_url) as ledger:
        tenant = f"c{secrets.token_hex(6)}"
        ledger.create_tenant(tenant)
        ledger.create_asset(tenant, "LUMIS", scale=0)
        ledger.create_account(tenant, "issuance", asset="LUMIS")
        ledger.create_account(tenant, "member", asset="LUMIS", no_negative=True)
        ledger.create_account(tenant, "merchant", asset="LUMIS")
        yield ledger, tenant, postgres_url


def _spend(url: str, tenant: str, worker: int, attempts: int, start: object) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    with Ledger.open(url, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        for attempt in range(attempts):
            [result] = ledger.submit(
                tenant,
                [TransferRequest(f"spend-{worker}-{attempt}", "member", "merchant", "LUMIS", "1")],
            )
            outcomes["ok" if result.ok else result.error.code] += 1  # type: ignore[union-attr]
    return outcomes


def _race(target: object, args: list[tuple[object, ...]]) -> list[Counter[str]]:
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(len(args)) as pool:
        pending = [pool.apply_async(target, (*a, start)) for a in args]  # type: ignore[arg-type]
        start.set()
        return [p.get(timeout=300) for p in pending]


@pytest.mark.postgres_only
def test_concurrent_spenders_take_exactly_the_funded_units(pg: tuple[Ledger, str, str]) -> None:
    ledger, tenant, url = pg
    funded_units = 150
    ledger.transfer(
        tenant, TransferRequest("fund", "issuance", "member", "LUMIS", str(funded_units))
    )
    results = _race(_spend, [(url, tenant, worker, 30) for worker in range(WORKERS)])
    total = sum(results, Counter())
    assert total["ok"] == funded_units
    assert total["insufficient_funds"] == WORKERS * 30 - funded_units
    assert ledger.get_account(tenant, "member").balances.posted == 0
    assert ledger.get_account(tenant, "merchant").balances.posted == funded_units
    assert ledger.verify(tenant).ok


def _resolve(url: str, tenant: str, worker: int, start: object) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    with Ledger.open(url, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        for hold in range(20):
            op = (
                PostPending(f"hold-{hold}", f"post-{worker}-{hold}")
                if worker % 2
                else VoidPending(f"hold-{hold}", f"void-{worker}-{hold}")
            )
            [result] = ledger.submit(tenant, [op])
            outcomes["ok" if result.ok else result.error.code] += 1  # type: ignore[union-attr]
    return outcomes


@pytest.mark.postgres_only
def test_racing_posts_and_voids_resolve_each_pending_transfer_once(
    pg: tuple[Ledger, str, str],
) -> None:
    ledger, tenant, url = pg
    ledger.transfer(tenant, TransferRequest("fund", "issuance", "member", "LUMIS", "1000"))
    ledger.transfer_batch(
        tenant,
        [
            TransferRequest(f"hold-{i}", "member", "merchant", "LUMIS", "10", pending=True)
            for i in range(20)
        ],
    )
    results = _race(_resolve, [(url, tenant, worker) for worker in range(WORKERS)])
    total = sum(results, Counter())
    assert total["ok"] == 20
    assert total["not_pending"] == WORKERS * 20 - 20
    member = ledger.get_account(tenant, "member").balances
    assert member.debits_pending == 0
    assert ledger.verify(tenant).ok


def _replay(url: str, tenant: str, worker: int, start: object) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    with Ledger.open(url, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        for i in range(25):
            [result] = ledger.submit(
                tenant, [TransferRequest(f"same-{i}", "issuance", "member", "LUMIS", "7")]
            )
            outcomes["replayed" if result.replayed else "first"] += 1
    return outcomes


@pytest.mark.postgres_only
def test_the_same_request_sent_by_many_processes_is_applied_once(
    pg: tuple[Ledger, str, str],
) -> None:
    ledger, tenant, url = pg
    total = sum(_race(_replay, [(url, tenant, w) for w in range(WORKERS)]), Counter())
    assert total["first"] == 25
    assert total["replayed"] == WORKERS * 25 - 25
    assert ledger.get_account(tenant, "member").balances.posted == 25 * 7
    assert ledger.verify(tenant).ok
