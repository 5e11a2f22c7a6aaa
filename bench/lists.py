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

import argparse
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.limits import BATCH_SIZE_MAX, PAGE_SIZE_MAX
from rewardledger.domain.paging import encode_cursor, instant_part
from rewardledger.domain.transfers import TransferRequest
from rewardledger.ledger import lists

PAGE = 50
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
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


def _median_seconds(read: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
        first: list[float] = []
        deep: list[float] = []
        offsets: list[float] = []
        for _ in range(rounds):
            first.append(_median_seconds(lambda: lists.list_transfers(ledger, tenant), repeats))
            deep.append(
                _median_seconds(
                    lambda: lists.list_transfers(ledger, tenant, cursor=cursor), repeats
                )
            )
            offsets.append(_median_seconds(offset, repeats))
    return {
        "first_ms": statistics.median(first) * 1000,
        "deep_ms": statistics.median(deep) * 1000,
        "offset_ms": statistics.median(offsets) * 1000,
        "deep_over_first": statistics.median(d / f for d, f in zip(deep, first, strict=True)),
        "offset_over_deep": statistics.median(o / d for o, d in zip(offsets, deep, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--transfers", type=int, default=40_000)
    parser.add_argument("--depth", type=int, default=35_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    if options.depth >= options.transfers:
        parser.error("--depth must be below --transfers")
    results: dict[str, dict[str, float]] = {}
    for engine in options.engines.split(","):
        figures = (options.transfers, options.depth, options.rounds, options.repeats)
        if engine == "postgresql":
            with private_schema(options.postgres, "bench_lists") as (url, _):
                results[engine] = run_engine(url, *figures)
        else:
            url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
            results[engine] = run_engine(url, *figures)
        r = results[engine]
        print(
            f"{engine:10} first page {r['first_ms']:7.2f} ms   page at {options.depth} "
            f"{r['deep_ms']:7.2f} ms ({r['deep_over_first']:.2f}x first)   with OFFSET "
            f"{r['offset_ms']:7.2f} ms ({r['offset_over_deep']:.1f}x keyset)"
        )
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
