"""Lists of the core ledger's collections: accounts and accepted transfers, a page at a time.

Owns: the keyset reads behind ``GET /accounts`` and ``GET /transfers``. Each page continues
strictly after the previous page's last sort key (no OFFSET), so pages stay stable while rows
are written. Accounts are read by id (their primary key); transfers newest first by
(created_at, transfer_id), on the index ``ix_transfers_created`` (migration 0016). Protects
invariant 8: every statement is filtered by ``tenant_id``.
"""

from __future__ import annotations

from sqlalchemy import and_, literal, or_, select, tuple_

from rewardledger.domain.accounts import Account
from rewardledger.domain.transfer_filter import TransferFilter, TransferPosition
from rewardledger.domain.transfers import Phase, Transfer
from rewardledger.storage.journal_reads import JournalQueries
from rewardledger.storage.rows import account_of, transfer_of, with_resolution
from rewardledger.storage.schema import accounts, assets, transfers


class ListQueries(JournalQueries):
    """Keyset pages of accounts and transfers."""

    def list_accounts(
        self, tenant_id: str, asset: str | None, after: str | None, limit: int
    ) -> list[Account]:
        """Accounts by id after ``after``, only of ``asset`` when given."""
        query = (
            select(accounts)
            .where(accounts.c.tenant_id == tenant_id)
            .order_by(accounts.c.account_id)
            .limit(limit)
        )
        if asset is not None:
            query = query.where(accounts.c.asset_code == asset)
        if after is not None:
            query = query.where(accounts.c.account_id > after)
        with self._read() as connection:
            return [account_of(row) for row in connection.execute(query)]

    def list_transfers(
        self, tenant_id: str, chosen: TransferFilter, before: TransferPosition | None, limit: int
    ) -> list[Transfer]:
        """Accepted transfers newest first, those ``chosen``, strictly before the keyset
        position ``before`` = (created_at, transfer_id); pending ones with their state."""
        t = transfers
        query = (
            select(t, assets.c.scale)
            .join(
                assets, and_(assets.c.tenant_id == t.c.tenant_id, assets.c.code == t.c.asset_code)
            )
            .where(t.c.tenant_id == tenant_id, t.c.error_code.is_(None))
            .order_by(t.c.created_at.desc(), t.c.transfer_id.desc())
            .limit(limit)
        )
        if (account := chosen.account) is not None:
            query = query.where(
                or_(t.c.debit_account_id == account, t.c.credit_account_id == account)
            )
        if chosen.kind is not None:
            query = query.where(t.c.kind == chosen.kind)
        if chosen.since is not None:
            query = query.where(t.c.created_at >= chosen.since)
        if chosen.until is not None:
            query = query.where(t.c.created_at < chosen.until)
        if before is not None:
            # A row value, so that both engines seek the index to the position instead of
            # scanning it from the newest row (an OR of the two cases is not a range to them).
            created_at, transfer_id = before
            query = query.where(
                tuple_(t.c.created_at, t.c.transfer_id)
                < tuple_(literal(created_at, t.c.created_at.type), literal(transfer_id))
            )
        with self._read() as connection:
            found = [transfer_of(row) for row in connection.execute(query)]
            pending = [x.id for x in found if x.phase is Phase.PENDING]
            states = self._pending_states(connection, tenant_id, pending) if pending else {}
        return [with_resolution(x, *states[x.id]) if x.id in states else x for x in found]
