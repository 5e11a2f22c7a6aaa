"""Posting rules: the pure check-and-apply of operations against locked account states.

Owns: whether an operation is accepted (known accounts, one asset, no-negative, overflow
headroom, a pending transfer resolved once and only before its timeout, a post of at most the
held amount, no raw transfer onto an account a service manages) and what it changes.
Protects invariants 1, 3 (no-negative accounts stay >= 0) and 5 (a pending transfer is
resolved at most once); the database checks 3 and 5 again.

The rules work on ``AccountState`` values that the ledger engine has loaded under lock, and
return what to write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from rewardledger.domain.accounts import MANAGED_BY_CALLS, AccountState
from rewardledger.domain.errors import (
    AccountNotFound,
    BalanceOverflow,
    BatchFailed,
    CurrencyMismatch,
    ExceedsPendingAmount,
    InsufficientFunds,
    ManagedAccount,
    NotPending,
    Rejection,
)
from rewardledger.domain.journal import PendingRow, request_fields
from rewardledger.domain.limits import BIGINT_MAX
from rewardledger.domain.money import format_minor
from rewardledger.domain.operations import (
    ExpirePending,
    Operation,
    Phase,
    PostPending,
    TransferRequest,
    VoidPending,
)


@dataclass(frozen=True, slots=True)
class PendingInfo(PendingRow):
    """What the rules need to know of a pending transfer that an operation resolves: its
    immutable facts, and whether it is still open (and if not, which row resolved it)."""

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
    refuse_managed: bool = False,
) -> list[Outcome]:
    """Apply the posting rules to ``items`` in order, updating ``accounts`` for what is accepted.

    ``accounts`` holds every existing account the items name (locked by the caller); a name
    missing from it is an unknown account. ``scales`` gives each asset's scale, for messages.
    Each item is checked before anything of it is applied, so a refused item changes nothing.
    With ``atomic``, one refusal refuses every item and ``accounts`` is left as it was.
    With ``refuse_managed`` (a raw core write, not a service's unit of work), an item that
    names an account a service manages is refused as ``managed_account``; the expiry of a
    timed-out hold is not (it only releases what the service held).
    """
    working = {key: state.copy() for key, state in accounts.items()} if atomic else accounts
    # Holds opened by earlier items of this batch can be resolved by later ones.
    holds = dict(pendings)
    outcomes: list[Outcome] = []
    for item in items:
        try:
            accepted = _apply(item, working, holds, scales, now, refuse_managed)
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
    refuse_managed: bool,
) -> Accepted:
    op = item.op
    if isinstance(op, TransferRequest):
        return _apply_transfer(item, op, accounts, scales, now, refuse_managed)
    pending = _resolvable_pending(op, pendings, now)
    debit = _account(accounts, pending.debit_account_id)
    credit = _account(accounts, pending.credit_account_id)
    if refuse_managed and not isinstance(op, ExpirePending):
        _unmanaged(debit, credit)
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


def _resolvable_pending(
    op: PostPending | VoidPending | ExpirePending,
    pendings: Mapping[str, PendingInfo],
    now: datetime,
) -> PendingInfo:
    """The open pending transfer ``op`` resolves, if ``op`` may resolve it now.

    A pending transfer is resolved once (invariant 5); once its timeout has passed only the
    expiry job may resolve it, and before then the expiry job may not.
    """
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
    return pending


def _apply_transfer(
    item: Resolved,
    op: TransferRequest,
    accounts: Mapping[str, AccountState],
    scales: Mapping[str, int],
    now: datetime,
    refuse_managed: bool,
) -> Accepted:
    assert item.amount_minor is not None
    debit = _account(accounts, op.debit_account_id)
    credit = _account(accounts, op.credit_account_id)
    if refuse_managed:
        _unmanaged(debit, credit)
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


def _unmanaged(debit: AccountState, credit: AccountState) -> None:
    for state in (debit, credit):
        service = state.managed_by
        if service is not None:
            calls = MANAGED_BY_CALLS.get(service, f"the {service} calls")
            raise ManagedAccount(
                f"Account {state.id!r} is managed by {service}, whose own records must stay "
                f"in step with it: use {calls}, not a raw transfer.",
                account_id=state.id,
                managed_by=service,
            )


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
