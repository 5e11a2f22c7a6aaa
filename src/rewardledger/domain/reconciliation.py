"""Reconciliation: an account's totals recomputed from the journal, and how they can differ.

Owns: the records that integrity checks compare. Protects invariant 2 (every materialized
balance equals the sum of the journal for that account) by naming what is compared.
"""

from __future__ import annotations

from dataclasses import dataclass

TOTAL_FIELDS = (
    "debits_pending",
    "debits_posted",
    "credits_pending",
    "credits_posted",
    "entry_count",
)


@dataclass(frozen=True, slots=True)
class AccountJournalTotals:
    """An account's totals recomputed from the journal alone."""

    account_id: str
    asset_code: str
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    entry_count: int


@dataclass(frozen=True, slots=True)
class AccountDiscrepancy:
    """One total of one account whose materialized value differs from the journal's."""

    account_id: str
    asset_code: str
    field: str
    materialized: int
    journal: int
