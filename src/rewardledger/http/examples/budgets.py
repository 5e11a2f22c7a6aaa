"""Examples of the budgets' shapes (``http.schemas_budgets``): the demo's spring campaign, a
monthly USD budget with a hard cap of 1000.00 and a soft cap of 800.00, funded in full, with
820.00 charged (so past its soft cap, with its alerts) and 60.00 still reserved."""

from __future__ import annotations

from typing import Any

from rewardledger.domain.budgets import policy
from rewardledger.domain.paging import encode_cursor
from rewardledger.http.examples.values import (
    AT,
    BUDGET,
    BUDGET_NAME,
    CASH,
    CREATED_AT,
    CURSOR,
    CYCLE,
    HARD_CAP,
    KEY_ID,
    LATER,
    MEMBER,
    PERIOD_END,
    PERIOD_START,
    SOFT_CAP,
    TENANT,
    THRESHOLDS_PERCENT,
    ZERO_CASH,
)

Json = dict[str, Any]

_PERIOD_ACCOUNT = policy.period_account(BUDGET, CYCLE)
_ISSUED_ACCOUNT = policy.issued_account(CASH)
_RESERVATION = "issuance-2026-03-0042"
_RESERVATION_ID = policy.reserve_id(BUDGET, _RESERVATION)
_OF_BUDGET: Json = {"budget_id": BUDGET, "period": CYCLE}

BUDGET_CREATE: Json = {
    "id": BUDGET,
    "name": BUDGET_NAME,
    "currency": CASH,
    "hard_cap": HARD_CAP,
    "soft_cap": SOFT_CAP,
    "alert_thresholds": THRESHOLDS_PERCENT,
    "period": "monthly",
    "rollover": False,
    "member_cap_amount": "25.00",
    "member_cap_count": 3,
    "funding": "prefunded",
}
BUDGET_PUBLIC: Json = {**BUDGET_CREATE, "created_at": CREATED_AT}
BUDGET_LIST: Json = {"budgets": [BUDGET_PUBLIC], "next_cursor": CURSOR, "next_after": CURSOR}

TOPUP_CREATE: Json = {"amount": HARD_CAP, "currency": CASH, "idempotency_key": "spring-topup-1"}
TOPUP_PUBLIC: Json = {
    **_OF_BUDGET,
    "transfer_id": policy.fund_id(BUDGET, "spring-topup-1"),
    "amount": HARD_CAP,
    "currency": CASH,
    "replayed": False,
}
RESERVATION_CREATE: Json = {
    "reference": _RESERVATION,
    "amount": "60.00",
    "currency": CASH,
    "member_key": MEMBER,
    "timeout_seconds": 3600,
}
RESERVATION_PUBLIC: Json = {
    **_OF_BUDGET,
    "reference": _RESERVATION,
    "transfer_id": _RESERVATION_ID,
    "member_key": MEMBER,
    "amount": "60.00",
    "state": "pending",
    "charged_amount": None,
    "resolved_by": None,
    "expires_at": "2026-03-14T15:30:00Z",
    "created_at": AT,
    "replayed": False,
}
CHARGE_CREATE: Json = {"amount": "45.00", "idempotency_key": f"{_RESERVATION}-charge"}
RELEASE_CREATE: Json = {}
CORRECTION_CREATE: Json = {
    "reverses": policy.charge_id(BUDGET, f"{_RESERVATION}-charge"),
    "amount": "5.00",
    "note": "Voucher returned unused at the till",
    "idempotency_key": f"{_RESERVATION}-correction",
}
CORRECTION_PUBLIC: Json = {
    **_OF_BUDGET,
    "transfer_id": policy.correction_id(BUDGET, f"{_RESERVATION}-correction"),
    "reverses_id": CORRECTION_CREATE["reverses"],
    "amount": "5.00",
    "note": CORRECTION_CREATE["note"],
    "actor": f"api-key:{KEY_ID}",
    "created_at": LATER,
    "replayed": False,
}
UTILIZATION: Json = {
    **_OF_BUDGET,
    "currency": CASH,
    "hard_cap": HARD_CAP,
    "soft_cap": SOFT_CAP,
    "funded": HARD_CAP,
    "rolled_in": ZERO_CASH,
    "rolled_out": ZERO_CASH,
    "reversed": ZERO_CASH,
    "reserved": "60.00",
    "charged": "820.00",
    "released": ZERO_CASH,
    "used": "880.00",
    "balance": "180.00",
    "available": "120.00",
    "remaining": "120.00",
    "utilization_percent": "88.00",
    "soft_cap_exceeded": True,
    "hard_cap_approaching": False,
    "funding": "prefunded",
    "seed_balance": "880.00",
    "seed_available": "120.00",
    "total_funded": HARD_CAP,
    "total_reserved": "880.00",
    "total_charged": "820.00",
    "total_released": ZERO_CASH,
}
_TOTALS: Json = {
    "fund": HARD_CAP,
    "reserve": "880.00",
    "charge": "820.00",
    "release": ZERO_CASH,
    "reverse": ZERO_CASH,
    "rollover": ZERO_CASH,
}
BUDGET_REPORT: Json = {
    "budget_id": BUDGET,
    "name": BUDGET_NAME,
    "currency": CASH,
    "window_start": PERIOD_START,
    "window_end": PERIOD_END,
    "totals": _TOTALS,
    "issuance_count": 3,
    "redemption_count": 2,
    "utilization": UTILIZATION,
}
TENANT_REPORT: Json = {"reports": [BUDGET_REPORT], "next_cursor": encode_cursor(BUDGET)}
ENTRY: Json = {
    "transfer_id": _RESERVATION_ID,
    "entry_type": "reserve",
    "amount": "60.00",
    "period": CYCLE,
    "debit_account_id": _PERIOD_ACCOUNT,
    "credit_account_id": _ISSUED_ACCOUNT,
    "pending_id": None,
    "effective_at": AT,
    "created_at": AT,
    "metadata": {"budget_id": BUDGET, "period": CYCLE, "reference": _RESERVATION},
}
ENTRIES: Json = {"budget_id": BUDGET, "entries": [ENTRY], "next_cursor": CURSOR}
_ALERT_DETAILS: Json = {
    "used": "820.00",
    "hard_cap": HARD_CAP,
    "soft_cap": SOFT_CAP,
    "amount": "320.00",
    "percent": "82.00",
    "reference": "demo-iss-2",
}
ALERT: Json = {
    **_OF_BUDGET,
    "kind": "soft_cap_exceeded",
    "level": "warning",
    "threshold_percent": None,
    "details": _ALERT_DETAILS,
    "created_at": AT,
}
ALERTS: Json = {
    "alerts": [
        ALERT,
        {**ALERT, "kind": "hard_cap_approaching", "threshold_percent": 80},
    ],
    "next_cursor": None,
}
BUDGET_DISCREPANCY: Json = {
    "period": CYCLE,
    "figure": "charged",
    "materialized": "800.00",
    "journal": "820.00",
}
BUDGET_RECONCILIATION: Json = {
    "budget_id": BUDGET,
    "currency": CASH,
    "periods_checked": 1,
    "clean": False,
    "totals": _TOTALS,
    "counts": {"fund": 1, "reserve": 3, "charge": 2, "release": 0, "reverse": 0, "rollover": 0},
    "discrepancies": [BUDGET_DISCREPANCY],
}
TENANT_RECONCILIATION: Json = {
    "tenant_id": TENANT,
    "budgets_checked": 1,
    "budgets_clean": 0,
    "discrepancies_count": 1,
    "clean": False,
    "budgets": [BUDGET_RECONCILIATION],
}
RESET_CREATE: Json = {"rollover": True, "idempotency_key": "spring-reset-2026-04"}
RESET_ALL_CREATE: Json = {**RESET_CREATE, "period_type": "monthly"}
RESET_PUBLIC: Json = {
    "budget_id": BUDGET,
    "period": "2026-04",
    "previous_period": CYCLE,
    "rolled_in": "120.00",
    "reset_key": "spring-reset-2026-04",
    "replayed": False,
}
RESET_FAILURE: Json = {
    "budget_id": "summer-campaign",
    "code": "busy",
    "message": "The budget is busy; retry the request.",
}
RESET_SUMMARY: Json = {
    "period_type": "monthly",
    "budgets_reset": 1,
    "budgets_failed": 1,
    "results": [RESET_PUBLIC],
    "failures": [RESET_FAILURE],
}
RESET_SCHEDULE: Json = {
    "budget_id": BUDGET,
    "period_type": "monthly",
    "current_period": CYCLE,
    "period_now": CYCLE,
    "next_reset_at": PERIOD_END,
    "should_reset": False,
}
FIX_CREATE: Json = {
    "note": "Charged total tampered by a manual UPDATE; rebuilt from the journal",
    "idempotency_key": "spring-fix-1",
}
FIXED_FIGURE: Json = {"period": CYCLE, "figure": "charged", "before": "800.00", "after": "820.00"}
BUDGET_FIX: Json = {
    "budget_id": BUDGET,
    "fix_key": "spring-fix-1",
    "note": FIX_CREATE["note"],
    "actor": f"api-key:{KEY_ID}",
    "fixed": [FIXED_FIGURE],
    "remaining": [],
    "replayed": False,
}

# Pages of a budget's reservations and corrections (GET .../reservations, .../corrections).
RESERVATION_PAGE: Json = {
    "budget_id": BUDGET,
    "reservations": [RESERVATION_PUBLIC],
    "next_cursor": "WyJpc3N1ZS00MiJd",
}
CORRECTION_PAGE: Json = {
    "budget_id": BUDGET,
    "corrections": [CORRECTION_PUBLIC],
    "next_cursor": None,
}
