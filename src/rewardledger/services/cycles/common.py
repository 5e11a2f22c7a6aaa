"""What every cycle use case checks at its edge: movement and holder ids, amounts, accounts.

Owns: the id length limits of cycle movements and holders, and opening a movement's accounts
on first use. Protects: a refused transfer to a missing account leaves nothing behind (its
unit rolled back) before the accounts are opened and the use case runs again.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from rewardledger.domain import ids
from rewardledger.domain.cycles import CashbackProgram, DebtProgram
from rewardledger.domain.errors import (
    AccountNotFound,
    NotFound,
    ProgramNotConfigured,
    ValidationError,
)
from rewardledger.domain.limits import CYCLE_HOLDER_ID_LENGTH_MAX, CYCLE_MOVEMENT_ID_LENGTH_MAX
from rewardledger.domain.money import Amount
from rewardledger.domain.transfers import TransferRequest, check_instant
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.posting import raise_for_single
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.ledger.unit import UnitOfWork

T = TypeVar("T")
Programme = TypeVar("Programme", CashbackProgram, DebtProgram)


def movement_id(value: object, field: str = "id") -> str:
    checked = ids.transfer_id(value, field)
    if len(checked) > CYCLE_MOVEMENT_ID_LENGTH_MAX:
        raise ValidationError(
            f"{field} must be at most {CYCLE_MOVEMENT_ID_LENGTH_MAX} characters.", field=field
        )
    return checked


def holder_id(value: object, field: str) -> str:
    checked = ids.account_id(value, field)
    if len(checked) > CYCLE_HOLDER_ID_LENGTH_MAX:
        raise ValidationError(
            f"{field} must be at most {CYCLE_HOLDER_ID_LENGTH_MAX} characters.", field=field
        )
    return checked


def instant_or_none(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else check_instant(value, field)


def non_negative(text: str, scale: int, field: str) -> int:
    minor = Amount.parse(text, scale, field=field).minor
    if minor < 0:
        raise ValidationError(f"{field} must be zero or more.", field=field)
    return minor


def check_currency(given: str | None, programme_currency: str) -> None:
    if given is not None and given != programme_currency:
        raise ValidationError(
            f"currency must be the programme's, {programme_currency}.", field="currency"
        )


def ensure_account(
    ledger: Ledger, tenant_id: str, account_id: str, currency: str, managed_by: str | None
) -> None:
    """Open ``account_id`` in ``currency`` unless it exists (a transfer to an account of
    another asset is then refused as ``currency_mismatch``). ``managed_by``: the service that
    alone moves it (``debt`` or ``cashback``), or None for a member's own account, which a
    cashback accrual credits and the tenant pays out with plain transfers."""
    try:
        ledger.get_account(tenant_id, account_id)
    except NotFound:
        ledger.create_account(tenant_id, account_id, asset=currency, managed_by=managed_by)


def put_programme(
    ledger: Ledger,
    tenant_id: str,
    program: Programme,
    put: Callable[[StorageUnit, Programme, datetime], None],
    own_account: tuple[str, str],
) -> Programme:
    """Open the programme's own account (``own_account``: its id and the service that alone
    moves it) in the programme's currency unless it exists, then store the programme."""
    account_id, managed_by = own_account
    ensure_account(ledger, tenant_id, account_id, program.currency, managed_by)
    ledger.run(tenant_id, lambda work: put(work.unit, program, work.now))
    return program


def configured_programme(
    ledger: Ledger, tenant_id: str, name: str, read: Callable[[str], Programme | None]
) -> Programme:
    """The tenant's ``name`` programme as ``read`` finds it; ``ProgramNotConfigured`` when it
    is not set (``NotFound`` when there is no such tenant)."""
    ledger.get_tenant(tenant_id)
    program = read(tenant_id)
    if program is None:
        raise ProgramNotConfigured(name)
    return program


def run_opening_accounts(
    ledger: Ledger,
    tenant_id: str,
    use_case: Callable[[UnitOfWork], T],
    accounts: Sequence[str],
    currency: str,
    managed_by: str | None,
) -> T:
    """Run ``use_case``; if its transfer names an account that does not exist yet (a new
    member, a new person), open ``accounts`` in ``currency`` and run it again. The refused
    unit was rolled back, so nothing of it remains. Saves a look-up on every movement."""
    try:
        return ledger.run(tenant_id, use_case)
    except AccountNotFound:
        for account_id in accounts:
            ensure_account(ledger, tenant_id, account_id, currency, managed_by)
        return ledger.run(tenant_id, use_case)


def new_token() -> str:
    """A dirty mark's token: a refresh deletes the mark only if it is still this one."""
    return secrets.token_hex(16)


_FIXED_PROGRAMMES: weakref.WeakKeyDictionary[Ledger, dict[tuple[str, str], object]] = (
    weakref.WeakKeyDictionary()
)


def fixed_programme(ledger: Ledger, tenant_id: str, kind: str, read: Callable[[], T]) -> T:
    """A programme read once per ledger and tenant, then kept in memory. Only for the parts
    that never change once set (currency; the debt closing day): the rest is read fresh
    inside each unit."""
    kept = _FIXED_PROGRAMMES.setdefault(ledger, {})
    found = kept.get((tenant_id, kind))
    if found is None:
        found = kept[(tenant_id, kind)] = read()
    return found  # type: ignore[return-value]


def post_transfer(work: UnitOfWork, request: TransferRequest) -> str:
    """Post one journal transfer in ``work``, raising its refusal as the ledger's error."""
    raise_for_single(work.submit([request])[0])
    return request.id
