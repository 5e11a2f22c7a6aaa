"""A page deep in ``GET /transfers`` by keyset (its cursor) beside the first page and beside the
same page read with OFFSET, measured in the same run, on PostgreSQL and SQLite.

    .venv/bin/python bench/lists.py                            # both engines, about a minute
    .venv/bin/python bench/lists.py --engines sqlite --transfers 20000 --rounds 3

One tenant with ``--transfers`` accepted transfers (batches of 8,000, many sharing one
created_at, as a busy second does). Each round reads, one after the other: the first page of
50 (``ledger.lists.list_transfers`` without a cursor, the baseline), the page that starts
``--depth`` rows in (the same call with the cursor of the row before it) and that page with
``ORDER BY created_at DESC, transfer_id DESC LIMIT 50 OFFSET depth`` (what a list without a
keyset would run). Rounds alternate so that drift on a shared machine hits all three alike;
the figures are medians of ``--repeats`` reads per round, medians over rounds, and the ratios
are taken round by round (deep / first, offset / deep).
"""

from __future__ import annotations

import json
import secrets

from sqlalchemy import text

from deep_pages import PAGE, engine_urls, measure, parse_options, report
from rewardledger.bootstrap import Ledger
from rewardledger.domain.limits import BATCH_SIZE_MAX, PAGE_SIZE_MAX
from rewardledger.domain.paging import encode_cursor, instant_part
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger import lists

OFFSET_SQL = text(
    "SELECT transfer_id FROM transfers WHERE tenant_id = :t AND error_code IS NULL "
    "ORDER BY created_at DESC, transfer_id DESC LIMIT :n OFFSET :o"
)


def _prepare(ledger: Ledger, count: int) -> str:
    tenant = f"bench{secrets.token_hex(4)}"
    ledger.create_tenant(tenant)
    ledger.create_asset(tenant, "USD", scale=2)
    ledger.create_account(tenant, "funding", asset="USD")
    for i in range(10):
        ledger.create_account(tenant, f"w{i}", asset="USD")
    made = 0
    while made < count:
        size = min(BATCH_SIZE_MAX, count - made)
        batch = [
            TransferRequest(f"t{made + i:09d}", "funding", f"w{(made + i) % 10}", "USD", "1.00")
            for i in range(size)
        ]
        ledger.transfer_batch(tenant, batch)
        made += size
    with ledger.store.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("ANALYZE"))  # the planner's statistics, as autovacuum keeps
    return tenant


def _cursor_at(ledger: Ledger, tenant: str, depth: int) -> str:
    """The cursor after the first ``depth`` rows, walked to page by page (at most 500 each)."""
    cursor, seen = None, 0
    while seen < depth:
        size = min(PAGE_SIZE_MAX, depth - seen)
        page = lists.list_transfers(ledger, tenant, cursor=cursor, limit=size).transfers
        last = page[-1]
        cursor = encode_cursor(instant_part(last.created_at), last.id)
        seen += len(page)
    assert cursor is not None
    return cursor


def run_engine(url: str, count: int, depth: int, rounds: int, repeats: int) -> dict[str, float]:
    with Ledger.open(url) as ledger:
        tenant = _prepare(ledger, count)
        cursor = _cursor_at(ledger, tenant, depth)
        deep_ids = [t.id for t in lists.list_transfers(ledger, tenant, cursor=cursor).transfers]
        engine = ledger.store.engine  # type: ignore[attr-defined]

        def offset() -> list[str]:
            with engine.connect() as connection:
                rows = connection.execute(OFFSET_SQL, {"t": tenant, "n": PAGE, "o": depth})
                return [row.transfer_id for row in rows]

        assert offset() == deep_ids, "the keyset page and the OFFSET page differ"
        return measure(
            rounds,
            repeats,
            lambda: lists.list_transfers(ledger, tenant),
            lambda: lists.list_transfers(ledger, tenant, cursor=cursor),
            offset,
            "offset",
        )


def main() -> None:
    options = parse_options(__doc__, "transfers", 40_000, 35_000)
    results: dict[str, dict[str, float]] = {}
    for engine, url in engine_urls(options, "bench_lists"):
        figures = (options.transfers, options.depth, options.rounds, options.repeats)
        results[engine] = run_engine(url, *figures)
        report(engine, results[engine], options.depth, "offset", "OFFSET", "keyset")
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
