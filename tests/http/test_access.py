"""Who may do what: roles within a tenant, and invariant 8 between tenants.

Every tenant route is listed once in ``ROUTES`` with a well-formed request and the capability
it needs; a test checks the list against the app's routes, so a new route cannot be added
without being checked here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from rewardledger.config import Settings
from rewardledger.domain.access import CAPABILITIES, Role
from rewardledger.domain.errors import NotFound
from rewardledger.domain.limits import PAGE_SIZE_MAX
from rewardledger.domain.points import Direction, Reason
from rewardledger.domain.transfers import TransferRequest
from rewardledger.events import read_events, webhooks
from rewardledger.http.app import create_app
from rewardledger.ledger.engine import Ledger
from rewardledger.services import budgets, cashback, cycles, debt, points, redemptions
from rewardledger.services.access import issue_key
from tests.builders import Programme, fund, programme
from tests.conftest import wait_for_feed
from tests.http.support import Api, assert_problem, snapshot, transfer_body


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    path: str
    capability: str
    body: Any = None


SPARE_KEY_ID = "00000000000000aa"

# Requests that succeed when sent with the right key to a tenant set up by ``victim`` (or
# ``shop``): "hold-post" and "hold-void" are open holds, "paid" a posted transfer.
ROUTES = [
    Route("POST", "/api-keys", "/api-keys", "admin", {"role": "reader"}),
    Route("GET", "/api-keys", "/api-keys", "admin"),
    Route("GET", "/events", "/events", "read"),
    Route(
        "POST",
        "/webhooks",
        "/webhooks",
        "admin",
        {"url": "https://hooks.example.com/rewards", "event_types": ["*"]},
    ),
    Route("GET", "/webhooks", "/webhooks", "read"),
    Route("GET", "/webhooks/{eid}", "/webhooks/{KEPT}", "read"),
    Route("PATCH", "/webhooks/{eid}", "/webhooks/{KEPT}", "admin", {"description": "kept"}),
    Route("DELETE", "/webhooks/{eid}", "/webhooks/{GONE}", "admin"),
    Route("POST", "/webhooks/{eid}/rotate-secret", "/webhooks/{KEPT}/rotate-secret", "admin", {}),
    Route("GET", "/webhooks/{eid}/deliveries", "/webhooks/{KEPT}/deliveries", "read"),
    Route(
        "POST",
        "/webhooks/{eid}/events/{event_id}/redeliver",
        "/webhooks/{KEPT}/events/{EVENT}/redeliver",
        "admin",
    ),
    Route(
        "POST",
        "/webhooks/{eid}/redeliver",
        "/webhooks/{KEPT}/redeliver",
        "admin",
        {"since": "2020-01-01T00:00:00+00:00"},
    ),
    # The spare key (issued by the roles test) is rotated, then revoked.
    Route(
        "POST",
        "/api-keys/{key_id}/rotate",
        f"/api-keys/{SPARE_KEY_ID}/rotate",
        "admin",
        {"overlap_seconds": 60},
    ),
    Route("POST", "/api-keys/{key_id}/revoke", f"/api-keys/{SPARE_KEY_ID}/revoke", "admin"),
    Route("POST", "/assets", "/assets", "admin", {"code": "PTS", "scale": 0}),
    Route("POST", "/accounts", "/accounts", "write", {"id": "opened", "asset": "USD"}),
    Route("GET", "/accounts", "/accounts", "read"),
    Route("GET", "/accounts/{aid}", "/accounts/wallet:0:USD", "read"),
    Route("GET", "/accounts/{aid}/history", "/accounts/wallet:0:USD/history", "read"),
    Route("GET", "/accounts/{aid}/balance", "/accounts/wallet:0:USD/balance", "read"),
    Route(
        "POST",
        "/transfers",
        "/transfers",
        "write",
        transfer_body("wallet:0:USD", "wallet:1:USD", "1.00", ref="moved"),
    ),
    Route(
        "POST",
        "/transfers/batch",
        "/transfers/batch",
        "write",
        {"transfers": [transfer_body("wallet:0:USD", "wallet:1:USD", "1.00", ref="batched")]},
    ),
    Route("GET", "/transfers", "/transfers", "read"),
    Route("GET", "/transfers/{id}", "/transfers/paid", "read"),
    Route("POST", "/transfers/{id}/post", "/transfers/hold-post/post", "write", {}),
    Route("POST", "/transfers/{id}/void", "/transfers/hold-void/void", "write", {}),
    Route("GET", "/integrity", "/integrity", "read"),
    Route("POST", "/integrity/repair", "/integrity/repair", "admin"),
    Route("POST", "/jobs/run", "/jobs/run", "write"),
    Route("GET", "/jobs/failures", "/jobs/failures", "read"),
    # Cycles (set up by ``set_up_cycles``).
    Route(
        "PUT",
        "/cashback/program",
        "/cashback/program",
        "admin",
        {"currency": "USD", "minimum_spend": "10.00", "default_cap": "50.00"},
    ),
    Route(
        "PUT",
        "/cashback/accounts/{account}",
        "/cashback/accounts/card-1",
        "admin",
        {"default_cap": "40.00", "enrolled": True},
    ),
    Route(
        "POST",
        "/cashback/movements",
        "/cashback/movements",
        "write",
        {"id": "cb-route", "account_id": "card-1", "spend": "20.00", "cashback": "1.00"},
    ),
    Route("GET", "/cashback/ledger", "/cashback/ledger", "read"),
    Route("GET", "/cashback/ledger/{account}/{cycle}", "/cashback/ledger/card-1/2026-02", "read"),
    Route(
        "POST",
        "/cashback/ledger/{account}/{cycle}/apply-to-debt",
        "/cashback/ledger/card-1/2026-02/apply-to-debt",
        "write",
        {"person_id": "ana"},
    ),
    Route("PUT", "/debt/program", "/debt/program", "admin", {"currency": "USD"}),
    Route(
        "POST",
        "/debt/movements",
        "/debt/movements",
        "write",
        {"id": "debt-route", "person_id": "ana", "kind": "charge", "amount": "5.00"},
    ),
    Route("GET", "/debt/ledger", "/debt/ledger", "read"),
    Route("GET", "/debt/ledger/{person}/{cycle}", "/debt/ledger/ana/2026-03", "read"),
    Route("GET", "/cycles/settings", "/cycles/settings", "read"),
    Route("PUT", "/cycles/settings", "/cycles/settings", "admin", {"refresh_mode": "inline"}),
    Route("POST", "/cycles/refresh", "/cycles/refresh", "write"),
    Route("POST", "/cycles/rebuild", "/cycles/rebuild", "admin"),
    # Budgets (set up by ``set_up_budgets``).
    Route(
        "POST",
        "/budgets",
        "/budgets",
        "admin",
        {"id": "camp", "currency": "USD", "hard_cap": "1000.00"},
    ),
    Route("GET", "/budgets", "/budgets", "read"),
    Route("GET", "/budgets/{bid}", "/budgets/camp", "read"),
    Route("GET", "/budgets/{bid}/reservations", "/budgets/camp/reservations", "read"),
    Route("GET", "/budgets/{bid}/corrections", "/budgets/camp/corrections", "read"),
    Route(
        "POST",
        "/budgets/{bid}/topup",
        "/budgets/camp/topup",
        "write",
        {"amount": "1.00", "currency": "USD", "idempotency_key": "top"},
    ),
    Route(
        "POST",
        "/budgets/{bid}/reservations",
        "/budgets/camp/reservations",
        "write",
        {"reference": "iss-http", "amount": "1.00", "currency": "USD"},
    ),
    Route(
        "POST",
        "/budgets/{bid}/reservations/{ref}/charge",
        "/budgets/camp/reservations/to-charge/charge",
        "write",
        {"idempotency_key": "charged"},
    ),
    Route(
        "POST",
        "/budgets/{bid}/reservations/{ref}/release",
        "/budgets/camp/reservations/to-release/release",
        "write",
        {},
    ),
    Route(
        "POST",
        "/budgets/{bid}/corrections",
        "/budgets/camp/corrections",
        "admin",
        {
            "reverses": "budget:camp:fund:seed",
            "amount": "1.00",
            "note": "entered twice",
            "idempotency_key": "fix",
        },
    ),
    Route("GET", "/budgets/{bid}/utilization", "/budgets/camp/utilization", "read"),
    Route("POST", "/budgets/{bid}/reconcile", "/budgets/camp/reconcile", "read"),
    Route("POST", "/reconcile", "/reconcile", "read"),
    Route("GET", "/budgets/{bid}/report", "/budgets/camp/report?range=year", "read"),
    Route("GET", "/reports/budgets", "/reports/budgets?format=csv", "read"),
    Route("GET", "/budgets/{bid}/entries", "/budgets/camp/entries", "read"),
    Route("GET", "/budgets/{bid}/reset-schedule", "/budgets/camp/reset-schedule", "read"),
    Route(
        "POST",
        "/budgets/{bid}/reset",
        "/budgets/camp/reset",
        "write",
        {"idempotency_key": "reset-now"},
    ),
    Route(
        "POST",
        "/budgets/reset",
        "/budgets/reset",
        "write",
        {"period_type": "monthly", "idempotency_key": "reset-all"},
    ),
    Route(
        "POST",
        "/budgets/{bid}/fix",
        "/budgets/camp/fix",
        "admin",
        {"note": "reconciled by finance", "idempotency_key": "fixed"},
    ),
    Route("GET", "/alerts", "/alerts", "read"),
    Route(
        "POST",
        "/points/{holder}/earn",
        "/points/u1/earn",
        "write",
        {"amount": "5", "dtype": "invoice", "reference": "earned"},
    ),
    Route(
        "POST",
        "/points/{holder}/spend",
        "/points/u1/spend",
        "write",
        {"amount": "1", "dtype": "ocr", "reference": "spent"},
    ),
    Route(
        "POST", "/points/{holder}/activate", "/points/u1/activate", "write", {"reference": "pend"}
    ),
    Route("GET", "/points/{holder}", "/points/u1", "read"),
    Route("GET", "/points/{holder}/accumulations", "/points/u1/accumulations", "read"),
    Route("GET", "/points/{holder}/expiring", "/points/u1/expiring", "read"),
    Route("GET", "/points/summary", "/points/summary", "read"),
    Route("GET", "/points/integrity", "/points/integrity", "read"),
    Route("POST", "/points/integrity/fix", "/points/integrity/fix", "admin"),
    Route("POST", "/points/configure", "/points/configure", "admin", {"asset": "STARS"}),
    Route("GET", "/points/assets", "/points/assets", "read"),
    Route("GET", "/points/assets/{asset}", "/points/assets/LUMIS", "read"),
    Route(
        "PUT",
        "/points/assets/{asset}",
        "/points/assets/LUMIS",
        "admin",
        {"expiry": {"kind": "none"}},
    ),
    Route("GET", "/points/reasons", "/points/reasons", "read"),
    Route(
        "POST",
        "/points/reasons",
        "/points/reasons",
        "admin",
        {"direction": "earn", "dtype": "gift"},
    ),
    Route("GET", "/points/reasons/{direction}/{dtype}", "/points/reasons/earn/invoice", "read"),
    Route("PUT", "/points/reasons/{direction}/{dtype}", "/points/reasons/earn/gift2", "admin", {}),
    Route(
        "POST",
        "/redemptions",
        "/redemptions",
        "write",
        {"user_id": "u1", "offer_id": "coffee", "cost": "1", "reference": "red-new"},
    ),
    Route("GET", "/redemptions", "/redemptions?state=pending", "read_redemptions"),
    Route("GET", "/redemptions/{id}", "/redemptions/red-1", "read_redemptions"),
    Route("GET", "/redemptions/by-code/{code}", "code-of-red-1", "read_redemptions"),
    Route("GET", "/redemptions/{id}/qr.png", "/redemptions/red-1/qr.png", "read"),
    Route("GET", "/redemptions/{id}/qr.svg", "/redemptions/red-1/qr.svg", "read"),
    # Each key confirms the code of its own redemption (a code is valid once).
    Route("POST", "/redemptions/confirm", "/redemptions/confirm", "redeem", "code-of-key"),
    Route("POST", "/redemptions/{id}/cancel", "/redemptions/red-cancel/cancel", "write"),
]


def route_of(method: str, template: str) -> Route:
    return next(r for r in ROUTES if (r.method, r.template) == (method, template))


def send(api: Api, route: Route, tenant_id: str, key: str) -> Any:
    path = route.path
    if path == "code-of-red-1":  # the code is random: read it from the redemption
        path = f"/redemptions/by-code/{_code_of(api, 'red-1')}"
    if "{" in path:  # a webhook endpoint or event made by set_up_webhooks: its id is random
        path = path.format(**_webhook_ids(api, tenant_id))
    url = f"/v1/tenants/{tenant_id}{path}"
    headers = {"Authorization": f"Bearer {key}"}
    if route.method == "GET":
        return api.client.get(url, headers=headers)
    body = route.body
    if body == "code-of-key":
        body = {"code": _code_of_key(api, key)}
    return api.client.request(route.method, url, json=body, headers=headers)


def set_up_webhooks(ledger: Ledger, p: Programme) -> None:
    """Two endpoints: "kept" for the routes that read or change one, "gone" to delete."""
    for description in ("kept", "gone"):
        webhooks.add_endpoint(
            ledger,
            p.tenant_id,
            url="https://hooks.example.com/rewards",
            event_types=["*"],
            description=description,
        )


NO_ENDPOINT = "ep_" + "0" * 32


def _webhook_ids(api: Api, tenant_id: str) -> dict[str, str]:
    ledger = api.client.app.state.ledger
    try:
        listed = webhooks.list_endpoints(ledger, tenant_id, limit=PAGE_SIZE_MAX).endpoints
        wait_for_feed(ledger, tenant_id)
        events = read_events(ledger, tenant_id, limit=1).events
    except NotFound:  # a tenant that does not exist: ids of the right form, naming nothing
        listed, events = [], []
    by_description = {endpoint.description: endpoint.endpoint_id for endpoint in listed}
    event_id = events[0].event_id if events else "no-such-event"
    # Another tenant's endpoints are not found, and "gone" only once deleted: an id of the
    # right form then, that names nothing.
    kept = by_description.get("kept", NO_ENDPOINT)
    return {"KEPT": kept, "GONE": by_description.get("gone", kept), "EVENT": event_id}


def set_up_budgets(ledger: Ledger, p: Programme) -> None:
    budgets.create_budget(ledger, p.tenant_id, "camp", currency="USD", hard_cap="1000.00")
    budgets.topup(
        ledger, p.tenant_id, "camp", amount="100.00", currency="USD", idempotency_key="seed"
    )
    for ref in ("to-charge", "to-release"):
        budgets.reserve(ledger, p.tenant_id, "camp", reference=ref, amount="10.00", currency="USD")


def _code_of(api: Api, redemption_id: str) -> str:
    """The code of ``redemption_id`` in the roles test's tenant (a dummy if there is none)."""
    try:
        return redemptions.get(api.client.app.state.ledger, api.tenant_id, redemption_id).code
    except NotFound:
        return "0000000000"


def _code_of_key(api: Api, key: str) -> str:
    """The code of the redemption set up for the role of ``key`` (a dummy if there is none)."""
    ledger = api.client.app.state.ledger
    role = next((r for r, k in api.keys.items() if k == key), None)
    try:
        return redemptions.get(ledger, api.tenant_id, f"red-{role}").code
    except NotFound:
        return "0000000000"


def set_up_transfers(ledger: Ledger, p: Programme) -> None:
    ledger.transfer(p.tenant_id, TransferRequest("paid", p.wallets[0], p.wallets[1], "USD", "5.00"))
    for ref in ("hold-post", "hold-void"):
        ledger.transfer(
            p.tenant_id,
            TransferRequest(ref, p.wallets[0], p.wallets[1], "USD", "10.00", pending=True),
        )
    set_up_cycles(ledger, p)
    set_up_points(ledger, p)


def set_up_cycles(ledger: Ledger, p: Programme) -> None:
    """Cashback and debt programmes in USD; card-1 has February cashback (a closed cycle) and
    ana a March debt."""
    cashback.set_program(
        ledger, p.tenant_id, currency="USD", minimum_spend="10.00", default_cap="50.00"
    )
    debt.set_program(ledger, p.tenant_id, currency="USD")
    cycles.set_refresh_mode(ledger, p.tenant_id, "inline")
    february = datetime(2026, 2, 10, tzinfo=UTC)
    cashback.accrue(
        ledger,
        p.tenant_id,
        cashback.Accrual("cb-feb", "card-1", "20.00", "2.00", occurred_at=february),
    )
    debt.record(ledger, p.tenant_id, debt.DebtRequest("debt-mar", "ana", "charge", "9.00"))


def set_up_points(ledger: Ledger, p: Programme) -> None:
    """u1 has 100 points, 7 pending, and a redemption per role plus two to read and cancel."""
    points.configure(
        ledger,
        p.tenant_id,
        reasons=[Reason(Direction.EARN, "purchase", pending_until_activated=True)],
    )
    points.earn(ledger, p.tenant_id, "u1", "100", dtype="invoice", reference="e1")
    points.earn(ledger, p.tenant_id, "u1", "7", dtype="purchase", reference="pend")
    for ref in ["red-1", "red-cancel", *(f"red-{role.value}" for role in Role)]:
        redemptions.create(ledger, p.tenant_id, "u1", offer_id="o", cost="1", reference=ref)


def test_the_route_table_lists_every_tenant_route(ledger: Ledger, settings: Settings) -> None:
    prefix = "/v1/tenants/{tid}"
    served = {
        (method.upper(), path.removeprefix(prefix))
        for path, operations in create_app(ledger, settings).openapi()["paths"].items()
        if path.startswith(prefix)
        for method in operations
    }
    assert served == {(route.method, route.template) for route in ROUTES}


# Roles -------------------------------------------------------------------------------------------


def test_each_role_may_do_exactly_what_its_capabilities_allow(
    api: Api, ledger: Ledger, shop: Programme, subtests: pytest.Subtests
) -> None:
    set_up_transfers(ledger, shop)
    set_up_budgets(ledger, shop)
    set_up_webhooks(ledger, shop)
    issue_key(ledger, shop.tenant_id, "reader", "spare", key_id=SPARE_KEY_ID)
    accounts = [shop.funding, *shop.wallets]
    before = snapshot(ledger, shop.tenant_id, accounts)
    refused = [
        (role, route)
        for role in Role
        for route in ROUTES
        if route.capability not in CAPABILITIES[role]
    ]
    allowed = [
        (role, route) for role in Role for route in ROUTES if route.capability in CAPABILITIES[role]
    ]
    # The expected table, spelled out for the cases that matter most.
    assert (Role.READER, route_of("POST", "/transfers")) in refused
    assert (Role.MERCHANT, route_of("GET", "/accounts/{aid}")) in refused
    assert (Role.WRITER, route_of("POST", "/integrity/repair")) in refused
    assert (Role.MERCHANT, route_of("GET", "/redemptions/{id}")) in allowed
    assert (Role.MERCHANT, route_of("GET", "/redemptions/by-code/{code}")) in allowed
    assert (Role.MERCHANT, route_of("GET", "/redemptions/{id}/qr.png")) in refused
    assert (Role.ADMIN, route_of("POST", "/integrity/repair")) in allowed
    for role, route in refused:
        with subtests.test("refused", role=role.value, route=route.template):
            response = send(api, route, shop.tenant_id, api.keys[role.value])
            problem = assert_problem(response, 403, "forbidden")
            assert (problem["role"], problem["needs"]) == (role.value, route.capability)
            # The sentence names the roles that may, not only the capability.
            may = [r.value for r in Role if route.capability in CAPABILITIES[r]]
            assert f"use a key of role {' or '.join(may)}" in problem["detail"]
    assert snapshot(ledger, shop.tenant_id, accounts) == before
    assert ledger.store.get_account(shop.tenant_id, "opened") is None
    assert ledger.store.get_transfer(shop.tenant_id, "moved") is None
    for role, route in allowed:
        with subtests.test("allowed", role=role.value, route=route.template):
            response = send(api, route, shop.tenant_id, api.keys[role.value])
            assert response.status_code in (200, 201, 204), response.text


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer rlk_0000000000000000_wrong",
        "Bearer rlk_" + "x" * 300,
    ],
)
def test_a_missing_or_invalid_key_is_unauthorized(
    api: Api, shop: Programme, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in ("/accounts/wallet:0:USD", "/integrity"):
        response = api.client.get(api.url(path), headers=headers)
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_key_whose_secret_is_wrong_is_unauthorized(api: Api) -> None:
    prefix, key_id, _ = api.keys["admin"].split("_", 2)
    forged = f"{prefix}_{key_id}_{secrets.token_urlsafe(32)}"
    response = api.client.get(api.url("/integrity"), headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "unauthorized")


def test_an_unauthenticated_write_is_refused_before_its_body_is_looked_at(
    api: Api, ledger: Ledger, shop: Programme
) -> None:
    response = api.client.post(api.url("/transfers"), json={"amount": 5})
    assert_problem(response, 401, "unauthorized")


# Invariant 8: a key of tenant A reads and changes nothing of tenant B ---------------------------


@pytest.fixture
def victim(ledger: Ledger) -> Programme:
    """Tenant B: the same shape as A's programme, with its own money and transfers."""
    tenant = f"b{secrets.token_hex(6)}"
    ledger.create_tenant(tenant)
    p = programme(ledger, tenant)
    fund(ledger, p, p.wallets[0], "500.00")
    set_up_transfers(ledger, p)
    set_up_budgets(ledger, p)
    return p


def test_a_key_of_one_tenant_finds_nothing_of_another(
    api: Api, ledger: Ledger, victim: Programme, subtests: pytest.Subtests
) -> None:
    accounts = [victim.funding, *victim.wallets]
    before = snapshot(ledger, victim.tenant_id, accounts)
    nobody = f"n{secrets.token_hex(6)}"
    for role in Role:
        key = api.keys[role.value]
        for route in ROUTES:
            with subtests.test(role=role.value, route=route.template):
                response = send(api, route, victim.tenant_id, key)
                problem = assert_problem(response, 404, "not_found")
                assert (problem["resource"], problem["id"]) == ("tenant", victim.tenant_id)
                # Answered exactly as for a tenant that does not exist: B cannot be detected.
                ghost = assert_problem(send(api, route, nobody, key), 404, "not_found")
                assert ghost["detail"] == problem["detail"].replace(victim.tenant_id, nobody)
    assert snapshot(ledger, victim.tenant_id, accounts) == before
    assert ledger.get_transfer(victim.tenant_id, "hold-post").state.value == "pending"
    assert ledger.get_transfer(victim.tenant_id, "hold-void").state.value == "pending"
    assert "PTS" not in ledger.assets(victim.tenant_id)
    for absent in ("moved", "batched", "hold-post.post", "hold-void.void"):
        assert ledger.store.get_transfer(victim.tenant_id, absent) is None
    assert ledger.store.get_account(victim.tenant_id, "opened") is None


def test_a_tenant_cannot_reach_another_tenants_accounts_through_its_own_path(
    api: Api, ledger: Ledger, shop: Programme, victim: Programme
) -> None:
    ledger.create_account(victim.tenant_id, "b-only", asset="USD")
    accounts = [victim.funding, *victim.wallets, "b-only"]
    before = snapshot(ledger, victim.tenant_id, accounts)
    assert_problem(api.get("/accounts/b-only"), 404, "not_found")
    assert_problem(api.get("/accounts/b-only/history"), 404, "not_found")
    taking = transfer_body("b-only", shop.wallets[1], "1.00", ref="take")
    assert_problem(api.post("/transfers", taking), 404, "not_found")
    giving = transfer_body(shop.wallets[0], "b-only", "1.00", ref="give")
    assert_problem(api.post("/transfers", giving), 404, "not_found")
    assert snapshot(ledger, victim.tenant_id, accounts) == before


def test_an_app_serves_every_tenant_of_its_ledger_with_their_own_keys(
    ledger: Ledger, api: Api, victim: Programme
) -> None:
    """The isolation above is by key, not by app: one app answers both tenants' own keys."""
    b_key = issue_key(ledger, victim.tenant_id, "reader").key
    response = api.client.get(
        f"/v1/tenants/{victim.tenant_id}/accounts/wallet:0:USD",
        headers={"Authorization": f"Bearer {b_key}"},
    )
    assert response.json()["balances"]["posted"] == "495.00"
    assert api.get("/accounts/wallet:0:USD").json()["balances"]["posted"] == "100.00"
