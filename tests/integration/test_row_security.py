"""Row-level security on PostgreSQL: as the application's role, a query that forgets its
tenant filter sees only the tenant its transaction was begun for, and nothing without one."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from sqlalchemy import text

from rewardledger.bootstrap import Ledger
from rewardledger.storage.tenancy import tenant_scope
from tests.builders import fund, programme
from tests.conftest import _conninfo, owner_engine

# Every table the application writes for a tenant in this test, read without a tenant filter.
UNFILTERED = {
    "accounts": "SELECT DISTINCT tenant_id FROM accounts",
    "transfers": "SELECT DISTINCT tenant_id FROM transfers",
    "outbox": "SELECT DISTINCT tenant_id FROM outbox",
    "assets": "SELECT DISTINCT tenant_id FROM assets",
}


@pytest.fixture
def two_tenants(postgres_url: str) -> tuple[Ledger, str, str]:
    ledger = Ledger.open(postgres_url)
    tenants = []
    for _ in range(2):
        tenant = f"t{secrets.token_hex(6)}"
        ledger.create_tenant(tenant)
        p = programme(ledger, tenant)
        fund(ledger, p, p.wallets[0], "1.00")
        tenants.append(tenant)
    return ledger, tenants[0], tenants[1]


@pytest.mark.parametrize("table", sorted(UNFILTERED))
def test_an_unfiltered_query_sees_only_the_transactions_tenant(
    two_tenants: tuple[Ledger, str, str], table: str
) -> None:
    ledger, first, second = two_tenants
    engine = ledger.store.engine  # type: ignore[attr-defined]
    try:
        for tenant in (first, second):
            with tenant_scope(tenant), engine.connect() as connection:
                seen = set(connection.scalars(text(UNFILTERED[table])))
            assert seen == {tenant}
        with engine.connect() as connection:
            assert list(connection.scalars(text(UNFILTERED[table]))) == []
        # The owner, who migrates, is not bound by the policies: both tenants are there.
        with owner_engine(ledger).connect() as connection:
            assert {first, second} <= set(connection.scalars(text(UNFILTERED[table])))
    finally:
        ledger.close()


def test_the_app_role_cannot_write_a_row_of_another_tenant(
    two_tenants: tuple[Ledger, str, str], postgres_url: str
) -> None:
    ledger, first, second = two_tenants
    ledger.close()
    with psycopg.connect(_conninfo(postgres_url)) as connection:
        connection.execute("SELECT set_config('rewardledger.tenant_id', %s, true)", (first,))
        changed = connection.execute(
            "UPDATE accounts SET metadata = NULL WHERE tenant_id = %s", (second,)
        )
        assert changed.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute(
                "INSERT INTO assets (tenant_id, code, scale, name, created_at) "
                "VALUES (%s, 'XTS', 2, 'test', now())",
                (second,),
            )


def test_tenant_setting_does_not_outlive_its_transaction(
    two_tenants: tuple[Ledger, str, str],
) -> None:
    ledger, first, _ = two_tenants
    engine = ledger.store.engine  # type: ignore[attr-defined]
    try:
        with engine.connect() as connection:
            with tenant_scope(first):
                assert connection.scalar(text("SELECT count(*) FROM accounts")) > 0
            connection.commit()
            # The same pooled connection, a new transaction begun with no tenant.
            assert connection.scalar(text("SELECT count(*) FROM accounts")) == 0
    finally:
        ledger.close()


def test_cross_tenant_reads_still_work_as_the_app_role(
    two_tenants: tuple[Ledger, str, str],
) -> None:
    ledger, first, second = two_tenants
    try:
        listed = {tenant.id for tenant in ledger.list_tenants()}
        assert {first, second} <= listed
        assert ledger.verify(first).ok
        assert ledger.verify(second).ok
    finally:
        ledger.close()


def test_every_tenant_table_has_row_security_and_its_policy(postgres_url: str) -> None:
    """A table added later without its policy would be open to every tenant: none may be."""
    from rewardledger.storage.tables import metadata

    tenant_tables = {t.name for t in metadata.sorted_tables if "tenant_id" in t.columns}
    ledger = Ledger.open(postgres_url)
    try:
        with owner_engine(ledger).connect() as connection:
            secured = set(
                connection.scalars(
                    text(
                        "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
                        "WHERE c.relrowsecurity AND c.relnamespace = current_schema()::regnamespace"
                    )
                )
            )
    finally:
        ledger.close()
    assert tenant_tables - secured == set()
