"""What the cycle services return: refresh reports, pages of ledger rows, movement results.

Owns: the frozen values handed to http and cli. Protects: a result says whether it is a
replay, so callers answer a replayed write as the first one was answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from rewardledger.domain.cycles import CashbackMovement, CashbackRow, DebtMovement, DebtRow

RowT = TypeVar("RowT", CashbackRow, DebtRow)


@dataclass(frozen=True, slots=True)
class RefreshReport:
    pairs: int
    rows_changed: int


@dataclass(frozen=True, slots=True)
class LedgerPage(Generic[RowT]):
    rows: list[tuple[RowT, datetime]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class MovementResult:
    movement: CashbackMovement
    replayed: bool


@dataclass(frozen=True, slots=True)
class DebtResult:
    movement: DebtMovement
    replayed: bool
