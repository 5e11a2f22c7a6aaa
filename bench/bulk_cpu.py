"""Client CPU per core batch of 1,000 and per 4,000-row points import (issue 12).

    PYTHONPATH=src:bench .venv/bin/python bench/bulk_cpu.py

The other bulk benchmarks time wall clock against a same-run baseline; on a machine shared
by other jobs their rounds spread widely. What this process itself spends on a batch
(``time.process_time``: parsing, checks, planning, digests, binding) is hardly moved by that
load, so it compares two versions of the code run one after the other (point ``PYTHONPATH``
at each checkout's ``src``). Wall clock is printed beside it.
"""

from __future__ import annotations

import argparse
import io
import itertools
import random
import time

from points_import import HOLDERS, history
from private_schema import private_schema
from rewardledger.bootstrap import Ledger
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import points

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
ACCOUNTS = 1_000
BATCH = 1_000
IMPORT_ROWS = 4_000
_ids = itertools.count()


def _batch(rng: random.Random) -> list[TransferRequest]:
    requests = []
    for _ in range(BATCH):
        debit, credit = rng.sample(range(ACCOUNTS), 2)
        requests.append(TransferRequest(f"b{next(_ids)}", f"a{debit}", f"a{credit}", "USD", "0.01"))
    return requests


def measure(url: str, batches: int, imports: int) -> None:
    rng = random.Random(12)
    with Ledger.open(url) as ledger:
        ledger.create_tenant("bench")
        ledger.create_asset("bench", "USD", scale=2)
        for n in range(ACCOUNTS):
            ledger.create_account("bench", f"a{n}", asset="USD")
        points.configure(ledger, "bench", "LUMIS")
        for run, rows in ((0, HOLDERS), (1, IMPORT_ROWS)):  # known holders; caches warm
            points.import_history(
                ledger, "bench", io.StringIO(history(rows, "h", run)), asset="LUMIS"
            )
        ledger.transfer_batch("bench", _batch(rng))
        for atomic in (True, False):
            work = [_batch(rng) for _ in range(batches)]
            cpu, wall = time.process_time(), time.perf_counter()
            for requests in work:
                ledger.transfer_batch("bench", requests, atomic=atomic)
            _show(f"core batch of {BATCH:,}, atomic={atomic}", cpu, wall, batches)
        texts = [history(IMPORT_ROWS, "h", run) for run in range(2, 2 + imports)]
        cpu, wall = time.process_time(), time.perf_counter()
        for text in texts:
            points.import_history(ledger, "bench", io.StringIO(text), asset="LUMIS")
        _show(f"import of {IMPORT_ROWS:,} rows, known holders", cpu, wall, imports)


def _show(name: str, cpu: float, wall: float, count: int) -> None:
    cpu_ms = (time.process_time() - cpu) / count * 1000
    wall_ms = (time.perf_counter() - wall) / count * 1000
    print(f"  {name:38} {cpu_ms:7.1f} ms CPU   {wall_ms:7.1f} ms wall   (each)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--imports", type=int, default=3)
    args = parser.parse_args()
    with private_schema(args.postgres, "bench_cpu") as (url, _):
        measure(url, args.batches, args.imports)


if __name__ == "__main__":
    main()
