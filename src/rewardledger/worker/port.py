"""What the worker needs of storage (implemented in ``storage.worker_runs``): its claims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rewardledger.ledger.extensions import Port


@dataclass(frozen=True, slots=True)
class Claimed:
    """A step of a tenant this worker now holds, and the due time it runs for."""

    step: str
    due_at: datetime


class WorkerRunStore(Protocol):
    def claim_due(self, tenant_id: str, steps: Sequence[str], lease: Lease) -> list[Claimed]:
        """Schedule ``steps`` of ``tenant_id`` that have no row yet (due ``lease.now``), then
        claim for ``lease.worker_id`` until ``lease.until`` those that are due and held by
        nobody (or whose lease ran out), skipping rows another worker is claiming at this
        moment. One short transaction."""
        ...

    def finish(self, tenant_id: str, step: str, worker_id: str, next_run_at: datetime) -> bool:
        """Give back a claim after the step ran: next due at ``next_run_at``. False when the
        claim was no longer this worker's (its lease ran out and another took the step)."""
        ...

    def release(self, tenant_id: str, step: str, worker_id: str) -> None:
        """Give back a claim whose step did not run (the worker is stopping): still due."""
        ...


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim a worker asks for at ``now``: held by ``worker_id`` until ``until``."""

    worker_id: str
    now: datetime
    until: datetime


STORE: Port[WorkerRunStore] = Port("worker")
