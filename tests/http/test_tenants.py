"""POST /v1/tenants (the platform admin token) and POST /v1/tenants/{tid}/api-keys (admin)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from rewardledger.config import Settings
from rewardledger.domain.errors import NotFound
from rewardledger.http.app import create_app
from rewardledger.ledger.engine import Ledger
from rewardledger.services import api_keys
from rewardledger.services.api_keys import TenantCreated
from tests.http.support import ADMIN_TOKEN, Api, TestClient, assert_problem

PLATFORM = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def new_tenant_id() -> str:
    return f"h{secrets.token_hex(5)}"


def test_the_platform_admin_creates_a_tenant_with_its_first_admin_key(
    client: TestClient, ledger: Ledger
) -> None:
    tenant = new_tenant_id()
    body = {"id": tenant, "name": "Acme Rewards", "timezone": "Africa/Harare"}
    response = client.post("/v1/tenants", json=body, headers=PLATFORM)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["tenant"] | {"created_at": None} == body | {"created_at": None}
    assert created["api_key"]["role"] == "admin"
    assert created["api_key"]["key"].startswith("rlk_")
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    asset = client.post(
        f"/v1/tenants/{tenant}/assets", json={"code": "USD", "scale": 2}, headers=key
    )
    assert asset.status_code == 201, asset.text
    assert ledger.get_asset(tenant, "USD").scale == 2


def test_creating_tenants_over_http_is_disabled_without_an_admin_token(
    ledger: Ledger,
) -> None:
    tenant = new_tenant_id()
    with TestClient(create_app(ledger, Settings(admin_token=None))) as client:
        response = client.post("/v1/tenants", json={"id": tenant}, headers=PLATFORM)
    problem = assert_problem(response, 403, "forbidden")
    assert "REWARDLEDGER_ADMIN_TOKEN" in problem["detail"]
    with pytest.raises(NotFound):
        ledger.get_tenant(tenant)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-the-admin-token", f"Basic {ADMIN_TOKEN}", f"Bearer {ADMIN_TOKEN}x"],
)
def test_creating_a_tenant_needs_the_admin_token(
    client: TestClient, ledger: Ledger, authorization: str | None
) -> None:
    tenant = new_tenant_id()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post("/v1/tenants", json={"id": tenant}, headers=headers)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(NotFound):
        ledger.get_tenant(tenant)


def test_a_tenant_api_key_is_not_the_platform_admin_token(api: Api) -> None:
    response = api.client.post(
        "/v1/tenants", json={"id": new_tenant_id()}, headers=api.auth("admin")
    )
    assert_problem(response, 401, "unauthorized")


def test_a_tenant_with_other_values_already_exists(client: TestClient, tenant_id: str) -> None:
    response = client.post(
        "/v1/tenants", json={"id": tenant_id, "timezone": "UTC"}, headers=PLATFORM
    )
    problem = assert_problem(response, 409, "already_exists")
    assert problem["fields"] == ["timezone"]


def test_a_tenant_created_again_with_the_same_values_says_where_keys_are_issued(
    client: TestClient,
) -> None:
    body = {"id": new_tenant_id(), "name": "Acme Rewards", "timezone": "UTC"}
    first = client.post("/v1/tenants", json=body, headers=PLATFORM)
    assert first.status_code == 201, first.text
    again = client.post("/v1/tenants", json=body, headers=PLATFORM)
    problem = assert_problem(again, 409, "already_exists")
    assert problem["fields"] == []
    assert "send the existing" not in problem["detail"]
    assert f"POST /v1/tenants/{body['id']}/api-keys" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "Not A Valid Id"}, "tenant_id"),
        ({"id": "ok", "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"id": 42}, "id"),
        ({"id": "ok", "owner": "me"}, "owner"),
        ({}, "id"),
    ],
)
def test_bad_tenant_values_are_validation_errors(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/tenants", json=body, headers=PLATFORM)
    problem = assert_problem(response, 422, "validation_error")
    assert field in problem["detail"]


def test_an_admin_issues_a_key_that_acts_with_its_role(api: Api, ledger: Ledger) -> None:
    response = api.post("/api-keys", {"role": "reader", "label": "dashboard"}, role="admin")
    assert response.status_code == 201, response.text
    issued = response.json()
    assert (issued["tenant_id"], issued["role"], issued["label"]) == (
        api.tenant_id,
        "reader",
        "dashboard",
    )
    reader = {"Authorization": f"Bearer {issued['key']}"}
    account = api.client.get(api.url("/accounts/wallet:0:USD"), headers=reader)
    assert account.status_code == 200
    write = api.client.post(
        api.url("/accounts"), json={"id": "by-reader", "asset": "USD"}, headers=reader
    )
    assert_problem(write, 403, "forbidden")


@pytest.mark.parametrize("role", ["writer", "reader", "merchant"])
def test_only_an_admin_issues_keys(api: Api, role: str) -> None:
    problem = assert_problem(api.post("/api-keys", {"role": "admin"}, role=role), 403, "forbidden")
    assert problem["needs"] == "admin"


@pytest.mark.parametrize("body", [{"role": "owner"}, {"role": 1}, {"role": "reader", "x": 1}])
def test_a_key_request_must_name_a_known_role(api: Api, body: dict[str, object]) -> None:
    assert_problem(api.post("/api-keys", body, role="admin"), 422, "validation_error")


def _keys_of(client: TestClient, tenant: str, key: str) -> list[dict[str, object]]:
    listed = client.get(
        f"/v1/tenants/{tenant}/api-keys", headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.status_code == 200, listed.text
    return listed.json()["keys"]  # type: ignore[no-any-return]


def test_a_retried_creation_under_one_idempotency_key_creates_one_tenant_and_one_key(
    client: TestClient,
) -> None:
    tenant = new_tenant_id()
    body = {"id": tenant, "name": "Acme Rewards", "timezone": "UTC"}
    keyed = PLATFORM | {"Idempotency-Key": f"create-{tenant}"}
    first = client.post("/v1/tenants", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    made = first.json()
    assert made["api_key"]["key"].startswith("rlk_")
    assert made["api_key"]["note"] is None
    again = client.post("/v1/tenants", json=body, headers=keyed)
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    replayed = again.json()
    assert replayed["tenant"] == made["tenant"]
    assert replayed["api_key"]["key_id"] == made["api_key"]["key_id"]
    assert replayed["api_key"]["role"] == "admin"
    assert replayed["api_key"]["key"] is None
    assert f"POST /v1/tenants/{tenant}/api-keys" in replayed["api_key"]["note"]
    assert f"rewardledger apikey create {tenant} --role admin" in replayed["api_key"]["note"]
    keys = _keys_of(client, tenant, made["api_key"]["key"])
    assert [k["key_id"] for k in keys] == [made["api_key"]["key_id"]]


def test_the_same_idempotency_key_with_other_tenant_values_is_a_conflict(
    client: TestClient,
) -> None:
    tenant = new_tenant_id()
    keyed = PLATFORM | {"Idempotency-Key": f"create-{tenant}"}
    first = client.post("/v1/tenants", json={"id": tenant, "timezone": "UTC"}, headers=keyed)
    assert first.status_code == 201, first.text
    other = client.post(
        "/v1/tenants", json={"id": tenant, "timezone": "Africa/Harare"}, headers=keyed
    )
    problem = assert_problem(other, 409, "idempotency_conflict")
    assert problem["fields"] == ["timezone"]


def test_the_body_field_idempotency_key_is_the_header_s_equivalent_for_tenants(
    client: TestClient,
) -> None:
    tenant = new_tenant_id()
    body = {"id": tenant, "idempotency_key": f"create-{tenant}"}
    first = client.post("/v1/tenants", json=body, headers=PLATFORM)
    assert first.status_code == 201, first.text
    header = PLATFORM | {"Idempotency-Key": f"create-{tenant}"}
    again = client.post("/v1/tenants", json={"id": tenant}, headers=header)
    assert again.status_code == 200, again.text
    assert again.json()["api_key"]["key_id"] == first.json()["api_key"]["key_id"]
    both = client.post(
        "/v1/tenants", json=body, headers=PLATFORM | {"Idempotency-Key": "something-else"}
    )
    problem = assert_problem(both, 422, "validation_error")
    assert "something-else" in problem["detail"]


def test_another_idempotency_key_for_an_existing_tenant_is_already_exists(
    client: TestClient,
) -> None:
    tenant = new_tenant_id()
    first = client.post("/v1/tenants", json={"id": tenant}, headers=PLATFORM)
    assert first.status_code == 201, first.text
    keyed = PLATFORM | {"Idempotency-Key": f"late-{tenant}"}
    again = client.post("/v1/tenants", json={"id": tenant}, headers=keyed)
    problem = assert_problem(again, 409, "already_exists")
    assert f"POST /v1/tenants/{tenant}/api-keys" in problem["detail"]
    other = client.post("/v1/tenants", json={"id": tenant, "timezone": "Asia/Tokyo"}, headers=keyed)
    assert assert_problem(other, 409, "already_exists")["fields"] == ["timezone"]
    assert len(_keys_of(client, tenant, first.json()["api_key"]["key"])) == 1


def test_a_tenant_left_without_a_key_gets_its_first_admin_key_under_an_idempotency_key(
    client: TestClient, ledger: Ledger
) -> None:
    """A creation that stopped after the tenant and before its key: the retry completes it."""
    tenant = new_tenant_id()
    ledger.create_tenant(tenant, name="Half made")
    plain = client.post("/v1/tenants", json={"id": tenant, "name": "Half made"}, headers=PLATFORM)
    assert_problem(plain, 409, "already_exists")
    keyed = PLATFORM | {"Idempotency-Key": f"create-{tenant}"}
    retried = client.post("/v1/tenants", json={"id": tenant, "name": "Half made"}, headers=keyed)
    assert retried.status_code == 201, retried.text
    key = retried.json()["api_key"]["key"]
    assert [k["role"] for k in _keys_of(client, tenant, key)] == ["admin"]


def test_concurrent_creations_under_one_idempotency_key_mint_one_key(ledger: Ledger) -> None:
    tenant = new_tenant_id()

    def create(_: int) -> TenantCreated:
        return api_keys.create_tenant(ledger, tenant, idempotency_key=f"create-{tenant}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(create, range(4)))
    assert len({m.key.stored.key_id for m in made}) == 1
    assert [m.key.key is not None for m in made].count(True) == 1
    assert len(ledger.store.list_api_keys(tenant, None, 10)) == 1
