"""A budget period's figures against its journal, and totals by entry type.

Owns the comparisons of budget reconciliation: every materialized figure of a period (its
account's totals, the budget's counters, its reservations) against what the journal alone
says, and invariant 4 again (used never above the hard cap). A rollover is counted once in
totals, where it leaves.
"""

from __future__ import annotations

from collections.abc import Iterable

from rewardledger.domain.budgets.policy import ENTRY_TYPES, BudgetPolicy
from rewardledger.domain.budgets.records import KindTotals, PeriodRecord

AccountTotals = tuple[int, int, int]  # credits_posted, debits_posted, debits_pending


def period_mismatches(
    policy: BudgetPolicy,
    record: PeriodRecord,
    account: AccountTotals,
    journal: KindTotals,
    open_pending_minor: int,
    reservations_minor: int,
) -> list[tuple[str, int, int]]:
    """(figure, materialized, from the journal) for every figure of the period that differs,
    then ``used_above_hard_cap`` (used, hard cap) if the period passed its cap."""
    credits_posted, debits_posted, debits_pending = account
    amount = journal.amount
    expected = {
        "credits_posted": (
            credits_posted,
            amount("fund") + amount("rollover_in") + amount("reverse_in"),
        ),
        "debits_posted": (
            debits_posted,
            amount("charge") + amount("rollover_out") + amount("reverse_out"),
        ),
        "reserved": (debits_pending, open_pending_minor),
        "funded": (record.funded, amount("fund")),
        "rolled_in": (record.rolled_in, amount("rollover_in")),
        "rolled_out": (record.rolled_out, amount("rollover_out")),
        "reversed_funds": (record.reversed_funds, amount("reverse_out")),
        "reversed_charges": (record.reversed_charges, amount("reverse_in")),
        "reserved_total": (record.reserved_total, amount("reserve")),
        "reservations": (reservations_minor, amount("reserve")),
    }
    found = [
        (figure, mine, theirs) for figure, (mine, theirs) in expected.items() if mine != theirs
    ]
    used = record.figures(*account).used
    if used > policy.hard_cap_minor:
        found.append(("used_above_hard_cap", used, policy.hard_cap_minor))
    return found


def entry_totals(journals: Iterable[KindTotals]) -> tuple[dict[str, int], dict[str, int]]:
    """(amount, count) by entry type (``ENTRY_TYPES``) over the periods' journals; a
    rollover is counted where it leaves, not again where it arrives."""
    totals = {name: 0 for name in ENTRY_TYPES}
    counts = {name: 0 for name in ENTRY_TYPES}
    for journal in journals:
        for name, (count, amount_minor) in journal.totals.items():
            if name == "rollover_in":
                continue
            base = name.removesuffix("_in").removesuffix("_out")
            totals[base] += amount_minor
            counts[base] += count
    return totals, counts
