"""Transfers: the requests that move money, the journal rows they become, and the posting rules.

Owns: the two-phase vocabulary (pending / post / void / expire), the rules that decide whether
a transfer is accepted (currency, no-negative, overflow, pending resolved once), and what a
replay must match. Protects invariants 1 (every transfer debits and credits the same amount),
3 (no-negative accounts stay >= 0) and 5 (a pending transfer is resolved at most once).

The rules here are pure: they work on ``AccountState`` values that the ledger engine has
loaded under lock, and they return what to write. The database checks 3 and 5 again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from rewardledger.domain import ids
from rewardledger.domain.accounts import AccountState
from rewardledger.domain.errors import (
    AccountNotFound,
    BalanceOverflow,
    BatchFailed,
    CurrencyMismatch,
    ExceedsPendingAmount,
    InsufficientFunds,
    NotPending,
    Rejection,
    ValidationError,
)
from rewardledger.domain.limits import (
    BIGINT_MAX,
    EFFECTIVE_AT_FUTURE_SECONDS_MAX,
    METADATA_BYTES_MAX,
    METADATA_DEPTH_MAX,
    PENDING_TIMEOUT_SECONDS_MAX,
    TIME_YEAR_MAX,
    TIME_YEAR_MIN,
)
from rewardledger.domain.money import Amount, format_minor
from rewardledger.domain.text import check_storable


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


# ---------------------------------------------------------------------------------------------
# Requests (what a caller asks for). Validation here is stateless: shapes and bounds only.


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
            _check_timeout(self.timeout_seconds)
        _check_effective_at(self.effective_at, now)
        check_metadata(self.metadata)


@dataclass(frozen=True, slots=True)
class PostPending:
    """Post a pending transfer, in full or for ``amount`` (less); the rest is released."""

    pending_id: str
    id: str | None = None
    amount: str | None = None
    effective_at: datetime | None = None
    metadata: Mapping[str, Any] | None = None

    def validate(self, now: datetime) -> None:
        ids.transfer_id(self.pending_id, "pending_id")
        if self.id is not None:
            ids.transfer_id(self.id)
        _check_effective_at(self.effective_at, now)
        check_metadata(self.metadata)


@dataclass(frozen=True, slots=True)
class VoidPending:
    """Void a pending transfer: release the whole held amount."""

    pending_id: str
    id: str | None = None
    metadata: Mapping[str, Any] | None = None

    def validate(self, now: datetime) -> None:
        ids.transfer_id(self.pending_id, "pending_id")
        if self.id is not None:
            ids.transfer_id(self.id)
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


def _check_timeout(value: object) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= PENDING_TIMEOUT_SECONDS_MAX
    ):
        raise ValidationError(
            f"timeout_seconds must be a whole number from 1 to {PENDING_TIMEOUT_SECONDS_MAX}.",
            field="timeout_seconds",
        )


def check_instant(value: object, field: str) -> datetime:
    """An aware datetime within the years the ledger accepts (see ``TIME_YEAR_MIN``)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(
            f"{field} must be a time with a UTC offset, such as 2025-10-31T23:59:00-05:00.",
            field=field,
        )
    if not TIME_YEAR_MIN <= value.year <= TIME_YEAR_MAX:
        raise ValidationError(
            f"{field} must fall between the years {TIME_YEAR_MIN} and {TIME_YEAR_MAX}.",
            field=field,
        )
    return value


def _check_effective_at(value: datetime | None, now: datetime) -> None:
    if value is None:
        return
    check_instant(value, "effective_at")
    if value - now > timedelta(seconds=EFFECTIVE_AT_FUTURE_SECONDS_MAX):
        raise ValidationError(
            "effective_at is in the future; a transfer can be back-dated but not post-dated. "
            "Send it when it takes effect.",
            field="effective_at",
        )


def _metadata_children(node: object) -> list[object]:
    """Check one value of a metadata document; return the values nested in it."""
    if isinstance(node, Mapping):
        for key in node:
            if not isinstance(key, str):
                raise ValidationError("metadata keys must be text.", field="metadata")
            check_storable(key, "metadata")
        return list(node.values())
    if isinstance(node, list | tuple):
        return list(node)
    if isinstance(node, str):
        check_storable(node, "metadata")
    elif isinstance(node, float):
        raise ValidationError(
            "metadata must not contain fractional numbers; store amounts as decimal strings.",
            field="metadata",
        )
    elif not (node is None or isinstance(node, int)):
        raise ValidationError(
            "metadata must contain only JSON values (text, whole numbers, true/false, null, "
            "lists and objects).",
            field="metadata",
        )
    return []


def check_metadata(value: Mapping[str, Any] | None) -> None:
    """A JSON object: text keys, no fractional numbers, storable text, bounded depth and size.

    Walked without recursion, so that deep nesting is refused rather than crashing the check.
    """
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ValidationError("metadata must be a JSON object.", field="metadata")
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > METADATA_DEPTH_MAX:
            raise ValidationError(
                f"metadata is nested more than {METADATA_DEPTH_MAX} levels deep; flatten it.",
                field="metadata",
            )
        pending.extend((child, depth + 1) for child in _metadata_children(node))
    try:
        encoded = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:  # e.g. an integer too long to print
        raise ValidationError(
            "metadata could not be encoded as JSON; keep to text, whole numbers, true/false, "
            "null, lists and objects.",
            field="metadata",
        ) from error
    if len(encoded.encode()) > METADATA_BYTES_MAX:
        raise ValidationError(
            f"metadata is larger than {METADATA_BYTES_MAX} bytes once encoded; keep large "
            "documents elsewhere and store their reference.",
            field="metadata",
        )


# ---------------------------------------------------------------------------------------------
# Journal rows (what a write becomes).


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


# ---------------------------------------------------------------------------------------------
# Posting rules.


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """What the rules need to know of a pending transfer that an operation resolves."""

    id: str
    asset_code: str
    amount_minor: int
    debit_account_id: str
    credit_account_id: str
    kind: str
    reason: str | None
    expires_at: datetime | None
    is_open: bool
    resolved_by: str | None = None


@dataclass(slots=True)
class Accepted:
    """An operation the rules accepted: the journal row to write (minus time-derived fields)."""

    id: str
    phase: Phase
    kind: str
    reason: str | None
    asset_code: str
    amount_minor: int
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    expires_at: datetime | None
    effective_at: datetime
    metadata: Mapping[str, Any] | None
    debit_entry_seq: int = 0
    credit_entry_seq: int = 0
    debit_balance_after_minor: int = 0
    credit_balance_after_minor: int = 0


@dataclass(slots=True)
class Refused:
    """An operation the rules refused, with the rejection to record under its id."""

    id: str
    op: Operation
    error: Rejection
    amount_minor: int | None = None

    @property
    def fields(self) -> dict[str, Any]:
        """What a replay must repeat (recorded with the refusal)."""
        return request_fields(self.op, self.amount_minor)


Outcome = Accepted | Refused


@dataclass(frozen=True, slots=True)
class Resolved:
    """An operation after stateless checks: its id and its amount in minor units (if it names
    one)."""

    op: Operation
    id: str
    amount_minor: int | None


def evaluate(
    items: Sequence[Resolved],
    accounts: Mapping[str, AccountState],
    pendings: Mapping[str, PendingInfo],
    scales: Mapping[str, int],
    now: datetime,
    *,
    atomic: bool,
) -> list[Outcome]:
    """Apply the posting rules to ``items`` in order, updating ``accounts`` for what is accepted.

    ``accounts`` holds every existing account the items name (locked by the caller); a name
    missing from it is an unknown account. ``scales`` gives each asset's scale, for messages.
    Each item is checked before anything of it is applied, so a refused item changes nothing.
    With ``atomic``, one refusal refuses every item and ``accounts`` is left as it was.
    """
    working = {key: state.copy() for key, state in accounts.items()} if atomic else accounts
    # Holds opened by earlier items of this batch can be resolved by later ones.
    holds = dict(pendings)
    outcomes: list[Outcome] = []
    for item in items:
        try:
            accepted = _apply(item, working, holds, scales, now)
        except Rejection as error:
            outcomes.append(Refused(item.id, item.op, error, item.amount_minor))
            continue
        outcomes.append(accepted)
        if accepted.phase is Phase.PENDING:
            holds[accepted.id] = PendingInfo(
                accepted.id,
                accepted.asset_code,
                accepted.amount_minor,
                accepted.debit_account_id,
                accepted.credit_account_id,
                accepted.kind,
                accepted.reason,
                accepted.expires_at,
                is_open=True,
            )
        elif accepted.pending_id is not None:
            holds[accepted.pending_id] = replace(
                holds[accepted.pending_id], is_open=False, resolved_by=accepted.id
            )
    if not atomic:
        return outcomes
    failed = next((o for o in outcomes if isinstance(o, Refused)), None)
    if failed is None:
        for key, state in working.items():
            accounts[key].assign(state)
        return outcomes
    position = outcomes.index(failed)
    batch_failed = BatchFailed(
        f"Not applied: the batch is all-or-nothing and item {position} ({failed.id!r}) was "
        f"rejected with {failed.error.code}. Fix that item and send the batch with new ids.",
        failed_index=position,
        failed_id=failed.id,
        failed_code=failed.error.code,
    )
    return [
        o if isinstance(o, Refused) else Refused(o.id, item.op, batch_failed, item.amount_minor)
        for o, item in zip(outcomes, items, strict=True)
    ]


def _apply(
    item: Resolved,
    accounts: Mapping[str, AccountState],
    pendings: Mapping[str, PendingInfo],
    scales: Mapping[str, int],
    now: datetime,
) -> Accepted:
    op = item.op
    if isinstance(op, TransferRequest):
        return _apply_transfer(item, op, accounts, scales, now)
    pending = pendings.get(op.pending_id)
    if pending is None:
        raise NotPending(
            f"There is no pending transfer {op.pending_id!r}; check the id, "
            "or create the transfer with pending set to true.",
            pending_id=op.pending_id,
        )
    if not pending.is_open:
        by = f" by {pending.resolved_by!r}" if pending.resolved_by else ""
        raise NotPending(
            f"The pending transfer {op.pending_id!r} was already resolved{by}; "
            "a pending transfer is posted, voided or expired once.",
            pending_id=op.pending_id,
            resolved_by=pending.resolved_by,
        )
    timed_out = pending.expires_at is not None and pending.expires_at <= now
    if isinstance(op, ExpirePending) and not timed_out:
        raise NotPending(
            f"The pending transfer {op.pending_id!r} has no timeout that has passed; "
            "only a timed-out pending transfer expires.",
            pending_id=op.pending_id,
        )
    if not isinstance(op, ExpirePending) and timed_out:
        assert pending.expires_at is not None
        raise NotPending(
            f"The pending transfer {op.pending_id!r} timed out at "
            f"{pending.expires_at.isoformat()} and is being expired; it can no longer be "
            "posted or voided.",
            pending_id=op.pending_id,
            expires_at=pending.expires_at.isoformat(),
        )
    debit = _account(accounts, pending.debit_account_id)
    credit = _account(accounts, pending.credit_account_id)
    held = pending.amount_minor
    scale = scales[pending.asset_code]
    if isinstance(op, PostPending):
        amount = held if item.amount_minor is None else item.amount_minor
        if amount > held:
            raise ExceedsPendingAmount(
                f"Cannot post {format_minor(amount, scale)} {pending.asset_code} of a pending "
                f"transfer that holds {format_minor(held, scale)}; post at most the held amount.",
                pending_id=op.pending_id,
                amount=format_minor(amount, scale),
                pending_amount=format_minor(held, scale),
            )
        phase = Phase.POST
        effective_at = op.effective_at or now
        metadata = op.metadata
    else:
        amount = held
        phase = Phase.VOID if isinstance(op, VoidPending) else Phase.EXPIRE
        effective_at = now
        metadata = op.metadata if isinstance(op, VoidPending) else None
    debit.debits_pending -= held
    credit.credits_pending -= held
    if phase is Phase.POST:
        debit.debits_posted += amount
        credit.credits_posted += amount
    accepted = Accepted(
        item.id,
        phase,
        pending.kind,
        pending.reason,
        pending.asset_code,
        amount,
        debit.id,
        credit.id,
        pending.id,
        None,
        effective_at,
        metadata,
    )
    return _record_entries(accepted, debit, credit)


def _apply_transfer(
    item: Resolved,
    op: TransferRequest,
    accounts: Mapping[str, AccountState],
    scales: Mapping[str, int],
    now: datetime,
) -> Accepted:
    assert item.amount_minor is not None
    debit = _account(accounts, op.debit_account_id)
    credit = _account(accounts, op.credit_account_id)
    _same_asset(op.asset, debit, credit)
    amount = item.amount_minor
    debit_total, credit_total = (
        ("debits_pending", "credits_pending") if op.pending else ("debits_posted", "credits_posted")
    )
    _check_headroom(debit, debit_total, amount)
    _check_headroom(credit, credit_total, amount)
    if debit.no_negative and debit.available < amount:
        scale = scales[op.asset]
        raise InsufficientFunds(
            f"Account {debit.id!r} has {format_minor(debit.available, scale)} {op.asset} "
            f"available and cannot be debited {format_minor(amount, scale)}; "
            "it may not go below zero.",
            account_id=debit.id,
            available=format_minor(debit.available, scale),
            amount=format_minor(amount, scale),
        )
    if op.pending:
        debit.debits_pending += amount
        credit.credits_pending += amount
    else:
        debit.debits_posted += amount
        credit.credits_posted += amount
    expires_at = (
        now + timedelta(seconds=op.timeout_seconds) if op.timeout_seconds is not None else None
    )
    accepted = Accepted(
        item.id,
        Phase.PENDING if op.pending else Phase.SINGLE,
        op.kind,
        op.reason,
        op.asset,
        amount,
        debit.id,
        credit.id,
        None,
        expires_at,
        op.effective_at or now,
        op.metadata,
    )
    return _record_entries(accepted, debit, credit)


def _record_entries(accepted: Accepted, debit: AccountState, credit: AccountState) -> Accepted:
    debit.entry_count += 1
    credit.entry_count += 1
    accepted.debit_entry_seq = debit.entry_count
    accepted.credit_entry_seq = credit.entry_count
    accepted.debit_balance_after_minor = debit.posted
    accepted.credit_balance_after_minor = credit.posted
    return accepted


def _account(accounts: Mapping[str, AccountState], account_id: str) -> AccountState:
    state = accounts.get(account_id)
    if state is None:
        raise AccountNotFound(
            f"No account {account_id!r} exists; create it before moving money to or from it.",
            account_id=account_id,
        )
    return state


def _same_asset(asset: str, debit: AccountState, credit: AccountState) -> None:
    for state in (debit, credit):
        if state.asset_code != asset:
            raise CurrencyMismatch(
                f"Account {state.id!r} holds {state.asset_code}, not {asset}; "
                "a transfer moves one asset between two accounts of that asset.",
                account_id=state.id,
                account_asset=state.asset_code,
                asset=asset,
            )


def _check_headroom(state: AccountState, total: str, amount: int) -> None:
    if getattr(state, total) + amount > BIGINT_MAX:
        raise BalanceOverflow(
            f"Account {state.id!r} cannot record this amount: its {total} would exceed the "
            "largest total an account can hold. Move the balance to a new account.",
            account_id=state.id,
        )
