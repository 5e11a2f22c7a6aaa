"""Budgets under contention on PostgreSQL, with real processes: the hard cap holds whatever
the interleaving (invariant 4), and due jobs run from two processes at once do each thing once."""

from __future__ import annotations

import multiprocessing
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import LedgerError
from rewardledger.services import budgets
from rewardledger.services.jobs import run_due_jobs
from tests.builders import FakeClock
from tests.conftest import as_owner

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


def _blocked_by(holder: psycopg.Connection[object], count: int) -> None:
    """Wait until ``count`` sessions wait, directly or in a queue, for a lock ``holder`` holds."""
    with psycopg.connect(holder.info.dsn, autocommit=True) as watcher:
        for _ in range(1000):
            rows = watcher.execute(
                "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
                "WHERE cardinality(pg_blocking_pids(pid)) > 0"
            ).fetchall()
            blocked: set[int] = set()
            behind = {holder.info.backend_pid}
            while True:
                more = {pid for pid, by in rows if behind & set(by)} - blocked
                if not more:
                    break
                blocked |= more
                behind |= more
            if len(blocked) >= count:
                return
            time.sleep(0.01)
    raise AssertionError(f"{count} sessions never waited for the budget's lock")


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("first", "second", "refusal"),
    [("release", "charge", "not_pending"), ("charge", "release", "already_charged")],
)
def test_a_charge_or_release_that_waited_for_the_lock_sees_what_the_one_before_it_did(
    pg: tuple[Ledger, str, str], first: str, second: str, refusal: str
) -> None:
    """Both read the reservation in the statement that waits for the budget's lock, so the
    second one's snapshot is older than the first one's commit: it must still answer as if it
    ran after it (the domain's refusal), not try to resolve the reservation a second time."""
    ledger, tenant, url = pg
    budgets.create_budget(ledger, tenant, "cap", currency="USD", hard_cap="1000.00")
    budgets.topup(ledger, tenant, "cap", amount="1000.00", currency="USD", idempotency_key="s")
    budgets.reserve(ledger, tenant, "cap", reference="iss", amount="10.00", currency="USD")
    calls = {
        "charge": lambda: budgets.charge(ledger, tenant, "cap", "iss"),
        "release": lambda: budgets.release(ledger, tenant, "cap", "iss"),
    }
    outcomes: dict[str, str] = {}

    def call(name: str) -> None:
        try:
            calls[name]()
            outcomes[name] = "ok"
        except LedgerError as error:
            outcomes[name] = error.code

    # As the owner: row-level security would hide the row from a session with no tenant set.
    with psycopg.connect(as_owner(url)) as holder:
        holder.execute(
            "SELECT 1 FROM budgets WHERE tenant_id = %s AND budget_id = 'cap' FOR UPDATE",
            (tenant,),
        )
        threads = [threading.Thread(target=call, args=(name,)) for name in (first, second)]
        for waiting, thread in enumerate(threads, 1):
            thread.start()
            _blocked_by(holder, waiting)  # the first waiter gets the lock first
        holder.rollback()
        for thread in threads:
            thread.join(timeout=60)
    assert outcomes == {first: "ok", second: refusal}
    view = budgets.get_reservation(ledger, tenant, "cap", "iss")
    assert view.state == ("released" if first == "release" else "charged")


@pytest.mark.postgres_only
def test_twin_reserves_that_waited_for_the_lock_hold_the_amount_once(
    pg: tuple[Ledger, str, str],
) -> None:
    """The second twin's snapshot predates the first one's reservation, so it does not see it
    when it gets the lock: its transfer id collides, the unit runs again and replays."""
    ledger, tenant, url = pg
    budgets.create_budget(ledger, tenant, "cap", currency="USD", hard_cap="1000.00")
    budgets.topup(ledger, tenant, "cap", amount="1000.00", currency="USD", idempotency_key="s")
    replayed: list[bool] = []

    def reserve() -> None:
        view = budgets.reserve(
            ledger, tenant, "cap", reference="iss", amount="10.00", currency="USD"
        )
        replayed.append(view.replayed)

    # As the owner: row-level security would hide the row from a session with no tenant set.
    with psycopg.connect(as_owner(url)) as holder:
        holder.execute(
            "SELECT 1 FROM budgets WHERE tenant_id = %s AND budget_id = 'cap' FOR UPDATE",
            (tenant,),
        )
        threads = [threading.Thread(target=reserve) for _ in range(2)]
        for waiting, thread in enumerate(threads, 1):
            thread.start()
            _blocked_by(holder, waiting)
        holder.rollback()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(replayed) == [False, True]
    utilization = budgets.utilization(ledger, tenant, "cap")
    assert (utilization.reserved, utilization.total_reserved) == ("10.00", "10.00")
