"""SQL storage of the cycles: programmes, account settings and the refresh mode.

Owns: the statements on ``cycle_settings``, ``cashback_programs``, ``cashback_accounts`` and
``debt_programs``. Protects: each write is an upsert, so setting twice leaves one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    Table,
    select,
)
from sqlalchemy.sql import ColumnElement

from rewardledger.domain.cycles import (
    CashbackAccountSettings,
    CashbackProgram,
    DebtProgram,
    RefreshMode,
)
from rewardledger.ledger.storage_unit import ReadUnit, StorageUnit
from rewardledger.storage.cycles.base import (
    CycleSqlBase,
)
from rewardledger.storage.rows import record_of
from rewardledger.storage.schema_cycles import (
    cashback_accounts,
    cashback_programs,
    cycle_settings,
    debt_programs,
)
from rewardledger.storage.unit import connection_of

# A tenant's settings row as its domain value: the fields are the columns.
Setting = TypeVar("Setting", CashbackProgram, CashbackAccountSettings, DebtProgram)


class SettingsSql(CycleSqlBase):
    def get_refresh_mode(self, tenant_id: str, unit: ReadUnit | None = None) -> RefreshMode:
        with self._reading(unit) as connection:
            mode = connection.scalar(
                select(cycle_settings.c.refresh_mode).where(cycle_settings.c.tenant_id == tenant_id)
            )
        return RefreshMode(mode) if mode is not None else RefreshMode.JOB

    def put_refresh_mode(self, unit: StorageUnit, mode: RefreshMode, now: datetime) -> None:
        connection = connection_of(unit)
        tenant_id = unit.tenant_id
        self._upsert(
            connection,
            cycle_settings,
            [{"tenant_id": tenant_id, "refresh_mode": mode.value, "updated_at": now}],
        )

    def get_cashback_program(
        self, tenant_id: str, unit: ReadUnit | None = None
    ) -> CashbackProgram | None:
        return self._one(unit, CashbackProgram, cashback_programs, tenant_id)

    def put_cashback_program(
        self, unit: StorageUnit, program: CashbackProgram, now: datetime
    ) -> None:
        self._put(unit, cashback_programs, program, now)

    def get_cashback_account(
        self, tenant_id: str, account_id: str, unit: ReadUnit | None = None
    ) -> CashbackAccountSettings | None:
        account = cashback_accounts.c.account_id == account_id
        return self._one(unit, CashbackAccountSettings, cashback_accounts, tenant_id, account)

    def put_cashback_account(
        self, unit: StorageUnit, settings: CashbackAccountSettings, now: datetime
    ) -> None:
        self._put(unit, cashback_accounts, settings, now)

    def cashback_accounts_settings(
        self, unit: StorageUnit, account_ids: Sequence[str]
    ) -> dict[str, CashbackAccountSettings]:
        if not account_ids:
            return {}
        rows = connection_of(unit).execute(
            select(cashback_accounts).where(
                cashback_accounts.c.tenant_id == unit.tenant_id,
                cashback_accounts.c.account_id.in_(sorted(set(account_ids))),
            )
        )
        return {row.account_id: record_of(CashbackAccountSettings, row) for row in rows}

    def get_debt_program(self, tenant_id: str, unit: ReadUnit | None = None) -> DebtProgram | None:
        return self._one(unit, DebtProgram, debt_programs, tenant_id)

    def put_debt_program(self, unit: StorageUnit, program: DebtProgram, now: datetime) -> None:
        self._put(unit, debt_programs, program, now)

    def _one(
        self,
        unit: ReadUnit | None,
        kind: type[Setting],
        table: Table,
        tenant_id: str,
        *where: ColumnElement[bool],
    ) -> Setting | None:
        """The tenant's row of ``table`` (the one matching ``where``) as a ``kind``, or None."""
        query = select(table).where(table.c.tenant_id == tenant_id, *where)
        with self._reading(unit) as connection:
            row = connection.execute(query).first()
        return None if row is None else record_of(kind, row)

    def _put(self, unit: StorageUnit, table: Table, setting: Setting, now: datetime) -> None:
        """Upsert ``setting`` as the tenant's row of ``table`` (its fields are the columns)."""
        row = {"tenant_id": unit.tenant_id, **asdict(setting), "updated_at": now}
        self._upsert(connection_of(unit), table, [row])
