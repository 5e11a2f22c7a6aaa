"""A page deep in a budget's entries (``GET /budgets/{id}/entries``) by its keyset cursor,
beside the first page and beside the same page read with the keyset written as an OR of its
two cases (what the list ran before issue 11), in the same run, on PostgreSQL and SQLite.

    .venv/bin/python bench/budget_entries.py                      # both engines
    .venv/bin/python bench/budget_entries.py --engines sqlite --entries 20000 --rounds 3

One tenant, one budget whose period account takes ``--entries`` journal rows (batches of
8,000 in a unit of work, each batch created at one instant, as a busy second is), beside as
many rows of the core's own accounts. Each round reads, one after the other: the first page of
50 (``budgets.entries`` without a cursor, the baseline), the page ``--depth`` rows in (the
same call with the cursor of the row before it), and that page read with
``created_at < :t OR (created_at = :t AND transfer_id < :id)``. Medians of ``--repeats`` reads
per round, medians over rounds; ratios round by round (deep / first, OR / row value).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import and_, or_, text

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.budgets import funding_account, period_account
from rewardledger.domain.limits import BATCH_SIZE_MAX, PAGE_SIZE_MAX
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import budgets
from rewardledger.storage.budgets.rows import entry_query
from rewardledger.storage.schema import transfers

PAGE = 50
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _median_seconds(read: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _prepare(ledger: Ledger, count: int) -> tuple[str, str]:
    tenant = f"bench{secrets.token_hex(4)}"
    ledger.create_tenant(tenant)
    ledger.create_asset(tenant, "USD", scale=2)
    for name in ("core-a", "core-b"):
        ledger.create_account(tenant, name, asset="USD")
    budgets.create_budget(ledger, tenant, "b", currency="USD", hard_cap="100000000.00")
    budgets.topup(ledger, tenant, "b", amount="1.00", currency="USD", idempotency_key="seed")
    period = budgets.get_budget(ledger, tenant, "b").current_period
    assert period is not None
    account = period_account("b", period)
    made = 0
    while made < count:
        size = min(BATCH_SIZE_MAX, count - made)
        into_budget = [
            TransferRequest(f"e{made + i:09d}", funding_account("USD"), account, "USD", "0.01")
            for i in range(size)
        ]

        def fund(work: UnitOfWork, batch: list[TransferRequest] = into_budget) -> object:
            return work.submit(batch)

        ledger.run(tenant, fund)
        ledger.transfer_batch(
            tenant,
            [
                TransferRequest(f"c{made + i:09d}", "core-a", "core-b", "USD", "0.01")
                for i in range(size)
            ],
        )
        made += size
    with ledger.store.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("ANALYZE"))
    return tenant, account


def _cursor_at(ledger: Ledger, tenant: str, depth: int) -> tuple[str, budgets.BudgetEntry]:
    """The cursor after the first ``depth`` entries, and the entry it follows."""
    cursor, seen = None, 0
    while seen < depth:
        size = min(PAGE_SIZE_MAX, depth - seen)
        page = budgets.entries(ledger, tenant, "b", cursor=cursor, limit=size)
        cursor, last = page.next_cursor, page.entries[-1]
        seen += len(page.entries)
    assert cursor is not None
    return cursor, last


def run_engine(url: str, count: int, depth: int, rounds: int, repeats: int) -> dict[str, float]:
    with Ledger.open(url) as ledger:
        tenant, account = _prepare(ledger, count)
        cursor, before = _cursor_at(ledger, tenant, depth)
        deep_page = budgets.entries(ledger, tenant, "b", cursor=cursor, limit=PAGE).entries
        engine = ledger.store.engine  # type: ignore[attr-defined]
        t = transfers

        def with_or() -> list[str]:
            query = (
                entry_query(tenant)
                .where(
                    t.c.error_code.is_(None),
                    or_(t.c.debit_account_id.in_([account]), t.c.credit_account_id.in_([account])),
                    or_(
                        t.c.created_at < before.created_at,
                        and_(
                            t.c.created_at == before.created_at,
                            t.c.transfer_id < before.transfer_id,
                        ),
                    ),
                )
                .order_by(t.c.created_at.desc(), t.c.transfer_id.desc())
                .limit(PAGE)
            )
            with engine.connect() as connection:
                return [row.transfer_id for row in connection.execute(query)]

        assert with_or() == [e.transfer_id for e in deep_page], "the two deep pages differ"
        first, deep, ors = [], [], []
        for _ in range(rounds):
            first.append(
                _median_seconds(lambda: budgets.entries(ledger, tenant, "b", limit=PAGE), repeats)
            )
            deep.append(
                _median_seconds(
                    lambda: budgets.entries(ledger, tenant, "b", cursor=cursor, limit=PAGE),
                    repeats,
                )
            )
            ors.append(_median_seconds(with_or, repeats))
    return {
        "first_ms": statistics.median(first) * 1000,
        "deep_ms": statistics.median(deep) * 1000,
        "or_ms": statistics.median(ors) * 1000,
        "deep_over_first": statistics.median(d / f for d, f in zip(deep, first, strict=True)),
        "or_over_deep": statistics.median(o / d for o, d in zip(ors, deep, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--entries", type=int, default=24_000)
    parser.add_argument("--depth", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    options = parser.parse_args()
    if options.depth >= options.entries:
        parser.error("--depth must be below --entries")
    for engine in options.engines.split(","):
        figures = (options.entries, options.depth, options.rounds, options.repeats)
        if engine == "postgresql":
            with private_schema(options.postgres, "bench_budget_entries") as (url, _):
                r = run_engine(url, *figures)
        else:
            r = run_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", *figures)
        print(
            f"{engine:10} first page {r['first_ms']:7.2f} ms   page at {options.depth} "
            f"{r['deep_ms']:7.2f} ms ({r['deep_over_first']:.2f}x first)   with OR "
            f"{r['or_ms']:7.2f} ms ({r['or_over_deep']:.1f}x row value)"
        )


if __name__ == "__main__":
    main()
