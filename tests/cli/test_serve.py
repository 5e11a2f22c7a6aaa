"""``rewardledger serve`` up to the moment uvicorn takes over (uvicorn.run is replaced here):
migration, the demo tenant, its fresh key, the banner, and the refusals. The real server is
started in ``test_serve_process.py``."""

from __future__ import annotations

import os
from typing import Any

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.access import Role
from rewardledger.services import access, demo
from tests.cli.helpers import KEY, Cli, scalar


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
            "http": "rewardledger.cli.http_protocol:NoDelayH11Protocol",
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


def test_each_start_issues_a_new_demo_key_and_seeds_only_once(
    empty_db_url: str, uvicorn: FakeUvicorn
) -> None:
    first = Cli(empty_db_url)("serve")
    transfers = scalar(empty_db_url, "SELECT count(*) FROM transfers")
    second = Cli(empty_db_url)("serve")
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "seeding the demo" in first.stderr
    assert "seeding the demo" not in second.stderr
    assert scalar(empty_db_url, "SELECT count(*) FROM transfers") == transfers
    first_key, second_key = KEY.findall(first.stdout), KEY.findall(second.stdout)
    assert first_key != second_key
    with Ledger.open(empty_db_url) as ledger:
        for key in first_key + second_key:
            assert access.authenticate(ledger, "demo", key).tenant_id == "demo"


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
