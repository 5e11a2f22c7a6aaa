"""Operations: what a caller asks the ledger to do, in the two-phase vocabulary.

Owns: the phases (single / pending / post / void / expire), the states a journal row can be
in, the four request types and the id each is written under. Validation here is stateless
(shapes and bounds only); the posting rules in ``posting_rules`` decide acceptance. Protects
invariant 5 (a pending transfer is resolved at most once) by giving each resolution of a
pending transfer one derived id per phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from rewardledger.domain import ids
from rewardledger.domain.errors import ValidationError
from rewardledger.domain.validation import (
    check_effective_at,
    check_metadata,
    check_timeout,
)


class Phase(StrEnum):
    """What a journal row does. ``single`` posts at once; the rest are the two phases."""

    SINGLE = "single"
    PENDING = "pending"
    POST = "post"
    VOID = "void"
    EXPIRE = "expire"


RESOLVING_PHASES = frozenset({Phase.POST, Phase.VOID, Phase.EXPIRE})

DEFAULT_KIND = "transfer"


class TransferState(StrEnum):
    """Where a journal row stands now. Only a pending row changes state, by a later row."""

    POSTED = "posted"
    PENDING = "pending"
    VOIDED = "voided"
    EXPIRED = "expired"


RESOLVED_STATE = {
    Phase.POST: TransferState.POSTED,
    Phase.VOID: TransferState.VOIDED,
    Phase.EXPIRE: TransferState.EXPIRED,
}


def derived_id(pending_id: str, phase: Phase) -> str:
    """The id a resolution gets when the caller names none: one per pending transfer and phase."""
    return f"{pending_id}.{phase.value}"


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """Move ``amount`` of ``asset`` from the debit account to the credit account.

    With ``pending=True`` the amount is only held (a pending transfer) until it is posted,
    voided, or expires after ``timeout_seconds``.
    """

    id: str
    debit_account_id: str
    credit_account_id: str
    asset: str
    amount: str
    kind: str = DEFAULT_KIND
    reason: str | None = None
    pending: bool = False
    timeout_seconds: int | None = None
    effective_at: datetime | None = None
    metadata: Mapping[str, Any] | None = None

    def validate(self, now: datetime) -> None:
        ids.transfer_id(self.id)
        ids.account_id(self.debit_account_id, "debit_account_id")
        ids.account_id(self.credit_account_id, "credit_account_id")
        ids.asset_code(self.asset)
        ids.kind(self.kind)
        if self.reason is not None:
            ids.reason(self.reason)
        if self.debit_account_id == self.credit_account_id:
            raise ValidationError(
                "debit_account_id and credit_account_id are the same account; a transfer must "
                "move money between two different accounts.",
                field="credit_account_id",
            )
        if not isinstance(self.pending, bool):
            raise ValidationError("pending must be true or false.", field="pending")
        if self.timeout_seconds is not None:
            if not self.pending:
                raise ValidationError(
                    "timeout_seconds applies only to pending transfers; set pending to true "
                    "or leave timeout_seconds out.",
                    field="timeout_seconds",
                )
            check_timeout(self.timeout_seconds)
        check_effective_at(self.effective_at, now)
        check_metadata(self.metadata)


@dataclass(frozen=True, slots=True)
class _Resolving:
    """What a caller's post or void names: the pending transfer it resolves, and the id of the
    row it writes (None: derived from ``pending_id``, see ``operation_id``)."""

    pending_id: str
    id: str | None = None

    def _check_ids(self) -> None:
        ids.transfer_id(self.pending_id, "pending_id")
        if self.id is not None:
            ids.transfer_id(self.id)


@dataclass(frozen=True, slots=True)
class PostPending(_Resolving):
    """Post a pending transfer, in full or for ``amount`` (less); the rest is released."""

    amount: str | None = None
    effective_at: datetime | None = None
    metadata: Mapping[str, Any] | None = None

    def validate(self, now: datetime) -> None:
        self._check_ids()
        check_effective_at(self.effective_at, now)
        check_metadata(self.metadata)


@dataclass(frozen=True, slots=True)
class VoidPending(_Resolving):
    """Void a pending transfer: release the whole held amount."""

    metadata: Mapping[str, Any] | None = None

    def validate(self, now: datetime) -> None:
        self._check_ids()
        check_metadata(self.metadata)


@dataclass(frozen=True, slots=True)
class ExpirePending:
    """Release a pending transfer whose timeout has passed (issued by the expiry job only)."""

    pending_id: str

    def validate(self, now: datetime) -> None:
        ids.transfer_id(self.pending_id, "pending_id")


Operation = TransferRequest | PostPending | VoidPending | ExpirePending


def operation_id(op: Operation) -> str:
    """The journal id (and idempotency key) an operation is written under."""
    if isinstance(op, TransferRequest):
        return op.id
    if isinstance(op, PostPending):
        return op.id or derived_id(op.pending_id, Phase.POST)
    if isinstance(op, VoidPending):
        return op.id or derived_id(op.pending_id, Phase.VOID)
    return derived_id(op.pending_id, Phase.EXPIRE)
