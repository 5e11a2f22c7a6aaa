"""Rows to domain values: how a database row of the core tables becomes a frozen value.

Owns: the one mapping from ``tenants``, ``accounts`` and ``transfers`` rows to ``Tenant``,
``Account`` and ``Transfer``; which phases count as posted; and, for the tables whose columns
are a value's fields, the mapping both ways (``record_of``, ``columns_of``). Keeping it in
one place keeps every reader of the journal (history, verify, replays) agreeing on what a row
means.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row

from rewardledger.domain.accounts import Account, Balances
from rewardledger.domain.tenants import Tenant
from rewardledger.domain.transfers import Phase, Transfer, TransferState

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Record = TypeVar("Record", bound=DataclassInstance)
else:
    Record = TypeVar("Record")

POSTED_PHASES = (Phase.SINGLE.value, Phase.POST.value)


def record_of(kind: type[Record], row: Row[Any], /, suffix: str = "", **given: Any) -> Record:
    """The value of a row whose columns are its fields: each field is its ``given`` value (a
    renamed or converted column), else the column named with ``suffix`` when the row has one
    (the period counters: ``funded`` is ``funded_minor``), else the column of its name."""
    mapping = row._mapping
    return kind(
        **{
            field.name: given[field.name]
            if field.name in given
            else mapping[field.name + suffix]
            if field.name + suffix in mapping
            else mapping[field.name]
            for field in fields(kind)
        }
    )


def columns_of(record: DataclassInstance, /, **renamed: str) -> dict[str, Any]:
    """The columns of a row written from a value whose fields are its columns (the reverse of
    ``record_of``): each field under its name, or under the column ``renamed`` names for it
    (a tenant's ``id`` is its ``tenant_id``)."""
    return {renamed.get(f.name, f.name): getattr(record, f.name) for f in fields(record)}


def tenant_of(row: Row[Any]) -> Tenant:
    return Tenant(row.tenant_id, row.name, row.timezone, row.created_at)


def account_of(row: Row[Any]) -> Account:
    return Account(
        tenant_id=row.tenant_id,
        id=row.account_id,
        asset_code=row.asset_code,
        no_negative=bool(row.no_negative),
        metadata=row.metadata or {},
        balances=Balances(
            row.debits_pending, row.debits_posted, row.credits_pending, row.credits_posted
        ),
        entry_count=row.entry_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        managed_by=row.managed_by,
    )


def transfer_of(row: Row[Any]) -> Transfer:
    phase = Phase(row.phase)
    return Transfer(
        tenant_id=row.tenant_id,
        id=row.transfer_id,
        phase=phase,
        kind=row.kind,
        reason=row.reason,
        asset_code=row.asset_code,
        scale=row.scale,
        amount_minor=row.amount_minor,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        pending_id=row.pending_id,
        expires_at=row.expires_at,
        effective_at=row.effective_at,
        created_at=row.created_at,
        cycle_tag=row.cycle_tag,
        metadata=row.metadata or {},
        debit_entry_seq=row.debit_entry_seq,
        credit_entry_seq=row.credit_entry_seq,
        debit_balance_after_minor=row.debit_balance_after,
        credit_balance_after_minor=row.credit_balance_after,
        state=TransferState.PENDING if phase is Phase.PENDING else TransferState.POSTED,
    )


def with_resolution(transfer: Transfer, state: TransferState, resolved_by: str | None) -> Transfer:
    return replace(transfer, state=state, resolved_by=resolved_by)
