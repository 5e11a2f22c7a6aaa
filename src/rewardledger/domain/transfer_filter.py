"""Which accepted transfers a list of them reads (``ledger.lists`` asks, storage answers).

Owns: ``TransferFilter``, the filters of ``GET /transfers`` once checked, passed to the store as
one value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TransferFilter:
    """The transfers touching ``account`` (as debit or credit), of ``kind``, created in
    [since, until); each filter only when given."""

    account: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
