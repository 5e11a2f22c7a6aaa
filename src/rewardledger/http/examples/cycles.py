"""Examples of the cashback and debt cycles' shapes (``http.schemas_cycles``), in the seeds'
``cashback_ledger`` and ``debt_ledger`` columns: the demo's USD programme (cashback from 50.00 of
spend, capped at 20.00 a cycle), member-00000 at the cap, and member-00011 with a debt partly
repaid (200.00 charged, 50.00 repaid)."""

from __future__ import annotations

from typing import Any

from rewardledger.http.examples.values import (
    AT,
    CASH,
    CURSOR,
    CYCLE,
    DEBTOR,
    DUE_AT,
    LATER,
    LOCAL_AT,
    MEMBER_AT_CAP,
    ORDER,
    ZERO_CASH,
)
from rewardledger.services import demo_programme
from rewardledger.services.cycles import cashback_movements, debt_movements

Json = dict[str, Any]

_CAP = demo_programme.CASHBACK_CAP
_MINIMUM_SPEND = demo_programme.CASHBACK_MINIMUM_SPEND

# Cashback ------------------------------------------------------------------------------------

CASHBACK_PROGRAM_CREATE: Json = {
    "currency": CASH,
    "minimum_spend": _MINIMUM_SPEND,
    "default_cap": _CAP,
    "grace_days": 3,
}
CASHBACK_PROGRAM: Json = CASHBACK_PROGRAM_CREATE
CASHBACK_ACCOUNT_CREATE: Json = {"default_cap": "30.00", "enrolled": True}
CASHBACK_ACCOUNT: Json = {"account_id": MEMBER_AT_CAP, **CASHBACK_ACCOUNT_CREATE}
CASHBACK_MOVEMENT_CREATE: Json = {
    "kind": "accrual",
    "idempotency_key": f"{ORDER}-cashback",
    "account_id": MEMBER_AT_CAP,
    "spend": "400.00",
    "cashback": "25.00",
    "currency": CASH,
    "occurred_at": LOCAL_AT,
    "override": False,
}
CASHBACK_MOVEMENT: Json = {
    "id": f"{ORDER}-cashback",
    "kind": "accrual",
    "account_id": MEMBER_AT_CAP,
    "cycle_tag": CYCLE,
    "spend": "400.00",
    "requested_cashback": "25.00",
    "cashback_amount": _CAP,
    "budget_cap": _CAP,
    "override": False,
    "reverses_id": None,
    "transfer_id": cashback_movements.TRANSFER_PREFIX + f"{ORDER}-cashback",
    "occurred_at": AT,
    "recorded_at": AT,
}
CASHBACK_LEDGER_ROW: Json = {
    "cashback_ledger_id": "e1093bda-e9f0-5ed6-a1c9-a8dd279aa30d",
    "account_id": MEMBER_AT_CAP,
    "cycle_tag": CYCLE,
    "total_spend": "400.00",
    "total_cashback": _CAP,
    "budget_cap": _CAP,
    "eligibility": "reached_cap",
    "remaining_budget": ZERO_CASH,
    "status": "open",
    "notes": None,
    "last_updated": LATER,
}
CASHBACK_LEDGER_PAGE: Json = {"rows": [CASHBACK_LEDGER_ROW], "next_cursor": CURSOR}
APPLY_TO_DEBT_CREATE: Json = {"person_id": MEMBER_AT_CAP, "debt_cycle_tag": CYCLE}

# Debt ----------------------------------------------------------------------------------------

DEBT_PROGRAM_CREATE: Json = {"currency": CASH, "closing_day": 31, "due_day": 15, "grace_days": 5}
DEBT_PROGRAM: Json = DEBT_PROGRAM_CREATE
DEBT_MOVEMENT_CREATE: Json = {
    "idempotency_key": "loan-00017-repay-3",
    "person_id": DEBTOR,
    "kind": "repayment",
    "amount": "50.00",
    "currency": CASH,
    "occurred_at": LOCAL_AT,
}
DEBT_MOVEMENT: Json = {
    "id": "loan-00017-repay-3",
    "person_id": DEBTOR,
    "kind": "repayment",
    "amount": "50.00",
    "cycle_tag": CYCLE,
    "due_at": None,
    "transfer_id": debt_movements.TRANSFER_PREFIX + "loan-00017-repay-3",
    "occurred_at": AT,
    "recorded_at": AT,
}
DEBT_LEDGER_ROW: Json = {
    "debt_ledger_id": "089cb46e-bae3-5701-832c-5f0e1d7a9b24",
    "person_id": DEBTOR,
    "cycle_tag": CYCLE,
    "initial_debt": ZERO_CASH,
    "new_debt": "200.00",
    "repayments": "50.00",
    "debt_discount": ZERO_CASH,
    "net_debt": "150.00",
    "status": "partial",
    "due_at": DUE_AT,
    "last_updated": LATER,
    "notes": None,
}
DEBT_LEDGER_PAGE: Json = {"rows": [DEBT_LEDGER_ROW], "next_cursor": CURSOR}

# Both ----------------------------------------------------------------------------------------

CYCLE_SETTINGS_CREATE: Json = {"refresh_mode": "job"}
CYCLE_SETTINGS: Json = CYCLE_SETTINGS_CREATE
CYCLE_RUN: Json = {"pairs": 2, "rows_changed": 2}
