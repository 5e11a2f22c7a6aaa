"""Budgets under contention on PostgreSQL, with real processes: the hard cap holds whatever
the interleaving (invariant 4), and due jobs run from two processes at once do each thing once."""

from __future__ import annotations

import multiprocessing
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import LedgerError
from rewardledger.services import budgets
from rewardledger.services.jobs import run_due_jobs
from tests.builders import FakeClock

WORKERS = 6
RESERVES_PER_WORKER = 10


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[Ledger, str, str]]:
    with Ledger.open(postgres_url) as ledger:
        tenant = f"c{secrets.token_hex(6)}"
        ledger.create_tenant(tenant, timezone="America/Panama")
        yield ledger, tenant, postgres_url


def _reserve(url: str, tenant: str, worker: int, start: object) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    with Ledger.open(url, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        for attempt in range(RESERVES_PER_WORKER):
            try:
                budgets.reserve(
                    ledger,
                    tenant,
                    "cap",
                    reference=f"iss-{worker}-{attempt}",
                    amount="500.00",
                    currency="USD",
                )
                outcomes["ok"] += 1
            except LedgerError as error:
                outcomes[error.code] += 1
    return outcomes


def _jobs(url: str, tenant: str, worker: int, start: object) -> Counter[str]:
    clock = FakeClock(datetime(2026, 4, 1, 6, 0, tzinfo=UTC))
    with Ledger.open(url, clock=clock, migrate=False) as ledger:
        start.wait()  # type: ignore[attr-defined]
        report = run_due_jobs(ledger, tenant)
    return Counter(report.steps["budgets"])


def _race(
    target: object, args: list[tuple[object, ...]], during: Callable[[], None] | None = None
) -> list[Counter[str]]:
    """Run ``target`` in one process per args, started together; ``during`` is called over
    and over in this process until they are all done."""
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(len(args)) as pool:
        pending = [pool.apply_async(target, (*a, start)) for a in args]  # type: ignore[arg-type]
        start.set()
        while during is not None and not all(p.ready() for p in pending):
            during()
        return [p.get(timeout=300) for p in pending]


@pytest.mark.postgres_only
def test_concurrent_reserves_never_pass_the_hard_cap(pg: tuple[Ledger, str, str]) -> None:
    ledger, tenant, url = pg
    budgets.create_budget(ledger, tenant, "cap", currency="USD", hard_cap="10000.00")
    budgets.topup(ledger, tenant, "cap", amount="50000.00", currency="USD", idempotency_key="seed")
    checks: list[bool] = []

    def reconcile_meanwhile() -> None:
        found = budgets.reconcile(ledger, tenant, "cap")
        checks.append(found.clean)
        assert found.clean, found.discrepancies

    results = _race(
        _reserve, [(url, tenant, worker) for worker in range(WORKERS)], reconcile_meanwhile
    )
    assert checks  # reconciliation ran while the reserves did, and was clean each time
    total = sum(results, Counter())
    attempts = WORKERS * RESERVES_PER_WORKER
    assert attempts >= 50
    assert total == Counter({"ok": 20, "hard_cap_exceeded": attempts - 20})
    figures = budgets.utilization(ledger, tenant, "cap")
    assert (figures.used, figures.remaining) == ("10000.00", "0.00")
    reconciliation = budgets.reconcile(ledger, tenant, "cap")
    assert reconciliation.clean, reconciliation.discrepancies
    assert reconciliation.counts["reserve"] == 20
    assert ledger.verify(tenant).ok


@pytest.mark.postgres_only
def test_due_jobs_from_two_processes_open_a_period_and_roll_over_once(
    pg: tuple[Ledger, str, str],
) -> None:
    _, tenant, url = pg
    march = Ledger.open(url, clock=FakeClock(datetime(2026, 3, 31, 12, 0, tzinfo=UTC)))
    with march:
        budgets.create_budget(
            march, tenant, "cap", currency="USD", hard_cap="10000.00", rollover=True
        )
        budgets.topup(march, tenant, "cap", amount="700.00", currency="USD", idempotency_key="s")
        budgets.reserve(march, tenant, "cap", reference="a", amount="200.00", currency="USD")
    results = _race(_jobs, [(url, tenant, worker) for worker in range(4)])
    total = sum(results, Counter())
    assert total == Counter({"budget_periods_opened": 1, "budget_rollovers": 1})
    april = Ledger.open(url, clock=FakeClock(datetime(2026, 4, 1, 6, 0, tzinfo=UTC)))
    with april:
        figures = budgets.utilization(april, tenant, "cap")
        assert (figures.period, figures.rolled_in, figures.used) == ("2026-04", "500.00", "0.00")
        assert budgets.reconcile(april, tenant, "cap").clean
