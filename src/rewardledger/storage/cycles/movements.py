"""SQL storage of the cycles: the append-only cashback and debt movements.

Owns: the statements on ``cashback_movements`` and ``debt_movements``, and the cycles a
holder's movements fall in. Protects: a movement id is unique per tenant (the idempotency
key), enforced by the primary key.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    Row,
    Table,
    func,
    select,
)

from rewardledger.domain.cycles import (
    CashbackMovement,
    DebtMovement,
)
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.base import (
    CycleSqlBase,
    cashback_movement_of,
    debt_movement_of,
    movement_values,
)
from rewardledger.storage.schema_cycles import (
    cashback_movements,
    debt_movements,
)
from rewardledger.storage.unit import connection_of


class MovementsSql(CycleSqlBase):
    def get_cashback_movement(self, unit: StorageUnit, movement_id: str) -> CashbackMovement | None:
        row = _movement(unit, cashback_movements, movement_id)
        return cashback_movement_of(row) if row is not None else None

    def insert_cashback_movement(self, unit: StorageUnit, movement: CashbackMovement) -> None:
        _insert_movement(unit, cashback_movements, movement)

    def get_debt_movement(self, unit: StorageUnit, movement_id: str) -> DebtMovement | None:
        row = _movement(unit, debt_movements, movement_id)
        return debt_movement_of(row) if row is not None else None

    def insert_debt_movement(self, unit: StorageUnit, movement: DebtMovement) -> None:
        _insert_movement(unit, debt_movements, movement)

    def cashback_cycles_of(self, unit: StorageUnit, account_id: str) -> list[str]:
        """Every cycle in which the account has cashback movements."""
        m = cashback_movements.c
        return list(
            connection_of(unit).scalars(
                select(m.cycle_tag)
                .where(m.tenant_id == unit.tenant_id, m.account_id == account_id)
                .distinct()
                .order_by(m.cycle_tag)
            )
        )

    def next_debt_cycle(self, unit: StorageUnit, person_id: str, tag: str) -> str | None:
        """The person's first cycle after ``tag`` that has movements (it carries ``tag``'s net)."""
        m = debt_movements.c
        return cast(
            str | None,
            connection_of(unit).scalar(
                select(func.min(m.cycle_tag)).where(
                    m.tenant_id == unit.tenant_id, m.person_id == person_id, m.cycle_tag > tag
                )
            ),
        )


def _movement(unit: StorageUnit, table: Table, movement_id: str) -> Row[Any] | None:
    t = table.c
    query = select(table).where(t.tenant_id == unit.tenant_id, t.movement_id == movement_id)
    return connection_of(unit).execute(query).first()


def _insert_movement(
    unit: StorageUnit, table: Table, movement: CashbackMovement | DebtMovement
) -> None:
    connection_of(unit).execute(
        table.insert(), [{"tenant_id": unit.tenant_id, **movement_values(movement)}]
    )
