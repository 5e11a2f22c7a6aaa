"""Accounts and their balances.

Owns: the meaning of an account's four totals, the no-negative rule (invariant 3), and which
service manages an account (``managed_by``).

Money moves from the *debit* account to the *credit* account of a transfer, so an account's
balance is ``credits - debits``: a member's wallet goes up when it is credited, and the
tenant's issuance account goes below zero by exactly what was issued. Summed over all the
accounts of one asset, balances are always zero (invariant 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The services that open accounts of their own, and the calls that move them. A service keeps
# records beside the journal (lots, reservations, debt movements...) that must stay in step
# with its accounts, so a raw core transfer onto one is refused as ``managed_account``.
MANAGED_BY_CALLS: Mapping[str, str] = {
    "points": "points earn or spend (POST /v1/tenants/{tid}/points/{holder}/earn or /spend), "
    "or a redemption",
    "budgets": "the budget calls (topup, reservations, charge, release, corrections under "
    "/v1/tenants/{tid}/budgets/{bid})",
    "debt": "a debt movement (POST /v1/tenants/{tid}/debt/movements)",
    "cashback": "a cashback movement (POST /v1/tenants/{tid}/cashback/movements)",
}


def posted_balance(debits_posted: int, credits_posted: int) -> int:
    """Settled balance: credits minus debits that are posted."""
    return credits_posted - debits_posted


def available_balance(debits_pending: int, debits_posted: int, credits_posted: int) -> int:
    """What may still be debited: the posted balance minus outgoing holds (invariant 3 keeps
    it >= 0 on a no-negative account)."""
    return credits_posted - debits_posted - debits_pending


class _Totals:
    """The balances read from an account's four totals, shared by both views of them."""

    __slots__ = ()
    debits_pending: int
    debits_posted: int
    credits_posted: int

    @property
    def posted(self) -> int:
        return posted_balance(self.debits_posted, self.credits_posted)

    @property
    def available(self) -> int:
        return available_balance(self.debits_pending, self.debits_posted, self.credits_posted)


@dataclass(frozen=True, slots=True)
class Balances(_Totals):
    """The four totals an account materializes, in minor units; each only ever >= 0."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def pending(self) -> int:
        """Net effect of the holds still open on this account."""
        return self.credits_pending - self.debits_pending


@dataclass(frozen=True, slots=True)
class Account:
    tenant_id: str
    id: str
    asset_code: str
    no_negative: bool
    metadata: Mapping[str, Any]
    balances: Balances
    entry_count: int
    created_at: datetime
    updated_at: datetime
    managed_by: str | None = None


@dataclass(slots=True)
class AccountState(_Totals):
    """A locked account's totals while a write is being evaluated; mutated in place.

    Lives only inside one write transaction: loaded under lock, changed by the posting rules,
    then written back. Never shared across transactions.
    """

    id: str
    asset_code: str
    no_negative: bool
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    entry_count: int
    managed_by: str | None = None

    def copy(self) -> AccountState:
        return AccountState(
            self.id,
            self.asset_code,
            self.no_negative,
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
            self.entry_count,
            self.managed_by,
        )

    def assign(self, other: AccountState) -> None:
        """Take ``other``'s totals (used to commit an all-or-nothing batch's working copies)."""
        assert other.id == self.id
        self.debits_pending = other.debits_pending
        self.debits_posted = other.debits_posted
        self.credits_pending = other.credits_pending
        self.credits_posted = other.credits_posted
        self.entry_count = other.entry_count

    def balances(self) -> Balances:
        return Balances(
            self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted
        )
