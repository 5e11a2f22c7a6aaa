"""Posting: turn a list of operations into journal rows, atomically and idempotently.

Owns: the write algorithm every transfer, batch, post, void and expiry goes through.
Protects invariants 2, 3, 5 and 7:
- the accounts a write touches are locked (in a fixed order) before their totals are read,
  and the new totals are written in the same transaction as the journal rows (2, 3);
- a pending transfer's resolution is checked against its open hold under that lock (5);
- every operation is written under its id, whatever its outcome; a write that hits an id
  that already exists is rolled back and answered from the stored row instead (7).

A write is attempted optimistically, without looking ids up first: replays are rare, and the
unique key on (tenant_id, transfer_id) catches them. Contention (deadlocks, serialization
failures, a busy SQLite file) is retried a bounded number of times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from rewardledger.domain import errors
from rewardledger.domain.errors import (
    DuplicateIdError,
    IdempotencyConflict,
    LedgerError,
    NotFound,
    Rejection,
    RetryableError,
    ValidationError,
)
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.limits import ASSET_SCALE_MAX, BATCH_SIZE_MAX, WRITE_RETRIES_MAX
from rewardledger.domain.money import Amount, parse_positive
from rewardledger.domain.tenants import Asset, Tenant
from rewardledger.domain.transfers import (
    Accepted,
    Operation,
    PendingInfo,
    PendingRow,
    Phase,
    PostPending,
    Refused,
    RefusedRow,
    Resolved,
    StoredRefusal,
    Transfer,
    TransferRequest,
    TransferState,
    VoidPending,
    differing_fields,
    evaluate,
    operation_id,
    request_fields,
)
from rewardledger.ledger.assets import scales_of
from rewardledger.ledger.clock import Clock
from rewardledger.ledger.ports import Store
from rewardledger.ledger.results import TransferResult
from rewardledger.ledger.storage_unit import JournalWrite, WriteSession

EVENT_TYPES = {
    Phase.SINGLE: "transfer.posted",
    Phase.PENDING: "transfer.pending",
    Phase.POST: "transfer.pending_posted",
    Phase.VOID: "transfer.pending_voided",
    Phase.EXPIRE: "transfer.pending_expired",
}
_RETRY_PAUSE_SECONDS = 0.005


def pause_before_retry(attempt: int) -> None:
    """Back off after the ``attempt``-th collision: longer each time, jittered so that
    colliding writers do not retry in step."""
    time.sleep(_RETRY_PAUSE_SECONDS * attempt * (1 + random.random()))  # noqa: S311


class Poster:
    """Runs writes for one ``Ledger``; holds no state across calls but the store and clock."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def submit(
        self,
        tenant: Tenant,
        assets: Mapping[str, Asset],
        ops: Sequence[Operation],
        *,
        atomic: bool,
        dry_run: bool,
    ) -> list[TransferResult]:
        if not ops:
            raise ValidationError("A batch needs at least one transfer.", field="transfers")
        if len(ops) > BATCH_SIZE_MAX:
            raise ValidationError(
                f"A batch holds at most {BATCH_SIZE_MAX} transfers, this one has {len(ops)}; "
                "split it into several batches.",
                field="transfers",
            )
        prepared = _prepare(ops, assets, self._clock(), single=len(ops) == 1)
        known: dict[str, Transfer | StoredRefusal] = {}
        for attempt in range(1, WRITE_RETRIES_MAX + 1):
            try:
                return self._attempt(tenant, assets, prepared, known, atomic, dry_run)
            except DuplicateIdError:
                # Some ids exist already: answer them from the stored rows, write the rest.
                known = self._store.get_records(tenant.id, [p.id for p in prepared])
            except RetryableError:
                pause_before_retry(attempt)
        raise errors.Busy(WRITE_RETRIES_MAX)

    def submit_within(
        self,
        session: WriteSession,
        tenant: Tenant,
        assets: Mapping[str, Asset],
        ops: Sequence[Operation],
        *,
        atomic: bool,
        known: Mapping[str, Transfer | StoredRefusal],
    ) -> list[TransferResult]:
        """Like ``submit``, inside a transaction someone else commits (a unit of work).

        Not retried here: a ``DuplicateIdError`` or ``RetryableError`` aborts the whole unit,
        whose runner starts it again with the stored records of its ids in ``known``.
        """
        if not ops:
            raise ValidationError("A batch needs at least one transfer.", field="transfers")
        prepared = _prepare(ops, assets, self._clock(), single=len(ops) == 1)

        def write(fresh: Sequence[Resolved]) -> dict[str, TransferResult]:
            return self._apply(session, tenant, assets, fresh, atomic, dry_run=False, core=False)

        return _answer(prepared, known, atomic, assets, write)

    def _attempt(
        self,
        tenant: Tenant,
        assets: Mapping[str, Asset],
        prepared: Sequence[Resolved],
        known: Mapping[str, Transfer | StoredRefusal],
        atomic: bool,
        dry_run: bool,
    ) -> list[TransferResult]:
        def write(fresh: Sequence[Resolved]) -> dict[str, TransferResult]:
            return self._write(tenant, assets, fresh, atomic, dry_run)

        return _answer(prepared, known, atomic, assets, write)

    def _write(
        self,
        tenant: Tenant,
        assets: Mapping[str, Asset],
        fresh: Sequence[Resolved],
        atomic: bool,
        dry_run: bool,
    ) -> dict[str, TransferResult]:
        """Lock, apply the rules and (unless ``dry_run``) write ``fresh``, in one transaction."""
        with self._store.write_session(tenant.id) as session:
            results = self._apply(session, tenant, assets, fresh, atomic, dry_run, core=True)
            if not dry_run:
                session.commit()
        return results

    def _apply(
        self,
        session: WriteSession,
        tenant: Tenant,
        assets: Mapping[str, Asset],
        fresh: Sequence[Resolved],
        atomic: bool,
        dry_run: bool,
        *,
        core: bool,
    ) -> dict[str, TransferResult]:
        """Lock, apply the rules and (unless ``dry_run``) write ``fresh`` in ``session``.

        ``core``: a raw write of ``Ledger.submit`` (refused on an account a service manages),
        not one of a service's unit of work."""
        now = self._clock()
        pending_ids = sorted(
            {i.op.pending_id for i in fresh if not isinstance(i.op, TransferRequest)}
        )
        rows = session.pending_rows(pending_ids) if pending_ids else {}
        in_batch = {
            i.id: i.op.asset for i in fresh if isinstance(i.op, TransferRequest) and i.op.pending
        }
        items = [_resolve(i, rows, in_batch, assets) for i in fresh]
        account_ids: set[str] = set()
        for item in fresh:
            if isinstance(item.op, TransferRequest):
                account_ids.add(item.op.debit_account_id)
                account_ids.add(item.op.credit_account_id)
        for row in rows.values():
            account_ids.add(row.debit_account_id)
            account_ids.add(row.credit_account_id)
        states = session.lock_accounts(sorted(account_ids))
        pendings = _pending_infos(session, rows)
        outcomes = evaluate(
            items, states, pendings, scales_of(assets), now, atomic=atomic, refuse_managed=core
        )
        if not dry_run:
            accepted = [o for o in outcomes if isinstance(o, Accepted)]
            touched = {a.debit_account_id for a in accepted} | {
                a.credit_account_id for a in accepted
            }
            refused = [
                _refused_row(o, rows, now)
                for o in outcomes
                if isinstance(o, Refused) and o.error.recorded
            ]
            journal = JournalWrite(
                accepted,
                refused,
                [states[account_id] for account_id in sorted(touched)],
                [OutboxEvent(EVENT_TYPES[a.phase], a.id) for a in accepted],
                now,
                tenant.cycle_tag,
            )
            session.write(journal)
        written = _Written(tenant, assets, now)
        return {outcome.id: _fresh_result(outcome, written, dry_run) for outcome in outcomes}


def _answer(
    prepared: Sequence[Resolved],
    known: Mapping[str, Transfer | StoredRefusal],
    atomic: bool,
    assets: Mapping[str, Asset],
    write: Callable[[Sequence[Resolved]], dict[str, TransferResult]],
) -> list[TransferResult]:
    """Answer the ids in ``known`` from their stored records and ``write`` the others."""
    results: dict[str, TransferResult] = {}
    fresh: list[Resolved] = []
    for item in prepared:
        record = known.get(item.id)
        if record is None:
            fresh.append(item)
        else:
            results[item.id] = _replay(item, record, assets)
    if atomic and results and fresh:
        raise ValidationError(
            "Some ids in this all-or-nothing batch were already used and others were not: "
            f"{', '.join(sorted(results))} exist. Resend the original batch unchanged, or "
            "use new ids for every transfer.",
            field="transfers",
        )
    if atomic:
        conflict = next((r.error for r in results.values() if r.error is not None), None)
        if isinstance(conflict, IdempotencyConflict):
            raise conflict
    if fresh:
        results.update(write(fresh))
    return [results[item.id] for item in prepared]


def _prepare(
    ops: Sequence[Operation], assets: Mapping[str, Asset], now: datetime, *, single: bool
) -> list[Resolved]:
    prepared: list[Resolved] = []
    seen: set[str] = set()
    # A batch's amounts mostly repeat: each (text, scale) is parsed once. Only parses that
    # succeed are remembered, so a bad amount is refused at each row that carries it.
    amounts: dict[tuple[str, int], int] = {}
    for index, op in enumerate(ops):
        try:
            op.validate(now)
            amount_minor = None
            if isinstance(op, TransferRequest):
                asset = assets.get(op.asset)
                if asset is None:
                    raise NotFound(
                        "asset", op.asset, "Create the asset first (POST /assets or create_asset)."
                    )
                key = (op.amount, asset.scale)
                amount_minor = amounts.get(key) if type(op.amount) is str else None
                if amount_minor is None:
                    amount_minor = parse_positive(op.amount, asset.scale)
                    if type(op.amount) is str:
                        amounts[key] = amount_minor
            elif isinstance(op, PostPending) and op.amount is not None:
                # The shape only: the asset, hence the scale, is known inside the transaction.
                Amount.parse(op.amount, ASSET_SCALE_MAX)
        except (ValidationError, NotFound) as error:
            if not single:
                error.context.setdefault("index", index)
                error.message = f"transfers[{index}]: {error.message}"
                error.args = (error.message,)
            raise
        identifier = operation_id(op)
        if identifier in seen:
            raise ValidationError(
                f"The id {identifier!r} appears twice in this batch; "
                "every transfer needs its own id.",
                field=f"transfers[{index}].id",
            )
        seen.add(identifier)
        prepared.append(Resolved(op, identifier, amount_minor))
    return prepared


def _resolve(
    item: Resolved,
    rows: Mapping[str, PendingRow],
    in_batch: Mapping[str, str],
    assets: Mapping[str, Asset],
) -> Resolved:
    """Parse a post's amount once its pending transfer's asset is known (stored or in batch)."""
    op = item.op
    if not isinstance(op, PostPending) or op.amount is None:
        return item
    row = rows.get(op.pending_id)
    asset = row.asset_code if row is not None else in_batch.get(op.pending_id)
    if asset is None:
        return item
    return Resolved(op, item.id, parse_positive(op.amount, assets[asset].scale))


def _pending_infos(session: WriteSession, rows: Mapping[str, PendingRow]) -> dict[str, PendingInfo]:
    if not rows:
        return {}
    ids = sorted(rows)
    open_ids = session.open_holds(ids)
    closed = [pending_id for pending_id in ids if pending_id not in open_ids]
    resolved_by = session.resolutions(closed) if closed else {}
    return {
        pending_id: PendingInfo(
            id=row.id,
            asset_code=row.asset_code,
            amount_minor=row.amount_minor,
            debit_account_id=row.debit_account_id,
            credit_account_id=row.credit_account_id,
            kind=row.kind,
            reason=row.reason,
            expires_at=row.expires_at,
            is_open=pending_id in open_ids,
            resolved_by=resolved_by.get(pending_id),
        )
        for pending_id, row in rows.items()
    }


def _refused_row(refused: Refused, rows: Mapping[str, PendingRow], now: datetime) -> RefusedRow:
    op = refused.op
    rejection = {
        "message": refused.error.message,
        "context": refused.error.context,
        "request": refused.fields,
    }
    if isinstance(op, TransferRequest):
        return RefusedRow(
            id=refused.id,
            phase=(Phase.PENDING if op.pending else Phase.SINGLE).value,
            kind=op.kind,
            reason=op.reason,
            asset_code=op.asset,
            amount_minor=refused.amount_minor,
            debit_account_id=op.debit_account_id,
            credit_account_id=op.credit_account_id,
            pending_id=None,
            effective_at=op.effective_at or now,
            error_code=refused.error.code,
            rejection=rejection,
        )
    row = rows.get(op.pending_id)
    phase = (
        Phase.POST
        if isinstance(op, PostPending)
        else Phase.VOID
        if isinstance(op, VoidPending)
        else Phase.EXPIRE
    )
    return RefusedRow(
        id=refused.id,
        phase=phase.value,
        kind=row.kind if row else "transfer",
        reason=row.reason if row else None,
        asset_code=row.asset_code if row else None,
        amount_minor=None,
        debit_account_id=row.debit_account_id if row else None,
        credit_account_id=row.credit_account_id if row else None,
        pending_id=op.pending_id,
        effective_at=now,
        error_code=refused.error.code,
        rejection=rejection,
    )


@dataclass(frozen=True, slots=True)
class _Written:
    """What every transfer of one write shares, to build its ``Transfer`` when asked."""

    tenant: Tenant
    assets: Mapping[str, Asset]
    now: datetime

    def transfer(self, accepted: Accepted) -> Transfer:
        return Transfer(
            tenant_id=self.tenant.id,
            id=accepted.id,
            phase=accepted.phase,
            kind=accepted.kind,
            reason=accepted.reason,
            asset_code=accepted.asset_code,
            scale=self.assets[accepted.asset_code].scale,
            amount_minor=accepted.amount_minor,
            debit_account_id=accepted.debit_account_id,
            credit_account_id=accepted.credit_account_id,
            pending_id=accepted.pending_id,
            expires_at=accepted.expires_at,
            effective_at=accepted.effective_at,
            created_at=self.now,
            cycle_tag=self.tenant.cycle_tag(accepted.effective_at),
            metadata=accepted.metadata or {},
            debit_entry_seq=accepted.debit_entry_seq,
            credit_entry_seq=accepted.credit_entry_seq,
            debit_balance_after_minor=accepted.debit_balance_after_minor,
            credit_balance_after_minor=accepted.credit_balance_after_minor,
            state=TransferState.PENDING
            if accepted.phase is Phase.PENDING
            else TransferState.POSTED,
        )


def _fresh_result(outcome: Accepted | Refused, written: _Written, dry_run: bool) -> TransferResult:
    if isinstance(outcome, Refused):
        return TransferResult(outcome.id, None, outcome.error, dry_run=dry_run)
    return TransferResult(
        outcome.id, None, None, dry_run=dry_run, build=partial(written.transfer, outcome)
    )


def _replay(
    item: Resolved, record: Transfer | StoredRefusal, assets: Mapping[str, Asset]
) -> TransferResult:
    """The stored first result for ``item``'s id, or a conflict if the request differs."""
    new_fields = request_fields(item.op, item.amount_minor)
    if isinstance(record, StoredRefusal):
        stored_fields = dict(record.rejection.get("request", {}))
    else:
        stored_fields = record.request_fields()
        if isinstance(item.op, PostPending) and item.op.amount is not None:
            asset = assets.get(record.asset_code)
            if asset is not None:
                new_fields["amount"] = parse_positive(item.op.amount, asset.scale)
    differing = differing_fields(stored_fields, new_fields)
    if differing:
        return TransferResult(item.id, None, IdempotencyConflict(item.id, differing), replayed=True)
    if isinstance(record, StoredRefusal):
        error: LedgerError = errors.rejection_from_record(
            record.error_code,
            str(record.rejection.get("message", "")),
            dict(record.rejection.get("context", {})),
        )
        return TransferResult(item.id, None, error, replayed=True)
    return TransferResult(item.id, record, None, replayed=True)


def raise_for_single(result: TransferResult) -> Transfer:
    """For the one-operation calls: the transfer, or its error raised."""
    if result.error is not None:
        if isinstance(result.error, Rejection):
            result.error.context.setdefault("replayed", result.replayed)
        raise result.error
    assert result.transfer is not None
    return result.transfer
