"""Fixtures of the client tests: a LIVE ``rewardledger serve`` process per engine (one per
module), a fresh tenant on it with its admin key, and a ``Client`` of that tenant."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from rewardledger.client import Client
from rewardledger.http.schemas import TenantCreate
from tests.cli.test_serve_process import Server, serving
from tests.conftest import ENGINES

ADMIN_TOKEN = "platform-admin-token-of-the-client-tests"


@dataclass(frozen=True)
class Live:
    server: Server
    url: str  # the database the server runs on

    @property
    def base_url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module", params=ENGINES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('client') / 'ledger.db'}"
    state = tmp_path_factory.mktemp("state")
    env = {"REWARDLEDGER_ADMIN_TOKEN": ADMIN_TOKEN}
    with serving(url, "--no-demo", state_dir=state, env=env) as server:
        yield Live(server, url)


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    admin_key: str


@pytest.fixture
def tenant(live: Live) -> Tenant:
    tenant_id = f"c{secrets.token_hex(6)}"
    with Client(live.base_url, admin_token=ADMIN_TOKEN) as platform:
        made = platform.create_tenant(TenantCreate(id=tenant_id, name="Client test shop"))
    assert made.api_key.key is not None
    return Tenant(tenant_id, made.api_key.key)


@pytest.fixture
def client(live: Live, tenant: Tenant) -> Iterator[Client]:
    with Client(live.base_url, api_key=tenant.admin_key, tenant_id=tenant.tenant_id) as made:
        yield made
