"""The conventions every operation of /openapi.json keeps: a written summary (unique), its
problem responses, the idempotency key on keyed writes and the cursor on paginated lists.

Writes that take no idempotency key are named below, each with why; a new write not in that
set, or a named one that changed, fails. Every list takes a cursor: there is no exemption."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from tests.http.support import TestClient

WRITES = ("post", "put", "patch")
# Writes keyed by the id they create or by their path (the same values again answer the same
# result, other values 409 already_exists), and actions that are idempotent by their nature.
UNKEYED_WRITES = {
    ("post", "/v1/tenants/{tid}/api-keys/{key_id}/revoke"),
    ("post", "/v1/tenants/{tid}/integrity/repair"),
    ("post", "/v1/tenants/{tid}/jobs/run"),
    ("post", "/v1/tenants/{tid}/budgets/{bid}/reservations/{ref}/release"),
    ("post", "/v1/tenants/{tid}/budgets/{bid}/reconcile"),
    ("post", "/v1/tenants/{tid}/reconcile"),
    ("post", "/v1/tenants/{tid}/points/integrity/fix"),
    ("post", "/v1/tenants/{tid}/points/{holder}/activate"),
    ("post", "/v1/tenants/{tid}/redemptions/confirm"),
    ("post", "/v1/tenants/{tid}/redemptions/{id}/cancel"),
    ("put", "/v1/tenants/{tid}/cashback/program"),
    ("put", "/v1/tenants/{tid}/cashback/accounts/{account}"),
    ("post", "/v1/tenants/{tid}/cashback/ledger/{account}/{cycle}/apply-to-debt"),
    ("put", "/v1/tenants/{tid}/debt/program"),
    ("put", "/v1/tenants/{tid}/cycles/settings"),
    ("post", "/v1/tenants/{tid}/cycles/refresh"),
    ("post", "/v1/tenants/{tid}/cycles/rebuild"),
    # Webhook endpoints, once added (POST /webhooks is keyed): changed in place, secrets
    # rotated and events redelivered on demand, each the same result when done twice.
    ("patch", "/v1/tenants/{tid}/webhooks/{eid}"),
    ("post", "/v1/tenants/{tid}/webhooks/{eid}/rotate-secret"),
    ("post", "/v1/tenants/{tid}/webhooks/{eid}/events/{event_id}/redeliver"),
    ("post", "/v1/tenants/{tid}/webhooks/{eid}/redeliver"),
}


# A list answer: its rows, the next page's cursor(s) and the owner or mode it was asked for.
LIST_FIELDS_MAX = 4


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _generated_summary(path: str, method: str, operation: dict[str, Any]) -> str:
    """The summary FastAPI makes from the function's name when none is written."""
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    name = operation["operationId"].removesuffix(suffix)
    return name.replace("_", " ").title()


def _body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    if "anyOf" in schema:  # an optional body
        schema = next((s for s in schema["anyOf"] if "$ref" in s), {})
    ref = schema.get("$ref", "").rsplit("/", 1)[-1]
    return document["components"]["schemas"].get(ref, {}) if ref else {}


def test_every_operation_has_a_written_summary_of_its_own(document: dict[str, Any]) -> None:
    summaries = Counter(op.get("summary") for _, _, op in _operations(document))
    for method, path, operation in _operations(document):
        summary = operation.get("summary")
        assert summary, (method, path)
        assert summary != _generated_summary(path, method, operation), (method, path)
        assert summaries[summary] == 1, (method, path, summary)


def test_every_operation_documents_its_problem_responses(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        codes = set(operation["responses"])
        if path.startswith("/v1/tenants/{tid}"):
            assert {"401", "403", "404"} <= codes, (method, path, codes)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in codes, (method, path, codes)
        if method in WRITES and (method, path) not in UNKEYED_WRITES:
            assert "409" in codes, (method, path, codes)


def test_every_keyed_write_takes_the_idempotency_key_header_and_body_field(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        if method not in WRITES:
            continue
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        keyed = "Idempotency-Key" in headers
        assert keyed != ((method, path) in UNKEYED_WRITES), (method, path)
        body = _body_schema(document, operation).get("properties", {})
        if keyed and body and "transfers" not in body:  # a batch's items carry their keys
            assert "idempotency_key" in body or "reference" in body, (method, path)


def test_every_paginated_list_takes_a_cursor_and_answers_next_cursor(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    seen: set[str] = set()
    for method, path, operation in _operations(document):
        if method != "get":
            continue
        content = operation["responses"]["200"].get("content", {}).get("application/json", {})
        ref = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
        properties = schemas.get(ref, {}).get("properties", {}) if ref else {}
        # A collection: an array of objects beside at most its paging and owner fields.
        arrays = [p for p in properties.values() if "$ref" in p.get("items", {})]
        is_list = len(arrays) == 1 and len(properties) <= LIST_FIELDS_MAX
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        paged = bool(names & {"cursor", "after"}) and "next_cursor" in properties
        if is_list:
            assert paged, (path, names, sorted(properties))
            seen.add(path)
    # The lists of issue 13 that were answered whole or by `limit` alone are among them.
    assert seen >= {
        "/v1/tenants/{tid}/points/integrity",
        "/v1/tenants/{tid}/points/assets",
        "/v1/tenants/{tid}/points/reasons",
        "/v1/tenants/{tid}/points/{holder}/expiring",
        "/v1/tenants/{tid}/jobs/failures",
        "/v1/tenants/{tid}/reports/budgets",
    }
