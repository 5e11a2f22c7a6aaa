"""The SQLite write session: one writer at a time (``BEGIN IMMEDIATE``), executemany.

Owns: the statements a write runs on SQLite. Protects invariant 3: SQLite admits one writer,
so the accounts a write reads cannot change before it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table

from rewardledger.storage import schema
from rewardledger.storage.write_rows import (
    ACCOUNT_TOTALS,
    HOLD_COLUMNS,
    LOCK_COLUMNS,
    OUTBOX_COLUMNS,
    PENDING_COLUMNS,
    TRANSFER_COLUMNS,
    AccountsOpened,
    Codec,
    WriteBatch,
    WriteSessionBase,
    new_event_id,
)


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _sqlite_insert(table: Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))})"


class SqliteStatements:
    def __init__(self) -> None:
        totals = ", ".join(f"{name} = ?" for name in (*ACCOUNT_TOTALS, "updated_at"))
        self.lock = (
            f"SELECT {', '.join(LOCK_COLUMNS)} FROM accounts "
            "WHERE tenant_id = ? AND account_id IN ({}) ORDER BY account_id"
        )
        self.pending_rows = (
            f"SELECT {', '.join(PENDING_COLUMNS)} FROM transfers "
            "WHERE tenant_id = ? AND transfer_id IN ({}) "
            "AND phase = 'pending' AND error_code IS NULL"
        )
        self.existing = self.lock
        self.open_holds = (
            "SELECT transfer_id FROM holds WHERE tenant_id = ? AND transfer_id IN ({})"
        )
        self.resolutions = (
            "SELECT pending_id, transfer_id FROM transfers "
            "WHERE tenant_id = ? AND pending_id IN ({}) AND error_code IS NULL"
        )
        self.insert_transfers = _sqlite_insert(schema.transfers, TRANSFER_COLUMNS)
        self.update_accounts = (
            f"UPDATE accounts SET {totals} WHERE account_id = ? AND tenant_id = ?"
        )
        self.insert_holds = _sqlite_insert(schema.holds, HOLD_COLUMNS)
        self.delete_holds = "DELETE FROM holds WHERE tenant_id = ? AND transfer_id = ?"
        self.insert_outbox = _sqlite_insert(schema.outbox, OUTBOX_COLUMNS)
        self.insert_accounts = _sqlite_insert(schema.accounts, _OPENED_COLUMNS)


_OPENED_COLUMNS = (
    "tenant_id",
    "account_id",
    "asset_code",
    "no_negative",
    "created_at",
    "updated_at",
    "managed_by",
)


# SQLite's limit on bound parameters per statement is 32,766; stay well below it.
_SQLITE_IDS_PER_QUERY = 10_000


class SqliteWriteSession(WriteSessionBase):
    _sql: SqliteStatements

    def __init__(
        self, connection: Any, statements: SqliteStatements, codec: Codec, tenant_id: str
    ) -> None:
        super().__init__(codec, tenant_id)
        self._connection = connection
        self._sql = statements

    def _query(self, template: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _SQLITE_IDS_PER_QUERY):
            chunk = list(ids[start : start + _SQLITE_IDS_PER_QUERY])
            cursor = self._connection.execute(
                template.format(_placeholders(len(chunk))), (self._tenant_id, *chunk)
            )
            found.extend(cursor.fetchall())
        return found

    def _store(self, batch: WriteBatch) -> None:
        if batch.journal:
            self._many(self._sql.insert_transfers, batch.journal)
        if batch.changed:
            self._many(
                self._sql.update_accounts, [(*row, self._tenant_id) for row in batch.changed]
            )
        if batch.opened:
            self._many(self._sql.insert_holds, batch.opened)
        if batch.closed:
            self._many(self._sql.delete_holds, [(self._tenant_id, c) for c in batch.closed])
        if batch.outbox:
            self._many(self._sql.insert_outbox, batch.outbox)

    def _open(self, opened: AccountsOpened) -> set[str]:
        # The unit holds SQLite's only writer lock: what is not found now cannot appear.
        found = {row[0] for row in self._query(self._sql.existing, opened.account_ids)}
        missing = [a for a in opened.account_ids if a not in found]
        if not missing:
            return set()
        tenant, now = self._tenant_id, opened.created_at
        self._many(
            self._sql.insert_accounts,
            [(tenant, a, opened.asset_code, 0, now, now, opened.managed_by) for a in missing],
        )
        self._many(
            self._sql.insert_outbox,
            [(tenant, new_event_id(), "account.created", a, opened.payload, now) for a in missing],
        )
        return set(missing)

    def _many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        # executemany costs more than execute for the one row of a single transfer.
        if len(rows) == 1:
            self._connection.execute(sql, rows[0])
        else:
            self._connection.executemany(sql, rows)

    def commit(self) -> None:
        self._connection.execute("COMMIT")
        self.committed = True


# ---------------------------------------------------------------------------------------------
