"""Reconciliation: an account's totals recomputed from the journal, and how they can differ.

Owns: the records that integrity checks compare. Protects invariant 2 (every materialized
balance equals the sum of the journal for that account) by naming what is compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True, slots=True)
class SealMismatch:
    """A stored seal the journal no longer hashes to (``recomputed`` is what it hashes to)."""

    seal_seq: int
    field: str
    stored: str
    recomputed: str


@dataclass(frozen=True, slots=True)
class JournalSeal:
    """One seal: the head that pins the journal up to ``cutoff_at``; export it and keep it."""

    tenant_id: str
    seal_seq: int
    cutoff_at: datetime
    sealed_at: datetime
    rows_count: int
    accounts_count: int
    head: str


@dataclass(frozen=True, slots=True)
class JournalCheck:
    """What the journal's digests and seals say: rows whose content no longer matches their
    digest, accounts the journal names that do not exist, seals that no longer match, and the
    heads the journal hashes to now, seal by seal."""

    rows_checked: int
    changed_rows: list[str] = field(default_factory=list)
    missing_accounts: list[str] = field(default_factory=list)
    seal_mismatches: list[SealMismatch] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
