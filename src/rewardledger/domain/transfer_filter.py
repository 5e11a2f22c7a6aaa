"""Which accepted transfers a list of them reads (``ledger.lists`` asks, storage answers).

Owns: ``TransferFilter``, the filters of ``GET /transfers`` once checked, passed to the store as
one value, and ``TransferPosition``, a transfer's place in the list's order (a page's keyset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

# (created_at, transfer_id): the list's order, newest first, is the reverse of this key's.
TransferPosition: TypeAlias = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class TransferFilter:
    """The transfers touching ``account`` (as debit or credit), of ``kind``, created in
    [since, until); each filter only when given."""

    account: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
