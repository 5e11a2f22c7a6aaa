"""What the deep-page benchmarks share (``lists.py``, ``budget_entries.py``): a page read deep
by its keyset cursor beside the first page and beside a slower way to read the same page, each
round reading all three one after the other; the figures are medians of ``--repeats`` reads per
round, medians over rounds, and ratios taken round by round (deep / first, slow / deep).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from private_schema import private_schema

PAGE = 50
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def median_seconds(read: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(
    rounds: int,
    repeats: int,
    first: Callable[[], object],
    deep: Callable[[], object],
    slow: Callable[[], object],
    slow_name: str,
) -> dict[str, float]:
    """``first_ms``, ``deep_ms``, ``<slow_name>_ms`` and the ratios ``deep_over_first`` and
    ``<slow_name>_over_deep``, over ``rounds`` rounds of the three reads in that order."""
    firsts: list[float] = []
    deeps: list[float] = []
    slows: list[float] = []
    for _ in range(rounds):
        firsts.append(median_seconds(first, repeats))
        deeps.append(median_seconds(deep, repeats))
        slows.append(median_seconds(slow, repeats))
    return {
        "first_ms": statistics.median(firsts) * 1000,
        "deep_ms": statistics.median(deeps) * 1000,
        f"{slow_name}_ms": statistics.median(slows) * 1000,
        "deep_over_first": statistics.median(d / f for d, f in zip(deeps, firsts, strict=True)),
        f"{slow_name}_over_deep": statistics.median(
            s / d for s, d in zip(slows, deeps, strict=True)
        ),
    }


def parse_options(
    doc: str | None, count_name: str, count_default: int, depth_default: int
) -> argparse.Namespace:
    """The options of a deep-page benchmark: engines, server, ``--<count_name>`` rows made,
    ``--depth``, ``--rounds``, ``--repeats`` and ``--json``; the depth must be below the count."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument(f"--{count_name}", type=int, default=count_default)
    parser.add_argument("--depth", type=int, default=depth_default)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    if options.depth >= getattr(options, count_name):
        parser.error(f"--depth must be below --{count_name}")
    return options


def engine_urls(options: argparse.Namespace, schema_prefix: str) -> Iterator[tuple[str, str]]:
    """(engine, database URL) for each of ``--engines``: a private schema on the PostgreSQL
    server (dropped after its turn), a new file on SQLite."""
    for engine in options.engines.split(","):
        if engine == "postgresql":
            with private_schema(options.postgres, schema_prefix) as (url, _):
                yield engine, url
        else:
            yield engine, f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"


def report(
    engine: str, figures: dict[str, float], depth: int, slow_name: str, slow_label: str, fast: str
) -> None:
    """One line: the first page, the deep page and the slow read of it, with their ratios."""
    print(
        f"{engine:10} first page {figures['first_ms']:7.2f} ms   page at {depth} "
        f"{figures['deep_ms']:7.2f} ms ({figures['deep_over_first']:.2f}x first)   with "
        f"{slow_label} {figures[f'{slow_name}_ms']:7.2f} ms "
        f"({figures[f'{slow_name}_over_deep']:.1f}x {fast})"
    )
