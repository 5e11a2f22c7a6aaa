"""Journal records: the rows an accepted or refused operation becomes, and replay matching.

Owns: the immutable ``Transfer`` row, the entries it leaves on its two accounts, the record of
a refusal, and the fields a replay under the same id must repeat. Protects invariant 1 (every
transfer debits and credits the same amount: one row, one amount, two entries) and the
append-only journal: a correction is another row, never an edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rewardledger.domain.money import Amount
from rewardledger.domain.operations import (
    RESOLVING_PHASES,
    Operation,
    Phase,
    PostPending,
    TransferRequest,
    TransferState,
    VoidPending,
)


@dataclass(frozen=True, slots=True)
class Transfer:
    """One accepted journal row. Immutable: a correction is another transfer."""

    tenant_id: str
    id: str
    phase: Phase
    kind: str
    reason: str | None
    asset_code: str
    scale: int
    amount_minor: int
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    expires_at: datetime | None
    effective_at: datetime
    created_at: datetime
    cycle_tag: str
    metadata: Mapping[str, Any]
    debit_entry_seq: int
    credit_entry_seq: int
    debit_balance_after_minor: int
    credit_balance_after_minor: int
    # For a pending row: its state now and the row that resolved it (filled in on read).
    state: TransferState = TransferState.POSTED
    resolved_by: str | None = None

    @property
    def amount(self) -> Amount:
        return Amount(self.amount_minor, self.scale)

    def request_fields(self) -> dict[str, Any]:
        """The values a replay of this row's request must match (see ``request_fields``)."""
        if self.phase in RESOLVING_PHASES:
            fields: dict[str, Any] = {"pending_id": self.pending_id, "phase": self.phase.value}
            if self.phase is Phase.POST:
                fields["amount"] = self.amount_minor
                fields["effective_at"] = self.effective_at.isoformat()
            if self.phase is not Phase.EXPIRE:
                fields["metadata"] = dict(self.metadata)
            return fields
        timeout = None
        if self.expires_at is not None:
            timeout = int((self.expires_at - self.created_at).total_seconds())
        return {
            "debit_account_id": self.debit_account_id,
            "credit_account_id": self.credit_account_id,
            "asset": self.asset_code,
            "amount": self.amount_minor,
            "kind": self.kind,
            "reason": self.reason,
            "pending": self.phase is Phase.PENDING,
            "timeout_seconds": timeout,
            "effective_at": self.effective_at.isoformat(),
            "metadata": dict(self.metadata),
        }


def request_fields(op: Operation, amount_minor: int | None) -> dict[str, Any]:
    """The values of a request that a replay under the same id must repeat.

    Fields the caller left to a default that depends on the time (``effective_at``; the amount
    of a full post) are left out, so that a replay sent later still matches.
    """
    if isinstance(op, TransferRequest):
        fields: dict[str, Any] = {
            "debit_account_id": op.debit_account_id,
            "credit_account_id": op.credit_account_id,
            "asset": op.asset,
            "amount": amount_minor if amount_minor is not None else op.amount,
            "kind": op.kind,
            "reason": op.reason,
            "pending": op.pending,
            "timeout_seconds": op.timeout_seconds,
            "metadata": dict(op.metadata or {}),
        }
        if op.effective_at is not None:
            fields["effective_at"] = op.effective_at.isoformat()
        return fields
    if isinstance(op, PostPending):
        fields = {
            "pending_id": op.pending_id,
            "phase": Phase.POST.value,
            "metadata": dict(op.metadata or {}),
        }
        if op.amount is not None:
            fields["amount"] = amount_minor if amount_minor is not None else op.amount
        if op.effective_at is not None:
            fields["effective_at"] = op.effective_at.isoformat()
        return fields
    if isinstance(op, VoidPending):
        return {
            "pending_id": op.pending_id,
            "phase": Phase.VOID.value,
            "metadata": dict(op.metadata or {}),
        }
    return {"pending_id": op.pending_id, "phase": Phase.EXPIRE.value}


def differing_fields(stored: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of the fields in ``new`` whose values differ from ``stored`` (sorted)."""
    return sorted(
        name
        for name, value in new.items()
        if name not in stored or _normalise_time(stored[name]) != _normalise_time(value)
    )


def _normalise_time(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True, slots=True)
class PendingRow:
    """The immutable facts of a pending transfer, readable before any lock is taken."""

    id: str
    asset_code: str
    amount_minor: int
    debit_account_id: str
    credit_account_id: str
    kind: str
    reason: str | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefusedRow:
    """A refused request, recorded under its id so that its replay is refused again."""

    id: str
    phase: str
    kind: str
    reason: str | None
    asset_code: str | None
    amount_minor: int | None
    debit_account_id: str | None
    credit_account_id: str | None
    pending_id: str | None
    effective_at: datetime
    error_code: str
    rejection: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredRefusal:
    """What a refused row gives back to a replay."""

    id: str
    error_code: str
    rejection: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal row as seen from one of its two accounts."""

    seq: int
    transfer: Transfer
    side: str  # "debit" or "credit"
    balance_after_minor: int
