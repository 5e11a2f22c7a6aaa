"""The application's least-privilege PostgreSQL role (``rewardledger db roles``): it runs the
ledger, and cannot get past the append-only triggers the way the tables' owner could."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from rewardledger.bootstrap import Ledger
from tests.builders import fund, programme
from tests.cli.helpers import Cli
from tests.conftest import POSTGRES_URL, _conninfo


@pytest.fixture
def app_url(postgres_owner_url: str) -> Iterator[str]:
    """The session's schema, reached as a fresh LOGIN role made by ``db roles`` (trust auth
    lets it in without a password); a role per test, so parallel sessions never meet."""
    role = f"rl_app_{secrets.token_hex(5)}"
    with Ledger.open(postgres_owner_url):
        pass
    result = Cli(postgres_owner_url)("db", "roles", "--role", role, "--login")
    assert result.exit_code == 0, result.output
    assert f"role {role}: granted on schema" in result.stdout
    head, _, rest = postgres_owner_url.partition("://postgres@")
    assert rest, f"the test URL names no postgres user: {postgres_owner_url}"
    try:
        yield f"{head}://{role}@{rest}"
    finally:
        with psycopg.connect(_conninfo(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE transfers DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
        "UPDATE transfers SET amount_minor = 1001",
        "DELETE FROM transfers",
        "TRUNCATE cashback_movements",
        "DROP TABLE journal_seals",
    ],
)
def test_the_app_role_posts_but_cannot_lift_the_journal_guards(
    app_url: str, statement: str
) -> None:
    tenant = f"t{secrets.token_hex(6)}"
    with Ledger.open(app_url) as ledger:
        ledger.create_tenant(tenant)
        p = programme(ledger, tenant)
        fund(ledger, p, p.wallets[0], "1.00")
        assert ledger.verify(tenant).ok
    with (
        psycopg.connect(_conninfo(app_url)) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute(statement)  # type: ignore[arg-type]


def test_db_roles_is_idempotent_and_refuses_a_strange_name(postgres_owner_url: str) -> None:
    role = f"rl_app_{secrets.token_hex(5)}"
    cli = Cli(postgres_owner_url)
    try:
        assert cli("db", "roles", "--role", role).exit_code == 0
        assert cli("db", "roles", "--role", role).exit_code == 0
    finally:
        with psycopg.connect(_conninfo(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    refused = cli("db", "roles", "--role", "x; DROP TABLE transfers")
    assert refused.exit_code == 2
    assert "validation_error" in refused.output
