"""The command line's guarantees, on SQLite and PostgreSQL: what each command prints, what it
writes, and its exit code (0 done, 1 a ledger error or a discrepancy, 2 a validation error)."""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.domain.access import Role
from rewardledger.domain.transfers import TransferRequest
from rewardledger.services import access, demo
from rewardledger.storage.engine import safe_url
from rewardledger.storage.migrate import head_revision
from tests.cli.helpers import Cli, run_sql, scalar


def corrupt_balance(url: str, tenant: str, account: str) -> None:
    changed = run_sql(
        url,
        "UPDATE accounts SET credits_posted = credits_posted + 1 "
        "WHERE tenant_id = :t AND account_id = :a",
        t=tenant,
        a=account,
    )
    assert changed == 1


def transfer_count(url: str, tenant: str) -> int:
    return int(str(scalar(url, "SELECT count(*) FROM transfers WHERE tenant_id = :t", t=tenant)))


# migrate -------------------------------------------------------------------------------------


def test_migrate_brings_the_schema_to_the_newest_revision_and_prints_it(
    empty_db_url: str,
) -> None:
    result = Cli(empty_db_url)("migrate")
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.stdout
    assert scalar(empty_db_url, "SELECT version_num FROM alembic_version") == head_revision()


# tenant create -------------------------------------------------------------------------------


def test_tenant_create_prints_the_tenant_and_a_working_admin_key_as_json(
    cli: Cli, db_url: str, tenant: str
) -> None:
    result = cli(
        "tenant", "create", tenant, "--name", "Acme Rewards", "--timezone", "Africa/Harare"
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["tenant"] == {
        "id": tenant,
        "name": "Acme Rewards",
        "timezone": "Africa/Harare",
        "created_at": printed["tenant"]["created_at"],
    }
    key = printed["api_key"]["key"]
    assert key.startswith("rlk_")
    assert printed["api_key"]["role"] == "admin"
    assert "shown only this once" in result.stderr
    with Ledger.open(db_url) as ledger:
        assert access.authenticate(ledger, tenant, key).role is Role.ADMIN


def test_tenant_create_with_an_unknown_time_zone_exits_2_and_creates_nothing(
    cli: Cli, db_url: str, tenant: str
) -> None:
    result = cli("tenant", "create", tenant, "--timezone", "Mars/Olympus_Mons")
    assert result.exit_code == 2
    assert "error validation_error: timezone 'Mars/Olympus_Mons' is not a known" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert scalar(db_url, "SELECT count(*) FROM tenants WHERE tenant_id = :t", t=tenant) == 0


def test_tenant_create_with_an_invalid_id_exits_2(cli: Cli) -> None:
    result = cli("tenant", "create", "Not/AnId")
    assert result.exit_code == 2
    assert "error validation_error: tenant_id 'Not/AnId' is not valid" in result.stderr


def test_tenant_create_again_with_another_time_zone_exits_1_already_exists(
    cli: Cli, tenant: str
) -> None:
    assert cli("tenant", "create", tenant, "--timezone", "UTC").exit_code == 0
    result = cli("tenant", "create", tenant, "--timezone", "America/Panama")
    assert result.exit_code == 1
    assert f"error already_exists: A tenant '{tenant}' already exists" in result.stderr


# apikey create -------------------------------------------------------------------------------


def test_apikey_create_prints_a_key_of_the_role_asked_for(
    cli: Cli, db_url: str, tenant: str
) -> None:
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("apikey", "create", tenant, "--role", "reader", "--label", "nightly report")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["tenant_id"] == tenant
    assert printed["role"] == "reader"
    assert printed["label"] == "nightly report"
    assert printed["key"].startswith("rlk_")
    with Ledger.open(db_url) as ledger:
        principal = access.authenticate(ledger, tenant, printed["key"])
    assert principal.role is Role.READER
    assert principal.key_id == printed["key_id"]


def test_apikey_create_for_an_unknown_tenant_exits_1_not_found(cli: Cli, tenant: str) -> None:
    result = cli("apikey", "create", tenant, "--role", "admin")
    assert result.exit_code == 1
    assert f"error not_found: No tenant '{tenant}' exists." in result.stderr
    assert result.stdout == ""


def test_apikey_create_with_an_unknown_role_exits_2_and_names_the_roles(
    cli: Cli, db_url: str, tenant: str
) -> None:
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("apikey", "create", tenant, "--role", "owner")
    assert result.exit_code == 2
    for role in Role:
        assert role.value in result.stderr
    assert scalar(db_url, "SELECT count(*) FROM api_keys WHERE tenant_id = :t", t=tenant) == 1


def test_apikey_create_with_an_empty_label_exits_2(cli: Cli, tenant: str) -> None:
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("apikey", "create", tenant, "--role", "writer", "--label", " ")
    assert result.exit_code == 2
    assert "error validation_error: label must be" in result.stderr


# verify and repair ---------------------------------------------------------------------------


def test_verify_of_a_clean_tenant_says_clean_and_exits_0(cli: Cli, tenant: str) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "2", "--days", "2").exit_code == 0
    result = cli("verify", "--tenant", tenant)
    assert result.exit_code == 0, result.output
    # 2 members x 2 wallets, 3 system accounts, and 15 of the demo's services (budget, points
    # holders and issuance, cashback, debt: services/demo_programme.py).
    assert f"tenant {tenant}: clean (22 accounts checked)" in result.stdout


def test_a_corrupted_balance_fails_verify_and_repair_brings_it_back_to_clean(
    cli: Cli, db_url: str, tenant: str
) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "2", "--days", "3").exit_code == 0
    wallet = demo.member_wallet(1)
    corrupt_balance(db_url, tenant, wallet)

    found = cli("verify", "--tenant", tenant)
    assert found.exit_code == 1, found.output
    assert f"tenant {tenant}: 2 discrepancies" in found.stdout
    assert "account_matches_journal" in found.stdout
    assert wallet in found.stdout
    assert "asset_balances_sum_to_zero" in found.stdout
    assert f"rewardledger repair --tenant {tenant}" in found.stdout

    repaired = cli("repair", "--tenant", tenant, "--actor", "night-ops")
    assert repaired.exit_code == 0, repaired.output
    assert f"tenant {tenant}: repair " in repaired.stdout
    assert "by night-ops" in repaired.stdout
    assert "1 changes" in repaired.stdout
    assert wallet in repaired.stdout
    assert "credits_posted" in repaired.stdout
    actor = scalar(db_url, "SELECT actor FROM integrity_repairs WHERE tenant_id = :t", t=tenant)
    assert actor == "night-ops"

    assert cli("verify", "--tenant", tenant).exit_code == 0


def test_verify_and_repair_count_every_discrepancy_beyond_those_a_report_lists(
    cli: Cli, db_url: str, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rewardledger.ledger.integrity.REPORT_DISCREPANCIES_MAX", 3)
    assert cli("demo", "--tenant", tenant, "--members", "4", "--days", "1").exit_code == 0
    damaged = run_sql(
        db_url,
        "UPDATE accounts SET credits_posted = credits_posted + 1 "
        "WHERE tenant_id = :t AND account_id LIKE 'member:%'",
        t=tenant,
    )
    assert damaged == 8

    found = cli("verify", "--tenant", tenant)
    assert found.exit_code == 1
    assert f"tenant {tenant}: 10 discrepancies" in found.stdout  # and the two assets' sums
    assert "... and 7 more, not listed (a report lists the first 3)." in found.stdout

    repaired = cli("repair", "--tenant", tenant, "--actor", "ops")
    assert repaired.exit_code == 0
    assert ": 8 changes" in repaired.stdout
    assert "... and 5 more, not listed (a report lists the first 3); all are recorded" in (
        repaired.stdout
    )
    assert cli("verify", "--tenant", tenant).exit_code == 0


def test_repair_of_a_clean_tenant_changes_nothing(cli: Cli, tenant: str) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "1", "--days", "1").exit_code == 0
    result = cli("repair", "--tenant", tenant, "--actor", "ops")
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.stdout


def test_repair_records_the_os_user_when_no_actor_is_given(
    cli: Cli, db_url: str, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "finance-on-call")
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("repair", "--tenant", tenant)
    assert result.exit_code == 0, result.output
    assert "by finance-on-call" in result.stdout
    actor = scalar(db_url, "SELECT actor FROM integrity_repairs WHERE tenant_id = :t", t=tenant)
    assert actor == "finance-on-call"


def test_repair_without_a_known_os_user_asks_for_an_actor(
    cli: Cli, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_user() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr("getpass.getuser", no_user)
    assert cli("tenant", "create", tenant).exit_code == 0
    result = cli("repair", "--tenant", tenant)
    assert result.exit_code == 2
    assert "pass --actor NAME" in result.stderr


def test_verify_without_a_tenant_checks_every_tenant(empty_db_url: str) -> None:
    cli = Cli(empty_db_url)
    assert cli("demo", "--tenant", "north", "--members", "1", "--days", "2").exit_code == 0
    assert cli("demo", "--tenant", "south", "--members", "1", "--days", "2").exit_code == 0
    assert cli("verify").exit_code == 0

    corrupt_balance(empty_db_url, "south", demo.member_wallet(0))
    result = cli("verify")
    assert result.exit_code == 1
    assert "tenant north: clean" in result.stdout
    assert "tenant south: 2 discrepancies" in result.stdout

    repaired = cli("repair", "--actor", "ops")
    assert repaired.exit_code == 0, repaired.output
    assert "tenant north: repair" in repaired.stdout
    assert "tenant south: repair" in repaired.stdout
    assert cli("verify").exit_code == 0


def test_verify_of_an_empty_database_says_there_is_nothing_to_verify(empty_db_url: str) -> None:
    result = Cli(empty_db_url)("verify")
    assert result.exit_code == 0
    assert "No tenants to verify" in result.stdout


@pytest.mark.parametrize("command", [["verify"], ["repair", "--actor", "ops"]])
def test_verify_and_repair_of_an_unknown_tenant_exit_1_not_found(
    cli: Cli, tenant: str, command: list[str]
) -> None:
    result = cli(*command, "--tenant", tenant)
    assert result.exit_code == 1
    assert f"error not_found: No tenant '{tenant}' exists." in result.stderr


# demo ----------------------------------------------------------------------------------------


def test_demo_twice_writes_nothing_new_the_second_time_and_verifies_clean(
    cli: Cli, db_url: str, tenant: str
) -> None:
    first = cli("demo", "--tenant", tenant, "--members", "4", "--days", "5")
    assert first.exit_code == 0, first.output
    assert f"Demo programme in tenant {tenant}:" in first.stdout
    key_command = f"rewardledger --db {shlex.quote(db_url)} apikey create {tenant} --role admin"
    assert key_command in first.stdout
    written = transfer_count(db_url, tenant)
    assert written > 4 * 5  # every member earns every day, and some redeem or get cashback

    second = cli("demo", "--tenant", tenant, "--members", "4", "--days", "5")
    assert second.exit_code == 0, second.output
    assert transfer_count(db_url, tenant) == written
    assert cli("verify", "--tenant", tenant).exit_code == 0


def test_demo_with_more_members_completes_an_earlier_run(
    cli: Cli, db_url: str, tenant: str
) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "1", "--days", "2").exit_code == 0
    accounts_before = scalar(db_url, "SELECT count(*) FROM accounts WHERE tenant_id = :t", t=tenant)
    assert cli("demo", "--tenant", tenant, "--members", "3", "--days", "2").exit_code == 0
    accounts_after = scalar(db_url, "SELECT count(*) FROM accounts WHERE tenant_id = :t", t=tenant)
    # 3 system accounts and 2 per member, beside the 15 of the demo's services.
    assert (accounts_before, accounts_after) == (3 + 2 + 15, 3 + 6 + 15)


@pytest.mark.parametrize("option", ["--members", "--days"])
def test_demo_of_zero_members_or_days_exits_2(tmp_path: Path, option: str) -> None:
    result = Cli(f"sqlite:///{tmp_path / 'x.db'}")("demo", option, "0")
    assert result.exit_code == 2
    assert option in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_demo_into_an_existing_tenant_of_another_time_zone_exits_1(cli: Cli, tenant: str) -> None:
    assert cli("tenant", "create", tenant, "--timezone", "UTC").exit_code == 0
    result = cli("demo", "--tenant", tenant, "--members", "1", "--days", "1")
    assert result.exit_code == 1
    assert "error already_exists" in result.stderr


# --db and the environment ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/ledger", "not a url", "sqlite:///:memory:"]
)
def test_a_bad_db_url_exits_2_with_a_message_and_no_traceback(url: str) -> None:
    result = Cli(url)("verify")
    assert result.exit_code == 2
    assert result.stderr.startswith("error validation_error: ")
    assert "sqlite:///" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_db_url_in_a_missing_folder_exits_1_database_unavailable(tmp_path: Path) -> None:
    result = Cli(f"sqlite:///{tmp_path / 'missing' / 'ledger.db'}")("migrate")
    assert result.exit_code == 1
    assert "error database_unavailable: Could not open the database" in result.stderr
    assert "folder exists" in result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_postgresql_exits_1_and_hides_the_password() -> None:
    result = Cli("postgresql://ledger:s3cret@127.0.0.1:1/ledger")("migrate")
    assert result.exit_code == 1
    assert "error database_unavailable" in result.stderr
    assert "postgresql://ledger:***@127.0.0.1:1/ledger" in result.stderr
    assert "s3cret" not in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ledger:top/secret@db:5432/ledger", "postgresql://ledger:***@db:5432/ledger"),
        ("postgresql://ledger:a:b@db/ledger", "postgresql://ledger:***@db/ledger"),
        ("postgresql://ledger:p%40ss@db/ledger", "postgresql://ledger:***@db/ledger"),
        ("postgresql://ledger:p?w#x@db/ledger", "postgresql://ledger:***@db/ledger"),
        ("postgresql://ledger@db/ledger", "postgresql://ledger@db/ledger"),
        ("sqlite:///./rewardledger.db", "sqlite:///./rewardledger.db"),
    ],
)
def test_the_clis_url_mask_hides_any_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_migrate_prints_the_url_with_a_password_holding_a_slash_masked(postgres_url: str) -> None:
    """The server trusts local connections, so the password is not checked: it is only shown."""
    scheme, rest = postgres_url.split("://", 1)
    user_at, host = rest.split("@", 1)
    url = f"{scheme}://{user_at.split(':', 1)[0]}:top/secret@{host}"
    result = Cli(url)("migrate")
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.stdout
    assert ":***@" in result.stdout
    assert "secret" not in result.output


def test_without_db_the_database_comes_from_the_environment(db_url: str, tenant: str) -> None:
    result = Cli(db_url).without_db(
        "tenant", "create", tenant, env={"REWARDLEDGER_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    with Ledger.open(db_url) as ledger:
        assert ledger.get_tenant(tenant).id == tenant


def test_a_bad_database_url_in_the_environment_exits_2() -> None:
    result = Cli("unused").without_db(
        "verify", env={"REWARDLEDGER_DATABASE_URL": "mysql://root@localhost/ledger"}
    )
    assert result.exit_code == 2
    assert "error validation_error: REWARDLEDGER_DATABASE_URL must be" in result.stderr


def test_jobs_run_reports_each_step_per_tenant_and_does_nothing_twice(
    cli: Cli, tenant: str
) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "2", "--days", "2").exit_code == 0
    first = cli("jobs", "run", "--tenant", tenant)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert [t["tenant_id"] for t in report["tenants"]] == [tenant]
    assert "holds_expired" in report["tenants"][0]["steps"]["holds"]
    again = json.loads(cli("jobs", "run", "--tenant", tenant).stdout)
    assert again["tenants"][0]["steps"]["holds"] == {"holds_expired": 0}


def test_a_failing_step_is_one_line_exit_1_and_the_other_tenants_due_work_still_runs(
    empty_db_url: str,
) -> None:
    """A tenant whose cycle step fails (bad data stored behind the ledger's back) comes first;
    the next tenant's one-second hold is still released, and the failure is listed."""
    with Ledger.open(empty_db_url) as ledger:
        for tenant in ("a-bad", "b-good"):
            ledger.create_tenant(tenant)
            ledger.create_asset(tenant, "USD", scale=2)
            ledger.create_account(tenant, "funding", asset="USD")
            ledger.create_account(tenant, "w0", asset="USD", no_negative=True)
            ledger.create_account(tenant, "w1", asset="USD", no_negative=True)
            ledger.transfer(tenant, TransferRequest(f"{tenant}-f", "funding", "w0", "USD", "5.00"))
        ledger.transfer(
            "b-good",
            TransferRequest("hold-1", "w0", "w1", "USD", "1.00", pending=True, timeout_seconds=1),
        )
    assert Cli(empty_db_url)("debt", "program", "-t", "a-bad", "--currency", "USD").exit_code == 0
    run_sql(
        empty_db_url,
        "INSERT INTO cycle_dirty (tenant_id, ledger, holder_id, cycle_tag, token) "
        "VALUES ('a-bad', 'debt', 'ana', '0000-01', :token)",
        token="0" * 32,
    )
    time.sleep(1.1)  # the hold's timeout, on the CLI's real clock

    cli = Cli(empty_db_url)
    result = cli("jobs", "run")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    failure_lines = [line for line in result.stderr.splitlines() if line.startswith("error ")]
    assert failure_lines == [
        "error internal_error: tenant a-bad, step cycles failed (attempt 1, retried at the next "
        "run): ValueError: year 0 is out of range (list: rewardledger jobs failures -t a-bad)"
    ]
    report = {t["tenant_id"]: t for t in json.loads(result.stdout)["tenants"]}
    assert report["a-bad"]["failures"][0]["step"] == "cycles"
    assert "cycles" not in report["a-bad"]["steps"]
    assert report["b-good"]["steps"]["holds"] == {"holds_expired": 1}
    assert report["b-good"]["failures"] == []

    listed = cli("jobs", "failures")
    assert listed.exit_code == 0, listed.output
    (failure,) = json.loads(listed.stdout)["failures"]
    assert (failure["tenant_id"], failure["step"], failure["attempts"]) == ("a-bad", "cycles", 1)
    assert failure["resolved_at"] is None

    again = cli("jobs", "run", "-t", "a-bad")
    assert again.exit_code == 1
    assert "(attempt 2, retried at the next run)" in again.stderr
    run_sql(empty_db_url, "DELETE FROM cycle_dirty WHERE tenant_id = 'a-bad'")
    fixed = cli("jobs", "run", "-t", "a-bad")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(cli("jobs", "failures").stdout) == {"failures": [], "next_cursor": None}
    history = json.loads(cli("jobs", "failures", "--include-resolved").stdout)["failures"]
    assert [(f["attempts"], f["resolved_at"] is not None) for f in history] == [(2, True)]


def test_verify_reports_deleted_accounts_instead_of_a_clean_empty_tenant(
    cli: Cli, db_url: str, tenant: str
) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "2", "--days", "2").exit_code == 0
    run_sql(db_url, "DELETE FROM accounts WHERE tenant_id = :t", t=tenant)
    found = cli("verify", "--tenant", tenant)
    assert found.exit_code == 1, found.output
    assert "journal_accounts_exist" in found.stdout
    assert "clean" not in found.stdout


def test_verify_seal_prints_a_head_that_a_later_verify_checks(cli: Cli, tenant: str) -> None:
    assert cli("demo", "--tenant", tenant, "--members", "2", "--days", "2").exit_code == 0
    sealed = cli("verify", "--tenant", tenant, "--seal")
    assert sealed.exit_code == 0, sealed.output
    match = re.search(rf"tenant {tenant}: sealed #1 .* head ([0-9a-f]{{64}})", sealed.stdout)
    assert match is not None, sealed.stdout
    assert cli("verify", "--tenant", tenant, "--head", match.group(1)).exit_code == 0
    forged = cli("verify", "--tenant", tenant, "--head", "0" * 64)
    assert forged.exit_code == 1
    assert "exported_head_in_chain" in forged.stdout
    assert cli("verify", "--head", match.group(1)).exit_code == 2
