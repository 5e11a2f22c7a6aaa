"""A key revoked by one process is refused by a server running in others: ``serve`` runs as a
process of its own (two workers on PostgreSQL), ``rewardledger apikey revoke`` as another, and
the server refuses the key within ``REWARDLEDGER_API_KEY_CACHE_SECONDS`` (each process keeps a
key it has read that long), and from then on every request with it is 401. Both engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from rewardledger.ledger.engine import Ledger
from rewardledger.services.access import issue_key
from tests.cli.test_serve_process import REQUEST_SECONDS_MAX, STOP_SECONDS_MAX, serving

# Enough requests that both workers of a two-worker server answer some.
REQUESTS_AFTER_REVOKING = 20
# How long the server keeps a key here (the default is 5 s; shorter keeps the test quick).
CACHE_SECONDS = 1


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REWARDLEDGER_")}
    return subprocess.run(
        [sys.executable, "-m", "rewardledger.cli.main", "--db", url, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=STOP_SECONDS_MAX * 6,
        check=False,
    )


def test_a_key_revoked_through_the_cli_is_refused_by_the_running_server(
    db_url: str, engine_name: str, ledger: Ledger, tenant_id: str, tmp_path: Path
) -> None:
    ledger.create_asset(tenant_id, "USD", scale=2)
    ledger.create_account(tenant_id, "wallet", asset="USD")
    key = issue_key(ledger, tenant_id, "reader", "till")
    workers = ["--workers", "2"] if engine_name == "postgresql" else []
    url = f"/v1/tenants/{tenant_id}/accounts/wallet"
    with (
        serving(
            db_url,
            "--no-demo",
            *workers,
            state_dir=tmp_path,
            env={"REWARDLEDGER_API_KEY_CACHE_SECONDS": str(CACHE_SECONDS)},
        ) as server,
        httpx.Client(base_url=server.base_url, timeout=REQUEST_SECONDS_MAX) as client,
    ):
        headers = {"Authorization": f"Bearer {key.key}"}
        assert client.get(url, headers=headers).status_code == 200
        listed = _cli(db_url, "apikey", "list", tenant_id)
        assert listed.returncode == 0, listed.stderr
        assert [k["key_id"] for k in json.loads(listed.stdout)["keys"]] == [key.key_id]
        revoked = _cli(db_url, "apikey", "revoke", tenant_id, key.key_id)
        assert revoked.returncode == 0, revoked.stderr
        assert json.loads(revoked.stdout)["revoked_at"] is not None
        # Each worker may still hold the key for CACHE_SECONDS after it read it; past that
        # (with room for a loaded machine) every request is refused.
        deadline = time.monotonic() + CACHE_SECONDS + REQUEST_SECONDS_MAX
        while (first := client.get(url, headers=headers)).status_code == 200:
            assert time.monotonic() < deadline, "the revoked key still works past the bound"
            time.sleep(0.1)
        time.sleep(CACHE_SECONDS)
        # The first refusal counts towards the failed-authentication limit as the rest do.
        answers = [first] + [
            client.get(url, headers=headers) for _ in range(REQUESTS_AFTER_REVOKING - 1)
        ]
        assert {a.status_code for a in answers} == {401}, [a.text for a in answers]
        assert "revoked" in answers[0].json()["detail"]
