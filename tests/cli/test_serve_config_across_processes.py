"""Configuration made in one process is used at once by every other (issue 10, finding 1).

A real ``serve --workers 3`` on PostgreSQL, and the CLI as separate processes beside it. Every
request opens its own connection and they run a few at a time, so they land on different
workers. The workers first serve the demo tenant, so that whatever each keeps in memory about
it is loaded; then each kind of configuration is made in one process (an HTTP request that one
worker answers, or a CLI command) and used at once through many requests. Before a worker read
a tenant's assets again on a miss, these answered 404 "No asset ... exists" and 500
``KeyError`` on the workers that had not made the change.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx

from rewardledger.services import demo
from tests.cli.helpers import fresh_postgres_schema
from tests.cli.test_serve_process import REQUEST_SECONDS_MAX, STOP_SECONDS_MAX, serving

WORKERS = 3
USES = 12  # requests per use: enough to land on every worker
CONCURRENT = 4


class Http:
    """Requests to the demo tenant, each on a new connection (so on any worker)."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base = f"{base_url}/v1/tenants/{demo.DEMO_TENANT}"
        self.headers = {"Authorization": f"Bearer {key}"}

    def send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return httpx.request(
            method,
            self.base + path,
            json=body,
            headers={**self.headers, "Connection": "close"},
            timeout=REQUEST_SECONDS_MAX,
        )

    def spread(self, count: int, request: Callable[[int], httpx.Response]) -> list[int]:
        """Send ``count`` requests, CONCURRENT at a time; their statuses, in order (with the
        body of any that failed, to show what went wrong)."""
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            answers = list(pool.map(request, range(count)))
        return [
            a.status_code if a.status_code < 300 else (a.status_code, a.text)  # type: ignore[misc]
            for a in answers
        ]


def cli(url: str, *args: str) -> str:
    """Run ``rewardledger --db url ...`` as a process of its own; its stdout."""
    finished = subprocess.run(
        [sys.executable, "-m", "rewardledger.cli.main", "--db", url, *args],
        capture_output=True,
        text=True,
        timeout=STOP_SECONDS_MAX * 6,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_configuration_made_in_one_process_is_used_at_once_by_every_other(
    postgres_url: str, tmp_path: Path
) -> None:
    with (
        fresh_postgres_schema(postgres_url) as url,
        serving(url, "--workers", str(WORKERS), state_dir=tmp_path) as server,
    ):
        server.wait_until("three workers", lambda: len(server.worker_pids()) == WORKERS)
        api = Http(server.base_url, server.demo_key())
        wallet = demo.member_wallet(0)
        assert api.spread(USES * 2, lambda _: api.send("GET", f"/accounts/{wallet}")) == [200] * (
            USES * 2
        )
        _an_asset_over_http(api)
        _a_budget_over_http(api)
        _points_configured_by_the_cli(api, url)
        _cycle_programmes_over_http(api)


def _an_asset_over_http(api: Http) -> None:
    assert api.send("POST", "/assets", {"code": "EUR", "scale": 2}).status_code == 201
    for account in ("eur:a", "eur:b"):
        assert api.send("POST", "/accounts", {"id": account, "asset": "EUR"}).status_code == 201

    def transfer(i: int) -> httpx.Response:
        body = {
            "ref": f"eur-{i}",
            "debit_account_id": "eur:a",
            "credit_account_id": "eur:b",
            "asset": "EUR",
            "amount": "1.00",
        }
        return api.send("POST", "/transfers", body)

    assert api.spread(USES, transfer) == [201] * USES
    assert api.send("GET", "/accounts/eur:b").json()["balances"]["posted"] == "12.00"


def _a_budget_over_http(api: Http) -> None:
    # ZWG is a built-in currency: the worker that defines the budget creates the asset.
    budget = {"id": "promo", "currency": "ZWG", "hard_cap": "1000.00"}
    assert api.send("POST", "/budgets", budget).status_code == 201
    topup = {"amount": "500.00", "currency": "ZWG", "idempotency_key": "t1"}
    assert api.send("POST", "/budgets/promo/topup", topup).status_code == 201

    def reserve(i: int) -> httpx.Response:
        body = {"reference": f"r{i}", "amount": "2.00", "currency": "ZWG"}
        return api.send("POST", "/budgets/promo/reservations", body)

    def resolve(i: int) -> httpx.Response:
        action = "charge" if i % 2 else "release"
        return api.send("POST", f"/budgets/promo/reservations/r{i}/{action}", {})

    assert api.spread(USES, reserve) == [201] * USES
    assert api.spread(USES, resolve) == [201] * USES
    reconciled = api.send("POST", "/budgets/promo/reconcile").json()
    assert reconciled["discrepancies"] == []


def _points_configured_by_the_cli(api: Http, url: str) -> None:
    cli(url, "points", "configure", "--tenant", demo.DEMO_TENANT, "--asset", "STARS")

    def earn(dtype: str, prefix: str) -> Callable[[int], httpx.Response]:
        def request(i: int) -> httpx.Response:
            body = {"amount": "10", "dtype": dtype, "reference": f"{prefix}{i}", "asset": "STARS"}
            return api.send("POST", f"/points/u{i}/earn", body)

        return request

    assert api.spread(USES, earn("invoice", "e")) == [201] * USES

    def redeem(i: int) -> httpx.Response:
        body = {"user_id": f"u{i}", "offer_id": "o", "cost": "3", "reference": f"red{i}"}
        made = api.send("POST", "/redemptions", {**body, "asset": "STARS"})
        if made.status_code != 201:
            return made
        return api.send("POST", "/redemptions/confirm", {"code": made.json()["code"]})

    assert api.spread(USES, redeem) == [200] * USES

    cli(url, "points", "reason", "--tenant", demo.DEMO_TENANT, "earn", "birthday")
    assert api.spread(USES, earn("birthday", "b")) == [201] * USES

    cli(url, "points", "configure", "--tenant", demo.DEMO_TENANT, "--asset", "STARS")
    cli(
        url,
        "points",
        "set-expiry",
        "--tenant",
        demo.DEMO_TENANT,
        "--asset",
        "STARS",
        "--expire-after-days",
        "30",
    )
    assert api.spread(USES, earn("invoice", "x")) == [201] * USES
    for i in range(USES):
        expiring = api.send("GET", f"/points/u{i}/expiring?asset=STARS").json()["expiring"]
        assert len(expiring) == 1, expiring
    assert api.send("GET", "/points/integrity").json() == {"holders": [], "next_cursor": None}


def _cycle_programmes_over_http(api: Http) -> None:
    # The demo tenant runs its cycles in USD (services/demo_programme.py), and a programme's
    # currency is fixed once it has movements: the new settings change the cap and the days.
    program = {"currency": "USD", "minimum_spend": "0", "default_cap": "100.00"}
    assert api.send("PUT", "/cashback/program", program).status_code == 200
    assert api.send("PUT", "/debt/program", {"currency": "USD", "due_day": 20}).status_code == 200

    def accrue(i: int) -> httpx.Response:
        body = {"id": f"cb{i}", "account_id": f"card-{i}", "spend": "10.00", "cashback": "1.00"}
        return api.send("POST", "/cashback/movements", body)

    def owe(i: int) -> httpx.Response:
        body = {"id": f"d{i}", "person_id": f"p{i}", "kind": "charge", "amount": "5.00"}
        return api.send("POST", "/debt/movements", body)

    assert api.spread(USES, accrue) == [201] * USES
    assert api.spread(USES, owe) == [201] * USES
