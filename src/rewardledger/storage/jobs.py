"""SQL storage of the due jobs (implements ``services.jobs.JobStore``): their failures.

Owns: the statements on ``job_failures``. Protects: a failing step has one open row per
tenant; a second failure (from the next run, or from a run at the same moment) is an upsert on
the partial unique index that adds an attempt to that row, never a second open row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import literal, select, tuple_, update

from rewardledger.domain.jobs import FailureQuery, JobFailure
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.rows import record_of
from rewardledger.storage.schema_jobs import OPEN, job_failures
from rewardledger.storage.store_base import EngineStore
from rewardledger.storage.tenancy import scoped_by_tenant
from rewardledger.storage.unit import connection_of


@scoped_by_tenant
class SqlJobStore(EngineStore):
    def record_failure(
        self, unit: StorageUnit, step: str, code: str, message: str, now: datetime
    ) -> int:
        """Open a failure of ``step`` or add an attempt to the open one; return its attempts."""
        statement = self._dialect_insert(job_failures).values(
            tenant_id=unit.tenant_id,
            failure_id=uuid.uuid4().hex,
            step=step,
            code=code,
            message=message,
            first_failed_at=now,
            last_failed_at=now,
            attempts=1,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[job_failures.c.tenant_id, job_failures.c.step],
            index_where=OPEN,
            set_={
                "code": statement.excluded.code,
                "message": statement.excluded.message,
                "last_failed_at": statement.excluded.last_failed_at,
                "attempts": job_failures.c.attempts + 1,
            },
        ).returning(job_failures.c.attempts)
        return int(connection_of(unit).execute(statement).scalar_one())

    def resolve(self, unit: StorageUnit, steps: Sequence[str], now: datetime) -> int:
        """Resolve the open failures of ``steps`` (they just succeeded); return how many."""
        result = connection_of(unit).execute(
            update(job_failures)
            .where(
                job_failures.c.tenant_id == unit.tenant_id,
                job_failures.c.step.in_(list(steps)),
                job_failures.c.resolved_at.is_(None),
            )
            .values(resolved_at=now)
        )
        return int(result.rowcount)

    def open_steps(self, tenant_id: str) -> set[str]:
        with self.engine.connect() as connection:
            return set(
                connection.scalars(
                    select(job_failures.c.step).where(
                        job_failures.c.tenant_id == tenant_id, job_failures.c.resolved_at.is_(None)
                    )
                )
            )

    def failures(self, tenant_id: str, wanted: FailureQuery) -> list[JobFailure]:
        """The tenant's failures ``wanted`` chooses, the latest first."""
        f = job_failures.c
        query = select(job_failures).where(f.tenant_id == tenant_id)
        if not wanted.include_resolved:
            query = query.where(f.resolved_at.is_(None))
        if wanted.step is not None:
            query = query.where(f.step == wanted.step)
        if wanted.since is not None:
            query = query.where(f.last_failed_at >= wanted.since)
        if wanted.before is not None:
            moment, failure_id = wanted.before
            query = query.where(
                tuple_(f.last_failed_at, f.failure_id)
                < tuple_(literal(moment, f.last_failed_at.type), literal(failure_id))
            )
        query = query.order_by(f.last_failed_at.desc(), f.failure_id.desc()).limit(wanted.limit)
        with self.engine.connect() as connection:
            return [record_of(JobFailure, row) for row in connection.execute(query)]
