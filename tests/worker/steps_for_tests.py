"""Real steps for the worker's tests: each relays the tenant's events with ``relay_batch`` to a
sink that appends to a file, or counts its runs in one, so that runs in several processes can
be counted afterwards. Never registered outside the tests."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from rewardledger.events import StoredEvent, relay_batch
from rewardledger.ledger.engine import Ledger
from rewardledger.worker import Step

SINK = "test-file"


def appended(path: Path, line: str) -> None:
    """One line, written in one append (whole even when processes append at once)."""
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def file_relay(path: Path, *, sleep_seconds: float = 0.0) -> Step:
    """Relay to ``path``: a line ``started <tenant> <pid>``, then one line per event id
    (after ``sleep_seconds``: a slow sink, to be killed in the middle of), then ``done``."""

    def run(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
        def deliver(events: Sequence[StoredEvent]) -> None:
            appended(path, f"started {tenant_id} {os.getpid()}")
            time.sleep(sleep_seconds)
            for event in events:
                appended(path, f"event {event.event_id}")

        report = relay_batch(ledger, tenant_id, SINK, deliver)
        appended(path, f"done {tenant_id} {os.getpid()}")
        return {"events_relayed": report.delivered}

    return Step("file_relay", 3_600, run)


def counting(name: str, path: Path, *, interval_seconds: int = 3_600) -> Step:
    """A step that appends ``<name> <tenant> <pid>`` to ``path`` each time it runs."""

    def run(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
        time.sleep(0.01)  # long enough for two workers to overlap, if they could
        appended(path, f"{name} {tenant_id} {os.getpid()}")
        return {"runs": 1}

    return Step(name, interval_seconds, run)


def failing(name: str) -> Step:
    def run(ledger: Ledger, tenant_id: str) -> Mapping[str, int]:
        raise RuntimeError(f"{name} cannot run")

    return Step(name, 60, run)
