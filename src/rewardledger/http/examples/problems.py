"""Examples of problem answers (``http.problems``): the detail, and the context fields beside
it, that an error of each common code gives, as the API words them for the demo tenant. A code
not named here shows its title as its detail."""

from __future__ import annotations

from typing import Any

from rewardledger.http.examples.values import BUDGET, HARD_CAP, ORDER, POINTS, WALLET

Json = dict[str, Any]

_NOT_A_NUMBER = (
    'amount: must be a decimal string such as "12.50", not a JSON number: put it in quotes, '
    "so that no digit is lost to floating point on the way."
)

PROBLEM_DETAILS: dict[str, Json] = {
    "validation_error": {
        "detail": _NOT_A_NUMBER,
        "errors": [{"field": "amount", "message": _NOT_A_NUMBER}],
    },
    "unauthorized": {
        "detail": "Send an API key of this tenant as 'Authorization: Bearer rlk_...'. "
        "`rewardledger apikey create TENANT --role ROLE` issues one.",
    },
    "forbidden": {
        "detail": "A reader key cannot do this; use a key of role admin or writer (an admin "
        "issues one at POST /api-keys).",
        "role": "reader",
        "needs": "write",
    },
    "not_found": {
        "detail": f"No account {WALLET!r} exists.",
        "resource": "account",
        "id": WALLET,
    },
    "idempotency_conflict": {
        "detail": f"The id {ORDER!r} was already used for a request with a different amount. "
        "Resend the original request to get its result, or use a new id for a new request.",
        "id": ORDER,
        "fields": ["amount"],
    },
    "insufficient_funds": {
        "detail": f"Account {WALLET!r} has 450 {POINTS} available and cannot be debited 500; "
        "it may not go below zero.",
        "account_id": WALLET,
        "available": "450",
        "amount": "500",
        "replayed": False,
    },
    "hard_cap_exceeded": {
        "detail": f"Reserving 500.00 would bring budget {BUDGET!r} to 1380.00, above its hard "
        f"cap of {HARD_CAP} for this period.",
        "budget_id": BUDGET,
        "amount": "500.00",
        "used": "880.00",
        "hard_cap": HARD_CAP,
    },
}
