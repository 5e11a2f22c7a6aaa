"""Tenants, assets, accounts and access keys: the directory rows of the core ledger.

Owns: inserting each once (with its outbox event in the same transaction) and reading them
back. Protects invariant 8: every statement is filtered by ``tenant_id``, except the lookup of
an access key by its id, which is unique across tenants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, func, insert, or_, select, text, update

from rewardledger.domain.access import StoredApiKey
from rewardledger.domain.accounts import Account
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.tenants import Asset, Tenant
from rewardledger.storage.rows import account_of, columns_of, record_of, tenant_of
from rewardledger.storage.schema import accounts, api_keys, assets, tenants
from rewardledger.storage.store_base import StoreConnections


class DirectoryQueries(StoreConnections):
    """Tenants, assets, accounts and access keys."""

    def insert_tenant(self, tenant: Tenant, event: OutboxEvent) -> bool:
        statement = insert(tenants).values(columns_of(tenant, id="tenant_id"))
        return self._insert_once(statement, tenant.id, event, tenant.created_at)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        with self._read() as connection:
            row = connection.execute(
                select(tenants).where(tenants.c.tenant_id == tenant_id)
            ).first()
        return None if row is None else tenant_of(row)

    def list_tenants(self) -> list[Tenant]:
        with self._read() as connection:
            rows = connection.execute(select(tenants).order_by(tenants.c.tenant_id)).all()
        return [tenant_of(row) for row in rows]

    def count_tenants(self) -> int:
        with self._read() as connection:
            return int(connection.execute(select(func.count()).select_from(tenants)).scalar_one())

    def insert_asset(self, asset: Asset, event: OutboxEvent) -> bool:
        statement = insert(assets).values(columns_of(asset))
        return self._insert_once(statement, asset.tenant_id, event, asset.created_at)

    def get_assets(self, tenant_id: str) -> dict[str, Asset]:
        with self._read() as connection:
            rows = connection.execute(select(assets).where(assets.c.tenant_id == tenant_id)).all()
        return {row.code: record_of(Asset, row) for row in rows}

    def insert_account(self, account: Account, event: OutboxEvent) -> bool:
        statement = insert(accounts).values(
            tenant_id=account.tenant_id,
            account_id=account.id,
            asset_code=account.asset_code,
            no_negative=account.no_negative,
            metadata=dict(account.metadata) or None,
            created_at=account.created_at,
            updated_at=account.updated_at,
            managed_by=account.managed_by,
        )
        return self._insert_once(statement, account.tenant_id, event, account.created_at)

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
        return {row.account_id: account_of(row) for row in rows}

    def insert_api_key(self, key: StoredApiKey) -> bool:
        """Insert the key; False (nothing written) if a key of this id exists already (in
        the key's tenant's scope, which the table's row-level security asks for)."""
        return self._insert_once(insert(api_keys).values(columns_of(key)), key.tenant_id)

    def find_api_key(self, key_id: str) -> StoredApiKey | None:
        """The key with this id, whatever its tenant (key ids are unique across tenants)."""
        if self.dialect == "postgresql":
            # Row-level security hides every tenant's keys until the tenant is known; this
            # function (migration 0010) returns the one key asked for.
            query: Any = (
                text("SELECT * FROM api_key_by_id(:key_id)")
                .bindparams(key_id=key_id)
                .columns(*api_keys.c)
            )
        else:
            query = select(api_keys).where(api_keys.c.key_id == key_id)
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else record_of(StoredApiKey, row)

    def list_api_keys(self, tenant_id: str, after: str | None, limit: int) -> list[StoredApiKey]:
        """The tenant's keys by key id, from the one after ``after``: at most ``limit``."""
        query = select(api_keys).where(api_keys.c.tenant_id == tenant_id)
        if after is not None:
            query = query.where(api_keys.c.key_id > after)
        with self._read() as connection:
            rows = connection.execute(query.order_by(api_keys.c.key_id).limit(limit)).all()
        return [record_of(StoredApiKey, row) for row in rows]

    def revoke_api_key(self, tenant_id: str, key_id: str, at: datetime) -> StoredApiKey | None:
        return self._end_api_key(tenant_id, key_id, api_keys.c.revoked_at, at)

    def expire_api_key(self, tenant_id: str, key_id: str, at: datetime) -> StoredApiKey | None:
        return self._end_api_key(tenant_id, key_id, api_keys.c.expires_at, at)

    def _end_api_key(
        self, tenant_id: str, key_id: str, column: Column[Any], value: datetime
    ) -> StoredApiKey | None:
        """Set the key's ``column`` (``revoked_at`` or ``expires_at``) where it is not set yet
        (the first end stands); the key as it is then, or None if the tenant has no such key."""
        mine = _the_key(tenant_id, key_id)
        with self._write() as connection:
            connection.execute(
                update(api_keys).where(*mine, column.is_(None)).values({column.name: value})
            )
            row = connection.execute(select(api_keys).where(*mine)).first()
        return None if row is None else record_of(StoredApiKey, row)

    def touch_api_key(self, tenant_id: str, key_id: str, now: datetime, stale: datetime) -> None:
        """Record that the key was used at ``now`` unless it was recorded after ``stale``."""
        used = api_keys.c.last_used_at
        statement = update(api_keys).where(
            *_the_key(tenant_id, key_id), or_(used.is_(None), used < stale)
        )
        with self._write() as connection:
            connection.execute(statement.values(last_used_at=now))


def _the_key(tenant_id: str, key_id: str) -> tuple[ColumnElement[bool], ...]:
    """Where the tenant's key ``key_id`` is (and only there)."""
    return (api_keys.c.tenant_id == tenant_id, api_keys.c.key_id == key_id)
