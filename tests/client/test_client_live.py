"""The Python client against a LIVE server (``rewardledger serve`` as a process), on SQLite
and PostgreSQL: the day-one flow, typed errors, pagination, the async client, a retry whose
first answer is lost, and every operation of /openapi.json having a client method."""

from __future__ import annotations

import asyncio
import secrets
from decimal import Decimal

import httpx2
import pytest

from rewardledger.client import ApiError, AsyncClient, Client, Retries
from rewardledger.client._operation import Operation
from rewardledger.domain.errors import IdempotencyConflict, InsufficientFunds, NotFound
from rewardledger.http.schemas import (
    AccountCreate,
    ApiKeyCreate,
    AssetCreate,
    TenantCreate,
    TransferCreate,
)
from rewardledger.http.schemas_budgets import (
    BudgetCreate,
    ChargeCreate,
    ReservationCreate,
    TopupCreate,
)
from rewardledger.http.schemas_cycles import CashbackMovementCreate, CashbackProgramCreate
from rewardledger.http.schemas_points import ConfirmCreate, PointsMoveCreate, RedemptionCreate
from rewardledger.http.schemas_points_setup import ExpiryBody, PointsConfigure
from tests.client.conftest import ADMIN_TOKEN, Live, Tenant
from tests.client.proxy import dropping
from tests.conftest import wait_for_feed_at

# Quick retries: the tests wait for nothing but the lost answer.
FAST = Retries(attempts=4, base_seconds=0.05, cap_seconds=0.2)


def _open_shop(client: Client) -> None:
    client.create_asset(AssetCreate(code="USD", scale=2))
    client.create_account(AccountCreate(id="funding:USD", asset="USD"))
    client.create_account(AccountCreate(id="wallet:ana", asset="USD", no_negative=True))


def _pay(ref: str | None, amount: str = "12.50") -> TransferCreate:
    body = {"debit_account_id": "funding:USD", "credit_account_id": "wallet:ana"}
    return TransferCreate(**body, asset="USD", amount=amount, ref=ref)


def test_the_day_one_flow_through_the_client(client: Client, live: Live, tenant: Tenant) -> None:
    writer = client.create_api_key(
        ApiKeyCreate(role="writer", label="checkout"), idempotency_key="k1"
    )
    again = client.create_api_key(
        ApiKeyCreate(role="writer", label="checkout"), idempotency_key="k1"
    )
    assert again.key_id == writer.key_id
    assert writer.key is not None
    assert again.key is None
    _open_shop(client)
    with Client(live.base_url, api_key=writer.key, tenant_id=tenant.tenant_id) as shop:
        paid = shop.create_transfer(_pay("order-1"))
        replay = shop.create_transfer(_pay("order-1"))
        assert (paid.id, replay.id) == ("order-1", "order-1")
        assert shop.get_account("wallet:ana").balances.posted == "12.50"
        with pytest.raises(IdempotencyConflict) as conflict:
            shop.create_transfer(_pay("order-1", "1.00"))
        assert conflict.value.code == "idempotency_conflict"

    client.create_budget(BudgetCreate(id="spring", currency="USD", hard_cap="100.00"))
    client.topup("spring", TopupCreate(amount="80.00", currency="USD"))
    for ref in ("r-charge", "r-release"):
        client.reserve("spring", ReservationCreate(reference=ref, amount="10.00", currency="USD"))
    charged = client.charge("spring", "r-charge", ChargeCreate(amount="6.00"))
    released = client.release("spring", "r-release")
    assert (charged.state, released.state) == ("charged", "released")
    used = client.utilization("spring")
    assert Decimal(used.reserved) == 0

    holds = client.list_reservations("spring", limit=1)
    assert [r.reference for r in holds.reservations] == ["r-charge"]
    rest = client.list_reservations("spring", cursor=holds.next_cursor)
    assert ([r.state for r in rest.reservations], rest.next_cursor) == (["released"], None)
    assert [t.id for t in client.list_transfers(account="wallet:ana").transfers] == ["order-1"]

    # The points programme over HTTP alone: LUMIS with the seed's reason codes.
    setup = PointsConfigure(expiry=ExpiryBody(kind="after", days=365))
    configured = client.configure_points(setup, idempotency_key="points-setup")
    assert configured.asset == "LUMIS"
    assert client.configure_points(setup, idempotency_key="points-setup") == configured
    assert {"invoice", "ocr"} <= {r.dtype for r in client.points_reasons().reasons}
    client.earn("ana", PointsMoveCreate(amount="50", dtype="invoice", reference="e1"))
    client.spend("ana", PointsMoveCreate(amount="5", dtype="ocr", reference="s1"))
    made = client.create_redemption(
        RedemptionCreate(user_id="ana", offer_id="coffee", cost="20", reference="red-1")
    )
    assert client.confirm_redemption(ConfirmCreate(code=made.code)).state == "confirmed"
    assert client.points_balance("ana").balance == "25"

    client.set_cashback_program(
        CashbackProgramCreate(currency="USD", minimum_spend="10.00", default_cap="50.00")
    )
    accrual = {"account_id": "card-1", "spend": "40.00", "cashback": "4.00", "currency": "USD"}
    client.create_cashback_movement(CashbackMovementCreate(id="cb-1", **accrual))
    client.refresh_cycles()
    rows = client.list_cashback_ledger(account="card-1").rows
    assert [(row.account_id, row.total_cashback) for row in rows] == [("card-1", "4.00")]


def test_an_error_answer_raises_its_code_status_and_domain_class(client: Client) -> None:
    with pytest.raises(NotFound) as missing:
        client.get_account("nobody")
    assert isinstance(missing.value, ApiError)
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    assert "nobody" in missing.value.detail
    _open_shop(client)
    with pytest.raises(InsufficientFunds):
        client.create_transfer(
            TransferCreate(
                debit_account_id="wallet:ana",
                credit_account_id="funding:USD",
                asset="USD",
                amount="1.00",
            )
        )


def test_pages_follow_the_cursor_to_the_last_page(client: Client) -> None:
    minted = {client.create_api_key(ApiKeyCreate(role="reader")).key_id for _ in range(4)}
    pages = list(client.pages(client.list_api_keys, limit=2))
    assert len(pages) == 3
    seen = [key.key_id for page in pages for key in page.keys]
    assert minted < set(seen)
    assert len(seen) == 5


def test_events_webhooks_and_points_set_up_through_the_client(
    client: Client, live: Live, tenant: Tenant
) -> None:
    from rewardledger.client import NoContent
    from rewardledger.http.schemas_points_setup import PointsConfigure
    from rewardledger.http.schemas_webhooks import EndpointCreate, EndpointUpdate

    made = client.create_webhook(
        EndpointCreate(url="https://hooks.example.com/rewards", event_types=["*"])
    )
    assert made.secret.startswith("whsec_")
    changed = client.update_webhook(made.endpoint_id, EndpointUpdate(description="crm"))
    assert changed.description == "crm"
    assert [e.endpoint_id for e in client.list_webhooks().endpoints] == [made.endpoint_id]
    assert isinstance(client.delete_webhook(made.endpoint_id), NoContent)
    assert client.list_webhooks().endpoints == []
    configured = client.configure_points(PointsConfigure(asset="STARS"))
    assert configured.asset == "STARS"
    assert "STARS" in [a.asset for a in client.points_assets().assets]
    wait_for_feed_at(live.url, tenant.tenant_id)
    types = [event.type for event in client.events(limit=500).events]
    assert "tenant.created" in types


def test_the_points_lists_and_the_budget_reports_page_through_the_client(
    client: Client,
) -> None:
    for code in ("STARS", "BEANS", "MILES"):
        client.configure_points(PointsConfigure(asset=code))
    assets = [a.asset for page in client.pages(client.points_assets, limit=2) for a in page.assets]
    assert assets == ["BEANS", "MILES", "STARS"]
    reasons = [
        (r.direction, r.dtype)
        for page in client.pages(client.points_reasons, limit=3)
        for r in page.reasons
    ]
    assert reasons == sorted(set(reasons))
    assert len(reasons) == len(client.points_reasons().reasons) > 3
    client.create_asset(AssetCreate(code="USD", scale=2))
    for bid in ("spring", "autumn", "summer"):
        client.create_budget(BudgetCreate(id=bid, currency="USD", hard_cap="10.00"))
    report_pages = list(client.pages(client.budgets_report, limit=2))
    assert [r.budget_id for page in report_pages for r in page.reports] == [
        "autumn",
        "spring",
        "summer",
    ]
    assert len(report_pages) == 2
    assert client.points_integrity(limit=1).holders == []
    assert client.job_failures(step="holds").next_cursor is None


def test_the_async_client_does_the_same_operations(live: Live, tenant: Tenant) -> None:
    async def flow() -> tuple[str, str]:
        async with AsyncClient(
            live.base_url, api_key=tenant.admin_key, tenant_id=tenant.tenant_id
        ) as client:
            await client.create_asset(AssetCreate(code="USD", scale=2))
            await client.create_account(AccountCreate(id="funding:USD", asset="USD"))
            await client.create_account(AccountCreate(id="wallet:ana", asset="USD"))
            moved = await client.create_transfer(_pay(None))
            seen = [page async for page in client.pages(client.account_history, "wallet:ana")]
            return moved.id, seen[0].entries[0].transfer.id

    moved, listed = asyncio.run(flow())
    assert moved == listed
    assert moved.startswith("rlc-")


def test_a_write_whose_answer_was_lost_is_retried_and_applied_once(
    live: Live, tenant: Tenant, client: Client
) -> None:
    _open_shop(client)
    port = int(live.base_url.rsplit(":", 1)[1])
    with (
        dropping(port, drop=1) as proxy,
        Client(
            proxy.base_url, api_key=tenant.admin_key, tenant_id=tenant.tenant_id, retries=FAST
        ) as flaky,
    ):
        moved = flaky.create_transfer(_pay(None, "7.00"))  # no id: the client makes one
        assert (proxy.dropped, proxy.connections) == (1, 2)
    assert moved.id.startswith("rlc-")
    assert client.get_account("wallet:ana").balances.posted == "7.00"
    entries = client.account_history("wallet:ana").entries
    assert [entry.transfer.id for entry in entries] == [moved.id]


def test_a_tenant_creation_whose_answer_was_lost_is_retried_and_makes_one_key(
    live: Live,
) -> None:
    """The retry reuses the idempotency key: one tenant, one admin key, answered as a replay."""
    tenant_id = f"c{secrets.token_hex(6)}"
    port = int(live.base_url.rsplit(":", 1)[1])
    with (
        dropping(port, drop=1) as proxy,
        Client(proxy.base_url, admin_token=ADMIN_TOKEN, retries=FAST) as platform,
    ):
        made = platform.create_tenant(TenantCreate(id=tenant_id))
        assert (proxy.dropped, proxy.connections) == (1, 2)
    assert made.tenant.id == tenant_id
    assert made.api_key.key is None
    assert made.api_key.note is not None
    assert "apikey create" in made.api_key.note
    with Client(live.base_url, admin_token=ADMIN_TOKEN) as platform:
        again = platform.create_tenant(
            TenantCreate(id=f"c{secrets.token_hex(6)}"), idempotency_key="client-made-1"
        )
        assert again.api_key.key is not None
        replayed = platform.create_tenant(
            TenantCreate(id=again.tenant.id), idempotency_key="client-made-1"
        )
    assert (replayed.api_key.key_id, replayed.api_key.key) == (again.api_key.key_id, None)
    with Client(live.base_url, api_key=again.api_key.key, tenant_id=again.tenant.id) as admin:
        assert [k.key_id for k in admin.list_api_keys().keys] == [again.api_key.key_id]


def test_without_retries_the_lost_answer_is_an_error(live: Live, tenant: Tenant) -> None:
    """The proxy really loses the answer: with one attempt, the client sees it fail."""
    port = int(live.base_url.rsplit(":", 1)[1])
    with (
        dropping(port, drop=1) as proxy,
        Client(
            proxy.base_url,
            api_key=tenant.admin_key,
            tenant_id=tenant.tenant_id,
            retries=Retries(attempts=1),
        ) as once,
        pytest.raises(httpx2.TransportError),
    ):
        once.list_api_keys()


def test_every_operation_of_the_openapi_document_has_a_client_method(live: Live) -> None:
    document = httpx2.get(f"{live.base_url}/openapi.json", timeout=10).json()
    served = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    methods = {
        (attribute.method, attribute.template): name
        for name in dir(Client)
        if isinstance(attribute := getattr(Client, name), Operation)
    }
    # /metrics is the Prometheus text format, for a scraper, not a call of the API.
    served.discard(("GET", "/metrics"))
    missing = served - set(methods)
    assert not missing, f"operations without a client method: {sorted(missing)}"
    assert set(methods) <= served, f"client methods of no route: {set(methods) - served}"
    assert len(methods) == len(served)
