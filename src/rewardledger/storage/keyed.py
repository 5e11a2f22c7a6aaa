"""Keyed set-up writes: the first answer of each, kept under its idempotency key.

Owns: reading a kept answer, keeping one once, and deleting old ones (``keyed_writes``,
migration 0018). Inserting a key that is there already changes nothing and says so, so that of
two requests racing under one key the first to commit is the one every retry is answered with.
Pruning deletes a batch of the oldest rows kept before a time, in one set-based DELETE per
batch. Protects invariant 8: every statement is filtered by ``tenant_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_

from rewardledger.domain.keyed_writes import KeptWrite
from rewardledger.storage.rows import columns_of
from rewardledger.storage.schema_keyed import keyed_writes
from rewardledger.storage.store_base import StoreConnections


class KeyedWriteQueries(StoreConnections):
    def keyed_write(
        self, tenant_id: str, operation: str, idempotency_key: str
    ) -> tuple[str, dict[str, Any]] | None:
        """(the request's digest, its answer) kept under the key, or None."""
        k = keyed_writes.c
        with self._read() as connection:
            row = connection.execute(
                select(k.request_digest, k.response).where(
                    k.tenant_id == tenant_id,
                    k.operation == operation,
                    k.idempotency_key == idempotency_key,
                )
            ).first()
        return None if row is None else (row.request_digest, dict(row.response))

    def keep_keyed_write(self, kept: KeptWrite) -> bool:
        """Keep the answer; False (nothing written) when the key holds one already (in the
        answer's tenant's scope, which the table's row-level security asks for)."""
        return self._insert_once(insert(keyed_writes).values(columns_of(kept)), kept.tenant_id)

    def prune_keyed_writes(self, tenant_id: str, older_than: datetime, limit: int) -> int:
        """Delete at most ``limit`` of the tenant's answers kept before ``older_than``, oldest
        first, in one transaction; return how many were deleted."""
        k = keyed_writes.c
        chosen = (
            select(k.operation, k.idempotency_key)
            .where(k.tenant_id == tenant_id, k.created_at < older_than)
            .order_by(k.created_at)
            .limit(limit)
        )
        statement = delete(keyed_writes).where(
            k.tenant_id == tenant_id, tuple_(k.operation, k.idempotency_key).in_(chosen)
        )
        with self._write() as connection:
            return int(connection.execute(statement).rowcount)
