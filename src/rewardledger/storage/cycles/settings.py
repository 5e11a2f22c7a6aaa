"""SQL storage of the cycles: programmes, account settings and the refresh mode.

Owns: the statements on ``cycle_settings``, ``cashback_programs``, ``cashback_accounts`` and
``debt_programs``. Protects: each write is an upsert, so setting twice leaves one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    select,
)

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
from rewardledger.storage.schema_cycles import (
    cashback_accounts,
    cashback_programs,
    cycle_settings,
    debt_programs,
)
from rewardledger.storage.unit import connection_of


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
        with self._reading(unit) as connection:
            row = connection.execute(
                select(cashback_programs).where(cashback_programs.c.tenant_id == tenant_id)
            ).first()
        if row is None:
            return None
        return CashbackProgram(
            row.currency, row.minimum_spend_minor, row.default_cap_minor, row.grace_days
        )

    def put_cashback_program(
        self, unit: StorageUnit, program: CashbackProgram, now: datetime
    ) -> None:
        self._upsert(
            connection_of(unit),
            cashback_programs,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "currency": program.currency,
                    "minimum_spend_minor": program.minimum_spend_minor,
                    "default_cap_minor": program.default_cap_minor,
                    "grace_days": program.grace_days,
                    "updated_at": now,
                }
            ],
        )

    def get_cashback_account(
        self, tenant_id: str, account_id: str, unit: ReadUnit | None = None
    ) -> CashbackAccountSettings | None:
        with self._reading(unit) as connection:
            row = connection.execute(
                select(cashback_accounts).where(
                    cashback_accounts.c.tenant_id == tenant_id,
                    cashback_accounts.c.account_id == account_id,
                )
            ).first()
        if row is None:
            return None
        return CashbackAccountSettings(row.account_id, row.default_cap_minor, row.enrolled)

    def put_cashback_account(
        self, unit: StorageUnit, settings: CashbackAccountSettings, now: datetime
    ) -> None:
        self._upsert(
            connection_of(unit),
            cashback_accounts,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "account_id": settings.account_id,
                    "default_cap_minor": settings.default_cap_minor,
                    "enrolled": settings.enrolled,
                    "updated_at": now,
                }
            ],
        )

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
        return {
            row.account_id: CashbackAccountSettings(
                row.account_id, row.default_cap_minor, row.enrolled
            )
            for row in rows
        }

    def get_debt_program(self, tenant_id: str, unit: ReadUnit | None = None) -> DebtProgram | None:
        with self._reading(unit) as connection:
            row = connection.execute(
                select(debt_programs).where(debt_programs.c.tenant_id == tenant_id)
            ).first()
        if row is None:
            return None
        return DebtProgram(row.currency, row.closing_day, row.due_day, row.grace_days)

    def put_debt_program(self, unit: StorageUnit, program: DebtProgram, now: datetime) -> None:
        self._upsert(
            connection_of(unit),
            debt_programs,
            [
                {
                    "tenant_id": unit.tenant_id,
                    "currency": program.currency,
                    "closing_day": program.closing_day,
                    "due_day": program.due_day,
                    "grace_days": program.grace_days,
                    "updated_at": now,
                }
            ],
        )
