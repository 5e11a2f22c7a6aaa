"""Cashback: the programme, account settings, accruals, reversals and applying cashback to debt.

The public face of the cashback use cases, which live in ``services.cycles.cashback_programme``
(programme and account settings) and ``services.cycles.cashback_movements`` (movements: caps
and overrides). Protects (there): concurrent accruals of one cycle never pass its cap unless
an override; a movement id is an idempotency key; a refund takes back exactly what its accrual
credited, once.
"""

from __future__ import annotations

from rewardledger.services.cycles.cashback_movements import (
    TRANSFER_PREFIX,
    Accrual,
    Reversal,
    accrue,
    apply_to_debt,
    apply_to_debt_id,
    reversal_id,
    reverse,
)
from rewardledger.services.cycles.cashback_programme import (
    EXPENSE_ACCOUNT,
    get_program,
    set_account,
    set_program,
)
from rewardledger.services.cycles.views import MovementResult

__all__ = [
    "EXPENSE_ACCOUNT",
    "TRANSFER_PREFIX",
    "Accrual",
    "MovementResult",
    "Reversal",
    "accrue",
    "apply_to_debt",
    "apply_to_debt_id",
    "get_program",
    "reversal_id",
    "reverse",
    "set_account",
    "set_program",
]
