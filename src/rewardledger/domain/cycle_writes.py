"""What a cycle movement's combined write hands storage, beside the movement itself.

Owns: the values that the cycle services pass to ``CycleStore``'s one-statement writes (the
accounts a write opens when missing, an accrual's pair lock, a reversal), so the port and its
implementation share one definition instead of each spelling out the same long signature.
Protects: nothing of its own; the writes' rules live in ``storage.cycles.writes`` and
``storage.cycles.accruals``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MissingAccounts:
    """A holder's accounts that a movement's write opens unless they exist, in ``currency``,
    each with its ``account.created`` event."""

    account_ids: Sequence[str]
    currency: str
    managed_by: str | None


@dataclass(frozen=True, slots=True)
class AccrualLock:
    """What locking an accrual's (account, cycle) pair takes: the accrual's id (nothing is
    locked when it is stored already: a replay), the pair, and the member's account to open
    if it is missing."""

    movement_id: str
    account_id: str
    cycle_tag: str
    account: MissingAccounts
    now: datetime


@dataclass(frozen=True, slots=True)
class ReversalWrite:
    """A reversal to store: its derived id, the accrual it reverses, the transfer that takes
    the credited cashback back, its pair's dirty-mark token, and when it occurred and is
    recorded."""

    reversal_id: str
    reverses_id: str
    transfer_id: str
    token: str
    occurred_at: datetime
    recorded_at: datetime
