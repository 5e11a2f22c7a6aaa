"""Cashback settings: the tenant's programme and each account's cap and enrolment.

Owns: the cashback programme (currency, minimum spend, default cap, grace) and account
settings. Protects: the currency never changes once set (movements are in it); a change of an
account's settings marks every cycle of the account dirty in the same transaction.
"""

from __future__ import annotations

from rewardledger.domain import ids
from rewardledger.domain.cycles import (
    CashbackAccountSettings,
    CashbackProgram,
    LedgerName,
    check_grace_days,
)
from rewardledger.domain.errors import ValidationError
from rewardledger.ledger.engine import Ledger
from rewardledger.ledger.unit import UnitOfWork
from rewardledger.services.cycles.common import (
    configured_programme,
    ensure_account,
    holder_id,
    non_negative,
    put_programme,
)
from rewardledger.services.cycles.port import store_of
from rewardledger.services.cycles.projection import refresh_inline

EXPENSE_ACCOUNT = "cashback-expense"
# The expense account is moved by cashback movements only; members' accounts are their own.
MANAGED_BY = "cashback"


def set_program(
    ledger: Ledger,
    tenant_id: str,
    *,
    currency: str,
    minimum_spend: str,
    default_cap: str,
    grace_days: int = 0,
) -> CashbackProgram:
    """Set the tenant's cashback programme (currency, minimum spend per cycle, default cap,
    days of grace after a cycle's month before it closes)."""
    asset = ledger.get_asset(tenant_id, ids.asset_code(currency, "currency"))
    program = CashbackProgram(
        asset.code,
        non_negative(minimum_spend, asset.scale, "minimum_spend"),
        non_negative(default_cap, asset.scale, "default_cap"),
        check_grace_days(grace_days),
    )
    store = store_of(ledger)
    existing = store.get_cashback_program(tenant_id)
    if existing is not None and existing.currency != program.currency:
        raise ValidationError(
            "currency cannot change once the cashback programme is set; its movements are in "
            f"{existing.currency}.",
            field="currency",
        )
    own_account = (EXPENSE_ACCOUNT, MANAGED_BY)
    return put_programme(ledger, tenant_id, program, store.put_cashback_program, own_account)


def get_program(ledger: Ledger, tenant_id: str) -> CashbackProgram:
    return configured_programme(
        ledger, tenant_id, "cashback", store_of(ledger).get_cashback_program
    )


def set_account(
    ledger: Ledger,
    tenant_id: str,
    account_id: str,
    *,
    default_cap: str | None = None,
    enrolled: bool = True,
) -> CashbackAccountSettings:
    """Set an account's default cap (None: the programme's) and enrolment."""
    program = get_program(ledger, tenant_id)
    scale = ledger.get_asset(tenant_id, program.currency).scale
    if not isinstance(enrolled, bool):
        raise ValidationError("enrolled must be true or false.", field="enrolled")
    settings = CashbackAccountSettings(
        holder_id(account_id, "account_id"),
        None if default_cap is None else non_negative(default_cap, scale, "default_cap"),
        enrolled,
    )
    store = store_of(ledger)
    ensure_account(ledger, tenant_id, settings.account_id, program.currency, None)

    def use_case(work: UnitOfWork) -> None:
        store.put_cashback_account(work.unit, settings, work.now)
        # Cap and enrolment feed the rows of every cycle of the account: recompute them.
        for tag in store.cashback_cycles_of(work.unit, settings.account_id):
            mark = store.mark_dirty(work.unit, LedgerName.CASHBACK, settings.account_id, tag)
            refresh_inline(work, store, mark)

    ledger.run(tenant_id, use_case)
    return settings
