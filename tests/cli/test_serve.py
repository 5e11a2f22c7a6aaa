"""``rewardledger serve`` up to the moment uvicorn takes over (uvicorn.run is replaced here):
migration, the demo tenant, its fresh key, the banner, and the refusals. The real server is
started in ``test_serve_process.py``."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from rewardledger.bootstrap import Ledger
from rewardledger.cli.demo_key import STATE_DIR_VARIABLE
from rewardledger.cli.http_protocol import HTTP_PROTOCOL
from rewardledger.domain.access import Role
from rewardledger.services import access, demo, demo_programme
from tests.cli.helpers import KEY, Cli, scalar
from tests.conftest import POSTGRES_URL, require_postgres


class FakeUvicorn:
    """Records what ``serve`` asks uvicorn to run, and the database its workers would see."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, target: str, **options: Any) -> None:
        self.calls.append(
            {
                "target": target,
                **options,
                "database_url": os.environ.get("REWARDLEDGER_DATABASE_URL"),
            }
        )


@pytest.fixture
def uvicorn(monkeypatch: pytest.MonkeyPatch) -> FakeUvicorn:
    fake = FakeUvicorn()
    monkeypatch.setattr("uvicorn.run", fake.run)
    return fake


def test_serve_on_an_empty_database_seeds_the_demo_and_prints_a_working_key(
    empty_db_url: str, uvicorn: FakeUvicorn
) -> None:
    result = Cli(empty_db_url)("serve", "--port", "8123")
    assert result.exit_code == 0, result.output

    assert uvicorn.calls == [
        {
            "target": "rewardledger.http.app:app_from_environment",
            "factory": True,
            "host": "127.0.0.1",
            "port": 8123,
            "workers": 1,
            "http": HTTP_PROTOCOL,
            "timeout_worker_healthcheck": 30,
            "database_url": empty_db_url,
        }
    ]
    banner = result.stdout
    assert "http://127.0.0.1:8123\n" in banner
    assert "http://127.0.0.1:8123/docs" in banner
    assert "Demo tenant  demo  (Lumis Demo Rewards)" in banner
    keys = set(KEY.findall(banner))
    assert len(keys) == 1
    key = keys.pop()
    account_url = f"http://127.0.0.1:8123/v1/tenants/demo/accounts/{demo.member_wallet(0)}"
    assert f"curl -H 'Authorization: Bearer {key}' {account_url}\n" in banner
    with Ledger.open(empty_db_url) as ledger:
        assert access.authenticate(ledger, "demo", key).role is Role.ADMIN
        assert ledger.verify("demo").ok
        assert ledger.get_account("demo", demo.member_wallet(demo.SMALL.members - 1))
        assert demo_programme.complete(ledger, "demo")  # budgets, points, cycles too


def test_the_demo_key_is_minted_once_and_shown_again_from_a_private_file(
    empty_db_url: str, uvicorn: FakeUvicorn, state_dir: Path
) -> None:
    first = Cli(empty_db_url)("serve")
    transfers = scalar(empty_db_url, "SELECT count(*) FROM transfers")
    second = Cli(empty_db_url)("serve")
    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert "seeding the demo" in first.stderr
    assert "seeding the demo" not in second.stderr
    assert scalar(empty_db_url, "SELECT count(*) FROM transfers") == transfers
    first_key, second_key = KEY.findall(first.stdout), KEY.findall(second.stdout)
    assert len(set(first_key)) == 1
    assert set(second_key) == set(first_key)
    assert "minted at this start" in first.stdout
    assert "minted at the first start" in second.stdout
    assert scalar(empty_db_url, "SELECT count(*) FROM api_keys WHERE tenant_id = 'demo'") == 1
    (kept,) = state_dir.glob("demo-key-*")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text() == first_key[0] + "\n"
    assert str(kept) in first.stdout
    with Ledger.open(empty_db_url) as ledger:
        assert access.authenticate(ledger, "demo", first_key[0]).role is Role.ADMIN


def test_on_sqlite_the_demo_key_is_kept_beside_the_database_file(
    tmp_path: Path, uvicorn: FakeUvicorn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STATE_DIR_VARIABLE)
    database = tmp_path / "loyalty.db"
    first = Cli(f"sqlite:///{database}")("serve")
    kept = tmp_path / "loyalty.db.demo-key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    kept.chmod(0o644)  # widened by hand: the next start narrows it again
    second = Cli(f"sqlite:///{database}")("serve")
    assert KEY.findall(second.stdout) == KEY.findall(first.stdout)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_a_lost_demo_key_file_mints_no_second_key_and_says_what_to_do(
    empty_db_url: str, uvicorn: FakeUvicorn, state_dir: Path
) -> None:
    assert Cli(empty_db_url)("serve").exit_code == 0
    for kept in state_dir.glob("demo-key-*"):
        kept.unlink()
    again = Cli(empty_db_url)("serve")
    assert again.exit_code == 0, again.output
    assert KEY.search(again.stdout) is None
    assert "cannot be shown again" in again.stderr
    assert "rewardledger apikey create demo --role admin" in again.stderr
    assert scalar(empty_db_url, "SELECT count(*) FROM api_keys WHERE tenant_id = 'demo'") == 1


def test_serve_with_no_demo_seeds_nothing_and_prints_no_key(
    empty_db_url: str, uvicorn: FakeUvicorn
) -> None:
    result = Cli(empty_db_url)("serve", "--no-demo", "--host", "0.0.0.0", "--port", "9000")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9000/docs" in result.stdout
    assert KEY.search(result.output) is None
    assert scalar(empty_db_url, "SELECT count(*) FROM tenants") == 0
    assert scalar(empty_db_url, "SELECT version_num FROM alembic_version")  # migrated
    assert uvicorn.calls[0]["host"] == "0.0.0.0"


def test_serve_on_a_database_without_the_demo_tenant_seeds_nothing_and_says_how(
    empty_db_url: str, uvicorn: FakeUvicorn
) -> None:
    cli = Cli(empty_db_url)
    assert cli("tenant", "create", "acme").exit_code == 0
    result = cli("serve")
    assert result.exit_code == 0, result.output
    assert "`rewardledger demo` creates it" in result.stderr
    assert KEY.search(result.stdout) is None
    assert scalar(empty_db_url, "SELECT count(*) FROM tenants") == 1
    assert len(uvicorn.calls) == 1


def test_several_workers_on_sqlite_are_refused_before_anything_runs(
    tmp_path: Any, uvicorn: FakeUvicorn
) -> None:
    path = tmp_path / "ledger.db"
    result = Cli(f"sqlite:///{path}")("serve", "--workers", "2")
    assert result.exit_code == 2
    assert "error validation_error: --workers 2 needs PostgreSQL" in result.stderr
    assert uvicorn.calls == []
    assert not path.exists()


@pytest.mark.parametrize("option", [["--workers", "0"], ["--port", "0"], ["--port", "70000"]])
def test_serve_refuses_options_out_of_range(
    tmp_path: Any, uvicorn: FakeUvicorn, option: list[str]
) -> None:
    result = Cli(f"sqlite:///{tmp_path / 'ledger.db'}")("serve", *option)
    assert result.exit_code == 2
    assert option[0] in result.stderr
    assert uvicorn.calls == []


def test_serve_takes_host_and_port_from_the_environment(
    empty_db_url: str, uvicorn: FakeUvicorn
) -> None:
    result = Cli(empty_db_url).without_db(
        "--db",
        empty_db_url,
        "serve",
        "--no-demo",
        env={"REWARDLEDGER_HOST": "127.0.0.2", "REWARDLEDGER_PORT": "8765"},
    )
    assert result.exit_code == 0, result.output
    assert (uvicorn.calls[0]["host"], uvicorn.calls[0]["port"]) == ("127.0.0.2", 8765)
    assert "http://127.0.0.2:8765" in result.stdout


def test_serve_with_a_bad_admin_token_in_the_environment_exits_2_before_starting(
    empty_db_url: str, uvicorn: FakeUvicorn
) -> None:
    result = Cli(empty_db_url).without_db(
        "--db", empty_db_url, "serve", env={"REWARDLEDGER_ADMIN_TOKEN": "short"}
    )
    assert result.exit_code == 2
    assert "REWARDLEDGER_ADMIN_TOKEN must be at least" in result.stderr
    assert uvicorn.calls == []


def test_serve_with_a_bad_db_url_exits_2_naming_the_option(uvicorn: FakeUvicorn) -> None:
    result = Cli("mysql://root@localhost/ledger")("serve")
    assert result.exit_code == 2
    assert "error validation_error: --db must be sqlite:///" in result.stderr
    assert uvicorn.calls == []


@pytest.fixture
def missing_database() -> Iterator[str]:
    """The URL of a PostgreSQL database that does not exist yet; dropped after, if created."""
    require_postgres()
    name = f"rl_missing_{secrets.token_hex(5)}"
    head = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{head}/{name}"
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_exists(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", "")) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def test_serve_on_a_missing_postgresql_database_says_how_to_create_it(
    missing_database: str, uvicorn: FakeUvicorn
) -> None:
    result = Cli(missing_database)("serve", "--no-demo")
    assert result.exit_code == 1
    name = missing_database.rsplit("/", 1)[1]
    assert "error database_unavailable" in result.stderr
    assert f"The database '{name}' does not exist on that server" in result.stderr
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}`" in result.stderr
    assert f"`rewardledger --db {missing_database} serve --create-db`" in result.stderr
    assert uvicorn.calls == []
    assert not database_exists(missing_database)


def test_serve_create_db_creates_the_database_then_serves_it(
    missing_database: str, uvicorn: FakeUvicorn
) -> None:
    first = Cli(missing_database)("serve", "--create-db")
    assert first.exit_code == 0, first.output
    assert "Created the database" in first.stderr
    assert database_exists(missing_database)
    assert len(set(KEY.findall(first.stdout))) == 1
    again = Cli(missing_database)("serve", "--create-db", "--no-demo")
    assert again.exit_code == 0, again.output
    assert "Created the database" not in again.stderr
    assert scalar(missing_database, "SELECT count(*) FROM tenants") == 1
    assert len(uvicorn.calls) == 2


def test_serve_create_db_on_sqlite_creates_the_folder(tmp_path: Path, uvicorn: FakeUvicorn) -> None:
    database = tmp_path / "new" / "folder" / "loyalty.db"
    result = Cli(f"sqlite:///{database}")("serve", "--create-db", "--no-demo")
    assert result.exit_code == 0, result.output
    assert database.exists()
