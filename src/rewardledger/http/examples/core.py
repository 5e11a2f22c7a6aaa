"""Examples of the core ledger's shapes: tenants, keys, assets, accounts, transfers, history
and the integrity reports (``http.schemas``, ``schemas_reports``, ``schemas_keys``)."""

from __future__ import annotations

from typing import Any

from rewardledger.http.examples.values import (
    AT,
    CASH,
    CASH_WALLET,
    CREATED_AT,
    FUNDING,
    ISSUANCE,
    KEY_ID,
    LATER,
    LOCAL_AT,
    ORDER,
    POINTS,
    REDEMPTIONS,
    TENANT,
    TENANT_NAME,
    TIMEZONE,
    WALLET,
)

Json = dict[str, Any]

# Tenants and keys ------------------------------------------------------------------------------

_TENANT_VALUES: Json = {"id": TENANT, "name": TENANT_NAME, "timezone": TIMEZONE}
TENANT_CREATE: Json = {**_TENANT_VALUES, "idempotency_key": "create-tenant-lumis"}
TENANT_PUBLIC: Json = {**_TENANT_VALUES, "created_at": CREATED_AT}
ADMIN_KEY: Json = {
    "key_id": KEY_ID,
    "role": "admin",
    "label": "first admin key",
    "created_at": CREATED_AT,
    "revoked_at": None,
    "expires_at": None,
    "last_used_at": None,
    "tenant_id": TENANT,
    "key": f"rlk_{KEY_ID}_Zk3q9XwP0bV7mT2rL8yC4nH6",
    "note": None,
}
TENANT_CREATED: Json = {"tenant": TENANT_PUBLIC, "api_key": ADMIN_KEY}
API_KEY_CREATE: Json = {
    "role": "merchant",
    "label": "coffee shop till",
    "idempotency_key": "issue-merchant-key-1",
}
API_KEY_INFO: Json = {
    "key_id": "8c41d07e2a9b5f13",
    "role": "merchant",
    "label": "coffee shop till",
    "created_at": CREATED_AT,
    "revoked_at": None,
    "expires_at": None,
    "last_used_at": AT,
}
API_KEY_ISSUED: Json = {
    **API_KEY_INFO,
    "last_used_at": None,
    "tenant_id": TENANT,
    "key": "rlk_8c41d07e2a9b5f13_Qm7Ty2Lp9Rw4Zx8Vb3Nc6Hd1",
    "note": None,
}
API_KEY_PAGE: Json = {"keys": [API_KEY_INFO], "next_cursor": None}
API_KEY_ROTATE: Json = {"overlap_seconds": 86400, "idempotency_key": "rotate-merchant-key-2026-03"}
API_KEY_ROTATED: Json = {
    "new": {
        **API_KEY_ISSUED,
        "key_id": "e52b9a0c7f3d1486",
        "key": "rlk_e52b9a0c7f3d1486_Hs5Kd8Wq2Xn7Pb4Lm9Tv3Rc6",
        "created_at": AT,
    },
    "old": {**API_KEY_INFO, "expires_at": "2026-03-15T14:30:00Z"},
}

# Assets and accounts ---------------------------------------------------------------------------

ASSET_CREATE: Json = {"code": POINTS, "scale": 0, "name": "Lumis points"}
ASSET_PUBLIC: Json = {**ASSET_CREATE, "created_at": CREATED_AT}
ACCOUNT_CREATE: Json = {
    "id": WALLET,
    "asset": POINTS,
    "no_negative": True,
    "metadata": {"member": "member-00000", "tier": "gold"},
}
BALANCES: Json = {
    "posted": "450",
    "available": "350",
    "pending_debits": "100",
    "pending_credits": "0",
}
ACCOUNT_PUBLIC: Json = {
    **ACCOUNT_CREATE,
    "balances": BALANCES,
    "entry_count": 3,
    "created_at": CREATED_AT,
    "updated_at": AT,
    "managed_by": None,
}
BALANCE_PUBLIC: Json = {
    "account_id": WALLET,
    "asset": POINTS,
    "at": None,
    **BALANCES,
}

# Transfers -------------------------------------------------------------------------------------

_CASHBACK_MOVE: Json = {
    "debit_account_id": FUNDING,
    "credit_account_id": CASH_WALLET,
    "asset": CASH,
    "amount": "12.50",
}
TRANSFER_CREATE: Json = {
    "idempotency_key": "order-7731-cashback",
    **_CASHBACK_MOVE,
    "kind": "cashback",
    "reason": "purchase",
    "metadata": {"order": "7731"},
}
TRANSFER_ITEM_CREATE: Json = TRANSFER_CREATE
TRANSFER_HOLD_CREATE: Json = {
    "idempotency_key": "redeem-member-00000-coffee",
    "debit_account_id": WALLET,
    "credit_account_id": REDEMPTIONS,
    "asset": POINTS,
    "amount": "100",
    "kind": "spend",
    "reason": "points",
    "pending": True,
    "timeout_seconds": 900,
    "effective_at": LOCAL_AT,
}
TRANSFER_BATCH_CREATE: Json = {
    "transfers": [
        TRANSFER_CREATE,
        {
            "idempotency_key": f"{ORDER}-earn",
            "debit_account_id": ISSUANCE,
            "credit_account_id": WALLET,
            "asset": POINTS,
            "amount": "125",
            "kind": "earn",
            "reason": "invoice",
        },
    ],
    "atomic": True,
}
POST_CREATE: Json = {"amount": "80", "metadata": {"till": "store-12"}}
VOID_CREATE: Json = {"metadata": {"why": "customer changed their mind"}}
TRANSFER_PUBLIC: Json = {
    "id": "order-7731-cashback",
    "phase": "single",
    "state": "posted",
    "resolved_by": None,
    "kind": "cashback",
    "reason": "purchase",
    **_CASHBACK_MOVE,
    "pending_id": None,
    "expires_at": None,
    "effective_at": AT,
    "created_at": AT,
    "cycle_tag": "2026-03",
    "metadata": {"order": "7731"},
    "debit_balance_after": "-412.50",
    "credit_balance_after": "37.50",
}
TRANSFER_RESULT: Json = {
    "index": 0,
    "id": "order-7731-cashback",
    "ok": True,
    "replayed": False,
    "transfer": TRANSFER_PUBLIC,
    "error": None,
}
TRANSFER_REFUSED: Json = {
    "index": 1,
    "id": f"{ORDER}-earn",
    "ok": False,
    "replayed": False,
    "transfer": None,
    "error": {"code": "insufficient_funds", "message": "Insufficient funds.", "account": WALLET},
}
TRANSFER_BATCH_PUBLIC: Json = {
    "atomic": False,
    "dry_run": False,
    "results": [TRANSFER_RESULT, TRANSFER_REFUSED],
}
HISTORY_ENTRY: Json = {
    "seq": 2,
    "side": "credit",
    "posted_change": "12.50",
    "pending_change": "0.00",
    "balance_after": "37.50",
    "transfer": TRANSFER_PUBLIC,
}
HISTORY_PUBLIC: Json = {"account_id": CASH_WALLET, "entries": [HISTORY_ENTRY], "next_cursor": "2"}

# Reports ---------------------------------------------------------------------------------------

DISCREPANCY: Json = {
    "check": "account_matches_journal",
    "subject": WALLET,
    "field": "credits_posted",
    "journal": "550",
    "materialized": "650",
}
INTEGRITY_REPORT: Json = {
    "tenant_id": TENANT,
    "checked_at": AT,
    "accounts_checked": 24,
    "ok": False,
    "discrepancy_count": 1,
    "discrepancies": [DISCREPANCY],
}
REPAIR_REPORT: Json = {
    "tenant_id": TENANT,
    "repair_id": "repair-20260314-1",
    "actor": f"api-key:{KEY_ID}",
    "started_at": AT,
    "finished_at": LATER,
    "accounts_checked": 24,
    "change_count": 1,
    "changes": [DISCREPANCY],
}
HEALTH: Json = {"status": "ok"}

# Pages of the tenant's accounts and transfers (GET /accounts, GET /transfers).
ACCOUNT_PAGE: Json = {"accounts": [ACCOUNT_PUBLIC], "next_cursor": "WyJ3YWxsZXQ6NyJd"}
TRANSFER_PAGE: Json = {
    "transfers": [TRANSFER_PUBLIC],
    "next_cursor": "WzE3NjQ2NTM0MDAwMDAwMDAsIm9yZGVyLTc3MzEiXQ",
}
