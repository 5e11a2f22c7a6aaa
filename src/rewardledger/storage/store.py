"""``SqlStore``: the ledger's storage on SQLite or PostgreSQL, through SQLAlchemy 2 Core.

Owns: every query outside the hot write path (which is in ``posting.py``): tenants, assets,
accounts, journal reads, history, integrity aggregates, repairs and access keys. Protects
invariant 8: every statement is filtered by ``tenant_id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    case,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from rewardledger.domain.access import StoredApiKey
from rewardledger.domain.accounts import Account, Balances
from rewardledger.domain.errors import DatabaseUnavailable, RetryableError
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.reconciliation import (
    TOTAL_FIELDS,
    AccountDiscrepancy,
    AccountJournalTotals,
)
from rewardledger.domain.tenants import Asset, Tenant
from rewardledger.domain.transfers import (
    RESOLVED_STATE,
    JournalEntry,
    Phase,
    StoredRefusal,
    Transfer,
    TransferState,
)
from rewardledger.storage import migrate as migrations
from rewardledger.storage.engine import is_retryable, make_engine, safe_url
from rewardledger.storage.posting import (
    PostgresWriteSession,
    SqliteWriteSession,
    WriteSessions,
    new_event_id,
    translated_errors,
)
from rewardledger.storage.schema import (
    accounts,
    api_keys,
    assets,
    holds,
    integrity_repair_changes,
    integrity_repairs,
    outbox,
    tenants,
    transfers,
)
from rewardledger.storage.unit import SqlUnit, event_row

_POSTED_PHASES = (Phase.SINGLE.value, Phase.POST.value)


class SqlStore:
    """Implements ``rewardledger.ledger.ports.Store`` on one SQLAlchemy engine."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        self._shown_url = safe_url(url)
        self.dialect: str = self.engine.dialect.name
        self._sessions = WriteSessions(self.engine)

    def close(self) -> None:
        self._sessions.close()
        self.engine.dispose()

    @contextmanager
    def unit_of_work(self, tenant_id: str) -> Iterator[SqlUnit]:
        """Open one write transaction (``BEGIN IMMEDIATE`` on SQLite) for a service's use case.

        Contention and unique-key collisions, whether raised by the journal's statements or by
        a service's, come out as ``RetryableError`` and ``DuplicateIdError``.
        """
        with translated_errors(), self.engine.connect() as connection:
            connection.execution_options(rewardledger_write=True)
            connection.begin()
            driver: Any = connection.connection.driver_connection
            unit = SqlUnit(tenant_id, connection, self._sessions.within(driver, tenant_id))
            try:
                yield unit
            finally:
                if not unit.committed:
                    connection.rollback()

    def ping(self) -> None:
        """Connect once, so that an unreachable database is reported at start-up."""
        with self._unavailable(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def migrate(self) -> None:
        with self._unavailable():
            migrations.upgrade(self.engine)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Report a database that cannot be reached or opened as ``database_unavailable``."""
        try:
            yield
        except (OperationalError, OSError) as error:
            original = getattr(error, "orig", None) or error
            reason = str(original).strip().splitlines()[0] if str(original).strip() else ""
            hint = (
                "Check that the file's folder exists and is writable."
                if self.dialect == "sqlite"
                else "Check that the server is running and that the URL's host, port, user "
                "and database are right."
            )
            raise DatabaseUnavailable(
                self._shown_url, reason or type(original).__name__, hint
            ) from error

    def write_session(
        self, tenant_id: str
    ) -> AbstractContextManager[PostgresWriteSession | SqliteWriteSession]:
        return self._sessions.open(tenant_id)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A short write transaction outside the hot path (BEGIN IMMEDIATE on SQLite)."""
        try:
            with self.engine.connect() as connection:
                connection.execution_options(rewardledger_write=True)
                with connection.begin():
                    yield connection
        except OperationalError as error:
            if is_retryable(error):
                raise RetryableError(str(error)) from error
            raise

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def _insert_once(
        self, statement: Any, event: OutboxEvent, tenant_id: str, now: datetime
    ) -> bool:
        """Insert a row that may already exist; write its event only if it did not."""
        try:
            with self._write() as connection:
                connection.execute(statement)
                connection.execute(insert(outbox), [event_row(tenant_id, event, now)])
        except IntegrityError:
            return False
        return True

    # Tenants, assets and accounts ------------------------------------------------------------

    def insert_tenant(self, tenant: Tenant, event: OutboxEvent) -> bool:
        statement = insert(tenants).values(
            tenant_id=tenant.id,
            name=tenant.name,
            timezone=tenant.timezone,
            created_at=tenant.created_at,
        )
        return self._insert_once(statement, event, tenant.id, tenant.created_at)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        with self._read() as connection:
            row = connection.execute(
                select(tenants).where(tenants.c.tenant_id == tenant_id)
            ).first()
        return None if row is None else _tenant(row)

    def list_tenants(self) -> list[Tenant]:
        with self._read() as connection:
            rows = connection.execute(select(tenants).order_by(tenants.c.tenant_id)).all()
        return [_tenant(row) for row in rows]

    def count_tenants(self) -> int:
        with self._read() as connection:
            return int(connection.execute(select(func.count()).select_from(tenants)).scalar_one())

    def schema_revision(self) -> str | None:
        return migrations.current_revision(self.engine)

    def insert_asset(self, asset: Asset, event: OutboxEvent) -> bool:
        statement = insert(assets).values(
            tenant_id=asset.tenant_id,
            code=asset.code,
            scale=asset.scale,
            name=asset.name,
            created_at=asset.created_at,
        )
        return self._insert_once(statement, event, asset.tenant_id, asset.created_at)

    def get_assets(self, tenant_id: str) -> dict[str, Asset]:
        with self._read() as connection:
            rows = connection.execute(select(assets).where(assets.c.tenant_id == tenant_id)).all()
        return {
            row.code: Asset(row.tenant_id, row.code, row.scale, row.name, row.created_at)
            for row in rows
        }

    def insert_account(self, account: Account, event: OutboxEvent) -> bool:
        statement = insert(accounts).values(
            tenant_id=account.tenant_id,
            account_id=account.id,
            asset_code=account.asset_code,
            no_negative=account.no_negative,
            metadata=dict(account.metadata) or None,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )
        return self._insert_once(statement, event, account.tenant_id, account.created_at)

    def count_accounts(self, tenant_id: str) -> int:
        with self._read() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(accounts)
                    .where(accounts.c.tenant_id == tenant_id)
                ).scalar_one()
            )

    def get_account(self, tenant_id: str, account_id: str) -> Account | None:
        return self.accounts_by_id(tenant_id, [account_id]).get(account_id)

    def accounts_by_id(self, tenant_id: str, account_ids: Sequence[str]) -> dict[str, Account]:
        with self._read() as connection:
            rows = connection.execute(
                select(accounts).where(
                    accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(account_ids)
                )
            ).all()
        return {row.account_id: _account(row) for row in rows}

    # The journal -----------------------------------------------------------------------------

    def get_transfer(self, tenant_id: str, transfer_id: str) -> Transfer | StoredRefusal | None:
        return self.get_records(tenant_id, [transfer_id], with_state=True).get(transfer_id)

    def get_records(
        self, tenant_id: str, transfer_ids: Sequence[str], *, with_state: bool = False
    ) -> dict[str, Transfer | StoredRefusal]:
        query = (
            select(transfers, assets.c.scale)
            .select_from(
                transfers.outerjoin(
                    assets,
                    and_(
                        assets.c.tenant_id == transfers.c.tenant_id,
                        assets.c.code == transfers.c.asset_code,
                    ),
                )
            )
            .where(transfers.c.tenant_id == tenant_id, transfers.c.transfer_id.in_(transfer_ids))
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
            records: dict[str, Transfer | StoredRefusal] = {}
            pending_ids = []
            for row in rows:
                if row.error_code is not None:
                    records[row.transfer_id] = StoredRefusal(
                        row.transfer_id, row.error_code, row.rejection
                    )
                else:
                    records[row.transfer_id] = _transfer(row)
                    if row.phase == Phase.PENDING.value:
                        pending_ids.append(row.transfer_id)
            if with_state and pending_ids:
                for pending_id, (state, resolved_by) in self._pending_states(
                    connection, tenant_id, pending_ids
                ).items():
                    record = records[pending_id]
                    assert isinstance(record, Transfer)
                    records[pending_id] = _with_state(record, state, resolved_by)
        return records

    def _pending_states(
        self, connection: Connection, tenant_id: str, pending_ids: Sequence[str]
    ) -> dict[str, tuple[TransferState, str | None]]:
        states: dict[str, tuple[TransferState, str | None]] = {
            pending_id: (TransferState.PENDING, None) for pending_id in pending_ids
        }
        rows = connection.execute(
            select(transfers.c.pending_id, transfers.c.transfer_id, transfers.c.phase).where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.pending_id.in_(pending_ids),
                transfers.c.error_code.is_(None),
            )
        ).all()
        for pending_id, resolution_id, phase in rows:
            states[pending_id] = (RESOLVED_STATE[Phase(phase)], resolution_id)
        return states

    def history(
        self, tenant_id: str, account_id: str, before_seq: int | None, limit: int
    ) -> list[JournalEntry]:
        entries: list[JournalEntry] = []
        with self._read() as connection:
            for side in ("debit", "credit"):
                seq = transfers.c[f"{side}_entry_seq"]
                query = (
                    select(transfers, assets.c.scale)
                    .join(
                        assets,
                        and_(
                            assets.c.tenant_id == transfers.c.tenant_id,
                            assets.c.code == transfers.c.asset_code,
                        ),
                    )
                    .where(
                        transfers.c.tenant_id == tenant_id,
                        transfers.c[f"{side}_account_id"] == account_id,
                        seq.is_not(None),
                    )
                    .order_by(seq.desc())
                    .limit(limit)
                )
                if before_seq is not None:
                    query = query.where(seq < before_seq)
                for row in connection.execute(query):
                    entries.append(
                        JournalEntry(
                            seq=getattr(row, f"{side}_entry_seq"),
                            transfer=_transfer(row),
                            side=side,
                            balance_after_minor=getattr(row, f"{side}_balance_after"),
                        )
                    )
        entries.sort(key=lambda entry: entry.seq, reverse=True)
        return entries[:limit]

    def posted_balance_at(self, tenant_id: str, account_id: str, at: datetime) -> int:
        total = 0
        with self._read() as connection:
            for side, sign in (("credit", 1), ("debit", -1)):
                amount = connection.execute(
                    select(func.coalesce(func.sum(transfers.c.amount_minor), 0)).where(
                        transfers.c.tenant_id == tenant_id,
                        transfers.c[f"{side}_account_id"] == account_id,
                        transfers.c.error_code.is_(None),
                        transfers.c.phase.in_(_POSTED_PHASES),
                        transfers.c.effective_at <= at,
                    )
                ).scalar_one()
                total += sign * int(amount)
        return total

    def due_holds(self, tenant_id: str, now: datetime, limit: int) -> list[str]:
        with self._read() as connection:
            return list(
                connection.execute(
                    select(holds.c.transfer_id)
                    .where(
                        holds.c.tenant_id == tenant_id,
                        holds.c.expires_at.is_not(None),
                        holds.c.expires_at <= now,
                    )
                    .order_by(holds.c.expires_at, holds.c.transfer_id)
                    .limit(limit)
                ).scalars()
            )

    # Integrity -------------------------------------------------------------------------------

    def account_ids_after(self, tenant_id: str, after: str | None, limit: int) -> list[str]:
        """The next ``limit`` account ids in id order after ``after`` (keyset pagination)."""
        query = select(accounts.c.account_id).where(accounts.c.tenant_id == tenant_id)
        if after is not None:
            query = query.where(accounts.c.account_id > after)
        with self._read() as connection:
            return list(
                connection.execute(query.order_by(accounts.c.account_id).limit(limit)).scalars()
            )

    def integrity_chunk(
        self, tenant_id: str, after: str | None, limit: int
    ) -> tuple[list[Account], dict[str, AccountJournalTotals]]:
        """The next ``limit`` accounts after ``after`` and their journal totals, read from one
        snapshot so that concurrent writes cannot show up as discrepancies."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                query = select(accounts).where(accounts.c.tenant_id == tenant_id)
                if after is not None:
                    query = query.where(accounts.c.account_id > after)
                rows = connection.execute(query.order_by(accounts.c.account_id).limit(limit))
                chunk = [_account(row) for row in rows]
                totals = _journal_totals(connection, tenant_id, [a.id for a in chunk])
        return chunk, totals

    def asset_sums(self, tenant_id: str) -> dict[str, tuple[int, int]]:
        """Per asset: the sum of posted balances and of pending balances (both must be 0)."""
        query = (
            select(
                accounts.c.asset_code,
                func.sum(accounts.c.credits_posted - accounts.c.debits_posted),
                func.sum(accounts.c.credits_pending - accounts.c.debits_pending),
            )
            .where(accounts.c.tenant_id == tenant_id)
            .group_by(accounts.c.asset_code)
        )
        with self._read() as connection:
            return {
                code: (int(posted), int(pending))
                for code, posted, pending in connection.execute(query)
            }

    def multiply_resolved(self, tenant_id: str) -> list[tuple[str, int]]:
        query = (
            select(transfers.c.pending_id, func.count())
            .where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.pending_id.is_not(None),
                transfers.c.error_code.is_(None),
            )
            .group_by(transfers.c.pending_id)
            .having(func.count() > 1)
        )
        with self._read() as connection:
            return [(pending_id, int(count)) for pending_id, count in connection.execute(query)]

    def hold_mismatches(self, tenant_id: str) -> tuple[list[str], list[str]]:
        """Open pending transfers without a hold, and holds without an open pending transfer."""
        with self._read() as connection:
            return _hold_mismatches(connection, tenant_id)

    def start_repair(self, tenant_id: str, actor: str, now: datetime) -> str:
        repair_id = new_event_id()
        with self._write() as connection:
            connection.execute(
                insert(integrity_repairs).values(
                    tenant_id=tenant_id, repair_id=repair_id, actor=actor, started_at=now
                )
            )
        return repair_id

    def repair_chunk(
        self,
        tenant_id: str,
        repair_id: str,
        account_ids: Sequence[str],
        first_change_seq: int,
    ) -> list[AccountDiscrepancy]:
        """Rebuild these accounts' totals from the journal, under lock; record what changed."""
        with self._write() as connection:
            lock = select(accounts).where(
                accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(account_ids)
            )
            if connection.dialect.name == "postgresql":
                lock = lock.order_by(accounts.c.account_id).with_for_update()
            current = {row.account_id: row for row in connection.execute(lock)}
            journal = _journal_totals(connection, tenant_id, list(current))
            changes: list[AccountDiscrepancy] = []
            for account_id, row in current.items():
                totals = journal[account_id]
                fixed = {}
                for field in TOTAL_FIELDS:
                    before, after = getattr(row, field), getattr(totals, field)
                    if before != after:
                        fixed[field] = after
                        changes.append(
                            AccountDiscrepancy(account_id, row.asset_code, field, before, after)
                        )
                if fixed:
                    connection.execute(
                        update(accounts)
                        .where(
                            accounts.c.tenant_id == tenant_id,
                            accounts.c.account_id == account_id,
                        )
                        .values(**fixed)
                    )
            _record_changes(
                connection,
                tenant_id,
                repair_id,
                first_change_seq,
                [(c.account_id, c.field, c.materialized, c.journal) for c in changes],
            )
        return changes

    def repair_holds(
        self, tenant_id: str, repair_id: str, first_change_seq: int
    ) -> tuple[list[str], list[str]]:
        """Recreate missing holds and drop stray ones; return (recreated, dropped)."""
        with self._write() as connection:
            missing, stray = _hold_mismatches(connection, tenant_id)
            _record_changes(
                connection,
                tenant_id,
                repair_id,
                first_change_seq,
                [(p, "hold", 0, 1) for p in missing] + [(p, "hold", 1, 0) for p in stray],
            )
            if missing:
                connection.execute(
                    insert(holds).from_select(
                        ["tenant_id", "transfer_id", "expires_at"],
                        select(
                            transfers.c.tenant_id, transfers.c.transfer_id, transfers.c.expires_at
                        ).where(
                            transfers.c.tenant_id == tenant_id,
                            transfers.c.transfer_id.in_(missing),
                        ),
                    )
                )
            if stray:
                connection.execute(
                    holds.delete().where(
                        holds.c.tenant_id == tenant_id, holds.c.transfer_id.in_(stray)
                    )
                )
        return missing, stray

    def finish_repair(
        self,
        tenant_id: str,
        repair_id: str,
        now: datetime,
        accounts_checked: int,
        changes_count: int,
        event: OutboxEvent,
    ) -> None:
        with self._write() as connection:
            connection.execute(
                update(integrity_repairs)
                .where(
                    integrity_repairs.c.tenant_id == tenant_id,
                    integrity_repairs.c.repair_id == repair_id,
                )
                .values(
                    finished_at=now,
                    accounts_checked=accounts_checked,
                    changes_count=changes_count,
                )
            )
            connection.execute(insert(outbox), [event_row(tenant_id, event, now)])

    # Access keys -----------------------------------------------------------------------------

    def insert_api_key(
        self,
        tenant_id: str,
        key_id: str,
        secret_hash: str,
        role: str,
        label: str | None,
        now: datetime,
    ) -> None:
        with self._write() as connection:
            connection.execute(
                insert(api_keys).values(
                    tenant_id=tenant_id,
                    key_id=key_id,
                    secret_hash=secret_hash,
                    role=role,
                    label=label,
                    created_at=now,
                )
            )

    def find_api_key(self, key_id: str) -> StoredApiKey | None:
        """The key with this id, whatever its tenant (key ids are unique across tenants)."""
        with self._read() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        if row is None:
            return None
        return StoredApiKey(
            row.tenant_id, row.key_id, row.secret_hash, row.role, row.label, row.revoked_at
        )

    def outbox_events(self, tenant_id: str, limit: int) -> Iterator[dict[str, Any]]:
        with self._read() as connection:
            rows = connection.execute(
                select(outbox)
                .where(outbox.c.tenant_id == tenant_id)
                .order_by(outbox.c.event_id)
                .limit(limit)
            ).all()
        for row in rows:
            yield dict(row._mapping)


# ---------------------------------------------------------------------------------------------


def _record_changes(
    connection: Connection,
    tenant_id: str,
    repair_id: str,
    first_change_seq: int,
    changes: Sequence[tuple[str, str, int, int]],
) -> None:
    if not changes:
        return
    connection.execute(
        insert(integrity_repair_changes),
        [
            {
                "tenant_id": tenant_id,
                "repair_id": repair_id,
                "change_seq": first_change_seq + i,
                "target": target,
                "field": field,
                "before_value": before,
                "after_value": after,
            }
            for i, (target, field, before, after) in enumerate(changes)
        ],
    )


def _tenant(row: Row[Any]) -> Tenant:
    return Tenant(row.tenant_id, row.name, row.timezone, row.created_at)


def _account(row: Row[Any]) -> Account:
    return Account(
        tenant_id=row.tenant_id,
        id=row.account_id,
        asset_code=row.asset_code,
        no_negative=bool(row.no_negative),
        metadata=row.metadata or {},
        balances=Balances(
            row.debits_pending, row.debits_posted, row.credits_pending, row.credits_posted
        ),
        entry_count=row.entry_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _transfer(row: Row[Any]) -> Transfer:
    phase = Phase(row.phase)
    return Transfer(
        tenant_id=row.tenant_id,
        id=row.transfer_id,
        phase=phase,
        kind=row.kind,
        reason=row.reason,
        asset_code=row.asset_code,
        scale=row.scale,
        amount_minor=row.amount_minor,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        pending_id=row.pending_id,
        expires_at=row.expires_at,
        effective_at=row.effective_at,
        created_at=row.created_at,
        cycle_tag=row.cycle_tag,
        metadata=row.metadata or {},
        debit_entry_seq=row.debit_entry_seq,
        credit_entry_seq=row.credit_entry_seq,
        debit_balance_after_minor=row.debit_balance_after,
        credit_balance_after_minor=row.credit_balance_after,
        state=TransferState.PENDING if phase is Phase.PENDING else TransferState.POSTED,
    )


def _with_state(transfer: Transfer, state: TransferState, resolved_by: str | None) -> Transfer:
    return replace(transfer, state=state, resolved_by=resolved_by)


def _journal_totals(
    connection: Connection, tenant_id: str, account_ids: Sequence[str]
) -> dict[str, AccountJournalTotals]:
    """Every total an account materializes, recomputed from the journal alone."""
    sums: dict[str, dict[str, int]] = {
        account_id: dict.fromkeys(TOTAL_FIELDS, 0) for account_id in account_ids
    }
    resolution = transfers.alias("resolution")
    unresolved = ~exists().where(
        resolution.c.tenant_id == transfers.c.tenant_id,
        resolution.c.pending_id == transfers.c.transfer_id,
        resolution.c.error_code.is_(None),
    )
    for side in ("debit", "credit"):
        account = transfers.c[f"{side}_account_id"]
        posted = func.coalesce(
            func.sum(
                case((transfers.c.phase.in_(_POSTED_PHASES), transfers.c.amount_minor), else_=0)
            ),
            0,
        )
        rows = connection.execute(
            select(account, posted, func.count())
            .where(
                transfers.c.tenant_id == tenant_id,
                account.in_(account_ids),
                transfers.c.error_code.is_(None),
            )
            .group_by(account)
        )
        for account_id, posted_sum, count in rows:
            sums[account_id][f"{side}s_posted"] = int(posted_sum)
            sums[account_id]["entry_count"] += int(count)
        pending_rows = connection.execute(
            select(account, func.sum(transfers.c.amount_minor))
            .where(
                transfers.c.tenant_id == tenant_id,
                account.in_(account_ids),
                transfers.c.error_code.is_(None),
                transfers.c.phase == Phase.PENDING.value,
                unresolved,
            )
            .group_by(account)
        )
        for account_id, pending_sum in pending_rows:
            sums[account_id][f"{side}s_pending"] = int(pending_sum)
    asset_of = dict(
        connection.execute(
            select(accounts.c.account_id, accounts.c.asset_code).where(
                accounts.c.tenant_id == tenant_id, accounts.c.account_id.in_(account_ids)
            )
        ).all()
    )
    return {
        account_id: AccountJournalTotals(
            account_id=account_id,
            asset_code=asset_of.get(account_id, ""),
            **values,
        )
        for account_id, values in sums.items()
    }


def _hold_mismatches(connection: Connection, tenant_id: str) -> tuple[list[str], list[str]]:
    resolution = transfers.alias("resolution")
    resolved = exists().where(
        resolution.c.tenant_id == transfers.c.tenant_id,
        resolution.c.pending_id == transfers.c.transfer_id,
        resolution.c.error_code.is_(None),
    )
    held = exists().where(
        holds.c.tenant_id == transfers.c.tenant_id, holds.c.transfer_id == transfers.c.transfer_id
    )
    missing = list(
        connection.execute(
            select(transfers.c.transfer_id).where(
                transfers.c.tenant_id == tenant_id,
                transfers.c.phase == Phase.PENDING.value,
                transfers.c.error_code.is_(None),
                ~resolved,
                ~held,
            )
        ).scalars()
    )
    open_pending = exists().where(
        transfers.c.tenant_id == holds.c.tenant_id,
        transfers.c.transfer_id == holds.c.transfer_id,
        transfers.c.phase == Phase.PENDING.value,
        transfers.c.error_code.is_(None),
        ~resolved,
    )
    stray = list(
        connection.execute(
            select(holds.c.transfer_id).where(holds.c.tenant_id == tenant_id, ~open_pending)
        ).scalars()
    )
    return missing, stray
