"""Fixtures for the HTTP API tests. Each runs on SQLite and PostgreSQL (through ``ledger``):
an app over the test's ledger, a tenant with a small funded programme, and a key per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rewardledger.config import Settings
from rewardledger.domain.access import Role
from rewardledger.http.app import create_app
from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import issue_key
from tests.builders import Programme, fund, programme
from tests.http.support import ADMIN_TOKEN, Api, TestClient


@pytest.fixture
def settings() -> Settings:
    return Settings(admin_token=ADMIN_TOKEN)


@pytest.fixture
def client(ledger: Ledger, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(ledger, settings)) as test_client:
        yield test_client


@pytest.fixture
def shop(ledger: Ledger, tenant_id: str) -> Programme:
    """USD; funding:USD (may go negative); wallet:0:USD holding 100.00 and an empty
    wallet:1:USD, both no-negative."""
    p = programme(ledger, tenant_id)
    fund(ledger, p, p.wallets[0], "100.00")
    return p


@pytest.fixture
def api(client: TestClient, ledger: Ledger, tenant_id: str, shop: Programme) -> Api:
    keys = {role.value: issue_key(ledger, tenant_id, role.value).key for role in Role}
    return Api(client, tenant_id, keys)
