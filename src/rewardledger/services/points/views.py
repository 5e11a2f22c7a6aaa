"""What the points service returns: movements, balances, accumulation rows, integrity lines,
import reports and redemptions (frozen values, except the report an import fills in).

Owns: the points service's result shapes, in the seed's vocabulary (``accum_type``, ``dtype``,
signed ``quantity``); the http schemas and the CLI print these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rewardledger.domain.money import Amount
from rewardledger.domain.points import RedemptionState
from rewardledger.ledger.results import RepairReport

DEFAULT_ASSET = "LUMIS"


@dataclass(frozen=True, slots=True)
class PointsMovement:
    """What an earn or a spend did: its row, and the lots it created or consumed."""

    id: str
    holder_id: str
    asset: str
    accum_type: str
    dtype: str
    quantity: Amount  # signed, as the seed's quantity
    pending: bool
    negative_allowed: bool
    lots: list[tuple[str, Amount]]
    replayed: bool


@dataclass(frozen=True, slots=True)
class PointsBalance:
    holder_id: str
    asset: str
    balance: Amount  # posted: what the seed's fact_balance_points.balance holds
    available: Amount
    pending: Amount
    latest_update: datetime | None
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class Accumulation:
    """One row in the seed's ``fact_accumulations`` shape."""

    id: str
    user_id: str
    accum_type: str
    dtype: str | None
    quantity: Amount
    balance: Amount
    date: datetime
    redemption_id: str | None
    negative_allowed: bool
    seq: int


@dataclass(frozen=True, slots=True)
class AccumulationPage:
    holder_id: str
    rows: list[Accumulation]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class HolderIntegrity:
    """One holder's line of the seed's ``v_ledger_summary``."""

    user_id: str
    asset: str
    earned: Amount
    spent: Amount
    expired: Amount
    balance: Amount  # materialized
    ledger_balance: Amount  # sum of the rows
    lots_balance: Amount  # sum of the active lots' remainders
    rows: int

    @property
    def integrity_status(self) -> str:
        return "OK" if self.balance == self.ledger_balance == self.lots_balance else "MISMATCH"


@dataclass(frozen=True, slots=True)
class FixReport:
    repair: RepairReport
    still_mismatched: list[HolderIntegrity]


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    message: str


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    bad_rows: int = 0
    bad: list[BadRow] = field(default_factory=list)
    batches_skipped: int = 0


@dataclass(frozen=True, slots=True)
class Redemption:
    redemption_id: str
    code: str
    holder_id: str
    asset: str
    offer_id: str
    cost: Amount
    state: RedemptionState
    created_at: datetime
    expires_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    refunded: Amount
    forfeited: Amount
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class RedemptionPage:
    """Redemptions by id; ``next_cursor`` continues after the last, None on the last page."""

    redemptions: list[Redemption]
    next_cursor: str | None
