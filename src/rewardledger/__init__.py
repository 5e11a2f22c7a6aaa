"""rewardledger: a double-entry ledger for loyalty and rewards programmes.

The embedded API in one import::

    from rewardledger import Ledger, TransferRequest

    with Ledger.open("sqlite:///loyalty.db") as ledger:
        ...
"""

from __future__ import annotations

from rewardledger.bootstrap import Ledger
from rewardledger.domain.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    NotFound,
    NotPending,
    Rejection,
    ValidationError,
)
from rewardledger.domain.money import Amount
from rewardledger.domain.transfers import (
    PostPending,
    Transfer,
    TransferRequest,
    TransferState,
    VoidPending,
)
from rewardledger.ledger.results import TransferResult

__all__ = [
    "Amount",
    "IdempotencyConflict",
    "InsufficientFunds",
    "Ledger",
    "LedgerError",
    "NotFound",
    "NotPending",
    "PostPending",
    "Rejection",
    "Transfer",
    "TransferRequest",
    "TransferResult",
    "TransferState",
    "ValidationError",
    "VoidPending",
]
