"""Debt: the programme and a person's debt movements (opening, charge, repayment, discount).

The public face of the debt use cases, which live in ``services.cycles.debt_movements``.
Protects (there): a movement id is an idempotency key; a cycle tag is the statement's, computed
in the tenant's zone with the programme's closing day (see docs/cycles.md).
"""

from __future__ import annotations

from rewardledger.services.cycles.debt_movements import (
    CONTROL_ACCOUNT,
    DEBT_ACCOUNT_PREFIX,
    TRANSFER_PREFIX,
    DebtRequest,
    debt_account,
    ensure_debt_accounts,
    get_program,
    record,
    record_within,
    set_program,
)
from rewardledger.services.cycles.views import DebtResult

__all__ = [
    "CONTROL_ACCOUNT",
    "DEBT_ACCOUNT_PREFIX",
    "TRANSFER_PREFIX",
    "DebtRequest",
    "DebtResult",
    "debt_account",
    "ensure_debt_accounts",
    "get_program",
    "record",
    "record_within",
    "set_program",
]
