"""Concurrency of the cycle ledgers on PostgreSQL: concurrent accruals never pass a cycle's
cap, and a movement that commits while a refresh is running is still counted (no watermark).
"""

from __future__ import annotations

import multiprocessing
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.services import cashback, cycles
from rewardledger.storage.write_postgres import PostgresWriteSession
from tests.services.cycles_support import programmes

WORKERS = 6
WAIT_SECONDS = 60


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[Ledger, str, str]]:
    with Ledger.open(postgres_url) as ledger:
        tenant = f"c{secrets.token_hex(6)}"
        ledger.create_tenant(tenant, timezone="America/Panama")
        programmes(ledger, tenant, mode="job", default_cap="25.00")
        yield ledger, tenant, postgres_url


def _accrue_many(url: str, tenant: str, worker: int, count: int, start: Any) -> int:
    credited = 0
    with Ledger.open(url, migrate=False) as ledger:
        start.wait()
        for index in range(count):
            result = cashback.accrue(
                ledger,
                tenant,
                cashback.Accrual(
                    f"w{worker}-{index}", "card-1", "10.00", "1.00", cycle_tag="2026-03"
                ),
            )
            credited += result.movement.cashback_minor
    return credited


@pytest.mark.postgres_only
def test_concurrent_accruals_never_pass_the_cycles_cap(pg: tuple[Ledger, str, str]) -> None:
    ledger, tenant, url = pg
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Event()
    with context.Pool(WORKERS) as pool:
        pending = [
            pool.apply_async(_accrue_many, (url, tenant, worker, 8, start))
            for worker in range(WORKERS)
        ]
        start.set()
        credited = sum(p.get(timeout=300) for p in pending)
    assert credited == 2500  # 48 accruals of 1.00 against a cap of 25.00
    assert str(ledger.balance(tenant, "card-1").posted) == "25.00"
    cycles.refresh(ledger, tenant)
    row = cycles.get_cashback_row(ledger, tenant, "card-1", "2026-03")[0]
    assert (row.total_cashback_minor, row.remaining_budget_minor) == (2500, 0)
    assert row.total_spend_minor == 48_000


def _pausing(target: object, name: str, entered: threading.Event, release: threading.Event) -> None:
    """Make ``target.name`` signal ``entered`` and wait for ``release`` after it runs once."""
    original: Callable[..., Any] = getattr(target, name)
    paused = threading.Event()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not paused.is_set():
            paused.set()
            entered.set()
            assert release.wait(WAIT_SECONDS)
        return result

    setattr(target, name, wrapper)


def _pausing_after_its_movement_row(
    monkeypatch: pytest.MonkeyPatch, entered: threading.Event, release: threading.Event
) -> None:
    """Make the next accrual that credits stop after its movement row reached the database,
    before its commit. The row is a kept write of its unit (``SqlUnit.later``), sent in the
    round trip of the core's lock: pause right after that lock, once."""
    monkeypatch.setattr(PostgresWriteSession, "lock_accounts", PostgresWriteSession.lock_accounts)
    _pausing(PostgresWriteSession, "lock_accounts", entered, release)


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.postgres_only
def test_a_movement_held_open_during_a_refresh_is_counted_by_the_next_one(
    pg: tuple[Ledger, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, tenant, url = pg
    cashback.accrue(
        ledger, tenant, cashback.Accrual("a1", "card-1", "5.00", "1.00", cycle_tag="2026-03")
    )
    with Ledger.open(url, migrate=False) as writer:
        entered, release = threading.Event(), threading.Event()
        # The writer's transaction stops after its movement row, before commit.
        _pausing_after_its_movement_row(monkeypatch, entered, release)
        thread, outcome = _in_thread(
            lambda: cashback.accrue(
                writer,
                tenant,
                cashback.Accrual("a2", "card-1", "7.00", "2.00", cycle_tag="2026-03"),
            )
        )
        assert entered.wait(WAIT_SECONDS)
        during = cycles.refresh(ledger, tenant)  # runs while a2 is in flight
        release.set()
        thread.join(WAIT_SECONDS)
    assert not isinstance(outcome[0], BaseException), outcome
    assert during.pairs == 0  # the pair was locked by the writer: skipped, not cleared
    assert cycles.count_dirty(ledger, tenant) == 1
    cycles.refresh(ledger, tenant)
    row = cycles.get_cashback_row(ledger, tenant, "card-1", "2026-03")[0]
    assert (row.total_spend_minor, row.total_cashback_minor) == (1200, 300)


@pytest.mark.postgres_only
def test_a_movement_that_commits_after_a_refresh_read_the_pair_is_still_counted(
    pg: tuple[Ledger, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, tenant, url = pg
    cashback.accrue(
        ledger, tenant, cashback.Accrual("a1", "card-1", "5.00", "1.00", cycle_tag="2026-03")
    )
    with Ledger.open(url, migrate=False) as refresher, Ledger.open(url, migrate=False) as writer:
        read, release_refresh = threading.Event(), threading.Event()
        inserted, release_writer = threading.Event(), threading.Event()
        # The refresh stops after reading the pair's totals (a1 only), holding its mark; the
        # writer stops after its movement row, before its commit.
        _pausing(refresher.extension(cycles.STORE), "cashback_totals", read, release_refresh)
        _pausing_after_its_movement_row(monkeypatch, inserted, release_writer)
        refresh_thread, refreshed = _in_thread(lambda: cycles.refresh(refresher, tenant))
        assert read.wait(WAIT_SECONDS)
        writer_thread, written = _in_thread(
            lambda: cashback.accrue(
                writer,
                tenant,
                cashback.Accrual("a2", "card-1", "7.00", "2.00", cycle_tag="2026-03"),
            )
        )
        assert not inserted.wait(1)  # the writer waits for the mark the refresh holds
        release_refresh.set()
        refresh_thread.join(WAIT_SECONDS)  # the refresh finished before a2 committed
        assert inserted.wait(WAIT_SECONDS)
        release_writer.set()
        writer_thread.join(WAIT_SECONDS)
    assert not isinstance(refreshed[0], BaseException), refreshed
    assert not isinstance(written[0], BaseException), written
    stale = cycles.get_cashback_row(ledger, tenant, "card-1", "2026-03")[0]
    assert stale.total_cashback_minor == 100  # what the refresh saw
    assert cycles.count_dirty(ledger, tenant) == 1  # a2's mark survived the refresh's delete
    cycles.refresh(ledger, tenant)
    row = cycles.get_cashback_row(ledger, tenant, "card-1", "2026-03")[0]
    assert (row.total_spend_minor, row.total_cashback_minor) == (1200, 300)


@pytest.mark.postgres_only
def test_a_twin_accrual_waiting_on_the_pair_is_answered_as_a_replay(
    pg: tuple[Ledger, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two accruals with one id: the second passes the replay check while the first is in
    flight, then waits on the pair's totals row; once the first commits, the second's movement
    insert finds the id taken, its unit runs again and answers the first's movement."""
    ledger, tenant, url = pg
    twin = cashback.Accrual("twin", "card-1", "10.00", "3.00", cycle_tag="2026-03")
    cashback.accrue(
        ledger, tenant, cashback.Accrual("a1", "card-1", "5.00", "1.00", cycle_tag="2026-03")
    )
    with Ledger.open(url, migrate=False) as first, Ledger.open(url, migrate=False) as second:
        entered, release = threading.Event(), threading.Event()
        _pausing_after_its_movement_row(monkeypatch, entered, release)
        first_thread, first_outcome = _in_thread(lambda: cashback.accrue(first, tenant, twin))
        assert entered.wait(WAIT_SECONDS)  # the first holds the pair, its movement written
        second_thread, second_outcome = _in_thread(lambda: cashback.accrue(second, tenant, twin))
        second_thread.join(1)
        assert second_thread.is_alive()  # waiting on the pair's totals row
        release.set()
        first_thread.join(WAIT_SECONDS)
        second_thread.join(WAIT_SECONDS)
    (made,), (answered,) = first_outcome, second_outcome
    assert isinstance(made, cashback.MovementResult), made
    assert isinstance(answered, cashback.MovementResult), answered
    assert (made.replayed, answered.replayed) == (False, True)
    assert answered.movement == made.movement
    assert str(ledger.balance(tenant, "card-1").posted) == "4.00"  # credited once
    cycles.rebuild(ledger, tenant)
    row = cycles.get_cashback_row(ledger, tenant, "card-1", "2026-03")[0]
    assert (row.total_spend_minor, row.total_cashback_minor) == (1500, 400)
