"""SQL storage of the cycles: dirty marks of (holder, cycle) pairs and the projection lock.

Owns: the statements on ``cycle_dirty``. Protects: late commits are never lost:
``take_dirty`` locks the marks it returns (skipping marks an in-flight writer holds) and
``clear_dirty`` deletes a mark only if its token is still the one read; ``mark_dirty`` is an
upsert, so on PostgreSQL it locks the pair until commit (the lock under which an accrual
checks its cap); ``lock_projection`` lets a rebuild batch exclude refreshes (advisory lock:
shared for refreshes, exclusive for rebuilds).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Select,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ColumnElement

from rewardledger.domain.cycles import (
    CycleStatus,
    DebtStatus,
    DirtyMark,
    LedgerName,
)
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.base import (
    CycleSqlBase,
)
from rewardledger.storage.schema_cycles import (
    cashback_ledger,
    cycle_dirty,
    debt_ledger,
)
from rewardledger.storage.unit import connection_of


class DirtySql(CycleSqlBase):
    def mark_dirty(
        self, unit: StorageUnit, ledger: LedgerName, holder_id: str, tag: str
    ) -> DirtyMark:
        """Mark (holder, cycle) dirty with a fresh token. On PostgreSQL the upsert also locks
        the pair until commit: it is the lock under which an accrual checks its cap."""
        token = secrets.token_hex(16)
        self._upsert(
            connection_of(unit),
            cycle_dirty,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "ledger": ledger.value,
                    "holder_id": holder_id,
                    "cycle_tag": tag,
                    "token": token,
                }
            ],
        )
        return DirtyMark(ledger, holder_id, tag, token)

    def take_dirty(self, unit: StorageUnit, limit: int) -> list[DirtyMark]:
        query = (
            select(cycle_dirty)
            .where(cycle_dirty.c.tenant_id == unit.tenant_id)
            .order_by(cycle_dirty.c.ledger, cycle_dirty.c.holder_id, cycle_dirty.c.cycle_tag)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            DirtyMark(LedgerName(row.ledger), row.holder_id, row.cycle_tag, row.token)
            for row in connection_of(unit).execute(query)
        ]

    def clear_dirty(self, unit: StorageUnit, mark: DirtyMark) -> None:
        """Delete the mark only if it still has the token read: a mark a writer set again
        since (a late commit) survives for the next refresh."""
        connection_of(unit).execute(
            delete(cycle_dirty).where(
                cycle_dirty.c.tenant_id == unit.tenant_id,
                cycle_dirty.c.ledger == mark.ledger.value,
                cycle_dirty.c.holder_id == mark.holder_id,
                cycle_dirty.c.cycle_tag == mark.cycle_tag,
                cycle_dirty.c.token == mark.token,
            )
        )

    def count_dirty(
        self, tenant_id: str, ledger: LedgerName | None = None, pair: tuple[str, str] | None = None
    ) -> int:
        """How many (holder, cycle) pairs of the tenant wait for a refresh; of one ledger, or
        just ``pair`` of it, when given."""
        d = cycle_dirty.c
        query = select(func.count()).where(d.tenant_id == tenant_id)
        if ledger is not None:
            query = query.where(d.ledger == ledger.value)
        if pair is not None:
            query = query.where(d.holder_id == pair[0], d.cycle_tag == pair[1])
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    def mark_due(
        self, unit: StorageUnit, closing_tags: Sequence[str], overdue_before: datetime
    ) -> int:
        """Mark dirty the open cashback rows of ``closing_tags`` (cycles now past their grace)
        and the unpaid debt rows due before ``overdue_before``; return how many."""
        token = (
            func.lower(func.hex(func.randomblob(16)))
            if not self.postgres
            else func.md5(func.random().cast(postgresql.TEXT))
        )
        marked = 0
        sources = []
        if closing_tags:
            c = cashback_ledger.c
            sources.append(
                _marks_of(LedgerName.CASHBACK, c.account_id, token).where(
                    c.tenant_id == unit.tenant_id,
                    c.status == CycleStatus.OPEN.value,
                    c.cycle_tag.in_(list(closing_tags)),
                )
            )
        d = debt_ledger.c
        sources.append(
            _marks_of(LedgerName.DEBT, d.person_id, token).where(
                d.tenant_id == unit.tenant_id,
                d.status.in_([DebtStatus.OPEN.value, DebtStatus.PARTIAL.value]),
                d.net_debt_minor > 0,
                d.due_at <= overdue_before,
            )
        )
        for source in sources:
            statement = self._insert(cycle_dirty).from_select(
                ["tenant_id", "ledger", "holder_id", "cycle_tag", "token"], source
            )
            if self.postgres:
                statement = statement.on_conflict_do_nothing()
            else:
                statement = statement.prefix_with("OR IGNORE")
            # INSERT ... SELECT: SQLAlchemy keeps the driver's row count of an INSERT only
            # when asked (without it psycopg's count reads as -1).
            result = connection_of(unit).execute(
                statement.execution_options(preserve_rowcount=True)
            )
            marked += result.rowcount
        return marked

    def open_cashback_tags(self, tenant_id: str, unit: StorageUnit) -> list[str]:
        connection = connection_of(unit)
        return list(
            connection.scalars(
                select(cashback_ledger.c.cycle_tag)
                .where(
                    cashback_ledger.c.tenant_id == tenant_id,
                    cashback_ledger.c.status == CycleStatus.OPEN.value,
                )
                .distinct()
            )
        )

    def lock_projection(self, unit: StorageUnit, *, exclusive: bool) -> None:
        if not self.postgres:
            return  # SQLite: the unit already holds the only write lock
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        connection_of(unit).exec_driver_sql(
            f"SELECT {function}(hashtext('rewardledger.cycles'), hashtext(%(tenant)s))",
            {"tenant": unit.tenant_id},
        )


def _marks_of(ledger: LedgerName, holder: Column[str], token: ColumnElement[str]) -> Select[Any]:
    """The ``cycle_dirty`` rows (tenant, ledger, holder, cycle, token) of a ledger's rows."""
    t = holder.table.c
    return select(t.tenant_id, literal(ledger.value), holder, t.cycle_tag, token)
