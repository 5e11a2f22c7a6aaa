"""SQL storage of the cycles: a movement's own writes in as few statements as the engine allows.

Owns: the combined statements of the movement use cases. On PostgreSQL one statement (data-
modifying CTEs) opens the holder's missing accounts with their ``account.created`` events,
inserts the movement unless its id exists (the replay check folded into the write), marks its
pair dirty only when it inserted, and reads the refresh mode and the stored movement of a
replay. On SQLite the same steps run one statement each (one writer at a time).
Protects: a movement id is written once: a replay inserts nothing and marks nothing; a twin
committed concurrently is seen as a duplicate (``DuplicateIdError``), so the unit runs again
and answers it as a replay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, literal, select, update

from rewardledger.domain.cycle_writes import MissingAccounts, ReversalWrite
from rewardledger.domain.cycles import (
    CashbackKind,
    CashbackMovement,
    DebtMovement,
    LedgerName,
    RefreshMode,
)
from rewardledger.domain.errors import DuplicateIdError, NotFound
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.base import (
    cashback_movement_of,
    debt_movement_of,
    movement_values,
)
from rewardledger.storage.cycles.movements import MovementsSql
from rewardledger.storage.driver_rows import TextQuery
from rewardledger.storage.schema import accounts, outbox
from rewardledger.storage.schema_cycles import (
    cashback_movements,
    cashback_totals,
    cycle_dirty,
    cycle_settings,
    debt_movements,
)
from rewardledger.storage.unit import connection_of
from rewardledger.storage.write_rows import new_event_id

_DEBT_COLUMNS = (
    "tenant_id, movement_id, person_id, cycle_tag, kind, amount_minor, due_at, transfer_id, "
    "occurred_at, recorded_at"
)

# The holder's accounts (at most two), opened unless they exist, each with its event.
_OPEN_ACCOUNTS = """
opened AS (
  INSERT INTO accounts (tenant_id, account_id, asset_code, no_negative, created_at,
                        updated_at, managed_by)
  SELECT :tenant, a.id, :currency, false, :now, :now, :managed_by
  FROM unnest(CAST(:account_ids AS varchar[])) AS a(id)
  ON CONFLICT DO NOTHING
  RETURNING account_id),
announced AS (
  INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, created_at)
  SELECT :tenant, e.event_id, 'account.created', o.account_id, CAST(:created AS jsonb), :now
  FROM opened o
  JOIN unnest(CAST(:account_ids AS varchar[]), CAST(:event_ids AS varchar[])) AS e(id, event_id)
    ON e.id = o.account_id)"""

_MODE = "(SELECT refresh_mode FROM cycle_settings WHERE tenant_id = :tenant)"

_RECORD_DEBT = TextQuery(
    f"""WITH {_OPEN_ACCOUNTS},
added AS (
  INSERT INTO debt_movements ({_DEBT_COLUMNS})
  VALUES (:tenant, :movement_id, :person_id, :cycle_tag, :kind, :amount_minor,
          CAST(:due_at AS timestamptz), :transfer_id, :occurred_at, :recorded_at)
  ON CONFLICT DO NOTHING
  RETURNING person_id, cycle_tag),
marked AS (
  INSERT INTO cycle_dirty (tenant_id, ledger, holder_id, cycle_tag, token)
  SELECT :tenant, 'debt', person_id, cycle_tag, :token FROM added
  ON CONFLICT (tenant_id, ledger, holder_id, cycle_tag) DO UPDATE SET token = excluded.token)
SELECT (SELECT count(*) FROM added) AS added, {_MODE} AS mode, m.*
FROM (SELECT 1) AS one
LEFT JOIN debt_movements AS m ON m.tenant_id = :tenant AND m.movement_id = :movement_id"""  # noqa: S608 - constant SQL, values bound
)


_CASHBACK_COLUMNS = (
    "tenant_id, movement_id, account_id, cycle_tag, kind, spend_minor, requested_minor, "
    "cashback_minor, budget_cap_minor, override, reverses_id, transfer_id, occurred_at, "
    "recorded_at"
)

# The reversal is the negated accrual: derived in the statement from the stored accrual.
_REVERSE_CASHBACK = TextQuery(
    f"""WITH original AS (
  SELECT * FROM cashback_movements
  WHERE tenant_id = :tenant AND movement_id = :reverses_id AND kind = 'accrual'),
added AS (
  INSERT INTO cashback_movements ({_CASHBACK_COLUMNS})
  SELECT tenant_id, :movement_id, account_id, cycle_tag, 'reversal', -spend_minor,
         -requested_minor, -cashback_minor, NULL, false, movement_id,
         CASE WHEN cashback_minor > 0 THEN :transfer_id END, :occurred_at, :recorded_at
  FROM original
  ON CONFLICT DO NOTHING
  RETURNING *),
marked AS (
  INSERT INTO cycle_dirty (tenant_id, ledger, holder_id, cycle_tag, token)
  SELECT :tenant, 'cashback', account_id, cycle_tag, :token FROM added
  ON CONFLICT (tenant_id, ledger, holder_id, cycle_tag) DO UPDATE SET token = excluded.token),
adjusted AS (
  UPDATE cashback_totals AS t
  SET spend_minor = t.spend_minor + a.spend_minor,
      cashback_minor = t.cashback_minor + a.cashback_minor
  FROM added AS a
  WHERE t.tenant_id = a.tenant_id AND t.account_id = a.account_id AND t.cycle_tag = a.cycle_tag)
SELECT 'added' AS source, {_MODE} AS mode, added.* FROM added
UNION ALL
SELECT 'stored', NULL, m.* FROM cashback_movements AS m
WHERE m.tenant_id = :tenant AND m.movement_id = :movement_id
UNION ALL
SELECT 'original', NULL, original.* FROM original"""  # noqa: S608 - constant SQL, values bound
)


def mode_of(value: str | None) -> RefreshMode:
    return RefreshMode(value) if value is not None else RefreshMode.JOB


class WritesSql(MovementsSql):
    def _open_parameters(self, unit: StorageUnit, missing: MissingAccounts) -> dict[str, Any]:
        return {
            "tenant": unit.tenant_id,
            "account_ids": list(missing.account_ids),
            "event_ids": [new_event_id() for _ in missing.account_ids],
            "currency": missing.currency,
            "managed_by": missing.managed_by,
            "created": json.dumps({"asset": missing.currency}),
        }

    def open_accounts(self, unit: StorageUnit, missing: MissingAccounts, now: datetime) -> None:
        """Open the ones of ``missing`` that do not exist, each with its ``account.created`` event
        (SQLite; PostgreSQL does it inside the movement's write)."""
        account_ids, currency = missing.account_ids, missing.currency
        connection = connection_of(unit)
        found = set(
            connection.scalars(
                select(accounts.c.account_id).where(
                    accounts.c.tenant_id == unit.tenant_id,
                    accounts.c.account_id.in_(list(account_ids)),
                )
            )
        )
        absent = [account_id for account_id in account_ids if account_id not in found]
        if not absent:
            return
        common = {"tenant_id": unit.tenant_id, "created_at": now}
        connection.execute(
            insert(accounts),
            [
                {
                    **common,
                    "account_id": account_id,
                    "asset_code": currency,
                    "no_negative": False,
                    "metadata": None,
                    "updated_at": now,
                    "managed_by": missing.managed_by,
                }
                for account_id in absent
            ],
        )
        connection.execute(
            insert(outbox),
            [
                {
                    **common,
                    "event_id": new_event_id(),
                    "event_type": "account.created",
                    "subject_id": account_id,
                    "payload": {"asset": currency},
                }
                for account_id in absent
            ],
        )

    def record_debt_movement(
        self, unit: StorageUnit, movement: DebtMovement, token: str, missing: MissingAccounts
    ) -> tuple[DebtMovement | None, RefreshMode]:
        """Open the accounts, insert ``movement`` unless its id exists and mark its pair.
        Returns the stored movement of a replay (None when this call inserted) and the
        tenant's refresh mode."""
        values = movement_values(movement)
        if self.postgres:
            parameters = self._open_parameters(unit, missing)
            parameters.update(values, token=token, now=movement.recorded_at)
            found: Any = _RECORD_DEBT.first(unit, parameters)
            assert found is not None  # one row whatever was stored
            mode = mode_of(found.mode)
            if found.added:
                return None, mode
            if found.movement_id is None:
                raise DuplicateIdError(movement.id)  # a twin committed meanwhile
            return debt_movement_of(found), mode
        # SQLite: one read (accounts found, the stored movement, the mode), then the writes.
        connection = connection_of(unit)
        row = self._stored_with(
            connection, debt_movements, unit.tenant_id, [movement.id], missing.account_ids
        )[0]
        if row.movement_id is not None:
            return debt_movement_of(row), mode_of(row.mode)
        if row.found < len(missing.account_ids):
            self.open_accounts(unit, missing, movement.recorded_at)
        connection.execute(insert(debt_movements), [{"tenant_id": unit.tenant_id, **values}])
        self._mark(connection, unit.tenant_id, LedgerName.DEBT, movement, token)
        return None, mode_of(row.mode)

    def reverse_cashback_movement(
        self, unit: StorageUnit, reversal: ReversalWrite
    ) -> tuple[CashbackMovement, bool, RefreshMode]:
        """Store the reversal of accrual ``reversal.reverses_id`` (its negated amounts, in its
        cycle) unless stored already, and mark its pair. Returns the reversal, whether it is a
        replay, and the refresh mode. ``NotFound`` when there is no such accrual."""
        if not self.postgres:
            return self._reverse_sqlite(connection_of(unit), unit, reversal)
        parameters = {
            "tenant": unit.tenant_id,
            "movement_id": reversal.reversal_id,
            "reverses_id": reversal.reverses_id,
            "transfer_id": reversal.transfer_id,
            "token": reversal.token,
            "occurred_at": reversal.occurred_at,
            "recorded_at": reversal.recorded_at,
        }
        rows: dict[str, Any] = {row.source: row for row in _REVERSE_CASHBACK.all(unit, parameters)}
        if "added" in rows:
            return cashback_movement_of(rows["added"]), False, mode_of(rows["added"].mode)
        if "stored" in rows:
            return cashback_movement_of(rows["stored"]), True, RefreshMode.JOB
        if "original" in rows:
            raise DuplicateIdError(reversal.reversal_id)  # a twin committed meanwhile
        raise NotFound("cashback accrual", reversal.reverses_id)

    def _reverse_sqlite(
        self, connection: Connection, unit: StorageUnit, reversal: ReversalWrite
    ) -> tuple[CashbackMovement, bool, RefreshMode]:
        reversal_id, reverses_id = reversal.reversal_id, reversal.reverses_id
        rows = self._stored_with(
            connection, cashback_movements, unit.tenant_id, [reversal_id, reverses_id], []
        )
        found = {row.movement_id: row for row in rows if row.movement_id is not None}
        if reversal_id in found:
            return cashback_movement_of(found[reversal_id]), True, RefreshMode.JOB
        row = found.get(reverses_id)
        original = None if row is None else cashback_movement_of(row)
        if original is None or original.kind is not CashbackKind.ACCRUAL:
            raise NotFound("cashback accrual", reverses_id)
        movement = CashbackMovement(
            id=reversal_id,
            account_id=original.account_id,
            cycle_tag=original.cycle_tag,
            kind=CashbackKind.REVERSAL,
            spend_minor=-original.spend_minor,
            requested_minor=-original.requested_minor,
            cashback_minor=-original.cashback_minor,
            budget_cap_minor=None,
            override=False,
            reverses_id=original.id,
            transfer_id=reversal.transfer_id if original.cashback_minor > 0 else None,
            occurred_at=reversal.occurred_at,
            recorded_at=reversal.recorded_at,
        )
        self.insert_cashback_movement(unit, movement)
        t = cashback_totals.c
        connection.execute(
            update(cashback_totals)
            .where(
                t.tenant_id == unit.tenant_id,
                t.account_id == movement.account_id,
                t.cycle_tag == movement.cycle_tag,
            )
            .values(
                spend_minor=t.spend_minor + movement.spend_minor,
                cashback_minor=t.cashback_minor + movement.cashback_minor,
            )
        )
        self._mark(connection, unit.tenant_id, LedgerName.CASHBACK, movement, reversal.token)
        return movement, False, mode_of(rows[0].mode)

    def _stored_with(
        self,
        connection: Connection,
        table: Any,
        tenant_id: str,
        movement_ids: Sequence[str],
        account_ids: Sequence[str],
    ) -> list[Any]:
        """In one statement: the stored movements of ``movement_ids`` (one row of NULLs when
        none is), each row with how many of ``account_ids`` exist and the refresh mode."""
        found = (
            select(func.count())
            .where(accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(list(account_ids)))
            .scalar_subquery()
        )
        mode = (
            select(cycle_settings.c.refresh_mode)
            .where(cycle_settings.c.tenant_id == tenant_id)
            .scalar_subquery()
        )
        one = select(literal(1).label("one")).subquery()
        joined = one.outerjoin(
            table, and_(table.c.tenant_id == tenant_id, table.c.movement_id.in_(list(movement_ids)))
        )
        query = select(found.label("found"), mode.label("mode"), table).select_from(joined)
        return list(connection.execute(query).all())

    def _mark(
        self,
        connection: Connection,
        tenant_id: str,
        ledger: LedgerName,
        movement: Any,
        token: str,
    ) -> None:
        holder = getattr(movement, "person_id", None) or movement.account_id
        self._upsert(
            connection,
            cycle_dirty,
            [
                {
                    "tenant_id": tenant_id,
                    "ledger": ledger.value,
                    "holder_id": holder,
                    "cycle_tag": movement.cycle_tag,
                    "token": token,
                }
            ],
        )
