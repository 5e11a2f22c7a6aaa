"""Integrity: check materialized data against the journal, and rebuild it from the journal.

Owns: ``verify`` (invariants 1, 2 and 5 of DESIGN.md, per tenant, and tamper evidence: each
journal row against its digest, the accounts the journal names, the seals and an exported
head), ``seal`` and ``repair``.
Repair never touches the journal: it recomputes each account's four totals and entry count
from the journal rows, rebuilds the open holds, and records who ran it and every value it
changed. Both walk the accounts in chunks, so memory stays flat however large the tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from rewardledger.domain.accounts import Account
from rewardledger.domain.events import OutboxEvent
from rewardledger.domain.limits import (
    INTEGRITY_CHUNK_SIZE,
    REPORT_DISCREPANCIES_MAX,
    SEAL_MARGIN_SECONDS,
)
from rewardledger.domain.money import format_minor
from rewardledger.domain.reconciliation import TOTAL_FIELDS, AccountJournalTotals, JournalSeal
from rewardledger.domain.repairs import RepairClosing
from rewardledger.domain.tenants import Asset
from rewardledger.ledger.clock import Clock
from rewardledger.ledger.ports import Store
from rewardledger.ledger.results import Discrepancy, IntegrityReport, RepairReport

Progress = Callable[[int], None]
"""Called with the number of accounts just processed."""


class _Found:
    """Discrepancies found so far: all counted, the first REPORT_DISCREPANCIES_MAX kept."""

    def __init__(self) -> None:
        self.kept: list[Discrepancy] = []
        self.count = 0

    def add(self, discrepancy: Discrepancy) -> None:
        self.count += 1
        if len(self.kept) < REPORT_DISCREPANCIES_MAX:
            self.kept.append(discrepancy)


def _amount(value: int, field: str, scale: int) -> str:
    return str(value) if field == "entry_count" else format_minor(value, scale)


def _compare(found: _Found, account: Account, journal: AccountJournalTotals, scale: int) -> None:
    """Add each total of ``account`` that differs from the journal's to ``found``."""
    materialized = {
        "debits_pending": account.balances.debits_pending,
        "debits_posted": account.balances.debits_posted,
        "credits_pending": account.balances.credits_pending,
        "credits_posted": account.balances.credits_posted,
        "entry_count": account.entry_count,
    }
    for field in TOTAL_FIELDS:
        expected = getattr(journal, field)
        if materialized[field] != expected:
            found.add(
                Discrepancy(
                    "account_matches_journal",
                    account.id,
                    field,
                    _amount(expected, field, scale),
                    _amount(materialized[field], field, scale),
                )
            )


def _check_journal(found: _Found, store: Store, tenant_id: str, expected_head: str | None) -> None:
    """Tamper evidence: rows against their digests, named accounts, seals, exported head."""
    check = store.check_journal(tenant_id)
    for transfer_id in check.changed_rows:
        found.add(Discrepancy("journal_row_matches_digest", transfer_id, "digest"))
    for account_id in check.missing_accounts:
        found.add(Discrepancy("journal_accounts_exist", account_id))
    for m in check.seal_mismatches:
        found.add(
            Discrepancy("seal_matches_journal", str(m.seal_seq), m.field, m.recomputed, m.stored)
        )
    if expected_head is not None and expected_head not in check.heads:
        latest = check.heads[-1] if check.heads else None
        found.add(Discrepancy("exported_head_in_chain", expected_head, "head", latest, None))


def verify(
    store: Store,
    clock: Clock,
    tenant_id: str,
    assets: Mapping[str, Asset],
    progress: Progress | None = None,
    expected_head: str | None = None,
) -> IntegrityReport:
    checked_at = clock()
    found = _Found()
    _check_journal(found, store, tenant_id, expected_head)
    # Invariant 1: per asset, balances sum to zero (posted and pending alike).
    for code, (posted, pending) in sorted(store.asset_sums(tenant_id).items()):
        scale = assets[code].scale
        if posted != 0:
            found.add(
                Discrepancy(
                    "asset_balances_sum_to_zero", code, "posted", "0", format_minor(posted, scale)
                )
            )
        if pending != 0:
            found.add(
                Discrepancy(
                    "asset_balances_sum_to_zero", code, "pending", "0", format_minor(pending, scale)
                )
            )
    # Invariant 2: every materialized total equals the journal's, account by account.
    checked = 0
    after: str | None = None
    while True:
        chunk, totals = store.integrity_chunk(tenant_id, after, INTEGRITY_CHUNK_SIZE)
        if not chunk:
            break
        for account in chunk:
            _compare(found, account, totals[account.id], assets[account.asset_code].scale)
        checked += len(chunk)
        after = chunk[-1].id
        if progress is not None:
            progress(len(chunk))
    # Invariant 5: a pending transfer is resolved at most once, and holds match the journal.
    for pending_id, count in store.multiply_resolved(tenant_id):
        found.add(Discrepancy("pending_resolved_once", pending_id, "resolutions", "1", str(count)))
    missing, stray = store.hold_mismatches(tenant_id)
    for pending_id in missing:
        found.add(Discrepancy("open_pending_has_hold", pending_id))
    for pending_id in stray:
        found.add(Discrepancy("hold_has_open_pending", pending_id))
    return IntegrityReport(tenant_id, checked_at, checked, found.kept, found.count)


def seal(store: Store, clock: Clock, tenant_id: str) -> JournalSeal:
    """Seal the journal up to SEAL_MARGIN_SECONDS ago; the head it returns is to be exported."""
    now = clock()
    return store.seal_journal(tenant_id, now - timedelta(seconds=SEAL_MARGIN_SECONDS), now)


def repair(
    store: Store,
    clock: Clock,
    tenant_id: str,
    assets: Mapping[str, Asset],
    actor: str,
    progress: Progress | None = None,
) -> RepairReport:
    started_at = clock()
    repair_id = store.start_repair(tenant_id, actor, started_at)
    changes = _Found()
    checked = 0
    after: str | None = None
    while chunk := store.account_ids_after(tenant_id, after, INTEGRITY_CHUNK_SIZE):
        # repair_chunk recomputes the journal's totals under lock; nothing is read twice.
        for change in store.repair_chunk(tenant_id, repair_id, chunk, changes.count):
            scale = assets[change.asset_code].scale
            changes.add(
                Discrepancy(
                    "account_matches_journal",
                    change.account_id,
                    change.field,
                    _amount(change.journal, change.field, scale),
                    _amount(change.materialized, change.field, scale),
                )
            )
        checked += len(chunk)
        after = chunk[-1]
        if progress is not None:
            progress(len(chunk))
    recreated, dropped = store.repair_holds(tenant_id, repair_id, changes.count)
    for pending_id in recreated:
        changes.add(Discrepancy("open_pending_has_hold", pending_id))
    for pending_id in dropped:
        changes.add(Discrepancy("hold_has_open_pending", pending_id))
    finished_at = clock()
    store.finish_repair(
        tenant_id,
        repair_id,
        RepairClosing(finished_at, checked, changes.count),
        OutboxEvent(
            "integrity.repaired",
            repair_id,
            {"actor": actor, "changes": changes.count, "accounts_checked": checked},
        ),
    )
    return RepairReport(
        tenant_id, repair_id, actor, started_at, finished_at, checked, changes.kept, changes.count
    )
