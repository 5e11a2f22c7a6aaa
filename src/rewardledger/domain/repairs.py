"""Repairs: what a finished integrity repair records of itself.

Owns: the closing figures of a repair, written to its row in the one transaction that also
writes its ``integrity.repaired`` event, so a repair is either finished with its figures and
announced, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RepairClosing:
    """When the repair finished, how many accounts it checked and how many values it rebuilt."""

    finished_at: datetime
    accounts_checked: int
    changes_count: int
