"""Bulk postings: a unit of work's batch of plain transfers of one asset, given as columns.

Owns: the set-based path for the large batches a service plans itself (an import's rows):
each distinct value is checked once, the accounts are locked and read once, the posting rules
run in one tight loop over the columns, and the rows go to the store's bulk write (COPY on
PostgreSQL, ``executemany`` on SQLite), with no ``TransferRequest`` or result per row.

Protects invariants 2, 3 and 7 exactly as ``Poster.submit_within`` does, because it writes
exactly what that path writes for the same transfers, byte for byte (a test compares the
journal rows and digests of both): the same ``Accepted`` rows, account totals and events.
Whatever is off its happy path (an id replayed or seen twice, a value a check refuses, a
rule that refuses a row) is handed, untouched, to that general path, which answers it as
always: nothing is written before the path is sure to take the whole batch.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rewardledger.domain import ids
from rewardledger.domain.accounts import AccountState
from rewardledger.domain.errors import LedgerError
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.limits import AMOUNT_MINOR_MAX, BIGINT_MAX
from rewardledger.domain.money import Amount
from rewardledger.domain.tenants import Asset, Tenant
from rewardledger.domain.transfers import (
    Accepted,
    Phase,
    StoredRefusal,
    Transfer,
    TransferRequest,
    check_effective_at,
    check_metadata,
)
from rewardledger.ledger.storage_unit import JournalWrite, WriteSession

_POSTED_EVENT = "transfer.posted"


@dataclass(frozen=True, slots=True)
class PostingColumns:
    """Plain (single-phase) transfers of one asset, one sequence per field, in order.

    ``requests`` gives the same transfers as ``TransferRequest`` values, for the general path.
    """

    asset: str
    ids: Sequence[str]
    debit_account_ids: Sequence[str]
    credit_account_ids: Sequence[str]
    amounts_minor: Sequence[int]
    kinds: Sequence[str]
    reasons: Sequence[str | None]
    effective_at: Sequence[datetime | None]
    metadata: Sequence[Mapping[str, Any] | None]

    def __len__(self) -> int:
        return len(self.ids)

    def requests(self, scale: int) -> list[TransferRequest]:
        return [
            TransferRequest(
                id=identifier,
                debit_account_id=debit,
                credit_account_id=credit,
                asset=self.asset,
                amount=str(Amount(amount, scale)),
                kind=kind,
                reason=reason,
                effective_at=effective_at,
                metadata=metadata,
            )
            for identifier, debit, credit, amount, kind, reason, effective_at, metadata in zip(
                self.ids,
                self.debit_account_ids,
                self.credit_account_ids,
                self.amounts_minor,
                self.kinds,
                self.reasons,
                self.effective_at,
                self.metadata,
                strict=True,
            )
        ]


def post_columns(
    session: WriteSession,
    tenant: Tenant,
    assets: Mapping[str, Asset],
    now: datetime,
    columns: PostingColumns,
    known: Mapping[str, Transfer | StoredRefusal],
) -> bool:
    """Write ``columns`` all-or-nothing in ``session`` if every row is fresh, checks and is
    accepted: then True. Otherwise write nothing and return False (use the general path)."""
    if not len(columns):
        return True
    if columns.asset not in assets or not _checked(columns, now, known):
        return False
    account_ids = sorted({*columns.debit_account_ids, *columns.credit_account_ids})
    states = session.lock_accounts(account_ids)
    accepted = _accepted(columns, states, now)
    if accepted is None:
        return False
    journal = JournalWrite(
        accepted,
        [],
        [states[account_id] for account_id in account_ids],
        [OutboxEvent(_POSTED_EVENT, row.id) for row in accepted],
        now,
        tenant.cycle_tag,
    )
    session.write(journal, bulk=True)
    return True


def _checked(
    columns: PostingColumns, now: datetime, known: Mapping[str, Transfer | StoredRefusal]
) -> bool:
    """``TransferRequest.validate`` and the amount's parse, for each distinct value once; True
    if every row passes and no id is replayed or repeated."""
    identifiers = columns.ids
    if len(set(identifiers)) != len(identifiers) or any(i in known for i in identifiers):
        return False
    try:
        for identifier in identifiers:
            ids.transfer_id(identifier)
        for account_id in {*columns.debit_account_ids, *columns.credit_account_ids}:
            ids.account_id(account_id)
        ids.asset_code(columns.asset)
        for kind in set(columns.kinds):
            ids.kind(kind)
        for reason in set(columns.reasons):
            if reason is not None:
                ids.reason(reason)
        for effective_at in set(columns.effective_at):
            check_effective_at(effective_at, now)
        seen: set[Hashable] = set()
        for metadata in columns.metadata:
            key = _metadata_key(metadata)
            if key is None or key not in seen:
                check_metadata(metadata)
                if key is not None:
                    seen.add(key)
    except LedgerError:
        return False
    return all(
        type(amount) is int and 0 < amount <= AMOUNT_MINOR_MAX for amount in columns.amounts_minor
    ) and all(
        debit != credit
        for debit, credit in zip(columns.debit_account_ids, columns.credit_account_ids, strict=True)
    )


def _metadata_key(metadata: Mapping[str, Any] | None) -> Hashable | None:
    """A key equal for two documents only if they are alike (types included: ``1`` and
    ``1.0`` and ``True`` are told apart), or None for a document of nested values."""
    if metadata is None:
        return ()
    if not isinstance(metadata, dict):
        return None
    key = []
    for name, value in metadata.items():
        if not isinstance(name, str) or not (value is None or type(value) in (str, int, bool)):
            return None
        key.append((name, type(value), value))
    return tuple(sorted(key, key=lambda item: item[0]))


def _accepted(
    columns: PostingColumns, states: dict[str, AccountState], now: datetime
) -> list[Accepted] | None:
    """The posting rules of a plain transfer (``posting_rules._apply_transfer``) applied to
    each row in order, on ``states``; None, and ``states`` as they were, if one is refused."""
    working = {account_id: state.copy() for account_id, state in states.items()}
    asset = columns.asset
    accepted: list[Accepted] = []
    rows = zip(
        columns.ids,
        columns.debit_account_ids,
        columns.credit_account_ids,
        columns.amounts_minor,
        columns.kinds,
        columns.reasons,
        columns.effective_at,
        columns.metadata,
        strict=True,
    )
    for identifier, debit_id, credit_id, amount, kind, reason, effective_at, metadata in rows:
        debit, credit = working.get(debit_id), working.get(credit_id)
        if debit is None or credit is None:
            return None
        if debit.asset_code != asset or credit.asset_code != asset:
            return None
        if debit.debits_posted + amount > BIGINT_MAX or credit.credits_posted + amount > BIGINT_MAX:
            return None
        if debit.no_negative and debit.available < amount:
            return None
        debit.debits_posted += amount
        credit.credits_posted += amount
        debit.entry_count += 1
        credit.entry_count += 1
        accepted.append(
            Accepted(
                identifier,
                Phase.SINGLE,
                kind,
                reason,
                asset,
                amount,
                debit_id,
                credit_id,
                None,
                None,
                effective_at or now,
                metadata,
                debit.entry_count,
                credit.entry_count,
                debit.posted,
                credit.posted,
            )
        )
    for account_id, state in working.items():
        states[account_id].assign(state)
    return accepted
