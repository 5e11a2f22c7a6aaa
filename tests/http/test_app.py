"""The application as a whole: health, docs, routing errors, the body limit, bugs, and the
factory uvicorn runs."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

import pytest

from rewardledger.config import Settings
from rewardledger.domain.limits import REQUEST_BODY_BYTES_MAX
from rewardledger.http.app import app_from_environment, create_app
from rewardledger.ledger.engine import Ledger
from tests.builders import Programme
from tests.http.support import (
    ADMIN_TOKEN,
    Api,
    TestClient,
    assert_problem,
    snapshot,
    transfer_body,
)

V1_PATHS = {
    ("POST", "/v1/tenants"),
    ("POST", "/v1/tenants/{tid}/api-keys"),
    ("GET", "/v1/tenants/{tid}/api-keys"),
    ("POST", "/v1/tenants/{tid}/api-keys/{key_id}/revoke"),
    ("POST", "/v1/tenants/{tid}/api-keys/{key_id}/rotate"),
    ("POST", "/v1/tenants/{tid}/assets"),
    ("POST", "/v1/tenants/{tid}/accounts"),
    ("GET", "/v1/tenants/{tid}/accounts"),
    ("GET", "/v1/tenants/{tid}/accounts/{aid}"),
    ("GET", "/v1/tenants/{tid}/accounts/{aid}/history"),
    ("GET", "/v1/tenants/{tid}/accounts/{aid}/balance"),
    ("POST", "/v1/tenants/{tid}/transfers"),
    ("POST", "/v1/tenants/{tid}/transfers/batch"),
    ("GET", "/v1/tenants/{tid}/transfers"),
    ("GET", "/v1/tenants/{tid}/transfers/{id}"),
    ("POST", "/v1/tenants/{tid}/transfers/{id}/post"),
    ("POST", "/v1/tenants/{tid}/transfers/{id}/void"),
    ("GET", "/v1/tenants/{tid}/integrity"),
    ("POST", "/v1/tenants/{tid}/integrity/repair"),
    ("POST", "/v1/tenants/{tid}/jobs/run"),
    ("GET", "/v1/tenants/{tid}/jobs/failures"),
    ("GET", "/v1/tenants/{tid}/events"),
    ("PUT", "/v1/tenants/{tid}/cashback/program"),
    ("PUT", "/v1/tenants/{tid}/cashback/accounts/{account}"),
    ("POST", "/v1/tenants/{tid}/cashback/movements"),
    ("GET", "/v1/tenants/{tid}/cashback/ledger"),
    ("GET", "/v1/tenants/{tid}/cashback/ledger/{account}/{cycle}"),
    ("POST", "/v1/tenants/{tid}/cashback/ledger/{account}/{cycle}/apply-to-debt"),
    ("PUT", "/v1/tenants/{tid}/debt/program"),
    ("POST", "/v1/tenants/{tid}/debt/movements"),
    ("GET", "/v1/tenants/{tid}/debt/ledger"),
    ("GET", "/v1/tenants/{tid}/debt/ledger/{person}/{cycle}"),
    ("GET", "/v1/tenants/{tid}/cycles/settings"),
    ("PUT", "/v1/tenants/{tid}/cycles/settings"),
    ("POST", "/v1/tenants/{tid}/cycles/refresh"),
    ("POST", "/v1/tenants/{tid}/cycles/rebuild"),
    ("POST", "/v1/tenants/{tid}/budgets"),
    ("GET", "/v1/tenants/{tid}/budgets"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}/reservations"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}/corrections"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/topup"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/reservations"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/reservations/{ref}/charge"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/reservations/{ref}/release"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/corrections"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}/utilization"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/reconcile"),
    ("POST", "/v1/tenants/{tid}/reconcile"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}/report"),
    ("GET", "/v1/tenants/{tid}/reports/budgets"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}/entries"),
    ("GET", "/v1/tenants/{tid}/budgets/{bid}/reset-schedule"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/reset"),
    ("POST", "/v1/tenants/{tid}/budgets/reset"),
    ("POST", "/v1/tenants/{tid}/budgets/{bid}/fix"),
    ("GET", "/v1/tenants/{tid}/alerts"),
    ("POST", "/v1/tenants/{tid}/points/{holder}/earn"),
    ("POST", "/v1/tenants/{tid}/points/{holder}/spend"),
    ("POST", "/v1/tenants/{tid}/points/{holder}/activate"),
    ("GET", "/v1/tenants/{tid}/points/{holder}"),
    ("GET", "/v1/tenants/{tid}/points/{holder}/accumulations"),
    ("GET", "/v1/tenants/{tid}/points/{holder}/expiring"),
    ("GET", "/v1/tenants/{tid}/points/summary"),
    ("GET", "/v1/tenants/{tid}/points/integrity"),
    ("POST", "/v1/tenants/{tid}/points/integrity/fix"),
    ("POST", "/v1/tenants/{tid}/points/configure"),
    ("GET", "/v1/tenants/{tid}/points/assets"),
    ("GET", "/v1/tenants/{tid}/points/assets/{asset}"),
    ("PUT", "/v1/tenants/{tid}/points/assets/{asset}"),
    ("GET", "/v1/tenants/{tid}/points/reasons"),
    ("POST", "/v1/tenants/{tid}/points/reasons"),
    ("GET", "/v1/tenants/{tid}/points/reasons/{direction}/{dtype}"),
    ("PUT", "/v1/tenants/{tid}/points/reasons/{direction}/{dtype}"),
    ("POST", "/v1/tenants/{tid}/redemptions"),
    ("GET", "/v1/tenants/{tid}/redemptions"),
    ("GET", "/v1/tenants/{tid}/redemptions/{id}"),
    ("GET", "/v1/tenants/{tid}/redemptions/by-code/{code}"),
    ("GET", "/v1/tenants/{tid}/redemptions/{id}/qr.png"),
    ("GET", "/v1/tenants/{tid}/redemptions/{id}/qr.svg"),
    ("POST", "/v1/tenants/{tid}/redemptions/confirm"),
    ("POST", "/v1/tenants/{tid}/redemptions/{id}/cancel"),
    ("POST", "/v1/tenants/{tid}/webhooks"),
    ("GET", "/v1/tenants/{tid}/webhooks"),
    ("GET", "/v1/tenants/{tid}/webhooks/{eid}"),
    ("PATCH", "/v1/tenants/{tid}/webhooks/{eid}"),
    ("DELETE", "/v1/tenants/{tid}/webhooks/{eid}"),
    ("POST", "/v1/tenants/{tid}/webhooks/{eid}/rotate-secret"),
    ("GET", "/v1/tenants/{tid}/webhooks/{eid}/deliveries"),
    ("POST", "/v1/tenants/{tid}/webhooks/{eid}/events/{event_id}/redeliver"),
    ("POST", "/v1/tenants/{tid}/webhooks/{eid}/redeliver"),
}


def test_healthz_answers_ok_without_a_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_the_openapi_document_lists_exactly_the_v1_paths(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    }
    assert listed == V1_PATHS
    errors = document["paths"]["/v1/tenants/{tid}/transfers"]["post"]["responses"]
    assert "application/problem+json" in errors["409"]["content"]
    assert client.get("/docs").status_code == 200


def test_an_unknown_path_is_a_not_found_problem(client: TestClient) -> None:
    problem = assert_problem(client.get("/v2/anything"), 404, "not_found")
    assert "/docs" in problem["detail"]


def test_a_method_a_path_does_not_take_is_a_method_not_allowed_problem(api: Api) -> None:
    response = api.client.delete(api.url("/accounts/wallet:0:USD"), headers=api.auth("admin"))
    problem = assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"
    assert "GET" in problem["detail"]


def test_a_405_lists_every_method_of_a_path_served_by_several_routes(api: Api) -> None:
    response = api.client.delete(api.url("/budgets"), headers=api.auth("admin"))
    problem = assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert problem["allowed"] == "GET, POST"


def test_an_unexpected_exception_is_a_logged_internal_error_problem(
    api: Api, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ledger, "get_account", broken)
    with caplog.at_level(logging.ERROR, logger="rewardledger.http.app"):
        problem = assert_problem(api.get("/accounts/wallet:0:USD"), 500, "internal_error")
    assert problem["incident"] in problem["detail"]
    assert "a bug" not in json.dumps(problem)  # the traceback stays in the log
    assert any(problem["incident"] in record.getMessage() for record in caplog.records)
    assert any("a bug" in (record.exc_text or "") for record in caplog.records)


def _padded_transfer(ref: str, size: int, shop: Programme) -> bytes:
    """A valid transfer body padded with trailing whitespace (valid JSON) to ``size`` bytes."""
    body = json.dumps(transfer_body(shop.wallets[0], shop.wallets[1], "1.00", ref=ref)).encode()
    return body + b" " * (size - len(body))


def test_a_body_of_exactly_the_limit_is_read(api: Api, shop: Programme) -> None:
    content = _padded_transfer("at-limit", REQUEST_BODY_BYTES_MAX, shop)
    response = api.post("/transfers", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text


def test_a_body_above_the_limit_is_refused_and_changes_nothing(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    before = snapshot(ledger, shop.tenant_id, shop.wallets)
    content = _padded_transfer("too-large", REQUEST_BODY_BYTES_MAX + 1, shop)
    response = api.post("/transfers", content=content, headers={"content-type": "application/json"})
    problem = assert_problem(response, 413, "payload_too_large")
    assert problem["limit_bytes"] == REQUEST_BODY_BYTES_MAX
    assert snapshot(ledger, shop.tenant_id, shop.wallets) == before
    assert ledger.store.get_transfer(shop.tenant_id, "too-large") is None


def test_a_chunked_body_is_cut_off_at_the_limit_without_a_content_length(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    content = _padded_transfer("chunked", REQUEST_BODY_BYTES_MAX + 1, shop)
    chunk_bytes = 1 << 20

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), chunk_bytes):
            yield content[start : start + chunk_bytes]

    response = api.client.post(
        api.url("/transfers"),
        content=chunks(),
        headers=api.auth("writer", {"content-type": "application/json"}),
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")
    assert ledger.store.get_transfer(shop.tenant_id, "chunked") is None


def test_create_app_leaves_the_ledger_open_for_its_owner(ledger: Ledger, tenant_id: str) -> None:
    with TestClient(create_app(ledger, Settings(admin_token=ADMIN_TOKEN))) as client:
        assert client.get("/healthz").status_code == 200
    assert ledger.get_tenant(tenant_id).id == tenant_id  # still usable after the app stopped


def test_the_app_from_the_environment_serves_its_database_and_closes_it(
    ledger: Ledger, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REWARDLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("REWARDLEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
    closed: list[Ledger] = []
    real_close = Ledger.close

    def recording_close(self: Ledger) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Ledger, "close", recording_close)
    app = app_from_environment()
    tenant = f"env{secrets.token_hex(4)}"
    with TestClient(app) as client:
        response = client.post(
            "/v1/tenants",
            json={"id": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 201, response.text
        served = app.state.ledger
        assert closed == []
    assert closed == [served]
    assert ledger.get_tenant(tenant).id == tenant


def test_the_app_from_the_environment_refuses_bad_settings_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REWARDLEDGER_DATABASE_URL", "mysql://nowhere/db")
    with pytest.raises(ValueError, match="REWARDLEDGER_DATABASE_URL"):
        app_from_environment()


def test_every_v1_operation_documents_the_problems_any_route_can_give(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    shared = {"401", "403", "404", "413", "422", "429", "503"}
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            missing = shared - set(operation["responses"])
            assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"


def test_path_and_body_ids_state_their_pattern_and_length(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    account = document["components"]["schemas"]["AccountCreate"]["properties"]["id"]
    assert account["pattern"].startswith("^")
    assert account["maxLength"] == 128
    history = document["paths"]["/v1/tenants/{tid}/accounts/{aid}/history"]["get"]
    by_name = {p["name"]: p["schema"] for p in history["parameters"]}
    assert by_name["aid"]["pattern"].startswith("^")
    assert by_name["aid"]["maxLength"] == 128
    assert by_name["tid"]["maxLength"] == 64
