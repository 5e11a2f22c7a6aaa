"""SQL storage of the cycles: an accrual's two statements, on its pair's running totals.

Owns: locking a cashback pair's ``cashback_totals`` row and reading what decides the credit
(the running totals, the caps, the refresh mode) in one statement, and storing the accrual with
its new totals and its dirty mark in a second. Protects (invariant: concurrent accruals of one
cycle never pass its cap unless an override): on PostgreSQL the first statement is an upsert
of the pair's totals row, so it locks the row until commit and returns its latest committed
values even when it waited for a concurrent accrual (``ON CONFLICT DO UPDATE`` works on the
latest row version); SQLite has one writer at a time. A replay locks and writes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, exists, literal, select, update

from rewardledger.domain.cycle_writes import AccrualLock
from rewardledger.domain.cycles import (
    CashbackMovement,
    CashbackTotals,
    LedgerName,
    PairTotals,
)
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.writes import (
    _CASHBACK_COLUMNS,
    _MODE,
    _OPEN_ACCOUNTS,
    WritesSql,
    mode_of,
)
from rewardledger.storage.driver_rows import TextQuery
from rewardledger.storage.schema import accounts
from rewardledger.storage.schema_cycles import (
    cashback_accounts,
    cashback_movements,
    cashback_programs,
    cashback_totals,
    cycle_settings,
)
from rewardledger.storage.unit import connection_of, unit_of

_LOCK_TOTALS = TextQuery(
    f"""WITH {_OPEN_ACCOUNTS},
locked AS (
  INSERT INTO cashback_totals (tenant_id, account_id, cycle_tag, spend_minor, cashback_minor,
                               overridden)
  SELECT :tenant, :account_id, :cycle_tag, 0, 0, false
  WHERE NOT EXISTS (SELECT 1 FROM cashback_movements
                    WHERE tenant_id = :tenant AND movement_id = :movement_id)
  ON CONFLICT (tenant_id, account_id, cycle_tag)
  DO UPDATE SET spend_minor = cashback_totals.spend_minor
  RETURNING spend_minor, cashback_minor, overridden, cap_minor, cap_occurred_at,
            cap_movement_id)
SELECT locked.*,
  (SELECT default_cap_minor FROM cashback_programs WHERE tenant_id = :tenant) AS programme_cap,
  (SELECT default_cap_minor FROM cashback_accounts
   WHERE tenant_id = :tenant AND account_id = :account_id) AS account_cap,
  {_MODE} AS mode
FROM locked"""  # noqa: S608 - constant SQL, values bound
)

# Kept to ride with the core's lock or the COMMIT (``SqlUnit.later``), so nothing reads its
# result: a twin that stored the id meanwhile makes the INSERT fail on the key
# (``DuplicateIdError``) and the unit runs again, and finds the id stored.
_STORE_ACCRUAL = f"""WITH added AS (
  INSERT INTO cashback_movements ({_CASHBACK_COLUMNS})
  VALUES (%(tenant)s, %(movement_id)s, %(account_id)s, %(cycle_tag)s, 'accrual', %(spend_minor)s,
          %(requested_minor)s, %(cashback_minor)s, %(budget_cap_minor)s, %(override)s, NULL,
          %(transfer_id)s, %(occurred_at)s, %(recorded_at)s)
  RETURNING 1),
totals AS (
  UPDATE cashback_totals
  SET spend_minor = %(total_spend)s, cashback_minor = %(total_cashback)s,
      overridden = %(overridden)s, cap_minor = %(cap_minor)s,
      cap_occurred_at = %(cap_occurred_at)s, cap_movement_id = %(cap_movement_id)s
  WHERE tenant_id = %(tenant)s AND account_id = %(account_id)s AND cycle_tag = %(cycle_tag)s
    AND EXISTS (SELECT 1 FROM added))
INSERT INTO cycle_dirty (tenant_id, ledger, holder_id, cycle_tag, token)
SELECT %(tenant)s, 'cashback', %(account_id)s, %(cycle_tag)s, %(token)s FROM added
ON CONFLICT (tenant_id, ledger, holder_id, cycle_tag) DO UPDATE SET token = excluded.token"""  # noqa: S608 - constant SQL, values bound


def _pair_totals(row: Any, *, empty: bool = False) -> PairTotals:
    totals = CashbackTotals(0, 0, None, False)
    if not empty:
        totals = CashbackTotals(
            int(row.spend_minor),
            int(row.cashback_minor),
            None if row.cap_minor is None else int(row.cap_minor),
            bool(row.overridden),
        )
    return PairTotals(
        totals,
        None if empty else row.cap_occurred_at,
        None if empty else row.cap_movement_id,
        int(row.programme_cap),
        None if row.account_cap is None else int(row.account_cap),
        mode_of(row.mode),
    )


class AccrualsSql(WritesSql):
    def lock_cashback_pair(self, unit: StorageUnit, lock: AccrualLock) -> PairTotals | None:
        """Open the member's account if missing, lock the pair's totals row and read what
        decides the credit. None when ``lock.movement_id`` is stored already (a replay)."""
        account_id, tag = lock.account_id, lock.cycle_tag
        pair = {"tenant": unit.tenant_id, "account_id": account_id, "cycle_tag": tag}
        if self.postgres:
            parameters = self._open_parameters(unit, lock.account)
            parameters.update(pair, movement_id=lock.movement_id, now=lock.now)
            row = _LOCK_TOTALS.first(unit, parameters)
            return None if row is None else _pair_totals(row)
        connection = connection_of(unit)
        row = self._read_sqlite(connection, unit.tenant_id, lock.movement_id, account_id, tag)
        if row.stored:
            return None
        if not row.found:
            self.open_accounts(unit, lock.account, lock.now)
        if row.spend_minor is None:  # the pair's first movement: its totals row
            connection.execute(
                self._insert(cashback_totals).values(
                    tenant_id=unit.tenant_id,
                    account_id=account_id,
                    cycle_tag=tag,
                    spend_minor=0,
                    cashback_minor=0,
                    overridden=False,
                )
            )
            return _pair_totals(row, empty=True)
        return _pair_totals(row)

    def _read_sqlite(
        self, connection: Connection, tenant_id: str, movement_id: str, account_id: str, tag: str
    ) -> Any:
        """SQLite (one writer at a time, nothing to lock): one read of the pair's totals, its
        caps, the refresh mode, whether the movement is stored and the account exists."""
        t, m = cashback_totals.c, cashback_movements.c

        def scalar(column: Any, *where: Any) -> Any:
            return select(column).where(*where).scalar_subquery()

        one = select(literal(1).label("one")).subquery()
        pair = and_(t.tenant_id == tenant_id, t.account_id == account_id, t.cycle_tag == tag)
        query = select(
            t.spend_minor,
            t.cashback_minor,
            t.overridden,
            t.cap_minor,
            t.cap_occurred_at,
            t.cap_movement_id,
            scalar(
                cashback_programs.c.default_cap_minor, cashback_programs.c.tenant_id == tenant_id
            ).label("programme_cap"),
            scalar(
                cashback_accounts.c.default_cap_minor,
                cashback_accounts.c.tenant_id == tenant_id,
                cashback_accounts.c.account_id == account_id,
            ).label("account_cap"),
            scalar(cycle_settings.c.refresh_mode, cycle_settings.c.tenant_id == tenant_id).label(
                "mode"
            ),
            exists().where(m.tenant_id == tenant_id, m.movement_id == movement_id).label("stored"),
            exists()
            .where(accounts.c.tenant_id == tenant_id, accounts.c.account_id == account_id)
            .label("found"),
        ).select_from(one.outerjoin(cashback_totals, pair))
        return connection.execute(query).one()

    def store_accrual(
        self,
        unit: StorageUnit,
        movement: CashbackMovement,
        after: PairTotals,
        token: str,
    ) -> None:
        """Store the accrual, its pair's new running totals (``after``) and its dirty mark; on
        PostgreSQL with the unit's next statement (the core's lock) or its COMMIT.
        ``DuplicateIdError`` when a twin stored the id meanwhile (the unit runs again)."""
        totals = {
            "total_spend": after.totals.total_spend_minor,
            "total_cashback": after.totals.total_cashback_minor,
            "overridden": after.totals.overridden,
            "cap_minor": after.totals.latest_cap_minor,
            "cap_occurred_at": after.cap_occurred_at,
            "cap_movement_id": after.cap_movement_id,
        }

        def at_once(connection: Connection) -> None:
            self.insert_cashback_movement(unit, movement)
            self._update_totals(connection, unit.tenant_id, movement, totals)
            self._mark(connection, unit.tenant_id, LedgerName.CASHBACK, movement, token)

        parameters = {
            "tenant": unit.tenant_id,
            "movement_id": movement.id,
            "account_id": movement.account_id,
            "cycle_tag": movement.cycle_tag,
            "spend_minor": movement.spend_minor,
            "requested_minor": movement.requested_minor,
            "cashback_minor": movement.cashback_minor,
            "budget_cap_minor": movement.budget_cap_minor,
            "override": movement.override,
            "transfer_id": movement.transfer_id,
            "occurred_at": movement.occurred_at,
            "recorded_at": movement.recorded_at,
            "token": token,
            **totals,
        }
        unit_of(unit).later(_STORE_ACCRUAL, [parameters], at_once)

    def _update_totals(
        self,
        connection: Connection,
        tenant_id: str,
        movement: CashbackMovement,
        totals: dict[str, Any],
    ) -> None:
        t = cashback_totals.c
        connection.execute(
            update(cashback_totals)
            .where(
                t.tenant_id == tenant_id,
                t.account_id == movement.account_id,
                t.cycle_tag == movement.cycle_tag,
            )
            .values(
                spend_minor=totals["total_spend"],
                cashback_minor=totals["total_cashback"],
                overridden=totals["overridden"],
                cap_minor=totals["cap_minor"],
                cap_occurred_at=totals["cap_occurred_at"],
                cap_movement_id=totals["cap_movement_id"],
            )
        )
