"""A lost database is a 503 ``database_unavailable`` with Retry-After, and the server recovers.

PostgreSQL: a throwaway cluster (initdb in a temporary folder, on a port of its own) that the
test stops and starts again, so that the shared server the other tests use is never touched.
SQLite: the database's folder is moved away and back.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rewardledger.bootstrap import Ledger
from rewardledger.config import Settings
from rewardledger.http.app import create_app
from rewardledger.services.access import issue_key
from tests.builders import FakeClock, fund, programme
from tests.conftest import IN_CI
from tests.http.support import ADMIN_TOKEN, TestClient, assert_problem, transfer_body

PG_BIN = Path(os.environ.get("REWARDLEDGER_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
TENANT = "outage"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster of this test's own, in ``folder``, listening on ``port``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:  # initdb refuses to run as root
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.folder / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        message = f"no PostgreSQL binaries in {PG_BIN} to run a throwaway cluster"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # Not under pytest's temporary folder: the postgres user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="rewardledger-pg-"))
    server = Cluster(folder)
    server.init()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by the test already
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _serve(
    ledger: Ledger, key_cache_seconds: float | None = None
) -> tuple[TestClient, dict[str, str], tuple[str, str]]:
    ledger.create_tenant(TENANT)
    shop = programme(ledger, TENANT)
    fund(ledger, shop, shop.wallets[0], "100.00")
    key = issue_key(ledger, TENANT, "writer").key
    settings = Settings(admin_token=ADMIN_TOKEN)
    if key_cache_seconds is not None:
        settings = Settings(admin_token=ADMIN_TOKEN, api_key_cache_seconds=key_cache_seconds)
    client = TestClient(create_app(ledger, settings))
    return client, {"Authorization": f"Bearer {key}"}, shop.wallets


def _pay(client: TestClient, auth: dict[str, str], wallets: tuple[str, str], ref: str) -> int:
    body = transfer_body(wallets[0], wallets[1], "1.00", ref=ref)
    return client.post(f"/v1/tenants/{TENANT}/transfers", json=body, headers=auth).status_code


def _assert_unavailable(client: TestClient, auth: dict[str, str], wallets: tuple[str, str]) -> None:
    for response in (
        client.post(
            f"/v1/tenants/{TENANT}/transfers",
            json=transfer_body(wallets[0], wallets[1], "1.00", ref="while-down"),
            headers=auth,
        ),
        client.get(f"/v1/tenants/{TENANT}/accounts/{wallets[0]}", headers=auth),
        client.get("/readyz"),
    ):
        assert_problem(response, 503, "database_unavailable")
        assert int(response.headers["Retry-After"]) > 0
    # Liveness stays a liveness check: the process is up.
    assert client.get("/healthz").status_code == 200


def test_a_stopped_postgresql_is_503_and_the_server_recovers_when_it_is_back(
    cluster: Cluster,
) -> None:
    with Ledger.open(cluster.url, clock=FakeClock()) as ledger:
        client, auth, wallets = _serve(ledger)
        with client:
            assert client.get("/readyz").json() == {"status": "ready"}
            assert _pay(client, auth, wallets, "before") == 201
            cluster.stop()
            _assert_unavailable(client, auth, wallets)
            cluster.start()
            # No restart of the app: the pool replaces the connections it lost.
            assert client.get("/readyz").status_code == 200
            assert _pay(client, auth, wallets, "after") == 201
            assert _pay(client, auth, wallets, "while-down") == 201  # it was not applied
            balance = client.get(f"/v1/tenants/{TENANT}/accounts/{wallets[0]}", headers=auth)
            assert balance.json()["balances"]["posted"] == "97.00"
        assert ledger.verify(TENANT).ok


def test_an_app_over_a_postgresql_port_where_nothing_listens_is_not_ready(
    cluster: Cluster,
) -> None:
    with Ledger.open(cluster.url, clock=FakeClock()) as ledger:
        client, auth, wallets = _serve(ledger)
        cluster.stop()
        cluster.port = _free_port()  # started again elsewhere: the app's URL has no server
        cluster.start()
        ledger.store.engine.dispose()
        with client:
            _assert_unavailable(client, auth, wallets)


def test_a_sqlite_database_whose_folder_is_gone_is_503_until_it_is_back(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with Ledger.open(f"sqlite:///{folder / 'ledger.db'}", clock=FakeClock()) as ledger:
        # Each request reads its key here, so that it opens a connection and finds the file
        # gone. With the key kept, a transfer would not open one: it is written on the
        # connection its thread holds, into the moved file, where it is when the file is back.
        client, auth, wallets = _serve(ledger, key_cache_seconds=0)
        with client:
            assert _pay(client, auth, wallets, "before") == 201
            folder.rename(tmp_path / "moved")
            # Open connections keep the moved file; a connection opened now finds no file.
            ledger.store.engine.dispose()
            _assert_unavailable(client, auth, wallets)
            (tmp_path / "moved").rename(folder)
            assert client.get("/readyz").status_code == 200
            assert _pay(client, auth, wallets, "after") == 201
        assert ledger.verify(TENANT).ok
