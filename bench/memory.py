"""Peak memory of the long jobs (verify, repair) as a tenant grows: it must stay flat.

    .venv/bin/python bench/memory.py                       # SQLite, 2,000 then 20,000 accounts
    .venv/bin/python bench/memory.py --postgres postgresql://postgres@127.0.0.1:5432/test

For each size the tenant gets that many accounts, each with journal rows, and then ``verify``
and ``repair`` run in a fresh process whose peak resident memory is measured (ru_maxrss).
The baseline is the same process doing nothing but open the ledger. The job walks accounts
in chunks of ``INTEGRITY_CHUNK_SIZE``; its growth over the baseline should not depend on size.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import secrets
import tempfile
import tracemalloc
from pathlib import Path

import psycopg
from psycopg import sql

from private_schema import drop_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.limits import BATCH_SIZE_MAX
from rewardledger.domain.transfers import TransferRequest


def _fill(url: str, tenant: str, accounts: int) -> None:
    with Ledger.open(url) as ledger:
        ledger.create_tenant(tenant)
        ledger.create_asset(tenant, "LUMIS", scale=0)
        ledger.create_account(tenant, "issuance", asset="LUMIS")
        names = [f"member:{i:07d}" for i in range(accounts)]
        for name in names:
            ledger.create_account(tenant, name, asset="LUMIS", no_negative=True)
        requests = [
            TransferRequest(f"earn-{i}-{j}", "issuance", name, "LUMIS", "10")
            for i, name in enumerate(names)
            for j in range(2)
        ]
        for start in range(0, len(requests), BATCH_SIZE_MAX):
            ledger.transfer_batch(tenant, requests[start : start + BATCH_SIZE_MAX])


def _job(url: str, tenant: str, job: str, queue: object) -> None:
    with Ledger.open(url, migrate=False) as ledger:
        ledger.get_tenant(tenant)
        tracemalloc.start()
        if job == "verify":
            assert ledger.verify(tenant).ok
        elif job == "repair":
            ledger.repair(tenant, actor="bench")
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put((rss_peak, traced_peak))  # type: ignore[attr-defined]


def peaks(url: str, tenant: str, job: str) -> tuple[int, int]:
    """(peak resident bytes of the process, peak bytes the job itself allocated)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_job, args=(url, tenant, job, queue))
    process.start()
    rss, traced = queue.get(timeout=1800)
    process.join()
    return int(rss), int(traced)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="measure on this PostgreSQL instead of SQLite")
    parser.add_argument(
        "--sizes", default="2000,20000", help="accounts per tenant, comma-separated"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="rewardledger-memory-") as directory:
        schema = None
        if args.postgres:
            schema = f"bench_memory_{secrets.token_hex(4)}"
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            separator = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{separator}options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{Path(directory) / 'memory.db'}"
        try:
            print(
                f"{'accounts':>9s} {'journal rows':>13s} {'job':>7s} {'process peak MiB':>17s} "
                f"{'over idle MiB':>14s} {'job allocations peak MiB':>25s}"
            )
            for size in sizes:
                tenant = f"mem{secrets.token_hex(4)}"
                _fill(url, tenant, size)
                idle, _ = peaks(url, tenant, "idle")
                for job in ("verify", "repair"):
                    rss, traced = peaks(url, tenant, job)
                    print(
                        f"{size:9d} {size * 2:13d} {job:>7s} {rss / 2**20:17.1f} "
                        f"{(rss - idle) / 2**20:14.1f} {traced / 2**20:25.2f}",
                        flush=True,
                    )
        finally:
            if schema is not None:
                with psycopg.connect(args.postgres, autocommit=True) as connection:
                    drop_schema(connection, schema)


if __name__ == "__main__":
    main()
