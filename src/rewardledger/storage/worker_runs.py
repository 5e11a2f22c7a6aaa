"""SQL storage of the worker's claims (implements ``worker.port.WorkerRunStore``).

Owns: the statements on ``worker_runs``. Protects: a step of a tenant runs in one worker per
due time. The claim is one UPDATE whose rows come from a sub-select taken ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL: two workers claiming at once each get the rows the other did not lock,
never the same one, and neither waits. On SQLite (one writer at a time) the statement is
atomic as it is. A claim carries a lease: a worker killed mid-step frees its steps when the
lease runs out, and its late ``finish`` (if it was only slow) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update

from rewardledger.storage.schema_worker import worker_runs
from rewardledger.storage.store_base import EngineStore
from rewardledger.storage.tenancy import scoped_by_tenant
from rewardledger.worker.port import Claimed, Lease


@scoped_by_tenant
class SqlWorkerRunStore(EngineStore):
    def claim_due(self, tenant_id: str, steps: Sequence[str], lease: Lease) -> list[Claimed]:
        table, now = worker_runs, lease.now
        schedule = self._dialect_insert(table).values(
            [{"tenant_id": tenant_id, "step": step, "next_run_at": now} for step in steps]
        )
        due = (
            select(table.c.step)
            .where(
                table.c.tenant_id == tenant_id,
                table.c.step.in_(list(steps)),
                table.c.next_run_at <= now,
                or_(table.c.lease_until.is_(None), table.c.lease_until < now),
            )
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(table)
            .where(table.c.tenant_id == tenant_id, table.c.step.in_(due.scalar_subquery()))
            .values(claimed_by=lease.worker_id, lease_until=lease.until)
            .returning(table.c.step, table.c.next_run_at)
        )
        with self.engine.begin() as connection:
            connection.execute(schedule.on_conflict_do_nothing())
            rows = connection.execute(claim).all()
        return sorted((Claimed(row.step, row.next_run_at) for row in rows), key=_order(steps))

    def finish(self, tenant_id: str, step: str, worker_id: str, next_run_at: datetime) -> bool:
        return self._give_back(tenant_id, step, worker_id, {"next_run_at": next_run_at})

    def release(self, tenant_id: str, step: str, worker_id: str) -> None:
        self._give_back(tenant_id, step, worker_id, {})

    def _give_back(self, tenant_id: str, step: str, worker_id: str, values: dict[str, Any]) -> bool:
        table = worker_runs
        statement = (
            update(table)
            .where(
                and_(
                    table.c.tenant_id == tenant_id,
                    table.c.step == step,
                    table.c.claimed_by == worker_id,
                )
            )
            .values(claimed_by=None, lease_until=None, **values)
        )
        with self.engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)


def _order(steps: Sequence[str]) -> Any:
    """Claimed steps run in the order they were asked for (the registry's order)."""
    rank = {step: index for index, step in enumerate(steps)}
    return lambda claimed: rank[claimed.step]
