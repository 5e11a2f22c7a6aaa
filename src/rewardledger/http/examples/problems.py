"""Examples of problem answers (``http.problems``): the detail, and the context fields beside
it, that an error of each common code gives. A code not named here shows its title as detail."""

from __future__ import annotations

from typing import Any

from rewardledger.http.examples.values import BUDGET, HARD_CAP, ORDER, WALLET

Json = dict[str, Any]

PROBLEM_DETAILS: dict[str, Json] = {
    "validation_error": {
        "detail": "amount: must be a decimal string such as '12.50', not a number.",
        "errors": [{"field": "amount", "message": "must be a decimal string"}],
    },
    "unauthorized": {
        "detail": "Send an API key of this tenant as 'Authorization: Bearer rlk_...'.",
    },
    "forbidden": {"detail": "A reader key may not do this; use a writer or admin key."},
    "not_found": {
        "detail": f"No account {WALLET!r} exists.",
        "resource": "account",
        "id": WALLET,
    },
    "idempotency_conflict": {
        "detail": f"The id {ORDER!r} was already used for a request with a different amount. "
        "Resend the original request to get its result, or use a new id for a new request.",
        "id": ORDER,
    },
    "insufficient_funds": {
        "detail": f"{WALLET} has 450 available; the transfer needs 500.",
        "account_id": WALLET,
    },
    "hard_cap_exceeded": {
        "detail": f"Budget {BUDGET!r} would pass its hard cap of {HARD_CAP} USD.",
        "budget_id": BUDGET,
    },
}
