"""Retention of the keyed set-up writes' answers (``keyed_writes``): old ones are deleted in
batches by the worker's daily ``keyed_writes`` step.

Owns: which kept answers may go. A set-up write sent with an ``Idempotency-Key`` (an asset,
an account, a budget, a webhook endpoint, the points programme's settings) keeps its first
answer so that a retry under the same key is answered with it (``http.keyed_writes``). A retry
comes within minutes or hours, so an answer is kept ``REWARDLEDGER_KEYED_WRITE_RETENTION_DAYS``
(30 by default, as the outbox keeps its events) and then deleted. A key used again after its
answer was deleted is a new request: these writes are keyed by what they create, so it answers
the same thing, or ``already_exists`` when the values differ, never a second thing. Transfers,
earns and the other journal writes are not concerned: their key is the id of what they wrote,
kept as long as the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from rewardledger.domain.errors import ValidationError
from rewardledger.domain.limits import KEYED_WRITE_PRUNE_BATCH_SIZE
from rewardledger.ledger.engine import Ledger


def prune_keyed_writes(
    ledger: Ledger,
    tenant_id: str,
    *,
    older_than: datetime,
    batch_size: int = KEYED_WRITE_PRUNE_BATCH_SIZE,
) -> int:
    """Delete ``tenant_id``'s kept answers written before ``older_than``, ``batch_size`` per
    transaction (oldest first); return how many were deleted."""
    if not 1 <= batch_size <= KEYED_WRITE_PRUNE_BATCH_SIZE:
        raise ValidationError(
            f"The prune batch size must be from 1 to {KEYED_WRITE_PRUNE_BATCH_SIZE}.",
            field="batch_size",
        )
    ledger.get_tenant(tenant_id)
    deleted = 0
    while True:
        count = ledger.store.prune_keyed_writes(tenant_id, older_than, batch_size)
        deleted += count
        if count < batch_size:
            return deleted


def run_step(ledger: Ledger, tenant_id: str, *, retention_days: int) -> Mapping[str, int]:
    """The worker's ``keyed_writes`` step: prune what is older than ``retention_days``."""
    older_than = ledger.clock() - timedelta(days=retention_days)
    return {"keyed_writes_pruned": prune_keyed_writes(ledger, tenant_id, older_than=older_than)}
