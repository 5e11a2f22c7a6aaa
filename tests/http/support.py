"""Helpers for the HTTP API tests: a client bound to one tenant, and a snapshot of its state."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient

from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.ledger.engine import Ledger

__all__ = ["ADMIN_TOKEN", "Api", "TestClient", "assert_problem", "snapshot", "transfer_body"]

ADMIN_TOKEN = "platform-admin-token-used-by-tests"
PROBLEM_JSON = "application/problem+json"


@dataclass
class Api:
    """A test client speaking to one tenant, with a key of each role."""

    client: TestClient
    tenant_id: str
    keys: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"/v1/tenants/{self.tenant_id}{path}"

    def auth(self, role: str, headers: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **(headers or {})}

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        role: str = "writer",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """POST ``body`` as JSON (ASCII-escaped, so any Python string can be sent), or ``content``
        as it is; with neither, no body at all."""
        all_headers = self.auth(role, headers)
        if content is None and body is not None:
            content = json.dumps(body).encode()
            all_headers = {"content-type": "application/json", **all_headers}
        return self.client.post(self.url(path), content=content, headers=all_headers)

    def get(
        self, path: str, *, role: str = "reader", params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        return self.client.get(self.url(path), params=params, headers=self.auth(role))


def transfer_body(
    debit: str, credit: str, amount: Any, *, ref: str | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "debit_account_id": debit,
        "credit_account_id": credit,
        "asset": "USD",
        "amount": amount,
        **fields,
    }
    if ref is not None:
        body["ref"] = ref
    return body


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"].endswith(code)
    assert problem["title"]
    assert problem["detail"]
    return problem


def snapshot(ledger: Ledger, tenant_id: str, account_ids: Iterable[str]) -> dict[str, Any]:
    """Every balance and every history entry of these accounts, and the tenant's integrity."""
    state: dict[str, Any] = {}
    for account_id in account_ids:
        balance = ledger.balance(tenant_id, account_id)
        history = ledger.history(tenant_id, account_id, limit=PAGE_SIZE_MAX)
        state[account_id] = (
            str(balance.posted),
            str(balance.available),
            str(balance.pending_debits),
            str(balance.pending_credits),
            [(entry.seq, entry.transfer.id) for entry in history.entries],
        )
    state["integrity_ok"] = ledger.verify(tenant_id).ok
    return state
