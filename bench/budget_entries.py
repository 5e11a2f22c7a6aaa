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

import json
import secrets

from sqlalchemy import and_, or_, text

from deep_pages import PAGE, engine_urls, measure, parse_options, report
from rewardledger.bootstrap import Ledger
from rewardledger.domain.budgets import funding_account, period_account
from rewardledger.domain.limits import BATCH_SIZE_MAX, PAGE_SIZE_MAX
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services import budgets
from rewardledger.storage.budgets.rows import entry_query
from rewardledger.storage.schema import transfers


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
        return measure(
            rounds,
            repeats,
            lambda: budgets.entries(ledger, tenant, "b", limit=PAGE),
            lambda: budgets.entries(ledger, tenant, "b", cursor=cursor, limit=PAGE),
            with_or,
            "or",
        )


def main() -> None:
    options = parse_options(__doc__, "entries", 24_000, 20_000)
    results: dict[str, dict[str, float]] = {}
    for engine, url in engine_urls(options, "bench_budget_entries"):
        figures = (options.entries, options.depth, options.rounds, options.repeats)
        results[engine] = run_engine(url, *figures)
        report(engine, results[engine], options.depth, "or", "OR", "row value")
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
