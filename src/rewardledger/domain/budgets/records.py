"""Records that cross the storage boundary, and the entry type of a journal row.

Owns: the shapes the budget store reads and writes (periods, reservations, resolutions,
alerts, corrections, journal rows) and how a finance team names a journal row
(``entry_type``), so reconciliation and reports count the same rows the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rewardledger.domain.budgets.figures import Figures, figures_from_account
from rewardledger.domain.budgets.policy import KIND_FUND, KIND_REVERSE, KIND_ROLLOVER, BudgetPolicy
from rewardledger.domain.events import OutboxEvent

# Keyset positions (what the previous page's last row sorts by) and a span of times.
TimePosition = tuple[datetime, str]  # created_at, transfer_id: entries and corrections
AlertPosition = tuple[datetime, str, str, str]  # created_at, budget_id, period, alert_key
Window = tuple[datetime | None, datetime | None]  # [since, until); None is open-ended
ALL_TIME: Window = (None, None)


@dataclass(frozen=True, slots=True)
class PeriodRecord:
    """A (budget, period): its account, and the counters of what the core's account totals
    cannot tell apart (top-ups, rollovers and reversals all credit or debit it)."""

    budget_id: str
    period: str
    account_id: str
    opened_at: datetime
    funded: int
    rolled_in: int
    rolled_out: int
    reversed_funds: int
    reversed_charges: int
    reserved_total: int
    rollovers_count: int
    reset_key: str | None = None  # the idempotency key of the on-demand reset that opened it

    def figures(self, credits_posted: int, debits_posted: int, debits_pending: int) -> Figures:
        return figures_from_account(
            credits_posted,
            debits_posted,
            debits_pending,
            funded=self.funded,
            rolled_in=self.rolled_in,
            rolled_out=self.rolled_out,
            reversed_funds=self.reversed_funds,
            reversed_charges=self.reversed_charges,
            reserved_total=self.reserved_total,
        )


@dataclass(frozen=True, slots=True)
class PeriodOpening:
    """A period row to insert: the (budget, period), its account, and the on-demand reset
    that opened it, if one did."""

    tenant_id: str
    budget_id: str
    period: str
    account_id: str
    opened_at: datetime
    reset_key: str | None = None


@dataclass(frozen=True, slots=True)
class AccountOpening:
    """One of the core's accounts a budget opens if it does not exist yet."""

    tenant_id: str
    account_id: str
    asset_code: str
    no_negative: bool
    managed_by: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class ReservationRecord:
    tenant_id: str
    budget_id: str
    reference: str
    transfer_id: str
    period: str
    member_key: str | None
    amount_minor: int
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OwnRows:
    """The budget's own rows of a write after the core's: ``deltas`` to add to the period's
    counters, the ``reservation`` to insert and the outbox ``events``, all written at ``now``."""

    tenant_id: str
    budget_id: str
    period: str
    deltas: Mapping[str, int]
    now: datetime
    reservation: ReservationRecord | None = None
    events: Sequence[OutboxEvent] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a reservation's pending transfer was resolved: phase post, void or expire."""

    transfer_id: str
    phase: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class AlertRecord:
    budget_id: str
    period: str
    key: str
    kind: str
    level: str
    threshold_percent: int | None
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CorrectionRecord:
    tenant_id: str
    transfer_id: str
    budget_id: str
    period: str
    reverses_id: str
    amount_minor: int
    note: str
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FixRecord:
    """One counter of a period set back to what the journal says (seed 002's
    ``FixDiscrepancy``), with who did it and why: a row of the append-only audit trail."""

    tenant_id: str
    budget_id: str
    fix_key: str
    period: str
    figure: str
    before_minor: int
    after_minor: int
    note: str
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EntryRecord:
    transfer_id: str
    phase: str
    kind: str
    amount_minor: int
    debit_account_id: str
    credit_account_id: str
    pending_id: str | None
    effective_at: datetime
    created_at: datetime
    metadata: dict[str, Any]
    refused: bool


@dataclass(frozen=True, slots=True)
class EntryQuery:
    """A page of the accepted journal rows touching ``account_ids``, newest first: ``limit``
    of them after the keyset position ``after``, created within ``window``."""

    account_ids: tuple[str, ...]
    after: TimePosition | None
    limit: int
    window: Window = ALL_TIME


def entry_type(phase: str, kind: str) -> str:
    """A journal row's entry type, as a finance team names it (see ``ENTRY_TYPES``)."""
    if phase == "pending":
        return "reserve"
    if phase == "post":
        return "charge"
    if phase in ("void", "expire"):
        return "release"
    if kind in (KIND_REVERSE, KIND_ROLLOVER):
        return kind
    return KIND_FUND


@dataclass(frozen=True, slots=True)
class KindTotals:
    """One account's journal rows by entry type and direction: name -> (count, amount)."""

    totals: dict[str, tuple[int, int]]

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str, bool, int, int]]) -> KindTotals:
        totals: dict[str, tuple[int, int]] = {}
        for phase, kind, incoming, count, amount in rows:
            name = entry_type(phase, kind)
            if name in (KIND_REVERSE, KIND_ROLLOVER):
                name += "_in" if incoming else "_out"
            old_count, old_amount = totals.get(name, (0, 0))
            totals[name] = (old_count + count, old_amount + amount)
        return cls(totals)

    def amount(self, name: str) -> int:
        return self.totals.get(name, (0, 0))[1]

    def count(self, name: str) -> int:
        return self.totals.get(name, (0, 0))[0]


@dataclass(frozen=True, slots=True)
class WriteKeys:
    """The rows a budget write is keyed by, read with the budget's lock: its reservation
    ``reference`` and its journal row ``transfer_id`` (each when the write has one)."""

    reference: str | None = None
    transfer_id: str | None = None


@dataclass(frozen=True, slots=True)
class LockedBudget:
    """What a budget write reads with its row lock, in one statement: the policy, the period
    (its row and its account's totals, both locked too), and the reservation, resolution or
    journal row the write is keyed by, when asked for and found."""

    policy: BudgetPolicy
    period: PeriodRecord | None = None
    totals: tuple[int, int, int] = (0, 0, 0)  # credits_posted, debits_posted, debits_pending
    reservation: ReservationRecord | None = None
    resolution: Resolution | None = None
    entry: EntryRecord | None = None  # the keyed journal row, when asked for and found
    # False when the period's account changed between the statement's snapshot and its lock
    # (PostgreSQL): the rows read unlocked with it (a resolution) may then be stale.
    fresh: bool = True
